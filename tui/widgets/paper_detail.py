"""The detail pane: what the critic saw (abstract, conclusion) and what it made of it."""

from __future__ import annotations

import os
import re
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from triage.models import PaperView
from triage.tui.widgets import status_badge
from triage.tui.widgets.status_badge import badge

__all__ = ["PaperDetail", "highlight"]

_MARKS = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00ad": ""})
#: The pane's blocks, top to bottom: what the reader skims first, then the critic's reasons.
PARTS = ("header", "verdict", "abstract", "conclusion", "principles", "history")


def _flat(text: str) -> str:
    return " ".join(text.translate(_MARKS).split())


def highlight(text: str, quotes: list[str], style: Style | str = "reverse") -> Text:
    """``text`` with whitespace collapsed and every quoted sentence found in it in ``style``."""
    flat = _flat(text)
    out = Text(flat)
    for quote in quotes:
        needle = _flat(quote).strip('"').rstrip(".").strip()
        if len(needle) < 12:
            continue
        for match in re.finditer(re.escape(needle), flat):
            end = match.end() + (1 if flat[match.end() : match.end() + 1] in (".", "!", "?") else 0)
            out.stylize(style, match.start(), end)
    return out


def _heading(title: str) -> Text:
    return Text(title, style="bold underline")


class PaperDetail(VerticalScroll):
    """Title, authors, year, abstract and conclusion with quotes highlighted, scores, rationales, history."""

    ALLOW_MAXIMIZE = True  # Enter on a paper shows it full-screen: the way to read it on a small terminal

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paper-detail--quote",
        "paper-detail--good",
        "paper-detail--fair",
        "paper-detail--poor",
        "paper-detail--flag",
        "paper-detail--problem",
        *status_badge.COMPONENT_CLASSES,
    }

    DEFAULT_CSS = """
    PaperDetail {
        width: 1fr;
        height: 1fr;
        border: round $secondary 40%;
        border-title-color: $text-muted;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    PaperDetail:focus-within, PaperDetail:focus {
        border: round $secondary;
    }
    PaperDetail > #detail-empty {
        color: $text-muted;
    }
    PaperDetail > .paper-detail--quote {
        background: $warning-muted;
        color: $text;
    }
    PaperDetail > .paper-detail--good { color: $text-success; }
    PaperDetail > .paper-detail--fair { color: $text-warning; }
    PaperDetail > .paper-detail--poor { color: $text-error; }
    PaperDetail > .paper-detail--flag { color: $text-error; text-style: bold; }
    PaperDetail > .paper-detail--problem { color: $text-warning; text-style: italic; }
    """ + status_badge.theme_css("PaperDetail")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: PaperView | None = None
        self.parts: dict[str, RenderableType] = {}
        self.border_title = "Paper"

    def compose(self):
        # One Static for the whole paper: the parts are blocks of one renderable, a blank line apart.
        yield Static("Select a paper in the log.", id="detail-empty")
        yield Static(id="detail-paper")

    def on_mount(self) -> None:
        # The colours are the theme's: a new theme redraws the paper.
        self.app.theme_changed_signal.subscribe(self, self._redraw)

    def _redraw(self, _theme: object) -> None:
        if self.view is not None:
            self.show(self.view, keep_scroll=True)

    def _s(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True, default=Style(reverse=True))

    def show(self, view: PaperView | None, *, empty: str = "Select a paper in the log.", keep_scroll: bool = False) -> None:
        """Render ``view`` (None clears the pane and says ``empty``); ``keep_scroll`` for the same paper redrawn."""
        self.view = view
        self.query_one("#detail-empty", Static).update(empty)
        self.query_one("#detail-empty").display = view is None
        parts = self.parts = self._parts(view) if view else {}
        blocks: list[RenderableType] = []
        for part in PARTS:
            if part in parts:
                blocks += [parts[part], Text("")]
        paper = self.query_one("#detail-paper", Static)
        paper.display = view is not None
        paper.update(Group(*blocks[:-1]))
        self.border_title = f"@{view.key}" if view else "Paper"
        if not keep_scroll:
            # Once the new heights are laid out, start from the top of the new paper.
            self.call_after_refresh(self.scroll_home, animate=False)

    def plain(self, width: int = 100) -> str:
        """What the pane shows, as plain text (for tests and copying)."""
        from rich.console import Console

        console = Console(width=width, record=True, file=open(os.devnull, "w"), color_system=None)  # noqa: SIM115
        for name in PARTS:
            if name in self.parts:
                console.print(self.parts[name])
        return console.export_text()

    # -- parts ----------------------------------------------------------------

    def _parts(self, view: PaperView) -> dict[str, RenderableType]:
        parts: dict[str, RenderableType] = {"header": self._header(view)}
        verdict = view.verdict
        quotes = [q.text for p in verdict.principles for q in p.quotes] if verdict else []
        if verdict is not None:
            parts["verdict"] = self._verdict(view)
            parts["principles"] = self._principles(view)
        abstract = (view.sections.abstract if view.sections else "") or (view.paper.abstract if view.paper else "")
        if abstract:
            parts["abstract"] = Group(_heading("Abstract"), highlight(abstract, quotes, self._s("paper-detail--quote")))
        if view.sections is not None:
            heading = view.sections.conclusion_heading or "Conclusion"
            body: Text = (
                highlight(view.sections.conclusion, quotes, self._s("paper-detail--quote"))
                if view.sections.conclusion
                else Text("no conclusion section found; judged by the abstract", style="dim italic")
            )
            parts["conclusion"] = Group(_heading(heading), body)
        if view.history:
            parts["history"] = self._history(view)
        return parts

    def _header(self, view: PaperView) -> RenderableType:
        lines: list[RenderableType] = []
        paper = view.paper
        lines.append(Text(paper.title if paper and paper.title else f"@{view.key}", style="bold"))
        if paper is not None:
            who = "; ".join(paper.authors[:6]) + (" et al." if len(paper.authors) > 6 else "")
            meta = Text()
            meta.append(who or "unknown authors", style="italic")
            if paper.year:
                meta.append(f" · {paper.year}")
            if paper.arxiv_id:
                meta.append(f" · arXiv:{paper.arxiv_id}", style="dim")
            lines.append(meta)
        status = Text.assemble(badge(view.status, self._s(f"status--{view.status}")), " ", Text(f"@{view.key}", style="dim"))
        lines.append(status)
        if view.problem:
            lines.append(Text(view.problem, style=self._s("paper-detail--problem")))
        return Group(*lines)

    @staticmethod
    def _verdict(view: PaperView) -> RenderableType:
        v = view.verdict
        assert v is not None
        line = Text()
        line.append(f"{v.decision.value}", style="bold")
        line.append(f" · {v.score:.1f}/10 · confidence {v.confidence:.2f} · {v.critic}")
        cost = Text(
            f"cost ${v.cost_usd:.4f} · tokens {v.tokens.prompt}+{v.tokens.completion}"
            f" · {view.verdicts} verdict{'s' if view.verdicts != 1 else ''} kept",
            style="dim",
        )
        revision = Text("revision: " + (v.revision or "none"), style="" if v.revision else "dim")
        return Group(line, cost, revision)

    def _principles(self, view: PaperView) -> RenderableType:
        v = view.verdict
        assert v is not None
        lines: list[RenderableType] = [_heading("Principles")]
        for p in v.principles:
            line = Text()
            line.append(f"{p.id:<18.18}", style="bold")
            line.append(f" ×{p.weight:<3g} ", style="dim")
            if p.score is None:
                line.append("  –  no evidence", style="dim")
            else:
                filled = round(p.score)
                colour = self._s("paper-detail--good" if p.score >= 6 else "paper-detail--fair" if p.score >= 3.5 else "paper-detail--poor")
                line.append(f"{p.score:4.1f} ")
                line.append("█" * filled, style=colour)
                line.append("░" * (10 - filled), style="dim")
            if p.flagged:
                line.append(" ⚠", style=self._s("paper-detail--flag"))
            lines.append(line)
            if p.rationale:
                lines.append(Padding(Text(p.rationale, style="dim"), (0, 0, 0, 2)))
            for q in p.quotes:
                quote = Text()
                if not q.verified:
                    quote.append("⚠ unverified ", style=self._s("paper-detail--flag"))
                quote.append("❝" + _flat(q.text) + "❞", style="italic" if q.verified else self._s("paper-detail--poor") + Style(italic=True))
                lines.append(Padding(quote, (0, 0, 0, 2)))
        return Group(*lines)

    def _history(self, view: PaperView) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, style="dim")
        table.add_column(no_wrap=True)
        table.add_column()
        for t in view.history:
            move = Text.assemble(Text(t.old.value if t.old else "new"), " → ", badge(t.new.value, self._s(f"status--{t.new.value}")))
            table.add_row(t.at.strftime("%Y-%m-%d %H:%M"), move, Text(f"{t.actor}: {t.reason}", style="dim"))
        return Group(_heading("History"), table)
