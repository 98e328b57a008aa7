"""The TUI's numbers, each against a bare Textual app doing the same: first paint, PageDown, quit, stalls.

    python -m bench.bench_tui [--papers 5000 50000] [--background 20] [--runs 3] [--skip-stall] [--skip-quit]

1. First paint: a fresh interpreter imports the app, opens a data home holding
   ``--papers`` papers (the newest 200 with a verdict) and waits until the log
   shows its first rows; best of ``--runs``.  The bare app is a Textual App with
   a DataTable filled with the same first page straight from SQLite: what any
   TUI over this database costs.  Target: within 1.5x the bare app.
2. PageDown: 40 presses down the log (a reader paging, 0.1 s apart), each timed
   from the key to the first repaint that shows every row on screen (ours may
   have to fetch the page: it counts).  The bare app holds the rows it pages
   through in a DataTable.  Medians and 90th percentiles; target within 2x.
3. Quit: ``triage tui`` in a pseudo-terminal, after a search started the
   embedding child; from the ``q`` keystroke to the process exiting (the shell
   prompt back).  The bare app's quit is the floor.  Target < 1 s.
4. Stall: a 10 ms timer on the event loop while ``--background`` adds run
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
import os
import re
import statistics
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
#: The first page both apps show.
FIRST_PAGE = "SELECT key, status, title FROM papers ORDER BY updated_at DESC, key DESC LIMIT 100"

# Each script times, from its first line, the first frame composed with the log's rows in it.
_FIRST_FRAME = """
async def first_frame(app, ready, rows):
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        shown = asyncio.Event()
        compose_frame = screen._compositor_refresh

        def frame():
            compose_frame()
            if ready():
                shown.set()

        screen._compositor_refresh = frame
        screen.refresh()
        await shown.wait()
        return time.perf_counter() - t0, rows()
"""

_OURS = textwrap.dedent(
    """
    import asyncio, json, sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    from triage.config import FetchSettings, Settings
    from triage.tui.app import make_app
    from triage.tui.widgets.reading_log import ReadingLog
    {first_frame}
    app = make_app(Settings(home=Path({home!r}), fetch=FetchSettings(offline=True)))
    log = lambda: app.screen.query_one(ReadingLog)
    seconds, rows = asyncio.run(first_frame(app, lambda: log().current is not None, lambda: log().row_count))
    heavy = [m for m in {heavy!r} if m in sys.modules]
    print(json.dumps({{"first_rows_s": seconds, "rows": rows, "heavy_at_first_paint": heavy}}))
    """
)

# The bare apps read the same first page straight from SQLite: one a lone DataTable, the other the
# same screen as ours built from Textual's stock widgets (header, status tabs, table, detail, footer).
_RAW = textwrap.dedent(
    """
    import asyncio, json, sqlite3, time
    t0 = time.perf_counter()
    from textual.app import App
    from textual.containers import Horizontal
    from textual.widgets import DataTable, Footer, Header, Static, Tab, Tabs
    {first_frame}
    class Bare(App):
        BINDINGS = [(k, "bell", d) for k, d in (("a", "Add"), ("p", "Read"), ("d", "Drop"), ("u", "Undo"), ("q", "Quit"))]

        def compose(self):
            if {same_screen!r}:
                yield Header()
                yield Tabs(*(Tab(n) for n in ("all", "skim", "read", "done", "dropped", "queued")))
                with Horizontal():
                    yield DataTable()
                    yield Static(id="detail")
                yield Footer()
            else:
                yield DataTable()

        def on_mount(self):
            db = sqlite3.connect({db!r})
            rows = db.execute({sql!r}).fetchall()
            table = self.query_one(DataTable)
            table.add_columns("key", "status", "title")
            table.add_rows(rows)
            if {same_screen!r}:
                self.query_one("#detail", Static).update(rows[0][2] if rows else "")

    app = Bare()
    table = lambda: app.query_one(DataTable)
    seconds, rows = asyncio.run(first_frame(app, lambda: table().row_count > 0, lambda: table().row_count))
    print(json.dumps({{"first_rows_s": seconds, "rows": rows}}))
    """
)


def make_big_home(home: Path, n_papers: int) -> Path:
    """A data home with ``n_papers`` in the state, newest last; the newest 200 carry a verdict.

    The papers go in as one transaction: the state writes a paper per transaction
    (each one synced), which would take minutes for 50,000 and measure nothing of the TUI.
    """
    from datetime import timedelta

    from triage.config import FetchSettings, Settings
    from triage.models import Decision, Paper, PrincipleScore, Verdict, utcnow
    from triage.service import Triage

    core = Triage(Settings(home=home, fetch=FetchSettings(offline=True)))
    principles = [PrincipleScore(id=p.id, weight=p.weight, score=6.0, rationale="bench") for p in core.constitution.principles]
    start = utcnow() - timedelta(seconds=n_papers)
    rows = []
    for i in range(n_papers):
        paper = Paper(key=big_key(i), title=f"Paper number {i} on modular things", authors=["Doe, Jane"],
                      year=2000 + i % 25, abstract="We study adapters on frozen backbones.")
        rows.append((paper.key, "skim", paper.title, paper.model_dump_json(), (start + timedelta(seconds=i)).isoformat()))
    with core._state._write() as db:
        db.executemany("INSERT INTO papers (key, status, title, paper_json, updated_at) VALUES (?, ?, ?, ?, ?)", rows)
    for i in range(max(n_papers - 200, 0), n_papers):
        core._state.save_verdict(Verdict(key=big_key(i), decision=Decision.SKIM, score=6.0, confidence=0.5,
                                         critic="bench", principles=principles))
    core.close()
    return home


def big_key(i: int) -> str:
    """The key of paper ``i`` in ``make_big_home`` (0 is the oldest)."""
    return f"author{i:05d}SomeTitleWords{2000 + i % 25}"


def _as_installed() -> dict[str, str]:
    """The environment of a user's run: bytecode cached (in a folder of its own), as an installed package has it.

    Without it (PYTHONDONTWRITEBYTECODE, as in CI shells) every run compiles triage's
    own modules while Textual's come compiled from the wheel, which measures the compiler.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "triage-bench-pycache")
    return env


