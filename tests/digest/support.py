"""Shared by the digest tests: where the fixtures are, and a critic that counts, costs, fails or blocks."""

from __future__ import annotations

import threading
from pathlib import Path

from triage.errors import CriticError
from triage.models import Paper, Sections, Verdict

__all__ = ["DATA", "RECORDED", "CountingCritic"]

DATA = Path(__file__).parent / "data"
RECORDED = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "atom" / "rss" / "rss.arxiv.org_atom_cs.AI_2025-08-20.xml"


class CountingCritic:
    """Wraps the real offline critic: counts calls, adds a cost, and fails or blocks on chosen calls."""

    def __init__(self, inner, *, cost: float = 0.0, crash_on: int | None = None, fail: bool = False,
                 gate: threading.Event | None = None) -> None:
        self.inner = inner
        self.name = inner.name  # same name: the verdict cache is shared with the plain critic
        self.prompt_version = inner.prompt_version
        self.cost = cost
        self.crash_on = crash_on
        self.fail = fail
        self.gate = gate
        self.started = threading.Event()
        self.calls = 0

    def judge(self, paper: Paper, sections: Sections, constitution) -> Verdict:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            self.gate.wait(30)
        if self.crash_on is not None and self.calls == self.crash_on:
            raise RuntimeError("injected crash in the middle of judging")
        if self.fail:
            raise CriticError("endpoint answered 503")
        verdict = self.inner.judge(paper, sections, constitution)
        return verdict.model_copy(update={"cost_usd": self.cost})
