"""National scale on Apache Spark (issue 15): parity, overhead, scaling.

Targets, in ``local[2]`` on 2 cores:

* **parity** -- a 20,000-enterprise world (dirty, so rows are quarantined):
  :func:`anxin.spark.score`'s scores equal :func:`anxin.score_month`'s to
  1e-9; levels (per-region quotas), ranks, reasons and the quarantine files
  are identical;
* **overhead** -- 1,000,000 enterprises x 13 months: end to end within 2x of
  ``score_month`` on the same 2 cores, peak driver memory under 4 GB;
* **scaling** -- time per enterprise flat (within 20%) from 250 k to 2 M.

The model is trained once on a smaller world (30,000 x 36) and saved as a
local bundle; each measurement runs in a fresh process. Memory: the Python
driver's peak RSS (``ru_maxrss``: what anxin collects), and the peak RSS of
the JVM (driver and, in local mode, the executors) and of the Python
workers, sampled from /proc every 0.25 s::

    python benchmarks/bench_spark.py parity
    python benchmarks/bench_spark.py overhead --enterprises 1000000
    python benchmarks/bench_spark.py scaling --sizes 250000 500000 1000000 2000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import emit, peak_rss_gb, run_child, save, timed

AS_OF = "2026-06"
TODAY = "2026-11"
#: The world of the warm session's first run (``scaling --warm``).
WARM_UP = 20_000
POLICY = {"kind": "quota", "red": 0.02, "orange": 0.03, "yellow": 0.05, "by": "region"}
#: local[2] settings: in local mode the executors live in the driver's JVM
SPARK_CONFIG = {
    "spark.driver.memory": "6g",
    "spark.sql.shuffle.partitions": "8",
    "spark.default.parallelism": "2",
    "spark.local.dir": "",  # set to the run's temporary directory
}


class TreeMemory:
    """Peak RSS (GB) of this process's descendants, by kind, sampled from /proc."""

    def __init__(self) -> None:
        self.peak = {"jvm_gb": 0.0, "python_workers_gb": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.25):
            parents: dict[int, int] = {}
            rss: dict[int, tuple[str, float]] = {}
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_text()
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                pid = int(entry.name)
                parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
                kb = [ln for ln in status.splitlines() if ln.startswith("VmRSS:")]
                name = stat.split("(", 1)[1].split(")", 1)[0]
                rss[pid] = (name, int(kb[0].split()[1]) / 1024**2 if kb else 0.0)
            totals = {"jvm_gb": 0.0, "python_workers_gb": 0.0}
            for pid, (name, gb) in rss.items():
                up, seen = parents.get(pid), 0
                while up not in (None, 0, 1, me) and seen < 20:
                    up, seen = parents.get(up), seen + 1
                if up != me or pid == me:
                    continue
                totals["jvm_gb" if name == "java" else "python_workers_gb"] += gb
            for key, value in totals.items():
                self.peak[key] = round(max(self.peak[key], value), 2)


def prepare(tmp: str, n: int, dirty: bool) -> None:
    import anxin

    with anxin.config_context(today=TODAY, home=tmp):
        model = Path(tmp) / "model"
        if not model.exists():
            world = anxin.synth(30_000, 36, seed=1)
            result = anxin.train(anxin.validate(world.tables).tables, log=False, seed=0)
            result.model.save(model)
            del world, result
        data = Path(tmp) / f"data-{n}"
        kind = Path(tmp) / f"data-{n}.kind"  # parity's world is dirty, the others clean
        wanted = "dirty" if dirty else "clean"
        if data.exists() and (not kind.exists() or kind.read_text() != wanted):
            kind.unlink(missing_ok=True)  # a half-written world has no kind
            shutil.rmtree(data)
        if not data.exists():
            anxin.synth(n, 13, seed=2, dirty=dirty).write(data)
            kind.write_text(wanted)
    emit({"enterprises": n})


def local(tmp: str, n: int) -> None:
    import anxin

    results: dict[str, Any] = {}
    with anxin.config_context(today=TODAY, home=tmp), timed(results, "score_s"):
        out = anxin.score_month(
            Path(tmp) / f"data-{n}",
            Path(tmp) / f"local-{n}",
            as_of=AS_OF,
            model=str(Path(tmp) / "model"),
            policy=POLICY,
            log=False,
        )
    results |= {"scored": out.summary["scored"], "steps_s": out.summary["timings"]}
    emit({**results, "peak_rss_gb": round(peak_rss_gb(), 2)})


