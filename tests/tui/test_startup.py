"""Start-up with 5,000 papers, and how long the UI stalls while papers are triaged in the background.

Both measurements are ``bench/bench_tui.py``'s; the numbers are printed
(``pytest -s``) and kept as test properties.  The bounds here are loose so a
busy CI box does not fail them, except that no heavy library may be imported
before the first paint and every background paper must be triaged.
"""

from __future__ import annotations

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
    assert best["first_rows_s"] < 5.0  # the target is 1.5x the bare app; loose here, the number is reported


@pytest.mark.anyio
async def test_worst_stall_while_twenty_papers_are_triaged(sample_library: Path, tmp_path: Path, record_property) -> None:
    """20 adds at once through the real pipeline (scripted critic); a 10 ms ticker measures the worst gap."""
    measured = await stall(tmp_path / "home", 20, ScriptedCritic(), sample=sample_library)
    print(f"\nstall: {measured.line()}")
    record_property("stall_ms", round(measured.worst_ms))
    assert measured.triaged == 20
    assert measured.worst_ms < 5000  # the target is 100 ms; loose here (CI boxes are shared), the number is reported
