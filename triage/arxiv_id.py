"""arXiv identifiers: the one pattern, and every way triage reads or writes one.

An id is new style (``2302.11529``, four digits, a dot, four or five digits) or
old style (``astro-ph/0601001``, ``math.GT/0309136``), optionally followed by a
version (``v2``).  ``ARXIV_ID`` is the only regular expression for it in the code
base: the forms around it (``arXiv:`` prefixes, abs/pdf/html URLs, arXiv's
DOIs ``10.48550/arXiv.…``) are built from it here, and everything else —
the resolver, the library readers, the listing and API feeds, the HTTP API,
the TUI — calls these functions.  A versioned id is written by
``versioned_id`` alone.
"""

from __future__ import annotations

import re

__all__ = ["ARXIV_ID", "parse_arxiv_id", "find_arxiv_id", "split_version", "versioned_id", "year_of_id"]

ARXIV_ID = r"\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
"""An arXiv id without its version (new or old style); plain syntax, so pydantic's ``pattern`` accepts it too."""

_VERSIONED = rf"(?P<id>{ARXIV_ID})(?:v(?P<v>\d+))?"
# What a reader types, whole: an id (arXiv:id), an arXiv URL, arXiv's own DOI.
_TYPED = (
    re.compile(rf"(?:arxiv:\s*)?{_VERSIONED}", re.IGNORECASE),
    re.compile(rf"https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/{_VERSIONED}(?:\.pdf)?/?(?:[?#].*)?",
               re.IGNORECASE),
    re.compile(rf"10\.48550/arxiv\.{_VERSIONED}", re.IGNORECASE),
)
# Inside longer text (a BibTeX note, a URL field, a feed's oai:arXiv.org:… id): only where arXiv is named.
_IN_TEXT = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf|html)/|10\.48550/arxiv\.|\barxiv(?:\.org)?\s*:?\s*){_VERSIONED}", re.IGNORECASE
)
_YEAR = re.compile(r"^(\d\d)\d\d\.|/(\d\d)\d{5}$")


def _groups(m: re.Match[str]) -> tuple[str, int | None]:
    return m.group("id"), int(m.group("v")) if m.group("v") else None


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """``(id, version)`` when ``text`` as a whole names an arXiv paper, else None.

    Accepts ``2302.11529``, ``2302.11529v2``, ``astro-ph/0601001``, ``arXiv:2302.11529``,
    ``https://arxiv.org/abs/2302.11529v2``, ``https://arxiv.org/pdf/2302.11529.pdf`` and
    ``10.48550/arXiv.2302.11529``.
    """
    text = text.strip()
    for pattern in _TYPED:
        if m := pattern.fullmatch(text):
            return _groups(m)
    return None


def find_arxiv_id(*texts: str | None) -> tuple[str, int | None] | None:
    """The first arXiv id (and version) in arXiv URLs, DOIs or ``arXiv: …`` mentions among ``texts``.

    A bare number elsewhere in the text (``pages 1234.5678``) is not taken for an id.
    """
    for text in texts:
        if text and (m := _IN_TEXT.search(text)):
            return _groups(m)
    return None


def split_version(arxiv_id: str) -> tuple[str, int | None]:
    """``2302.11529v2`` -> ``('2302.11529', 2)``; an id without version, or no id at all, is returned as given."""
    return parse_arxiv_id(arxiv_id) or (arxiv_id.strip(), None)


def versioned_id(arxiv_id: str, version: int | None) -> str:
    """``2302.11529v2``; the bare id when the version is not known."""
    return f"{arxiv_id}v{version}" if version else arxiv_id


def year_of_id(arxiv_id: str) -> int | None:
    """The year an id was issued in (``2508.13426`` -> 2025, ``astro-ph/9601001`` -> 1996)."""
    m = _YEAR.search(arxiv_id)
    if not m:
        return None
    yy = int(m.group(1) or m.group(2))
    return 1900 + yy if yy >= 91 else 2000 + yy
