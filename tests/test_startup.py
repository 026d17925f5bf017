"""A command line that starts at once: heavy libraries load only where used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("lightgbm", "sklearn", "mlflow", "pandera", "matplotlib", "scipy")


def _loaded_after(code: str) -> set[str]:
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_anxin_loads_no_modelling_stack() -> None:
    assert _loaded_after("import anxin") == set()


def test_a_public_name_loads_its_module_on_first_use() -> None:
    assert "lightgbm" in _loaded_after("import anxin; anxin.train")
    # the tables need the contract's names, not the model
    assert _loaded_after("import anxin; anxin.Tables") <= {"pandera"}


def test_help_loads_no_heavy_library() -> None:
    code = (
        "import sys\nsys.argv = ['anxin', '--help']\n"
        "from anxin.cli import main\nmain(['--help'])"
    )
    assert _loaded_after(code) == set()


def test_the_case_commands_do_without_the_modelling_stack(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    code = (
        "from anxin.cli import main\n"
        f"assert main(['cases', 'list', '--db', '{url}']) == 0"
    )
    loaded = _loaded_after(code)
    assert not loaded & {"lightgbm", "sklearn", "mlflow", "matplotlib", "scipy"}
