"""The seed workflow in the TUI over the sample library: add @key, see it triaged with quotes, promote it.

These run the real pipeline (resolve from library.bib, PDF, extraction, Chroma
index with the local MiniLM, state, note writes); only the critic is scripted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import log_keys, main_screen, notes_of, select, settle, wait_until
from triage.models import Decision, Status
from triage.service import Triage
from triage.tui.app import make_app
from triage.tui.screens.search import SearchScreen
from triage.tui.widgets.paper_detail import PaperDetail
from triage.tui.widgets.progress_tray import ProgressTray
from triage.tui.widgets.reading_log import ReadingLog

pytestmark = pytest.mark.anyio

OKAFOR = "okaforRoutingAdaptersFrozen2024"
MOREAU = "moreauBenchmarkingTabularCrop2022"


async def test_add_a_key_see_it_triaged_with_quotes_promote_it_and_the_note_has_the_read_entry(
    workspace: tuple[Triage, Path],
) -> None:
    core, note = workspace
    core.critic.decisions[OKAFOR] = Decision.SKIM  # the critic keeps it at skim; the reader promotes
    before = note.read_text(encoding="utf-8")
    app = make_app(core=core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert log_keys(pilot) == []
        tray = main_screen(pilot).query_one(ProgressTray)
        started: list[str] = []
        start = tray.start
        # Record the lines as they appear: on a fast box the paper is done before any fixed pause ends.
        tray.start = lambda task, label: (started.append(task), start(task, label))[-1]  # type: ignore[method-assign]
        await pilot.press("a", *f"@{OKAFOR}")
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: set(started) == {f"triage:{OKAFOR}"})  # a progress line per paper
        await settle(pilot, rounds=5)
        assert not main_screen(pilot).query_one(ProgressTray).tasks
        assert log_keys(pilot) == [OKAFOR]
        row = main_screen(pilot).query_one(ReadingLog).rows_by_key[OKAFOR]
        assert (row.status, row.decision) == ("skim", "skim")

        text = note.read_text(encoding="utf-8")
        assert text.startswith(before) and f"- [skim(@{OKAFOR})]" in text and f"[read(@{OKAFOR})]" not in text

        detail = main_screen(pilot).query_one(PaperDetail)
        shown = detail.plain()
        assert "Routing Adapters over Frozen Multimodal Backbones" in shown
        assert "❝" in shown and "⚠ unverified" in shown
        # The quoted sentences are highlighted in the abstract and the conclusion the PDF gave.
        for part in ("abstract", "conclusion"):
            body = detail.parts[part].renderables[1]
            assert any(span.style for span in body.spans), part

        await pilot.press("p")
        await settle(pilot)
        assert core.paper(OKAFOR).status is Status.READ
        after = note.read_text(encoding="utf-8")
        assert after.startswith(text) and f"- [read(@{OKAFOR})]" in after[len(text) :]
        assert main_screen(pilot).query_one(ReadingLog).rows_by_key[OKAFOR].status == "read"
        assert not notes_of(pilot, "error")


async def test_triage_the_whole_note_then_search_and_similar(workspace: tuple[Triage, Path]) -> None:
    core, note = workspace
    note.write_text(
        note.read_text(encoding="utf-8").replace(
            "- Adapters between frozen backbones.",
            f"- Adapters between frozen backbones: @{OKAFOR}, @{MOREAU}, @haddadFederatedLoRAMerging2024, @nobodyNowhere1999.",
        ),
        encoding="utf-8",
    )
    app = make_app(core=core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert main_screen(pilot).query_one(ReadingLog).rows_by_key[OKAFOR].status == "queued"
        await pilot.press("T")
        await settle(pilot, rounds=8)
        rows = main_screen(pilot).query_one(ReadingLog).rows_by_key
        assert rows[OKAFOR].status == "read" and rows[MOREAU].status == "read"
        assert rows["nobodyNowhere1999"].status == "queued"
        assert await wait_until(pilot, lambda: any("nobodyNowhere1999" in n for n in notes_of(pilot, "error")))
        assert await wait_until(pilot, lambda: any("3 triaged, 1 failed" in n for n in notes_of(pilot)))

        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"crop yield forecasting with gradient boosted trees", "enter")
        await settle(pilot, rounds=5)
        await pilot.press("enter")  # the best hit
        await settle(pilot)
        assert main_screen(pilot).selected == MOREAU

        await select(pilot, OKAFOR)
        await pilot.press("S")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, SearchScreen)
        keys = [str(o.id).split(":", 1)[1] for o in app.screen.query_one("#search-hits").options]
        assert keys and OKAFOR not in keys
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SearchScreen)


async def test_an_ambiguous_citekey_asks_which_paper_then_triages_the_pick(workspace: tuple[Triage, Path]) -> None:
    """arXiv (the loopback replay of the project's Atom fixtures) answers the key with two papers."""
    from tests.servers.arxiv_replay import ArxivReplay
    from tests.sources.conftest import AMBIGUOUS_KEY, ATOM, PICKED, serve_the_pick
    from triage.config import ArxivSettings
    from triage.tui.screens.pick_paper import PickPaperScreen

    core, note = workspace
    key = AMBIGUOUS_KEY
    with ArxivReplay() as arxiv:
        arxiv.load_atom_dir(ATOM)
        serve_the_pick(arxiv)
        core.settings.fetch.offline = False
        core.settings.arxiv = ArxivSettings(api_url=arxiv.api_url, pdf_url=arxiv.pdf_url, delay_s=0.0, max_retries=0)
        app = make_app(core=core, note=note)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("a", *f"@{key}", "enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, PickPaperScreen))
            options = app.screen.query_one("#pick-options")
            ids = [str(options.get_option_at_index(i).id) for i in range(options.option_count)]
            assert sorted(ids) == ["2201.04567", PICKED] and options.highlighted == 0
            await pilot.press(*["down"] * ids.index(PICKED), "enter")
            # Resolving, extracting, indexing (the model loads) and judging: slow on a loaded box, so a long wait.
            assert await wait_until(pilot, lambda: key in main_screen(pilot).query_one(ReadingLog).rows_by_key, timeout=90), (
                notes_of(pilot), main_screen(pilot).busy())
            await settle(pilot)
            assert core.paper(key).arxiv_id == PICKED
            assert f"(@{key})]" in note.read_text(encoding="utf-8")  # its entry is in the log
            assert not notes_of(pilot, "error")
