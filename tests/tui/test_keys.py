"""The keyboard: help on ? and F1, escape closes every dialog, j/k movement, Enter for the full paper,
and no key meant for a closing dialog reaching the log's one-letter commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Footer

from tests.tui.helpers import main_screen, notes_of, select, settle, wait_until
from triage.models import Status
from triage.service import Triage
from triage.tui.app import make_app
from triage.tui.screens.add_paper import AddPaperScreen
from triage.tui.screens.help import GROUPS, HelpScreen, group_of
from triage.tui.screens.main import MainScreen
from triage.tui.widgets.paper_detail import PaperDetail
from triage.tui.widgets.reading_log import ReadingLog

pytestmark = pytest.mark.anyio

HADDAD = "haddadFederatedLoRAMerging2024"
OKAFOR = "okaforRoutingAdaptersFrozen2024"
MOREAU = "moreauBenchmarkingTabularCrop2022"


def no_editor(app) -> list[list[str]]:
    """Record editor runs instead of suspending the (headless) app."""
    runs: list[list[str]] = []
    app.run_external = lambda argv: runs.append(argv) or 0
    return runs


async def test_keys_typed_while_a_dialog_closes_never_reach_the_log(seeded_core: Triage) -> None:
    """Was: `e` typed right after Enter in the add dialog opened the editor and the rest was typed into it."""
    app = make_app(core=seeded_core)
    editor = no_editor(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, HADDAD)
        await pilot.press("a", *"@nobodyNowhereAtAll1999")
        dialog = app.screen
        assert isinstance(dialog, AddPaperScreen)
        dismiss = dialog.dismiss
        late: list[events.Key] = []

        def dismiss_while_the_reader_types(result=None):
            done = dismiss(result)
            # The reader typed on: `e` and `d` arrive while the dialog closes, `p` is stuck behind a busy loop
            # and delivered after the log is back (it was typed before the log could be seen).
            for key in "ed":
                app.post_message(events.Key(key, key))
            late.append(events.Key("p", "p"))
            return done

        dialog.dismiss = dismiss_while_the_reader_types
        await pilot.press("enter")
        await settle(pilot)
        app.post_message(late[0])
        await settle(pilot)
        assert not isinstance(app.screen, AddPaperScreen)
        assert editor == []
        assert seeded_core.paper(HADDAD).status is Status.SKIM
        assert [t.actor for t in seeded_core.history(HADDAD)] == ["critic"]
        assert await wait_until(pilot, lambda: any("nobodyNowhereAtAll1999" in n for n in notes_of(pilot, "error")))

        await pilot.press("d")  # typed once the log is on screen: the log's command
        assert await wait_until(pilot, lambda: seeded_core.paper(HADDAD).status is Status.DROPPED)


async def test_help_lists_every_key_by_group_and_escape_closes_it(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            rows = app.screen.rows
            assert list(rows) == [g for g in GROUPS if g in rows]
            listed = " ".join(what for entries in rows.values() for _keys, what in entries)
            for binding in (*MainScreen.BINDINGS, *ReadingLog.BINDINGS):
                assert group_of(binding.action), binding.action  # every key of the log has a group
                assert (binding.tooltip or binding.description) in listed, binding.action
            keys = {k for entries in rows.values() for k, _ in entries}
            tokens = {token for k in keys for token in k.split()}
            assert {"j", "k", "↓", "↑", "?", "f1", "q", "K", "/", "pgdn", "end"} <= tokens
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)


async def test_escape_closes_every_dialog(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for opens in ("a", "s", "question_mark", "ctrl+p"):
            await pilot.press(opens)
            await pilot.pause(0.2)
            assert not isinstance(app.screen, MainScreen), opens
            await pilot.press("escape")
            await pilot.pause(0.2)
            assert isinstance(app.screen, MainScreen), opens


async def test_j_k_and_the_arrows_move_and_enter_shows_the_paper_full_screen(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        log = screen.query_one(ReadingLog)
        order = [log.row_at(i).key for i in range(log.row_count)]
        await pilot.press("j")
        assert log.current.key == order[1]
        await pilot.press("down", "k")
        assert log.current.key == order[1]
        await pilot.press("up")
        assert log.current.key == order[0]
        await pilot.press("enter")
        await settle(pilot)
        detail = screen.query_one(PaperDetail)
        assert screen.maximized is detail and app.focused is detail
        assert detail.region.width == 80 and detail.view.key == order[0]
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None and app.focused is log


async def test_quit_is_in_the_footer_and_rescore_only_in_help(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        shown = {key.key: key for key in footer.query("FooterKey")}
        assert "q" in shown and shown["q"].region.right <= 80  # on screen at 80 columns
        assert "question_mark" in shown and "R" not in shown


async def test_quitting_with_work_running_asks_first(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        tray = main_screen(pilot).query_one("#tray")
        tray.start("triage:x", "@x · resolving, extracting, judging…")
        await pilot.press("q")
        await pilot.pause(0.2)
        assert app.is_running and "still running (@x)" in str(app.screen.query_one("Label").render())
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.is_running and isinstance(app.screen, MainScreen)
        await pilot.press("q")
        await pilot.pause(0.2)
        await pilot.press("y")
        await pilot.pause(0.2)
    assert not app.is_running


async def test_the_filter_narrows_a_session_by_key_title_or_author(seeded_core: Triage, tmp_path: Path) -> None:
    note = tmp_path / "session.md"
    note.write_text(f"## Log\n- [skim(@{HADDAD})]\n- [skim(@{OKAFOR})]\n- [skim(@{MOREAU})]\n", encoding="utf-8")
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        log = main_screen(pilot).query_one(ReadingLog)
        for words, expected in (("lind", [OKAFOR]), ("tabular crop", [MOREAU]), ("haddadFed", [HADDAD]), ("2024", [HADDAD, OKAFOR])):
            await pilot.press("slash", "ctrl+a", "ctrl+k", *words)  # a fresh filter each time
            assert await wait_until(pilot, lambda e=expected: sorted(r.key for r in log.rows_by_key.values()) == sorted(e)), words
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: log.row_count == 3)
