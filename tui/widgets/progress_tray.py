"""One line per paper being worked on in the background, with its own progress bar.

The tray draws every line itself instead of mounting a label and a progress
bar widget per paper: with 20 papers added at once, mounting and removing
those widgets re-laid out the whole screen 40 times and was the largest
source of UI stalls (measured in ``bench/bench_tui.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

__all__ = ["ProgressTray"]

#: Lines shown at most; the rest are counted on the last line.
MAX_LINES = 8
#: Indeterminate bars pulse; a few frames a second is enough to show life.
PULSE_FPS = 4


@dataclass
class _Task:
    label: str
    done: int = 0
    total: int | None = None  # None until the amount of work is known: a pulsing bar


class ProgressTray(Widget):
    """Shown only while something runs; a line per paper, removed when it finishes."""

    DEFAULT_CSS = """
    ProgressTray {
        height: auto;
        max-height: 9;
        display: none;
        background: $boost;
        border-top: solid $primary 30%;
        padding: 0 1;
    }
    ProgressTray.-busy {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tasks: dict[str, _Task] = {}
        self._pulse: Timer | None = None
        self._height = 0  # lines while busy: grows, never shrinks until idle, so a finish is no relayout

    def start(self, task: str, label: str) -> None:
        """Add a line for ``task`` (or relabel the one already there)."""
        if task in self._tasks:
            self._tasks[task].label = label
        else:
            self._tasks[task] = _Task(label)
        self._changed()

    def advance(self, task: str, label: str, done: int, total: int) -> None:
        """Update a line with a known amount of work."""
        self._tasks[task] = _Task(label, done, max(total, 1))
        self._changed()

    def finish(self, task: str) -> None:
        """Remove the line for ``task``; hide the tray when nothing runs."""
        self._tasks.pop(task, None)
        self._changed()

    @property
    def tasks(self) -> list[str]:
        """What is running, by task name (for tests and the title)."""
        return list(self._tasks)

    @property
    def labels(self) -> list[str]:
        """What is running, as each line says it."""
        return [t.label.split(" · ")[0] for t in self._tasks.values()]

    def _changed(self) -> None:
        busy = bool(self._tasks)
        height = min(len(self._tasks), MAX_LINES) if busy else 0
        relayout = busy != self.has_class("-busy") or height > self._height
        self._height = max(self._height, height) if busy else 0
        self.set_class(busy, "-busy")
        if busy and self._pulse is None:
            self._pulse = self.set_interval(1 / PULSE_FPS, self.refresh)
        elif not busy and self._pulse is not None:
            self._pulse.stop()
            self._pulse = None
        self.refresh(layout=relayout)

    def render(self) -> Group:
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(width=40)
        shown = list(self._tasks.values())
        extra = 0
        if len(shown) > MAX_LINES:
            shown, extra = shown[: MAX_LINES - 1], len(shown) - (MAX_LINES - 1)
        for t in shown:
            # Labels carry paper keys and titles: plain text, never markup.
            bar = ProgressBar(total=t.total, completed=t.done, pulse=t.total is None, width=40)
            grid.add_row(Text(t.label), bar)
        if extra:
            grid.add_row(Text(f"… and {extra} more waiting", style="dim"), "")
        for _ in range(self._height - len(shown) - bool(extra)):
            grid.add_row("", "")  # keep the height the busy period reached
        return Group(grid)
