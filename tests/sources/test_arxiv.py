"""The arXiv client over real HTTP to the loopback replay server: recorded responses, faults, rate limit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.servers.arxiv_replay import ArxivReplay, Reply, atom_entry, atom_feed
from tests.sources.conftest import settings_for
from triage.arxiv_id import split_version
from triage.config import ArxivSettings
from triage.errors import SourceError
from triage.sources.arxiv import ArxivClient, RateLimiter


def client_for(server: ArxivReplay, **opts: object) -> ArxivClient:
    base: dict[str, object] = {"api_url": server.api_url, "pdf_url": server.pdf_url, "delay_s": 0.05,
                               "timeout_s": 2.0, "max_retries": 2, **opts}
    return ArxivClient(ArxivSettings(**base))  # type: ignore[arg-type]


# -- the arxiv package's recorded responses ------------------------------------------------------


@pytest.mark.parametrize("requested,title_start,version", [
    ("1605.08386", "Heat-bath random walks", 1),
    ("1707.08567", None, None),
    ("2104.12255v1", None, 1),
    ("astro-ph/0601001", None, None),
    ("quant-ph/0201082v1", None, 1),
])
def test_recorded_id_lookups(recorded: ArxivReplay, requested: str, title_start: str | None,
                             version: int | None) -> None:
    with client_for(recorded) as client:
        found = client.by_ids([requested])
    assert list(found) == [requested]
    paper = found[requested]
    assert paper.arxiv_id == split_version(requested)[0]
    assert paper.title and paper.authors and paper.year and paper.abstract
    assert paper.pdf_url == f"{recorded.base_url}/pdf/{paper.arxiv_id}v{paper.arxiv_version}"
    assert paper.resolved_by == "arxiv-id"
    if title_start:
        assert paper.title.startswith(title_start) and paper.authors == ["Caprice Stanley", "Tobias Windisch"]
    if version:
        assert paper.arxiv_version == version
    assert not recorded.unmatched


def test_recorded_unknown_ids_are_left_out(recorded: ArxivReplay) -> None:
    with client_for(recorded) as client:
        assert client.by_ids(["0000.0000"]) == {}
        assert client.by_ids(["0808.05394"]) == {}
        both = client.by_ids(["0808.05394", "1707.08567"])  # one request, one known
    assert list(both) == ["1707.08567"]
    assert [r.params["id_list"] for r in recorded.api_requests()][-1] == "0808.05394,1707.08567"
    assert not recorded.unmatched


def test_recorded_malformed_id_is_a_clear_user_error(recorded: ArxivReplay) -> None:
    with client_for(recorded) as client, pytest.raises(SourceError) as exc:
        client.by_ids(["abc"])
    assert "incorrect id format for abc" in str(exc.value) and exc.value.exit_code == 1


def test_recorded_search_pages(recorded: ArxivReplay) -> None:
    with client_for(recorded) as client:
        ten = client.search("testing", max_results=10)
        fifteen = client.search("testing", max_results=15)
    assert len(ten) == 10 and len(fifteen) == 15
    assert [p.arxiv_id for p in fifteen[:10]] == [p.arxiv_id for p in ten]
    assert all(p.resolved_by == "arxiv-search" and p.key for p in fifteen)
    assert not recorded.unmatched


# -- batching, our fixtures ---------------------------------------------------------------------------


def test_by_ids_batches_and_maps_versions(replay: ArxivReplay) -> None:
    entries = [atom_entry(f"2301.{n:05d}", 2, f"Paper {n}", ["Ann Author"]) for n in range(150)]
    ids_a = [f"2301.{n:05d}" for n in range(100)]
    ids_b = [f"2301.{n:05d}" for n in range(100, 150)]
    replay.add_feed(atom_feed(entries[:100], params={"id_list": ",".join(ids_a), "max_results": "100"}))
    replay.add_feed(atom_feed(entries[100:], params={"id_list": ",".join(ids_b), "max_results": "100"}))
    with client_for(replay) as client:
        found = client.by_ids([*ids_a, *ids_b])
    assert len(found) == 150 and found["2301.00149"].arxiv_version == 2
    assert len(replay.api_requests()) == 2 and not replay.unmatched


def test_newest_version_is_noted(replay: ArxivReplay) -> None:
    with client_for(replay) as client:
        paper = client.by_ids(["2302.11529"])["2302.11529"]
    assert (paper.arxiv_id, paper.arxiv_version, paper.key) == ("2302.11529", 2, "pfeifferModularDeepLearning2023")
    assert paper.url == "https://arxiv.org/abs/2302.11529v2" and paper.year == 2023


# -- faults ---------------------------------------------------------------------------------------------


def test_500_then_success_is_retried(replay: ArxivReplay) -> None:
    replay.script("/api/query", Reply(500, b"oops"), Reply(503, b"busy"))
    with client_for(replay, max_retries=2) as client:
        assert "2302.11529" in client.by_ids(["2302.11529"])
        assert client.requests == 3


def test_persistent_5xx_is_an_external_failure(replay: ArxivReplay) -> None:
    replay.serve("/api/query", Reply(502, b"bad gateway"))
    with client_for(replay, max_retries=1) as client, pytest.raises(SourceError) as exc:
        client.search("anything")
    assert exc.value.exit_code == 3 and "HTTP 502" in str(exc.value) and "after 2 tries" in str(exc.value)


def test_429_honours_retry_after(replay: ArxivReplay) -> None:
    replay.script("/api/query", Reply(429, b"slow down", {"Retry-After": "1"}))
    with client_for(replay) as client:
        started = time.monotonic()
        assert client.by_ids(["2302.11529"])
        elapsed = time.monotonic() - started
    times = [r.at for r in replay.api_requests()]
    assert len(times) == 2 and times[1] - times[0] >= 0.95 and elapsed >= 0.95


def test_429_with_an_absurd_retry_after_gives_up_at_once(replay: ArxivReplay) -> None:
    replay.serve("/api/query", Reply(429, b"", {"Retry-After": "86400"}))
    with client_for(replay) as client, pytest.raises(SourceError, match="wait 86400s") as exc:
        client.search("x")
    assert exc.value.exit_code == 3 and len(replay.api_requests()) == 1


def test_timeout_is_retried_then_reported(replay: ArxivReplay) -> None:
    replay.serve("/api/query", Reply(200, b"", delay_s=1.0))
    with client_for(replay, timeout_s=0.2, max_retries=1) as client, pytest.raises(SourceError) as exc:
        client.search("slow")
    assert "no answer within 0.2s" in str(exc.value) and exc.value.exit_code == 3
    assert len(replay.api_requests()) == 2


def test_timeout_then_success(replay: ArxivReplay) -> None:
    replay.script("/api/query", Reply(200, b"", delay_s=1.0))
    with client_for(replay, timeout_s=0.3, max_retries=2) as client:
        assert client.by_ids(["2302.11529"])


def test_a_feed_that_does_not_parse_is_reported(replay: ArxivReplay) -> None:
    replay.serve("/api/query", Reply(200, b"<html>maintenance</html"))
    with client_for(replay) as client, pytest.raises(SourceError):
        client.search("x")


# -- the process-wide rate limiter -----------------------------------------------------------------


def test_limiter_spaces_requests_across_instances_and_threads(replay: ArxivReplay) -> None:
    """Three clients in three threads, delay 0.4 s: the server sees requests at least 0.4 s apart."""
    delay = 0.4
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with client_for(replay, delay_s=delay) as client:
                client.by_ids(["2302.11529"])
                client.search("au:li AND ti:Train AND ti:Large AND ti:Then", max_results=20)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    times = sorted(r.at for r in replay.api_requests())
    assert len(times) == 6
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Arrival times jitter by the connection set-up; the schedule itself is exact.
    assert min(gaps) >= delay - 0.1, gaps
    assert times[-1] - times[0] >= 5 * delay - 0.1, gaps


def test_limiter_unit() -> None:
    limiter = RateLimiter()
    started = time.monotonic()
    for _ in range(3):
        limiter.wait(0.1)
    assert time.monotonic() - started >= 0.2
    limiter.defer(0.3)
    t = time.monotonic()
    limiter.wait(0.0)
    assert time.monotonic() - t >= 0.25


def test_download_uses_the_same_client(replay: ArxivReplay, tmp_path: Path) -> None:
    from triage.fetch import fetch_pdf, sha256_bytes

    settings = settings_for(replay, tmp_path)
    with client_for(replay) as client:
        paper = client.by_ids(["2302.11529"])["2302.11529"]
        path = fetch_pdf(paper, settings, client=client)
        assert client.requests == 2  # the id lookup and the PDF, both through this client's limiter
    assert path.parent == settings.papers_dir and path.stem == sha256_bytes(path.read_bytes())
    assert [r.path for r in replay.requests][-1] == "/pdf/2302.11529v2"


def test_settings_helper_points_at_the_server(replay: ArxivReplay, tmp_path: Path) -> None:
    s = settings_for(replay, tmp_path)
    assert s.arxiv.api_url.startswith("http://127.0.0.1:") and "{id}" in s.arxiv.pdf_url
