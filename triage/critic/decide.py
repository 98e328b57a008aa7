"""The decision rules: from per-principle scores to a score, a decision and a confidence.

Rules, in code rather than in a prompt, because a permissive or manipulated
model must not be able to talk its way past them:

1. **Absence counts.**  A principle in favour that the critic could not show —
   a null ("insufficient evidence"), or a score none of whose quotes verified —
   counts as 0: a topic the abstract and conclusion do not show is one the paper
   lacks.  It is not removed from the mean, which would let an off-topic paper
   be judged on the one principle it happens to touch.  An ``against``
   principle counts ``10 - score`` when shown and is left out otherwise (no
   evidence of hype is not a merit).
2. **A promotion must be earned** by the principles in favour, shown with
   evidence.  It is held back to ``skim`` when
   * the evidenced weight is under ``MIN_COVERAGE`` of the principles in favour,
   * the principles in favour alone do not reach ``promote_at`` (against
     principles can keep a paper from promotion, never earn one),
   * the confidence is under ``MIN_CONFIDENCE``,
   * or the caller caps it (a paper with planted instructions, say).
   A drop is never held back: absence is what makes an off-topic paper a drop.
3. **Confidence** is the distance to the nearest threshold (a score on a
   boundary is a coin flip), times the evidenced share of the constitution's
   weight, times one minus the spread between samples when there are several.
4. **No verdict from nothing**: ``evidence_failure`` names the answers that
   must not become a verdict at all — nothing shown anywhere, or quotes that
   fail the evidence check for ``EVIDENCE_FAILURE_SHARE`` of the scored weight.

``aggregate`` is the short form (score, decision, confidence) that
``triage.calibrate`` re-applies to stored verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from triage.critic.constitution import Constitution
from triage.models import Decision, PrincipleScore

__all__ = ["Ruling", "rule", "aggregate", "evidence_failure", "MIN_COVERAGE", "MIN_CONFIDENCE",
           "EVIDENCE_FAILURE_SHARE"]

MIN_COVERAGE = 0.5
"""Share of the in-favour weight that must be shown with verified evidence before a paper can be promoted."""

MIN_CONFIDENCE = 0.4
"""Confidence under which a paper is never promoted."""

EVIDENCE_FAILURE_SHARE = 0.75
"""Share of the scored weight whose quotes fail the check at which an answer is an error, not a verdict."""


def is_evidenced(score: PrincipleScore) -> bool:
    """A score that counts: given (not null) and not flagged by the evidence check (``evidence.verify_scores``)."""
    return score.score is not None and not score.flagged


@dataclass(frozen=True)
class Ruling:
    """What the rules make of a set of principle scores."""

    score: float
    decision: Decision
    confidence: float
    coverage: float  # evidenced share of the weight of the principles judged
    held_back: tuple[str, ...] = ()  # why the decision is below what the score earns


def rule(
    scores: list[PrincipleScore],
    constitution: Constitution,
    *,
    spread: float = 0.0,
    caps: Iterable[str] = (),
) -> Ruling:
    """Apply the rules; ``spread`` (0-10) is the disagreement between samples, ``caps`` reasons to hold at skim.

    Principles of the constitution the scores do not mention (a verdict made
    under an older constitution) are left out; scores for principles it does not
    have are ignored.
    """
    by_id = {s.id: s for s in scores}
    total = weight = 0.0
    favour_total = favour_weight = favour_shown = 0.0
    asked = shown = 0.0
    for principle in constitution.principles:
        s = by_id.get(principle.id)
        if s is None:
            continue
        asked += principle.weight
        evidenced = is_evidenced(s)
        if evidenced:
            shown += principle.weight
        if principle.against:
            if evidenced:
                total += principle.weight * (10.0 - (s.score or 0.0))
                weight += principle.weight
            continue
        value = (s.score or 0.0) if evidenced else 0.0
        total += principle.weight * value
        weight += principle.weight
        favour_total += principle.weight * value
        favour_weight += principle.weight
        favour_shown += principle.weight if evidenced else 0.0

    if not shown:
        return Ruling(0.0, Decision.SKIM, 0.0, 0.0, ("no principle was judged with verified evidence",))
    score = round(total / weight, 2) if weight else 0.0
    coverage = shown / asked
    margin = min(abs(score - constitution.promote_at), abs(score - constitution.drop_below))
    confidence = min(1.0, 0.5 + margin / 4.0) * coverage * max(0.0, 1.0 - spread / 10.0)
    confidence = round(confidence, 2)
    decision = constitution.decide(score)

    held: list[str] = []
    if decision is Decision.READ:
        favour_coverage = favour_shown / favour_weight if favour_weight else 0.0
        favour_score = favour_total / favour_weight if favour_weight else 0.0
        if favour_coverage < MIN_COVERAGE:
            held.append(f"only {favour_coverage:.0%} of the principles in favour shown with evidence "
                        f"(a promotion needs {MIN_COVERAGE:.0%})")
        if favour_score < constitution.promote_at:
            held.append(f"the principles in favour reach {favour_score:.1f} alone: against-principles "
                        "cannot earn a promotion")
        if confidence < MIN_CONFIDENCE:
            held.append(f"confidence {confidence:.2f} is under {MIN_CONFIDENCE:.2f}")
        held.extend(caps)
        if held:
            decision = Decision.SKIM
    return Ruling(score, decision, confidence, round(coverage, 2), tuple(held))


def aggregate(scores: list[PrincipleScore], constitution: Constitution) -> tuple[float, Decision, float]:
    """Weighted score 0-10, the decision the rules give, and a confidence 0-1 (see ``rule``)."""
    ruling = rule(scores, constitution)
    return ruling.score, ruling.decision, ruling.confidence


def evidence_failure(scores: list[PrincipleScore]) -> str | None:
    """Why these scores must not become a verdict, or None when they may."""
    scored = [s for s in scores if s.score is not None]
    scored_weight = sum(s.weight for s in scored)
    failed = [s for s in scored if s.flagged]
    if scored_weight and sum(s.weight for s in failed) / scored_weight >= EVIDENCE_FAILURE_SHARE:
        return (f"the evidence check failed for {len(failed)} of {len(scored)} scored principles "
                f"({', '.join(s.id for s in failed)}): their quotes are not in the paper")
    if not any(is_evidenced(s) and any(q.verified for q in s.quotes) for s in scores):
        return "no principle was judged with a quote found in the paper"
    return None
