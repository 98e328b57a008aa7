"""The personal critic: the reader model's verdict, with the reasons and quotes a reader can check.

No LLM, no network.  The decision and the score come from ``model.ReaderModel``
(the constitution as a prior, learned from the reader's own decisions once
there are enough of them), the same model that ranks the nightly digest.
Each principle is scored by how unusually close the paper is to it compared
with ordinary papers; a principle the paper is no closer to than an ordinary
paper scores 0 and is not named as a reason.  A principle that is a reason gets
the sentence of the abstract or conclusion closest to it as its quote (copied
from the paper, and checked like any critic's quotes all the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from triage.claims import is_limitation, split_sentences
from triage.critic.constitution import Constitution
from triage.critic.evidence import verify_scores
from triage.critic.injection import find_injections, overlaps
from triage.critic.model import REASON_Z, PaperScore, ReaderModel, paper_text
from triage.embeddings import Embedder
from triage.errors import NotJudged
from triage.models import Decision, Paper, PrincipleScore, Quote, Sections, Verdict

__all__ = ["PersonalCritic", "PROMPT_VERSION"]

PROMPT_VERSION = "offline-2"


def _share_below(z: float) -> int:
    """Percent of ordinary papers less close than a paper ``z`` standard deviations above their mean."""
    return min(99, max(1, round(50 * (1 + math.erf(z / math.sqrt(2))))))


class PersonalCritic:
    """Judges papers with the reader model; implements ``Critic``."""

    def __init__(self, embedder: Embedder, model: Callable[[], ReaderModel]) -> None:
        """``model`` returns the current reader model (the service rebuilds it when the reader decides)."""
        self.embedder = embedder
        self._model = model
        self.name = f"offline:{embedder.name.split(':', 1)[-1]}"

    @property
    def prompt_version(self) -> str:
        """Part of the verdict cache key: a new decision by the reader is a new model, so new verdicts."""
        return f"{PROMPT_VERSION}:{self._model().fingerprint}"

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution) -> Verdict:
        """A verdict from the reader model; ``NotJudged`` when there is no abstract or conclusion to read."""
        model = self._model()
        abstract = sections.abstract or paper.abstract
        if not (abstract.strip() or sections.conclusion.strip()):
            raise NotJudged(f"@{paper.key} not judged: no abstract or conclusion to read")
        title = sections.title or paper.title
        [result] = model.score([paper_text(title, abstract)], conclusions=[sections.conclusion])
        # Paper text is data: a sentence telling a reviewer what to conclude is never a reason, and caps the paper.
        injections = find_injections(abstract, sections.conclusion)
        principles = self._principles(result, constitution, abstract, sections.conclusion, injections)
        principles = verify_scores(principles, f"{abstract}\n{sections.conclusion}")
        decision, score, held_back = constitution.decide(result.score), result.score, []
        if injections and decision is Decision.READ:
            decision, score = Decision.SKIM, min(score, round(constitution.promote_at - 0.01, 2))
            held_back.append("the paper addresses its reviewer with instructions: held at skim")
        return Verdict(
            key=paper.key,
            decision=decision,
            score=score,
            injections=injections,
            held_back=held_back,
            confidence=result.confidence,
            critic=self.name,
            principles=principles,
            revision="",
            constitution_hash=constitution.hash,
            paper_hash=sections.sha256,
            prompt_version=f"{PROMPT_VERSION}:{model.fingerprint}",
            basis=sections.basis,
        )

    def _principles(self, result: PaperScore, constitution: Constitution, abstract: str, conclusion: str,
                    injections: list[str]) -> list[PrincipleScore]:
        import numpy as np

        sentences = [s for s in split_sentences(abstract) + split_sentences(conclusion)
                     if not is_limitation(s) and not overlaps(s, injections)]
        reasons = [i for i, z in enumerate(result.principle_z) if z >= REASON_Z]
        closest: dict[int, str] = {}
        if sentences and reasons:
            statements = [constitution.principles[i].statement for i in reasons]
            vectors = np.asarray(self.embedder.embed(statements + sentences), dtype=np.float64)
            sims = vectors[len(statements):] @ vectors[: len(statements)].T
            closest = {i: sentences[int(np.argmax(sims[:, n]))] for n, i in enumerate(reasons)}
        learned = " (your decisions weigh in the verdict)" if result.learned else ""
        scores = []
        for i, principle in enumerate(constitution.principles):
            z = result.principle_z[i]
            if i in closest:
                rationale = f"closer to this than {_share_below(z)}% of ordinary papers{learned}"
            else:
                rationale = "no closer to this than an ordinary paper"
            scores.append(PrincipleScore(
                id=principle.id, score=result.principle_scores[i], weight=principle.weight, against=principle.against,
                rationale=rationale,
                quotes=[Quote(text=closest[i])] if i in closest else [],
            ))
        return scores
