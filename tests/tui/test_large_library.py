"""A library of 50,000 papers is one list: End reaches the last row, a few words of a title find a paper.

The log draws only the rows on screen and fetches pages by keyset as the reader
moves; these run against a real state of 50,000 papers (``bench.bench_tui.make_big_home``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.bench_tui import big_key, make_big_home
from tests.tui.helpers import main_screen, settle, wait_until
from triage.config import FetchSettings, Settings
from triage.service import Triage
from triage.tui.app import make_app
from triage.tui.widgets.paper_detail import PaperDetail
from triage.tui.widgets.reading_log import ReadingLog

pytestmark = pytest.mark.anyio

N = 50_000


@pytest.fixture(scope="module")
def big_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_big_home(tmp_path_factory.mktemp("big") / "home", N)


@pytest.fixture
def big_core(big_library: Path, tmp_path: Path):
    home = tmp_path / "home"
    shutil.copytree(big_library, home)  # each test may change the state
    core = Triage(Settings(home=home, fetch=FetchSettings(offline=True)))
    yield core
    core.close()


def shown(pilot) -> str | None:
    detail = main_screen(pilot).query_one(PaperDetail)
    return detail.view.key if detail.view else None


async def test_end_reaches_the_last_of_50000_rows_and_words_of_a_title_find_a_paper(big_core: Triage) -> None:
    app = make_app(core=big_core)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        log = main_screen(pilot).query_one(ReadingLog)
        assert log.row_count == N and log.current.key == big_key(N - 1)  # newest first
        assert len(log.rows_by_key) <= 300  # drawn from a few pages, not 50,000 rows

        await pilot.press("end")
        assert await wait_until(pilot, lambda: log.current is not None)
        assert log.cursor == N - 1 and log.current.key == big_key(0)
        assert await wait_until(pilot, lambda: shown(pilot) == big_key(0))  # its detail follows
        await pilot.press("pageup", "k")  # the page above the last, continued from it by keyset
        assert await wait_until(pilot, lambda: log.current is not None)
        assert log.current.key == big_key(log.visible_rows + 1)

        await pilot.press("slash", *"number 31415 on modular", "enter")
        assert await wait_until(pilot, lambda: log.row_count == 1 and log.current is not None)
        assert log.current.key == big_key(31415) and app.focused is log
        assert await wait_until(pilot, lambda: shown(pilot) == big_key(31415))
        assert "Paper number 31415 on modular things" in main_screen(pilot).query_one(PaperDetail).plain()

        await pilot.press("escape")  # the filter goes, the cursor stays on the paper, in the whole list
        assert await wait_until(pilot, lambda: log.row_count == N and log.current is not None)
        assert log.current.key == big_key(31415) and log.cursor == N - 1 - 31415


async def test_the_palette_jumps_to_any_paper_of_the_state(big_core: Triage) -> None:
    app = make_app(core=big_core)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        log = main_screen(pilot).query_one(ReadingLog)
        assert big_key(123) not in log.rows_by_key  # far from what the log has loaded
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*f"@{big_key(123)}")
        await pilot.pause(0.8)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: log.current is not None and log.current.key == big_key(123))
        assert log.cursor == N - 1 - 123
        assert await wait_until(pilot, lambda: shown(pilot) == big_key(123))
