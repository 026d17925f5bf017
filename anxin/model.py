"""The scoring bundle: everything needed to score, stored as plain files.

An :class:`ArrearsModel` is what training produces and what prediction,
explanation, batch scoring and the MLflow pyfunc use. It is saved as

==================  ==========================================================
``booster.txt``     the LightGBM model, LightGBM's own text format
``calibrator.json`` raw margin -> calibrated probability
``policy.json``     warning levels (:class:`~anxin.levels.LevelPolicy`)
``spec.json``       feature list, categorical levels, the reason catalogue,
                    horizon and provenance
``reference.json``  training distributions for drift (:mod:`anxin.drift`)
==================  ==========================================================

No pickle anywhere: loading a model never executes stored code.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from anxin._params import resolve_n_jobs
from anxin.calibration import Calibrator
from anxin.catalogue import Feature
from anxin.drift import Reference
from anxin.exceptions import ContractError, ModelNotFoundError
from anxin.levels import LevelPolicy

__all__ = ["ARTIFACT_FILES", "ArrearsModel", "ModelSpec"]

logger = logging.getLogger(__name__)

ARTIFACT_FILES = {
    "booster": "booster.txt",
    "calibrator": "calibrator.json",
    "policy": "policy.json",
    "spec": "spec.json",
    "reference": "reference.json",
}


@dataclasses.dataclass
class ModelSpec:
    """What the model reads and how to explain it.

    Attributes
    ----------
    features : list of str
        Feature columns in model order.
    categorical : dict
        Categorical feature -> its levels at training time.
    catalogue : dict
        Feature -> :class:`~anxin.Feature` (meaning and reason text).
    horizon : int
        Months ahead the risk refers to.
    info : dict
        Provenance: data window, anxin version, seed, best iteration, ...
    """

    features: list[str]
    categorical: dict[str, list[str]]
    catalogue: dict[str, Feature]
    horizon: int
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def numeric(self) -> list[str]:
        return [f for f in self.features if f not in self.categorical]

    def groups(self) -> list[str]:
        """Reason groups in first-seen order."""
        seen: dict[str, None] = {}
        for f in self.features:
            seen.setdefault(self.catalogue[f].group, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "categorical": self.categorical,
            "catalogue": {k: dataclasses.asdict(v) for k, v in self.catalogue.items()},
            "horizon": self.horizon,
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> ModelSpec:
        return cls(
            features=list(state["features"]),
            categorical={k: list(v) for k, v in state["categorical"].items()},
            catalogue={k: Feature(**v) for k, v in state["catalogue"].items()},
            horizon=int(state["horizon"]),
            info=dict(state.get("info", {})),
        )


_READERS: dict[str, Callable[[Any], Any]] = {
    "calibrator": Calibrator.from_dict,
    "policy": LevelPolicy.from_dict,
    "spec": ModelSpec.from_dict,
    "reference": Reference.from_dict,
}


def _broken(path: Path, reason: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"{path}: not a usable part of an anxin model ({reason}). The model "
        "files are incomplete or damaged: re-train, or download the model "
        "again from the registry.",
        path=str(path),
    )


def _read_part(key: str, path: Path) -> Any:
    """One file of a bundle; a missing or damaged file raises ModelNotFoundError.

    Permission denied and other errors of the machine are raised as they are.
    """
    try:
        if key == "booster":
            return _booster(path)
        return _READERS[key](json.loads(path.read_text("utf-8")))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise _broken(path, exc.strerror or "missing") from exc
    except (lgb.basic.LightGBMError, UnicodeDecodeError) as exc:
        raise _broken(path, str(exc).splitlines()[0]) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # bad JSON, or JSON without the fields this part needs
        raise _broken(path, f"{type(exc).__name__}: {exc}") from exc


def _booster(path: Path) -> lgb.Booster:
    """A LightGBM model from its text file, checked before LightGBM reads it.

    LightGBM trusts the file's ``tree_sizes`` line and reads past the end of
    a truncated file (the process crashes); a file whose trees do not end
    where that line says is refused here instead.
    """
    data = path.read_bytes().replace(b"\r\n", b"\n")  # as written on Windows
    start = data.find(b"\nTree=") + 1
    sizes = re.search(rb"^tree_sizes=([0-9 ]*)$", data, re.MULTILINE)
    if not data.startswith(b"tree\n") or start == 0 or sizes is None:
        raise _broken(path, "not a LightGBM model in text format")
    end = start + sum(int(size) for size in sizes.group(1).split())
    if not data[end:].startswith(b"end of trees"):
        raise _broken(path, "truncated: its trees do not end where it says")
    return lgb.Booster(model_str=data.decode("utf-8"))


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class ArrearsModel:
    """A trained arrears-risk model with its calibration, levels and reasons.

    Parameters
    ----------
    booster : lightgbm.Booster
    calibrator : Calibrator
    policy : LevelPolicy
    spec : ModelSpec
    reference : Reference
    name, version : str
        Registered model name and version ("" when not registered).
    """

    def __init__(
        self,
        booster: lgb.Booster,
        calibrator: Calibrator,
        policy: LevelPolicy,
        spec: ModelSpec,
        reference: Reference,
        *,
        name: str = "",
        version: str = "",
    ) -> None:
        self.booster = booster
        self.calibrator = calibrator
        self.policy = policy
        self.spec = spec
        self.reference = reference
        self.name = name
        self.version = version

    def __repr__(self) -> str:
        label = f"{self.name}@{self.version}" if self.name else "unregistered"
        return (
            f"ArrearsModel({label}, {len(self.spec.features)} features, "
            f"horizon={self.spec.horizon}, policy={self.policy.kind})"
        )

    # -- input -------------------------------------------------------------
    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input matrix from a feature frame.

        Numeric features become float32; categorical ones get the training
        levels (unknown values become missing).

        Raises
        ------
        ContractError
            If a feature column is missing.
        """
        missing = [f for f in self.spec.features if f not in frame.columns]
        if missing:
            raise ContractError(
                f"features: {len(missing)} model feature(s) missing, e.g. "
                f"{missing[:5]}. Build the frame with anxin.build_features (or "
                "supply every column listed in the model's spec.json).",
                table="features",
                column=missing[0],
            )
        cols: dict[str, Any] = {}
        ready = True  # a frame from build_features needs no conversion at all
        for name in self.spec.features:
            col = frame[name]
            if name in self.spec.categorical:
                levels = self.spec.categorical[name]
                if (
                    isinstance(col.dtype, pd.CategoricalDtype)
                    and list(col.cat.categories) == levels
                ):
                    cols[name] = col
                    continue
                ready = False
                text = col.astype("str").where(col.notna())
                # unseen levels (a new county) become missing, explicitly
                cols[name] = pd.Categorical(
                    text.where(text.isin(levels)), categories=levels
                )
            elif col.dtype == np.float32:
                cols[name] = col
            else:
                ready = False
                cols[name] = pd.to_numeric(col, errors="coerce").to_numpy(
                    dtype=np.float32, na_value=np.nan
                )
        if ready:
            return frame[self.spec.features]
        return pd.DataFrame(cols, index=frame.index)

    # -- scores --------------------------------------------------------------
    def margin(self, frame: pd.DataFrame, *, n_jobs: int | None = None) -> np.ndarray:
        """Raw LightGBM margin (log-odds before calibration)."""
        x = self.matrix(frame)
        jobs = resolve_n_jobs(n_jobs, "ArrearsModel.margin")
        return np.asarray(
            self.booster.predict(x, raw_score=True, num_threads=jobs),
            dtype=np.float64,
        )

    def predict_proba(
        self, frame: pd.DataFrame, *, n_jobs: int | None = None
    ) -> np.ndarray:
        """Calibrated probability of a confirmed arrears case within the horizon."""
        return self.calibrator.transform(self.margin(frame, n_jobs=n_jobs))

    def levels(
        self,
        scores: np.ndarray,
        regions: np.ndarray | None = None,
        policy: LevelPolicy | None = None,
    ) -> np.ndarray:
        """Warning level of each score under ``policy`` (default: the model's)."""
        return (policy or self.policy).assign(scores, regions)

    def contributions(
        self,
        frame: pd.DataFrame,
        *,
        chunk_size: int = 50_000,
        n_jobs: int | None = None,
    ) -> np.ndarray:
        """Exact TreeSHAP contributions (LightGBM ``pred_contrib``).

        Returns an ``(n, n_features + 1)`` array; the last column is the base
        value and each row sums to the raw margin. Computed in chunks so
        memory stays bounded.
        """
        x = self.matrix(frame)
        jobs = resolve_n_jobs(n_jobs, "ArrearsModel.contributions")
        out = np.empty((len(x), len(self.spec.features) + 1), dtype=np.float64)
        for part in _chunks(len(x), chunk_size):
            out[part] = self.booster.predict(
                x.iloc[part], pred_contrib=True, num_threads=jobs
            )
        return out

    # -- persistence -----------------------------------------------------------
    def save(self, path: str | Path) -> dict[str, Path]:
        """Write the bundle's files into directory ``path``."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        files = {k: root / v for k, v in ARTIFACT_FILES.items()}
        self.booster.save_model(str(files["booster"]))
        payloads = {
            "calibrator": self.calibrator.to_dict(),
            "policy": self.policy.to_dict(),
            "spec": self.spec.to_dict(),
            "reference": self.reference.to_dict(),
        }
        for key, payload in payloads.items():
            files[key].write_text(
                json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8"
            )
        return files

    @classmethod
    def from_files(
        cls, files: Mapping[str, str | Path], *, name: str = "", version: str = ""
    ) -> ArrearsModel:
        """Load from a mapping of artifact key -> file (as MLflow passes them)."""
        missing = [k for k in ARTIFACT_FILES if k not in files]
        if missing:
            raise ModelNotFoundError(
                f"Model artifacts incomplete: missing {missing}. Re-train or "
                "re-log the model."
            )
        parts = {key: _read_part(key, Path(files[key])) for key in ARTIFACT_FILES}
        model = cls(**parts, name=name, version=version)
        n_features = model.booster.num_feature()
        if n_features != len(model.spec.features):
            raise _broken(
                Path(files["booster"]),
                f"the booster has {n_features} features, spec.json lists "
                f"{len(model.spec.features)}",
            )
        return model

    @classmethod
    def load(
        cls, path: str | Path, *, name: str = "", version: str = ""
    ) -> ArrearsModel:
        """Load a bundle saved with :meth:`save` (or an MLflow model directory)."""
        root = Path(path)
        for candidate in (root, root / "artifacts"):
            if (candidate / ARTIFACT_FILES["booster"]).is_file():
                files = {k: candidate / v for k, v in ARTIFACT_FILES.items()}
                return cls.from_files(files, name=name, version=version)
        raise ModelNotFoundError(
            f"{root}: no anxin model here (expected {ARTIFACT_FILES['booster']} "
            "and its JSON files, or an MLflow model directory with artifacts/)."
        )
