"""Quote verification: a quote the critic cites must be in the paper verbatim.

Both sides are normalised the same way extraction normalises text (joined
end-of-line hyphens, ligatures, whitespace, curly quotes), and compared
case-sensitively: a paraphrase is not a quote.

A principle is judged on its quotes one by one: a quote that is not in the paper
is kept, marked unverified, and does not count; the principle is flagged (its
score left out) only when none of its quotes verifies.  One imprecise quote among
good ones costs that quote, not the whole judgement.  A score of 0 needs no quote
(it says the paper lacks the thing; there is nothing to cite), but a 0 citing
only quotes that are not in the paper is flagged like any other.
"""

from __future__ import annotations

from triage.extract import normalize_text
from triage.models import PrincipleScore, Quote

__all__ = ["verify_quote", "verify_scores"]

_QUOTE_MARKS = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def _canonical(text: str) -> str:
    return normalize_text(text).translate(_QUOTE_MARKS).strip().strip('"').strip()


def verify_quote(quote: str, source: str) -> bool:
    """True if ``quote`` (at least a few words) appears verbatim in ``source`` after normalisation."""
    needle = _canonical(quote).rstrip(".").strip()
    if len(needle.split()) < 3:
        return False
    return needle in _canonical(source)


def verify_scores(scores: list[PrincipleScore], source: str) -> list[PrincipleScore]:
    """Mark every quote verified or not; a scored principle none of whose quotes verifies is flagged."""
    checked: list[PrincipleScore] = []
    for s in scores:
        quotes = [Quote(text=q.text, verified=verify_quote(q.text, source)) for q in s.quotes]
        verified = any(q.verified for q in quotes)
        flagged = s.score is not None and not verified and (bool(quotes) or s.score > 0)
        checked.append(s.model_copy(update={"quotes": quotes, "flagged": flagged}))
    return checked

