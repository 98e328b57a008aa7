"""Start-up with 5,000 papers, and how long the UI stalls while papers are triaged in the background.

Both are measurements first: the numbers are printed (``pytest -s``) and kept
as test properties; the assertions are loose so a slow CI box does not fail
them, except that no heavy library may be imported before the first paint.
Start-up runs in a fresh interpreter so import time counts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.tui.conftest import ScriptedCritic, offline_settings
from tests.tui.helpers import main_screen, settle
from triage.models import Decision, Paper, Sections
from triage.service import Triage
from tui.app import make_app

N_PAPERS = 5000
HEAVY = ("chromadb", "torch", "langchain", "langchain_openai", "sentence_transformers", "openai", "fitz")

FIRST_PAINT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    from triage.config import FetchSettings, Settings
    from tui.app import make_app

    HEAVY = {heavy!r}
    app = make_app(Settings(home=Path({home!r}), fetch=FetchSettings(offline=True)))

    async def main():
        async with app.run_test(size=(120, 36)) as pilot:
            mounted = time.perf_counter() - t0
            heavy_at_paint = [m for m in HEAVY if m in sys.modules]
            from tui.widgets.reading_log import ReadingLog
            table = app.screen.query_one(ReadingLog)
            while table.row_count == 0:
                await asyncio.sleep(0.005)
            await pilot.pause()
            rows = time.perf_counter() - t0
            print(json.dumps({{"imported_and_mounted_s": mounted, "first_rows_s": rows, "rows": table.row_count,
                              "more": table.more, "heavy_at_first_paint": heavy_at_paint}}))

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def big_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data home with 5,000 papers in the state; the newest 200 carry a verdict."""
    home = tmp_path_factory.mktemp("big")
    core = Triage(offline_settings(home), critic=ScriptedCritic())
    constitution = core.constitution
    critic = ScriptedCritic()
    for i in range(N_PAPERS):
        paper = Paper(key=f"author{i:05d}SomeTitleWords{2000 + i % 25}", title=f"Paper number {i} on modular things",
                      authors=["Doe, Jane", "Roe, Rick"], year=2000 + i % 25,
                      abstract="We study adapters on frozen backbones. Modules compose.")
        core.state.upsert_paper(paper)
        if i >= N_PAPERS - 200:
            core.state.save_verdict(critic.judge(paper, Sections(sha256=f"s{i}"), constitution))
    core.close()
    return home


def test_first_paint_with_5000_papers(big_home: Path, record_property) -> None:
    script = FIRST_PAINT.format(heavy=HEAVY, home=str(big_home))
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
        assert out.returncode == 0, out.stderr
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["first_rows_s"])
    print(f"\nfirst paint with {N_PAPERS} papers (3 runs): "
          + ", ".join(f"mounted {r['imported_and_mounted_s']:.2f}s / rows {r['first_rows_s']:.2f}s" for r in runs))
    record_property("first_paint", runs)
    assert all(r["heavy_at_first_paint"] == [] for r in runs), runs
    assert best["rows"] == 100 and best["more"]  # one page, not 5,000 rows
    assert best["first_rows_s"] < 5.0  # the target is 1 s; loose here, the number is reported


@pytest.mark.anyio
async def test_worst_stall_while_twenty_papers_are_triaged(sample_library: Path, triage_home: Path, tmp_path: Path,
                                                         record_property) -> None:
    """20 adds at once (the 6 sample PDFs under 20 keys); a 10 ms ticker measures the event loop's worst gap."""
    bib = sample_library.read_text(encoding="utf-8")
    entries = [e for e in re.findall(r"@(\w+)\{([^,]+),(.*?)\n\}", bib, re.S) if "file = {" in e[2]]
    keys, blocks = [], []
    for i in range(20):
        kind, key, body = entries[i % len(entries)]
        body = re.sub(r"\n\s*ids = \{[^}]*\},?", "", body)
        body = body.replace("file = {papers/", f"file = {{{sample_library.parent}/papers/")
        keys.append(f"stall{i:02d}{key}")
        blocks.append(f"@{kind}{{{keys[-1]},{body}\n}}")
    many = tmp_path / "many.bib"
    many.write_text("\n\n".join(blocks), encoding="utf-8")

    settings = offline_settings(triage_home, [many])
    settings.embedding.child_process = True  # as make_app does for the real TUI
    core = Triage(settings, critic=ScriptedCritic({k: Decision.SKIM for k in keys}))
    app = make_app(core=core)
    gaps: list[float] = []
    stamps: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        last = time.perf_counter()

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            gaps.append(now - last)
            stamps.append(now - started)
            last = now

        started = time.perf_counter()
        timer = app.set_interval(0.01, tick)
        screen = main_screen(pilot)
        for key in keys:
            screen.triage_paper(key)
        await pilot.pause(0.2)
        while screen.query_one("#tray").tasks:
            await pilot.pause(0.1)
        elapsed = time.perf_counter() - started
        timer.stop()
        await settle(pilot)
        triaged = sum(1 for k in keys if core.state.get(k) is not None)
    worst = max(gaps) - 0.01
    print(f"\n20 papers triaged in {elapsed:.1f}s; worst event-loop stall {worst * 1000:.0f} ms "
          f"(p99 {sorted(gaps)[int(len(gaps) * 0.99)] * 1000 - 10:.0f} ms over {len(gaps)} ticks)")
    record_property("stall_ms", round(worst * 1000))
    top = sorted(zip(gaps, stamps), reverse=True)[:5]
    print("worst gaps: " + ", ".join(f"{g * 1000:.0f} ms at {t:.1f}s" for g, t in top))
    assert triaged == 20
    assert worst < 5.0  # the target is 100 ms; loose here (CI boxes are shared), the number is reported
    core.close()
