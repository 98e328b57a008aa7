"""What the app keeps and notices outside itself: the theme in the config file, the note edited elsewhere,
the state changed by another process, the embedding child at quit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.tui.conftest import offline_settings
from tests.tui.helpers import main_screen, notes_of, settle, wait_until
from triage.config import Settings
from triage.errors import ConfigError
from triage.models import Paper
from triage.service import Triage
from triage.tui.app import make_app
from triage.tui.config_file import remember_theme
from triage.tui.widgets.reading_log import ReadingLog

HADDAD = "haddadFederatedLoRAMerging2024"


def test_remember_theme_changes_only_the_theme_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    mine = '# my settings\nhome = "~/triage-data"   # kept\n\n[llm]\nmodel = "llama3.1"\n\n[tui]\ntheme = "nord"  # was\n\n[api]\nport = 9000\n'
    config.write_text(mine, encoding="utf-8")
    assert remember_theme(config, "gruvbox")
    assert config.read_text(encoding="utf-8") == mine.replace('theme = "nord"  # was', 'theme = "gruvbox"')
    assert not remember_theme(config, "gruvbox")  # nothing to write

    config.write_text('home = "x"\n[llm]\nmodel = "m"\n', encoding="utf-8")
    remember_theme(config, "textual-light")
    assert config.read_text(encoding="utf-8") == 'home = "x"\n[llm]\nmodel = "m"\n\n[tui]\ntheme = "textual-light"\n'

    (tmp_path / "new").mkdir()
    fresh = tmp_path / "new" / "config.toml"
    remember_theme(fresh, "nord")
    assert Settings.model_validate({}).tui.theme == "textual-dark" and 'theme = "nord"' in fresh.read_text()


def test_remember_theme_leaves_a_broken_config_alone(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("home = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        remember_theme(config, "nord")
    assert config.read_text(encoding="utf-8") == "home = \n"


@pytest.mark.anyio
async def test_the_theme_the_reader_picks_is_kept_for_the_next_start(triage_home: Path) -> None:
    config = triage_home / "config.toml"  # TRIAGE_CONFIG (tests/conftest.py)
    config.write_text("# mine\n", encoding="utf-8")
    app = make_app(Settings.load(home=triage_home))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        app.theme = "textual-light"
        assert await wait_until(pilot, lambda: 'theme = "textual-light"' in config.read_text(encoding="utf-8"))
    assert config.read_text(encoding="utf-8").startswith("# mine\n")
    again = make_app(Settings.load(home=triage_home))
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert again.theme == "textual-light"


@pytest.mark.anyio
async def test_an_unknown_theme_is_a_warning_and_the_default(triage_home: Path) -> None:
    settings = Settings.load(home=triage_home)
    settings.tui.theme = "no-such-theme"
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark" and any("no-such-theme" in n for n in notes_of(pilot, "warning"))


@pytest.mark.anyio
async def test_a_note_saved_in_another_editor_shows_up_without_a_key(seeded_core: Triage, tmp_path: Path) -> None:
    note = tmp_path / "session.md"
    note.write_text(f"## Log\n- [skim(@{HADDAD})]\n", encoding="utf-8")
    app = make_app(core=seeded_core, note=note)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        log = main_screen(pilot).query_one(ReadingLog)
        assert log.row_count == 1
        note.write_text(note.read_text(encoding="utf-8") + "- [skim(@okaforRoutingAdaptersFrozen2024)]\n  - by hand\n",
                        encoding="utf-8")
        assert await wait_until(pilot, lambda: log.row_count == 2)
        assert main_screen(pilot).note is not None and len(main_screen(pilot).note.entries) == 2


@pytest.mark.anyio
async def test_papers_another_process_adds_show_up_without_a_key(seeded_core: Triage) -> None:
    app = make_app(core=seeded_core)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        log = main_screen(pilot).query_one(ReadingLog)
        assert log.row_count == 3
        other = Triage(offline_settings(seeded_core.settings.home))  # e.g. the nightly digest
        other._state.upsert_paper(Paper(key="digestNewPaper2026", title="Tonight's paper"))
        other.close()
        assert await wait_until(pilot, lambda: log.row_count == 4)


def test_stop_embedder_ends_the_child_at_once(triage_home: Path) -> None:
    from triage.embeddings import ChildProcessMiniLM

    settings = offline_settings(triage_home)
    settings.embedding.child_process = True
    core = Triage(settings)
    embedder = core.embedder
    assert isinstance(embedder, ChildProcessMiniLM)
    embedder._start()  # as the first search does (the model itself loads on the first text)
    child = embedder._process
    assert child is not None and child.poll() is None
    core.stop_embedder()
    assert child.poll() is not None  # gone when the call returns, not 5 s later


def test_showing_a_paper_with_its_sections_summarised_never_imports_pymupdf(workspace: tuple[Triage, Path]) -> None:
    """A fresh interpreter shows the detail of a triaged paper (abstract and conclusion) and checks sys.modules."""
    core, _note = workspace
    core.triage("okaforRoutingAdaptersFrozen2024")
    script = f"""
import asyncio, sys
from pathlib import Path
from triage.config import FetchSettings, Settings
from triage.tui.app import make_app
from triage.tui.widgets.paper_detail import PaperDetail

app = make_app(Settings(home=Path({str(core.settings.home)!r}), fetch=FetchSettings(offline=True)))

async def main():
    async with app.run_test(size=(120, 36)) as pilot:
        detail = app.screen.query_one(PaperDetail)
        for _ in range(400):
            if detail.view is not None and detail.view.sections is not None:
                break
            await asyncio.sleep(0.05)
        print("conclusion" in detail.parts, "pymupdf" in sys.modules, "fitz" in sys.modules, "torch" in sys.modules)

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["True", "False", "False", "False"], out.stderr[-2000:]
