"""Semantic search over the index, and the list of papers similar to one; picks a paper to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, LoadingIndicator, OptionList
from textual.widgets.option_list import Option

from triage.errors import TriageError

__all__ = ["SearchScreen"]


def _prompt(hit: Any) -> Text:
    text = Text()
    text.append(f"{hit.score:5.2f} ", style="dim")
    text.append(f"@{hit.key}", style="bold")
    if hit.title:
        text.append(f"  {hit.title}")
    if hit.kind == "chunk" and hit.text:
        where = f"{hit.section or 'body'}, p. {hit.page}" if hit.page else (hit.section or "body")
        snippet = " ".join(hit.text.split())[:160]
        text.append(f"\n      {where}: {snippet}…", style="italic dim")
    return text


class SearchScreen(ModalScreen[str | None]):
    """Type a query (search) or browse given hits (similar); enter dismisses with the chosen key."""

    DEFAULT_CSS = """
    SearchScreen {
        align: center middle;
    }
    SearchScreen > Vertical {
        width: 90%;
        max-width: 110;
        height: 80%;
        border: thick $primary 60%;
        background: $surface;
        padding: 0 1;
    }
    SearchScreen OptionList {
        height: 1fr;
        border: none;
    }
    SearchScreen LoadingIndicator {
        height: 1;
        display: none;
    }
    SearchScreen.-searching LoadingIndicator {
        display: block;
    }
    SearchScreen #search-status {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(
        self,
        title: str,
        *,
        search: Callable[[str], list[Any]] | None = None,
        hits: list[Any] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.search_fn = search
        self.hits = hits

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="search-title")
            if self.search_fn is not None:
                yield Input(placeholder="what are you looking for? (enter to search)", id="search-input")
            yield LoadingIndicator()
            yield Label("", id="search-status")
            yield OptionList(id="search-hits")

    def on_mount(self) -> None:
        if self.hits is not None:
            self.show_hits(self.hits)
            self.query_one(OptionList).focus()

    def show_hits(self, hits: list[Any]) -> None:
        """Fill the list, one option per paper or passage."""
        self.remove_class("-searching")
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(_prompt(h), id=f"{i}:{h.key}") for i, h in enumerate(hits)])
        self.query_one("#search-status", Label).update(f"{len(hits)} result{'s' if len(hits) != 1 else ''}")
        if hits:
            options.highlighted = 0

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            return
        self.add_class("-searching")
        self.query_one("#search-status", Label).update("searching… (the first search loads the embedding model)")
        self.run_search(query)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, query: str) -> None:
        """Ask the index in a thread; the first call imports Chroma and the model."""
        assert self.search_fn is not None
        try:
            hits = self.search_fn(query)
        except TriageError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self.show_hits, hits)
        self.app.call_from_thread(self.query_one(OptionList).focus)

    def _failed(self, exc: TriageError) -> None:
        self.remove_class("-searching")
        self.query_one("#search-status", Label).update(f"search failed: {exc.message}")
        self.app.notify(str(exc), title="Search", severity="error", markup=False)

    @on(OptionList.OptionSelected, "#search-hits")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id).split(":", 1)[1])

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
