"""The Textual app: ``triage tui [NOTE]``.

The app owns the ``Triage`` facade (the only door to the core), the stylesheet
and the command palette; the reading log and every action live on
``MainScreen``.  Importing this module imports Textual and the light parts of
triage only: Chroma, the embedding model and langchain load the first time an
action needs them, in a worker, after the first paint.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.screen import Screen

from triage.config import Settings, config_file
from triage.service import Triage
from tui.screens.main import MainScreen

__all__ = ["TriageApp", "make_app", "PaperCommands"]


class PaperCommands(Provider):
    """``@key`` in the command palette jumps to that paper in the log."""

    async def search(self, query: str) -> Hits:
        """Match the keys and titles of the rows loaded in the log."""
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return
        from tui.widgets.reading_log import ReadingLog

        rows = screen.query_one(ReadingLog).rows_by_key.values()
        matcher = self.matcher(query.lstrip("@"))
        for row in rows:
            label = f"@{row.key}  {row.title}"
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(screen._jump_to, row.key), help=f"{row.status} · go to this paper")


class TriageApp(App[None]):
    """Reading log over ``triage.service`` (never touches the stages directly)."""

    CSS_PATH = "app.tcss"
    TITLE = "triage"
    COMMANDS = App.COMMANDS | {PaperCommands}
    BINDINGS = [Binding("q", "quit", "Quit", show=False)]

    def __init__(self, core: Triage, note: Path | None = None) -> None:
        super().__init__()
        self.core = core
        self.note = note.resolve() if note is not None else None

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
            ("Add paper", "Triage a @citekey, arXiv id, DOI or URL (into the note when one is open)", screen.action_add),
            ("Promote to read", "Promote the selected paper; the note gets a [read(@key)] entry", screen.action_promote),
            ("Keep at skim", "Keep the selected paper at skim", screen.action_keep),
            ("Drop paper", "Drop the selected paper", screen.action_drop),
            ("Undo decision", "Undo the latest decision on the selected paper", screen.action_undo),
            ("Open PDF", "Open the selected paper's PDF in the system viewer", screen.action_open_pdf),
            ("Search", "Semantic search over papers and passages", screen.action_search),
            ("Similar papers", "Papers like the selected one", screen.action_similar),
            ("Re-score with LLM", "Judge the selected paper again with the LLM critic", screen.action_rescore),
            ("Edit constitution", "Open your principles in $EDITOR", screen.action_edit_constitution),
            ("Triage the note", "Triage every paper the note mentions that is not in its log yet", screen.action_run_note),
            ("Filter by status", "Cycle all / skim / read / done / dropped / queued", screen.action_cycle_filter),
            ("Show note sections", "Switch between the log and the note's tl;dr, Context, Done, Learned, Next?",
             screen.action_toggle_note),
            ("Session or library", "Show the note's session or every paper in the state", screen.action_toggle_scope),
            ("Refresh", "Re-read the note and the state", screen.action_refresh),
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
