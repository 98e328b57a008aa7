"""Plain terms: a principle read as a search query over a paper (BM25).

Dense embeddings blur the difference between a paper *about* adapters and
one that merely sits near them; plain terms keep it ("LoRA", "prefix tuning",
"federated" either occur or not).  A principle's statement is the query, the
paper's title and abstract the document, and the inverse document
frequencies come from the background of ordinary papers, so a word every
paper uses ("model", "results") counts for little and the reader's own
vocabulary for a lot.  Unigrams and adjacent pairs are both terms, so
"prefix tuning" counts more than "prefix" and "tuning" apart.

Standard library only: this runs for every paper of a nightly listing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

__all__ = ["terms", "Bm25"]

_WORD = re.compile(r"[a-z0-9]+")
# Function words and the vocabulary of every abstract; kept out of queries and documents alike.
_STOP = frozenset(
    ["a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "from", "as", "at", "is", "are", "was", "were", "be", "been", "being", "this", "that", "these", "those", "it", "its", "into", "than", "then", "there", "their", "they", "them", "we", "our", "us", "i", "my", "me", "you", "your", "he", "she", "his", "her", "which", "who", "whom", "what", "when", "where", "why", "how", "not", "no", "nor", "but", "if", "so", "such", "can", "could", "may", "might", "must", "should", "would", "will", "shall", "do", "does", "did", "done", "have", "has", "had", "having", "each", "every", "any", "all", "some", "more", "most", "less", "least", "other", "others", "own", "same", "very", "also", "just", "only", "both", "either", "neither", "about", "above", "below", "between", "through", "during", "before", "after", "over", "under", "again", "further", "once", "here", "out", "up", "down", "off", "too", "via", "per", "one", "two", "three", "new", "use", "used", "using", "uses", "paper", "papers", "work", "works", "show", "shows", "shown", "propose", "proposed", "approach", "method", "methods", "model", "models", "result", "results", "based"]
)
_SUFFIXES = ("ization", "isation", "ations", "ation", "ings", "ing", "ities", "ity", "ies", "es", "s", "ed", "al", "ly")


def _stem(word: str) -> str:
    # A light suffix strip: "adapters"/"adapter", "routing"/"route" meet; nothing language-model-sized is needed.
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower().replace("-", " ")) if w not in _STOP and len(w) > 1]


def terms(text: str) -> list[str]:
    """The text's terms: stemmed content words and the pairs of adjacent ones."""
    words = _words(text)
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]


class Bm25:
    """BM25 over documents, with document frequencies from a background corpus."""

    def __init__(self, background: Iterable[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.df: Counter[str] = Counter()
        lengths = []
        for text in background:
            found = terms(text)
            self.df.update(set(found))
            lengths.append(len(found))
        self.n = len(lengths)
        self.avg_len = (sum(lengths) / len(lengths)) if lengths else 1.0
        self.k1, self.b = k1, b

    def idf(self, term: str) -> float:
        """Rarer in ordinary papers, heavier (BM25's smoothed form, never negative)."""
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def scores(self, queries: list[str], document: str) -> list[float]:
        """The BM25 score of ``document`` for each query."""
        doc_terms = terms(document)
        counts = Counter(doc_terms)
        norm = self.k1 * (1 - self.b + self.b * len(doc_terms) / (self.avg_len or 1.0))
        out = []
        for query in queries:
            total = 0.0
            for term in set(terms(query)):
                f = counts.get(term, 0)
                if f:
                    total += self.idf(term) * f * (self.k1 + 1) / (f + norm)
            out.append(total)
        return out
