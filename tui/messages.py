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
    from triage.models import PaperView
    from triage.notes import Note
    from triage.tui.views import LogRow, Window

__all__ = ["LogLoaded", "RowsLoaded", "NoteMoved", "Ambiguous", "DetailLoaded", "PaperChanged", "TaskStarted",
           "TaskProgress", "TaskFinished", "Failed"]


class LogLoaded(Message):
    """The log from scratch: its size and the rows around the cursor, the note and the counts per status.

    ``paged`` is True for the library (the log asks for more pages as it scrolls).
    """

    def __init__(self, window: Window, *, paged: bool, note: Note | None = None,
                 counts: dict[str, int] | None = None) -> None:
        super().__init__()
        self.window = window
        self.paged = paged
        self.note = note
        self.counts = counts or {}


class RowsLoaded(Message):
    """One page of the library, for the log's ``generation``."""

    def __init__(self, generation: int, page: int, rows: list[LogRow]) -> None:
        super().__init__()
        self.generation = generation
        self.page = page
        self.rows = rows


class NoteMoved(Message):
    """The open note is no longer where it was (moved, deleted, unreadable)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


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
