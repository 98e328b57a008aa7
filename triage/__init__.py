"""triage: LLM-assisted paper triage for researchers.

Skim papers by their abstract and conclusion, judge them against your own
written principles, and keep the decisions in your reading notes.

The public names below are loaded on first use (PEP 562), so importing the
package — which every ``triage`` command does first — costs nothing, and a
ctrl-c during start-up lands in ``triage.__main__``, which says so in one line.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.errors import (
        AmbiguousKeyError,
        BudgetExceeded,
        ConfigError,
        CriticError,
        NoteConflictError,
        NoteError,
        PdfError,
        SourceError,
        StateUnavailable,
        StoreError,
        TriageError,
    )
    from triage.models import Decision, Paper, PrincipleScore, Quote, Sections, Status, Transition, Verdict

__version__ = "0.1.0"

__all__ = [
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

_HOME = {"Settings": "triage.config"}
_HOME.update(dict.fromkeys(("Paper", "Sections", "Verdict", "PrincipleScore", "Quote", "Decision", "Status", "Transition"),
                           "triage.models"))
_HOME.update(dict.fromkeys(("TriageError", "ConfigError", "SourceError", "AmbiguousKeyError", "PdfError", "CriticError",
                            "BudgetExceeded", "StoreError", "StateUnavailable", "NoteError", "NoteConflictError"),
                           "triage.errors"))


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'triage' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
