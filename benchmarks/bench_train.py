"""Training speed, memory, overhead and quality (issue: training and MLflow).

Targets on 2 cores: synthetic 100,000 enterprises x 36 months; whole training
(features + anxin.train with MLflow logging and registration) <= 3 min, peak
RSS <= 8 GB; anxin.train (excluding feature building) <= 1.5 x a bare
lightgbm.train on the same matrix with the same parameters; model test AP >=
1.5 x the rule score's AP and recall at 5% not below the rules'.

    python benchmarks/bench_train.py [--enterprises 100000 --months 36]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import emit, peak_rss_gb, run_child, save, timed


def child(n: int, months: int, home: str) -> None:
    import lightgbm as lgb
    import numpy as np

    import anxin
    from anxin.training import DEFAULT_PARAMS

    results: dict[str, float] = {}
    uri = f"sqlite:///{home}/mlflow.db"
    with anxin.config_context(today="2026-11", home=home):
        world = anxin.synth(n, months, seed=0)
        tables = anxin.validate(world.tables).tables
        del world
        with timed(results, "features_s"):
            frame = anxin.build_features(tables)
            frame["label"] = anxin.build_labels(tables)["label"].to_numpy()
        # the same matrix and parameters, bare LightGBM with the same early
        # stopping, measured before and after anxin.train (the mean is used)
        split = anxin.make_splits(
            frame.loc[frame["label"].notna(), "period"], horizon=3
        )
        data = frame[frame["label"].notna()]
        part = split.assign(data["period"])
        feats = [
            c for c in frame.columns if c not in ("enterprise_id", "period", "label")
        ]
        tr, va = data[part == "train"], data[part == "valid"]
        params = {**DEFAULT_PARAMS, "seed": 0, "num_threads": 0}

        def bare() -> lgb.Booster:
            return lgb.train(
                params,
                lgb.Dataset(tr[feats], tr["label"].astype(int)),
                num_boost_round=2000,
                valid_sets=[lgb.Dataset(va[feats], va["label"].astype(int))],
                callbacks=[lgb.early_stopping(100, verbose=False)],
            )

        with timed(results, "bare_lightgbm_before_s"):
            booster = bare()
        del tr, va, data
        with timed(results, "anxin_train_s"):
            result = anxin.train(frame, tracking_uri=uri, seed=0)
        tr, va = (frame[frame["label"].notna()][part == s] for s in ("train", "valid"))
        with timed(results, "bare_lightgbm_after_s"):
            bare()
    results["bare_lightgbm_s"] = round(
        (results["bare_lightgbm_before_s"] + results["bare_lightgbm_after_s"]) / 2, 2
    )
    m = result.metrics
    emit(
        {
            **results,
            "whole_training_s": round(
                results["features_s"] + results["anxin_train_s"], 2
            ),
            "overhead_ratio": round(
                results["anxin_train_s"] / results["bare_lightgbm_s"], 3
            ),
            "bare_best_iteration": int(booster.best_iteration),
            "anxin_best_iteration": result.best_iteration,
            "panel_rows": len(frame),
            "train_rows": int((part == "train").sum()),
            "peak_rss_gb": round(peak_rss_gb(), 2),
            "timings": result.timings,
            "test_ap": round(m["test_ap"], 4),
            "rules_test_ap": round(m["rules_test_ap"], 4),
            "logreg_test_ap": round(m["logreg_test_ap"], 4),
            "ap_ratio_vs_rules": round(m["test_ap"] / m["rules_test_ap"], 2),
            "test_auc": round(m["test_auc"], 4),
            "test_recall_at_5pct": round(m["test_recall_at_5pct"], 4),
            "rules_test_recall_at_5pct": round(m["rules_test_recall_at_5pct"], 4),
            "test_positives": int(m["test_positives"]),
            "np_version": np.__version__,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), int(args.child[1]), args.child[2])
        return
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as home:
        result = run_child(
            [
                str(Path(__file__)),
                "--child",
                str(args.enterprises),
                str(args.months),
                home,
            ]
        )
    save(
        "bench_train",
        {"enterprises": args.enterprises, "months": args.months, **result},
    )


if __name__ == "__main__":
    main()
