"""The layers of docs/architecture.md, checked on the source (AST): what each room may import.

- ``hpo_engine.manifest`` imports nothing of ``hpo_engine.runner``, ``hpo_engine.optimizers`` or
  ``hpo_engine.cli``, and nothing heavy at module level (sqlite3, subprocess, rich, numpy).
- ``hpo_engine.optimizers`` imports nothing of the runner or the CLI.
- ``hpo_engine.runner`` imports nothing of the CLI.
- nothing in ``hpo_engine`` imports ``hpo_lsp``, ``pygls`` or ``lsprotocol``.
- the top of ``hpo_engine/`` holds at most four modules; no module is over 500 lines.
Imports inside functions count too (a lazy import is still a dependency), except for the
"heavy at module level" rule, which is about start-up time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hpo_engine"
EDITOR = ("hpo_lsp", "pygls", "lsprotocol")
FORBIDDEN = {
    "manifest": ("hpo_engine.runner", "hpo_engine.optimizers", "hpo_engine.cli"),
    "optimizers": ("hpo_engine.runner", "hpo_engine.cli"),
    "runner": ("hpo_engine.cli",),
}
HEAVY_AT_IMPORT = {"manifest": ("sqlite3", "subprocess", "rich", "numpy")}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def imports(tree: ast.AST, *, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, imported module) of every import; ``top_level_only``: not inside functions or TYPE_CHECKING."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = True
            if isinstance(child, ast.Import) and not (top_level_only and nested):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and not (top_level_only and nested):
                assert child.level == 0, f"relative import at line {child.lineno}: the layers use absolute imports"
                found.append((child.lineno, child.module or ""))
            visit(child, inner)

    visit(tree, False)
    return found


def room(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_what_its_layer_may(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"line {line}: {name}" for line, name in imports(tree) if within(name, EDITOR + FORBIDDEN.get(room(path), ()))]
    heavy = HEAVY_AT_IMPORT.get(room(path), ())
    bad += [f"line {line}: {name} at import" for line, name in imports(tree, top_level_only=True) if within(name, heavy)]
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports across its layer: {bad}"


def test_the_package_top_holds_at_most_four_modules() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 4 and {"__init__.py", "errors.py"} <= set(top), top


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_500_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def test_the_checker_sees_a_forbidden_import() -> None:
    """The rules can fail: a function-level import of the runner from the manifest core is found."""
    tree = ast.parse("def f():\n    from hpo_engine.runner.store import ResultStore\n")
    assert [name for _, name in imports(tree)] == ["hpo_engine.runner.store"]
    assert imports(tree, top_level_only=True) == []
