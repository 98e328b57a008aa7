"""Join words a line end split, keep the hyphen of compounds a line end broke.

A hyphen at the end of a line is either hyphenation (``repre-`` / ``sentation``)
or the compound's own hyphen (``high-`` / ``dimensional``): TeX breaks a
compound only at its hyphen.  The decision is made per word, strongest evidence
first:

1. the shape: a digit or a capital after the hyphen, an acronym before it, or
   more hyphens after it make a compound (``GPT-4``, ``LSM-tree``, ``end-to-end``);
2. a word list (Webster's, from the ``english-words`` package): the joined form
   being a word (or a plural / inflection of one) joins, with no more ado;
3. the same document: the pair written elsewhere with its hyphen
   (``high-dimensional``) keeps it; written elsewhere as one word, or inside
   one (``namespaces``), joins it;
4. the word list again: both halves being words keeps the hyphen
   (``self-improvement``, ``state-of-the-art``); otherwise the halves are
   joined, hyphenation being the common case.

Searching the document comes third because it is the costly step (a scan of the
whole text), and most line-end hyphens are settled by the word list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

__all__ = ["join_line_hyphens", "keeps_hyphen"]

# A hyphen (ASCII, soft or Unicode) ending a line; the word pieces around it are found by hand,
# since a pattern that captured them would backtrack through every word of the text.
_EOL_HYPHEN_RE = re.compile(r"[-\u00ad\u2010][ \t]*\n\s*")
_WORD_RE = re.compile(r"\S*")
_EDGE_PUNCT = "\"'“”‘’()[]{}.,;:!?"
_INFLECTIONS = ("ies", "es", "s", "ed", "ing", "ly", "er", "ers", "al")


@cache
def _words() -> frozenset[str]:
    """Webster's Second, lower-cased (235k words); loaded once, on the first ambiguous hyphen."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2"], lower=True))


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


def keeps_hyphen(left: str, right: str, document: str | Callable[[], str] = "") -> bool:
    """Whether ``left-`` at a line end followed by ``right`` is a compound that keeps its hyphen.

    ``document`` is the paper's text, lower-cased (or a function returning it, called only
    when needed): where the word list cannot tell, its spelling elsewhere decides (the
    broken occurrence itself, with its line end, never matches).  ``left`` may itself be a
    compound (``state-of-the``); only its last piece meets ``right``.
    """
    head = left.rsplit("-", 1)[-1]
    if not head or not right:
        return False
    if "-" in right:  # "end-" + "to-end": the rest of a hyphenated compound
        return True
    if right[0].isdigit() or head[-1].isdigit() or right[0].isupper() and not right.isupper() and head.islower():
        return True
    if head.isupper() and len(head) >= 2:  # "LSM-tree", "BERT-based"
        return True
    if right[0].isupper() and head[0].isupper():
        return True  # "Chinese-English", "Plain-Multi"
    lo_head, lo_right = head.lower(), right.lower()
    if _is_word(lo_head + lo_right):
        return False  # the common case, settled without searching the document
    text = document() if callable(document) else document
    if text:
        if f"{lo_head}-{lo_right}" in text:
            return True
        if lo_head + lo_right in text:  # also inside a longer form: "namespaces" for "names-paces"
            return False
    return len(lo_right) >= 3 and _is_word(lo_head) and _is_word(lo_right)


def join_line_hyphens(text: str, document: str | Callable[[], str] = "") -> str:
    """``text`` with every line-end hyphen resolved: joined, or kept for a compound.

    ``document`` is passed on to ``keeps_hyphen``; as a function it is called at most once.
    """
    doc: list[str] = []

    def whole() -> str:
        if not doc:
            doc.append(document() if callable(document) else document)
        return doc[0]

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
        if keeps_hyphen(left, right, whole):
            out.append("-")
    out.append(text[pos:])
    return "".join(out)
