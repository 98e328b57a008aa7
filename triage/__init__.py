"""triage: LLM-assisted paper triage for researchers.

Skim papers by their abstract and conclusion, judge them against your own
written principles, and keep the decisions in your reading notes.
"""

from __future__ import annotations

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
    "NoteError",
    "NoteConflictError",
]
