"""Time a triage stage against the raw library doing the same work, and print the ratio.

A benchmark here is two callables over the same inputs: ``ours`` (through
triage) and ``raw`` (the library alone).  Each runs ``repeat`` times and the
best time is kept, because the minimum is the least noisy estimate of what the
code costs (the rest is the machine being busy elsewhere).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Timing", "Comparison", "best_time", "compare"]

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Best wall time of ``runs`` runs over ``items`` inputs."""

    seconds: float
    runs: int
    items: int


@dataclass(frozen=True)
class Comparison:
    """Ours against the raw library, and how many times slower we are."""

    name: str
    ours: Timing
    raw: Timing

    @property
    def ratio(self) -> float:
        """ours / raw; 1.0 means no overhead."""
        return self.ours.seconds / self.raw.seconds if self.raw.seconds else float("inf")

    def report(self, unit: str = "items") -> str:
        """One line per side and the ratio, for a terminal."""
        o, r = self.ours, self.raw
        return (
            f"{self.name}\n"
            f"  ours: {o.seconds:7.3f} s  ({o.items / o.seconds:7.1f} {unit}/s)\n"
            f"  raw : {r.seconds:7.3f} s  ({r.items / r.seconds:7.1f} {unit}/s)\n"
            f"  ratio ours/raw: {self.ratio:.2f}"
        )


def _run(fn: Callable[[T], object], inputs: Sequence[T], clock: Callable[[], float]) -> float:
    start = clock()
    for x in inputs:
        fn(x)
    return clock() - start


def best_time(
    fn: Callable[[T], object],
    inputs: Sequence[T],
    *,
    repeat: int = 3,
    items: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Best of ``repeat`` runs of ``fn`` over every input."""
    best = min(_run(fn, inputs, clock) for _ in range(repeat))
    return Timing(best, repeat, len(inputs) if items is None else items)


def compare(
    name: str,
    ours: Callable[[T], object],
    raw: Callable[[T], object],
    inputs: Sequence[T],
    *,
    repeat: int = 3,
    items: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Comparison:
    """Time ``raw`` and ``ours`` over the same inputs, best of ``repeat`` each.

    Their runs alternate, so a machine that gets busier half-way slows both alike (run
    back to back, a busy spell during one side's runs skews the ratio by tens of percent).
    ``clock=time.process_time`` counts this process's CPU time only: steadier on a shared
    machine, and right for single-threaded work.  A first call to ``raw`` warms the OS file
    cache for both.
    """
    if inputs:
        raw(inputs[0])
    n = len(inputs) if items is None else items
    raw_best = ours_best = float("inf")
    for _ in range(repeat):
        raw_best = min(raw_best, _run(raw, inputs, clock))
        ours_best = min(ours_best, _run(ours, inputs, clock))
    return Comparison(name, Timing(ours_best, repeat, n), Timing(raw_best, repeat, n))
