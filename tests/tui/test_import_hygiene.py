"""The TUI reaches SSH, SQLite and onnxruntime only through edgetui.service."""

import ast
from pathlib import Path

import edgetui.tui

FORBIDDEN = {"asyncssh", "sqlite_utils", "onnxruntime", "sqlite3"}
"""Top-level packages that no module under edgetui/tui may import."""


def imported_roots(path: Path) -> set[str]:
    """Return the top-level package of every import statement in the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_tui_modules_found():
    modules = list(Path(edgetui.tui.__file__).parent.rglob("*.py"))
    assert len(modules) >= 10


def test_tui_imports_no_io_libraries():
    tui_root = Path(edgetui.tui.__file__).parent
    offenders = {
        str(path.relative_to(tui_root)): sorted(imported_roots(path) & FORBIDDEN)
        for path in tui_root.rglob("*.py")
    }
    offenders = {path: names for path, names in offenders.items() if names}
    assert offenders == {}


def test_checker_sees_forbidden_import(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text("import asyncssh.connection\nfrom sqlite_utils import Database\n")
    assert imported_roots(sample) & FORBIDDEN == {"asyncssh", "sqlite_utils"}
