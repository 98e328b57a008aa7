"""Snapshots of the main screens at a fixed size (update with ``--snapshot-update``, review the SVGs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.conftest import SIZE
from tests.tui.helpers import select, settle
from triage.service import Triage
from triage.tui.app import make_app

OKAFOR = "okaforRoutingAdaptersFrozen2024"


@pytest.fixture
def note(tmp_path: Path) -> Path:
    path = tmp_path / "session.md"
    path.write_text(
        "## tl;dr\nRouting, bridges and merging.\n\n## Context\n- Routing between frozen towers; also @brennanSparseMixturesModular2023.\n\n"
        "## Done\n\n## Learned\n- A linear map bridges the two latent spaces.\n\n## Next?\n- Merging without a server.\n\n"
        "## Log\n- [skim(@haddadFederatedLoRAMerging2024)]\n- [skim(@okaforRoutingAdaptersFrozen2024)]\n"
        "- [read(@okaforRoutingAdaptersFrozen2024)]\n- [skim(@moreauBenchmarkingTabularCrop2022)]\n",
        encoding="utf-8",
    )
    return path


async def _loaded(pilot: Pilot) -> None:
    await settle(pilot)


def test_library_log(snap_compare, seeded_core: Triage) -> None:
    """The library: three papers with badges, scores, decisions and top principles; the first one's detail."""
    assert snap_compare(make_app(core=seeded_core), terminal_size=SIZE, run_before=_loaded)


def test_session_log(snap_compare, seeded_core: Triage, note: Path) -> None:
    """A note's session: log entries in order, then the mentioned paper not skimmed yet (queued)."""
    assert snap_compare(make_app(core=seeded_core, note=note), terminal_size=SIZE, run_before=_loaded)


def test_detail_pane(snap_compare, seeded_core: Triage) -> None:
    """The detail of a promoted paper: verdict, per-principle scores, quotes (one unverified), abstract, history."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await select(pilot, OKAFOR)

    assert snap_compare(make_app(core=seeded_core), terminal_size=SIZE, run_before=run_before)


def test_note_sections(snap_compare, seeded_core: Triage, note: Path) -> None:
    """The note's own sections, one tab each, the Learned tab open."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("n", "right", "right", "right")
        await settle(pilot)

    assert snap_compare(make_app(core=seeded_core, note=note), terminal_size=SIZE, run_before=run_before)


def test_status_filter(snap_compare, seeded_core: Triage) -> None:
    """Only the dropped papers."""
    assert snap_compare(make_app(core=seeded_core), terminal_size=SIZE, press=["f", "f", "f", "f"], run_before=_loaded)


def test_add_dialog_with_a_validation_error(snap_compare, seeded_core: Triage, note: Path) -> None:
    """The add dialog refusing an identifier with a space."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"two words")
        await pilot.pause()

    assert snap_compare(make_app(core=seeded_core, note=note), terminal_size=SIZE, run_before=run_before)


# -- small terminals: the title column and the paper stay readable ----------------------------


def test_library_at_80x24(snap_compare, seeded_core: Triage) -> None:
    """80×24: the detail under the log; status, key, critic and title columns; q in the footer."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await select(pilot, OKAFOR)

    assert snap_compare(make_app(core=seeded_core), terminal_size=(80, 24), run_before=run_before)


def test_session_at_60x20(snap_compare, seeded_core: Triage, note: Path) -> None:
    """60×20: the critic's columns give way to the title; the paper under the log."""
    assert snap_compare(make_app(core=seeded_core, note=note), terminal_size=(60, 20), run_before=_loaded)


def test_paper_full_screen_at_60x20(snap_compare, seeded_core: Triage) -> None:
    """60×20, Enter: the paper alone, scores and quotes readable."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await select(pilot, OKAFOR)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(core=seeded_core), terminal_size=(60, 20), run_before=run_before)


def test_help_at_80x24(snap_compare, seeded_core: Triage) -> None:
    """?: every key by group."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(core=seeded_core), terminal_size=(80, 24), run_before=run_before)


def test_filtered_by_words_of_a_title(snap_compare, seeded_core: Triage) -> None:
    """/ then words: the log narrows to the papers that hold them; the box says what is filtered."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"frozen backbones")
        await settle(pilot)

    assert snap_compare(make_app(core=seeded_core), terminal_size=(100, 30), run_before=run_before)
