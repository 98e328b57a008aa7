"""One rule for every action: the state changes only together with its note entry, or neither, with the reason shown.

Driven from the TUI over the real pipeline (the sample library, extraction,
index, state, note writes; the critic is scripted), and at the service, where
the rule lives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import notes_of, select, settle, wait_until
from triage.entries import is_critic_entry
from triage.errors import NoteError
from triage.models import Decision, Status
from triage.notes import read_note
from triage.service import Triage
from triage.tui.app import make_app

pytestmark = pytest.mark.anyio

OKAFOR = "okaforRoutingAdaptersFrozen2024"
MOREAU = "moreauBenchmarkingTabularCrop2022"
HADDAD = "haddadFederatedLoRAMerging2024"


def hand_logged(note: Path, key: str) -> str:
    """The note with a skim entry the reader wrote by hand for ``key``; its text."""
    text = note.read_text(encoding="utf-8") + f"- [skim(@{key})]\n  - routing between towers, my own words\n"
    note.write_text(text, encoding="utf-8")
    return text


def entries_of(note: Path, key: str) -> list[tuple[str, list[str]]]:
    return [(e.status, e.children) for e in read_note(note).entries if e.key == key]


async def test_adding_a_paper_the_reader_logged_by_hand_keeps_the_readers_decision(workspace: tuple[Triage, Path]) -> None:
    """Was: the state said read, the note had no [read(@key)] entry.  The reader's own skim entry is their decision:
    the critic may judge the paper, but neither the state nor the note gets a decision the reader did not make."""
    core, note = workspace
    core.critic.decisions[OKAFOR] = Decision.READ
    before = hand_logged(note, OKAFOR)
    app = make_app(core=core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("a", *f"@{OKAFOR}", "enter")
        assert await wait_until(pilot, lambda: any("already in the log" in n for n in notes_of(pilot)),
                                timeout=90), notes_of(pilot)
        await settle(pilot)
        assert note.read_text(encoding="utf-8") == before  # nothing added, every byte the reader's
        view = core.paper(OKAFOR)
        assert view is not None and view.status is Status.SKIM
        assert [(t.actor, t.source) for t in core.history(OKAFOR)] == [("reader", "note")]
        assert not notes_of(pilot, "error")


def seeded_note(tmp_path: Path) -> Path:
    """A session note over the seeded state (tests/tui/conftest.py), no entries yet."""
    note = tmp_path / "session.md"
    note.write_text("## tl;dr\nSeeded.\n\n## Log\n", encoding="utf-8")
    return note


async def test_a_reader_decision_on_a_hand_logged_paper_writes_the_readers_entry(seeded_core: Triage, tmp_path: Path) -> None:
    note = seeded_note(tmp_path)
    hand_logged(note, HADDAD)  # skim in the state too
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, HADDAD)
        await pilot.press("p")
        assert await wait_until(pilot, lambda: seeded_core.paper(HADDAD).status is Status.READ)
        await settle(pilot)
        status, children = entries_of(note, HADDAD)[-1]
        assert status == "read" and not is_critic_entry(children)  # the reader's word, not the critic's


async def test_a_decision_when_the_note_was_moved_changes_nothing_and_says_why(seeded_core: Triage, tmp_path: Path) -> None:
    note = seeded_note(tmp_path)
    hand_logged(note, HADDAD)
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, HADDAD)
        note.rename(note.with_name("moved.md"))
        assert await wait_until(pilot, lambda: any("was moved or deleted" in n for n in notes_of(pilot, "warning")))
        await pilot.press("d")
        assert await wait_until(pilot, lambda: any("nothing was changed" in n for n in notes_of(pilot, "error")))
        await settle(pilot)
        assert seeded_core.paper(HADDAD).status is Status.SKIM
        assert [t.actor for t in seeded_core.history(HADDAD)] == ["critic"]
        assert "not found" in notes_of(pilot, "error")[0] and str(note) in notes_of(pilot, "error")[0]
        assert app.is_running


def test_undo_and_decisions_with_a_moved_note_change_nothing(seeded_core: Triage, tmp_path: Path) -> None:
    note = seeded_note(tmp_path)
    seeded_core.promote(HADDAD, note=note)
    note.rename(note.with_name("gone.md"))
    for decide in (lambda: seeded_core.drop(HADDAD, note=note), lambda: seeded_core.undo(HADDAD, note=note),
                   lambda: seeded_core.set_status(HADDAD, Status.SKIM, reason="kept at skim", note=note)):
        with pytest.raises(NoteError, match="nothing was changed"):
            decide()
    assert seeded_core.paper(HADDAD).status is Status.READ
    assert [t.actor for t in seeded_core.history(HADDAD)] == ["critic", "reader"]


def test_a_note_moved_while_its_paper_was_judged_gets_no_entry_and_the_paper_no_status(
    workspace: tuple[Triage, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    core, note = workspace
    core.critic.decisions[OKAFOR] = Decision.READ
    judge = core.judge

    def judge_then_move(*args, **kwargs):
        verdict = judge(*args, **kwargs)
        note.rename(note.with_name("elsewhere.md"))
        return verdict

    monkeypatch.setattr(core, "judge", judge_then_move)
    with pytest.raises(NoteError):
        core.triage(OKAFOR, note)
    assert core.paper(OKAFOR).status is Status.QUEUED  # known, judged (the verdict is kept), not decided
    assert core.paper(OKAFOR).verdict is not None
    assert "[read(" not in note.with_name("elsewhere.md").read_text(encoding="utf-8")


def test_a_hand_logged_paper_the_critic_drops_gets_the_verdict_line(workspace: tuple[Triage, Path]) -> None:
    core, note = workspace
    core.critic.decisions[MOREAU] = Decision.DROP
    before = hand_logged(note, MOREAU)
    outcome = core.triage(MOREAU, note)
    assert outcome.written and core.paper(MOREAU).status is Status.DROPPED
    assert note.read_text(encoding="utf-8").startswith(before)
    status, children = entries_of(note, MOREAU)[-1]
    assert status == "skim" and is_critic_entry(children) and "triage: drop" in children[0]


def test_a_hand_logged_paper_the_critic_keeps_at_skim_adds_nothing(workspace: tuple[Triage, Path]) -> None:
    core, note = workspace
    core.critic.decisions[MOREAU] = Decision.SKIM
    before = hand_logged(note, MOREAU)
    outcome = core.triage(MOREAU, note)
    assert not outcome.written and outcome.message == "already in the log"
    assert note.read_text(encoding="utf-8") == before and core.paper(MOREAU).status is Status.SKIM
