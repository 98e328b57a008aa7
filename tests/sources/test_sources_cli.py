"""`triage fetch` and `triage library …` against the loopback arXiv."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.servers.arxiv_replay import ArxivReplay, make_pdf
from tests.sources.conftest import AMBIGUOUS_KEY, BIB, PICKED, serve_the_pick
from triage.cli import app


@pytest.fixture
def env(replay: ArxivReplay, triage_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI's settings at the loopback server through the environment, as a user would."""
    monkeypatch.setenv("TRIAGE_ARXIV__API_URL", replay.api_url)
    monkeypatch.setenv("TRIAGE_ARXIV__PDF_URL", replay.pdf_url)
    monkeypatch.setenv("TRIAGE_ARXIV__DELAY_S", "0.05")
    monkeypatch.setenv("TRIAGE_ARXIV__TIMEOUT_S", "2")
    return triage_home


@pytest.fixture
def bib(tmp_path: Path) -> Path:
    for f in BIB.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "attachments").mkdir()
    (tmp_path / "attachments" / "third.pdf").write_bytes(make_pdf("Third"))
    return tmp_path / "broken.bib"


def run(*args: str):  # -> click.testing.Result
    return CliRunner().invoke(app, list(args))


def test_fetch_resolves_citekeys_through_arxiv_search_json(env: Path, replay: ArxivReplay) -> None:
    result = run("fetch", "@pfeifferModularDeepLearning2023", "2002.11794v2", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["key"] for r in rows] == ["pfeifferModularDeepLearning2023", "liTrainLargeThen2020"]
    assert [r["resolved_by"] for r in rows] == ["arxiv-search", "arxiv-id"]
    for r in rows:
        assert Path(r["pdf_path"]).is_file() and Path(r["pdf_path"]).parent == env / "papers"


def test_fetch_ambiguous_and_not_found(env: Path, replay: ArxivReplay) -> None:
    result = run("fetch", "@zhangSparseMixtureExperts2022", "@nobodyNonexistentPaperTitle2021", "--json")
    assert result.exit_code == 1
    ambiguous, missing = json.loads(result.stdout)
    assert not ambiguous["ok"] and sorted(c["arxiv_id"] for c in ambiguous["candidates"]) == ["2201.04567", "2209.07654"]
    assert not missing["ok"] and "no arXiv paper matches @nobodyNonexistentPaperTitle2021" in missing["error"]
    text = run("fetch", "@zhangSparseMixtureExperts2022")
    assert text.exit_code == 1 and "candidate: 2201.04567v1" in text.stderr and "Traceback" not in text.stderr


def test_fetch_offline_lists_what_it_cannot_serve(env: Path, replay: ArxivReplay) -> None:
    assert run("fetch", "2302.11529").exit_code == 0  # online: arXiv says v2 is the newest
    result = run("--offline", "fetch", "2302.11529v2", "2002.11794v2")
    assert result.exit_code == 1
    assert "offline: no cached PDF for @arXiv-2002.11794" in result.stderr and "1 of 2 fetched" in result.stderr


def test_fetch_service_failure_exits_3(env: Path, replay: ArxivReplay, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers.arxiv_replay import Reply

    monkeypatch.setenv("TRIAGE_ARXIV__MAX_RETRIES", "0")
    replay.serve("/api/query", Reply(503))
    result = run("fetch", "2302.11529")
    assert result.exit_code == 3 and "HTTP 503" in result.stderr


def test_fetch_hostile_key(env: Path, replay: ArxivReplay) -> None:
    result = run("fetch", "../../etc/passwd")
    assert result.exit_code == 1 and "is not a citekey" in result.stderr and replay.requests == []


def test_library_import_remembers_and_show(env: Path, bib: Path, replay: ArxivReplay) -> None:
    result = run("library", "import", str(bib))
    assert result.exit_code == 0, result.stderr
    assert "4 entries" in result.stdout and "broken.bib:10: skipped entry" in result.stderr
    assert json.loads((env / "library.json").read_text())["files"] == [str(bib.resolve())]
    shown = run("library", "show", "@goodThirdEntry2022", "--json")
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["arxiv_id"] == "2203.04567" and data["resolved_by"] == "library:broken.bib"
    assert data["pdf_path"] == str((bib.parent / "attachments" / "third.pdf").resolve())
    # the remembered library serves fetch too: the attachment in place, no network
    fetched = run("fetch", "goodThirdEntry2022", "--json")
    assert json.loads(fetched.stdout)[0]["pdf_path"] == data["pdf_path"] and replay.requests == []
    assert run("library", "list").stdout.strip() == str(bib.resolve())
    missing = run("library", "show", "nope2020")
    assert missing.exit_code == 1 and "not in your library" in missing.stderr
    assert run("library", "forget", str(bib)).exit_code == 0
    assert run("library", "show", "goodThirdEntry2022").exit_code == 1


def test_library_import_unreadable_file(env: Path, tmp_path: Path) -> None:
    result = run("library", "import", str(tmp_path / "missing.bib"))
    assert result.exit_code == 1 and "cannot read library" in result.stderr and "Traceback" not in result.stderr
    assert not (env / "library.json").exists()


def test_time_per_fetch_with_the_rate_limiter(replay: ArxivReplay, triage_home: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """With arXiv's real 3 s spacing scaled to 0.5 s: a citekey fetch is 2 requests (search + PDF)."""
    monkeypatch.setenv("TRIAGE_ARXIV__API_URL", replay.api_url)
    monkeypatch.setenv("TRIAGE_ARXIV__PDF_URL", replay.pdf_url)
    monkeypatch.setenv("TRIAGE_ARXIV__DELAY_S", "0.5")
    started = time.monotonic()
    result = run("fetch", "@pfeifferModularDeepLearning2023", "@liTrainLargeThen2020", "--json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    assert len(replay.requests) == 4
    assert elapsed >= 3 * 0.5  # four requests, three gaps
    times = [r.at for r in replay.requests]
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.4


def test_fetch_pick_settles_an_ambiguous_citekey_for_good(env: Path, replay: ArxivReplay) -> None:
    key = AMBIGUOUS_KEY
    serve_the_pick(replay)
    assert run("fetch", f"@{key}").exit_code == 1  # ambiguous: the reader must choose
    assert "--pick" in run("fetch", f"@{key}").stderr  # and is told how

    result = run("fetch", f"@{key}", "--pick", PICKED, "--json")
    assert result.exit_code == 0, (result.stderr, replay.unmatched)
    (row,) = json.loads(result.stdout)
    assert (row["key"], row["arxiv_id"], row["resolved_by"]) == (key, PICKED, "arxiv-search, picked")

    # From now on the key names that paper, offline too, however old the choice.
    requests = len(replay.api_requests())
    result = run("--offline", "fetch", key, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["arxiv_id"] == PICKED
    assert len(replay.api_requests()) == requests

    assert run("fetch", key, "2002.11794", "--pick", PICKED).exit_code == 2  # one key at a time
    assert run("fetch", key, "--pick", "not-an-id").exit_code == 1
