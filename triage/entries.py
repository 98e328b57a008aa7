"""What triage writes into a reading note, in the reader's own style.

A skim looks like the seed's entries: the conclusion's picture (and, for a
paper from Zotero, a ``zotero://open-pdf`` link to its page), the abstract's
key sentence and the conclusion's key sentence as quotes, then one line with
the verdict.  The critic's promotion is a new ``read`` entry.

A reader's decision is one entry whose first line says what was decided and by
whom, with the status word it leaves the paper at::

    - [read(@key)] promoted by the reader: need the routing details
    - [drop(@key)] dropped by the reader: off topic
    - [read(@key)] drop undone by the reader: back to read

Nothing is ever rewritten: an undo is a new entry after the one it undoes.

Text that comes from a paper or a feed (quotes, titles, authors) is untrusted:
``markdown_text`` escapes it so that it renders as the same words and is never
read as markup (HTML, emphasis, code, links and ``[[wiki links]]``, tags, math)
or as a ``@citekey`` that ``triage queue`` would then take for the reader's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from triage.claims import claim_sentence
from triage.models import FULL_BASIS, Paper, Sections, Status, Transition, Verdict

__all__ = ["skim_entry", "promotion_entry", "transition_entry", "key_sentence", "verdict_line", "is_critic_entry",
           "zotero_link", "markdown_text", "CRITIC_PROMOTION", "STATUS_WORD", "ENTRY_STATUS"]

#: How a promotion by the critic begins; with the ``triage:`` verdict line, what marks an entry as the critic's.
CRITIC_PROMOTION = "promoted by the critic"


def key_sentence(text: str, verdict: Verdict | None = None, *, conclusion: bool = False) -> str:
    """The sentence of ``text`` that carries the paper's claim (``claims.claim_sentence``).

    The verdict's verified quotes, from the principles that decided it, break
    ties: of two sentences that state a result, the one the verdict rests on.
    """
    leaned: list[str] = []
    avoid: list[str] = []
    if verdict is not None:
        leaned = [q.text for p in verdict.top_principles(len(verdict.principles)) for q in p.quotes if q.verified]
        avoid = verdict.injections  # a sentence addressing the reviewer is never the paper's claim
    return claim_sentence(text, conclusion=conclusion, leaned_on=leaned, avoid=avoid)


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
    # A principle the paper is not close to at all is no reason, whatever its rank.
    top = ", ".join(f"{p.id} {p.score:.1f}" + (" (against)" if p.against else "")
                    for p in verdict.top_principles(2) if p.score)
    flagged = [p.id for p in verdict.principles if p.flagged]
    basis = f" · {verdict.basis}" if verdict.basis and verdict.basis != FULL_BASIS else ""
    line = (
        f"triage: {verdict.decision.value} · {verdict.score:.1f}/10 · confidence {verdict.confidence:.2f}"
        f" · {verdict.critic}{basis}" + (f" · top: {top}" if top else "")
    )
    if flagged:
        line += f" · unverified quotes: {', '.join(flagged)}"
    return line


# CommonMark's inline markup (\ ` * _ [ ] < >), and what note apps read in text: @citekeys, #tags, $math$, ~~, ==.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>@#$~=|])")


def markdown_text(text: str) -> str:
    """Untrusted text as one line of markdown that renders as the same words and is never markup.

    Every character markdown or a note app would read as syntax is
    backslash-escaped (CommonMark renders ``\\*`` as ``*``); a ``\\@`` is not a
    citation for Pandoc nor for ``triage``; whitespace and newlines become one space.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _quote(sentence: str) -> str:
    return '"' + markdown_text(sentence.replace('"', "'")) + '"'


