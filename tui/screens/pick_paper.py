"""A citekey arXiv answers with several papers: the reader picks which one it names."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from triage.models import Paper

__all__ = ["PickPaperScreen"]


class PickPaperScreen(ModalScreen[str | None]):
    """Lists the candidates; dismisses with the chosen arXiv id, or None."""

    DEFAULT_CSS = """
    PickPaperScreen {
        align: center middle;
    }
    PickPaperScreen > Vertical {
        width: 96;
        height: auto;
        max-height: 80%;
        border: thick $warning 60%;
        background: $surface;
        padding: 1 2;
    }
    PickPaperScreen OptionList {
        height: auto;
        max-height: 16;
        margin: 1 0;
    }
    PickPaperScreen #pick-hint {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, key: str, candidates: list[Paper]) -> None:
        super().__init__()
        self.key = key
        self.candidates = [c for c in candidates if c.arxiv_id]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"@{self.key} matches {len(self.candidates)} arXiv papers. Which one did you mean?",
                        markup=False)
            yield OptionList(*(Option(self._line(c), id=c.arxiv_id) for c in self.candidates), id="pick-options")
            yield Static("enter to pick (remembered for this key) · escape to cancel", id="pick-hint")

    @staticmethod
    def _line(paper: Paper) -> Text:
        # Titles and names come from arXiv: shown as plain text, never as markup.
        first = paper.authors[0] if paper.authors else "?"
        more = " et al." if len(paper.authors) > 1 else ""
        return Text(f"{paper.arxiv_id}  {paper.title}  ({first}{more}, {paper.year or '?'})")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#pick-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without choosing; the key stays unresolved."""
        self.dismiss(None)
