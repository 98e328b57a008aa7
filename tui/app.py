"""The Textual app: ``triage tui [NOTE]``.

The app owns the ``Triage`` facade (the only door to the core), the stylesheet,
the theme and the command palette; the reading log and every action live on
``MainScreen``.  Importing this module imports Textual and the light parts of
triage only: Chroma, the embedding model and langchain load the first time an
action needs them, in a worker, after the first paint.

Two rules about leaving and typing:

- Quitting returns the terminal at once.  Work still running in a thread is not
  waited for (every write it makes is atomic, so stopping it loses nothing
  written): the reader is asked first.  The embedding child is ended, not waited on.
- A key belongs to the screen the reader saw when typing it.  Keys typed while a
  dialog was closing (after Enter, before the log is drawn again) are dropped
  rather than taken as the log's one-letter commands.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.screen import Screen

from triage.config import Settings, config_file
from triage.errors import TriageError
from triage.service import Triage
from triage.tui.screens.main import MainScreen

__all__ = ["TriageApp", "make_app", "PaperCommands"]

#: Keys are held back at most this long after a dialog closes, should the log not be redrawn sooner.
CLOSING_AT_MOST_S = 1.0


class PaperCommands(Provider):
    """``@key`` or any words of a title or author in the command palette jump to that paper, wherever it is."""

    async def search(self, query: str) -> Hits:
        """Search the whole state (key, title, authors) in a thread; the log need not have loaded the paper."""
        screen = self.screen
        if not isinstance(screen, MainScreen) or not query.strip("@ "):
            return
        text = query.strip().lstrip("@")
        found = await asyncio.to_thread(screen.core.find_papers, text, limit=12)
        matcher = self.matcher(text)
        for line in found:
            label = f"@{line.key}  {line.title}"
            score = max(matcher.match(label), 0.5)  # the state found it by every word: never drop it
            yield Hit(score, matcher.highlight(label), partial(screen.jump_to, line.key),
                      help=f"{line.status.value} · go to this paper")


class _DaemonThreads(ThreadPoolExecutor):
    """The event loop's executor for thread workers: one daemon thread per job, never waited for at exit.

    asyncio.run (hence App.run) and the interpreter both join a normal pool's threads,
    so quitting during a triage or the first search waited for it (7 s measured).
    """

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:  # type: ignore[override]
        """Run ``fn`` in a new daemon thread."""
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 -- handed to whoever awaits the future
                future.set_exception(exc)

        threading.Thread(target=run, name="triage-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the threads are daemons."""


