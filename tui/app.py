"""The Textual app: the reading log with each paper's status, score and decision."""

from __future__ import annotations

from textual import work
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

from triage.config import Settings
from triage.service import Triage


class TriageApp(App[None]):
    """Reading log over ``triage.service`` (never touches the stages directly)."""

    CSS_PATH = "app.tcss"
    TITLE = "triage"
    BINDINGS = [("q", "quit", "Quit"), ("r", "refresh", "Refresh")]

    def __init__(self, core: Triage) -> None:
        super().__init__()
        self.core = core

    def compose(self) -> ComposeResult:
        yield Header()
        table: DataTable[str] = DataTable(id="papers", cursor_type="row")
        table.add_columns("status", "key", "score", "decision", "title")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        """Reload the papers from the state in a worker, so the UI never waits on SQLite."""
        self.load_papers()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_papers(self) -> None:
        rows = []
        for record in self.core.state.papers(limit=5000):
            verdict = self.core.state.latest_verdict(record.key)
            rows.append((
                record.status.value,
                record.key,
                f"{verdict.score:.1f}" if verdict else "",
                verdict.decision.value if verdict else "",
                record.paper.title[:60],
            ))
        self.call_from_thread(self._show, rows)

    def _show(self, rows: list[tuple[str, ...]]) -> None:
        table = self.query_one("#papers", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row, key=row[1])


def make_app(settings: Settings | None = None, *, core: Triage | None = None) -> TriageApp:
    """The app for the CLI and the tests (which pass their own settings or core)."""
    return TriageApp(core or Triage(settings))
