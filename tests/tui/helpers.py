"""Small helpers shared by the TUI tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from triage.tui.screens.main import MainScreen
from triage.tui.widgets.paper_detail import PaperDetail
from triage.tui.widgets.reading_log import ReadingLog


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let timers fire and every worker finish, a few times over (workers post messages that start workers)."""
    for _ in range(rounds):
        await pilot.pause(0.12)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def main_screen(pilot: Pilot) -> MainScreen:
    """The reading log screen."""
    screen = pilot.app.main  # type: ignore[attr-defined]
    assert isinstance(screen, MainScreen)
    return screen


def log_keys(pilot: Pilot) -> list[str]:
    """Keys of the loaded rows of the log, top to bottom."""
    log = main_screen(pilot).query_one(ReadingLog)
    return [row.key for i in range(log.row_count) if (row := log.row_at(i)) is not None]


def notes_of(pilot: Pilot, severity: str | None = None) -> list[str]:
    """Notification texts (title and message), optionally of one severity."""
    return [f"{n.title}: {n.message}" for n in pilot.app._notifications if severity is None or n.severity == severity]


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Pause until ``condition()`` holds (a loaded CI box runs workers late); False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.05)
    return True


async def select(pilot: Pilot, key: str) -> None:
    """Put the log's cursor on ``key`` and wait for its detail."""
    screen = main_screen(pilot)
    log = screen.query_one(ReadingLog)
    index = log.index_of(key)
    assert index is not None, f"@{key} is not loaded in the log"
    log.move_cursor(index)
    shown = await wait_until(pilot, lambda: (view := screen.query_one(PaperDetail).view) is not None and view.key == key)
    assert shown and screen.selected == key
    await settle(pilot, rounds=1)
