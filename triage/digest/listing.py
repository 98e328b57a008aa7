"""Tonight's listings: reading the sources, one entry per paper, and what each entry is to the reader.

Every (id, version) is recorded the first time it is seen, with the night it
belongs to, so the same paper is never ranked or judged on two nights: a new
version of a paper seen before is noted, not judged again, and a paper already
in the reader's state is noted as such.  New papers get a Better BibTeX-style
key no other paper holds.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from triage.digest.report import DigestOptions, DigestReport
from triage.errors import ConfigError, SourceError, TriageError
from triage.sources.listing import Listing, ListingEntry, load_listing

if TYPE_CHECKING:
    from triage.service import Triage

__all__ = ["derive_key", "build_api_query", "read_sources", "merge", "night_of", "classify"]

_ANNOUNCE_RANK = {"new": 0, "cross": 1, "replace": 2, "replace-cross": 3}

log = logging.getLogger("triage.digest")


def derive_key(authors: list[str] | tuple[str, ...], title: str, year: int | None) -> str:
    """A Better BibTeX-style key, ``auth.lower + shorttitle(3,3) + year``: ``pfeifferModularDeepLearning2023``.

    The one implementation lives in ``triage.citekey``, so the digest names a
    paper as the reader's library (and ``triage add``) would.
    """
    from triage.citekey import bbt_key

    return bbt_key(list(authors), title, year)


def _unique_key(base: str, arxiv_id: str, taken: Callable[[str, str], bool]) -> str:
    """``base``, or ``base`` + a, b, … when another paper holds it (as Better BibTeX disambiguates)."""
    if not taken(base, arxiv_id):
        return base
    letters = string.ascii_lowercase
    for suffix in [*letters, *(a + b for a in letters for b in letters)]:
        if not taken(base + suffix, arxiv_id):
            return base + suffix
    return f"{base}{arxiv_id.replace('.', '').replace('/', '')}"


# -- sources ------------------------------------------------------------------------------


def build_api_query(categories: list[str], query: str | None, since: date, until: date) -> str:
    """An arXiv API ``search_query`` for papers submitted between two dates in these categories."""
    parts = []
    if categories:
        parts.append("(" + " OR ".join(f"cat:{c}" for c in categories) + ")")
    parts.append(f"submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]")
    if query:
        parts.append(f"({query})")
    return " AND ".join(parts)


def _api_listing(core: Triage, categories: list[str], query: str | None, since: date, until: date,
                 max_results: int) -> Listing:
    try:
        from triage.sources.arxiv import ArxivClient
    except ImportError as exc:  # pragma: no cover - the arXiv client ships with triage
        raise ConfigError("the arXiv API client is not available", hint="use --feed or the category feeds") from exc
    search_query = build_api_query(categories, query, since, until)
    with ArxivClient(core.settings.arxiv) as client:
        results = client.search(search_query, max_results)
    listing = Listing(source=f"arXiv API: {search_query}", kind="api")
    for paper in results:
        try:
            listing.entries.append(ListingEntry.from_paper(paper, source="api"))
        except TriageError as exc:
            listing.warnings.append(str(exc))
    return listing


def read_sources(core: Triage, options: DigestOptions, categories: list[str],
                  report: DigestReport) -> list[Listing]:
    """Every listing the options name; failures are reported, not raised, unless nothing could be read."""
    arxiv = core.settings.arxiv
    locations: list[str] = list(options.feeds)
    if not locations and not options.query and not options.since:
        locations = [arxiv.listing_url.format(category=c) for c in categories]
    listings: list[Listing] = []
    failures: list[TriageError] = []
    client = None
    if any(loc.startswith(("http://", "https://")) for loc in locations):
        from triage.sources.arxiv import ArxivClient

        client = ArxivClient(arxiv)  # one polite client: the shared rate limit, retries, a size cap
    try:
        limits = core.settings.limits
        for location in locations:
            try:
                listing = load_listing(location, fetch=_fetcher(client, limits.feed_bytes), max_bytes=limits.feed_bytes,
                                       max_entries=limits.feed_entries)
            except SourceError as exc:
                failures.append(exc)
                report.errors.append(str(exc))
                log.error("source failed: %s", exc)
                continue
            listings.append(listing)
            report.sources.append(f"{listing.category or location} ({len(listing.entries)} entries)")
            report.warnings.extend(f"{location}: {w}" for w in listing.warnings)
            log.info("read %s: %d entries", location, len(listing.entries))
    finally:
        if client is not None:
            client.close()
    if options.query or options.since:
        until = options.night or datetime.now(UTC).date()
        since = options.since or until - timedelta(days=1)
        try:
            listing = _api_listing(core, categories, options.query, since, until, options.api_max_results)
        except SourceError as exc:
            failures.append(exc)
            report.errors.append(str(exc))
            log.error("API query failed: %s", exc)
        else:
            listings.append(listing)
            report.sources.append(f"{listing.source} ({len(listing.entries)} entries)")
    if failures:
        if not listings:
            # Nothing to digest: the worst failure is the run's error (1 for a bad file or URL, 3 for the network).
            raise max(failures, key=lambda f: f.exit_code)
        report.source_exit = max(f.exit_code for f in failures)
    return listings


def _fetcher(client, max_bytes: int) -> Callable[[str], bytes] | None:
    if client is None:
        return None
    return lambda url: client.get(url, max_bytes=max_bytes, what="arXiv listing")


def merge(listings: list[Listing]) -> list[ListingEntry]:
    """One entry per arXiv id: the newest version, its categories merged, 'new' over 'cross' over 'replace'."""
    best: dict[str, ListingEntry] = {}
    for listing in listings:
        for e in listing.entries:
            old = best.get(e.arxiv_id)
            if old is None:
                best[e.arxiv_id] = e
                continue
            if (e.version, -_ANNOUNCE_RANK.get(e.announce_type, 9)) > (old.version, -_ANNOUNCE_RANK.get(old.announce_type, 9)):
                keep, other = e, old
            else:
                keep, other = old, e
            cats = tuple(dict.fromkeys(keep.categories + other.categories))
            best[e.arxiv_id] = ListingEntry(**{**keep.__dict__, "categories": cats})
    return list(best.values())


def night_of(listings: list[Listing], options: DigestOptions) -> date:
    if options.night:
        return options.night
    nights = [n for n in (listing.night for listing in listings if listing.kind == "feed") if n]
    return max(nights) if nights else datetime.now(UTC).date()



# -- classification ----------------------------------------------------------------------------


def classify(core: Triage, entries: list[ListingEntry], night: str, run_id: int,
             report: DigestReport) -> tuple[list[ListingEntry], list[dict]]:
    """Each entry against what the state has seen: (the papers new to the reader, the rows to record as seen).

    A (id, version) seen on an earlier night counts in ``report.old``; one seen
    this night is read back from the state by the caller.  A new version of a
    paper seen before, and a paper already in the state, are rows of their own
    kind; the new papers get a key no other paper holds.
    """
    seen = core.digest_seen([e.arxiv_id for e in entries])
    known = core.keys_for_arxiv_ids([e.arxiv_id for e in entries if e.arxiv_id not in seen])
    fresh: list[ListingEntry] = []
    new_rows: list[dict] = []
    keys_tonight: dict[str, str] = {}

    def taken(key: str, arxiv_id: str) -> bool:
        return keys_tonight.get(key, arxiv_id) != arxiv_id or core.key_taken(key, arxiv_id)

    for e in entries:
        rows = seen.get(e.arxiv_id, [])
        same = next((r for r in rows if r["version"] == e.version), None)
        if same is not None:
            if same["night"] != night:
                report.old += 1
            continue  # this night's rows are read back from the state
        if rows:
            first = rows[0]
            new_rows.append(_row(e, night, first["key"], "version", run_id,
                                 detail=f"v{e.version}; v{first['version']} seen {first['night']}"))
        elif e.arxiv_id in known:
            new_rows.append(_row(e, night, known[e.arxiv_id], "known", run_id, detail="already in your state"))
        else:
            fresh.append(e)  # a replacement of a paper never seen is as new to the reader as a new one
    for e in fresh:
        key = _unique_key(derive_key(e.authors, e.title, e.year), e.arxiv_id, taken)
        keys_tonight[key] = e.arxiv_id
        new_rows.append(_row(e, night, key, "candidate", run_id))
    return fresh, new_rows


def _row(e: ListingEntry, night: str, key: str, kind: str, run_id: int, *, detail: str = "") -> dict:
    data = e.to_dict()
    if detail:
        data["detail"] = detail
    return {"arxiv_id": e.arxiv_id, "version": e.version, "night": night, "key": key, "kind": kind,
            "announce_type": e.announce_type, "entry_json": json.dumps(data, ensure_ascii=False),
            "run_id": run_id or None}
