"""Feature building speed and memory (issue: features and labels).

Targets on 2 cores / 24 GB:

* training mode, 200,000 enterprises x 36 months (about 7.2 M panel rows), the
  full default feature set: <= 15 s, peak RSS <= 8 GB;
* scoring mode, 1,000,000 enterprises, 13 months of history, one as_of month:
  <= 15 s.

Each measurement runs in a fresh process that loads the tables from Parquet,
so the peak RSS is that of feature building on loaded data.

    python benchmarks/bench_features.py                  # both targets
    python benchmarks/bench_features.py --train-enterprises 230000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import emit, peak_rss_gb, run_child, save, timed


def generate(out: str, n: int, months: int) -> None:
    import anxin

    with anxin.config_context(today="2026-11"):
        anxin.synth(n, months, seed=0).write(out)
    emit({"rss_gb": peak_rss_gb()})


def measure(data: str, as_of: str | None) -> None:
    import anxin

    results: dict[str, float] = {}
    with anxin.config_context(today="2026-11"):
        with timed(results, "load_s"):
            tables = anxin.load_tables(data)
        rss_loaded = peak_rss_gb()
        with timed(results, "features_s"):
            panel = anxin.build_features(tables, as_of=as_of)
        if as_of is None:
            with timed(results, "labels_s"):
                anxin.build_labels(tables)
    emit(
        {
            **results,
            "rows": len(panel),
            "features": panel.shape[1] - 2,
            "payroll_rows": len(tables.payroll),
            "rows_per_s": round(len(panel) / results["features_s"]),
            "rss_after_load_gb": round(rss_loaded, 2),
            "peak_rss_gb": round(peak_rss_gb(), 2),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-enterprises", type=int, default=200_000)
    parser.add_argument("--train-months", type=int, default=36)
    parser.add_argument("--score-enterprises", type=int, default=1_000_000)
    parser.add_argument("--score-months", type=int, default=13)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "generate":
            generate(rest[0], int(rest[1]), int(rest[2]))
        else:
            measure(rest[0], rest[1] if rest[1] != "-" else None)
        return
    me = str(Path(__file__))
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        train_dir = str(Path(tmp) / "train")
        print(f"training mode: {args.train_enterprises:,} x {args.train_months}")
        run_child(
            [
                me,
                "--child",
                "generate",
                train_dir,
                str(args.train_enterprises),
                str(args.train_months),
            ]
        )
        out["training_mode"] = {
            "enterprises": args.train_enterprises,
            "months": args.train_months,
            **run_child([me, "--child", "measure", train_dir, "-"]),
        }
        score_dir = str(Path(tmp) / "score")
        print(f"scoring mode: {args.score_enterprises:,} x {args.score_months}")
        run_child(
            [
                me,
                "--child",
                "generate",
                score_dir,
                str(args.score_enterprises),
                str(args.score_months),
            ]
        )
        out["scoring_mode"] = {
            "enterprises": args.score_enterprises,
            "months": args.score_months,
            "as_of": "2026-06",
            **run_child([me, "--child", "measure", score_dir, "2026-06"]),
        }
    save("bench_features", out)


if __name__ == "__main__":
    main()
