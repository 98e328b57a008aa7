"""arXiv: id lookups, searches and PDF downloads, politely.

This module builds the API's query URLs, pages through the results and hands
each Atom page to ``triage.sources.listing.parse_listing`` — the same parser
the nightly listings go through, so one reading of arXiv's Atom serves both.
It owns the transport because arXiv asks things of a tool that many surfaces
share that a general HTTP client does not do:

* one request every ``delay_s`` seconds **per process**, whichever thread or
  ``ArxivClient`` instance asks — PDF downloads count too;
* retries with exponential backoff on 5xx, timeouts and dropped connections;
  on 429 the server's ``Retry-After`` is honoured and delays every caller;
* no retry when a connection cannot even be made (name not resolved, no
  route, refused): that is ``NetworkDown`` at once, so a machine without
  network learns it in one attempt instead of four per paper;
* errors name the host and the cause, never a whole query URL;
* the endpoint from settings and an injectable ``httpx.Client`` so tests can
  point it at a loopback server.

Results become ``Paper`` records keyed by the default Better BibTeX key the
reader's Zotero would give them (``pfeifferModularDeepLearning2023``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlencode

import httpx

from triage.arxiv_id import split_version
from triage.citekey import bbt_key
from triage.config import ArxivSettings
from triage.errors import NetworkDown, SourceError
from triage.models import Paper
from triage.retry import backoff_s, retry_after_s
from triage.sources.listing import Listing, ListingEntry, parse_listing

__all__ = ["ArxivClient", "RateLimiter", "RATE_LIMITER", "paper_from_entry"]

_BATCH = 100  # ids per id_list request; arXiv answers 100 per page by default
_MAX_RETRY_AFTER_S = 120.0
_USER_AGENT = "triage/0.1 (paper triage; https://github.com/) python-httpx"


class RateLimiter:
    """At most one request per ``delay_s`` seconds, shared by every thread that holds this limiter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0  # monotonic time of the next allowed request

    def wait(self, delay_s: float) -> None:
        """Block until a request may go out, and book the slot after it."""
        with self._lock:  # held while sleeping, so waiting callers queue up in order
            now = time.monotonic()
            if self._next > now:
                time.sleep(self._next - now)
                now = time.monotonic()
            self._next = now + delay_s

    def defer(self, seconds: float) -> None:
        """Push the next allowed request at least ``seconds`` into the future (a 429's Retry-After)."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


RATE_LIMITER = RateLimiter()
"""The process-wide limiter every ``ArxivClient`` uses."""


def paper_from_entry(entry: ListingEntry, *, pdf_url: str, resolved_by: str) -> Paper:
    """An API result as a ``Paper``; the PDF link comes from settings, not the feed."""
    vid = entry.versioned_id
    return Paper(
        key=bbt_key(list(entry.authors), entry.title, entry.year),
        title=entry.title,
        authors=list(entry.authors),
        year=entry.year,
        arxiv_id=entry.arxiv_id,
        arxiv_version=entry.version,
        doi=(entry.doi or "").lower() or None,
        url=f"https://arxiv.org/abs/{vid}",
        abstract=entry.abstract,
        pdf_url=pdf_url.format(id=vid),
        aliases=[f"arXiv:{entry.arxiv_id}"],
        resolved_by=resolved_by,
    )


class ArxivClient:
    """Searches, id lookups and downloads against the arXiv endpoint in ``settings``."""

    def __init__(self, settings: ArxivSettings, *, http: httpx.Client | None = None,
                 limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self._own_http = http is None
        self.http = http or httpx.Client(follow_redirects=True, headers={"User-Agent": _USER_AGENT})
        self.limiter = limiter or RATE_LIMITER
        self.requests = 0  # HTTP requests sent, retries included (for reports and tests)

    def close(self) -> None:
        """Close the HTTP client if this instance created it."""
        if self._own_http:
            self.http.close()

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        # No jitter: the shared limiter already spaces every caller out.
        return backoff_s(attempt, max(self.settings.delay_s, 0.5), cap_s=30.0, jitter=False)

    def get(self, url: str, *, max_bytes: int | None = None, what: str = "arXiv") -> bytes:
        """GET ``url`` through the shared limiter with retries; the body, capped at ``max_bytes``.

        Raises ``SourceError(external=True)`` when arXiv keeps failing, and a
        plain ``SourceError`` for a 4xx answer (the request itself is wrong).
        """
        timeout = httpx.Timeout(self.settings.timeout_s)
        where = _where(url)
        deadline_s = self.settings.timeout_s * 10  # a server dripping bytes must not hold us forever
        last = ""
        for attempt in range(self.settings.max_retries + 1):
            self.limiter.wait(self.settings.delay_s)
            self.requests += 1
            wait = self._backoff(attempt)
            try:
                started = time.monotonic()
                with self.http.stream("GET", url, timeout=timeout) as response:
                    status = response.status_code
                    if status == 429:
                        retry_after = retry_after_s(response.headers)
                        last = f"HTTP 429 (rate limited{f', retry after {retry_after:g}s' if retry_after else ''})"
                        if retry_after is not None:
                            if retry_after > _MAX_RETRY_AFTER_S:
                                raise SourceError(f"{what} asks us to wait {retry_after:g}s before retrying",
                                                  hint="try again later", external=True)
                            wait = retry_after
                            self.limiter.defer(retry_after)
                    elif status >= 500:
                        last = f"HTTP {status}"
                    elif status >= 400:
                        body = response.read()[:4096]
                        raise SourceError(f"{what} ({where}) refused the request: HTTP {status}{_arxiv_error(body)}")
                    else:
                        return _read_capped(response, max_bytes, started, deadline_s, where)
            except httpx.ConnectTimeout:
                raise NetworkDown(_host(url), f"no connection within {self.settings.timeout_s:g}s") from None
            except httpx.ConnectError as exc:
                raise NetworkDown(_host(url), _connect_cause(exc)) from None
            except httpx.TimeoutException:
                last = f"no answer within {self.settings.timeout_s:g}s"
            except (httpx.TransportError, _CutShort) as exc:
                last = str(exc) or type(exc).__name__
            if attempt < self.settings.max_retries:
                time.sleep(wait)
        raise SourceError(f"{what} ({where}) failed: {last} (after {self.settings.max_retries + 1} tries)",
                          hint="check the network or try again later; --offline uses only cached PDFs",
                          external=True)

    def download(self, url: str, *, max_bytes: int | None = None) -> bytes:
        """The bytes at ``url`` (a PDF link), through the same limiter and retries."""
        return self.get(url, max_bytes=max_bytes, what="download")

    # -- the API ----------------------------------------------------------------------------------

    def _page(self, params: dict[str, str | int]) -> Listing:
        content = self.get(f"{self.settings.api_url.rstrip('?')}?{urlencode(params)}")
        if b"http://www.w3.org/2005/Atom" not in content[:4096]:
            # A maintenance page must not read as an empty result list.
            raise SourceError("arXiv answered with something that is not an Atom feed", external=True)
        try:
            return parse_listing(content, source="arXiv API")
        except SourceError as exc:
            raise SourceError(f"arXiv answered with a feed that does not parse: {exc.message}", external=True) from None

    def _query(self, *, search_query: str = "", id_list: Sequence[str] = (), max_results: int,
               page_size: int) -> list[ListingEntry]:
        """Up to ``max_results`` entries, asked for ``page_size`` at a time (arXiv serves at most 100 per page)."""
        entries: list[ListingEntry] = []
        start = 0
        while len(entries) < max_results:
            page = self._page({"search_query": search_query, "id_list": ",".join(id_list), "sortBy": "relevance",
                               "sortOrder": "descending", "start": start, "max_results": page_size})
            entries.extend(page.entries)
            start += page_size
            if len(page.entries) < page_size or start >= max_results or (page.total is not None and start >= page.total):
                break
        return entries[:max_results]

    def by_ids(self, ids: list[str]) -> dict[str, Paper]:
        """Papers for arXiv ids (``2302.11529``, ``2302.11529v2``, ``astro-ph/0601001``), in batched requests.

        The result maps each id as given to its paper; ids arXiv does not know are
        left out.  Without a version the newest version is returned.
        """
        wanted = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        found: dict[str, Paper] = {}
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            by_base: dict[str, Paper] = {}
            by_versioned: dict[str, Paper] = {}
            for entry in self._query(id_list=batch, max_results=len(batch), page_size=_BATCH):
                paper = paper_from_entry(entry, pdf_url=self.settings.pdf_url, resolved_by="arxiv-id")
                by_base[entry.arxiv_id] = paper
                by_versioned[entry.versioned_id] = paper
            for requested in batch:
                base, version = split_version(requested)
                hit = by_versioned.get(requested) if version else by_base.get(base)
                if hit is None and version:
                    hit = by_base.get(base)
                if hit is not None:
                    found[requested] = hit
        return found

    def search(self, query: str, max_results: int = 10) -> list[Paper]:
        """Papers matching an arXiv API ``search_query`` (``au:pfeiffer AND ti:modular``), by relevance."""
        entries = self._query(search_query=query, max_results=max_results, page_size=max(1, min(max_results, _BATCH)))
        return [paper_from_entry(e, pdf_url=self.settings.pdf_url, resolved_by="arxiv-search") for e in entries]


class _CutShort(Exception):
    """The body ended before Content-Length said it would, or took too long."""


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url[:80]
    except Exception:  # an unparsable URL is reported as it is, shortened
        return url[:80]


def _where(url: str) -> str:
    """What a message names: the host, plus the path when it is short and carries no query (a PDF link)."""
    try:
        parsed = httpx.URL(url)
    except Exception:
        return url[:80]
    if parsed.query or len(parsed.path) > 60:
        return parsed.host or url[:80]
    return f"{parsed.host}{parsed.path}".rstrip("/")


def _connect_cause(exc: Exception) -> str:
    """Why a connection failed, in a few words (the OS's message varies by platform)."""
    text = str(exc)
    lowered = text.lower()
    if any(s in lowered for s in ("name or service not known", "name resolution", "nodename nor servname",
                                  "getaddrinfo failed", "no address associated", "errno -2", "errno -3",
                                  "errno -5", "errno 8")):
        return "name not resolved"
    if "refused" in lowered:
        return "connection refused"
    if "unreachable" in lowered:
        return "network unreachable"
    return " ".join(text.split())[:120] or type(exc).__name__


def _read_capped(response: httpx.Response, max_bytes: int | None, started: float, deadline_s: float,
                 where: str) -> bytes:
    expected = response.headers.get("Content-Length")
    if max_bytes is not None and expected and expected.isdigit() and int(expected) > max_bytes:
        raise SourceError(f"{where} is {int(expected) / 1048576:.1f} MiB, over the {max_bytes / 1048576:g} MiB limit",
                          hint="raise fetch.max_mb to accept it")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if max_bytes is not None and len(body) > max_bytes:
            raise SourceError(f"{where} is over the {max_bytes / 1048576:g} MiB limit", hint="raise fetch.max_mb")
        if time.monotonic() - started > deadline_s:
            raise _CutShort(f"download took longer than {deadline_s:g}s")
    if expected and expected.isdigit() and len(body) != int(expected) and not response.headers.get("Content-Encoding"):
        raise _CutShort(f"connection closed after {len(body)} of {expected} bytes")
    return bytes(body)


def _arxiv_error(body: bytes) -> str:
    """arXiv explains a 400 in an Atom entry's summary (``incorrect id format for abc``)."""
    m = re.search(rb"<summary>(.*?)</summary>", body, re.DOTALL)
    return f": {m.group(1).decode('utf-8', 'replace').strip()}" if m else ""
