"""Start-up with 5,000 papers, and whether the UI thread does any triage work while papers are triaged.

Both measurements are ``bench/bench_tui.py``'s; the numbers are printed (``pytest -s``) and kept as test
properties.  Nothing here asserts a time, not even a ratio (a shared CI box makes any such bound either
loose enough to be meaningless or flaky): first paint is checked for what made it slow (a heavy module
imported before it), and the stall test checks where the work ran, not how long the loop waited.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bench.bench_tui import first_paint, make_big_home, stall
from tests.tui.conftest import ScriptedCritic


@pytest.fixture(scope="module")
def big_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_big_home(tmp_path_factory.mktemp("big"), 5000)


def test_first_paint_with_5000_papers(big_home: Path, record_property) -> None:
    ours, same, _table = first_paint(big_home, runs=2)
    print("\nfirst rows with 5000 papers: " + ", ".join(f"{r['first_rows_s']:.2f}s" for r in ours)
          + "; bare app, same screen: " + ", ".join(f"{r['first_rows_s']:.2f}s" for r in same))
    record_property("first_paint", ours)
    assert all(r["heavy_at_first_paint"] == [] for r in ours), ours
    best = min(ours, key=lambda r: r["first_rows_s"])
    assert best["rows"] == 5000  # one list of every paper (drawn a page at a time)
    # How long, against the bare app, is bench_tui's to say (target 1.5x; measured 1.6x on a loaded 2-core box):
    # here, what made first paint slow before: a heavy module imported ahead of it (asserted above).
    record_property("first_paint_ratio", best["first_rows_s"] / min(r["first_rows_s"] for r in same))


@pytest.mark.anyio
async def test_worst_stall_while_twenty_papers_are_triaged(sample_library: Path, tmp_path: Path, record_property) -> None:
    """20 adds at once through the real pipeline (scripted critic): every paper is judged off the UI thread.

    A 10 ms ticker measures the worst gap of the event loop (reported; ``make bench`` prints it against the 100 ms target).
    """
    critic = ThreadRecordingCritic()
    measured = await stall(tmp_path / "home", 20, critic, sample=sample_library)
    print(f"\nstall: {measured.line()}")
    record_property("stall_ms", round(measured.worst_ms))
    # Papers cycle over the sample PDFs, so a verdict is reused for the same text: one judgement per PDF.
    assert measured.triaged == 20 and len(critic.threads) == len(set(critic.calls)) > 1
    assert threading.main_thread() not in critic.threads  # the event loop's thread never ran a paper


class ThreadRecordingCritic(ScriptedCritic):
    """Notes the thread each paper is judged on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def judge(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.threads.append(threading.current_thread())
        return super().judge(*args, **kwargs)
