"""The coloured status word shown in the log and the detail pane."""

from __future__ import annotations

from rich.text import Text

__all__ = ["badge", "STATUS_STYLES"]

#: One look per status, the same in every widget.
STATUS_STYLES = {
    "queued": "bold #1e1e1e on #8a8a8a",
    "skim": "bold #1e1e1e on #e5c07b",
    "read": "bold #1e1e1e on #98c379",
    "done": "bold #1e1e1e on #61afef",
    "dropped": "bold #e6e6e6 on #7a3b3b",
    "error": "bold #ffffff on #be5046",
    "working": "bold #1e1e1e on #c678dd",
}


def badge(status: str) -> Text:
    """`` skim `` as a coloured pill, fixed width so the column lines up."""
    return Text(f" {status:<7} ", style=STATUS_STYLES.get(status, "reverse"))