def _run_script(script: str) -> dict:
    subprocess.run([sys.executable, "-c", "import triage.service, triage.tui.app"], cwd=REPO, env=_as_installed(), check=True)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300,
                         env=_as_installed())
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "script failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_paint(home: Path, runs: int = 3) -> tuple[list[dict], list[dict], list[dict]]:
    """(ours, bare same screen, bare DataTable) measurements, one dict per run, each in a fresh interpreter."""
    from triage.config import Settings

    db = str(Settings(home=home).db_path)
    ours = [_run_script(_OURS.format(home=str(home), heavy=HEAVY, first_frame=_FIRST_FRAME)) for _ in range(runs)]
    same = [_run_script(_RAW.format(db=db, sql=FIRST_PAGE, same_screen=True, first_frame=_FIRST_FRAME)) for _ in range(runs)]
    table = [_run_script(_RAW.format(db=db, sql=FIRST_PAGE, same_screen=False, first_frame=_FIRST_FRAME)) for _ in range(runs)]
    return ours, same, table


# -- PageDown ---------------------------------------------------------------------------


@dataclass
class Paging:
    """Milliseconds from a PageDown to the repaint showing every row on screen."""

    times_ms: list[float]
    rows_reached: int

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90(self) -> float:
        return sorted(self.times_ms)[int(len(self.times_ms) * 0.9)]

    def line(self) -> str:
        return f"median {self.median:5.1f} ms  p90 {self.p90:5.1f} ms  over {len(self.times_ms)} presses (row {self.rows_reached:,})"


async def _page_down(app, ready, presses: int, gap_s: float) -> list[float]:
    """Press PageDown ``presses`` times; each is timed to the first compositor refresh after which ``ready()`` holds."""
    from textual import events

    screen = app.screen
    refreshed = screen._compositor_refresh  # the moment a frame is composed for the terminal
    done: asyncio.Event = asyncio.Event()
    waiting = False

    def timed_refresh() -> None:
        refreshed()
        if waiting and ready():
            done.set()

    screen._compositor_refresh = timed_refresh
    times = []
    for _ in range(presses):
        await asyncio.sleep(gap_s)
        done.clear()
        waiting = True
        start = time.perf_counter()
        app.post_message(events.Key("pagedown", None))
        await asyncio.wait_for(done.wait(), timeout=10)
        times.append((time.perf_counter() - start) * 1000)
        waiting = False
    screen._compositor_refresh = refreshed
    return times


async def page_down(home: Path, presses: int = 40, gap_s: float = 0.1) -> tuple[Paging, Paging]:
    """(ours, bare) PageDown latencies over the data home's papers."""
    import sqlite3

    from textual.app import App
    from textual.widgets import DataTable

    from triage.config import FetchSettings, Settings
    from triage.tui.app import make_app
    from triage.tui.widgets.reading_log import ReadingLog

    settings = Settings(home=home, fetch=FetchSettings(offline=True))
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        log = app.screen.query_one(ReadingLog)
        while log.current is None:
            await asyncio.sleep(0.005)
        await pilot.pause(0.3)
        log.focus()
        top = int(log.scroll_y)

        def shown() -> bool:
            first = int(log.scroll_y)
            return first > top and all(log.row_at(i) is not None for i in range(first, min(first + log.visible_rows, log.total)))

        def moved() -> bool:
            nonlocal top
            if shown():
                top = int(log.scroll_y)
                return True
            return False

        ours = Paging(await _page_down(app, moved, presses, gap_s), log.cursor)

    wanted = presses * 40 + 100
    db = sqlite3.connect(settings.db_path)
    rows = db.execute(FIRST_PAGE.replace("LIMIT 100", f"LIMIT {wanted}")).fetchall()
    db.close()

    class Bare(App):
        def compose(self):
            yield DataTable(cursor_type="row")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("key", "status", "title")
            table.add_rows(rows)
            table.focus()

    bare = Bare()
    async with bare.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
        table = bare.query_one(DataTable)
        last = table.cursor_row

        def table_moved() -> bool:
            nonlocal last
            if table.cursor_row != last:
                last = table.cursor_row
                return True
            return False

        raw = Paging(await _page_down(bare, table_moved, presses, gap_s), table.cursor_row)
    return ours, raw


