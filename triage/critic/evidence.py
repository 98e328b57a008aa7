"""Quote verification: a quote the critic cites must be in the paper verbatim.

Both sides are normalised the same way extraction normalises text (joined
end-of-line hyphens, ligatures, whitespace, curly quotes), and compared
case-sensitively: a paraphrase is not a quote.
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
    """Mark every quote verified or not; a principle citing an unverified quote is flagged."""
    checked: list[PrincipleScore] = []
    for s in scores:
        quotes = [Quote(text=q.text, verified=verify_quote(q.text, source)) for q in s.quotes]
        flagged = any(not q.verified for q in quotes)
        checked.append(s.model_copy(update={"quotes": quotes, "flagged": flagged}))
    return checked
