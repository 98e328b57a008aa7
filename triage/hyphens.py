"""Join words a line end split, keep the hyphen of compounds a line end broke.

A hyphen at the end of a line is either hyphenation (``repre-`` / ``sentation``)
or the compound's own hyphen (``high-`` / ``dimensional``): TeX breaks a
compound only at its hyphen.  The decision is made per word, strongest evidence
first:

1. the shape: more hyphens after it (``end-`` / ``to-end``), a digit, or a
   capital after a lower-case or acronym piece make a compound (``GPT-4``,
   ``LSM-tree``, ``Chinese-English``), unless the document writes the two
   pieces as one name elsewhere (``TABLE-`` / ``FORMER``, ``Fuzz-`` / ``DelSol``);
2. the same document writing the pair with its hyphen elsewhere
   (``non-fungible``) keeps it;
3. a word list (Webster's and GCIDE, from the ``english-words`` package): the joined form
   being a word (or a plural / inflection of one) joins;
4. the same document writing the pair as one word, or inside one
   (``namespaces`` for ``names-`` / ``paces``), joins it;
5. both halves being words keeps the hyphen (``self-improvement``,
   ``easy-to-use``); otherwise the halves are joined, hyphenation being the
   common case.

The document is searched through ``Evidence``, which builds what it needs on the
first question: the hyphenated words (a short string, cheap to search) for step
2, the whole lower-cased text only for the few pairs that reach step 4.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

__all__ = ["Evidence", "join_line_hyphens", "keeps_hyphen"]

# A hyphen (ASCII, soft or Unicode) ending a line; the word pieces around it are found by hand,
# since a pattern that captured them would backtrack through every word of the text.
_EOL_HYPHEN_RE = re.compile(r"[-\u00ad\u2010][ \t]*\n\s*")
_WORD_RE = re.compile(r"\S*")
_EDGE_PUNCT = "\"'“”‘’()[]{}.,;:!?"
_INFLECTIONS = ("ies", "es", "s", "ed", "ing", "ly", "er", "ers", "al")


@cache
def _words() -> frozenset[str]:
    """Webster's Second and GCIDE, lower-cased (265k words); loaded once, on the first line-end hyphen.

    GCIDE adds the newer words Webster's 1934 lacks ("online", "email", "worthwhile").
    """
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2", "gcide"], lower=True))


def _is_word(w: str) -> bool:
    if len(w) < 2:
        return False
    words = _words()
    if w in words:
        return True
    for suffix in _INFLECTIONS:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            stem = w[: -len(suffix)]
            if stem in words or stem + "e" in words or (suffix == "ies" and stem + "y" in words):
                return True
    return False


class Evidence:
    """How a document spells words elsewhere; built from its text on the first question."""

    def __init__(self, text: str | Callable[[], str] = "") -> None:
        self._source = text
        self._text: str | None = None
        self._compounds: str | None = None

    def _lower(self) -> str:
        if self._text is None:
            source = self._source() if callable(self._source) else self._source
            self._text = source.lower()
        return self._text

    def hyphenated(self, pair: str) -> bool:
        """``pair`` ("high-dimensional", lower case) is written, whole, somewhere in the document."""
        if self._compounds is None:
            # Only words with a hyphen can hold it: a few hundred of them, searched in microseconds.
            self._compounds = "\n".join([w for w in self._lower().split() if "-" in w])
        return pair in self._compounds

    def joined(self, word: str) -> bool:
        """``word`` (lower case) is written somewhere in the document, alone or inside a longer word."""
        return word in self._lower()


_NO_EVIDENCE = Evidence()


def keeps_hyphen(left: str, right: str, evidence: Evidence | str = _NO_EVIDENCE) -> bool:
    """Whether ``left-`` at a line end followed by ``right`` is a compound that keeps its hyphen.

    ``evidence`` is the rest of the document (an ``Evidence``, or its text); the broken
    occurrence itself, with its line end, is never evidence.  ``left`` may itself be a
    compound (``state-of-the``); only its last piece meets ``right``.
    """
    if isinstance(evidence, str):
        evidence = Evidence(evidence)
    head = left.rsplit("-", 1)[-1]
    if not head or not right:
        return False
    lo_head, lo_right = head.lower(), right.lower()
    if "-" in right or right[0].isdigit() or head[-1].isdigit():
        return True
    if right[0].isupper() and (head.isupper() and len(head) >= 2 or head[0].isupper() or head.islower()):
        # "LSM-tree" is caught below; here the capital after the hyphen: a compound of names,
        # unless the document writes them as one ("TableFormer", "FuzzDelSol").
        return not evidence.joined(lo_head + lo_right)
    if head.isupper() and len(head) >= 2:  # "LSM-tree", "BERT-based"
        return True
    if evidence.hyphenated(f"{lo_head}-{lo_right}"):
        return True
    if "-" in left and _is_word(lo_head) and _is_word(lo_right):
        return True  # "easy-to-" + "use": a compound goes on, even if "touse" is in the dictionary
    if _is_word(lo_head + lo_right):
        return False
    if evidence.joined(lo_head + lo_right):
        return False
    return len(lo_right) >= 3 and _is_word(lo_head) and _is_word(lo_right)


def join_line_hyphens(text: str, evidence: Evidence | str = _NO_EVIDENCE) -> str:
    """``text`` with every line-end hyphen resolved: joined, or kept for a compound (see ``keeps_hyphen``)."""
    if isinstance(evidence, str):
        evidence = Evidence(evidence)
    out: list[str] = []
    pos = 0
    for m in _EOL_HYPHEN_RE.finditer(text):
        start, end = m.span()
        out.append(text[pos:start])
        pos = end
        if text[start] == "\u00ad":  # a soft hyphen is hyphenation by definition
            continue
        word_start = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start), text.rfind("\t", 0, start)) + 1
        left = text[word_start:start].strip(_EDGE_PUNCT)
        right = _WORD_RE.match(text, end).group().strip(_EDGE_PUNCT)  # type: ignore[union-attr]
        if keeps_hyphen(left, right, evidence):
            out.append("-")
    out.append(text[pos:])
    return "".join(out)
