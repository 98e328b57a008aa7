"""What the screens show, built from ``triage.service`` in worker threads.

The widgets never query the state themselves: a worker calls these functions
(blocking SQLite and note reads) and hands the plain records to the UI thread.
The reading log is either the open note's session — its log entries in order,
then the papers it mentions but has not skimmed yet — or the whole library in
the state.  The library is read a page at a time wherever the reader is in it:
each page continues from the row next to it (keyset), so the 50,000th row costs
what the first does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from triage.models import PaperView, Status

if TYPE_CHECKING:
    from triage.notes import Note
    from triage.service import Triage

__all__ = ["LogRow", "Window", "Anchor", "log_row", "session_rows", "library_window", "library_rows",
           "paper_view", "read_session", "matches", "PAGE_SIZE"]

#: Rows per page of the library; the log asks for the pages it shows and their neighbours.
PAGE_SIZE = 100

Anchor = tuple[str, object]
"""Where a page starts: ``("after", cursor)``, ``("before", cursor)`` or ``("offset", n)``."""


@dataclass(frozen=True)
class LogRow:
    """One paper in the reading log."""

    key: str
    status: str
    title: str = ""
    score: float | None = None
    decision: str = ""
    top: str = ""
    in_state: bool = True
    at: str = ""  # when its status or metadata last changed: with the key, where pages continue from
    authors: str = ""  # what the session's filter also looks at (the library's filter is SQL)

    @property
    def cursor(self) -> tuple[str, str]:
        """The keyset position of the row."""
        return (self.at, self.key)


@dataclass(frozen=True)
class Window:
    """What the log shows after a (re)load: how many rows, and the loaded pages around the cursor."""

    total: int
    pages: dict[int, list[LogRow]] = field(default_factory=dict)
    cursor: int = 0


def _row(view: PaperView) -> LogRow:
    return LogRow(key=view.key, status=view.status.value, title=view.title, score=view.score, decision=view.decision,
                  top=view.top, at=view.updated_at.isoformat() if view.updated_at else "", authors="; ".join(view.authors))


def log_row(core: Triage, key: str, fallback_status: str = Status.QUEUED.value) -> LogRow:
    """The log row of one paper; ``fallback_status`` when the state does not know it (the note's word)."""
    view = core.paper(key, brief=True)
    return _row(view) if view is not None else LogRow(key=key, status=fallback_status, in_state=False)


def read_session(core: Triage, note_path: Path) -> Note:
    """The note, parsed, its reader-written entries taken into the state as the reader's decisions."""
    return core.read_note(note_path)


def matches(row: LogRow, text: str) -> bool:
    """True when every word of ``text`` is in the row's key, title or authors (as the library's filter)."""
    haystack = f"{row.key} {row.title} {row.authors}".casefold()
    return all(word.casefold() in haystack for word in text.split())


def session_rows(core: Triage, note: Note, status: str | None = None, text: str = "") -> list[LogRow]:
    """The session's papers: log entries in order (latest status wins), then unskimmed mentions."""
    latest: dict[str, str] = {}
    for entry in note.entries:
        latest[entry.key.lstrip("@")] = entry.status
    for mention in note.mentions:
        latest.setdefault(mention.key.lstrip("@"), Status.QUEUED.value)
    rows = [log_row(core, key, note_status) for key, note_status in latest.items()]
    return [r for r in rows if (not status or r.status == status) and matches(r, text)]


def library_rows(core: Triage, status: str | None, text: str, anchor: Anchor, limit: int = PAGE_SIZE) -> list[LogRow]:
    """One page of the library from ``anchor``."""
    kind, where = anchor
    wanted = Status(status) if status else None
    if kind == "after":
        views = core.papers(wanted, text, after=where, limit=limit)  # type: ignore[arg-type]
    elif kind == "before":
        views = core.papers(wanted, text, before=where, limit=limit)  # type: ignore[arg-type]
    else:
        views = core.papers(wanted, text, offset=int(where), limit=limit)  # type: ignore[call-overload]
    return [_row(view) for view in views]


def library_window(core: Triage, status: str | None = None, text: str = "", keep: str | None = None) -> Window:
    """The library's row count and the page holding ``keep`` (the cursor's paper), else the first page."""
    wanted = Status(status) if status else None
    total = core.log_count(wanted, text)
    cursor = (core.log_position(keep, wanted, text) if keep else None) or 0
    page = cursor // PAGE_SIZE
    rows = library_rows(core, status, text, ("offset", page * PAGE_SIZE)) if total else []
    return Window(total=total, pages={page: rows} if rows else {}, cursor=min(cursor, max(total - 1, 0)))


def paper_view(core: Triage, key: str, note_status: str = "") -> PaperView:
    """The paper's detail (``Triage.paper``); a paper only the note names shows the note's word for it.

    Never opens the PDF: a paper extracted before summaries were kept says so in
    ``pdf_to_extract`` and the screen extracts it in the background.
    """
    from triage.entries import ENTRY_STATUS

    view = core.paper(key)
    if view is None:
        return PaperView(key=key, status=ENTRY_STATUS.get(note_status.casefold(), Status.QUEUED),
                         problem="not triaged yet: press a to add it")
    return view
