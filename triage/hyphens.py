"""Join words a line end split, keep the hyphen of compounds a line end broke.

A hyphen at the end of a line is either hyphenation (``repre-`` / ``sentation``)
or the compound's own hyphen (``high-`` / ``dimensional``): TeX breaks a
compound only at its hyphen.  The decision is made per word, strongest evidence
first:

1. the same document: the pair written elsewhere with its hyphen
   (``high-dimensional``) keeps it; written elsewhere as one word
   (``representation``) joins it;
2. the shape: a digit or a capital after the hyphen, or an acronym before it,
   is a compound (``GPT-4``, ``LSM-tree``, ``BERT-based``);
3. a word list (Webster's, from the ``english-words`` package): the joined form
   being a word (or a plural / inflection of one) joins; both halves being words
   keeps the hyphen (``self-improvement``, ``state-of-the-art``);
4. otherwise the halves are joined: hyphenation is the common case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import cache

__all__ = ["join_line_hyphens", "keeps_hyphen", "document_words"]

# A hyphen (ASCII, soft or Unicode) ending a line, with the word pieces on either side.
_EOL_HYPHEN_RE = re.compile(r"(\S*?)([-\u00ad\u2010])[ \t]*\n\s*(\S*)")
_LETTERS_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_EDGE_PUNCT = "\"'“”‘’()[]{}.,;:!?"
_INFLECTIONS = ("ies", "es", "s", "ed", "ing", "ly", "er", "ers", "al")
# Punctuation to spaces in one C-level pass: the document's vocabulary costs milliseconds, not tens.
_TO_SPACE = str.maketrans({c: " " for c in "\"'“”‘’()[]{}.,;:!?/=+*<>|~$%&#@^`\\"})


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


def document_words(text: str) -> frozenset[str]:
    """The lower-cased words and hyphenated compounds of ``text``, from its lines' insides.

    Line-end pieces are excluded so a broken word is not its own evidence.
    """
    inside = _EOL_HYPHEN_RE.sub(" ", text)
    return frozenset(inside.lower().translate(_TO_SPACE).split())


def keeps_hyphen(left: str, right: str, vocabulary: Collection[str] = ()) -> bool:
    """Whether ``left-`` at a line end followed by ``right`` is a compound that keeps its hyphen.

    ``left`` may itself be a compound (``state-of-the``); only its last piece meets ``right``.
    """
    head = left.rsplit("-", 1)[-1]
    if not head or not right:
        return bool(head and right[:1].isdigit())
    hyphenated, joined = f"{left}-{right}".lower(), f"{left}{right}".lower()
    if hyphenated in vocabulary or f"{head}-{right}".lower() in vocabulary:
        return True
    if joined in vocabulary or f"{head}{right}".lower() in vocabulary:
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
        return False
    return len(lo_right) >= 3 and _is_word(lo_head) and _is_word(lo_right)


def join_line_hyphens(text: str, vocabulary: Collection[str] | Callable[[], Collection[str]] = ()) -> str:
    """``text`` with every line-end hyphen resolved: joined, or kept for a compound.

    ``vocabulary`` is the document's own words (``document_words``), or a function that
    makes them, called only when the text has a line-end hyphen.
    """
    if "\n" not in text:
        return text
    vocab: Collection[str] | None = None if callable(vocabulary) else vocabulary

    def resolve(m: re.Match[str]) -> str:
        nonlocal vocab
        if m.group(2) == "\u00ad":  # a soft hyphen is hyphenation by definition
            return m.group(1) + m.group(3)
        left, right = m.group(1).strip(_EDGE_PUNCT), m.group(3).strip(_EDGE_PUNCT)
        if vocab is None:
            vocab = vocabulary() if callable(vocabulary) else vocabulary
        keep = keeps_hyphen(left, right, vocab)
        return f"{m.group(1)}{'-' if keep else ''}{m.group(3)}"

    return _EOL_HYPHEN_RE.sub(resolve, text)
