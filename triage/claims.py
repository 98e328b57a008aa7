"""The sentences that carry a paper's claim.

A reader skimming an abstract looks for what was done and what came of it,
not for the motivation the abstract opens with; in a conclusion, for the main
finding, not the limitations paragraph.  ``claim_sentence`` picks that
sentence by cues any abstract shows: a measurement (a number with a unit, a
percentage, a factor), the authors stating a contribution or a result ("we
propose", "we show", "outperforms"), and, against it, the opening motivation
and limitation or future-work wording.  When the critic leaned on sentences
(its verified quotes), those break ties towards what the verdict rests on.

The rules are few and fixed on purpose: they are about how papers are written,
not about any reader's taste, so they carry to papers no one labelled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["split_sentences", "claim_sentence", "claim_score", "has_measurement", "is_limitation"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(\[])")
# A full stop after these is not the end of a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|et al|etc|Fig|Figs|Eq|Eqs|Sec|Tab|vs|cf|approx|resp|No|Ref|Refs)\.|\b[A-Z]\.)$")

_MEASUREMENT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|×|x\b|-?fold\b|times\b|points?\b|pp\b|dB\b|ms\b|GB\b|MB\b|FLOPs?\b|[kKMBT]\b)"
    r"|\b(?:by|of|to|from|at|with|only|over|under|up to)\s+\d+(?:\.\d+)?\b"
    r"|\b\d+\.\d+\b"
)
_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|study|article)|our (?:method|approach|model|results?|experiments?|analysis|findings?))\b"
    r"[^.]{0,80}?\b(?:propose|introduce|present|develop|design|show|demonstrate|find|found|prove|establish|achieve|"
    r"obtain|reveal|identify|derive|report)",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:outperform\w*|improv\w*|achiev\w*|reduc\w*|surpass\w*|match\w*|recover\w*|beat\w*|gain\w*|exceed\w*|"
    r"reach\w*|retain\w*|attain\w*|cut\w*|halv\w*|"
    r"results? (?:show|demonstrate|indicate|suggest)|experiments? (?:show|demonstrate)|state[- ]of[- ]the[- ]art)\b",
    re.IGNORECASE,
)
_LIMITATION = re.compile(
    r"\b(?:limitations?|future (?:work|research|directions?)|we leave|remains? (?:open|unclear|to be)|"
    r"open (?:question|problem)s?|caveat|does not|do not|cannot|fails? to|not (?:yet|always)|beyond the scope|"
    r"in the future|further (?:work|research|study))\b",
    re.IGNORECASE,
)
_CITATION = re.compile(r"\[\d+(?:[,–-]\s*\d+)*\]|\(\w+ et al\.,? \d{4}\)")


def split_sentences(text: str) -> list[str]:
    """Sentences of at least five words, not cut at "e.g." or "et al."; shorter fragments carry no claim."""
    parts = _SENTENCE_END.split(" ".join(text.split()))
    sentences: list[str] = []
    for part in parts:
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return [s.strip() for s in sentences if len(s.split()) >= 5]


def has_measurement(sentence: str) -> bool:
    """True when the sentence reports a quantity: a percentage, a factor, a figure with a unit or a decimal."""
    return bool(_MEASUREMENT.search(_CITATION.sub("", sentence)))


def is_limitation(sentence: str) -> bool:
    """True when the sentence states a limit, an open question or future work rather than a finding."""
    return bool(_LIMITATION.search(sentence))


def claim_score(sentence: str, position: int, total: int, *, conclusion: bool = False) -> float:
    """How much ``sentence`` (``position`` of ``total``) carries the paper's claim; higher is more."""
    score = 0.0
    measured = len(_MEASUREMENT.findall(_CITATION.sub("", sentence)))
    if measured:
        score += 3.0 + (1.0 if measured >= 2 else 0.0)  # the headline result usually carries several figures
    if _CONTRIBUTION.search(sentence):
        score += 2.0
    if _RESULT.search(sentence):
        score += 1.5
    if is_limitation(sentence):
        score -= 3.0 if conclusion else 1.5
    if position == 0 and total > 1 and not _CONTRIBUTION.search(sentence):
        score -= 1.5  # the opening sentence of an abstract is usually the field's motivation
    words = len(sentence.split())
    if words < 8 or words > 70:
        score -= 1.0
    return score


def claim_sentence(text: str, *, conclusion: bool = False, leaned_on: Iterable[str] = (),
                   avoid: Iterable[str] = ()) -> str:
    """The sentence of ``text`` that carries its claim ('' for no sentence).

    ``leaned_on`` are sentences a verdict rests on (the critic's verified
    quotes): each one found in ``text`` gets a small bonus, enough to break a
    tie, never enough to prefer motivation over a measured result.  Sentences
    overlapping ``avoid`` (instructions planted for a reviewer) are never chosen.
    """
    banned = [" ".join(a.split()) for a in avoid if a.strip()]
    sentences = [s for s in split_sentences(text) if not any(b in s or s in b for b in banned)]
    if not sentences:
        return ""
    leaned = [" ".join(q.split()).rstrip(".") for q in leaned_on if q]

    def score(item: tuple[int, str]) -> tuple[float, int]:
        i, sentence = item
        value = claim_score(sentence, i, len(sentences), conclusion=conclusion)
        if any(q and q in sentence for q in leaned):
            value += 1.0
        return value, -i  # equal scores: the earlier sentence

    return max(enumerate(sentences), key=score)[1]
