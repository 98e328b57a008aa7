"""The reader's library in memory: papers by citekey, alias, arXiv id, DOI and URL.

Shared by the readers of each library format (``bibtex`` for exports, ``zotero``
for a Zotero database read in place), which fill a ``Library`` and use the few
field helpers here, so neither reader imports the other's internals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from triage.arxiv_id import split_version
from triage.citekey import is_safe_key
from triage.models import Paper

__all__ = ["Library", "normalize_doi", "year_in", "EXTRA_IDS", "EXTRA_CITATION_KEY"]

_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)")
EXTRA_IDS = re.compile(r"^\s*tex\.ids\s*[=:]\s*(.+)$", re.IGNORECASE | re.MULTILINE)
"""Better BibTeX's alias keys in Zotero's Extra field (``tex.ids: key1, key2``)."""
EXTRA_CITATION_KEY = re.compile(r"^\s*(?:Citation Key|bibtex)\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
"""A pinned key in Zotero's Extra field: ``Citation Key: key`` (Better BibTeX's older form: ``bibtex: key``)."""


def normalize_doi(doi: str | None) -> str | None:
    """``https://doi.org/10.1/X`` or ``doi:10.1/X`` -> ``10.1/x`` (DOIs compare case-insensitively)."""
    if not doi:
        return None
    m = _DOI.search(doi.strip())
    return m.group(1).rstrip(".,;").lower() if m else None


class Library:
    """Papers by citekey; alias keys (``ids``) resolve to the same ``Paper``.

    ``errors`` lists entries that were skipped (``refs.bib:123: skipped entry:
    reason``); ``warnings`` lists entries imported with a caveat (a BBT JSON item
    without ``citationKey`` gets the default-pattern key).
    """

    def __init__(self) -> None:
        self._papers: dict[str, Paper] = {}
        self._aliases: dict[str, str] = {}
        self._by_arxiv: dict[str, str] = {}
        self._by_doi: dict[str, str] = {}
        self._by_url: dict[str, str] = {}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.files: list[Path] = []

    def __len__(self) -> int:
        return len(self._papers)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._papers)

    def get(self, key: str) -> Paper | None:
        """The paper with this citekey or alias (a leading ``@`` is ignored)."""
        key = key.lstrip("@")
        key = self._aliases.get(key, key)
        return self._papers.get(key)

    def keys(self) -> list[str]:
        """Every primary citekey, in file order."""
        return list(self._papers)

    def papers(self) -> list[Paper]:
        """Every paper, in file order."""
        return list(self._papers.values())

    def by_arxiv(self, arxiv_id: str) -> Paper | None:
        """The library's paper with this arXiv id (version ignored)."""
        key = self._by_arxiv.get(split_version(arxiv_id)[0])
        return self._papers.get(key) if key else None

    def by_doi(self, doi: str) -> Paper | None:
        """The library's paper with this DOI."""
        norm = normalize_doi(doi)
        key = self._by_doi.get(norm) if norm else None
        return self._papers.get(key) if key else None

    def by_url(self, url: str) -> Paper | None:
        """The library's paper with this URL (scheme and trailing slash ignored)."""
        key = self._by_url.get(_url_key(url))
        return self._papers.get(key) if key else None

    def add(self, paper: Paper, where: str) -> bool:
        """Add a paper; a key (or alias) already taken is reported in ``errors`` and the paper skipped."""
        if not is_safe_key(paper.key):
            self.errors.append(f"{where}: skipped entry: key {paper.key[:80]!r} is not a usable citekey")
            return False
        if self.get(paper.key) is not None:
            first = self.get(paper.key)
            source = first.resolved_by.removeprefix("library:") if first else "?"
            self.errors.append(f"{where}: skipped entry: duplicate key {paper.key!r} (first in {source})")
            return False
        self._papers[paper.key] = paper
        for alias in paper.aliases:
            if alias != paper.key and self.get(alias) is None and is_safe_key(alias):
                self._aliases[alias] = paper.key
        if paper.arxiv_id:
            self._by_arxiv.setdefault(paper.arxiv_id, paper.key)
        if paper.doi:
            self._by_doi.setdefault(paper.doi, paper.key)
        if paper.url:
            self._by_url.setdefault(_url_key(paper.url), paper.key)
        return True


def _url_key(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url.strip()).rstrip("/").lower()


def year_in(text: str) -> int | None:
    """The first plausible year (1500–2099) in a date field."""
    m = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", text or "")
    return int(m.group(1)) if m else None
