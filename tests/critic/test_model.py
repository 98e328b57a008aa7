"""The reader model with the real local MiniLM and the shipped background."""

from __future__ import annotations

import numpy as np
import pytest

from triage.critic.background import background_texts, background_vectors
from triage.critic.constitution import load_constitution
from triage.critic.model import MIN_EXAMPLES, Example, Prior, ReaderModel, paper_text
from triage.embeddings import LocalMiniLM
from triage.models import Decision

ON_TOPIC = paper_text(
    "Routing between low-rank adapters on a frozen backbone",
    "We propose a router that selects among LoRA adapters attached to a frozen language model. On eight benchmarks "
    "it recovers 97% of full fine-tuning accuracy while training 0.8% of the parameters, and adapters trained by "
    "different clients can be merged without retraining.",
)
OFF_TOPIC = paper_text(
    "Segmenting satellite images of farmland",
    "We segment field boundaries in satellite images with a U-Net and report an intersection over union of 0.81 "
    "on three regions, 4 points above the previous best.",
)
HYPE = paper_text(
    "Modular adapters: the revolutionary dawn of general intelligence",
    "This paradigm shift will transform everything: modular adapters on frozen models are the breakthrough that "
    "finally brings artificial general intelligence, a revolution beyond any measurement.",
)


@pytest.fixture(scope="module")
def prior() -> Prior:
    embedder = LocalMiniLM()
    return Prior(load_constitution(), lambda t: np.asarray(embedder.embed(t)), list(background_texts()),
                 background_vectors(embedder, None))


def test_the_shipped_background_vectors_are_the_models(prior: Prior) -> None:
    texts = list(background_texts())[:: len(background_texts()) // 12]
    fresh = np.asarray(LocalMiniLM().embed(texts))
    shipped = prior.background_vectors[:: len(background_texts()) // 12][: len(texts)]
    assert (fresh * shipped).sum(axis=1).min() > 0.999


def test_an_off_topic_paper_is_dropped_and_gets_no_reasons(prior: Prior) -> None:
    [on, off] = ReaderModel(prior).score([ON_TOPIC, OFF_TOPIC])
    assert off.decision is Decision.DROP and not any(off.principle_scores[:4])
    assert on.decision is Decision.READ and on.score > off.score
    ids = [p.id for p in prior.constitution.principles]
    assert on.principle_scores[ids.index("modularity")] >= 5  # unusually close to its subject


def test_hype_counts_against_a_paper(prior: Prior) -> None:
    [plain, hyped] = ReaderModel(prior).score([ON_TOPIC, HYPE])
    ids = [p.id for p in prior.constitution.principles]
    assert hyped.principle_scores[ids.index("hype")] > 0 and plain.principle_scores[ids.index("hype")] == 0
    assert hyped.score < plain.score


def test_scores_keep_their_order_far_from_the_cut_points(prior: Prior) -> None:
    scores = [s.score for s in ReaderModel(prior).score([OFF_TOPIC, ON_TOPIC, *list(background_texts())[:50]])]
    assert all(0 < s < 10 for s in scores)
    assert len(set(scores)) == len(scores)  # no ties where a clip used to be


def test_learning_waits_for_enough_decisions_and_each_decision_is_a_new_model(prior: Prior) -> None:
    texts = list(background_texts())[:MIN_EXAMPLES]
    vectors = prior.background_vectors[:MIN_EXAMPLES]
    few = [Example(key=f"k{i}", text=t, label=Decision.DROP if i % 2 else Decision.SKIM) for i, t in enumerate(texts)]
    assert not ReaderModel(prior, few[:-1], vectors[:-1]).learned
    a = ReaderModel(prior, few, vectors)
    b = ReaderModel(prior, [*few[:-1], Example(key=few[-1].key, text=few[-1].text, label=Decision.READ)], vectors)
    assert a.fingerprint != b.fingerprint != ReaderModel(prior).fingerprint
