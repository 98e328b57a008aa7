"""Pilot tests: every action of the reading log, driven by key presses, over a seeded state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.tui.conftest import ScriptedCritic
from tests.tui.helpers import log_keys, main_screen, notes_of, select, settle, wait_until
from triage.errors import ConfigError
from triage.models import Status
from triage.service import Triage
from triage.tui.app import make_app
from triage.tui.screens.add_paper import AddPaperScreen, PaperIdentifier
from triage.tui.widgets.paper_detail import PaperDetail
from triage.tui.widgets.progress_tray import ProgressTray
from triage.tui.widgets.reading_log import ReadingLog

pytestmark = pytest.mark.anyio

HADDAD = "haddadFederatedLoRAMerging2024"
OKAFOR = "okaforRoutingAdaptersFrozen2024"
MOREAU = "moreauBenchmarkingTabularCrop2022"


@pytest.fixture
def note(tmp_path: Path) -> Path:
    """A session note whose log already skimmed the seeded papers."""
    path = tmp_path / "session.md"
    path.write_text(
        "## tl;dr\nSeeded session.\n\n## Context\n- Routing between frozen towers, see @brennanSparseMixturesModular2023.\n\n"
        "## Done\n\n## Learned\n- Linear maps bridge latent spaces.\n\n## Next?\n- Merge adapters.\n\n## Log\n"
        f"- [skim(@{HADDAD})]\n  - merging without a server\n- [skim(@{OKAFOR})]\n- [skim(@{MOREAU})]\n",
        encoding="utf-8",
    )
    return path


def detail_text(pilot) -> str:
    return main_screen(pilot).query_one(PaperDetail).plain()


async def test_the_log_lists_the_library_with_status_score_decision_and_top_principle(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = main_screen(pilot).query_one(ReadingLog)
        assert set(log_keys(pilot)) == {HADDAD, OKAFOR, MOREAU}
        row = table.rows_by_key[OKAFOR]
        assert (row.status, row.score, row.decision, row.top) == ("read", 7.5, "read", "modularity")
        assert table.rows_by_key[MOREAU].status == "dropped"


async def test_a_note_shows_its_session_in_log_order_then_unskimmed_mentions(seeded_core: Triage, note: Path) -> None:
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert log_keys(pilot) == [HADDAD, OKAFOR, MOREAU, "brennanSparseMixturesModular2023"]
        assert main_screen(pilot).query_one(ReadingLog).rows_by_key["brennanSparseMixturesModular2023"].status == "queued"
        await pilot.press("L")  # the whole library instead of the session
        await settle(pilot)
        assert "brennanSparseMixturesModular2023" not in log_keys(pilot)


async def test_filter_by_status_cycles_through_the_statuses(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("f")  # skim
        await settle(pilot)
        assert log_keys(pilot) == [HADDAD]
        await pilot.press("f", "f", "f")  # read, done, dropped
        await settle(pilot)
        assert log_keys(pilot) == [MOREAU]
        await pilot.press("f", "f")  # queued, all
        await settle(pilot)
        assert len(log_keys(pilot)) == 3


async def test_the_detail_pane_shows_scores_rationales_quotes_and_history(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, OKAFOR)
        text = detail_text(pilot)
        assert "Routing Adapters Between Frozen Backbones" in text and "Okafor, Ada; Lind, Per · 2024" in text
        assert "7.5/10" in text and "scripted:test" in text and "cost $0.0004" in text
        assert "revision: self-critique lowered modularity" in text
        assert "scripted rationale for modularity" in text
        assert "⚠ unverified ❝This sentence was never written by the authors.❞" in text
        assert "History" in text and "critic: scripted: read" in text
        # The quoted abstract sentence is highlighted in the abstract.
        abstract = main_screen(pilot).query_one(PaperDetail).parts["abstract"].renderables[1]
        quoted = [abstract.plain[span.start : span.end] for span in abstract.spans if span.style]
        assert quoted == ["We route small adapters between frozen vision and language backbones."]


async def test_promote_keep_drop_undo_go_through_the_service_and_the_note(seeded_core: Triage, note: Path) -> None:
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, HADDAD)
        before = note.read_text(encoding="utf-8")
        await pilot.press("p")
        await settle(pilot)
        assert seeded_core.paper(HADDAD).status is Status.READ
        text = note.read_text(encoding="utf-8")
        assert text.startswith(before) and f"- [read(@{HADDAD})]" in text[len(before) :]
        assert main_screen(pilot).query_one(ReadingLog).rows_by_key[HADDAD].status == "read"

        await pilot.press("u")
        await settle(pilot)
        assert seeded_core.paper(HADDAD).status is Status.SKIM
        assert f"- [skim(@{HADDAD})] promotion undone by the reader: back to skim\n" in note.read_text(encoding="utf-8")

        await pilot.press("d")
        await settle(pilot)
        assert seeded_core.paper(HADDAD).status is Status.DROPPED
        assert f"- [drop(@{HADDAD})] dropped by the reader\n" in note.read_text(encoding="utf-8")

        await pilot.press("K")
        await settle(pilot)
        assert seeded_core.paper(HADDAD).status is Status.SKIM
        assert [t.actor for t in seeded_core.history(HADDAD)][-4:] == ["reader"] * 4
        assert not notes_of(pilot, "error")


async def test_a_decision_on_a_paper_the_state_does_not_know_is_an_error_notification(seeded_core: Triage, note: Path) -> None:
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, "brennanSparseMixturesModular2023")
        await pilot.press("p")
        await settle(pilot)
        assert await wait_until(pilot, lambda: any("no paper @brennanSparseMixturesModular2023" in n for n in notes_of(pilot, "error")))
        assert app.is_running


def test_the_identifier_validator() -> None:
    v = PaperIdentifier()
    for good in ("@pfeifferModularDeepLearning2023", "pfeifferModularDeepLearning2023", "2302.11529", "2302.11529v2",
                 "arXiv:2302.11529", "hep-th/9901001", "https://arxiv.org/abs/2302.11529", "10.1145/3442188.3445922"):
        assert v.validate(good).is_valid, good
    for bad in ("", "   ", "two words", "@", "ftp://x", "http://", "@key!"):
        assert not v.validate(bad).is_valid, bad
    assert PaperIdentifier.kind("2302.11529") == "arxiv" and PaperIdentifier.kind("@abc2020") == "citekey"


async def test_add_refuses_an_invalid_identifier_and_keeps_the_dialog(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.press(*"not valid", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AddPaperScreen)
        assert "no spaces" in str(app.screen.query_one("#add-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AddPaperScreen)


async def test_add_an_unknown_key_is_an_error_notification_not_a_crash(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("a", *"@nobodyNowhereAtAll1999", "enter")
        await settle(pilot)
        assert await wait_until(pilot, lambda: bool(notes_of(pilot, "error")))
        errors = notes_of(pilot, "error")
        assert "nobodyNowhereAtAll1999" in errors[0]
        assert app.is_running and not main_screen(pilot).query_one(ProgressTray).tasks


async def test_add_prefills_the_selected_queued_paper(seeded_core: Triage, note: Path) -> None:
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, "brennanSparseMixturesModular2023")
        await pilot.press("a")
        await pilot.pause()
        assert app.screen.query_one("#add-input").value == "@brennanSparseMixturesModular2023"


async def test_open_pdf_hands_the_file_to_the_viewer(seeded_core: Triage, tmp_path: Path) -> None:
    pdf = tmp_path / "okafor.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    record = seeded_core._state.get(OKAFOR)
    seeded_core._state.upsert_paper(record.paper.model_copy(update={"pdf_path": pdf}))
    marker = tmp_path / "opened.txt"
    app = make_app(core=seeded_core)
    app.opener = lambda: [sys.executable, "-c", f"import sys; open({str(marker)!r}, 'w').write(sys.argv[1])"]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, OKAFOR)
        await pilot.press("o")
        await settle(pilot)
        for _ in range(50):
            if marker.exists():
                break
            await pilot.pause(0.1)
        assert marker.read_text() == str(pdf)


async def test_open_pdf_without_a_viewer_or_a_file_says_so(seeded_core: Triage, tmp_path: Path) -> None:
    pdf = tmp_path / "okafor.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    record = seeded_core._state.get(OKAFOR)
    seeded_core._state.upsert_paper(record.paper.model_copy(update={"pdf_path": pdf}))
    app = make_app(core=seeded_core)
    app.opener = lambda: None
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, OKAFOR)
        await pilot.press("o")
        await settle(pilot)
        assert await wait_until(pilot, lambda: any("no PDF viewer found" in n for n in notes_of(pilot, "error")))
        await select(pilot, MOREAU)  # no PDF at all
        await pilot.press("o")
        await settle(pilot)
        assert await wait_until(pilot, lambda: any(f"no local PDF for @{MOREAU}" in n for n in notes_of(pilot, "error")))


async def test_rescore_without_an_llm_endpoint_is_an_error_notification(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, OKAFOR)
        await pilot.press("R")
        await settle(pilot)
        assert await wait_until(pilot, lambda: bool(notes_of(pilot, "error")))
        errors = notes_of(pilot, "error")
        assert "the LLM critic needs an endpoint" in errors[0] and "OPENAI_API_KEY" in errors[0]


async def test_rescore_with_the_llm_critic_keeps_the_status_and_shows_the_new_verdict(
    seeded_core: Triage, sample_library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = sample_library.parent / "papers" / f"{OKAFOR}.pdf"
    record = seeded_core._state.get(OKAFOR)
    seeded_core._state.upsert_paper(record.paper.model_copy(update={"pdf_path": pdf}))
    llm = ScriptedCritic()
    llm.name = "llm:scripted"

    def make_critic(kind: str):
        if kind != "llm":
            raise ConfigError("only the llm critic here")
        return llm

    monkeypatch.setattr(seeded_core, "make_critic", make_critic)
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await select(pilot, OKAFOR)
        await pilot.press("R")
        await settle(pilot)
        assert llm.calls == [OKAFOR]
        assert seeded_core.paper(OKAFOR).verdict.critic == "llm:scripted"
        assert seeded_core.paper(OKAFOR).status is Status.READ
        assert "llm:scripted" in detail_text(pilot)
        assert not notes_of(pilot, "error")


CONSTITUTION = "promote_at: 6.0\ndrop_below: 3.5\n\n## modularity (weight 2)\nModules over monoliths.\n"


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """$EDITOR is a script that replaces the file with what the test wants."""

    def use(content: str) -> Path:
        source = tmp_path / "new-constitution.md"
        source.write_text(content, encoding="utf-8")
        script = tmp_path / "editor.py"
        script.write_text(f"import shutil, sys\nshutil.copy({str(source)!r}, sys.argv[1])\n", encoding="utf-8")
        monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
        return source

    return use


def _no_suspend(app) -> None:
    # The headless test driver cannot suspend; the real suspend is exercised under tmux.
    app.run_external = lambda argv: subprocess.call(argv)


async def test_edit_constitution_opens_editor_and_reloads(seeded_core: Triage, editor, triage_home: Path) -> None:
    editor(CONSTITUTION)
    app = make_app(core=seeded_core)
    _no_suspend(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        own = seeded_core.settings.constitution
        assert own is not None and own.read_text(encoding="utf-8") == CONSTITUTION
        assert [p.id for p in seeded_core.constitution.principles] == ["modularity"]
        assert await wait_until(pilot, lambda: any("1 principles" in n for n in notes_of(pilot)))
        assert not notes_of(pilot, "error")


async def test_a_broken_constitution_is_an_error_notification(seeded_core: Triage, editor) -> None:
    editor("## modularity (weight lots)\n")
    app = make_app(core=seeded_core)
    _no_suspend(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert await wait_until(pilot, lambda: bool(notes_of(pilot, "error")))
        assert app.is_running


async def test_without_suspend_support_the_editor_is_an_error_not_a_crash(seeded_core: Triage, editor) -> None:
    editor(CONSTITUTION)
    app = make_app(core=seeded_core)  # the headless driver cannot suspend
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert await wait_until(pilot, lambda: any("cannot open the editor here" in n for n in notes_of(pilot, "error")))


async def test_the_note_sections_are_one_key_away(seeded_core: Triage, note: Path) -> None:
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.query_one("#views").current == "view-note"
        assert "Seeded session." in screen.query_one("#note-tl-dr-md")._markdown
        assert "Linear maps bridge latent spaces." in screen.query_one("#note-learned-md")._markdown
        await pilot.press("n")
        await settle(pilot)
        assert screen.query_one("#views").current == "view-log"
        assert isinstance(app.focused, ReadingLog)


async def test_every_action_has_a_command_palette_entry(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in ("Add paper", "Promote to read", "Keep at skim", "Drop paper", "Undo decision", "Open PDF",
                      "Search", "Similar papers", "Re-score with LLM", "Edit constitution", "Filter by status",
                      "Show note sections"):
            assert title in titles
        # And they run from the palette.
        await select(pilot, HADDAD)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Promote to read")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert seeded_core.paper(HADDAD).status is Status.READ


async def test_a_bug_in_a_worker_is_a_notification_not_a_crash(seeded_core: Triage, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(seeded_core, "promote", broken)
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert await wait_until(pilot, lambda: any("RuntimeError: boom" in n for n in notes_of(pilot, "error")))
        assert app.is_running


async def test_the_library_is_one_list_read_a_page_at_a_time(triage_home: Path) -> None:
    """250 papers: 100 load first; End, PageUp and j/k reach every row, each page fetched when it comes into view."""
    from tests.tui.conftest import offline_settings
    from triage.models import Paper

    core = Triage(offline_settings(triage_home), critic=ScriptedCritic())
    for i in range(250):
        core._state.upsert_paper(Paper(key=f"paper{i:04d}", title=f"Paper {i}"))
    app = make_app(core=core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        log = main_screen(pilot).query_one(ReadingLog)
        assert log.row_count == 250 and log.current.key == "paper0249"  # newest first
        assert log.row_at(199) is not None and log.row_at(200) is None  # the first page and the next, prefetched
        await pilot.press("end")
        assert await wait_until(pilot, lambda: log.current is not None and log.current.key == "paper0000")
        assert await wait_until(pilot, lambda: main_screen(pilot).selected == "paper0000")
        await pilot.press("k", "k", "up")
        assert log.current.key == "paper0003"
        await pilot.press("pageup")
        assert await wait_until(pilot, lambda: log.current is not None)
        assert log.current.key == f"paper{3 + log.visible_rows:04d}"
        await pilot.press("home", "j", "down")
        assert log.current.key == "paper0247"

        log.scroll_to(y=log.max_scroll_y, animate=False)  # the scrollbar dragged (or the wheel spun) to the end
        assert await wait_until(pilot, lambda: log.row_at(249) is not None)
        assert log.row_at(249).key == "paper0000" and log.current.key == "paper0247"  # the cursor stays
        await pilot.click(log, offset=(20, 1 + 1 + 3))  # border, header, then the fourth row on screen
        row = int(log.scroll_y) + 3
        assert log.cursor == row
        await pilot.click(log, offset=(20, 1 + 1 + 3))  # a second click on the highlighted row opens it
        await settle(pilot)
        assert main_screen(pilot).maximized is not None
    core.close()


async def test_a_row_redrawn_after_a_decision_keeps_its_place_for_the_next_page() -> None:
    """A decided paper's time becomes the newest; the page after it must still continue from where it was shown."""
    from textual.app import App

    from triage.tui.views import PAGE_SIZE, LogRow, Window

    rows = [LogRow(key=f"p{i:03d}", status="skim", at=f"2026-01-01T00:{59 - i // 60:02d}:{59 - i % 60:02d}")
            for i in range(PAGE_SIZE)]

    class Host(App):
        def compose(self):
            yield ReadingLog()

    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(ReadingLog)
        log.show(Window(total=PAGE_SIZE * 2, pages={0: list(rows)}), paged=True)
        await pilot.pause()
        last = rows[-1]
        log.update(LogRow(key=last.key, status="dropped", at="2026-12-31T23:59:59"))
        assert log.row_at(PAGE_SIZE - 1).status == "dropped"
        assert log._anchor(1) == ("after", last.cursor)
