"""The one critic interface and the aggregation both critics share."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from triage.critic.constitution import Constitution
from triage.models import Decision, Paper, PrincipleScore, Sections, Verdict

__all__ = ["Critic", "aggregate"]


@runtime_checkable
class Critic(Protocol):
    """Judges one paper's abstract and conclusion against a constitution."""

    name: str
    """Which critic and model, recorded in every verdict, e.g. ``offline:all-MiniLM-L6-v2``."""

    prompt_version: str
    """Part of the verdict cache key: changing prompts invalidates cached verdicts."""

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution) -> Verdict:
        """Return a verdict; raise CriticError when no verdict can be produced."""
        ...


def aggregate(scores: list[PrincipleScore], constitution: Constitution) -> tuple[float, Decision, float]:
    """Weighted score 0-10, the decision it earns, and a confidence 0-1.

    A principle marked ``against`` contributes ``10 - score``: a paper full of
    hype loses points.  Principles with insufficient evidence (score None) or
    with an unverified quote are left out of the mean, and lower the confidence,
    because the critic could not show why it scored them.
    """
    by_id = {p.id: p for p in constitution.principles}
    total = weight_sum = 0.0
    for s in scores:
        principle = by_id.get(s.id)
        if principle is None or s.score is None or s.flagged:
            continue
        value = 10.0 - s.score if principle.against else s.score
        total += principle.weight * value
        weight_sum += principle.weight
    all_weight = sum(p.weight for p in constitution.principles) or 1.0
    coverage = weight_sum / all_weight
    score = round(total / weight_sum, 2) if weight_sum else 0.0
    decision = constitution.decide(score) if weight_sum else Decision.SKIM
    # Distance to the nearest threshold: a score right on a boundary is a coin flip.
    margin = min(abs(score - constitution.promote_at), abs(score - constitution.drop_below))
    confidence = round(min(1.0, 0.5 + margin / 4.0) * coverage, 2)
    return score, decision, confidence
