"""Ask for a paper to add: ``@citekey``, arXiv id, arXiv/DOI URL or DOI."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

from triage.arxiv_id import parse_arxiv_id

__all__ = ["AddPaperScreen", "PaperIdentifier"]

_CITEKEY = re.compile(r"^@?[A-Za-z_]\w*(?:[:.\-/+]\w+)*$")
_DOI = re.compile(r"^(?:doi:)?10\.\d{4,9}/\S+$", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+/\S*$", re.IGNORECASE)


class PaperIdentifier(Validator):
    """Accepts what the resolver understands; says which kind it saw."""

    def validate(self, value: str) -> ValidationResult:
        """Valid when ``value`` is a citekey, an arXiv id, a DOI or an http(s) URL."""
        text = value.strip()
        if not text:
            return self.failure("type a @citekey, an arXiv id, a DOI or a URL")
        if parse_arxiv_id(text) or any(p.match(text) for p in (_DOI, _URL, _CITEKEY)):
            return self.success()
        if " " in text:
            return self.failure("one identifier, no spaces")
        return self.failure("not a @citekey, arXiv id (2302.11529), DOI (10.…/…) or http(s) URL")

    @staticmethod
    def kind(value: str) -> str:
        """``arxiv``, ``doi``, ``url`` or ``citekey``."""
        text = value.strip()
        if parse_arxiv_id(text):
            return "arxiv"
        for name, pattern in (("doi", _DOI), ("url", _URL)):
            if pattern.match(text):
                return name
        return "citekey"


class AddPaperScreen(ModalScreen[str | None]):
    """A one-line dialog; dismisses with the identifier (``@`` stripped from citekeys) or None."""

    DEFAULT_CSS = """
    AddPaperScreen {
        align: center middle;
    }
    AddPaperScreen > Vertical {
        width: 72;
        height: auto;
        border: thick $primary 60%;
        background: $surface;
        padding: 1 2;
    }
    AddPaperScreen Label {
        margin-bottom: 1;
    }
    AddPaperScreen #add-error {
        color: $error;
        height: auto;
        min-height: 1;
    }
    AddPaperScreen #add-hint {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, value: str = "", *, into: str = "") -> None:
        super().__init__()
        self.value = value
        self.into = into

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Add a paper" + (f" to {self.into}" if self.into else ""))
            yield Input(
                value=self.value,
                placeholder="@citekey · 2302.11529 · https://arxiv.org/abs/… · 10.xxxx/…",
                validators=[PaperIdentifier()],
                validate_on=["changed", "submitted"],
                id="add-input",
            )
            yield Static("", id="add-error")
            yield Static("enter to triage · escape to cancel", id="add-hint")

    @on(Input.Changed, "#add-input")
    def _changed(self, event: Input.Changed) -> None:
        # Show the reason only once the reader typed something, not on an empty dialog.
        message = ""
        if event.value.strip() and event.validation_result and not event.validation_result.is_valid:
            message = "; ".join(event.validation_result.failure_descriptions)
        self.query_one("#add-error", Static).update(message)

    @on(Input.Submitted, "#add-input")
    def _submitted(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#add-error", Static).update("; ".join(result.failure_descriptions))
            return
        value = event.value.strip()
        if PaperIdentifier.kind(value) == "citekey":
            value = value.lstrip("@")
        self.dismiss(value)

    def action_cancel(self) -> None:
        """Close without adding anything."""
        self.dismiss(None)
