"""anxin.spark.score: one machine's results, written atomically and idempotently."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import anxin
from anxin.config import config_context
from anxin.scoring import month_dir
from anxin.spark import read_scores, score
from anxin.spark._month import _quantiles, quantile_ranks, tally
from tests.spark.conftest import AS_OF, TODAY

POLICY = {"kind": "quota", "red": 0.02, "orange": 0.03, "yellow": 0.05, "by": "region"}


@pytest.fixture(scope="module")
def both(
    spark: Any,
    spark_model: Path,
    dirty_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, Any]:
    """The same month scored by score_month and by Spark (3 buckets)."""
    root = tmp_path_factory.mktemp("both")
    with config_context(today=TODAY, home=str(root / "home")):
        anxin.score_month(
            dirty_dir,
            root / "one",
            as_of=AS_OF,
            model=str(spark_model),
            log=False,
            policy=POLICY,
        )
        result = score(
            dirty_dir,
            root / "spark",
            as_of=AS_OF,
            model=str(spark_model),
            log=False,
            policy=POLICY,
            buckets=3,
            spark=spark,
        )
    return month_dir(root / "one", AS_OF), month_dir(root / "spark", AS_OF), result


def test_scores_levels_ranks_and_reasons_equal_one_machine(
    both: tuple[Path, Path, Any],
) -> None:
    one, two, _ = both
    a = pd.read_parquet(one / "scores.parquet").sort_values("enterprise_id")
    b = read_scores(two / "scores.parquet").sort_values("enterprise_id")
    assert len(a) == len(b) > 0
    assert np.abs(a["risk_score"].to_numpy() - b["risk_score"].to_numpy()).max() <= 1e-9
    for column in ("enterprise_id", "risk_level", "rank", "region", "reasons_zh"):
        assert a[column].astype(str).tolist() == b[column].astype(str).tolist(), column
    assert [list(r) for r in a["reasons"]] == [list(r) for r in b["reasons"]]
    assert (b["risk_level"] != "none").sum() > 0  # quotas per region were applied


def test_the_runs_validation_says_its_files_are_gone(
    both: tuple[Path, Path, Any],
) -> None:
    validation = both[2].validation
    assert validation.n_quarantined > 0  # the counts stay with the result
    with pytest.raises(FileNotFoundError, match=r"summary\.json"):
        validation.counts()
    with pytest.raises(FileNotFoundError, match="files are gone"):
        validation.valid("payroll")


def test_quarantine_and_drift_files_are_byte_identical(
    both: tuple[Path, Path, Any],
) -> None:
    one, two, _ = both
    names = ["quarantine.csv", "drift.csv"]
    names += [f"quarantine/{p.name}" for p in (one / "quarantine").iterdir()]
    assert len(names) > 3  # the dirty world breaks rules in several tables
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_summary_matches_one_machine(both: tuple[Path, Path, Any]) -> None:
    one, two, result = both
    a = json.loads((one / "summary.json").read_text("utf-8"))
    b = json.loads((two / "summary.json").read_text("utf-8"))
    assert b == result.summary and b["engine"] == "spark"
    for key in (
        "scored",
        "levels",
        "levels_by_region",
        "quarantine",
        "drift",
        "policy",
    ):
        assert a[key] == b[key], key
    assert set(b["score"]) == set(a["score"]) == {"mean", "p50", "p95", "p99"}
    for key in ("mean", "p50", "p95", "p99"):
        assert b["score"][key] == pytest.approx(a["score"][key], rel=1e-12), key
    assert result.scores["rank"].tolist()[:5] == [1, 2, 3, 4, 5]
    local = pd.read_parquet(one / "scores.parquet")
    assert list(result.scores.columns) == list(local.columns)
    top = local.sort_values("rank").head(len(result.scores))
    assert result.scores["region"].tolist() == top["region"].astype(str).tolist()


_PAUSED = """
import os, sys, time
import anxin.spark._month as M
from anxin.config import config_context
from anxin.spark import score, spark_session
real = M.write_quarantine
def paused(*args, **kwargs):
    real(*args, **kwargs)
    open(sys.argv[4], "w").write("writing")
    time.sleep(300)
