"""What triage writes into a reading note, in the reader's own style.

A skim looks like the seed's entries: the conclusion's picture, the abstract's
key sentence and the conclusion's key sentence as quotes, then one line with
the verdict.  A promotion is a new ``read`` entry, and an undo is a correction
appended after what was written, as a reader would do it by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

from triage.claims import claim_sentence
from triage.models import FULL_BASIS, Paper, Sections, Status, Transition, Verdict

__all__ = ["skim_entry", "promotion_entry", "transition_entry", "key_sentence", "verdict_line", "is_critic_entry",
           "CRITIC_PROMOTION"]

#: How a promotion by the critic begins; with the ``triage:`` verdict line, what marks an entry as the critic's.
CRITIC_PROMOTION = "promoted by the critic"


def key_sentence(text: str, verdict: Verdict | None = None, *, conclusion: bool = False) -> str:
    """The sentence of ``text`` that carries the paper's claim (``claims.claim_sentence``).

    The verdict's verified quotes, from the principles that decided it, break
    ties: of two sentences that state a result, the one the verdict rests on.
    """
    leaned = []
    if verdict is not None:
        leaned = [q.text for p in verdict.top_principles(len(verdict.principles)) for q in p.quotes if q.verified]
    return claim_sentence(text, conclusion=conclusion, leaned_on=leaned)


def is_critic_entry(children: list[str]) -> bool:
    """True when a log entry (its nested lines) was written by the critic rather than by the reader.

    The reader's own entries are the ground truth the state and the personal
    critic learn from, so every entry the critic writes carries a ``triage:``
    line or begins its promotion with ``CRITIC_PROMOTION``; anything else in a
    note, including what triage appended on a reader's command, is the reader's.
    """
    for line in children:
        text = line.strip().removeprefix("- ").removeprefix("* ").strip()
        if text.startswith("triage:") or text.startswith(CRITIC_PROMOTION):
            return True
    return False


def verdict_line(verdict: Verdict) -> str:
    """One line: decision, score, confidence, critic and the top principles."""
    top = ", ".join(f"{p.id} {p.score:.1f}" for p in verdict.top_principles(2) if p.score is not None)
    flagged = [p.id for p in verdict.principles if p.flagged]
    basis = f" · {verdict.basis}" if verdict.basis and verdict.basis != FULL_BASIS else ""
    line = (
        f"triage: {verdict.decision.value} · {verdict.score:.1f}/10 · confidence {verdict.confidence:.2f}"
        f" · {verdict.critic}{basis}" + (f" · top: {top}" if top else "")
    )
    if flagged:
        line += f" · unverified quotes: {', '.join(flagged)}"
    return line


def _quote(sentence: str) -> str:
    return '"' + " ".join(sentence.split()).replace('"', "'") + '"'


def skim_entry(
    paper: Paper, sections: Sections, verdict: Verdict, *, snapshot: Path | None = None, note_dir: Path | None = None
) -> str:
    """A ``- [skim(@key)]`` block for the log."""
    from triage.notes import format_entry

    bullets: list[str | list[str]] = []
    if snapshot is not None:
        rel = os.path.relpath(snapshot, note_dir) if note_dir else str(snapshot)
        bullets.append(f"![]({Path(rel).as_posix()})")
    abstract = sections.abstract or paper.abstract
    for text, is_conclusion in ((abstract, False), (sections.conclusion, True)):
        sentence = key_sentence(text, verdict, conclusion=is_conclusion) if text else ""
        if sentence:
            bullets.append(_quote(sentence))
    if why := _partial_basis(sections):
        bullets.append(why)
    bullets.append(verdict_line(verdict))
    return format_entry("skim", paper.key, bullets)


def _partial_basis(sections: Sections) -> str:
    """Why the verdict rests on less than the abstract and the conclusion ('' when it does not)."""
    if sections.basis == FULL_BASIS:
        return ""
    if sections.metadata_only:
        reason = next((w for w in sections.warnings if w.startswith("no PDF")), "no PDF")
        return f"{sections.basis}: {reason}"
    if not sections.conclusion.strip():
        return f"{sections.basis}: no conclusion section found in the PDF"
    return f"{sections.basis}: no abstract in the PDF or in your library"


def promotion_entry(key: str, reason: str) -> str:
    """A ``- [read(@key)]`` block: the paper earned a full reading."""
    from triage.notes import format_entry

    return format_entry("read", key, [reason])


def transition_entry(transition: Transition) -> str:
    """The block a reader's decision adds to the log ('' when it adds none)."""
    from triage.notes import format_entry

    who = transition.actor
    if transition.reason.startswith("undo"):
        status = "read" if transition.new is Status.READ else "skim"
        return format_entry(status, transition.key, [f"correction: {transition.reason} (back to {transition.new.value}, {who})"])
    if transition.new is Status.READ:
        return promotion_entry(transition.key, f"promoted by the {who}" + (f": {transition.reason}" if transition.reason and transition.reason != "reader decision" else ""))
    if transition.new is Status.DROPPED:
        return format_entry("skim", transition.key, [f"dropped by the {who}" + (f": {transition.reason}" if transition.reason and transition.reason != "reader decision" else "")])
    return ""
