"""A loopback stand-in for arXiv: replays recorded Atom responses, serves PDFs and faults.

``ArxivReplay`` is a ``ThreadingHTTPServer`` on ``127.0.0.1:<free port>``:

* ``/api/query`` answers from Atom feeds matched by the request's
  ``search_query``, ``id_list``, ``start`` and ``max_results`` (``sortBy`` and
  ``sortOrder`` are ignored).  Feeds come from the ``arxiv`` package's recorded
  JSON (``load_recorded``: the ``url`` field says which request each answers),
  from Atom files (``load_atom_dir``: the feed's own ``<title>arXiv Query: …``
  says which request it answers, as arXiv's does), or from ``add_feed``.  A
  query nobody recorded gets an empty feed and is listed in ``unmatched``.
* ``/pdf/<id>`` serves whatever ``serve_pdf`` registered.
* Any path can be scripted with ``Reply`` objects: a status, headers, a delay
  before answering (timeouts), a body cut short after N bytes with the full
  ``Content-Length`` announced (a dropped download), optionally stalling before
  the close (a window in which to kill the client).  ``script()`` queues one-shot
  replies consumed before the path's normal answer; ``serve()`` sets the answer.

Every request is logged in ``requests`` with its arrival time, so tests can
check rate limiting.  Point ``ArxivSettings(api_url=server.api_url,
pdf_url=server.pdf_url)`` at it.  ``make_pdf``, ``atom_entry`` and ``atom_feed``
build fixtures for other suites (the nightly digest reuses this server).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

__all__ = ["ArxivReplay", "Reply", "Logged", "make_pdf", "atom_entry", "atom_feed", "query_key"]


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before the status line: past the client's timeout, a timeout
    truncate_at: int | None = None  # send this many body bytes (Content-Length says all), then close
    stall_s: float = 0.0  # after a truncated body, wait this long before closing


@dataclass
class Logged:
    """A request the server saw."""

    path: str
    params: dict[str, str]
    at: float  # time.monotonic() on arrival


def _params(query: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def query_key(params: dict[str, str]) -> tuple[str, str, str, str]:
    """What identifies an API request: (search_query, id_list, start, max_results)."""
    return (
        " ".join(params.get("search_query", "").split()),
        params.get("id_list", ""),
        params.get("start", "0"),
        params.get("max_results", "10"),
    )


def _params_from_title(body: bytes) -> dict[str, str]:
    """arXiv titles each feed with the request: ``arXiv Query: search_query=…&id_list=…&start=0&max_results=10``."""
    import re
    from html import unescape

    m = re.search(rb"<title[^>]*>\s*arXiv Query:\s*(.*?)</title>", body, re.DOTALL)
    if not m:
        raise ValueError("feed has no 'arXiv Query:' title to match requests by")
    params = {}
    for part in unescape(m.group(1).decode("utf-8")).split("&"):
        k, _, v = part.partition("=")
        params[k.strip()] = v
    return params


class ArxivReplay:
    """The server; use as a context manager or call ``start()``/``stop()``."""

    def __init__(self) -> None:
        self.feeds: dict[tuple[str, str, str, str], tuple[int, bytes]] = {}
        self.pdfs: dict[str, bytes] = {}
        self._queued: dict[str, list[Reply]] = {}
        self._fixed: dict[str, Reply] = {}
        self.requests: list[Logged] = []
        self.unmatched: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration --------------------------------------------------------------------------

    def add_feed(self, body: bytes, *, status: int = 200, params: dict[str, str] | None = None) -> None:
        """Answer the request ``params`` (default: read from the feed's title) with ``body``."""
        self.feeds[query_key(params if params is not None else _params_from_title(body))] = (status, body)

    def load_recorded(self, folder: Path) -> int:
        """Load the ``arxiv`` package's recorded responses (JSON with url, status_code, body); returns how many."""
        n = 0
        for path in sorted(Path(folder).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            self.add_feed(data["body"].encode("utf-8"), status=int(data["status_code"]),
                          params=_params(urlsplit(data["url"]).query))
            n += 1
        return n

    def load_atom_dir(self, folder: Path) -> int:
        """Load every ``*.xml`` Atom feed in ``folder``, each matched by its own title; returns how many."""
        n = 0
        for path in sorted(Path(folder).glob("*.xml")):
            self.add_feed(path.read_bytes())
            n += 1
        return n

    def serve_pdf(self, arxiv_id: str, data: bytes) -> None:
        """Serve ``data`` at ``/pdf/<arxiv_id>`` (use the versioned id the client will ask for)."""
        self.pdfs[arxiv_id] = data

    def script(self, path: str, *replies: Reply) -> None:
        """One-shot replies for ``path``, used in order before its normal answer."""
        with self._lock:
            self._queued.setdefault(path, []).extend(replies)

    def serve(self, path: str, reply: Reply | None) -> None:
        """Answer ``path`` with ``reply`` every time (``None`` restores the normal answer)."""
        with self._lock:
            if reply is None:
                self._fixed.pop(path, None)
            else:
                self._fixed[path] = reply

    # -- addresses -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/query"

    @property
    def pdf_url(self) -> str:
        """A ``{id}`` template like ``ArxivSettings.pdf_url``."""
        return f"{self.base_url}/pdf/{{id}}"

    def api_requests(self) -> list[Logged]:
        """The API requests seen so far."""
        return [r for r in self.requests if r.path == "/api/query"]

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> ArxivReplay:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                split = urlsplit(self.path)
                path, params = unquote(split.path), _params(split.query)
                with replay._lock:
                    replay.requests.append(Logged(path, params, time.monotonic()))
                    queued = replay._queued.get(path)
                    reply = queued.pop(0) if queued else replay._fixed.get(path)
                if reply is None:
                    reply = replay._answer(path, params)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to do

            def _send(self, reply: Reply) -> None:
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                self.send_response(reply.status)
                headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                if reply.truncate_at is None:
                    self.wfile.write(reply.body)
                    return
                self.wfile.write(reply.body[: reply.truncate_at])
                self.wfile.flush()
                if reply.stall_s:
                    time.sleep(reply.stall_s)
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="arxiv-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ArxivReplay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- default answers ---------------------------------------------------------------------------

    def _answer(self, path: str, params: dict[str, str]) -> Reply:
        atom = {"Content-Type": "application/atom+xml; charset=utf-8"}
        if path == "/api/query":
            found = self.feeds.get(query_key(params))
            if found is None:
                self.unmatched.append(params)
                return Reply(200, atom_feed([], params=params), atom)
            status, body = found
            return Reply(status, body, atom)
        if path.startswith("/pdf/"):
            data = self.pdfs.get(path.removeprefix("/pdf/"))
            if data is not None:
                return Reply(200, data, {"Content-Type": "application/pdf"})
        return Reply(404, b"<html><body><h1>Not Found</h1></body></html>", {"Content-Type": "text/html"})


# -- fixture builders ------------------------------------------------------------------------------


def make_pdf(title: str = "A Small Test Paper", pages: int = 2, body: str = "") -> bytes:
    """A valid little PDF made with PyMuPDF: a title, an abstract, a conclusion."""
    import pymupdf

    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page()
        if n == 0:
            page.insert_text((72, 90), title, fontsize=16)
            page.insert_text((72, 130), "Abstract", fontsize=11)
            page.insert_text((72, 150), body or "We study modular networks with frozen backbones.", fontsize=10)
        else:
            page.insert_text((72, 90), f"{n}. Conclusion", fontsize=11)
            page.insert_text((72, 110), "Modules compose.", fontsize=10)
    data = doc.tobytes()
    doc.close()
    return data


def atom_entry(arxiv_id: str, version: int, title: str, authors: Iterable[str], *, summary: str = "",
               published: str = "2023-02-22T18:00:00Z", updated: str | None = None,
               categories: Iterable[str] = ("cs.LG",), doi: str | None = None) -> str:
    """One ``<entry>`` in arXiv's current format (https links, a titled pdf link)."""
    cats = list(categories)
    vid = f"{arxiv_id}v{version}"
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(title)}</title>",
        f"    <updated>{updated or published}</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{escape(summary)}</summary>",
        *[f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in cats],
        f"    <published>{published}</published>",
        *([f"    <arxiv:doi>{escape(doi)}</arxiv:doi>"] if doi else []),
        f'    <arxiv:primary_category term="{cats[0] if cats else "cs.LG"}"/>',
        *[f"    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in authors],
        "  </entry>",
    ]
    return "\n".join(lines)


def atom_feed(entries: list[str], *, params: dict[str, str] | None = None, total: int | None = None) -> bytes:
    """A whole feed titled with its request (so ``add_feed`` can match it) around ``entries``."""
    p = {"search_query": "", "id_list": "", "start": "0", "max_results": "10", **(params or {})}
    query = f"search_query={p['search_query']}&id_list={p['id_list']}&start={p['start']}&max_results={p['max_results']}"
    head = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns="http://www.w3.org/2005/Atom">',
        "  <id>https://arxiv.org/api/replay</id>",
        f"  <title>arXiv Query: {escape(query)}</title>",
        "  <updated>2026-11-28T00:00:00Z</updated>",
        f"  <opensearch:itemsPerPage>{p['max_results']}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{len(entries) if total is None else total}</opensearch:totalResults>",
        f"  <opensearch:startIndex>{p['start']}</opensearch:startIndex>",
    ]
    return ("\n".join([*head, *entries, "</feed>"]) + "\n").encode("utf-8")