M.write_quarantine = paused
import anxin.spark.scoring as S
S.write_quarantine = paused
spark = spark_session("local[1]", config={"spark.sql.shuffle.partitions": "2"})
with config_context(today="2026-11"):
    score(sys.argv[1], sys.argv[2], as_of="2026-06", model=sys.argv[3], log=False,
          buckets=2, spark=spark)
"""


def test_a_killed_run_leaves_the_previous_month_and_a_rerun_replaces_it(
    spark: Any,
    spark_model: Path,
    dirty_dir: Path,
    tmp_path: Path,
    both: tuple[Path, Path, Any],
) -> None:
    out = tmp_path / "out"
    shutil.copytree(both[1], month_dir(out, AS_OF))  # a complete month
    before = (month_dir(out, AS_OF) / "summary.json").read_bytes()
    scored = json.loads(before)["scored"]
    ready = tmp_path / "ready"
    args = [str(dirty_dir), str(out), str(spark_model), str(ready)]
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSED, *args],
        start_new_session=True,
        env={**os.environ},
    )
    deadline = time.monotonic() + 240
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the Spark run never reached its write step")
        time.sleep(0.2)
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".as_of=")]
    assert any(".tmp-" in name for name in hidden)  # it was writing
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    final = month_dir(out, AS_OF)
    assert (final / "summary.json").read_bytes() == before
    assert len(read_scores(final / "scores.parquet")) == scored
    with config_context(today=TODAY):  # the rerun clears the leftovers, replaces
        again = score(
            dirty_dir,
            out,
            as_of=AS_OF,
            model=str(spark_model),
            log=False,
            buckets=2,
            spark=spark,
            lock_timeout=0,
        )
    names = sorted(p.name for p in out.iterdir() if not p.name.endswith(".lock"))
    assert names == [f"as_of={AS_OF}"]
    assert (final / "summary.json").read_bytes() != before  # a new summary
    assert again.summary["scored"] == scored
    assert len(read_scores(final / "scores.parquet")) == scored


@settings(max_examples=80, deadline=None)
@given(
    scores=st.lists(
        st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.99, 1.0]) | st.floats(0, 1),
        min_size=1,
        max_size=60,
    ),
    buckets=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
def test_tallies_of_buckets_give_one_machines_counts_and_quantiles(
    scores: list[float], buckets: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = len(scores)
    frame = pd.DataFrame(
        {
            "enterprise_id": [f"E{i:03d}" for i in range(n)],
            "risk_score": scores,  # ties: ranked by code, as Spark ranks them
            "region": rng.choice(["A", "B", None], n),
            "risk_level": pd.Categorical(rng.choice(["red", "none"], n)),
        }
    )
    order = frame.sort_values(["risk_score", "enterprise_id"], ascending=[False, True])
    frame.loc[order.index, "rank"] = np.arange(1, n + 1)
    frame["rank"] = frame["rank"].astype(int)
    part = rng.integers(0, buckets, n)
    ranks = quantile_ranks(n)
    tallied = pa.Table.from_batches(
        [tally(frame[part == b], ranks) for b in range(buckets)]
    ).to_pandas()
    levels = tallied[tallied["kind"] == "level"]
    got = levels.groupby(["region", "risk_level"], dropna=False)["count"].sum()
    want = frame.groupby(
        [frame["region"], frame["risk_level"].astype(object)], dropna=False
    ).size()
    pd.testing.assert_series_equal(
        got.sort_index(),
        want.sort_index(),
        check_names=False,
        check_dtype=False,
        check_index_type=False,
    )
    assert levels["score_sum"].sum() == pytest.approx(sum(scores), rel=1e-12, abs=1e-12)
    at = tallied[tallied["kind"] == "rank"]
    values = dict(zip(at["rank"].astype(int), at["risk_score"], strict=True))
    quantiles = _quantiles(values, n)
    series = frame["risk_score"]
    for key, q in {"p50": 0.5, "p95": 0.95, "p99": 0.99}.items():
        assert quantiles[key] == pytest.approx(series.quantile(q), rel=1e-12), key
