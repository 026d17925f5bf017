"""Shared helpers for the benchmark scripts (timing, peak memory, results)."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "_out"


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far, in GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


@contextmanager
def timed(results: dict[str, Any], key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[key] = round(time.perf_counter() - start, 2)
    print(f"  {key}: {results[key]:.2f} s", flush=True)


def best_of(
    results: dict[str, Any], runs: dict[str, Callable[[], object]], repeat: int = 3
) -> None:
    """Time each callable ``repeat`` times, alternating, and keep the fastest.

    Alternating puts a competitor and its baseline under the same conditions;
    the minimum is the least disturbed run (as ``timeit`` recommends).
    """
    times: dict[str, list[float]] = {key: [] for key in runs}
    for _ in range(repeat):
        for key, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    for key, seen in times.items():
        results[key] = round(min(seen), 2)
        shown = ", ".join(f"{t:.2f}" for t in seen)
        print(f"  {key}: {results[key]:.2f} s (runs: {shown})", flush=True)


def machine() -> dict[str, Any]:
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run_child(args: list[str]) -> dict[str, Any]:
    """Run ``python THIS_SCRIPT args`` and return the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=False
    )
    sys.stderr.write(out.stderr[-4000:])
    if out.returncode != 0:
        raise SystemExit(f"child failed: {args}\n{out.stdout[-4000:]}")
    for line in out.stdout.splitlines():
        if not line.startswith("RESULT "):
            print(line, flush=True)
    result = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return dict(json.loads(result.removeprefix("RESULT ")))


def emit(result: dict[str, Any]) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def save(name: str, result: dict[str, Any]) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({**result, "machine": machine()}, indent=2))
    print(json.dumps(result, indent=2))
    return path