def _score(tmp: str, n: int, session: Any, buckets: int | None) -> dict[str, Any]:
    """:func:`anxin.spark.score` of the world of ``n`` enterprises, timed."""
    import anxin
    from anxin.spark import score

    results: dict[str, Any] = {}
    target = Path(tmp) / f"spark-{n}"
    shutil.rmtree(target, ignore_errors=True)
    with anxin.config_context(today=TODAY, home=tmp), timed(results, "score_s"):
        out = score(
            Path(tmp) / f"data-{n}",
            target,
            as_of=AS_OF,
            model=str(Path(tmp) / "model"),
            policy=POLICY,
            log=False,
            buckets=buckets,
            spark=session,
        )
    results |= {"scored": out.summary["scored"], "steps_s": out.summary["timings"]}
    results["per_enterprise_ms"] = round(1000 * results["score_s"] / n, 4)
    return results


def spark(tmp: str, n: int, master: str, buckets: int | None) -> None:
    from anxin.spark import spark_session

    results: dict[str, Any] = {"master": master, "buckets": buckets}
    config = {**SPARK_CONFIG, "spark.local.dir": str(Path(tmp) / "spark-local")}
    with TreeMemory() as memory:
        with timed(results, "session_s"):
            session = spark_session(master, config=config)
        results |= _score(tmp, n, session, buckets)
        session.stop()
    results |= {"driver_peak_rss_gb": round(peak_rss_gb(), 2), **memory.peak}
    emit(results)


def warm(tmp: str, master: str, sizes: list[int]) -> None:
    """Every size in one session (as a notebook, a service or Spark Connect
    keeps one), after a first run on the 20,000-enterprise world has warmed
    the JVM and started the Python workers: the cost per enterprise without
    a fresh process's start-up."""
    from anxin.spark import spark_session

    config = {**SPARK_CONFIG, "spark.local.dir": str(Path(tmp) / "spark-local")}
    session = spark_session(master, config=config)
    results: dict[str, Any] = {
        "master": master,
        "warm_up": _score(tmp, WARM_UP, session, None),
    }
    shutil.rmtree(Path(tmp) / f"spark-{WARM_UP}", ignore_errors=True)
    for n in sizes:
        results[str(n)] = _score(tmp, n, session, None)
        print(
            f"  {n:,} (warm): {results[str(n)]['per_enterprise_ms']} ms per enterprise"
        )
    session.stop()
    emit(results)


def bare(tmp: str, n: int, master: str) -> None:
    """A fresh Spark application doing the least any Spark implementation of
    the month must: every row of the five tables through a Python (Arrow)
    task, a global sort of a score per enterprise, a Parquet write
    partitioned by region. No anxin code runs; Spark's own Python daemon."""
    import pyarrow as pa
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    results: dict[str, Any] = {"master": master}
    config = {**SPARK_CONFIG, "spark.local.dir": str(Path(tmp) / "spark-local")}
    with timed(results, "session_s"):
        builder = SparkSession.builder.master(master).appName("bare")
        for key, value in config.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    schema = "rows long"

    def count(batches: Any) -> Any:
        for batch in batches:
            yield pa.RecordBatch.from_pydict({"rows": [batch.num_rows]})

    data = Path(tmp) / f"data-{n}"
    rows = 0
    for key in ("first_run_s", "second_run_s"):  # a fresh JVM, then warm
        with timed(results, key):
            rows = 0
            for table in sorted(data.glob("*.parquet")):
                counted = session.read.parquet(str(table)).mapInArrow(count, schema)
                rows += counted.agg(F.sum("rows")).collect()[0][0] or 0
            scores = session.read.parquet(str(data / "enterprises.parquet")).select(
                "enterprise_id", "region", F.rand(0).alias("risk_score")
            )
            out = Path(tmp) / f"bare-{n}"
            shutil.rmtree(out, ignore_errors=True)
            scores.orderBy(F.desc("risk_score"), "enterprise_id").write.partitionBy(
                "region"
            ).parquet(str(out))
            shutil.rmtree(out, ignore_errors=True)
    session.stop()
    emit({**results, "rows": int(rows)})


