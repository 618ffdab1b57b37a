"""The import rules of ARCHITECTURE.md, checked: a layer that reaches upwards fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
OURS = {"data", "etl", "recommender", "graph", "movierec"}

# package -> the other packages (or modules) of ours it may import (ARCHITECTURE.md, "The
# parts"). Only lower layers: no module of a higher layer is ever an exception.
ALLOWED = {
    "data": set(),
    # Not all of data: only its pure constants (the half-star rule), never a session.
    "recommender": {"data.domain"},
    "etl": {"data"},
    "graph": {"data", "recommender"},
    "movierec": {"data", "etl", "recommender", "graph"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(package: str, root: Path = PROJECT_ROOT) -> list[str]:
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top not in OURS or top == package:
                continue
            if not any(
                module == rule or module.startswith(f"{rule}.") for rule in ALLOWED[package]
            ):
                found.append(f"{path.relative_to(root)} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    assert violations(package) == []


def test_the_checker_reports_an_upward_import(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bad.py").write_text(
        "import numpy\nfrom data.schema import movies\nfrom graph.app import create_app\n"
    )
    assert violations("data", root=tmp_path) == ["data/bad.py imports graph.app"]


def test_no_module_of_a_higher_layer_is_an_exception(tmp_path: Path) -> None:
    (tmp_path / "etl").mkdir()
    (tmp_path / "etl" / "bad.py").write_text(
        "from data.db import open_store\nfrom movierec.settings import Settings\n"
        "import recommender.serving\n"
    )
    assert sorted(violations("etl", root=tmp_path)) == [
        "etl/bad.py imports movierec.settings",
        "etl/bad.py imports recommender.serving",
    ]


def documented_rules(text: str) -> dict[str, set[str]]:
    """The "may import" column of ARCHITECTURE.md's parts table, as package -> allowed set."""
    rules: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`") or not cells[0].endswith("/`"):
            continue
        package = cells[0].strip("`/")
        may = cells[2]
        if may.startswith("nothing"):
            rules[package] = set()
        elif may.startswith("everything"):
            rules[package] = OURS - {package}
        else:
            rules[package] = {name.strip("` ") for name in may.split(" only")[0].split(",")}
    return rules


def test_the_architecture_page_states_the_rules_the_checker_enforces() -> None:
    """The page is the map: a rule changed here and not there (or back) fails."""
    page = (PROJECT_ROOT / "ARCHITECTURE.md").read_text()
    assert documented_rules(page) == ALLOWED
