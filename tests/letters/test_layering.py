"""Letters read no database (the half of the rule import-linter cannot state: it forbids whole
external packages only, and letters need django.template)."""

import ast
from pathlib import Path

import doorstep.letters

LETTERS = Path(doorstep.letters.__file__).parent
ALLOWED_DOORSTEP = ("doorstep.letters", "doorstep.money")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_letters_import_neither_the_database_nor_another_doorstep_app():
    modules = sorted(LETTERS.rglob("*.py"))
    assert len(modules) >= 4
    for path in modules:
        for name in _imports(path):
            assert name.split(".")[:2] != ["django", "db"], (path, name)
            if name.startswith("doorstep"):
                assert name.startswith(ALLOWED_DOORSTEP), (path, name)
