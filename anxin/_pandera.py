"""pandera, imported without its side effects on a machine that has PySpark.

When PySpark is installed (``anxin[spark]``), ``import pandera`` tries
``import pyspark.pandas`` -- which fails under pandas 3 (``cannot import name
'DateOffset'``) after printing PySpark's "does not yet fully support pandas
>= 3.0.0" ``FutureWarning`` -- and sets ``SPARK_LOCAL_IP=127.0.0.1`` and
``PYARROW_IGNORE_TIMEZONE=1`` in the process's environment. The warning would
reach every ``anxin validate`` user, and ``SPARK_LOCAL_IP=127.0.0.1`` would
make a Spark driver started later from the same process listen on loopback
only, out of its executors' reach on a cluster. anxin imports pandera only
through this module, which silences that one warning and puts the
environment back as it was. pandera's later, cached lookup of PySpark's
pandas types (when a schema is first built) is made here too, under the same
filter.
"""

from __future__ import annotations

import os
import warnings

_KEYS = ("SPARK_LOCAL_IP", "PYARROW_IGNORE_TIMEZONE")
_BEFORE = {k: os.environ.get(k) for k in _KEYS}
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message="PySpark does not yet fully support pandas",
        category=FutureWarning,
    )
    import pandera.pandas as pandera
    from pandera import errors, extensions
    from pandera.typing import Series, get_index_types, get_series_types

    # pandera looks for pyspark.pandas again when a schema is first built
    # (both lookups are cached): look now, under the same filter
    get_index_types()
    get_series_types()
for _key, _value in _BEFORE.items():
    if _value is None:
        os.environ.pop(_key, None)
    else:
        os.environ[_key] = _value

__all__ = ["Series", "errors", "extensions", "pandera"]
