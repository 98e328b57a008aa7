"""The offline embedding critic with the real local MiniLM model, on the sample papers."""

from __future__ import annotations

import pytest

from triage.config import EmbeddingSettings
from triage.critic.base import Critic
from triage.critic.offline import EmbeddingCritic
from triage.embeddings import get_embedder
from triage.models import Decision

MEANT_TO_READ = {
    "okaforRoutingAdaptersFrozen2024",
    "lindqvistLinearBridgesVision2023",
    "haddadFederatedLoRAMerging2024",
    "brennanSparseMixturesModular2023",
}


@pytest.fixture(scope="module")
def offline_verdicts(sample_sections):
    from triage.critic.constitution import load_constitution

    critic = EmbeddingCritic(get_embedder(EmbeddingSettings()))
    assert isinstance(critic, Critic)
    constitution = load_constitution()
    return {key: critic.judge(paper, sections, constitution) for key, (paper, sections) in sample_sections.items()}


def test_offline_critic_ranks_the_sample_papers_as_meant(offline_verdicts):
    scores = {k: v.score for k, v in offline_verdicts.items()}
    assert {k for k, v in offline_verdicts.items() if v.decision is Decision.READ} == MEANT_TO_READ
    assert offline_verdicts["moreauBenchmarkingTabularCrop2022"].decision is Decision.DROP
    assert offline_verdicts["tanakaScalingLawsHype2024"].decision is not Decision.READ
    assert min(scores[k] for k in MEANT_TO_READ) > scores["tanakaScalingLawsHype2024"] > scores[
        "moreauBenchmarkingTabularCrop2022"]


def test_offline_verdicts_cite_the_paper_and_say_which_critic(offline_verdicts):
    for verdict in offline_verdicts.values():
        assert verdict.critic == "offline:all-MiniLM-L6-v2"
        assert verdict.prompt_version.startswith("offline")
        assert verdict.confidence <= 0.6 and verdict.tokens.prompt == 0 and verdict.cost_usd == 0
        assert all(q.verified for p in verdict.principles for q in p.quotes)
        assert not any(p.flagged for p in verdict.principles)
