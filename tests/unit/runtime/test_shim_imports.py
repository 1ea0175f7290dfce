"""The shim runs inside functions: it may import the standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import portico.runtime.shim

SHIM = Path(portico.runtime.shim.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def test_shim_imports_only_the_standard_library() -> None:
    files = sorted(SHIM.glob("*.py"))
    assert files
    for path in files:
        outside = imported_modules(path) - set(sys.stdlib_module_names) - {"__future__"}
        assert not outside, f"{path.name} imports {outside}"
