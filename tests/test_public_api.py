"""What ``import triage`` offers, pinned; and what the quick commands cost: no heavy library imported.

Adding or removing a public name is a decision: this test makes it a visible one.  Start-up is checked by what
gets imported, not by a stopwatch (a loaded machine makes any time bound flaky); ``make bench`` times it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import triage

PUBLIC = [
    "__version__",
    "Settings",
    "Paper",
    "Sections",
    "Verdict",
    "PrincipleScore",
    "Quote",
    "Decision",
    "Status",
    "Transition",
    "TriageError",
    "ConfigError",
    "SourceError",
    "AmbiguousKeyError",
    "PdfError",
    "CriticError",
    "BudgetExceeded",
    "StoreError",
    "StateUnavailable",
    "NoteError",
    "NoteConflictError",
]
HEAVY = ("chromadb", "torch", "langchain", "langchain_openai", "sentence_transformers", "openai", "pymupdf", "fitz",
         "textual", "fastapi", "uvicorn", "numpy", "scipy")


def test_the_public_names_are_pinned() -> None:
    assert triage.__all__ == PUBLIC
    assert all(getattr(triage, name, None) is not None for name in PUBLIC)
    assert issubclass(triage.ConfigError, triage.TriageError) and triage.__version__.count(".") == 2


def _imported_by(argv: list[str]) -> tuple[int, list[str]]:
    """Run the CLI with ``argv`` in a fresh interpreter; its exit code and the heavy modules it imported."""
    script = (
        "import json, sys\n"
        f"sys.argv = ['triage', *{argv!r}]\n"
        "from triage.cli import main\n"
        "code = 0\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code or 0\n"
        f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    code, heavy = json.loads(done.stderr.strip().splitlines()[-1])
    return code, heavy


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["search", "--help"], ["tui", "--help"]])
def test_quick_commands_import_nothing_heavy(argv: list[str]) -> None:
    assert _imported_by(argv) == (0, [])


@pytest.mark.parametrize("argv", [["extract", "/nowhere/paper.pdf"], ["score", "/nowhere/paper.pdf"],
                                  ["similar", "/nowhere/paper.pdf"], ["run", "/nowhere/note.md"]])
def test_a_missing_file_is_answered_before_any_heavy_import(argv: list[str], triage_home) -> None:
    assert _imported_by(argv) == (1, [])
