"""The personal offline critic with the real local MiniLM model, on the sample papers."""

from __future__ import annotations

import pytest

from triage.config import Settings
from triage.critic.base import Critic
from triage.models import Decision
from triage.service import Triage

MEANT_TO_READ = {
    "okaforRoutingAdaptersFrozen2024",
    "lindqvistLinearBridgesVision2023",
    "haddadFederatedLoRAMerging2024",
    "brennanSparseMixturesModular2023",
}


@pytest.fixture(scope="module")
def offline_verdicts(sample_sections, tmp_path_factory):
    core = Triage(Settings.load(home=tmp_path_factory.mktemp("home")))
    critic = core.make_critic("offline")
    assert isinstance(critic, Critic)
    return {key: critic.judge(paper, sections, core.constitution) for key, (paper, sections) in sample_sections.items()}


def test_offline_critic_ranks_the_sample_papers_as_meant(offline_verdicts):
    scores = {k: v.score for k, v in offline_verdicts.items()}
    assert {k for k, v in offline_verdicts.items() if v.decision is Decision.READ} == MEANT_TO_READ
    assert offline_verdicts["moreauBenchmarkingTabularCrop2022"].decision is Decision.DROP
    assert offline_verdicts["tanakaScalingLawsHype2024"].decision is not Decision.READ
    assert min(scores[k] for k in MEANT_TO_READ) > max(scores["tanakaScalingLawsHype2024"],
                                                       scores["moreauBenchmarkingTabularCrop2022"])


def test_offline_verdicts_cite_the_paper_and_say_which_critic(offline_verdicts):
    for verdict in offline_verdicts.values():
        assert verdict.critic == "offline:all-MiniLM-L6-v2"
        assert verdict.prompt_version.startswith("offline-2:")
        assert verdict.confidence <= 0.6 and verdict.tokens.prompt == 0 and verdict.cost_usd == 0
        assert verdict.basis == "abstract and conclusion"
        assert all(q.verified for p in verdict.principles for q in p.quotes)
        assert not any(p.flagged for p in verdict.principles)


def test_an_off_topic_paper_gets_no_reasons(offline_verdicts):
    crops = offline_verdicts["moreauBenchmarkingTabularCrop2022"]
    assert all(p.score == 0 and not p.quotes for p in crops.principles if p.id != "evidence")
    assert all(p.rationale == "no closer to this than an ordinary paper" for p in crops.principles if not p.quotes)
