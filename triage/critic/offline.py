"""The offline critic: embedding similarity between principles and the paper's sentences.

No LLM, no network.  Each principle statement is compared with every sentence
of the abstract and conclusion; the mean of the two best cosine similarities
is mapped linearly onto 0-10 (MiniLM puts unrelated scientific sentences near
0.05 and close paraphrases above 0.55).  The best sentences become the
principle's quotes; they are copied from the paper, so they verify trivially,
and they are checked like any other critic's quotes all the same.
"""

from __future__ import annotations

import re

from triage.critic.base import aggregate
from triage.critic.constitution import Constitution
from triage.critic.evidence import verify_scores
from triage.embeddings import Embedder
from triage.models import Paper, PrincipleScore, Quote, Sections, Verdict

__all__ = ["EmbeddingCritic", "split_sentences"]

PROMPT_VERSION = "offline-1"
_LOW, _HIGH = 0.05, 0.55
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(])")


def split_sentences(text: str) -> list[str]:
    """Sentences of at least five words; shorter fragments carry no evidence."""
    parts = (s.strip() for s in _SENTENCE_END.split(" ".join(text.split())))
    return [s for s in parts if len(s.split()) >= 5]


def _cosine(a: list[float], b: list[float]) -> float:
    # Vectors are unit length, so the dot product is the cosine.
    return sum(x * y for x, y in zip(a, b))


class EmbeddingCritic:
    """Scores each principle by how closely the paper's own sentences speak to it."""

    prompt_version = PROMPT_VERSION

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = f"offline:{embedder.name.split(':', 1)[-1]}"

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution) -> Verdict:
        """A verdict from sentence/principle similarity."""
        abstract = sections.abstract or paper.abstract
        sentences = split_sentences(abstract) + split_sentences(sections.conclusion)
        principles = list(constitution.principles)
        vectors = self.embedder.embed([p.statement for p in principles] + sentences)
        principle_vecs, sentence_vecs = vectors[: len(principles)], vectors[len(principles) :]

        scores: list[PrincipleScore] = []
        for principle, pvec in zip(principles, principle_vecs):
            if not sentences:
                scores.append(PrincipleScore(id=principle.id, weight=principle.weight, rationale="no abstract or conclusion text"))
                continue
            ranked = sorted(((_cosine(pvec, svec), s) for svec, s in zip(sentence_vecs, sentences)), reverse=True)
            best = ranked[:2]
            similarity = sum(sim for sim, _ in best) / len(best)
            score = round(max(0.0, min(10.0, (similarity - _LOW) / (_HIGH - _LOW) * 10)), 1)
            scores.append(
                PrincipleScore(
                    id=principle.id,
                    score=score,
                    weight=principle.weight,
                    rationale=f"closest sentences have cosine similarity {similarity:.2f} to the principle",
                    quotes=[Quote(text=s) for _, s in best[:1]],
                )
            )
        scores = verify_scores(scores, f"{abstract}\n{sections.conclusion}")
        score, decision, confidence = aggregate(scores, constitution)
        return Verdict(
            key=paper.key,
            decision=decision,
            score=score,
            # Similarity is a weak proxy for the reader's judgement: cap the confidence.
            confidence=round(min(confidence, 0.6), 2),
            critic=self.name,
            principles=scores,
            revision="",
            constitution_hash=constitution.hash,
            paper_hash=sections.sha256,
            prompt_version=self.prompt_version,
        )