# -- quit ----------------------------------------------------------------------------------


def _pty_run(argv: list[str], env: dict, steps: list[tuple[bytes, str]], *, size=(120, 36), timeout: float = 120) -> float:
    """Run ``argv`` in a pseudo-terminal; for each (keys, wait_for) send keys then wait until the screen shows
    ``wait_for``; the last step's keys quit.  Returns seconds from the last keys to the process's exit."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, start_new_session=True)
    os.close(slave)
    seen = b""

    def drain(until: float) -> None:
        nonlocal seen
        while time.monotonic() < until:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    return
            if proc.poll() is not None:
                return

    try:
        for keys, wait_for in steps[:-1]:
            if keys:
                os.write(master, keys)
            deadline = time.monotonic() + timeout
            while wait_for.encode() not in seen:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"never saw {wait_for!r} on screen")
                drain(time.monotonic() + 0.1)
            seen = b""
        drain(time.monotonic() + 0.5)
        start = time.monotonic()
        os.write(master, steps[-1][0])
        while proc.poll() is None and time.monotonic() - start < 30:
            drain(time.monotonic() + 0.01)
        return time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)


def quit_time(home: Path, *, search: bool = True) -> tuple[float, float]:
    """(ours, bare) seconds from ``q`` to the process's exit; ours after a search started the embedding child."""
    env = {**_as_installed(), "TERM": "xterm-256color", "TRIAGE_HOME": str(home), "TRIAGE_CONFIG": str(home / "config.toml"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    steps: list[tuple[bytes, str]] = [(b"", "papers")]
    if search:
        steps += [(b"s", "what are you looking for"), (b"adapters on frozen backbones\r", "result"), (b"\x1b", "papers")]
    steps.append((b"q", ""))
    ours = _pty_run([sys.executable, "-c", "from triage.cli import main; main()", "--offline", "tui"], env, steps)
    bare_script = ("from textual.app import App\nfrom textual.widgets import Static\n"
                   "class Bare(App):\n    BINDINGS = [('q', 'quit')]\n    def compose(self):\n        yield Static('papers')\n"
                   "Bare().run()\n")
    bare = _pty_run([sys.executable, "-c", bare_script], env, [(b"", "papers"), (b"q", "")])
    return ours, bare


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
    from triage.tui.app import make_app
    from triage.tui.screens.main import MainScreen

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
    triaged = sum(1 for k in keys if (record := core._state.get(k)) is not None and record.status.value != "queued")
    core.close()
    ordered = sorted(gaps)
    return Stall(worst_ms=(ordered[-1] - 0.01) * 1000, p99_ms=(ordered[int(len(ordered) * 0.99)] - 0.01) * 1000,
                 ticks=len(gaps), seconds=elapsed, triaged=triaged if background else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--background", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-stall", action="store_true")
    parser.add_argument("--skip-quit", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        homes = {n: make_big_home(Path(tmp) / f"big{n}", n) for n in args.papers}
        print(f"1. first paint, best of {args.runs}: process start to the first frame with the rows "
              "(target: within 1.5x the bare app)")
        for n, home in homes.items():
            ours, same, table = first_paint(home, args.runs)
            best = min(r["first_rows_s"] for r in ours)
            print(f"  {n:>6,} papers  ours: " + ", ".join(f"{r['first_rows_s']:.2f}s" for r in ours)
                  + f"  (heavy modules at first paint: {ours[0]['heavy_at_first_paint'] or 'none'})")
            for name, runs in (("bare app, same screen", same), ("bare DataTable alone", table)):
                best_raw = min(r["first_rows_s"] for r in runs)
                print(f"  {'':>6}         {name}: " + ", ".join(f"{r['first_rows_s']:.2f}s" for r in runs)
                      + f"  ratio {best / best_raw:.2f}")

        print("\n2. PageDown, key to the repaint showing every row (target: within 2x the bare app)")
        for n, home in homes.items():
            ours_pages, bare_pages = asyncio.run(page_down(home))
            print(f"  {n:>6,} papers  ours: {ours_pages.line()}")
            print(f"  {'':>6}         bare: {bare_pages.line()}")
            print(f"  {'':>6}         ratio of medians {ours_pages.median / bare_pages.median:.2f}")

        if not args.skip_quit:
            print("\n3. quit, q to the process gone, after a search started the embedding child (target < 1 s)")
            home = homes[min(homes)]
            for _ in range(args.runs):
                ours_quit, bare_quit = quit_time(home)
                print(f"  ours: {ours_quit:.2f} s   bare Textual app: {bare_quit:.2f} s")

        if not args.skip_stall:
            print(f"\n4. event-loop stall while {args.background} papers are triaged in the background (target < 100 ms)")
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
