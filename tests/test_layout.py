"""Size ceilings of the code, so a module or a function that grows past what a
reader can hold is split when it grows, not years later.

Import layers and cycles are checked by import-linter (`make lint`, contracts
in .importlinter); complexity by ruff (C901, PLR0915). This checks what those
do not: the length of files and of functions in app/.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80

# path relative to app/ -> why it may be longer
LONG_FILES: dict[str, str] = {}
# "path:function" -> why it may be longer (at most three)
LONG_FUNCTIONS: dict[str, str] = {}


def _python_files() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_no_module_in_app_is_over_600_lines():
    long = {
        str(p.relative_to(APP)): n
        for p in _python_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    unexplained = {path: n for path, n in long.items() if path not in LONG_FILES}
    assert not unexplained, f"split these modules (lines): {unexplained}"


def test_no_function_in_app_is_over_80_lines():
    long: dict[str, int] = {}
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(APP)}:{node.name}"] = n
    unexplained = {name: n for name, n in long.items() if name not in LONG_FUNCTIONS}
    assert not unexplained, f"split these functions (lines): {unexplained}"
    assert len(LONG_FUNCTIONS) <= 3


def test_the_exceptions_are_still_needed():
    """An exception whose file or function has since shrunk is removed from the list."""
    for path in LONG_FILES:
        lines = len((APP / path).read_text(encoding="utf-8").splitlines())
        assert lines > MAX_FILE_LINES, f"{path} fits now: drop it from LONG_FILES"
    for name in LONG_FUNCTIONS:
        path, _, function = name.partition(":")
        tree = ast.parse((APP / path).read_text(encoding="utf-8"))
        sizes = [
            (node.end_lineno or node.lineno) - node.lineno + 1
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
        ]
        assert sizes and max(sizes) > MAX_FUNCTION_LINES, f"{name} fits now: drop it"
