"""arXiv's nightly listing feeds (``rss.arxiv.org``), read with the standard library.

arXiv publishes one feed per category each announcement night, as Atom
(``/atom/cs.LG``) or RSS 2.0 (``/rss/cs.LG``).  Each item carries what the
digest needs and nothing more: the versioned id (``oai:arXiv.org:2508.13426v1``),
the title, ``dc:creator`` (authors as printed, LaTeX accents and all), the
per-paper licence in ``dc:rights``, the categories, ``arxiv:announce_type``
(``new``, ``cross``, ``replace`` or ``replace-cross``) and a summary of the form
``arXiv:ID Announce Type: TYPE Abstract: TEXT``.  Both formats parse into the
same ``ListingEntry``; an item that cannot be read is skipped and reported in
``Listing.warnings`` rather than costing the reader the whole night.

Feeds are untrusted input fetched from the network: a document that declares
entities is refused before it reaches the XML parser, and one over
``MAX_FEED_BYTES`` or ``MAX_FEED_ENTRIES`` (``limits.feed_mb`` and
``limits.feed_entries``) is refused with a message instead of being read for
minutes.  Entries without an arXiv id are skipped and counted in one warning.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from triage.arxiv_id import find_arxiv_id, parse_arxiv_id, versioned_id, year_of_id
from triage.errors import SourceError
from triage.latex import decode_latex
from triage.models import Paper

__all__ = [
    "ListingEntry",
    "Listing",
    "parse_listing",
    "load_listing",
    "split_authors",
    "MAX_FEED_BYTES",
    "MAX_FEED_ENTRIES",
]

#: The largest feed read by default (a busy night of cs.LG is a few MiB).
MAX_FEED_BYTES = 50 * 1024 * 1024
#: The most entries read from one feed by default (a busy night of cs.LG lists about 1,500).
MAX_FEED_ENTRIES = 10_000

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")

_NO_ID = "no arXiv id"
_SUMMARY = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*Abstract:\s*(?P<abstract>.*)$", re.DOTALL
)
_LICENCES = {
    "by/4.0": "CC BY 4.0",
    "by-sa/4.0": "CC BY-SA 4.0",
    "by-nc/4.0": "CC BY-NC 4.0",
    "by-nc-sa/4.0": "CC BY-NC-SA 4.0",
    "by-nc-nd/4.0": "CC BY-NC-ND 4.0",
    "by-nd/4.0": "CC BY-ND 4.0",
    "zero/1.0": "CC0 1.0",
    "nonexclusive-distrib/1.0": "arXiv non-exclusive",
}


def split_authors(creators: str) -> list[str]:
    """Authors as printed in ``dc:creator``: comma-separated, the last one possibly after 'and'."""
    text = " ".join(decode_latex(creators).split())
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", text)
    return [p.strip() for p in parts if p.strip()]


@dataclass(frozen=True)
class ListingEntry:
    """One paper announced in a listing (or found by an API query)."""

    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    announce_type: str = "new"
    license: str | None = None
    published: date | None = None
    source: str = ""
    doi: str | None = None  # the API's arxiv:doi (a journal DOI); listings carry none

    @property
    def versioned_id(self) -> str:
        """``2508.13426v1``."""
        return versioned_id(self.arxiv_id, self.version)

    @property
    def primary_category(self) -> str:
        """The paper's home category (arXiv lists it first)."""
        return self.categories[0] if self.categories else ""

    @property
    def is_replacement(self) -> bool:
        """A new version of a paper announced before."""
        return self.announce_type.startswith("replace")

    @property
    def is_cross_list(self) -> bool:
        """Listed here from another primary category."""
        return self.announce_type.endswith("cross")

    @property
    def url(self) -> str:
        """The abstract page of this version."""
        return f"https://arxiv.org/abs/{self.versioned_id}"

    @property
    def license_name(self) -> str:
        """Short licence name (``CC BY 4.0``) or the URL when unknown."""
        if not self.license:
            return ""
        for tail, name in _LICENCES.items():
            if self.license.rstrip("/").endswith(tail):
                return name
        return self.license

    @property
    def year(self) -> int | None:
        """Year of this announcement, else of the id (``2508.…`` -> 2025)."""
        if self.published:
            return self.published.year
        return year_of_id(self.arxiv_id)

    def to_paper(self, key: str) -> Paper:
        """The ``Paper`` the rest of triage works with."""
        return Paper(
            key=key,
            title=self.title,
            authors=list(self.authors),
            year=self.year,
            arxiv_id=self.arxiv_id,
            arxiv_version=self.version,
            url=f"https://arxiv.org/abs/{self.arxiv_id}",
            abstract=self.abstract,
            resolved_by=f"arxiv-listing:{self.source}" if self.source else "arxiv-listing",
        )

    def to_dict(self) -> dict:
        """JSON-ready view."""
        return {
            "arxiv_id": self.arxiv_id,
            "version": self.version,
            "title": self.title,
            "abstract": self.abstract,
            "authors": list(self.authors),
            "categories": list(self.categories),
            "announce_type": self.announce_type,
            "license": self.license,
            "published": self.published.isoformat() if self.published else None,
            "source": self.source,
            "doi": self.doi,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ListingEntry:
        """Inverse of ``to_dict``."""
        published = data.get("published")
        return cls(
            arxiv_id=data["arxiv_id"],
            version=int(data["version"]),
            title=data.get("title", ""),
            abstract=data.get("abstract", ""),
            authors=tuple(data.get("authors", ())),
            categories=tuple(data.get("categories", ())),
            announce_type=data.get("announce_type", "new"),
            license=data.get("license"),
            published=date.fromisoformat(published) if published else None,
            source=data.get("source", ""),
            doi=data.get("doi"),
        )

    @classmethod
    def from_paper(cls, paper: Paper, *, source: str = "api", categories: tuple[str, ...] = ()) -> ListingEntry:
        """An API search result as a listing entry (a version above 1 counts as a replacement)."""
        if not paper.arxiv_id:
            raise SourceError(f"paper {paper.key!r} has no arXiv id")
        version = paper.arxiv_version or 1
        return cls(
            arxiv_id=paper.arxiv_id,
            version=version,
            title=" ".join(paper.title.split()),
            abstract=" ".join(paper.abstract.split()),
            authors=tuple(paper.authors),
            categories=categories,
            announce_type="replace" if version > 1 else "new",
            source=source,
        )


@dataclass
class Listing:
    """A parsed feed: its category and date, the entries, and what could not be read."""

    source: str
    kind: str = "feed"  # "feed" (a night's listing) or "api" (a search)
    category: str = ""
    updated: datetime | None = None
    entries: list[ListingEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    total: int | None = None  # an API answer's opensearch:totalResults: how many match, over all pages

    @property
    def night(self) -> date | None:
        """The announcement date the feed is for."""
        if self.updated is not None:
            return self.updated.date()
        dates = [e.published for e in self.entries if e.published]
        return max(dates) if dates else None


def _text(el: ET.Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def _parse_datetime(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = parsedate_to_datetime(text)  # RSS 2.0 pubDate
        except (TypeError, ValueError):
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _id_in(text: str) -> tuple[str, int | None] | None:
    """The id in ``oai:arXiv.org:2508.13426v1``, an abs URL, or a bare id."""
    return find_arxiv_id(text) or parse_arxiv_id(text)


def _entry(
    *, raw_id: str, title: str, summary: str, authors: list[str], categories: list[str], announce: str,
    rights: str, published: str, source: str, doi: str = "",
) -> ListingEntry:
    m = _SUMMARY.match(summary or "")
    abstract = m.group("abstract") if m else summary
    parsed = _id_in(raw_id) or (_id_in(m.group("id")) if m else None)
    if parsed is None:
        raise ValueError(_NO_ID)
    arxiv_id, version = parsed
    if version is None and m:
        version = (_id_in(m.group("id")) or (arxiv_id, None))[1]
    announce = (announce or (m.group("type") if m else "") or "new").strip().lower()
    when = _parse_datetime(published)
    return ListingEntry(
        arxiv_id=arxiv_id,
        version=version or 1,
        title=decode_latex(" ".join(title.split())),
        abstract=" ".join(abstract.split()),
        authors=tuple(authors),
        categories=tuple(dict.fromkeys(c for c in categories if c)),
        announce_type=announce,
        license=rights.strip() or None,
        published=when.date() if when else None,
        source=source,
        doi=doi.strip() or None,
    )


def parse_listing(data: bytes | str, *, source: str = "", max_entries: int = MAX_FEED_ENTRIES) -> Listing:
    """Parse an arXiv listing feed (Atom or RSS 2.0); SourceError when it is not one, or has over ``max_entries``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    # The whole document is searched (a long comment can push a DOCTYPE past any prefix); a NUL byte means
    # UTF-16 or UTF-32, where these byte strings would not be found, and is refused as well.
    if b"<!ENTITY" in raw or b"<!DOCTYPE" in raw or b"\x00" in raw:
        raise SourceError(f"{source or 'feed'}: refusing a feed that declares a DOCTYPE or entities, or is not UTF-8")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise SourceError(f"{source or 'feed'} is not valid XML: {exc}", hint="is it an arXiv listing feed?") from None

    listing = Listing(source=source)
    if root.tag == f"{{{NS['atom']}}}feed":
        feed_id = _text(root.find("atom:id", NS))
        listing.category = feed_id.rstrip("/").rsplit("/", 1)[-1] if feed_id else ""
        listing.updated = _parse_datetime(_text(root.find("atom:updated", NS)))
        total = _text(root.find("opensearch:totalResults", NS))
        listing.total = int(total) if total.isdigit() else None
        items = root.findall("atom:entry", NS)
        _check_count(len(items), max_entries, source)
        for n, item in enumerate(items, start=1):
            link = item.find("atom:link[@rel='alternate']", NS)
            try:
                listing.entries.append(_entry(
                    raw_id=_text(item.find("atom:id", NS)) or (link.get("href", "") if link is not None else ""),
                    title=_text(item.find("atom:title", NS)),
                    summary=(item.findtext("atom:summary", "", NS) or "").strip(),
                    # Listings print the authors in dc:creator; the API gives one atom:author each.
                    authors=split_authors(_text(item.find("dc:creator", NS))) or [
                        name for a in item.findall("atom:author", NS) if (name := decode_latex(_text(a.find("atom:name", NS))))],
                    categories=[c.get("term", "") for c in item.findall("atom:category", NS)],
                    announce=_text(item.find("arxiv:announce_type", NS)),
                    rights=_text(item.find("dc:rights", NS)),
                    published=_text(item.find("atom:published", NS)),
                    source=source,
                    doi=_text(item.find("arxiv:doi", NS)),
                ))
            except ValueError as exc:
                listing.warnings.append(f"entry {n}: {exc}")
    elif root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise SourceError(f"{source or 'feed'}: an RSS document without a channel")
        channel_link = _text(channel.find("link"))
        listing.category = channel_link.rstrip("/").rsplit("/", 1)[-1] if channel_link else ""
        listing.updated = _parse_datetime(_text(channel.find("lastBuildDate")) or _text(channel.find("pubDate")))
        rss_items = channel.findall("item")
        _check_count(len(rss_items), max_entries, source)
        for n, item in enumerate(rss_items, start=1):
            try:
                listing.entries.append(_entry(
                    raw_id=_text(item.find("guid")) or _text(item.find("link")),
                    title=_text(item.find("title")),
                    summary=(item.findtext("description") or "").strip(),
                    authors=split_authors(_text(item.find("dc:creator", NS))),
                    categories=[_text(c) for c in item.findall("category")],
                    announce=_text(item.find("arxiv:announce_type", NS)),
                    rights=_text(item.find("dc:rights", NS)),
                    published=_text(item.find("pubDate")),
                    source=source,
                ))
            except ValueError as exc:
                listing.warnings.append(f"item {n}: {exc}")
    else:
        raise SourceError(f"{source or 'feed'} is XML but not an Atom or RSS feed (root <{root.tag}>)")
    _summarise_missing_ids(listing)
    return listing


def _check_count(n: int, max_entries: int, source: str) -> None:
    if n > max_entries:
        raise SourceError(f"{source or 'feed'} lists {n:,} entries, over the limit of {max_entries:,} for one feed",
                          hint="is it really one night's listing? raise limits.feed_entries (TRIAGE_LIMITS__FEED_ENTRIES) "
                               "if so")


def _summarise_missing_ids(listing: Listing) -> None:
    """One warning for every entry skipped for want of an arXiv id, naming where they are."""
    missing = [w.split(":", 1)[0] for w in listing.warnings if w.endswith(_NO_ID)]
    if not missing:
        return
    listing.warnings = [w for w in listing.warnings if not w.endswith(_NO_ID)]
    shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    listing.warnings.append(f"{len(missing)} {'entry' if len(missing) == 1 else 'entries'} without an arXiv id "
                            f"skipped ({shown})")


def load_listing(location: str | Path, *, fetch: Callable[[str], bytes] | None = None, timeout_s: float = 30.0,
                 max_bytes: int = MAX_FEED_BYTES, max_entries: int = MAX_FEED_ENTRIES) -> Listing:
    """Read a feed from a file or an http(s) URL; SourceError (external for network failures) otherwise.

    ``fetch`` gets a URL's bytes (the digest passes the arXiv client's, for its
    shared rate limit, retries and the same size cap); without it a plain
    ``httpx`` GET is made.  A feed over ``max_bytes`` or ``max_entries`` is refused.
    """
    text = str(location)
    if text.startswith(("http://", "https://")):
        data = fetch(text) if fetch is not None else _http_get(text, timeout_s)
        _check_size(len(data), max_bytes, text)
        return parse_listing(data, source=text, max_entries=max_entries)
    path = Path(text).expanduser()
    try:
        _check_size(path.stat().st_size, max_bytes, str(path))
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)  # a file growing meanwhile is still cut at the limit
    except OSError as exc:
        raise SourceError(f"cannot read feed {path}: {exc.strerror or exc}") from None
    _check_size(len(data), max_bytes, str(path))
    return parse_listing(data, source=str(path), max_entries=max_entries)


def _check_size(n: int, max_bytes: int, source: str) -> None:
    if n > max_bytes:
        from triage.faults import human_size

        raise SourceError(f"feed {source} is {human_size(n)}, over the {human_size(max_bytes)} limit for one feed",
                          hint="is it really one night's listing? raise limits.feed_mb (TRIAGE_LIMITS__FEED_MB) if so")


def _http_get(url: str, timeout_s: float) -> bytes:
    import httpx

    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=True,
                          headers={"User-Agent": "triage (paper triage; nightly digest)"}) as http:
            response = http.get(url)
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch feed {url}: {exc.__class__.__name__}", external=True) from None
    if response.status_code != 200:
        raise SourceError(f"feed {url} answered HTTP {response.status_code}", external=response.status_code >= 500)
    return response.content
