"""Paired bootstrap intervals: known answers on constructed scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anxin.bootstrap import bootstrap_weights, paired_bootstrap, weighted_metrics
from anxin.metrics import evaluate


def _world(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    months = np.repeat(["2026-01", "2026-02", "2026-03"], n // 3)
    enterprises = np.tile(np.arange(n // 3), 3)
    return y, months, enterprises, rng.normal(size=n)


def test_identical_scores_differ_by_exactly_nothing() -> None:
    y, months, enterprises, noise = _world()
    boot = paired_bootstrap(
        y, noise + y, noise + y, months, clusters=enterprises, n_boot=200
    )
    table = boot.table
    assert table.index.tolist() == ["ap", "auc", "recall_at_5pct"]
    assert (table[["difference", "low", "high"]] == 0).all().all()
    assert not table["significant"].any()
    assert (table["b_better"] == 0).all()
    assert boot.clusters == 1000 and len(boot.differences) == 200


def test_a_perfect_score_against_its_reverse() -> None:
    y, months, enterprises, noise = _world()
    perfect = y + 0.1 * np.abs(noise)
    boot = paired_bootstrap(
        y, perfect, -perfect, months, clusters=enterprises, volume=0.5, n_boot=300
    )
    t = boot.table
    # in every resample: AUC 1 against 0, every positive caught against none
    assert t.loc["auc", ["a", "b", "difference", "low", "high"]].tolist() == [
        1.0,
        0.0,
        -1.0,
        -1.0,
        -1.0,
    ]
    assert t.loc["recall_at_50pct", ["difference", "low", "high"]].tolist() == [
        -1.0,
        -1.0,
        -1.0,
    ]
    assert t.loc["ap", "a"] == 1.0 and t.loc["ap", "high"] < -0.8
    assert t["significant"].all() and (t["b_better"] == 0).all()


def test_each_resample_equals_the_metrics_of_its_repeated_rows() -> None:
    y, months, enterprises, noise = _world(900, seed=4)
    score = np.round(noise + y, 1)  # many ties
    tiebreak = np.random.default_rng(1).random(y.size)
    for weights in bootstrap_weights(enterprises, 4, seed=7, batch=3):
        got = weighted_metrics(y, score, months, weights, volume=0.1, tiebreak=tiebreak)
        for i, w in enumerate(weights):
            rows = np.repeat(np.arange(y.size), w.astype(int))
            expected = evaluate(
                y[rows],
                score[rows],
                months[rows],
                tiebreak=tiebreak[rows],
                volumes=(0.1,),
            )
            for key in ("ap", "auc", "recall_at_10pct"):
                assert got[key][i] == pytest.approx(expected[key], abs=1e-12), key


def test_resamples_draw_enterprises_with_all_their_months() -> None:
    _, _, enterprises, _ = _world(600)
    batches = list(bootstrap_weights(enterprises, 10, seed=3, batch=4))
    assert [b.shape for b in batches] == [(4, 600), (4, 600), (2, 600)]
    weights = np.vstack(batches)
    # each enterprise's three months share its weight; 200 enterprises drawn
    per_enterprise = weights.reshape(10, 3, 200)
    assert (per_enterprise == per_enterprise[:, :1, :]).all()
    assert (weights.sum(axis=1) == 600).all()
    # the draws depend on the seed only, not on the batch size
    again = np.vstack(list(bootstrap_weights(enterprises, 10, seed=3, batch=10)))
    np.testing.assert_array_equal(weights, again)


def _delong(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """DeLong's standard errors of AUC(b) - AUC(a) on the same rows, and of
    the same difference were the two AUCs independent."""
    pos, neg = y == 1, y == 0
    parts = []
    for s in (a, b):
        diff = s[pos][:, None] - s[neg][None, :]
        psi = (diff > 0) + 0.5 * (diff == 0)
        parts.append((psi.mean(axis=1), psi.mean(axis=0)))
    cov = (
        np.cov(np.vstack([parts[0][0], parts[1][0]])) / pos.sum()
        + np.cov(np.vstack([parts[0][1], parts[1][1]])) / neg.sum()
    )
    paired = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    return float(np.sqrt(paired)), float(np.sqrt(cov[0, 0] + cov[1, 1]))


def test_the_auc_interval_matches_delong_for_paired_scores() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    y = (rng.random(n) < 0.15).astype(int)
    shared = rng.normal(size=n)  # what both models see: strongly paired
    a = 1.0 * y + shared + 0.4 * rng.normal(size=n)
    b = 1.3 * y + shared + 0.4 * rng.normal(size=n)
    boot = paired_bootstrap(y, a, b, np.zeros(n), n_boot=2000, seed=11)
    se, independent = _delong(y, a, b)
    rec = boot.table.loc["auc"]
    assert boot.differences["auc"].std() == pytest.approx(se, rel=0.1)
    assert rec["low"] == pytest.approx(rec["difference"] - 1.96 * se, abs=0.3 * se)
    assert rec["high"] == pytest.approx(rec["difference"] + 1.96 * se, abs=0.3 * se)
    assert rec["significant"] and rec["low"] > 0
    # pairing matters: resampling each score on its own would be far wider
    assert boot.differences["auc"].std() < 0.6 * independent


def test_the_bootstrap_is_seeded() -> None:
    y, months, enterprises, noise = _world()
    args = (y, noise + y, noise + 1.2 * y, months)
    first = paired_bootstrap(*args, clusters=enterprises, n_boot=200, seed=1)
    again = paired_bootstrap(*args, clusters=enterprises, n_boot=200, seed=1)
    other = paired_bootstrap(*args, clusters=enterprises, n_boot=200, seed=2)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert not first.table["low"].equals(other.table["low"])
