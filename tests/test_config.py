"""Configuration: environment variables, defaults, and overrides for tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from anxin.config import config_context, get_config


def test_defaults_live_under_anxin_home(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MLFLOW_TRACKING_URI", "ANXIN_ARTIFACTS", "ANXIN_MODEL_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANXIN_HOME", "/srv/anxin")
    cfg = get_config()
    assert cfg.home == Path("/srv/anxin")
    assert cfg.tracking_uri == "sqlite:////srv/anxin/mlflow.db"
    assert cfg.artifact_root == Path("/srv/anxin/mlartifacts")
    assert cfg.cases_url == "sqlite:////srv/anxin/cases.db"
    assert cfg.model_name == "anxin-arrears"


def test_environment_wins_over_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    monkeypatch.setenv("ANXIN_CASES_URL", "postgresql://db/cases")
    monkeypatch.setenv("ANXIN_MODEL_NAME", "huzhou")
    monkeypatch.setenv("ANXIN_TODAY", "2026-03")
    cfg = get_config()
    assert (cfg.tracking_uri, cfg.cases_url) == (
        "http://mlflow:5000",
        "postgresql://db/cases",
    )
    assert (cfg.model_name, cfg.today) == ("huzhou", "2026-03")


def test_overrides_win_and_are_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_MODEL_NAME", "from-env")
    with config_context(model_name="inner", today="2025-01") as cfg:
        assert (cfg.model_name, cfg.today) == ("inner", "2025-01")
        with config_context(model_name="innermost"):
            assert get_config().model_name == "innermost"
            assert get_config().today == "2025-01"  # outer override still holds
        assert get_config().model_name == "inner"
    assert get_config().model_name == "from-env"


def test_none_overrides_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_MODEL_NAME", "from-env")
    with config_context(model_name=None):
        assert get_config().model_name == "from-env"


def test_unknown_override_is_refused() -> None:
    with pytest.raises(TypeError, match="modle_name"), config_context(modle_name="x"):
        pass  # pragma: no cover
