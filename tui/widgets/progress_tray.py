"""One line per paper being worked on in the background, with its own progress bar."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

__all__ = ["ProgressTray", "TaskLine"]


class TaskLine(Horizontal):
    """``@key  triaging…  [bar]``; indeterminate until a total is known."""

    DEFAULT_CSS = """
    TaskLine {
        height: 1;
    }
    TaskLine > Label {
        width: 1fr;
        padding: 0 1;
    }
    TaskLine > ProgressBar {
        width: 40;
    }
    """

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.pending: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.label)
        bar = ProgressBar(total=None, show_eta=False)
        if self.pending:
            bar.update(progress=self.pending[0], total=self.pending[1])
        yield bar


class ProgressTray(Vertical):
    """Shown only while something runs; a line per paper, removed when it finishes."""

    DEFAULT_CSS = """
    ProgressTray {
        height: auto;
        max-height: 8;
        display: none;
        background: $boost;
        border-top: solid $primary 30%;
    }
    ProgressTray.-busy {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: dict[str, TaskLine] = {}

    def start(self, task: str, label: str) -> None:
        """Add a line for ``task`` (or relabel the one already there)."""
        line = self._lines.get(task)
        if line is not None:
            line.label = label
            if line.is_mounted:
                line.query_one(Label).update(label)
            return
        line = self._lines[task] = TaskLine(label)
        self.mount(line)
        self.add_class("-busy")

    def advance(self, task: str, label: str, done: int, total: int) -> None:
        """Update a line with a known amount of work."""
        if task not in self._lines:
            self.start(task, label)
        line = self._lines[task]
        line.label = label
        if line.is_mounted:
            line.query_one(Label).update(label)
            line.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        else:
            line.pending = (done, max(total, 1))

    def finish(self, task: str) -> None:
        """Remove the line for ``task``; hide the tray when nothing runs."""
        line = self._lines.pop(task, None)
        if line is not None:
            line.remove()
        if not self._lines:
            self.remove_class("-busy")

    @property
    def tasks(self) -> list[str]:
        """What is running, by task name (for tests and the title)."""
        return list(self._lines)
