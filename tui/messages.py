"""Messages workers post to the UI thread (``post_message`` is thread-safe).

Workers never touch widgets: they post one of these and the screen's handlers,
which run on the event loop, update the log, the detail pane and the progress
tray.  That keeps every widget mutation in one thread and every slow call out of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from triage.errors import TriageError
    from triage.notes import Note
    from tui.views import LogRow, Page, PaperView

__all__ = ["LogLoaded", "Ambiguous", "DetailLoaded", "PaperChanged", "TaskStarted", "TaskProgress", "TaskFinished", "Failed"]


class LogLoaded(Message):
    """A page of the reading log (offset 0 replaces the rows), the note and the counts per status."""

    def __init__(self, page: Page, *, note: Note | None = None, counts: dict[str, int] | None = None,
                 keep: str | None = None) -> None:
        super().__init__()
        self.page = page
        self.note = note
        self.counts = counts or {}
        self.keep = keep


class Ambiguous(Message):
    """A citekey arXiv answers with several papers: the reader picks one."""

    def __init__(self, key: str, candidates: list) -> None:
        super().__init__()
        self.key = key
        self.candidates = candidates


class DetailLoaded(Message):
    """The detail of one paper, ready to render."""

    def __init__(self, view: PaperView) -> None:
        super().__init__()
        self.view = view


class PaperChanged(Message):
    """A paper's status or verdict changed.

    ``row`` is its fresh log row; ``reload`` re-reads the log; ``focus`` moves the
    cursor to it (the reader is waiting for it); ``note`` is said as a notification.
    """

    def __init__(self, key: str, row: LogRow | None = None, *, reload: bool = False, note: str = "",
                 focus: bool = False) -> None:
        super().__init__()
        self.key = key
        self.row = row
        self.reload = reload
        self.note = note
        self.focus = focus


class TaskStarted(Message):
    """Background work on one paper (or the whole note) began."""

    def __init__(self, task: str, label: str) -> None:
        super().__init__()
        self.task = task
        self.label = label


class TaskProgress(Message):
    """``done`` of ``total`` steps of a task."""

    def __init__(self, task: str, label: str, done: int, total: int) -> None:
        super().__init__()
        self.task = task
        self.label = label
        self.done = done
        self.total = total


class TaskFinished(Message):
    """The task ended, well or not (its outcome comes as a separate message)."""

    def __init__(self, task: str) -> None:
        super().__init__()
        self.task = task


class Failed(Message):
    """A ``TriageError`` that the reader should see as an error notification."""

    def __init__(self, title: str, error: TriageError | str) -> None:
        super().__init__()
        self.title = title
        self.error = error
