"""Model quality on data anxin did not make, and on its own world (issue 12).

Targets (figures in benchmarks/README.md):

* ``polish``: the Polish bankruptcy snapshots (real, public; read from
  ``../shared/data/polish-bankruptcy``, never copied): anxin with default
  settings under 5-fold stratified cross-validation reaches at least the mean
  ROC-AUC and AP of a plain ``lightgbm.train`` with early stopping on the same
  folds;
* ``panels``: a yearly and a quarterly panel derived from a synthetic world:
  anxin's defaults within noise of, or better than, plain LightGBM given the
  same splits;
* ``synthetic``: on the contract tables of a synthetic world, the model's
  test AP is at least 0.95 of the average precision of the world's own risk
  (:meth:`anxin.SyntheticWorld.true_risk`);
* ``overhead``: ``anxin.train`` (no MLflow) on a bring-your-own frame takes
  at most 1.5x a plain ``lightgbm.train`` with early stopping on the same
  rows, same parameters (alternating runs, best of three).

"Plain LightGBM" is LightGBM's own defaults (``objective="binary"``, 0.1
learning rate, 31 leaves, 20 rows per leaf), up to 2,000 rounds, stopped
after 100 rounds without a better validation log loss: in cross-validation on
a stratified 20% of the training folds, on panels on the validation split.

    python benchmarks/bench_quality.py                      # every part
    python benchmarks/bench_quality.py --part polish --part panels
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import save

ROOT = Path(__file__).resolve().parents[1]
POLISH = ROOT.parent / "shared" / "data" / "polish-bankruptcy"
PARTS = ("polish", "panels", "synthetic", "overhead")
#: LightGBM's own defaults, as a user would call it.
PLAIN = {"objective": "binary", "verbose": -1, "seed": 0}


def load_polish(name: str, folder: Path = POLISH) -> pd.DataFrame:
    """One Polish file as a frame: 64 ratios (names as published) and
    ``bankrupt`` (0/1). Read at benchmark time only."""
    from scipy.io import arff

    data, _ = arff.loadarff(folder / f"{name}.arff")
    frame = pd.DataFrame(data)
    label = frame.pop(frame.columns[-1])
    frame["bankrupt"] = label.str.decode("ascii").astype(int)
    return frame


def plain_lightgbm(
    x: pd.DataFrame,
    y: np.ndarray,
    valid: tuple[pd.DataFrame, np.ndarray],
    threads: int,
) -> Any:
    """``lightgbm.train`` with its defaults and early stopping on ``valid``."""
    import lightgbm as lgb

    safe = [f"f{i}" for i in range(x.shape[1])]  # names LightGBM accepts
    train = lgb.Dataset(x.set_axis(safe, axis=1), y)
    booster = lgb.train(
        {**PLAIN, "num_threads": threads},
        train,
        num_boost_round=2000,
        valid_sets=[lgb.Dataset(valid[0].set_axis(safe, axis=1), valid[1])],
        callbacks=[lgb.early_stopping(100, verbose=False)],
    )
    return lambda rows: booster.predict(
        rows.set_axis(safe, axis=1), num_iteration=booster.best_iteration
    )


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {
        "auc": float(roc_auc_score(y, p)),
        "ap": float(average_precision_score(y, p)),
    }


def polish(threads: int) -> dict[str, Any]:
    """5-fold stratified CV on each file: anxin (defaults, the fold as its
    test split) against plain LightGBM stopped on a stratified 20% of the
    training folds (and, for reference, stopped on the test fold itself)."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    import anxin

    out: dict[str, Any] = {}
    for name in ("1year", "5year"):
        frame = load_polish(name)
        y = frame["bankrupt"].to_numpy()
        x = frame.drop(columns="bankrupt")
        folds = StratifiedKFold(5, shuffle=True, random_state=0).split(x, y)
        rows: list[dict[str, float]] = []
        for k, (train, test) in enumerate(folds):
            fold = np.full(len(y), "train", dtype=object)
            fold[test] = "test"
            start = time.perf_counter()
            result = anxin.train(
                frame.assign(fold=fold),
                entity=None,
                period=None,
                label="bankrupt",
                splits="fold",
                log=False,
                n_jobs=threads,
            )
            seconds = time.perf_counter() - start
            ours = scores(y[test], result.model.predict_proba(x.iloc[test]))
            xt, xv, yt, yv = train_test_split(
                x.iloc[train],
                y[train],
                test_size=0.2,
                stratify=y[train],
                random_state=k,
            )
            plain = scores(
                y[test], plain_lightgbm(xt, yt, (xv, yv), threads)(x.iloc[test])
            )
            peek = plain_lightgbm(
                x.iloc[train], y[train], (x.iloc[test], y[test]), threads
            )
            peeked = scores(y[test], peek(x.iloc[test]))
            rows.append(
                {
                    "anxin_auc": ours["auc"],
                    "anxin_ap": ours["ap"],
                    "plain_auc": plain["auc"],
                    "plain_ap": plain["ap"],
                    "plain_on_test_auc": peeked["auc"],
                    "plain_on_test_ap": peeked["ap"],
                    "anxin_s": seconds,
                }
            )
            print(f"  {name} fold {k}: {rows[-1]}", flush=True)
        table = pd.DataFrame(rows)
        out[name] = {
            "mean": table.mean().round(4).to_dict(),
            "folds": table.round(4).to_dict("list"),
            "rows": len(y),
            "positives": int(y.sum()),
        }
        print(f"{name}: {out[name]['mean']}", flush=True)
    return out


