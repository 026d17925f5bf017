"""Docs say what the code does: generated parts match, the Quickstart holds."""

from __future__ import annotations

import re
from pathlib import Path

import anxin
from anxin._docs import api_markdown, features_markdown, reference_pages
from anxin.schemas import contract_markdown

ROOT = Path(__file__).parents[1]


def test_data_contract_doc_matches_the_models() -> None:
    assert (ROOT / "docs" / "data-contract.md").read_text("utf-8") == (
        contract_markdown()
    ), "docs/data-contract.md is stale: run `make docs`"


def test_features_doc_matches_the_catalogue() -> None:
    assert (ROOT / "docs" / "features.md").read_text("utf-8") == features_markdown(), (
        "docs/features.md is stale: run `make docs`"
    )


def test_api_doc_lists_the_public_api() -> None:
    assert (ROOT / "docs" / "api.md").read_text("utf-8") == api_markdown(), (
        "docs/api.md is stale: run `make docs`"
    )
    for name in anxin.__all__:
        if name != "__version__":
            assert f"`anxin.{name}`" in api_markdown()


def test_every_public_name_has_a_reference_page() -> None:
    pages = reference_pages()
    for name in anxin.__all__:
        if name == "__version__":
            continue
        page = ROOT / "docs" / "reference" / f"{name}.md"
        assert page.is_file(), f"{page} is missing: run `make docs`"
        assert page.read_text("utf-8") == pages[f"reference/{name}.md"]
    on_disk = {p.name for p in (ROOT / "docs" / "reference").glob("*.md")}
    assert on_disk == {k.split("/")[1] for k in pages}, "stale pages: make docs"


def test_quickstart_has_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", section, re.S)
    commands = [
        line.strip()
        for b in blocks
        for line in b.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert re.search(r"^make test$", ci, re.M)
    assert "ANXIN_TEST_POSTGRES_URL" in ci and "ANXIN_REQUIRE_POSTGRES=1" in ci


def test_docs_exist_for_each_concept() -> None:
    for name in (
        "data-contract",
        "synthetic-data",
        "features",
        "concepts",
        "cli",
        "workflow",
        "operations",
        "serving",
        "training",
    ):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name


def test_every_public_name_has_a_docstring() -> None:
    import inspect

    missing = [
        name
        for name in anxin.__all__
        if name not in ("__version__", "CATALOGUE")
        and not (inspect.getdoc(getattr(anxin, name)) or "").strip()
    ]
    assert not missing, f"public names without a docstring: {missing}"


LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def test_every_local_link_exists() -> None:
    """README and docs link only to files inside the repository."""
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in LINK.findall(doc.read_text("utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = (doc.parent / target).resolve()
            inside = ROOT.resolve() in path.parents or path == ROOT.resolve()
            if not inside or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not broken, broken
