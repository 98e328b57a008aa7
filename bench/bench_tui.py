"""The TUI's two numbers from issue 7: time to first paint with 5,000 papers, and the worst UI stall.

    python -m bench.bench_tui [--papers 5000] [--background 20] [--runs 3]

1. First paint: a fresh interpreter imports the app, opens a data home holding
   ``--papers`` papers (200 with a verdict) and waits for the first rows of the
   log; best of ``--runs``.  The raw side is a bare Textual app whose DataTable
   is filled with the same first page straight from SQLite: what any TUI over
   this database costs.  Target < 1 s.
2. Stall: a 10 ms timer on the event loop while ``--background`` adds run
   through the real pipeline (the sample PDFs, offline critic, Chroma, the
   embedding model in its child process, as ``triage tui`` runs).  The worst gap
   beyond 10 ms is the stall the reader would feel; the raw side is the same
   timer with nothing running (the machine's own jitter).  Target < 100 ms.

The tests in ``tests/tui/test_startup.py`` run the same functions with loose bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_LIBRARY = REPO / "data" / "sample" / "library.bib"
#: Modules that must not be imported before the first paint.
HEAVY = ("chromadb", "torch", "langchain", "langchain_openai", "sentence_transformers", "openai", "pymupdf")

_OURS = textwrap.dedent(
    """
    import asyncio, json, sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    from triage.config import FetchSettings, Settings
    from tui.app import make_app
    from tui.widgets.reading_log import ReadingLog

    app = make_app(Settings(home=Path({home!r}), fetch=FetchSettings(offline=True)))

    async def main():
        async with app.run_test(size=(120, 36)) as pilot:
            mounted = time.perf_counter() - t0
            heavy = [m for m in {heavy!r} if m in sys.modules]
            table = app.screen.query_one(ReadingLog)
            while table.row_count == 0:
                await asyncio.sleep(0.005)
            await pilot.pause()
            print(json.dumps({{"mounted_s": mounted, "first_rows_s": time.perf_counter() - t0,
                              "rows": table.row_count, "more": table.more, "heavy_at_first_paint": heavy}}))

    asyncio.run(main())
    """
)

_RAW = textwrap.dedent(
    """
    import asyncio, json, sqlite3, time
    t0 = time.perf_counter()
    from textual.app import App
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self):
            yield DataTable()

        def on_mount(self):
            db = sqlite3.connect({db!r})
            rows = db.execute("SELECT key, status, title FROM papers ORDER BY updated_at DESC LIMIT 100").fetchall()
            table = self.query_one(DataTable)
            table.add_columns("key", "status", "title")
            table.add_rows(rows)

    async def main():
        app = Bare()
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            print(json.dumps({{"first_rows_s": time.perf_counter() - t0, "rows": app.query_one(DataTable).row_count}}))

    asyncio.run(main())
    """
)


def make_big_home(home: Path, n_papers: int) -> Path:
    """A data home with ``n_papers`` in the state; the newest 200 carry a verdict."""
    from triage.config import FetchSettings, Settings
    from triage.models import Decision, Paper, PrincipleScore, Verdict
    from triage.service import Triage

    core = Triage(Settings(home=home, fetch=FetchSettings(offline=True)))
    principles = [PrincipleScore(id=p.id, weight=p.weight, score=6.0, rationale="bench") for p in core.constitution.principles]
    for i in range(n_papers):
        key = f"author{i:05d}SomeTitleWords{2000 + i % 25}"
        core.state.upsert_paper(Paper(key=key, title=f"Paper number {i} on modular things", authors=["Doe, Jane"],
                                      year=2000 + i % 25, abstract="We study adapters on frozen backbones."))
        if i >= n_papers - 200:
            core.state.save_verdict(Verdict(key=key, decision=Decision.SKIM, score=6.0, confidence=0.5,
                                            critic="bench", principles=principles))
    core.close()
    return home


def _run_script(script: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "script failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_paint(home: Path, runs: int = 3) -> tuple[list[dict], list[dict]]:
    """(ours, raw) measurements, one dict per run, each in a fresh interpreter."""
    from triage.config import Settings

    db = Settings(home=home).db_path
    ours = [_run_script(_OURS.format(home=str(home), heavy=HEAVY)) for _ in range(runs)]
    raw = [_run_script(_RAW.format(db=str(db))) for _ in range(runs)]
    return ours, raw


@dataclass
class Stall:
    """Event-loop gaps beyond the 10 ms tick while work ran (or nothing, for the baseline)."""

    worst_ms: float
    p99_ms: float
    ticks: int
    seconds: float
    triaged: int

    def line(self) -> str:
        return (f"worst {self.worst_ms:5.0f} ms  p99 {self.p99_ms:4.0f} ms  over {self.ticks} ticks, "
                f"{self.seconds:.1f} s, {self.triaged} papers triaged")


def _library_of(n: int, folder: Path, sample: Path) -> tuple[Path, list[str]]:
    """A bib with ``n`` keys cycling over the sample papers that have a PDF."""
    bib = sample.read_text(encoding="utf-8")
    entries = [e for e in re.findall(r"@(\w+)\{([^,]+),(.*?)\n\}", bib, re.S) if "file = {" in e[2]]
    keys, blocks = [], []
    for i in range(n):
        kind, key, body = entries[i % len(entries)]
        body = re.sub(r"\n\s*ids = \{[^}]*\},?", "", body)
        body = body.replace("file = {papers/", f"file = {{{sample.parent}/papers/")
        keys.append(f"stall{i:02d}{key}")
        blocks.append(f"@{kind}{{{keys[-1]},{body}\n}}")
    path = folder / "many.bib"
    path.write_text("\n\n".join(blocks), encoding="utf-8")
    return path, keys


async def stall(home: Path, n_papers: int = 20, critic=None, *, background: bool = True,
                sample: Path = SAMPLE_LIBRARY) -> Stall:
    """Add ``n_papers`` at once in the TUI and time the event loop's worst gap until all are done.

    ``critic`` defaults to the offline critic; ``background=False`` measures the idle loop as long;
    ``sample`` is a library.bib with the sample PDFs in ``papers/`` next to it.
    """
    from triage.config import FetchSettings, Settings
    from triage.service import Triage
    from tui.app import make_app
    from tui.screens.main import MainScreen

    library, keys = _library_of(n_papers, home.parent, sample)
    settings = Settings(home=home, library=[library], critic="offline", fetch=FetchSettings(offline=True))
    settings.embedding.child_process = True  # as make_app does for `triage tui`
    core = Triage(settings, critic=critic)
    app = make_app(core=core)
    gaps: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        last = time.perf_counter()

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

        started = time.perf_counter()
        timer = app.set_interval(0.01, tick)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        if background:
            for key in keys:
                screen.triage_paper(key)
            await pilot.pause(0.2)
            while screen.query_one("#tray").tasks:
                await pilot.pause(0.1)
        else:
            await pilot.pause(3.0)
        elapsed = time.perf_counter() - started
        timer.stop()
        await app.workers.wait_for_complete()
    triaged = sum(1 for k in keys if (record := core.state.get(k)) is not None and record.status.value != "queued")
    core.close()
    ordered = sorted(gaps)
    return Stall(worst_ms=(ordered[-1] - 0.01) * 1000, p99_ms=(ordered[int(len(ordered) * 0.99)] - 0.01) * 1000,
                 ticks=len(gaps), seconds=elapsed, triaged=triaged if background else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--background", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = make_big_home(Path(tmp) / "big", args.papers)
        ours, raw = first_paint(home, args.runs)
        best, best_raw = min(r["first_rows_s"] for r in ours), min(r["first_rows_s"] for r in raw)
        print(f"1. first paint with {args.papers} papers, best of {args.runs} (target < 1 s)")
        print("  ours: " + ", ".join(f"{r['first_rows_s']:.2f}s" for r in ours)
              + f"  (heavy modules at first paint: {ours[0]['heavy_at_first_paint'] or 'none'})")
        print("  raw : " + ", ".join(f"{r['first_rows_s']:.2f}s" for r in raw) + "  (bare Textual DataTable over SQLite)")
        print(f"  ratio ours/raw: {best / best_raw:.2f}")

        print(f"\n2. event-loop stall while {args.background} papers are triaged in the background (target < 100 ms)")
        for run in range(args.runs):
            work = Path(tmp) / f"stall{run}"
            work.mkdir()
            ours_stall = asyncio.run(stall(work / "home", args.background))
            print(f"  ours: {ours_stall.line()}")
        idle = Path(tmp) / "idle"
        idle.mkdir()
        print(f"  raw : {asyncio.run(stall(idle / 'home', args.background, background=False)).line()} (idle loop)")


if __name__ == "__main__":
    main()
