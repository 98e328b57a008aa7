"""Every key the reading log answers to, by what it is for (``?`` or F1)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

__all__ = ["HelpScreen", "GROUPS", "group_of", "help_rows"]

#: Groups in the order shown, and the actions in each (actions are named without their namespace).
GROUPS: dict[str, tuple[str, ...]] = {
    "Move": ("cursor_down", "cursor_up", "page_down", "page_up", "first", "last", "focus_next", "focus_previous"),
    "Read": ("open", "toggle_detail", "open_pdf", "toggle_note"),
    "Decide": ("promote", "keep", "drop", "undo"),
    "Add": ("add", "run_note"),
    "Find": ("find", "clear_find", "cycle_filter", "toggle_scope", "search", "similar", "command_palette"),
    "Critic": ("rescore", "edit_constitution"),
    "App": ("help", "refresh", "quit"),
}


def group_of(action: str) -> str | None:
    """The help group of an action (``app.quit`` counts as ``quit``), None when it has none."""
    name = action.rsplit(".", 1)[-1].split("(", 1)[0]
    return next((group for group, actions in GROUPS.items() if name in actions), None)


def help_rows(bindings: Iterable[tuple[Binding, str]]) -> dict[str, list[tuple[str, str]]]:
    """(keys, what) per group, in ``GROUPS`` order, from (binding, key as shown) pairs; an action's keys are joined."""
    keys: dict[str, list[str]] = {}
    what: dict[str, str] = {}
    for binding, shown in bindings:
        action = binding.action.rsplit(".", 1)[-1]
        if group_of(action) is None:
            continue
        what.setdefault(action, binding.tooltip or binding.description)
        if shown not in keys.setdefault(action, []):
            keys[action].append(shown)
    rows = {group: [(" ".join(keys[a]), what[a]) for a in actions if a in keys] for group, actions in GROUPS.items()}
    return {group: entries for group, entries in rows.items() if entries}


class HelpScreen(ModalScreen[None]):
    """The keys, grouped; escape, ``?``, F1 or ``q`` closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 96;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary 60%;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen VerticalScroll {
        height: auto;
        max-height: 1fr;
    }
    HelpScreen #help-hint {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape,question_mark,f1,q", "close", "Close", show=False)]

    def __init__(self, rows: dict[str, list[tuple[str, str]]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Keys", id="help-title")
            with VerticalScroll():
                yield Static(self._table(), id="help-keys")
            yield Static("escape closes · ctrl+p finds any command or @paper", id="help-hint")

    def _table(self) -> Group:
        blocks: list[Text | Table] = []
        for group, entries in self.rows.items():
            table = Table.grid(padding=(0, 2))
            table.add_column(width=18, no_wrap=True, style="bold")
            table.add_column()
            for keys, what in entries:
                table.add_row(Text(keys), Text(what))
            blocks += [Text(group, style="bold underline"), table, Text("")]
        return Group(*blocks[:-1])

    def action_close(self) -> None:
        """Back to the log."""
        self.dismiss(None)
