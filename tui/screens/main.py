"""The main screen: the reading log, the selected paper, the note's sections, and every action.

Every action that touches the state, the note, a PDF, the index or a critic runs
in a thread worker and reports back with a message from ``tui.messages``; the
event loop only renders.  ``TriageError`` s become error notifications; any
other exception in a worker is reported the same way by ``on_worker_state_changed``
(``exit_on_error=False``), so the app never dies under the reader.

The layout follows the terminal: the detail pane sits beside the log when there
is room and under it when there is not (``-stacked``), the header goes on short
terminals (``-short``), and Enter shows the paper full-screen at any size.  The
note and the state are watched, so a change made outside (the reader's editor,
the nightly digest) shows up without a key press.
"""

from __future__ import annotations

import gc
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Header, Input, Tab, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from triage.errors import AmbiguousKeyError, TriageError
from triage.models import PaperView, Transition
from triage.tui import views
from triage.tui.messages import (
    Ambiguous,
    DetailLoaded,
    Failed,
    LogLoaded,
    NoteMoved,
    PaperChanged,
    RowsLoaded,
    TaskFinished,
    TaskProgress,
    TaskStarted,
)
from triage.tui.widgets.paper_detail import PaperDetail
from triage.tui.widgets.progress_tray import ProgressTray
from triage.tui.widgets.reading_log import ReadingLog

if TYPE_CHECKING:
    from triage.notes import Note
    from triage.service import Triage
    from triage.tui.widgets.note_panel import NotePanel

# The dialogs and the note's panel (Markdown) are imported when first shown: the first paint waits for nothing else.

__all__ = ["MainScreen", "FILTERS"]

#: Status filters, in tab order; "all" shows every status.
FILTERS = ("all", "skim", "read", "done", "dropped", "queued")
#: News arriving within this window is said in one notification, at most this many lines of it.
NEWS_WINDOW_S, NEWS_LINES = 0.25, 6
#: Log reloads asked for within this window are done once.
RELOAD_WINDOW_S = 0.1
#: Papers triaged at the same time; more adds queue with a "waiting" progress line.
TRIAGE_SLOTS = 2
#: While work runs, how often new long-lived objects are moved out of the garbage collector's generations.
GC_FREEZE_EVERY = 0.25
#: How long the cursor must rest on a row before its detail is loaded.
DETAIL_DELAY = 0.08
#: How long the reader's typing in the filter box must pause before the log is filtered.
FIND_DELAY = 0.15
#: How often the note and the state are checked for changes made outside the app.
WATCH_EVERY = 1.0
#: Below this width the detail pane goes under the log; below this height the header goes.
STACK_BELOW_WIDTH, SHORT_BELOW_HEIGHT = 100, 30


@dataclass(frozen=True)
class _Seen:
    """What the app last read of the note and the state, to notice outside changes."""

    note: tuple[int, int] | None = None  # (mtime_ns, size); None while the note is missing
    state: int | None = None


