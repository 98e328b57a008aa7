"""No network: found out once, said once, and the rest of the run served from what is cached.

The "network" here is a loopback port nothing listens on (a refused
connection fails at once, like a name that does not resolve); attempts are
counted at httpx's transport, the last step before a socket.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.servers.arxiv_replay import ArxivReplay, Reply
from tests.sources.conftest import settings_for
from triage.cli import app
from triage.errors import NetworkDown, SourceError
from triage.sources.arxiv import ArxivClient

UNRESOLVABLE = [f"{name}{title}{year}" for name, title, year in [
    ("smith", "AlphaBetaGamma", 2020), ("jones", "DeltaEpsilonZeta", 2019), ("lee", "EtaThetaIota", 2021),
    ("kim", "KappaLambdaMu", 2018), ("park", "NuXiOmicron", 2022), ("chen", "PiRhoSigma", 2017),
    ("wang", "TauUpsilonPhi", 2016), ("li", "ChiPsiOmega", 2015), ("zhao", "AlephBethGimel", 2023),
    ("sun", "DaletHeWaw", 2024)]]


@pytest.fixture
def dead_port() -> int:
    """A loopback port with nothing listening: every connection is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every HTTP request triage tries to send, as ``host`` strings."""
    sent: list[str] = []
    real = httpx.HTTPTransport.handle_request

    def counting(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        sent.append(request.url.host)
        return real(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", counting)
    yield sent


def point_arxiv_at(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("TRIAGE_ARXIV__API_URL", f"{base}/api/query")
    monkeypatch.setenv("TRIAGE_ARXIV__PDF_URL", base + "/pdf/{id}")
    monkeypatch.setenv("TRIAGE_ARXIV__DELAY_S", "0.05")
    monkeypatch.setenv("TRIAGE_ARXIV__MAX_RETRIES", "3")  # the default: none of them may be spent on a dead network


def test_a_refused_connection_is_network_down_at_once(dead_port: int, tmp_path: Path) -> None:
    settings = settings_for(_Dead(dead_port), tmp_path, max_retries=3)
    with ArxivClient(settings.arxiv) as client, pytest.raises(NetworkDown) as exc:
        client.search("au:smith AND ti:Alpha")
    assert client.requests == 1
    assert exc.value.message == "no network: cannot reach 127.0.0.1 (connection refused)"
    assert exc.value.exit_code == 3


def test_service_failures_name_the_host_and_cause_not_the_query(replay: ArxivReplay, tmp_path: Path) -> None:
    replay.serve("/api/query", Reply(503, b"busy"))
    settings = settings_for(replay, tmp_path, max_retries=0)
    with ArxivClient(settings.arxiv) as client, pytest.raises(SourceError) as exc:
        client.search("au:smith AND ti:Alpha")
    assert exc.value.message == "arXiv (127.0.0.1) failed: HTTP 503 (after 1 tries)"
    assert "search_query" not in str(exc.value)


def test_ten_unresolvable_keys_without_network_one_attempt_one_message(
    tmp_path: Path, dead_port: int, attempts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    point_arxiv_at(monkeypatch, f"http://127.0.0.1:{dead_port}")
    note = tmp_path / "note.md"
    note.write_text("## Context\n" + "".join(f"- @{k}\n" for k in UNRESOLVABLE) + "\n## Log\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(note), "--critic", "offline"])
    assert attempts == ["127.0.0.1"]  # one connection tried; before, each key spent four tries (and ~4 min in all)
    assert result.stderr.count("no network") == 1
    assert "no network: using cached papers only (127.0.0.1: connection refused)" in result.stderr
    assert all(f"@{k} is not in your library (offline: arXiv was not searched)" in result.stderr for k in UNRESOLVABLE)
    assert not any(f"@{k}: @{k}" in result.stderr for k in UNRESOLVABLE)  # the key is said once per line
    assert result.exit_code == 3  # the network failed, not the reader's input: try again later
    assert "search_query" not in result.stderr


def test_after_the_network_is_gone_cached_papers_are_still_served(
    replay: ArxivReplay, tmp_path: Path, attempts: list[str], monkeypatch: pytest.MonkeyPatch, dead_port: int
) -> None:
    point_arxiv_at(monkeypatch, replay.base_url)
    runner = CliRunner()
    assert runner.invoke(app, ["fetch", "@pfeifferModularDeepLearning2023"]).exit_code == 0  # online: cached now
    point_arxiv_at(monkeypatch, f"http://127.0.0.1:{dead_port}")
    attempts.clear()
    note = tmp_path / "note.md"
    note.write_text("## Context\n- @smithAlphaBetaGamma2020 first, then @pfeifferModularDeepLearning2023\n\n## Log\n",
                    encoding="utf-8")
    result = runner.invoke(app, ["run", str(note), "--critic", "offline", "--dry-run", "--json"])
    papers = {p["key"]: p for p in json.loads(result.stdout)["papers"]}
    assert papers["pfeifferModularDeepLearning2023"]["ok"] and not papers["smithAlphaBetaGamma2020"]["ok"]
    assert attempts == ["127.0.0.1"] and result.stderr.count("no network") == 1


def test_explicit_offline_never_connects_and_is_the_readers_choice(
    tmp_path: Path, dead_port: int, attempts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    point_arxiv_at(monkeypatch, f"http://127.0.0.1:{dead_port}")
    note = tmp_path / "note.md"
    note.write_text("- @smithAlphaBetaGamma2020\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--offline", "run", str(note), "--critic", "offline"])
    assert attempts == [] and "no network" not in result.stderr
    assert result.exit_code == 1  # asked to stay offline: the key is simply not in the library


class _Dead:
    """Enough of ArxivReplay for ``settings_for``: the endpoints of a port nothing listens on."""

    def __init__(self, port: int) -> None:
        self.api_url = f"http://127.0.0.1:{port}/api/query"
        self.pdf_url = f"http://127.0.0.1:{port}/pdf/{{id}}"
