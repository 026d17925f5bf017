"""The model on the executors: its files shipped once, loaded once per worker.

The bundle's plain files (LightGBM text and JSON) are copied under a name
that is their content hash and registered with ``SparkContext.addFile``;
each executor fetches them once, and each Python worker loads them once
(:func:`load`), so nothing is pickled and a task ships only the name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import tempfile
from pathlib import Path

from pyspark import SparkFiles
from pyspark.sql import SparkSession

from anxin.model import ARTIFACT_FILES, ArrearsModel

__all__ = ["ModelFiles", "ship"]

#: SparkFiles name -> the model loaded in this Python worker.
_LOADED: dict[str, ArrearsModel] = {}
#: (SparkContext id, name) of the bundles already registered.
_SHIPPED: set[tuple[int, str]] = set()


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    """A shipped bundle: what a task needs to find and load it."""

    name: str  # the directory's name among SparkFiles
    model_name: str
    version: str

    def load(self) -> ArrearsModel:
        """The model, loaded once per Python worker from the shipped files."""
        model = _LOADED.get(self.name)
        if model is None:
            model = ArrearsModel.load(
                SparkFiles.get(self.name), name=self.model_name, version=self.version
            )
            _LOADED[self.name] = model
        return model


def ship(spark: SparkSession, model: ArrearsModel) -> ModelFiles:
    """Register the model's files with Spark (once per session and content)."""
    staging = Path(tempfile.mkdtemp(prefix="anxin-bundle-"))
    model.save(staging)
    digest = hashlib.sha256()
    for key in sorted(ARTIFACT_FILES):
        digest.update((staging / ARTIFACT_FILES[key]).read_bytes())
    name = f"anxin-model-{digest.hexdigest()[:16]}"
    target = staging.parent / name
    sc = spark.sparkContext
    if (id(sc), name) not in _SHIPPED:
        if not target.exists():
            staging.rename(target)
        sc.addFile(str(target), recursive=True)
        _SHIPPED.add((id(sc), name))
    shutil.rmtree(staging, ignore_errors=True)
    return ModelFiles(name, model.name, str(model.version))
