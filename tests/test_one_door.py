"""The one-door rule (docs/ARCHITECTURE.md), checked on the source: surfaces reach the core through ``Triage`` only."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

# ``triage/__main__.py`` is the console script's door into the CLI: a surface too.
SURFACES = [REPO / "triage" / "cli.py", REPO / "triage" / "api.py", REPO / "triage" / "__main__.py",
            *sorted((REPO / "triage" / "digest").glob("*.py")), *sorted((REPO / "tui").rglob("*.py"))]
SURFACE_MODULES = ("triage.tui", "triage.cli", "triage.api", "triage.digest", "triage.__main__")
#: The service's internals: what a surface reaching past the door would name.
INTERNALS = {"state", "_state", "index", "_index", "_state_db", "_index_db"}


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def _is_core(owner: ast.expr) -> bool:
    return isinstance(owner, ast.Name) and owner.id == "core" or \
        isinstance(owner, ast.Attribute) and owner.attr == "core"


def test_no_surface_reaches_the_state_or_the_index() -> None:
    found = []
    for path in SURFACES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # The service is ``core`` on every surface (``core``, ``self.core``, ``app.state.core``…);
            # FastAPI's ``app.state`` and Textual's ``event.state`` are not it.
            if isinstance(node, ast.Attribute) and node.attr in INTERNALS and _is_core(node.value):
                found.append(f"{_relative(path)}:{node.lineno} core.{node.attr}")
    assert found == []


def test_no_core_module_imports_a_surface() -> None:
    core = [p for p in sorted((REPO / "triage").rglob("*.py")) if p not in SURFACES]
    assert len(core) > 30
    found = []
    for path in core:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{_relative(path)}:{node.lineno} {n}" for n in names
                      if any(n == s or n.startswith(s + ".") for s in SURFACE_MODULES)]
    assert found == []
