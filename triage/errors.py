"""Errors raised by triage, one class per boundary.

    TriageError                 base: a message for the reader and a hint that fixes it
    ├── ConfigError             settings, config file, constitution, prompt templates
    ├── SourceError             library files, arXiv, DOIs, downloads
    │   ├── AmbiguousKeyError   a citekey matched several candidates; the reader picks
    │   ├── NetworkDown         no connection at all: the rest of the run uses cached papers only
    │   └── OfflineMiss         offline, and nothing cached serves the paper
    ├── PdfError                not a PDF, corrupt, encrypted, over the limits
    ├── CriticError             the LLM endpoint failed or answered nonsense
    │   ├── BudgetExceeded      the per-run cost cap was reached
    │   └── NotJudged           nothing to judge, or no usable judgement: said so, never a 0.0
    ├── StoreError              SQLite state or the Chroma index
    │   └── StateUnavailable    the disk or the database is full, read-only, locked or damaged (triage.faults)
    └── NoteError               reading notes: missing, unreadable
        └── NoteConflictError   the note changed on disk under us and could not be re-applied

Errors are turned into exit codes, notifications and JSON responses only at the
edges (CLI, TUI, API); the core raises and never prints.  Each class carries the
CLI exit code documented in the README: 1 for the reader's input, 3 for an
external service that failed.
"""

from __future__ import annotations

__all__ = [
    "TriageError",
    "ConfigError",
    "SourceError",
    "AmbiguousKeyError",
    "NetworkDown",
    "OfflineMiss",
    "PdfError",
    "CriticError",
    "BudgetExceeded",
    "NotJudged",
    "StoreError",
    "StateUnavailable",
    "NoteError",
    "NoteConflictError",
    "EXIT_OK",
    "EXIT_USER",
    "EXIT_USAGE",
    "EXIT_SERVICE",
]

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3


class TriageError(Exception):
    """Base class: ``message`` says what went wrong, ``hint`` how to fix it."""

    exit_code = EXIT_USER

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(TriageError):
    """Settings, config file, constitution or prompt template is invalid."""


class SourceError(TriageError):
    """A paper could not be resolved or downloaded."""

    def __init__(self, message: str, hint: str = "", *, external: bool = False) -> None:
        super().__init__(message, hint)
        if external:
            self.exit_code = EXIT_SERVICE


class AmbiguousKeyError(SourceError):
    """Several candidates match a citekey; ``candidates`` lists them for the reader."""

    def __init__(self, message: str, candidates: list, hint: str = "") -> None:
        super().__init__(message, hint)
        self.candidates = candidates


class NetworkDown(SourceError):
    """A connection could not even be made (no route, name not resolved, refused): not worth retrying.

    ``host`` and ``cause`` say where and why, without the query URL.
    """

    def __init__(self, host: str, cause: str) -> None:
        super().__init__(f"no network: cannot reach {host} ({cause})",
                         hint="check the connection; --offline uses cached papers only", external=True)
        self.host = host
        self.cause = cause


class OfflineMiss(SourceError):
    """Offline, and neither the library nor a cache serves the paper: it needs the network.

    The reader's own ``--offline`` makes it their input (exit 1); a run that
    found no network makes it the network's failure (exit 3: try again later).
    """


class PdfError(TriageError):
    """The file is not a usable PDF."""


class CriticError(TriageError):
    """The critic could not produce a verdict."""

    exit_code = EXIT_SERVICE


class BudgetExceeded(CriticError):
    """The run's cost cap would be exceeded by the next call."""

    exit_code = EXIT_USER


class NotJudged(CriticError):
    """No verdict can honestly be given: no text to judge, or an answer that judges nothing.

    Surfaces report it as "not judged: <reason>"; it is never turned into a 0.0
    verdict and never cached.  ``external`` marks a service's fault (an LLM that
    answered nothing usable: exit 3) rather than the paper's (no text: exit 1).
    """

    exit_code = EXIT_USER

    def __init__(self, message: str, hint: str = "", *, external: bool = False) -> None:
        super().__init__(message, hint)
        if external:
            self.exit_code = EXIT_SERVICE


class StoreError(TriageError):
    """The state database or the vector index failed."""


class StateUnavailable(StoreError):
    """The state, the index or the disk under them cannot be used now: full, read-only, locked or damaged.

    Unlike one paper's failure it concerns every paper, so a run stops at the
    first one and says it once.  ``cause`` is one of ``triage.faults``' causes;
    only a lock is worth retrying as is (exit 3).
    """

    def __init__(self, message: str, hint: str = "", *, cause: str = "io") -> None:
        super().__init__(message, hint)
        self.cause = cause
        if cause == "locked":
            self.exit_code = EXIT_SERVICE


class NoteError(TriageError):
    """A reading note is missing or unreadable."""


class NoteConflictError(NoteError):
    """The note changed on disk while we wrote it and the edit could not be re-applied."""
