"""What the screens show, built from ``triage.service`` in worker threads.

The widgets never query the state themselves: a worker calls these functions
(blocking SQLite, note and PDF reads) and hands the plain records to the UI
thread.  The reading log is either the open note's session — its log entries in
order, then the papers it mentions but has not skimmed yet — or the whole
library in the state, a page at a time, so 5,000 papers cost one page of
queries at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import TriageError
from triage.models import Paper, Sections, Status, Transition, Verdict

if TYPE_CHECKING:
    from triage.notes import Note
    from triage.service import Triage

__all__ = ["LogRow", "PaperView", "Page", "log_row", "session_rows", "library_page", "paper_view", "read_session", "PAGE_SIZE"]

#: Rows fetched per page in library mode; the log asks for the next page near its end.
PAGE_SIZE = 100


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


@dataclass(frozen=True)
class Page:
    """Rows for the log and whether more can be fetched after them."""

    rows: list[LogRow]
    offset: int = 0
    more: bool = False


@dataclass
class PaperView:
    """Everything the detail pane shows for one paper."""

    key: str
    status: str
    paper: Paper | None = None
    verdict: Verdict | None = None
    sections: Sections | None = None
    history: list[Transition] = field(default_factory=list)
    verdicts: int = 0
    note_status: str = ""
    problem: str = ""


def log_row(core: Triage, key: str, fallback_status: str = Status.QUEUED.value) -> LogRow:
    """The log row of one paper; ``fallback_status`` when the state does not know it (the note's word)."""
    record = core.state.get(key)
    verdict = core.state.latest_verdict(key) if record else None
    top = verdict.top_principles(1) if verdict else []
    return LogRow(
        key=key,
        status=record.status.value if record else fallback_status,
        title=record.paper.title if record else "",
        score=verdict.score if verdict else None,
        decision=verdict.decision.value if verdict else "",
        top=top[0].id if top else "",
        in_state=record is not None,
    )


def read_session(note_path: Path) -> Note:
    """The note, parsed (read-only: every write goes through the service)."""
    from triage.notes import read_note

    return read_note(note_path)


def session_rows(core: Triage, note: Note, status: str | None = None) -> Page:
    """The session's papers: log entries in order (latest status wins), then unskimmed mentions."""
    latest: dict[str, str] = {}
    for entry in note.entries:
        latest[entry.key.lstrip("@")] = entry.status
    rows = [log_row(core, key, note_status) for key, note_status in latest.items()]
    for mention in note.mentions:
        key = mention.key.lstrip("@")
        if key not in latest:
            latest[key] = Status.QUEUED.value
            rows.append(log_row(core, key, Status.QUEUED.value))
    if status:
        rows = [r for r in rows if r.status == status]
    return Page(rows=rows)


def library_page(core: Triage, status: str | None = None, *, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
    """One page of every paper in the state, most recently changed first."""
    records = core.state.papers(Status(status) if status else None, limit=limit + 1, offset=offset)
    rows = []
    for record in records[:limit]:
        verdict = core.state.latest_verdict(record.key)
        top = verdict.top_principles(1) if verdict else []
        rows.append(
            LogRow(
                key=record.key,
                status=record.status.value,
                title=record.paper.title,
                score=verdict.score if verdict else None,
                decision=verdict.decision.value if verdict else "",
                top=top[0].id if top else "",
            )
        )
    return Page(rows=rows, offset=offset, more=len(records) > limit)


def paper_view(core: Triage, key: str, note_status: str = "") -> PaperView:
    """The paper, its latest verdict, its sections (from the extraction cache) and its history."""
    record = core.state.get(key)
    if record is None:
        return PaperView(key=key, status=note_status or Status.QUEUED.value, note_status=note_status,
                         problem="not triaged yet: press a to add it")
    view = PaperView(
        key=key,
        status=record.status.value,
        paper=record.paper,
        verdict=core.state.latest_verdict(key),
        history=core.history(key),
        verdicts=len(core.state.verdicts(key)),
        note_status=note_status,
    )
    pdf = record.paper.pdf_path
    if pdf is not None and Path(pdf).is_file():
        try:
            view.sections = core.extract(Path(pdf))
        except TriageError as exc:
            view.problem = f"cannot read the PDF: {exc}"
    elif pdf is not None:
        view.problem = f"the PDF is gone: {pdf}"
    return view
