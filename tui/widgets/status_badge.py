"""Statuses and critic decisions, coloured from the theme so they read on light and dark themes alike.

A widget that draws them declares ``COMPONENT_CLASSES`` and adds ``theme_css(its
type)`` to its ``DEFAULT_CSS``; ``get_component_rich_style("status--skim")`` then
gives the look for the current theme.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

__all__ = ["badge", "theme_css", "COMPONENT_CLASSES", "STATUSES", "DECISIONS"]

STATUSES = ("queued", "skim", "read", "done", "dropped", "error", "working")
DECISIONS = ("read", "skim", "drop")

# The theme's "muted" background with its matching text colour: contrast is the theme's job.
_STATUS_RULES = {
    "queued": "color: $text-muted; background: $foreground 10%;",
    "skim": "color: $text-warning; background: $warning-muted;",
    "read": "color: $text-success; background: $success-muted;",
    "done": "color: $text-primary; background: $primary-muted;",
    "dropped": "color: $text-error; background: $error-muted;",
    "error": "color: $text; background: $error;",
    "working": "color: $text-accent; background: $accent-muted;",
}
_DECISION_RULES = {"read": "color: $text-success;", "skim": "color: $text-warning;", "drop": "color: $text-error;"}

COMPONENT_CLASSES = {f"status--{s}" for s in STATUSES} | {f"decision--{d}" for d in DECISIONS}


def theme_css(widget_type: str) -> str:
    """The rules of the status and decision component classes, for ``widget_type``'s DEFAULT_CSS."""
    rules = [f"{widget_type} > .status--{s} {{ {rule} text-style: bold; }}" for s, rule in _STATUS_RULES.items()]
    rules += [f"{widget_type} > .decision--{d} {{ {rule} }}" for d, rule in _DECISION_RULES.items()]
    return "\n".join(rules)


def badge(status: str, style: Style | None) -> Text:
    """`` skim `` as a coloured pill, fixed width so the column lines up (``style`` from the widget)."""
    return Text(f" {status:<7} ", style=style or "reverse")
