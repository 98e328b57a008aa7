"""From whatever names a paper to its metadata: the library first, then arXiv.

Accepted everywhere a paper is named: ``@citekey`` or a bare citekey, arXiv ids
new and old style with or without version (``2302.11529``, ``2302.11529v2``,
``astro-ph/0601001``, ``arXiv:2302.11529``), arXiv ``abs``/``pdf`` URLs, DOIs
(``10.48550/arXiv.2302.11529`` is arXiv's own and maps straight to the id) and
other URLs.

A citekey the library does not hold is looked up on arXiv when it follows the
Better BibTeX default pattern: ``au:<author> AND ti:<word>…`` (then the title
words alone, for authors whose name particles the key folded away, like
``vandenoord``), keeping candidates whose first author, title start and year
agree with the key.  One candidate resolves; several raise
``AmbiguousKeyError`` with the candidates for the reader to choose (``pick``
records the choice for good); none raise ``SourceError``.  Keys are checked before anything else: a key that could not
be a citekey (a path, a NUL byte, 10 kB of text) is refused, never used.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from triage.arxiv_id import parse_arxiv_id, versioned_id
from triage.atomic import write_atomic
from triage.citekey import SKIP_WORDS, ascii_fold, family_name, is_safe_key, parse_bbt_key
from triage.config import Settings
from triage.errors import AmbiguousKeyError, OfflineMiss, SourceError
from triage.models import Paper
from triage.sources.library import Library

if TYPE_CHECKING:
    from triage.sources.arxiv import ArxivClient

__all__ = ["Identifier", "parse_identifier", "resolve", "pick", "search_citekey"]

Kind = Literal["citekey", "arxiv", "doi", "url"]

_MAX_LEN = 2048
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_DOI = re.compile(r"^(?:doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Identifier:
    """What the reader typed, classified: ``kind`` and the normalised ``value`` (``version`` for arXiv)."""

    kind: Kind
    value: str
    version: int | None = None
    text: str = ""

    @property
    def versioned(self) -> str:
        """The arXiv id with its version, when one was given."""
        return versioned_id(self.value, self.version)


def parse_identifier(text: str) -> Identifier:
    """Classify a paper identifier; ``SourceError`` for one that is empty, too long, or not a usable key."""
    if "\x00" in text:
        raise SourceError("identifier contains a NUL byte")
    raw = text.strip()
    if not raw:
        raise SourceError("empty paper identifier")
    if len(raw) > _MAX_LEN:
        raise SourceError(f"identifier is {len(raw)} characters long; that is not a citekey, id, DOI or URL")
    if arxiv := parse_arxiv_id(raw):
        return Identifier("arxiv", *arxiv, text=raw)
    m = _DOI_URL.match(raw) or _DOI.match(raw)
    if m:
        doi = m.group(1).rstrip(".,;")
        if arxiv := parse_arxiv_id(doi):
            return Identifier("arxiv", *arxiv, text=raw)
        return Identifier("doi", doi.lower(), text=raw)
    if re.match(r"^https?://", raw, re.IGNORECASE):
        if any(c.isspace() for c in raw):
            raise SourceError("a URL cannot contain spaces")
        return Identifier("url", raw, text=raw)
    key = raw[1:] if raw.startswith("@") else raw
    if not is_safe_key(key):
        shown = key if len(key) <= 60 else key[:57] + "..."
        raise SourceError(f"{shown!r} is not a citekey, arXiv id, DOI or URL",
                          hint="citekeys look like @pfeifferModularDeepLearning2023")
    return Identifier("citekey", key, text=raw)


def resolve(identifier: str, settings: Settings, library: Library | None = None, *,
            arxiv: ArxivClient | None = None) -> Paper:
    """Metadata for ``identifier``: from the library when it holds the paper, else from arXiv.

    ``Paper.resolved_by`` records the route (``library:refs.bib``,
    ``arxiv-search``, ``arxiv-id``, ``doi``, ``url``).  What arXiv answered is
    remembered for a week in ``<home>/cache/resolved.json``.  Offline
    (``settings.fetch.offline``) arXiv is not asked: remembered answers of any
    age are used, and an arXiv id otherwise resolves to a bare record that the
    PDF cache can still serve.
    """
    ident = parse_identifier(identifier)
    if ident.kind == "citekey":
        if library is not None and (paper := library.get(ident.value)) is not None:
            return paper
        name = f"citekey:{ident.value}"
        if (paper := _cached(settings, name)) is not None:
            return paper
        paper = _from_arxiv(settings, arxiv, lambda client: search_citekey(ident.value, client), ident)
        _remember(settings, name, paper)
        return paper
    if ident.kind == "arxiv":
        if library is not None and (paper := library.by_arxiv(ident.value)) is not None:
            if ident.version and paper.arxiv_version != ident.version:
                paper = paper.model_copy(update={"arxiv_version": ident.version, "pdf_url": None})
            return paper
        name = f"arxiv:{ident.versioned}"
        if (paper := _cached(settings, name)) is not None:
            return paper
        if settings.fetch.offline:
            return _bare_arxiv(ident)
        paper = _from_arxiv(settings, arxiv, lambda client: _by_id(ident, client), ident)
        _remember(settings, name, paper)
        return paper
    if ident.kind == "doi":
        if library is not None and (paper := library.by_doi(ident.value)) is not None:
            return paper
        raise SourceError(f"DOI {ident.value} is not in your library",
                          hint="arXiv DOIs (10.48550/arXiv.*) resolve directly; add other papers to your library")
    # url
    if library is not None and (paper := library.by_url(ident.value)) is not None:
        return paper
    if re.search(r"\.pdf(?:[?#].*)?$", ident.value, re.IGNORECASE):
        digest = hashlib.sha256(ident.value.encode()).hexdigest()[:12]
        return Paper(key=f"url-{digest}", url=ident.value, pdf_url=ident.value, resolved_by="url")
    raise SourceError(f"{ident.value} is not in your library and is not a PDF link",
                      hint="use the paper's arXiv id, a direct PDF link, or add it to your library")


def pick(key: str, arxiv_id: str, settings: Settings, library: Library | None = None, *,
         arxiv: ArxivClient | None = None) -> Paper:
    """The reader's answer to an ambiguous citekey: from now on ``key`` is the arXiv paper ``arxiv_id``.

    The choice is remembered without expiry (arXiv would answer ambiguously
    again); a library entry for ``key`` still comes first.
    """
    cited, chosen = parse_identifier(key), parse_identifier(arxiv_id)
    if cited.kind != "citekey":
        raise SourceError(f"{key!r} is not a citekey", hint="pick names a citekey and the arXiv id it stands for")
    if chosen.kind != "arxiv":
        raise SourceError(f"{arxiv_id!r} is not an arXiv id", hint="e.g. 2302.11529, as the candidates list them")
    paper = resolve(arxiv_id, settings, library, arxiv=arxiv)
    aliases = [*paper.aliases, paper.key] if paper.key != cited.value else paper.aliases
    paper = paper.model_copy(update={"key": cited.value, "aliases": aliases, "resolved_by": "arxiv-search, picked"})
    _remember(settings, f"citekey:{cited.value}", paper, pinned=True)
    return paper


def _from_arxiv(settings: Settings, client: ArxivClient | None, call: Callable[[ArxivClient], Paper],
                ident: Identifier) -> Paper:
    if settings.fetch.offline:
        raise OfflineMiss(f"@{ident.value} is not in your library (offline: arXiv was not searched)",
                          hint="add it to your library, or run online to search arXiv")
    own = client is None
    if client is None:
        from triage.sources.arxiv import ArxivClient

        client = ArxivClient(settings.arxiv)
    try:
        return call(client)
    finally:
        if own:
            client.close()


# -- what arXiv told us, remembered ---------------------------------------------------------------

_FRESH_S = 7 * 86400.0  # ask arXiv again after a week: a newer version is a change the reader should see


def _resolved_file(settings: Settings) -> Path:
    return settings.cache_dir / "resolved.json"


def _cached(settings: Settings, name: str) -> Paper | None:
    """A paper arXiv resolved before: fresh ones always, any age when offline."""
    try:
        entry = json.loads(_resolved_file(settings).read_text(encoding="utf-8")).get(name)
        if not isinstance(entry, dict):
            return None
        stale = time.time() - float(entry.get("at", 0)) > _FRESH_S
        if stale and not entry.get("pinned") and not settings.fetch.offline:
            return None
        return Paper.model_validate(entry["paper"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged cache costs one more request, nothing else


def _remember(settings: Settings, name: str, paper: Paper, *, pinned: bool = False) -> None:
    from filelock import FileLock

    target = _resolved_file(settings)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock", timeout=10):
            try:
                data = json.loads(target.read_text(encoding="utf-8"))
                data = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                data = {}
            data[name] = {"at": time.time(), "paper": paper.model_dump(mode="json"), "pinned": pinned}
            write_atomic(target, json.dumps(data, ensure_ascii=False))
    except OSError as exc:
        if pinned:  # the reader's choice is not an optimisation: it must not be lost silently
            raise SourceError(f"could not record the choice for {name}: {exc.strerror or exc}") from None
        # remembering an answer is an optimisation; the paper is resolved either way


def _by_id(ident: Identifier, client: ArxivClient) -> Paper:
    found = client.by_ids([ident.versioned])
    paper = found.get(ident.versioned)
    if paper is None:
        raise SourceError(f"arXiv has no paper {ident.versioned}")
    return paper


def _bare_arxiv(ident: Identifier) -> Paper:
    key = "arXiv-" + re.sub(r"[^\w.\-]", "-", ident.value)
    return Paper(key=key, arxiv_id=ident.value, arxiv_version=ident.version, resolved_by="arxiv-id (offline)",
                 aliases=[f"arXiv:{ident.value}"])


# -- citekey -> arXiv search --------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())


def _title_prefixes(title: str) -> tuple[str, str]:
    """The title squashed to lower-case alphanumerics, without and with function words."""
    words = re.findall(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*", ascii_fold(title))
    content = [w for w in words if w.lower() not in SKIP_WORDS]
    return _norm("".join(content)), _norm("".join(words))


def _term(word: str) -> str:
    """One title word as a query term; a run-together word also matches its camel-case parts."""
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+", word)
    clean = re.sub(r"[^A-Za-z0-9]", "", word)
    if len(parts) > 1:
        return "(ti:" + clean + " OR (" + " AND ".join(f"ti:{p}" for p in parts) + "))"
    return f"ti:{clean}"


def search_citekey(key: str, client: ArxivClient, *, max_results: int = 20) -> Paper:
    """The arXiv paper a default-pattern Better BibTeX key names; ``AmbiguousKeyError`` when several do."""
    parts = parse_bbt_key(key)
    if parts is None or not parts.title_words:
        raise SourceError(f"@{key} is not in your library, and is not a default Better BibTeX key to search arXiv for",
                          hint="add it to your library, or name the paper by arXiv id or DOI")
    want_title = _norm("".join(parts.title_words))
    titles = " AND ".join(_term(w) for w in parts.title_words)

    def matches(paper: Paper, *, exact_year: bool) -> bool:
        if not paper.authors or family_name(paper.authors[0]) != parts.author:
            return False
        content, full = _title_prefixes(paper.title)
        if not (content.startswith(want_title) or full.startswith(want_title)):
            return False
        if paper.year is None:
            return False
        # The key's year is often the venue's; the arXiv version can be a year older.
        return paper.year == parts.year if exact_year else parts.year - 1 <= paper.year <= parts.year

    queries = [f"au:{parts.author} AND {titles}", titles]
    seen: dict[str, Paper] = {}
    for query in queries:
        for paper in client.search(query, max_results=max_results):
            seen.setdefault(paper.arxiv_id or paper.key, paper)
        candidates = [p for p in seen.values() if matches(p, exact_year=True)]
        if not candidates:
            candidates = [p for p in seen.values() if matches(p, exact_year=False)]
        if len(candidates) == 1:
            paper = candidates[0]
            return paper.model_copy(update={"key": key, "aliases": [*paper.aliases, paper.key] if paper.key != key
                                            else paper.aliases, "resolved_by": "arxiv-search"})
        if len(candidates) > 1:
            listing = "; ".join(f"{p.arxiv_id} {p.title!r} ({p.year})" for p in candidates[:5])
            raise AmbiguousKeyError(f"@{key} matches {len(candidates)} arXiv papers: {listing}",
                                    candidates=candidates,
                                    hint=f"pick one by its arXiv id: triage fetch @{key} --pick ID (the TUI asks; the API takes \"pick\")")
    raise SourceError(f"no arXiv paper matches @{key} (author {parts.author}, title "
                      f"{' '.join(parts.title_words)}…, {parts.year})",
                      hint="add it to your library, or name the paper by arXiv id or DOI")