class MainScreen(Screen[None]):
    """The reading log with its detail pane; the open note's sections one tab away."""

    # The footer shows the daily keys, most used first (it cuts what does not fit); ? lists them all.
    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="These keys, by what they are for"),
        Binding("f1", "help", "Help", show=False, tooltip="These keys, by what they are for"),
        Binding("q", "app.quit", "Quit", tooltip="Quit (asks first while papers are being triaged)"),
        Binding("a", "add", "Add", tooltip="Triage a @citekey, arXiv id, DOI or URL (into the note when one is open)"),
        Binding("p", "promote", "Read", tooltip="Promote to read: the note gets a [read(@key)] entry"),
        Binding("K", "keep", "Keep", key_display="K", tooltip="Keep at skim"),
        Binding("d", "drop", "Drop", tooltip="Drop the paper (the note says so)"),
        Binding("u", "undo", "Undo", tooltip="Undo the latest decision (the note gets a correction)"),
        Binding("slash", "find", "Filter", key_display="/", tooltip="Filter the log by words of the key, title or authors"),
        Binding("f", "cycle_filter", "Status", show=False, tooltip="Show only skim, read, done, dropped or queued papers, then all"),
        Binding("n", "toggle_note", "Note", tooltip="Switch between the log and the note's sections"),
        Binding("z", "toggle_detail", "Detail", show=False, tooltip="The paper's detail full-screen, or back"),
        Binding("escape", "clear_find", "Clear filter", show=False, tooltip="Clear the filter"),
        Binding("o", "open_pdf", "PDF", show=False, tooltip="Open the PDF in the system viewer"),
        Binding("s", "search", "Search", show=False, tooltip="Semantic search over papers and passages"),
        Binding("S", "similar", "Similar", key_display="S", show=False, tooltip="Papers like this one"),
        Binding("R", "rescore", "Re-score", key_display="R", show=False, tooltip="Judge again with the LLM critic"),
        Binding("e", "edit_constitution", "Principles", show=False, tooltip="Edit your constitution in $EDITOR"),
        Binding("L", "toggle_scope", "Library", key_display="L", show=False,
                tooltip="The note's session, or every paper in the state"),
        Binding("T", "run_note", "Run note", key_display="T", show=False,
                tooltip="Triage every paper the note mentions that its log has not got"),
        Binding("r", "refresh", "Refresh", show=False, tooltip="Read the note and the state again"),
    ]

    def __init__(self, core: Triage, note: Path | None = None) -> None:
        super().__init__()
        self.core = core
        self.note_path = note
        self.scope = "session" if note is not None else "library"
        self.status_filter: str | None = None
        self.find_text = ""
        self._find_timer: Timer | None = None
        self._seen = _Seen()
        self._note_missing = False
        self.selected: str | None = None
        self.selected_status = ""
        self.note: Note | None = None
        self._detail_timer: Timer | None = None
        self._news: list[tuple[str, str]] = []  # (key, what happened) not yet said
        self._news_timer: Timer | None = None
        self._reload_timer: Timer | None = None
        self._reload_focus: str | None = None  # a paper the reader waits on, to select after the reload
        # Papers triaged at once: the rest wait their turn, so the note is written in order and the UI keeps its share of the CPU.
        self._slots = threading.BoundedSemaphore(TRIAGE_SLOTS)

    # -- layout ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        # The log and the note's sections, one at a time (n switches; a tab bar cost a third of the first paint).
        with ContentSwitcher(id="views", initial="view-log"):
            with Vertical(id="view-log"):
                yield Tabs(*(Tab(name, id=f"filter-{name}") for name in FILTERS), id="filter")
                yield Input(placeholder="filter: words of the key, title or authors · enter to keep · escape to clear",
                            id="find", compact=True)
                with Horizontal(id="log-split"):
                    yield ReadingLog(id="log")
                    yield PaperDetail(id="detail")
            yield Vertical(id="view-note")
        yield ProgressTray(id="tray")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_interval(GC_FREEZE_EVERY, self._freeze_while_busy)
        self.set_interval(WATCH_EVERY, self.watch_outside)
        self._retitle()
        self.query_one(ReadingLog).focus()
        self.load_log()

    def on_screen_resume(self) -> None:
        # A dialog closed: once the log is drawn again, the reader's keys are the log's (TriageApp.on_event).
        self.call_after_refresh(self.app.screen_shown)  # type: ignore[attr-defined]

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < STACK_BELOW_WIDTH, "-stacked")
        self.set_class(event.size.height < SHORT_BELOW_HEIGHT, "-short")

    def _retitle(self) -> None:
        where = f"{self.note_path.name} · {self.scope}" if self.note_path else "library"
        self.app.sub_title = where + (f" · {self.status_filter}" if self.status_filter else "")

    # -- loading --------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_log(self, keep: str | None = None) -> None:
        """The log from scratch, its cursor on ``keep`` (else the selected paper): the session or the library."""
        keep = keep or self.selected
        with self._guard("Reading log"):
            seen = _Seen(self._note_stamp(), self.core.state_version())  # before reading: a save meanwhile reloads again
            note = views.read_session(self.core, self.note_path) if self.note_path else None
            if self.scope == "session" and note is not None:
                rows = views.session_rows(self.core, note, self.status_filter, self.find_text)
                at = next((i for i, row in enumerate(rows) if row.key == keep), 0)
                pages = {i // views.PAGE_SIZE: rows[i : i + views.PAGE_SIZE] for i in range(0, len(rows), views.PAGE_SIZE)}
                window, paged = views.Window(total=len(rows), pages=pages, cursor=at), False
            else:
                window, paged = views.library_window(self.core, self.status_filter, self.find_text, keep), True
            if not get_current_worker().is_cancelled:
                self._seen = seen
                self.post_message(LogLoaded(window, paged=paged, note=note, counts=self.core.counts()))

    def _note_stamp(self) -> tuple[int, int] | None:
        if self.note_path is None:
            return None
        try:
            stat = self.note_path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    @on(ReadingLog.NeedRows)
    def _need_rows(self, message: ReadingLog.NeedRows) -> None:
        self.load_rows(message.generation, message.page, message.anchor)

    @work(thread=True, group="rows", exit_on_error=False)
    def load_rows(self, generation: int, page: int, anchor: views.Anchor) -> None:
        """One page of the library, continuing from the page next to it."""
        with self._guard("Reading log"):
            rows = views.library_rows(self.core, self.status_filter, self.find_text, anchor)
            self.post_message(RowsLoaded(generation, page, rows))

    @on(RowsLoaded)
    def _rows_loaded(self, message: RowsLoaded) -> None:
        self.query_one(ReadingLog).fill(message.generation, message.page, message.rows)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load_detail(self, key: str, note_status: str = "") -> None:
        """The selected paper's verdict, sections (as summarised at extraction) and history."""
        with self._guard(f"@{key}"):
            view = views.paper_view(self.core, key, note_status)
            if not get_current_worker().is_cancelled:
                self.post_message(DetailLoaded(view))

    @work(thread=True, exclusive=True, group="extract", exit_on_error=False)
    def extract_for_detail(self, view: PaperView) -> None:
        """A paper extracted before its sections were summarised: extract once (this loads PyMuPDF), then show."""
        assert view.pdf_to_extract is not None
        with self._guard(f"@{view.key}"):
            extracted = self.core.paper(view.key, extract=True)
            if extracted is not None:
                self.post_message(DetailLoaded(extracted))

    @on(LogLoaded)
    def _log_loaded(self, message: LogLoaded) -> None:
        log = self.query_one(ReadingLog)
        about = f"matching “{self.find_text}”" if self.find_text else ""
        log.show(message.window, paged=message.paged, about=about)
        if message.note is not None:
            self.note = message.note
            if (panel := self._note_panel()) is not None:
                panel.show(message.note)
        self._label_filters(message.counts)
        if not message.window.total:
            self.selected = None
            if self.find_text:
                empty = f"Nothing matches “{self.find_text}”; escape clears the filter."
            elif self.status_filter:
                empty = f"No {self.status_filter} papers here; press f for the next status."
            elif self.scope == "session":
                empty = "The note names no papers yet: press a to add one."
            else:
                empty = "No papers yet: press a to add one."
            self.query_one(PaperDetail).show(None, empty=empty)

    def _label_filters(self, counts: dict[str, int]) -> None:
        tabs = self.query_one("#filter", Tabs)
        for name in FILTERS:
            n = sum(counts.values()) if name == "all" else counts.get(name, 0)
            label = name if self.scope == "session" else f"{name} {n}"
            tabs.query_one(f"#filter-{name}", Tab).label = label

    @on(ReadingLog.Highlighted)
    def _highlighted(self, message: ReadingLog.Highlighted) -> None:
        self.selected, self.selected_status = message.key, message.status
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if message.key is not None:
            self._detail_timer = self.set_timer(DETAIL_DELAY, self._load_selected)

    def _load_selected(self) -> None:
        if self.selected:
            self.load_detail(self.selected, self._note_status(self.selected))

    def _note_status(self, key: str) -> str:
        if self.note is None:
            return ""
        statuses = [e.status for e in self.note.entries if e.key.lstrip("@") == key]
        return statuses[-1] if statuses else ""

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        if message.view.key == self.selected:
            detail = self.query_one(PaperDetail)
            same = detail.view is not None and detail.view.key == message.view.key
            detail.show(message.view, keep_scroll=same)
            if message.view.pdf_to_extract is not None:
                self.extract_for_detail(message.view)

    @on(ReadingLog.Opened)
    def _opened(self, message: ReadingLog.Opened) -> None:
        self.action_toggle_detail()

    @on(PaperChanged)
    def _paper_changed(self, message: PaperChanged) -> None:
        log = self.query_one(ReadingLog)
        if message.reload or message.row is None or log.index_of(message.row.key) is None:
            self._reload_soon(message.key if message.focus else None)
        else:
            # In place: a decided paper stays where the reader is (it moves up on the next reload).
            log.update(message.row)
        if message.key and (message.key == self.selected or message.focus):
            self.selected = message.key
            self.load_detail(message.key, self._note_status(message.key))
        if message.note:
            self._tell(message.key, message.note)

    @on(TaskStarted)
    def _task_started(self, message: TaskStarted) -> None:
        self.query_one(ProgressTray).start(message.task, message.label)

    @on(TaskProgress)
    def _task_progress(self, message: TaskProgress) -> None:
        self.query_one(ProgressTray).advance(message.task, message.label, message.done, message.total)

    @on(TaskFinished)
    def _task_finished(self, message: TaskFinished) -> None:
        self.query_one(ProgressTray).finish(message.task)
        gc.freeze()

    def busy(self) -> list[str]:
        """What is running in the background, as the progress tray names it."""
        return self.query_one(ProgressTray).labels

    def _freeze_while_busy(self) -> None:
        # The first triage or search loads torch, Chroma and the model: hundreds of thousands of
        # long-lived objects that every full collection walks again, 200-400 ms with the GIL held
        # (measured in tests/tui/test_startup.py).  gc.freeze() is O(1) and moves them out of the
        # collector's sight; refcounting still frees everything that is not in a cycle.
        if self.query_one(ProgressTray).tasks:
            gc.freeze()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        error = message.error
        text = f"{error.message}\n{error.hint}" if isinstance(error, TriageError) and error.hint else str(error)
        self.say(text, title=message.title, severity="error", timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker is an error notification, not a crash (``exit_on_error=False``)."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.post_message(Failed(event.worker.name or "background task", f"{type(event.worker.error).__name__}: {event.worker.error}"))

    def _reload_soon(self, focus: str | None) -> None:
        # One reload for papers finishing together: each rebuilds the table and repaints the screen.
        self._reload_focus = focus or self._reload_focus
        if self._reload_timer is None:
            self._reload_timer = self.set_timer(RELOAD_WINDOW_S, self._reload_now)

    def _reload_now(self) -> None:
        focus, self._reload_focus, self._reload_timer = self._reload_focus, None, None
        self.load_log(keep=focus or self.selected)

    # -- changes made outside the app -----------------------------------------

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def watch_outside(self) -> None:
        """Reload when the note was saved elsewhere or another process changed the state; say when the note goes."""
        with self._guard("Watching"):
            stamp, version = self._note_stamp(), self.core.state_version()
            if self.note_path is not None and stamp is None:
                if not self._note_missing:
                    self._note_missing = True
                    self.post_message(NoteMoved(f"{self.note_path} was moved or deleted"))
                return
            self._note_missing = False
            if _Seen(stamp, version) != self._seen:
                self._seen = _Seen(stamp, version)
                self.post_message(PaperChanged("", reload=True))

    @on(NoteMoved)
    def _note_moved(self, message: NoteMoved) -> None:
        self.say(f"{message.reason}. Decisions are refused until it is back (nothing is changed without its entry).",
                 title="Note", severity="warning", timeout=10)

    def _tell(self, key: str, news: str) -> None:
        # Papers finishing together make one notification, not a stack of them: each toast is a
        # mount and a relayout, and twenty in a second froze the screen (bench/bench_tui.py).
        self._news.append((key, news))
        if self._news_timer is None:
            self._news_timer = self.set_timer(NEWS_WINDOW_S, self._say_news)

    def _say_news(self) -> None:
        news, self._news, self._news_timer = self._news, [], None
        if len(news) == 1:
            key, text = news[0]
            self.say(text, title=f"@{key}")
            return
        shown = "\n".join(f"@{key}: {text}" for key, text in news[:NEWS_LINES])
        more = f"\n… and {len(news) - NEWS_LINES} more" if len(news) > NEWS_LINES else ""
        self.say(shown + more, title=f"{len(news)} papers")

    def say(self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None) -> None:
        """A notification whose text is shown as written (keys like ``[read(@key)]`` are not markup)."""
        self.app.notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    @contextmanager
    def _guard(self, title: str) -> Iterator[None]:
        """In a worker: a ``TriageError`` becomes a notification; other errors surface as worker errors."""
        try:
            yield
        except TriageError as exc:
            self.post_message(Failed(title, exc))

    # -- filters and views ----------------------------------------------------

    @on(Tabs.TabActivated, "#filter")
    def _filter_chosen(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "filter-all").removeprefix("filter-")
        wanted = None if name == "all" else name
        if wanted != self.status_filter:
            self.status_filter = wanted
            self._retitle()
            self.load_log()

    def action_cycle_filter(self) -> None:
        """Show only skim, read, done, dropped or queued papers, then all again."""
        current = self.status_filter or "all"
        following = FILTERS[(FILTERS.index(current) + 1) % len(FILTERS)]
        self.query_one("#filter", Tabs).active = f"filter-{following}"

    def action_find(self) -> None:
        """Show the filter box and type into it."""
        box = self.query_one("#find", Input)
        box.add_class("-open")
        self.show_view("view-log", focus=box)

    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        if self._find_timer is not None:
            self._find_timer.stop()
        self._find_timer = self.set_timer(FIND_DELAY, lambda: self._apply_find(event.value))

    def _apply_find(self, text: str) -> None:
        text = " ".join(text.split())
        if text != self.find_text:
            self.find_text = text
            self.load_log()

    @on(Input.Submitted, "#find")
    def _find_kept(self, event: Input.Submitted) -> None:
        self._apply_find(event.value)
        self.query_one(ReadingLog).focus()

    def action_clear_find(self) -> None:
        """Clear the filter box and show every paper again."""
        box = self.query_one("#find", Input)
        box.remove_class("-open")
        box.value = ""
        self.query_one(ReadingLog).focus()
        self._apply_find("")

    def action_toggle_detail(self) -> None:
        """The selected paper's detail full-screen (escape or z comes back)."""
        if self.maximized is not None:
            self.minimize()
            return
        detail = self.query_one(PaperDetail)
        if self.selected and self.maximize(detail, container=False):
            detail.focus()

    def minimize(self) -> None:
        """Back from the full-screen detail, to the log."""
        super().minimize()
        self.query_one(ReadingLog).focus()

    def action_help(self) -> None:
        """Every key, by what it is for."""
        from triage.tui.screens.help import HelpScreen, help_rows

        shown = [(active.binding, self.app.get_key_display(active.binding)) for active in self.active_bindings.values()]
        self.app.push_screen(HelpScreen(help_rows(shown)))

    async def action_toggle_note(self) -> None:
        """Switch between the log and the note's sections."""
        if self.query_one("#views", ContentSwitcher).current == "view-note":
            self.show_view("view-log")
            return
        panel = self._note_panel()
        if panel is None:
            from triage.tui.widgets.note_panel import NotePanel

            panel = NotePanel(id="note-panel")
            await self.query_one("#view-note").mount(panel)
            if self.note is not None:
                panel.show(self.note)
        self.show_view("view-note", focus=panel.query_one("#note-sections").query_one(Tabs))

    def _note_panel(self) -> NotePanel | None:
        from triage.tui.widgets.note_panel import NotePanel

        found = self.query(NotePanel)
        return found.first() if found else None

    def show_view(self, pane: str, focus: Widget | None = None) -> None:
        """Show the log (or the note: ``action_toggle_note``) and focus ``focus``, else the log."""
        self.query_one("#views", ContentSwitcher).current = pane
        self.call_after_refresh((focus or self.query_one(ReadingLog)).focus)

    def action_toggle_scope(self) -> None:
        """The open note's session, or every paper in the state (paged)."""
        if self.note_path is None:
            self.say("No note open: the log shows the whole library.", title="Library")
            return
        self.scope = "library" if self.scope == "session" else "session"
        self._retitle()
        self.load_log()

    def action_refresh(self) -> None:
        """Re-read the note and the state."""
        self.load_log()

    # -- adding and triaging --------------------------------------------------

    def action_add(self) -> None:
        """Ask for a @citekey, arXiv id, DOI or URL and triage it (into the note when one is open)."""
        row = self.query_one(ReadingLog).current
        prefill = f"@{row.key}" if row is not None and not row.in_state else ""
        into = self.note_path.name if self.note_path else ""
        from triage.tui.screens.add_paper import AddPaperScreen

        self.app.push_screen(AddPaperScreen(prefill, into=into), self._add_chosen)

    def _add_chosen(self, identifier: str | None) -> None:
        if identifier:
            self.triage_paper(identifier)

    def triage_paper(self, identifier: str) -> Worker[None]:
        """Triage one paper in its own worker: one progress line per paper, several may run at once."""
        return self.run_worker(
            lambda: self._triage(identifier),
            name=f"triage @{identifier}",
            group=f"triage:{identifier}",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _triage(self, identifier: str) -> None:
        task = f"triage:{identifier}"
        waiting_on = self.selected  # if the reader has not moved on when it is done, show them the paper
        self.post_message(TaskStarted(task, f"@{identifier} · waiting for a free slot…"))
        try:
            with self._slots, self._guard(f"Add {identifier}"):
                self.post_message(TaskStarted(task, f"@{identifier} · resolving, extracting, judging…"))
                try:
                    outcome = self.core.triage(identifier, self.note_path)
                    verdict, key = outcome.verdict, outcome.key
                    if self.note_path is None:
                        where = "in the library"
                    else:
                        where = outcome.message or ("written to the note" if outcome.written else "not written")
                except AmbiguousKeyError as exc:
                    self.post_message(Ambiguous(identifier.lstrip("@"), exc.candidates))
                    return
                summary = f"{verdict.decision.value} · {verdict.score:.1f}/10 · {where}" if verdict else where
                self.post_message(PaperChanged(key, reload=True, note=summary, focus=self.selected == waiting_on))
        finally:
            self.post_message(TaskFinished(task))

    @on(Ambiguous)
    def _ambiguous(self, message: Ambiguous) -> None:
        def chosen(arxiv_id: str | None) -> None:
            if arxiv_id:
                self.pick_and_triage(message.key, arxiv_id)
            else:
                self.say(f"@{message.key} left unresolved", title="Add", severity="warning")

        from triage.tui.screens.pick_paper import PickPaperScreen

        self.app.push_screen(PickPaperScreen(message.key, message.candidates), chosen)

    @work(thread=True, group="pick", exit_on_error=False)
    def pick_and_triage(self, key: str, arxiv_id: str) -> None:
        """Record the reader's choice for the key, then triage it as usual."""
        with self._guard(f"@{key}"):
            self.core.pick(key, arxiv_id)
            self.app.call_from_thread(self.triage_paper, key)

    def action_run_note(self) -> None:
        """Triage every paper the note mentions that its log has not got yet."""
        if self.note_path is None:
            self.say("Open a note to triage it: triage tui NOTE", title="Triage note", severity="warning")
            return
        self.run_note()

    @work(thread=True, exclusive=True, group="run-note", exit_on_error=False)
    def run_note(self) -> None:
        """``Triage.run_note`` with its progress shown in the tray."""
        assert self.note_path is not None
        task, name = "run-note", self.note_path.name
        self.post_message(TaskStarted(task, f"{name} · reading…"))

        def progress(message: str, done: int, total: int) -> None:
            self.post_message(TaskProgress(task, f"{name} · {message} ({done}/{total})", done, total))

        try:
            with self._guard("Triage note"):
                report = self.core.run_note(self.note_path, progress=progress)
                failed = report.failed
                summary = f"{len(report.outcomes) - len(failed)} triaged, {len(failed)} failed, {len(report.skipped)} already logged"
                self.post_message(PaperChanged("", reload=True))
                self.app.call_from_thread(self.say, summary, title="Triage note")
                for outcome in failed:
                    self.post_message(Failed(f"@{outcome.key}", outcome.message))
        finally:
            self.post_message(TaskFinished(task))

    # -- the reader's decisions -----------------------------------------------

    def _need_selection(self) -> str | None:
        if not self.selected:
            self.say("Select a paper in the log first.", severity="warning")
        return self.selected

    def action_promote(self) -> None:
        """Promote the selected paper to read (a ``[read(@key)]`` entry in the note)."""
        if key := self._need_selection():
            self.decide(key, "promote")

    def action_keep(self) -> None:
        """Keep the selected paper at skim."""
        if key := self._need_selection():
            self.decide(key, "keep")

    def action_drop(self) -> None:
        """Drop the selected paper."""
        if key := self._need_selection():
            self.decide(key, "drop")

    def action_undo(self) -> None:
        """Undo the latest decision on the selected paper (the note gets a correction)."""
        if key := self._need_selection():
            self.decide(key, "undo")

    @work(thread=True, group="decide", exit_on_error=False)
    def decide(self, key: str, what: str) -> None:
        """Apply a decision through the service; decisions are not exclusive, so none is lost."""
        actions: dict[str, Callable[[], Transition]] = {
            "promote": lambda: self.core.promote(key, note=self.note_path, source="tui"),
            "keep": lambda: self.core.keep(key, reason="kept at skim", note=self.note_path, source="tui"),
            "drop": lambda: self.core.drop(key, note=self.note_path, source="tui"),
            "undo": lambda: self.core.undo(key, note=self.note_path, source="tui"),
        }
        with self._guard(what.capitalize()):
            transition = actions[what]()
            old = transition.old.value if transition.old else "new"
            self.post_message(PaperChanged(key, views.log_row(self.core, key), reload=self.note_path is not None,
                                           note=f"{what}: {old} → {transition.new.value}"))

    # -- the PDF, search, similar ---------------------------------------------

    def action_open_pdf(self) -> None:
        """Open the selected paper's PDF in the system viewer."""
        if key := self._need_selection():
            self.open_pdf(key)

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_pdf(self, key: str) -> None:
        """Find the PDF and hand it to ``xdg-open`` / ``open``; says so when there is none."""
        with self._guard("Open PDF"):
            view = self.core.paper(key)
            pdf = view.paper.pdf_path if view and view.paper else None
            if pdf is None or not Path(pdf).is_file():
                self.post_message(Failed("Open PDF", f"no local PDF for @{key}" + (f" ({pdf} is gone)" if pdf else "")))
                return
            opener = self.app.opener()  # type: ignore[attr-defined]
            if opener is None:
                self.post_message(Failed("Open PDF", f"no PDF viewer found (xdg-open/open); the file is {pdf}"))
                return
            try:
                subprocess.Popen([*opener, str(pdf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
            except OSError as exc:
                self.post_message(Failed("Open PDF", f"{shlex.join(opener)} failed: {exc.strerror or exc}"))
                return
            self.app.call_from_thread(self.say, f"opened {Path(pdf).name}", title="Open PDF")

    def action_search(self) -> None:
        """Semantic search over every indexed paper and passage."""
        from triage.tui.screens.search import SearchScreen

        self.app.push_screen(
            SearchScreen("Search papers and passages", search=lambda q: self.core.search(q, k=15)), self.jump_to
        )

    def action_similar(self) -> None:
        """Papers like the selected one."""
        if key := self._need_selection():
            self.similar(key)

    @work(thread=True, exclusive=True, group="similar", exit_on_error=False)
    def similar(self, key: str) -> None:
        """Ask the index in a thread (the first call loads Chroma and the model)."""
        task = f"similar:{key}"
        self.post_message(TaskStarted(task, f"@{key} · finding similar papers…"))
        try:
            with self._guard("Similar"):
                hits = self.core.similar(key, k=8)
                from triage.tui.screens.search import SearchScreen

                self.app.call_from_thread(
                    self.app.push_screen, SearchScreen(f"Papers like @{key}", hits=hits), self.jump_to
                )
        finally:
            self.post_message(TaskFinished(task))

    def jump_to(self, key: str | None) -> None:
        """Put the cursor on ``key`` wherever it is in the log; a paper the log's filters hide is shown all the same."""
        if not key:
            return
        self.show_view("view-log")
        log = self.query_one(ReadingLog)
        if (index := log.index_of(key)) is not None:
            log.move_cursor(index)
        else:
            self.selected, self.selected_status = key, ""
            self.load_log(keep=key)
            self.load_detail(key, self._note_status(key))

    # -- critic and constitution ----------------------------------------------

    def action_rescore(self) -> None:
        """Judge the selected paper again with the LLM critic (needs an endpoint)."""
        if key := self._need_selection():
            self.rescore(key)

    @work(thread=True, exclusive=True, group="rescore", exit_on_error=False)
    def rescore(self, key: str) -> None:
        """A fresh verdict from the LLM critic; the reader's status is left alone."""
        task = f"rescore:{key}"
        self.post_message(TaskStarted(task, f"@{key} · asking the LLM critic…"))
        try:
            with self._guard("Re-score"):
                verdict, cached = self.core.rescore(key, critic="llm")
                note = f"{verdict.critic}: {verdict.decision.value} · {verdict.score:.1f}/10" + (" (cached)" if cached else "")
                self.post_message(PaperChanged(key, views.log_row(self.core, key), note=note))
        finally:
            self.post_message(TaskFinished(task))

    def action_edit_constitution(self) -> None:
        """Open the constitution in $EDITOR; the next verdicts use the edited principles."""
        editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        if shutil.which(editor[0]) is None:
            self.say(f"editor {editor[0]!r} not found; set $EDITOR", title="Constitution", severity="error")
            return
        path = self.core.settings.constitution
        if path is None:
            path = self.app.own_constitution()  # type: ignore[attr-defined]
        try:
            code = self.app.run_external([*editor, str(path)])  # type: ignore[attr-defined]
        except (SuspendNotSupported, OSError) as exc:
            self.say(f"cannot open the editor here: {exc}", title="Constitution", severity="error")
            return
        if code != 0:
            self.say(f"{editor[0]} exited with {code}; reading the file anyway", title="Constitution", severity="warning")
        self.reload_constitution(path)

    @work(thread=True, exclusive=True, group="constitution", exit_on_error=False)
    def reload_constitution(self, path: Path) -> None:
        """Parse the edited file; a broken constitution is an error notification with its line numbers."""
        with self._guard("Constitution"):
            self.core.settings.constitution = path
            constitution = self.core.reload_constitution()
            self.app.call_from_thread(
                self.say, f"{len(constitution.principles)} principles · {path}", title="Constitution reloaded"
            )
