"""The PDF cache: validation, atomic content-addressed storage, offline, broken downloads, a killed download."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.servers.arxiv_replay import ArxivReplay, Reply, make_pdf
from tests.sources.conftest import settings_for
from triage.config import Settings
from triage.errors import PdfError, SourceError
from triage.fetch import cached_pdf, fetch_pdf, sha256_bytes, store_pdf, validate_pdf
from triage.models import Paper

REPO = Path(__file__).resolve().parents[2]
LIMITS = {"max_mb": 5.0, "max_pages": 10}
HTML = b"<!DOCTYPE html>\n<html><head><title>Error 503</title></head><body>Service unavailable</body></html>"


def paper(vid: str = "2302.11529v2", **kw: object) -> Paper:
    arxiv_id, _, version = vid.partition("v")
    return Paper(key=kw.pop("key", "pfeifferModularDeepLearning2023"), arxiv_id=arxiv_id,  # type: ignore[arg-type]
                 arxiv_version=int(version) if version else None, **kw)  # type: ignore[arg-type]


def cache_files(settings: Settings) -> list[str]:
    d = settings.papers_dir
    return sorted(p.name for p in d.iterdir() if p.name not in ("index.json", ".index.lock")) if d.exists() else []


# -- validate / store ---------------------------------------------------------------------------


def test_validate_accepts_a_pdf_and_counts_pages(pdf_bytes: bytes) -> None:
    assert validate_pdf(pdf_bytes, **LIMITS) == 2


@pytest.mark.parametrize("data,message", [
    (HTML, "server returned an HTML page, not a PDF"),
    (b"\n  <html><body>login</body></html>", "server returned an HTML page, not a PDF"),
    (b"GIF89a not a pdf at all", "no %PDF header"),
    (b"", "empty file"),
    (b"%PDF-1.7\n" + b"garbage " * 100 + b"\n%%EOF\n", "does not open"),
])
def test_validate_rejects(data: bytes, message: str) -> None:
    with pytest.raises(PdfError, match=message):
        validate_pdf(data, **LIMITS)


def test_validate_rejects_a_truncated_pdf(pdf_bytes: bytes) -> None:
    with pytest.raises(PdfError, match="truncated"):
        validate_pdf(pdf_bytes[: len(pdf_bytes) // 2], **LIMITS)


def test_validate_limits() -> None:
    with pytest.raises(PdfError, match="over the 3 page limit"):
        validate_pdf(make_pdf(pages=4), max_mb=5, max_pages=3)
    with pytest.raises(PdfError, match="MiB limit"):
        validate_pdf(make_pdf(), max_mb=0.001, max_pages=10)


def test_store_is_content_addressed_atomic_and_idempotent(tmp_path: Path, pdf_bytes: bytes) -> None:
    first = store_pdf(pdf_bytes, tmp_path / "papers")
    assert first.name == f"{sha256_bytes(pdf_bytes)}.pdf" and first.read_bytes() == pdf_bytes
    mtime = first.stat().st_mtime_ns
    assert store_pdf(pdf_bytes, tmp_path / "papers") == first and first.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in (tmp_path / "papers").iterdir()) == [first.name]  # no temp files left


def test_stale_temp_files_are_swept(tmp_path: Path, pdf_bytes: bytes) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    stale, fresh = papers / ".a.pdf.old.tmp", papers / ".b.pdf.new.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    store_pdf(pdf_bytes, papers)
    assert not stale.exists() and fresh.exists()  # a fresh one may be another process's write in progress


# -- fetch ------------------------------------------------------------------------------------------


def test_local_attachment_is_used_in_place(settings: Settings, tmp_path: Path, pdf_bytes: bytes,
                                           replay: ArxivReplay) -> None:
    local = tmp_path / "mine.pdf"
    local.write_bytes(pdf_bytes)
    assert fetch_pdf(paper(pdf_path=local), settings) == local
    assert cache_files(settings) == [] and replay.requests == []


def test_broken_attachment_falls_back_to_download(settings: Settings, tmp_path: Path, replay: ArxivReplay) -> None:
    local = tmp_path / "mine.pdf"
    local.write_bytes(HTML)
    path = fetch_pdf(paper(pdf_path=local), settings)
    assert path.parent == settings.papers_dir


def test_broken_attachment_offline_says_what_is_wrong(settings: Settings, tmp_path: Path) -> None:
    local = tmp_path / "mine.pdf"
    local.write_bytes(HTML)
    settings.fetch.offline = True
    with pytest.raises(PdfError, match="mine.pdf: server returned an HTML page"):
        fetch_pdf(paper(pdf_path=local), settings)


def test_download_then_cache_hit(settings: Settings, replay: ArxivReplay) -> None:
    first = fetch_pdf(paper(), settings)
    assert first.parent == settings.papers_dir and first.stem == sha256_bytes(first.read_bytes())
    index = json.loads((settings.papers_dir / "index.json").read_text())
    assert index["arxiv:2302.11529v2"] == index["arxiv:2302.11529"] == index["key:pfeifferModularDeepLearning2023"]
    n = len(replay.requests)
    assert fetch_pdf(paper(), settings) == first
    assert fetch_pdf(paper("2302.11529", key="other"), settings) == first  # found by the unversioned id
    assert len(replay.requests) == n


def test_offline_uses_the_cache_and_names_the_key_it_cannot_serve(settings: Settings, replay: ArxivReplay) -> None:
    cached = fetch_pdf(paper(), settings)
    settings.fetch.offline = True
    assert fetch_pdf(paper(), settings) == cached
    with pytest.raises(SourceError, match="offline: no cached PDF for @liTrainLargeThen2020"):
        fetch_pdf(paper("2002.11794v2", key="liTrainLargeThen2020"), settings)


def test_no_source_at_all(settings: Settings) -> None:
    with pytest.raises(SourceError, match="no PDF for @k"):
        fetch_pdf(Paper(key="k"), settings)


def test_html_error_page_is_rejected_and_not_cached(settings: Settings, replay: ArxivReplay) -> None:
    replay.serve("/pdf/2302.11529v2", Reply(200, HTML, {"Content-Type": "text/html"}))
    with pytest.raises(PdfError, match="server returned an HTML page, not a PDF"):
        fetch_pdf(paper(), settings)
    assert cache_files(settings) == []


def test_404_is_a_clear_error(settings: Settings, replay: ArxivReplay) -> None:
    with pytest.raises(SourceError, match="HTTP 404"):
        fetch_pdf(paper("2399.99999v1", key="nope"), settings)


def test_truncated_download_never_lands_in_the_cache_and_the_next_run_completes(
        settings: Settings, replay: ArxivReplay) -> None:
    good = replay.pdfs["2302.11529v2"]
    replay.serve("/pdf/2302.11529v2", Reply(200, good, {"Content-Type": "application/pdf"}, truncate_at=len(good) // 2))
    with pytest.raises(SourceError) as exc:
        fetch_pdf(paper(), settings)
    assert exc.value.exit_code == 3
    assert cache_files(settings) == [] and cached_pdf(paper(), settings.papers_dir) is None
    replay.serve("/pdf/2302.11529v2", None)
    path = fetch_pdf(paper(), settings)
    assert path.read_bytes() == good and cache_files(settings) == [path.name]


def test_truncated_body_without_content_length_is_caught_by_validation(settings: Settings,
                                                                      replay: ArxivReplay) -> None:
    good = make_pdf("Paper")
    replay.serve("/pdf/2302.11529v2", Reply(200, good[: len(good) // 2], {"Content-Type": "application/pdf"}))
    with pytest.raises(PdfError, match="truncated"):
        fetch_pdf(paper(), settings)
    assert cache_files(settings) == []


def test_slow_download_times_out(replay: ArxivReplay, triage_home: Path) -> None:
    settings = settings_for(replay, triage_home, timeout_s=0.2, max_retries=1)
    replay.serve("/pdf/2302.11529v2", Reply(200, make_pdf(), delay_s=1.0))
    with pytest.raises(SourceError, match="no answer within 0.2s") as exc:
        fetch_pdf(paper(), settings)
    assert exc.value.exit_code == 3 and cache_files(settings) == []


def test_download_over_the_size_cap_is_refused(settings: Settings, replay: ArxivReplay) -> None:
    settings.fetch.max_mb = 0.001
    with pytest.raises(SourceError, match="MiB limit"):
        fetch_pdf(paper(), settings)
    assert cache_files(settings) == []


def test_flaky_pdf_server_500_then_429_then_success(settings: Settings, replay: ArxivReplay) -> None:
    replay.script("/pdf/2302.11529v2", Reply(500), Reply(429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    path = fetch_pdf(paper(), settings)
    assert path.is_file() and time.monotonic() - started >= 0.95
    assert [r.path for r in replay.requests].count("/pdf/2302.11529v2") == 3


KILLED_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from triage.config import ArxivSettings, Settings
    from triage.fetch import fetch_pdf
    from triage.models import Paper
    api, pdf, home = sys.argv[1:4]
    s = Settings(home=Path(home), arxiv=ArxivSettings(api_url=api, pdf_url=pdf, delay_s=0.0, timeout_s=30))
    print("fetching", flush=True)
    fetch_pdf(Paper(key="pfeifferModularDeepLearning2023", arxiv_id="2302.11529", arxiv_version=2), s)
    print("done", flush=True)
""")


def test_killing_a_download_halfway_leaves_nothing_and_the_next_run_completes(
        settings: Settings, replay: ArxivReplay) -> None:
    good = replay.pdfs["2302.11529v2"]
    # Half the bytes, then the server holds the connection open: the child is mid-download when killed.
    replay.script("/pdf/2302.11529v2", Reply(200, good, {"Content-Type": "application/pdf"},
                                             truncate_at=len(good) // 2, stall_s=5.0))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, settings.arxiv.api_url, settings.arxiv.pdf_url,
                              str(settings.home)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not any(r.path == "/pdf/2302.11529v2" for r in replay.requests):
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never asked for the PDF"
            time.sleep(0.05)
        time.sleep(0.3)  # half the body is on its way
        assert child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert cache_files(settings) == [] and cached_pdf(paper(), settings.papers_dir) is None
    path = fetch_pdf(paper(), settings)  # the next run completes it
    assert path.read_bytes() == good and cache_files(settings) == [path.name]