def _link_target(path: str) -> str:
    """A path as a markdown link target: what would end it (a space, a parenthesis) escaped, the rest kept legible."""
    return path.replace("%", "%25").replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def zotero_link(paper: Paper, sections: Sections) -> str:
    """``[p. 7 in Zotero](zotero://open-pdf/…?page=7)``: the page the snapshot shows, in the reader's Zotero ('' if none)."""
    if not paper.zotero_pdf:
        return ""
    regions = sections.conclusion_regions or sections.abstract_regions
    if not regions:
        return f"[open in Zotero]({paper.zotero_pdf})"
    page = regions[0].page
    return f"[p. {page} in Zotero]({paper.zotero_pdf}?page={page})"


def skim_entry(
    paper: Paper, sections: Sections, verdict: Verdict, *, snapshot: Path | None = None, note_dir: Path | None = None,
    wikilink: bool = False,
) -> str:
    """A ``- [skim(@key)]`` block for the log (``[[@key]]`` with ``wikilink``)."""
    from triage.notes import format_entry

    bullets: list[str | list[str]] = []
    if snapshot is not None:
        rel = os.path.relpath(snapshot, note_dir) if note_dir else str(snapshot)
        bullets.append(f"![]({_link_target(Path(rel).as_posix())})")
    bullets.append(zotero_link(paper, sections))
    abstract = sections.abstract or paper.abstract
    for text, is_conclusion in ((abstract, False), (sections.conclusion, True)):
        sentence = key_sentence(text, verdict, conclusion=is_conclusion) if text else ""
        if sentence:
            bullets.append(_quote(sentence))
    if why := _partial_basis(sections):
        bullets.append(why)
    bullets.append(verdict_line(verdict))
    return format_entry("skim", paper.key, bullets, wikilink=wikilink)


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


def promotion_entry(key: str, reason: str, *, wikilink: bool = False) -> str:
    """A ``- [read(@key)]`` block: the critic found the paper worth a full reading (``reason`` says so)."""
    from triage.notes import format_entry

    return format_entry("read", key, [reason], wikilink=wikilink)


#: The status word a reader's decision leaves a paper at, in the seed's ``[status(@key)]`` grammar.
STATUS_WORD = {Status.READ: "read", Status.SKIM: "skim", Status.DROPPED: "drop", Status.DONE: "done",
               Status.QUEUED: "queued", Status.ERROR: "error"}
#: The other way: the status a reader's entry word means (``dropped`` as well as ``drop``); other words are no decision.
ENTRY_STATUS = {STATUS_WORD[s]: s for s in (Status.READ, Status.SKIM, Status.DROPPED, Status.DONE)} | \
    {"dropped": Status.DROPPED}
_DECIDED = {Status.READ: "promoted", Status.SKIM: "kept at skim", Status.DROPPED: "dropped", Status.DONE: "marked done",
            Status.QUEUED: "queued", Status.ERROR: "marked failed"}
_DECISION_NOUN = {"read": "promotion", "skim": "keep", "dropped": "drop", "done": "done mark", "queued": "queueing",
                  "error": "failure"}
_UNDO_REASON = re.compile(r"^undo: (?P<old>\w+) -> (?P<new>\w+) by (?P<actor>\w+)")


def transition_entry(transition: Transition, *, wikilink: bool = False) -> str:
    """The one entry a reader's decision (or its undo) adds to the log: its first line says what and who."""
    from triage.notes import format_entry

    who = f"by the {transition.actor}"
    word = STATUS_WORD[transition.new]
    undone = _UNDO_REASON.match(transition.reason)
    if undone:
        noun = _DECISION_NOUN.get(undone["new"], undone["new"])
        whose = "" if undone["actor"] == transition.actor else f"the {undone['actor']}'s "
        headline = f"{whose}{noun} undone {who}: back to {transition.new.value}"
    else:
        why = transition.reason if transition.reason and transition.reason != "reader decision" else ""
        headline = f"{_DECIDED[transition.new]} {who}" + (f": {why}" if why else "")
    return format_entry(word, transition.key, [], headline=headline, wikilink=wikilink)
