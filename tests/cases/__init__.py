"""Tests for anxin.cases, one file per module of the package."""
