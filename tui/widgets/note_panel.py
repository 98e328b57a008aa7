"""The open note's own sections (tl;dr, Context, Done, Learned, Next?), one tab each, read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown, Static, TabbedContent, TabPane

if TYPE_CHECKING:
    from triage.notes import Note

__all__ = ["NotePanel", "SECTIONS"]

#: The reader's sections, in the seed's order; the log itself is the main view.
SECTIONS = ("tl;dr", "Context", "Done", "Learned", "Next?")


def _pane_id(title: str) -> str:
    return "note-" + "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


class NotePanel(Vertical):
    """Shows each section of the note as markdown; the note is edited in the reader's editor, not here."""

    DEFAULT_CSS = """
    NotePanel {
        height: 1fr;
    }
    NotePanel #note-path {
        color: $text-muted;
        padding: 0 1;
    }
    NotePanel VerticalScroll {
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("No note open: run `triage tui NOTE`.", id="note-path")
        with TabbedContent(id="note-sections"):
            for title in SECTIONS:
                with TabPane(title, id=_pane_id(title)), VerticalScroll():
                    yield Markdown("", id=_pane_id(title) + "-md")

    def show(self, note: Note) -> None:
        """Fill every tab from the parsed note; a section the note lacks says so."""
        lines = note.text.split("\n")
        about = f"{note.path.name} · " if note.path else ""
        about += f"{len(note.entries)} log entries · {len(set(m.key for m in note.mentions))} papers mentioned"
        self.query_one("#note-path", Static).update(about)
        for title in SECTIONS:
            section = note.section(title)
            if section is None:
                body = f"*The note has no `## {title}` section.*"
            else:
                body = "\n".join(line.rstrip("\r") for line in lines[section.start_line + 1 : section.end_line + 1])
                body = body.strip() or "*empty*"
            self.query_one(f"#{_pane_id(title)}-md", Markdown).update(body)
