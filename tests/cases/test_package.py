"""The shape of anxin.cases: public names, no import cycles, small modules."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import anxin
import anxin.cases

PACKAGE = Path(anxin.cases.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))

#: ``anxin.cases.__all__`` when the chain was one module: still importable.
PUBLIC = [
    "DEFAULT_DEADLINES",
    "DEFAULT_ROUTING_RULES",
    "HOUSING_UNIT",
    "LABOUR_INSPECTION_UNIT",
    "STAGES",
    "STAGE_OF_STATE",
    "STATES",
    "TRANSITIONS",
    "Case",
    "CaseStore",
    "Deadline",
    "FieldStats",
    "OpenResult",
    "Routing",
    "RoutingRule",
    "add_working_days",
    "log_field_performance",
    "merge_outcomes",
    "read_history",
]


def _module_name(path: Path) -> str:
    return "anxin.cases" if path.stem == "__init__" else f"anxin.cases.{path.stem}"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (anywhere, even in functions),
    leaving out ``if TYPE_CHECKING:`` blocks; ``from pkg import mod`` counts
    as importing ``pkg.mod`` when that is a module."""
    found: set[str] = set()
    known = {_module_name(p) for p in MODULES}

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text("utf-8")))
    return found


#: Public names added since.
ADDED = ["IntegrityReport"]


def test_public_names_are_the_ones_of_the_single_module() -> None:
    assert [n for n in anxin.cases.__all__ if n not in ADDED] == PUBLIC
    assert set(ADDED) <= set(anxin.cases.__all__)
    for name in PUBLIC:
        assert getattr(anxin.cases, name) is not None
    assert anxin.CaseStore is anxin.cases.CaseStore
    assert anxin.merge_outcomes is anxin.cases.merge_outcomes
    assert anxin.log_field_performance is anxin.cases.log_field_performance


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> modules it imports), if any."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for dep in graph.get(name, []):
            cycle = visit(dep, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    for name in graph:
        cycle = visit(name, [])
        if cycle:
            return cycle
    return None


def test_no_import_cycles_inside_the_package() -> None:
    names = {_module_name(p): p for p in MODULES}
    graph = {
        name: sorted(m for m in runtime_imports(path) if m in names and m != name)
        for name, path in names.items()
    }
    assert len(graph) >= 15
    # __init__ re-exports: it may import every module, none may import it
    for name, deps in graph.items():
        assert "anxin.cases" not in deps, f"{name} imports the package __init__"
    assert find_cycle(graph) is None


def test_the_cycle_check_sees_a_cycle(tmp_path: Path) -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == [
        "a",
        "b",
        "c",
        "a",
    ]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a", "b"]}) is None


def test_runtime_imports_skip_type_checking_only(tmp_path: Path) -> None:
    one = tmp_path / "one.py"
    one.write_text(
        "from typing import TYPE_CHECKING\n"
        "from anxin.cases import states\n"
        "if TYPE_CHECKING:\n    from anxin.cases import store\n"
        "def f():\n    from anxin.cases.records import Case\n",
        "utf-8",
    )
    assert runtime_imports(one) == {
        "typing",
        "anxin.cases.states",
        "anxin.cases.records",
    }


def test_cases_cli_does_not_import_the_main_cli() -> None:
    for path in MODULES:
        assert "anxin.cli" not in runtime_imports(path), path.name
    code = "import sys, anxin.cases.cli; assert 'anxin.cli' not in sys.modules"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_modules_and_functions_stay_small(path: Path) -> None:
    source = path.read_text("utf-8")
    assert len(source.splitlines()) <= 600
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            assert lines <= 80, f"{path.name}: {node.name} has {lines} lines"


def test_whoever_acts_is_by() -> None:
    store = anxin.cases.CaseStore
    for method in (store.open_from_scores, store.move, store.overdue):
        parameters = inspect.signature(method).parameters
        assert "by" in parameters, method.__name__
        assert parameters["by"].kind is inspect.Parameter.KEYWORD_ONLY
        assert "actor" not in parameters, method.__name__
