"""The prefilter: every new paper of the night scored by the reader model, the one the offline critic uses too."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage.service import Triage
    from triage.sources.listing import ListingEntry

__all__ = ["prefilter", "LIKE_PROMOTED"]

LIKE_PROMOTED = 0.6  # cosine to a paper the reader promoted above which that paper, not a principle, is "closest"


def prefilter(core: Triage, entries: list[ListingEntry]) -> list[tuple[float, str]]:
    """(score 0-10, closest) for each entry: the reader model's score, the one the offline critic gives too.

    ``closest`` is a paper the reader promoted when the entry is very like it
    (``@key``), else the principle that weighs most in the score, else ''.
    """
    import numpy as np

    from triage.critic.model import REASON_Z, paper_text

    if not entries:
        return []
    model = core.reader_model()
    texts = [paper_text(e.title, e.abstract) for e in entries]
    vectors = np.asarray(core.embedder.embed(texts), dtype=np.float64)
    principles = model.constitution.principles
    liked = model.like_promoted(vectors)
    out = []
    for result, (key, cosine) in zip(model.score(texts, vectors), liked):
        reasons = [(p.weight * result.principle_scores[i], p.id) for i, p in enumerate(principles)
                   if not p.against and result.principle_z[i] >= REASON_Z]
        closest = f"@{key}" if key and cosine >= LIKE_PROMOTED else max(reasons)[1] if reasons else ""
        out.append((result.score, closest))
    return out

