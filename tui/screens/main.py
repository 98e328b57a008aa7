"""The main screen: the reading log, the selected paper, the note's sections, and every action.

Every action that touches the state, the note, a PDF, the index or a critic runs
in a thread worker and reports back with a message from ``tui.messages``; the
event loop only renders.  ``TriageError`` s become error notifications; any
other exception in a worker is reported the same way by ``on_worker_state_changed``
(``exit_on_error=False``), so the app never dies under the reader.
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
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Tab, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from triage.errors import AmbiguousKeyError, ConfigError, TriageError
from triage.models import Status, Transition
from tui import views
from tui.messages import (
    Ambiguous,
    DetailLoaded,
    Failed,
    LogLoaded,
    PaperChanged,
    TaskFinished,
    TaskProgress,
    TaskStarted,
)
from tui.screens.add_paper import AddPaperScreen
from tui.screens.pick_paper import PickPaperScreen
from tui.screens.search import SearchScreen
from tui.widgets.note_panel import NotePanel
from tui.widgets.paper_detail import PaperDetail
from tui.widgets.progress_tray import ProgressTray
from tui.widgets.reading_log import ReadingLog

if TYPE_CHECKING:
    from triage.notes import Note
    from triage.service import Triage

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


class MainScreen(Screen[None]):
    """The reading log with its detail pane; the open note's sections one tab away."""

    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("p", "promote", "Read"),
        Binding("k", "keep", "Keep"),
        Binding("d", "drop", "Drop"),
        Binding("u", "undo", "Undo"),
        Binding("o", "open_pdf", "PDF"),
        Binding("slash", "search", "Find", key_display="/"),
        Binding("s", "similar", "Similar"),
        Binding("R", "rescore", "Re-score", key_display="R"),
        Binding("e", "edit_constitution", "Principles"),
        Binding("f", "cycle_filter", "Filter"),
        Binding("n", "toggle_note", "Note"),
        Binding("L", "toggle_scope", "Library", key_display="L", show=False),
        Binding("T", "run_note", "Run note", key_display="T"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(self, core: Triage, note: Path | None = None) -> None:
        super().__init__()
        self.core = core
        self.note_path = note
        self.scope = "session" if note is not None else "library"
        self.status_filter: str | None = None
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
        with TabbedContent(id="views"):
            with TabPane("Log", id="view-log"):
                yield Tabs(*(Tab(name, id=f"filter-{name}") for name in FILTERS), id="filter")
                with Horizontal(id="log-split"):
                    yield ReadingLog(id="log")
                    yield PaperDetail(id="detail")
            with TabPane("Note", id="view-note"):
                yield NotePanel(id="note-panel")
        yield ProgressTray(id="tray")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_interval(GC_FREEZE_EVERY, self._freeze_while_busy)
        self._retitle()
        self.query_one(ReadingLog).focus()
        self.load_log()

    def _retitle(self) -> None:
        where = f"{self.note_path.name} · {self.scope}" if self.note_path else "library"
        self.app.sub_title = where + (f" · {self.status_filter}" if self.status_filter else "")

    # -- loading --------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_log(self, keep: str | None = None) -> None:
        """Read the session (or the library's first page) and the counts, off the event loop."""
        with self._guard("Reading log"):
            note = views.read_session(self.note_path) if self.note_path else None
            if self.scope == "session" and note is not None:
                page = views.session_rows(self.core, note, self.status_filter)
            else:
                page = views.library_page(self.core, self.status_filter)
            if not get_current_worker().is_cancelled:
                self.post_message(LogLoaded(page, note=note, counts=self.core.state.counts(), keep=keep))

    @work(thread=True, exclusive=True, group="load-more", exit_on_error=False)
    def load_more(self, offset: int) -> None:
        """The next page of the library."""
        with self._guard("Reading log"):
            self.post_message(LogLoaded(views.library_page(self.core, self.status_filter, offset=offset)))

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load_detail(self, key: str, note_status: str = "") -> None:
        """The selected paper's verdict, sections (extraction cache) and history."""
        with self._guard(f"@{key}"):
            view = views.paper_view(self.core, key, note_status)
            if not get_current_worker().is_cancelled:
                self.post_message(DetailLoaded(view))

    @on(LogLoaded)
    def _log_loaded(self, message: LogLoaded) -> None:
        log = self.query_one(ReadingLog)
        log.show(message.page, keep=message.keep or self.selected)
        if message.note is not None:
            self.note = message.note
            self.query_one(NotePanel).show(message.note)
        if message.page.offset == 0:
            self._label_filters(message.counts)
            if not message.page.rows:
                self.selected = None
                if self.status_filter:
                    empty = f"No {self.status_filter} papers here; press f for the next filter."
                elif self.scope == "session":
                    empty = "The note names no papers yet: press a to add one."
                else:
                    empty = "No papers yet: press a to add one, or open a note with triage tui NOTE."
                self.query_one(PaperDetail).show(None, empty=empty)

    def _label_filters(self, counts: dict[str, int]) -> None:
        tabs = self.query_one("#filter", Tabs)
        for name in FILTERS:
            n = sum(counts.values()) if name == "all" else counts.get(name, 0)
            label = name if self.scope == "session" else f"{name} {n}"
            tabs.query_one(f"#filter-{name}", Tab).label = label

    @on(ReadingLog.NeedMore)
    def _need_more(self, message: ReadingLog.NeedMore) -> None:
        self.load_more(message.offset)

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
            self.query_one(PaperDetail).show(message.view)

    @on(PaperChanged)
    def _paper_changed(self, message: PaperChanged) -> None:
        log = self.query_one(ReadingLog)
        if message.reload or message.row is None or message.row.key not in log.rows_by_key:
            self._reload_soon(message.key if message.focus else None)
        else:
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

    def action_toggle_note(self) -> None:
        """Switch between the log and the note's sections."""
        self.show_view("view-note" if self.query_one("#views", TabbedContent).active == "view-log" else "view-log")

    def show_view(self, pane: str) -> None:
        """Show the log or the note, and focus what is in it."""
        # TabbedContent follows the focus back to the pane that holds it, so clear it first.
        self.set_focus(None)
        self.query_one("#views", TabbedContent).active = pane
        target = self.query_one(ReadingLog) if pane == "view-log" else self.query_one("#note-sections").query_one(Tabs)
        self.call_after_refresh(target.focus)

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
        row = self.query_one(ReadingLog).rows_by_key.get(self.selected or "")
        prefill = f"@{row.key}" if row is not None and not row.in_state else ""
        into = self.note_path.name if self.note_path else ""
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
                    if self.note_path is not None:
                        outcome = self.core.triage_into_note(identifier, self.note_path)
                        verdict, key = outcome.verdict, outcome.key
                        where = "written to the note" if outcome.written else (outcome.message or "not written")
                    else:
                        paper, _sections, verdict, _cached = self.core.triage(identifier)
                        key, where = paper.key, "in the library"
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
            "promote": lambda: self.core.promote(key, note=self.note_path),
            "keep": lambda: self.core.set_status(key, Status.SKIM, reason="kept at skim", note=self.note_path),
            "drop": lambda: self.core.drop(key, note=self.note_path),
            "undo": lambda: self.core.undo(key, note=self.note_path),
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
            record = self.core.state.get(key)
            pdf = record.paper.pdf_path if record else None
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
        self.app.push_screen(
            SearchScreen("Search papers and passages", search=lambda q: self.core.search(q, k=15)), self._jump_to
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
                self.app.call_from_thread(
                    self.app.push_screen, SearchScreen(f"Papers like @{key}", hits=hits), self._jump_to
                )
        finally:
            self.post_message(TaskFinished(task))

    def _jump_to(self, key: str | None) -> None:
        if not key:
            return
        log = self.query_one(ReadingLog)
        if key in log.rows_by_key:
            log.move_cursor(row=log.get_row_index(key))
        else:
            self.selected, self.selected_status = key, ""
            self.load_detail(key, self._note_status(key))
        self.show_view("view-log")

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
                critic = self.core.make_critic("llm")
                record = self.core.state.get(key)
                if record is None or record.paper.pdf_path is None:
                    raise ConfigError(f"@{key} has not been triaged yet", hint="press a to add it first")
                sections = self.core.extract(Path(record.paper.pdf_path))
                verdict, cached = self.core.judge(record.paper, sections, critic=critic)
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
