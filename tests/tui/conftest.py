"""Fixtures for the TUI tests: a scripted critic, seeded states, a frozen clock and the sample workspace.

The critic boundary is tested elsewhere; here a tiny class implementing the
``Critic`` protocol returns fixed verdicts so the screens are deterministic.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO
from triage.config import FetchSettings, Settings
from triage.critic.constitution import Constitution
from triage.models import Decision, Paper, PrincipleScore, Quote, Sections, Status, TokenUsage, Verdict
from triage.service import Triage

SAMPLE = REPO / "data" / "sample"
#: Every snapshot is taken in a terminal this size.
SIZE = (120, 36)


def first_sentence(text: str) -> str:
    """The first sentence, as the offline critic would quote it."""
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


class ScriptedCritic:
    """Implements ``triage.critic.base.Critic``: fixed scores, the first abstract sentence as a quote.

    ``decisions`` maps a key to the decision it gets (default: read); every
    verdict also cites one sentence that is not in the paper, marked unverified.
    """

    name = "scripted:test"
    prompt_version = "t1"

    def __init__(self, decisions: dict[str, Decision] | None = None) -> None:
        self.decisions = decisions or {}
        self.calls: list[str] = []

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution) -> Verdict:
        """A verdict whose score matches the scripted decision."""
        self.calls.append(paper.key)
        decision = self.decisions.get(paper.key, Decision.READ)
        score = {Decision.READ: 7.5, Decision.SKIM: 5.0, Decision.DROP: 2.0}[decision]
        abstract = sections.abstract or paper.abstract
        quote = first_sentence(abstract)
        conclusion = first_sentence(sections.conclusion) if sections.conclusion else ""
        principles = []
        for i, principle in enumerate(constitution.principles):
            quotes = [Quote(text=quote, verified=True)] if i == 0 and quote else []
            if i == 1 and conclusion:
                quotes.append(Quote(text=conclusion, verified=True))
            if i == 2:
                quotes.append(Quote(text="This sentence was never written by the authors.", verified=False))
            principles.append(
                PrincipleScore(
                    id=principle.id,
                    score=max(0.0, score - i * 0.5),
                    weight=principle.weight,
                    rationale=f"scripted rationale for {principle.id}",
                    quotes=quotes,
                    flagged=i == 2,
                )
            )
        return Verdict(
            key=paper.key,
            decision=decision,
            score=score,
            confidence=0.8,
            critic=self.name,
            principles=principles,
            revision="self-critique lowered modularity: the adapters are not swappable",
            tokens=TokenUsage(prompt=1200, completion=300),
            cost_usd=0.0004,
            constitution_hash=constitution.hash,
            paper_hash=sections.sha256,
            prompt_version=self.prompt_version,
        )


T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (the anyio pytest plugin drives them)."""
    return "asyncio"


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Timestamps advance one minute per call from a fixed instant, so snapshots are stable."""
    ticks = iter(range(1_000_000))

    def now() -> datetime:
        return T0 + timedelta(minutes=next(ticks))

    import triage.state

    monkeypatch.setattr(triage.state, "utcnow", now)
    yield


def offline_settings(home: Path, library: list[Path] | None = None) -> Settings:
    """Settings for a test: its own home, the sample library, never the network, offline critic."""
    return Settings(home=home, library=library or [], critic="offline", fetch=FetchSettings(offline=True))


PAPERS = [
    ("okaforRoutingAdaptersFrozen2024", "Routing Adapters Between Frozen Backbones", ["Okafor, Ada", "Lind, Per"], 2024,
     "We route small adapters between frozen vision and language backbones. A single linear map suffices to bridge "
     "the two latent spaces. Adapters are trained in minutes on one GPU.", Status.READ, Decision.READ),
    ("moreauBenchmarkingTabularCrop2022", "Benchmarking Tabular Models for Crop Yield", ["Moreau, Jean"], 2022,
     "We compare gradient boosted trees on crop yield tables. Trees win on small farms.", Status.DROPPED, Decision.DROP),
    ("haddadFederatedLoRAMerging2024", "Federated LoRA Merging Without a Server", ["Haddad, Rana", "Ito, Ken", "Berg, Ola"],
     2024, "Clients merge LoRA modules peer to peer without a server. Merged modules match central training.",
     Status.SKIM, Decision.SKIM),
]


def seed_state(core: Triage, *, with_verdicts: bool = True) -> None:
    """Three papers with verdicts from the scripted critic (no PDFs: the abstract comes from metadata)."""
    critic = ScriptedCritic()
    constitution = core.constitution
    for key, title, authors, year, abstract, status, decision in PAPERS:
        paper = Paper(key=key, title=title, authors=authors, year=year, abstract=abstract, resolved_by="test")
        core._state.upsert_paper(paper, pdf_sha=f"sha-{key}")
        if with_verdicts:
            critic.decisions[key] = decision
            verdict = critic.judge(paper, Sections(sha256=f"sha-{key}"), constitution)
            core._state.save_verdict(verdict.model_copy(update={"created_at": T0}))
        core._state.set_status(key, decision.status, actor="critic", reason=f"scripted: {decision.value}")
        if status is not decision.status:
            core._state.set_status(key, status, actor="reader", reason="reader decision")


@pytest.fixture
def seeded_core(triage_home: Path, frozen_clock: None) -> Iterator[Triage]:
    """A core over a state with three judged papers."""
    core = Triage(offline_settings(triage_home), critic=ScriptedCritic())
    seed_state(core)
    yield core
    core.close()


def _make_samples(out: Path) -> list[Path]:
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "data" / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_samples(out)


@pytest.fixture(scope="session")
def sample_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample library.bib with freshly generated PDFs next to it; skips until the samples exist."""
    if not (REPO / "data" / "make_samples.py").is_file() or not (SAMPLE / "library.bib").is_file():
        pytest.skip("data/make_samples.py and data/sample/library.bib are not there yet")
    root = tmp_path_factory.mktemp("sample")
    _make_samples(root / "papers")
    shutil.copy(SAMPLE / "library.bib", root / "library.bib")
    return root / "library.bib"


@pytest.fixture
def workspace(sample_library: Path, tmp_path: Path, triage_home: Path) -> tuple[Triage, Path]:
    """A core with the sample library and the scripted critic, and a scratch reading note."""
    note = tmp_path / "note.md"
    note.write_text(
        "## tl;dr\nTUI session.\n\n## Context\n- Adapters between frozen backbones.\n\n## Done\n\n## Learned\n\n"
        "## Next?\n\n## Log\n",
        encoding="utf-8",
    )
    core = Triage(offline_settings(triage_home, [sample_library]), critic=ScriptedCritic())
    return core, note