class TriageApp(App[None]):
    """Reading log over ``triage.service`` (never touches the stages directly)."""

    CSS_PATH = "app.tcss"
    TITLE = "triage"
    COMMANDS = App.COMMANDS | {PaperCommands}
    # The log shows its own q early in the footer; this one serves every other screen.
    BINDINGS = [Binding("q", "quit", "Quit", show=False, tooltip="Quit (asks first while papers are being triaged)")]

    def __init__(self, core: Triage, note: Path | None = None) -> None:
        super().__init__()
        self.core = core
        self.note = note.resolve() if note is not None else None
        self._typing_lost_until = 0.0  # keys typed before this instant were meant for a closed dialog
        self._screen_closing = False
        self._left = False  # the reader quit (rather than the app failing)
        wanted = core.settings.tui.theme
        self._theme_problem = "" if wanted in self.available_themes else wanted
        if not self._theme_problem:
            self.theme = wanted

    def on_mount(self) -> None:
        asyncio.get_running_loop().set_default_executor(_DaemonThreads())
        self.theme_changed_signal.subscribe(self, lambda theme: self.keep_theme(theme.name))
        if self._theme_problem:
            self.notify(f"no theme called {self._theme_problem!r}; pick one with ctrl+p → Theme",
                        title="Theme", severity="warning", markup=False)

    @work(thread=True, exclusive=True, group="theme", exit_on_error=False)
    def keep_theme(self, name: str) -> None:
        """Write the theme the reader picked into their config file, so the next start has it."""
        from triage.tui.config_file import remember_theme

        if name == self.core.settings.tui.theme:
            return
        try:
            remember_theme(config_file(), name)
            self.core.settings.tui.theme = name
        except (TriageError, OSError) as exc:
            self.call_from_thread(self.notify, str(exc), title="Theme", severity="warning", markup=False)

    # -- keys meant for a dialog that is closing ------------------------------

    def pop_screen(self):  # type: ignore[override]
        """Close the top screen; until the log is drawn again, keys were meant for the closing one."""
        if len(self.screen_stack) > 1 and isinstance(self.screen_stack[-2], MainScreen):
            self._screen_closing = True
            self.set_timer(CLOSING_AT_MOST_S, self.screen_shown)  # should the log never resume
        return super().pop_screen()

    def screen_shown(self) -> None:
        """The log is on screen again (``MainScreen`` calls this once it has been redrawn)."""
        if self._screen_closing:
            self._screen_closing = False
            self._typing_lost_until = time.monotonic()

    async def on_event(self, event: events.Event) -> None:
        """Drop keys typed into a dialog that was closing (they reach the log's commands otherwise)."""
        if isinstance(event, events.Key) and not event.is_forwarded and (
            self._screen_closing or event.time < self._typing_lost_until
        ):
            return
        await super().on_event(event)

    # -- leaving --------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit now; with papers still being triaged, ask first (they stop where they are)."""
        from triage.tui.screens.confirm import ConfirmScreen

        busy = self.main.busy() if any(isinstance(s, MainScreen) for s in self.screen_stack) else []
        if not busy:
            self.quit_now()
            return
        question = (f"{len(busy)} task{'s are' if len(busy) != 1 else ' is'} still running "
                    f"({', '.join(busy[:3])}{'…' if len(busy) > 3 else ''}). Quit anyway?")
        self.push_screen(ConfirmScreen(question, "Quit (y)", "Stay (n)"), lambda yes: self.quit_now() if yes else None)

    def quit_now(self) -> None:
        """Leave without waiting on anything: the embedding child is ended, running threads are not joined."""
        self.core.stop_embedder()
        self._left = True
        self.exit()

    def run(self, *args, **kwargs):  # type: ignore[override]
        """Run until the reader quits, then end the process at once.

        Unwinding an interpreter that has loaded Chroma, numpy and the rest for a
        search took 0.5 s after the terminal was back (measured in bench_tui); there
        is nothing left to save by then (writes are atomic, the child is gone, the
        log handlers are flushed here).  A crash still returns, and prints, as usual.
        """
        result = super().run(*args, **kwargs)
        if self._left:
            import logging
            import os
            import sys

            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(self.return_code or 0)
        return result

    def get_default_screen(self) -> Screen:
        """The reading log is the app."""
        return MainScreen(self.core, self.note)

    @property
    def main(self) -> MainScreen:
        """The reading log screen (under any dialog)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not running")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """One palette entry per action, next to Textual's own (theme, keys, quit)."""
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        for title, help_, action in (
            ("Add paper", "a · triage a @citekey, arXiv id, DOI or URL (into the note when one is open)", screen.action_add),
            ("Promote to read", "p · promote the selected paper; the note gets a [read(@key)] entry", screen.action_promote),
            ("Keep at skim", "K · keep the selected paper at skim", screen.action_keep),
            ("Drop paper", "d · drop the selected paper", screen.action_drop),
            ("Undo decision", "u · undo the latest decision on the selected paper", screen.action_undo),
            ("Filter the log", "/ · words of the key, title or authors", screen.action_find),
            ("Paper detail full-screen", "enter or z · and back", screen.action_toggle_detail),
            ("Open PDF", "o · the selected paper's PDF in the system viewer", screen.action_open_pdf),
            ("Search", "s · semantic search over papers and passages", screen.action_search),
            ("Similar papers", "S · papers like the selected one", screen.action_similar),
            ("Re-score with LLM", "R · judge the selected paper again with the LLM critic", screen.action_rescore),
            ("Edit constitution", "e · your principles in $EDITOR", screen.action_edit_constitution),
            ("Triage the note", "T · every paper the note mentions that is not in its log yet", screen.action_run_note),
            ("Filter by status", "f · all / skim / read / done / dropped / queued", screen.action_cycle_filter),
            ("Show note sections", "n · the log or the note's tl;dr, Context, Done, Learned, Next?",
             screen.action_toggle_note),
            ("Session or library", "L · the note's session or every paper in the state", screen.action_toggle_scope),
            ("Refresh", "r · read the note and the state again", screen.action_refresh),
            ("Keys", "? or F1 · every key, by what it is for", screen.action_help),
        ):
            yield SystemCommand(title, help_, action)

    # -- hooks the screen uses (kept here so tests can replace them) -------------

    def opener(self) -> list[str] | None:
        """The command that opens a file in the system viewer, or None when there is none."""
        for name in ("xdg-open", "open"):
            if path := shutil.which(name):
                return [path]
        return None

    def run_external(self, argv: list[str]) -> int:
        """Run a terminal program (the reader's editor) with the app suspended; its exit code."""
        with self.suspend():
            return subprocess.call(argv)

    def own_constitution(self) -> Path:
        """The reader's copy of the constitution, made from the shipped default on first edit."""
        target = config_file().parent / "constitution.md"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.core.constitution.text, encoding="utf-8")
            self.notify(f"Copied the default constitution to {target}; set constitution = \"{target}\" in "
                        f"{config_file()} to keep using it.", title="Constitution", timeout=10, markup=False)
        return target


def make_app(settings: Settings | None = None, *, core: Triage | None = None, note: Path | None = None) -> TriageApp:
    """The app for the CLI and the tests (which pass their own settings or core)."""
    if core is None:
        settings = settings or Settings.load()
        # The screen must never wait on torch's import, which holds the GIL: the model runs in a child process.
        embedding = settings.embedding.model_copy(update={"child_process": True})
        core = Triage(settings.model_copy(update={"embedding": embedding}))
    return TriageApp(core, note)
