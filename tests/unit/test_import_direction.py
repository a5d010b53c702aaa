"""The domain package stays free of the Dagster layer: no module of `pipeline/` imports
`dagster` or `assets`, so every step runs, and is tested, without Dagster."""

from __future__ import annotations

import ast
from pathlib import Path

from pipeline.settings import PROJECT_ROOT

FORBIDDEN = ("dagster", "assets")


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_pipeline_module_imports_dagster_or_assets() -> None:
    modules = sorted((PROJECT_ROOT / "pipeline").rglob("*.py"))
    assert len(modules) > 20
    offending = {
        str(path.relative_to(PROJECT_ROOT)): sorted(
            name for name in _imported(path) if name.split(".")[0] in FORBIDDEN
        )
        for path in modules
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_check_sees_an_import_written_either_way(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import dagster.core\nfrom assets.tables import asset_key\n")
    assert {name.split(".")[0] for name in _imported(sample)} == {"dagster", "assets"}