def compare(tmp: str, n: int) -> None:
    """Scores to 1e-9; levels, ranks, reasons and quarantine files identical."""
    import numpy as np
    import pandas as pd

    from anxin.scoring import month_dir
    from anxin.spark import read_scores

    one = month_dir(Path(tmp) / f"local-{n}", AS_OF)
    two = month_dir(Path(tmp) / f"spark-{n}", AS_OF)
    a = pd.read_parquet(one / "scores.parquet").sort_values("enterprise_id")
    b = read_scores(two / "scores.parquet").sort_values("enterprise_id")
    same_ids = a["enterprise_id"].tolist() == b["enterprise_id"].tolist()
    diff = float(np.abs(a["risk_score"].to_numpy() - b["risk_score"].to_numpy()).max())
    columns = ("risk_level", "rank", "region", "industry", "reasons_zh", "reasons_en")
    equal = {c: a[c].astype(str).tolist() == b[c].astype(str).tolist() for c in columns}
    reasons = [[list(r) for r in x["reasons"]] for x in (a, b)]
    equal["reasons"] = reasons[0] == reasons[1]
    files = ["quarantine.csv", "drift.csv"]
    files += [f"quarantine/{p.name}" for p in sorted((one / "quarantine").iterdir())]
    same_files = {f: (one / f).read_bytes() == (two / f).read_bytes() for f in files}
    emit(
        {
            "rows": len(a),
            "same_enterprises": same_ids,
            "max_abs_score_diff": diff,
            "identical": equal,
            "identical_files": same_files,
            "quarantined_rows": json.loads((one / "summary.json").read_text())[
                "quarantine"
            ]["rows"],
            "flagged": int((a["risk_level"] != "none").sum()),
        }
    )


def _child(args: list[str]) -> None:
    kind, tmp, n, *rest = args
    if kind == "prepare":
        prepare(tmp, int(n), rest == ["dirty"])
    elif kind == "local":
        local(tmp, int(n))
    elif kind == "spark":
        spark(tmp, int(n), rest[0], int(rest[1]) or None)
    elif kind == "bare":
        bare(tmp, int(n), rest[0])
    elif kind == "warm":
        warm(tmp, rest[0], [int(x) for x in n.split(",")])
    else:
        compare(tmp, int(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "part", nargs="?", default="parity", choices=["parity", "overhead", "scaling"]
    )
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--buckets", type=int, default=0, help="0: the default")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="scaling: also every size in one warm session (after a first run)",
    )
    parser.add_argument(
        "--workdir", help="keep the model and worlds here (reused by later runs)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    me = str(Path(__file__))
    master, buckets = args.master, str(args.buckets)
    spark = [me, "--child", "spark"]
    result: dict[str, Any] = {"part": args.part, "load": os.getloadavg()}
    with contextlib.ExitStack() as stack:
        tmp = args.workdir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="anxin-bench-spark-")
        )
        Path(tmp).mkdir(parents=True, exist_ok=True)
        if args.part == "parity":
            n = str(args.enterprises or 20_000)
            run_child([me, "--child", "prepare", tmp, n, "dirty"])
            result["local"] = run_child([me, "--child", "local", tmp, n])
            result["spark"] = run_child([*spark, tmp, n, master, buckets])
            result["parity"] = run_child([me, "--child", "compare", tmp, n])
        elif args.part == "overhead":
            n = str(args.enterprises or 1_000_000)
            run_child([me, "--child", "prepare", tmp, n, "clean"])
            result["local"] = run_child([me, "--child", "local", tmp, n])
            result["spark"] = run_child([*spark, tmp, n, master, buckets])
            result["ratio"] = round(
                result["spark"]["score_s"] / result["local"]["score_s"], 2
            )
        else:
            sizes = args.sizes or [250_000, 500_000, 1_000_000, 2_000_000]
            for size in [WARM_UP, *sizes] if args.warm else sizes:
                start = time.perf_counter()
                run_child([me, "--child", "prepare", tmp, str(size), "clean"])
                print(f"  prepared {size:,} in {time.perf_counter() - start:.0f} s")
            if args.warm:
                n = ",".join(map(str, sizes))
                result["warm"] = run_child([me, "--child", "warm", tmp, n, master])
            for size in sizes:
                n = str(size)
                run = run_child([*spark, tmp, n, master, buckets])
                result[n] = run
                print(f"  {size:,}: {run['per_enterprise_ms']} ms per enterprise")
                shutil.rmtree(Path(tmp) / f"spark-{n}", ignore_errors=True)
            if args.warm:  # Spark's own start-up, without anxin
                bare = [me, "--child", "bare", tmp, str(WARM_UP), master]
                result["bare"] = run_child(bare)
    result["load_after"] = os.getloadavg()
    save(f"bench_spark_{args.part}", result)


if __name__ == "__main__":
    main()
