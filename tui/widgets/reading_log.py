"""The reading log: one line per paper (status, key, the critic's score and top principle, title).

It is one list however long the library is: the log knows how many rows there
are and draws only those on screen (the Line API), asking for the pages it lacks
with ``NeedRows`` and drawing a placeholder until they come.  PageDown, End, the
mouse wheel and the scrollbar reach the last of 50,000 rows the same way they
reach the tenth.  Columns shrink and hide by priority as the terminal narrows:
the critic's top principle first, then its score, then the key shrinks; the
title stays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from triage.tui.views import PAGE_SIZE, Anchor, LogRow, Window
from triage.tui.widgets import status_badge

__all__ = ["ReadingLog", "Column", "layout_columns"]

#: Pages kept around the viewport; farther ones are dropped (and fetched again if the reader comes back).
KEEP_PAGES = 30
#: The status badge's width, `` dropped ``.
BADGE = 9
#: The title keeps at least this many cells while other columns can give way.
TITLE_LEAST = 24


@dataclass(frozen=True)
class Column:
    """One column: what it shows and how many cells it gets."""

    name: str
    label: str
    width: int


def layout_columns(width: int) -> list[Column]:
    """Columns for ``width`` cells: the title comes first, then the status, the key, the critic's score, its top principle.

    The key takes at most 40% of what is left (it repeats the title in short); the
    critic's columns show only while the title keeps ``TITLE_LEAST`` cells.
    """
    gap, critic, top = 1, 9, 12
    rest = width - BADGE - gap

    def key_width(left: int) -> int:
        return max(min(int(left * 0.4), 34), min(14, left // 2))

    show_critic = (left := rest - critic - gap) - key_width(left) - gap >= TITLE_LEAST
    if show_critic:
        rest = left
    show_top = show_critic and (left := rest - top - gap) - key_width(left) - gap >= TITLE_LEAST + 16
    if show_top:
        rest = left
    key = key_width(rest)
    columns = [Column("status", "status", BADGE), Column("key", "paper", key)]
    if show_critic:
        columns.append(Column("critic", "critic", critic))
    if show_top:
        columns.append(Column("top", "top", top))
    columns.append(Column("title", "title", max(rest - key - gap, 0)))
    return columns


def _fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells, cut with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


class ReadingLog(ScrollView, can_focus=True):
    """Every paper of the session or the library as one scrolling list; posts what the reader points at."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "reading-log--header",
        "reading-log--cursor",
        "reading-log--odd-row",
        "reading-log--muted",
        *status_badge.COMPONENT_CLASSES,
    }

    DEFAULT_CSS = (
        """
    ReadingLog {
        height: 1fr;
        overflow-x: hidden;
        border: round $primary 40%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        scrollbar-size-vertical: 1;
    }
    ReadingLog:focus {
        border: round $primary;
    }
    ReadingLog > .reading-log--header {
        text-style: bold;
        color: $text-muted;
    }
    ReadingLog > .reading-log--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
    }
    ReadingLog:focus > .reading-log--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    ReadingLog > .reading-log--odd-row {
        background: $foreground 4%;
    }
    ReadingLog > .reading-log--muted {
        color: $text-muted;
    }
    """
        + status_badge.theme_css("ReadingLog")
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, tooltip="Next paper"),
        Binding("up,k", "cursor_up", "Up", show=False, tooltip="Previous paper"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="A screenful down"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="A screenful up"),
        Binding("home,ctrl+home,g", "first", "First", show=False, tooltip="The first paper"),
        Binding("end,ctrl+end,G", "last", "Last", show=False, tooltip="The last paper, however many there are"),
        Binding("enter", "open", "Open", show=False, tooltip="The paper full-screen (escape comes back)"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        """The reader moved to a paper (``key`` None when the log is empty)."""

        def __init__(self, key: str | None, status: str = "") -> None:
            super().__init__()
            self.key = key
            self.status = status

    class Opened(Message):
        """Enter (or a click on the highlighted row): show this paper's detail in full."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class NeedRows(Message):
        """Rows ``page * PAGE_SIZE`` onwards are on screen (or next to it) and not loaded."""

        def __init__(self, generation: int, page: int, anchor: Anchor) -> None:
            super().__init__()
            self.generation = generation
            self.page = page
            self.anchor = anchor

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.total = 0
        self.generation = 0  # a reload starts a new one; pages for an older one are dropped
        self.paged = False  # True for the library (pages come on demand), False for a session (all rows here)
        self._pages: dict[int, list[LogRow]] = {}
        self._asked: set[int] = set()
        self._columns: list[Column] = []
        self._announced: tuple[str | None, str] | None = None
        self.border_title = "Reading log"

    # -- what the log holds ---------------------------------------------------

    def show(self, window: Window, *, paged: bool, about: str = "") -> None:
        """Replace everything with ``window`` (a reload); ``about`` goes after the count in the border."""
        self.generation += 1
        self.paged = paged
        self.total = window.total
        self._pages = dict(window.pages)
        self._asked = set()
        self._announced = None
        self.border_subtitle = f"{window.total:,} paper{'s' if window.total != 1 else ''}" + (f" · {about}" if about else "")
        self.virtual_size = Size(0, self.total + 1)
        self.set_reactive(ReadingLog.cursor, min(window.cursor, max(self.total - 1, 0)))
        self._scroll_to_cursor(center=True)
        self.refresh()
        self._ask_for_visible()
        self._announce()

    def fill(self, generation: int, page: int, rows: list[LogRow]) -> None:
        """Rows of one page, fetched for ``generation`` (ignored when the log was reloaded since)."""
        if generation != self.generation:
            return
        self._asked.discard(page)
        self._pages[page] = rows
        self._forget_far_pages()
        self.refresh()
        self._announce()

    def update(self, row: LogRow) -> None:
        """Redraw one paper in place (after a decision or a re-score); it moves up at the next reload."""
        for page in self._pages.values():
            for i, old in enumerate(page):
                if old.key == row.key:
                    # Keep the place it had: the pages next to it continue from there (its new time is the newest).
                    page[i] = replace(row, at=old.at)
                    self.refresh()
                    self._announced = None
                    self._announce()
                    return

    def row_at(self, index: int) -> LogRow | None:
        """The row at ``index`` if its page is loaded."""
        page = self._pages.get(index // PAGE_SIZE)
        offset = index % PAGE_SIZE
        return page[offset] if page is not None and offset < len(page) else None

    @property
    def rows_by_key(self) -> dict[str, LogRow]:
        """The loaded rows by key (all of them in a session)."""
        return {row.key: row for page in self._pages.values() for row in page}

    def index_of(self, key: str) -> int | None:
        """Where ``key`` is, if its page is loaded."""
        for number, page in self._pages.items():
            for i, row in enumerate(page):
                if row.key == key:
                    return number * PAGE_SIZE + i
        return None

    @property
    def current(self) -> LogRow | None:
        """The row under the cursor (None while its page loads, or when the log is empty)."""
        return self.row_at(self.cursor) if self.total else None

    @property
    def row_count(self) -> int:
        """How many rows the list has, loaded or not."""
        return self.total

    @property
    def visible_rows(self) -> int:
        """Rows the viewport holds below the header."""
        return max(self.scrollable_content_region.height - 1, 1)

    # -- moving ---------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        self.cursor = max(0, min(row, self.total - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._announce()

    def action_cursor_down(self) -> None:
        """One row down."""
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        """One row up."""
        self.move_cursor(self.cursor - 1)

    def action_page_down(self) -> None:
        """A screenful down, the cursor keeping its place on screen."""
        step = self.visible_rows
        self.scroll_to(y=self.scroll_y + step, animate=False, immediate=True)
        self.move_cursor(self.cursor + step)

    def action_page_up(self) -> None:
        """A screenful up."""
        step = self.visible_rows
        self.scroll_to(y=self.scroll_y - step, animate=False, immediate=True)
        self.move_cursor(self.cursor - step)

    def action_first(self) -> None:
        """The first row."""
        self.move_cursor(0)

    def action_last(self) -> None:
        """The last row, however many there are."""
        self.move_cursor(self.total - 1)

    def action_open(self) -> None:
        """Show the highlighted paper's detail in full."""
        if (row := self.current) is not None:
            self.post_message(self.Opened(row.key))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_y) + offset.y - 1
        if index >= self.total:
            return
        if index == self.cursor:
            self.action_open()
        else:
            self.move_cursor(index)

    def _scroll_to_cursor(self, center: bool = False) -> None:
        top, rows = int(self.scroll_y), self.visible_rows
        if center and not (top <= self.cursor < top + rows):
            target = self.cursor - rows // 2
        elif self.cursor < top:
            target = self.cursor
        elif self.cursor >= top + rows:
            target = self.cursor - rows + 1
        else:
            return
        self.scroll_to(y=max(target, 0), animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._ask_for_visible()

    def on_resize(self, event: events.Resize) -> None:
        self._columns = []
        self._scroll_to_cursor()
        self._ask_for_visible()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()  # the theme or the focus changed: the colours come from the component classes

    # -- pages ----------------------------------------------------------------

    def _ask_for_visible(self) -> None:
        if not self.paged or not self.total:
            return
        first = int(self.scroll_y)
        last = min(first + self.visible_rows, self.total - 1)
        last_page = (self.total - 1) // PAGE_SIZE
        wanted = set(range(first // PAGE_SIZE, last // PAGE_SIZE + 1))
        wanted |= {max(min(wanted) - 1, 0), min(max(wanted) + 1, last_page)}  # the reader's next move, prefetched
        wanted |= {self.cursor // PAGE_SIZE}
        for page in sorted(wanted, key=lambda p: (p < first // PAGE_SIZE, p)):
            if page not in self._pages and page not in self._asked:
                self._asked.add(page)
                self.post_message(self.NeedRows(self.generation, page, self._anchor(page)))

    def _anchor(self, page: int) -> Anchor:
        above, below = self._pages.get(page - 1), self._pages.get(page + 1)
        if above is not None and len(above) == PAGE_SIZE and above[-1].at:
            return ("after", above[-1].cursor)
        if below is not None and below and below[0].at:
            return ("before", below[0].cursor)
        return ("offset", page * PAGE_SIZE)

    def _forget_far_pages(self) -> None:
        if not self.paged or len(self._pages) <= KEEP_PAGES:
            return
        here = int(self.scroll_y) // PAGE_SIZE
        for page in sorted(self._pages, key=lambda p: abs(p - here), reverse=True)[: len(self._pages) - KEEP_PAGES]:
            del self._pages[page]

    def _announce(self) -> None:
        row = self.current
        said = (row.key, row.status) if row is not None else (None, "")
        if row is None and self.total:
            return  # the page is on its way; it announces when it lands
        if said != self._announced:
            self._announced = said
            self.post_message(self.Highlighted(*said))

    # -- drawing --------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if not self._columns or sum(c.width for c in self._columns) + len(self._columns) - 1 != width:
            self._columns = layout_columns(width)
        if y == 0:
            return self._header(width)
        index = int(self.scroll_y) + y - 1
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        return self._line(index, width)

    def _style(self, name: str) -> Style:
        # A status a note invented (``[todo(@key)]``) has no colour of its own: it is shown reversed.
        return self.get_component_rich_style(name, partial=True, default=Style(reverse=True))

    def _header(self, width: int) -> Strip:
        style = self.rich_style + self._style("reading-log--header")
        segments = []
        for i, column in enumerate(self._columns):
            segments.append(Segment((" " if i else "") + _fit(column.label, column.width), style))
        return Strip(segments, width).adjust_cell_length(width, style)

    def _line(self, index: int, width: int) -> Strip:
        base = self.rich_style
        if index % 2:
            base += self._style("reading-log--odd-row")
        if index == self.cursor:
            base += self._style("reading-log--cursor")
        row = self.row_at(index)
        muted = base + self._style("reading-log--muted")
        segments: list[Segment] = []
        for i, column in enumerate(self._columns):
            if i:
                segments.append(Segment(" ", base))
            segments.extend(self._cell(row, column, base, muted))
        return Strip(segments, width).adjust_cell_length(width, base)

    def _cell(self, row: LogRow | None, column: Column, base: Style, muted: Style) -> list[Segment]:
        width = column.width
        if row is None:
            return [Segment(_fit("…" if column.name == "key" else "", width), muted)]
        if column.name == "status":
            return [Segment(_fit(f" {row.status:<7} ", width), base + self._style(f"status--{row.status}"))]
        if column.name == "key":
            style = base if row.in_state else muted + Style(italic=True)
            return [Segment(_fit("@" + row.key, width), style)]
        if column.name == "critic":
            if row.score is None:
                return [Segment(_fit("   –", width), muted)]
            score = f"{row.score:4.1f} "
            decision = _fit(row.decision, width - len(score))
            return [Segment(score, base), Segment(decision, base + self._style(f"decision--{row.decision}"))]
        if column.name == "top":
            return [Segment(_fit(row.top, width), muted)]
        return [Segment(_fit(row.title, width), base)]
