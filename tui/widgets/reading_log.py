"""The reading log: one row per paper with its status badge, score, decision and top principle."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import DataTable

from tui.views import LogRow, Page
from tui.widgets.status_badge import badge

__all__ = ["ReadingLog"]

#: The critic's decision, coloured like the status it leads to.
DECISION_STYLES = {"read": "#98c379", "skim": "#e5c07b", "drop": "#be5046"}
#: Ask for the next page when the cursor is this close to the last row.
_PREFETCH = 10


class ReadingLog(DataTable[Text | str]):
    """A DataTable of ``LogRow`` s, filled a page at a time; posts what the reader points at."""

    DEFAULT_CSS = """
    ReadingLog {
        height: 1fr;
        border: round $primary 40%;
        border-title-color: $text-muted;
        scrollbar-size-vertical: 1;
    }
    ReadingLog:focus {
        border: round $primary;
    }
    """

    class Highlighted(Message):
        """The reader moved to a paper (``key`` None when the log is empty)."""

        def __init__(self, key: str | None, status: str = "") -> None:
            super().__init__()
            self.key = key
            self.status = status

    class NeedMore(Message):
        """The cursor is near the last loaded row and more rows exist."""

        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_by_key: dict[str, LogRow] = {}
        self.more = False
        self._asked = -1
        self.border_title = "Reading log"

    def on_mount(self) -> None:
        self.add_column("status", key="status", width=9)
        self.add_column("paper", key="key", width=34)
        self.add_column("critic", key="critic", width=9)
        self.add_column("top", key="top", width=10)
        self.add_column("title", key="title")

    @staticmethod
    def cells(row: LogRow) -> tuple[Text | str, ...]:
        """What one row shows."""
        if row.score is None:
            critic = Text("   –", style="dim")
        else:
            critic = Text(f"{row.score:.1f} ")
            critic.append(row.decision, style=DECISION_STYLES.get(row.decision, ""))
        key = Text("@" + row.key, style="" if row.in_state else "italic dim")
        return (badge(row.status), key, critic, Text(row.top, style="dim"), row.title)

    def show(self, page: Page, *, keep: str | None = None) -> None:
        """Replace the rows (offset 0) or append a page; keep the cursor on ``keep`` if it is there."""
        if page.offset == 0:
            self.clear()
            self.rows_by_key = {}
            self._asked = -1
        for row in page.rows:
            if row.key in self.rows_by_key:
                continue
            self.rows_by_key[row.key] = row
            self.add_row(*self.cells(row), key=row.key)
        self.more = page.more
        self.border_subtitle = f"{len(self.rows_by_key)}{'+' if self.more else ''} papers"
        if keep and keep in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(keep))
        if page.offset == 0:
            self._announce()

    def update(self, row: LogRow) -> None:
        """Redraw one paper in place (after a decision or a re-score)."""
        if row.key not in self.rows_by_key:
            return
        self.rows_by_key[row.key] = row
        for column, value in zip(("status", "key", "critic", "top", "title"), self.cells(row)):
            self.update_cell(row.key, column, value)

    def mark(self, key: str, status: str) -> None:
        """Show a transient badge (``working``) without touching the row's data."""
        if key in self.rows_by_key:
            self.update_cell(key, "status", badge(status))

    @property
    def current_key(self) -> str | None:
        """The key under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return str(row_key.value)

    def _announce(self) -> None:
        key = self.current_key
        self.post_message(self.Highlighted(key, self.rows_by_key[key].status if key else ""))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()
        if self.more and event.cursor_row >= self.row_count - _PREFETCH and self._asked != self.row_count:
            self._asked = self.row_count
            self.post_message(self.NeedMore(self.row_count))