def panel(world: Any, cadence: str) -> pd.DataFrame:
    """A yearly (``Y``: December rows, label = an arrears case within the next
    12 months) or quarterly (``Q``: quarter-end rows, within the next 3 months)
    panel from a synthetic world's 12-month window features, keyed ``firm``
    and ``fyear`` as a bureau would send it, two columns renamed with
    characters LightGBM refuses."""
    import anxin

    tables = anxin.validate(world.tables).tables
    feats = anxin.build_features(tables)
    month = feats["period"].str.slice(5, 7).astype(int).to_numpy()
    keep = month == 12 if cadence == "Y" else month % 3 == 0
    labels = anxin.build_labels(tables, horizon=12 if cadence == "Y" else 3)
    out = feats[keep].copy()
    out["arrears_next"] = labels["label"].to_numpy()[keep]
    year = out["period"].str.slice(0, 4)
    quarter = (out["period"].str.slice(5, 7).astype(int) // 3).astype(str)
    out["fyear"] = year if cadence == "Y" else year + "Q" + quarter
    return out.drop(columns="period").rename(
        columns={
            "enterprise_id": "firm",
            "si_gap_share": "SI gap [share]",
            "complaints_3m": "complaints: 3 months",
        }
    )


def panels(threads: int, enterprises: int, months: int) -> dict[str, Any]:
    """anxin's defaults against plain LightGBM on the same (anxin's default)
    splits, with a paired bootstrap of the test AP difference."""
    import anxin

    with anxin.config_context(today="2026-11"):
        world = anxin.synth(enterprises, months, seed=3)
    out: dict[str, Any] = {}
    for cadence in ("Y", "Q"):
        frame = panel(world, cadence)
        keys = {"entity": "firm", "period": "fyear", "label": "arrears_next"}
        result = anxin.train(frame, **keys, log=False, n_jobs=threads)
        splits = result.splits
        part = splits.assign(frame["fyear"])
        labelled = frame["arrears_next"].notna().to_numpy()
        feats = result.model.spec.features
        rows = {s: frame[(part == s) & labelled] for s in ("train", "valid", "test")}
        y = {s: rows[s]["arrears_next"].to_numpy(dtype=int) for s in rows}
        plain = plain_lightgbm(
            _as_lgb(rows["train"][feats]),
            y["train"],
            (_as_lgb(rows["valid"][feats]), y["valid"]),
            threads,
        )
        p_plain = plain(_as_lgb(rows["test"][feats]))
        p_anxin = result.model.predict_proba(rows["test"])
        kept = anxin.train(frame, **keys, refit=False, log=False, n_jobs=threads)
        p_kept = kept.model.predict_proba(rows["test"])
        diff = _paired_bootstrap(y["test"], p_anxin, p_plain)
        out[cadence] = {
            "splits": str(splits),
            "rows": {s: len(v) for s, v in y.items()},
            "positives": {s: int(v.sum()) for s, v in y.items()},
            "anxin": scores(y["test"], p_anxin),
            "plain": scores(y["test"], p_plain),
            "anxin_no_refit": scores(y["test"], p_kept),
            "ap_difference_ci90": diff,
            "anxin_best_iteration": result.best_iteration,
        }
        print(f"{cadence}: {out[cadence]}", flush=True)
    return out


def _as_lgb(x: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categoricals, as LightGBM wants them."""
    return x.astype({c: "category" for c in x.columns if x[c].dtype == object})


def _paired_bootstrap(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, n: int = 300
) -> list[float]:
    """90% interval of AP(a) - AP(b) over test rows drawn with replacement."""
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        if y[i].sum():
            diffs.append(
                average_precision_score(y[i], a[i])
                - average_precision_score(y[i], b[i])
            )
    return [round(float(q), 4) for q in np.quantile(diffs, [0.05, 0.95])]


def synthetic(
    threads: int, enterprises: int, months: int, seed: int = 0
) -> dict[str, Any]:
    """The model's test AP as a share of the world's own risk's AP."""
    import anxin

    with anxin.config_context(today="2026-11"):
        world = anxin.synth(enterprises, months, seed=seed)
        tables = anxin.validate(world.tables).tables
        result = anxin.train(tables, log=False, n_jobs=threads)
        feats = anxin.build_features(tables)
    feats["label"] = anxin.build_labels(tables)["label"].to_numpy()
    risk = world.true_risk(horizon=3)
    rows = feats.merge(risk, on=["enterprise_id", "period"], how="left")
    test = rows[
        (result.splits.assign(rows["period"]) == "test") & rows["label"].notna()
    ]
    y = test["label"].to_numpy(dtype=int)
    model = result.model.predict_proba(test)
    oracle = test["risk"].to_numpy()
    ratio = scores(y, model)["ap"] / scores(y, oracle)["ap"]
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(200):
        i = rng.integers(0, len(y), len(y))
        boot.append(scores(y[i], model[i])["ap"] / scores(y[i], oracle[i])["ap"])
    out = {
        "seed": seed,
        "splits": str(result.splits),
        "test_rows": len(y),
        "test_positives": int(y.sum()),
        "model": scores(y, model),
        "oracle": scores(y, oracle),
        "ap_ratio": round(ratio, 4),
        "ap_ratio_bootstrap_sd": round(float(np.std(boot)), 4),
        "rules_ap": float(result.metrics.get("rules_test_ap", float("nan"))),
        "best_iteration": result.best_iteration,
    }
    print(f"synthetic: {out}", flush=True)
    return out


def overhead(threads: int, enterprises: int, months: int) -> dict[str, Any]:
    """anxin.train on a prepared frame against one plain lightgbm.train with
    early stopping on the same split and the parameters anxin chose;
    alternating, best of three."""
    import lightgbm as lgb

    import anxin
    from anxin.training.preparation import lightgbm_names

    with anxin.config_context(today="2026-11"):
        world = anxin.synth(enterprises, months, seed=1)
        tables = anxin.validate(world.tables).tables
        frame = anxin.build_features(tables)
    frame["label"] = anxin.build_labels(tables)["label"].to_numpy()
    del world, tables
    first = anxin.train(frame, log=False, n_jobs=threads)
    part = first.splits.assign(frame["period"])
    feats = first.model.spec.features
    data = frame[frame["label"].notna()]
    part = part[frame["label"].notna().to_numpy()]
    tr, va = data[part == "train"], data[part == "valid"]
    params = {**first.model.booster.params, "num_threads": threads}
    names = lightgbm_names(feats)

    def bare() -> None:
        train = lgb.Dataset(tr[feats].set_axis(names, axis=1), tr["label"].astype(int))
        lgb.train(
            params,
            train,
            num_boost_round=2000,
            valid_sets=[
                lgb.Dataset(
                    va[feats].set_axis(names, axis=1),
                    va["label"].astype(int),
                    reference=train,
                )
            ],
            callbacks=[lgb.early_stopping(100, first_metric_only=True, verbose=False)],
        )

    def ours() -> None:
        anxin.train(frame, log=False, n_jobs=threads)

    times = _alternate({"bare_lightgbm": bare, "anxin_train": ours})
    out = {
        "rows": len(frame),
        "train_rows": len(tr),
        "best_iteration": first.best_iteration,
        "refit": first.model.spec.info["refit"],
        **{k: min(v) for k, v in times.items()},
        "runs": times,
        "ratio": round(min(times["anxin_train"]) / min(times["bare_lightgbm"]), 3),
        "timings": {k: round(v, 2) for k, v in first.timings.items()},
    }
    print(f"overhead: {out}", flush=True)
    return out


def _alternate(
    runs: dict[str, Callable[[], None]], repeat: int = 3
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeat):
        for key, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[key].append(round(time.perf_counter() - start, 2))
            print(f"  {key}: {times[key][-1]:.2f} s", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", action="append", choices=PARTS)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0, help="synthetic: world seed")
    args = parser.parse_args()
    results: dict[str, Any] = {"load_before": os.getloadavg()}
    for part in args.part or PARTS:
        start = time.perf_counter()
        if part == "polish":
            results[part] = polish(args.threads)
        elif part == "panels":
            results[part] = panels(args.threads, args.enterprises, 96)
        elif part == "synthetic":
            results[part] = synthetic(args.threads, args.enterprises, 48, args.seed)
        else:
            results[part] = overhead(args.threads, args.enterprises, 48)
        results[f"{part}_s"] = round(time.perf_counter() - start, 1)
    results["load_after"] = os.getloadavg()
    save("bench_quality", results)


if __name__ == "__main__":
    main()
