"""The digest's boundaries over real protocols on loopback: SMTP, HTTP feeds, the CLI, the lock."""

from __future__ import annotations

import email
import email.policy
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from filelock import FileLock
from typer.testing import CliRunner

from tests.digest.support import DATA
from tests.servers.chroma import free_port
from triage.cli import app
from triage.config import DigestSettings, Settings
from triage.digest import EXIT_LOCKED, DigestLocked, DigestOptions, lock_path, run_digest
from triage.errors import ConfigError
from triage.service import Triage

REPO = Path(__file__).resolve().parents[2]
NIGHT1 = str(DATA / "night1.atom.xml")


# -- SMTP -----------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int, list]]:
    """A local SMTP server on loopback that accepts LOGIN/PLAIN for reader/secret without TLS."""
    inbox, logins = Inbox(), []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"reader", b"secret")
        logins.append((mechanism, ok))
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port, logins
    finally:
        controller.stop()


def _core(port: int, **digest) -> Triage:
    settings = Settings.load(digest=DigestSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                                                   mail_from="triage@example.org", mail_to="reader@example.org", **digest))
    return Triage(settings)


def test_email_is_sent_once_per_night(smtp_server, counting) -> None:
    inbox, port, _ = smtp_server
    core = _core(port)
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=2, email=True), critic=counting())
    assert report.emailed and report.exit_code == 0
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == "reader@example.org" and msg["From"] == "triage@example.org"
    assert msg["Subject"].startswith("triage digest 2026-03-03:")
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",)).get_content()
    page = msg.get_body(("html",)).get_content()
    assert plain.replace("\r\n", "\n") == report.path.read_text(encoding="utf-8")
    assert "<h2>arXiv digest 2026-03-03</h2>" in page and report.top[0].entry.title in page
    # Rerun the same night: same digest, so no second e-mail.
    again = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=2, email=True), critic=counting())
    assert not again.emailed and again.email_note == "already sent for this night"
    assert len(inbox.messages) == 1
    core.close()


def test_cli_recorded_feed_with_email_then_rerun(smtp_server, recorded_feed: Path, triage_home: Path, monkeypatch) -> None:
    """The issue's 'done when': the recorded feed gives a digest and an e-mail; a rerun duplicates nothing."""
    inbox, port, _ = smtp_server
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false",
                        "MAIL_TO": "reader@example.org"}.items():
        monkeypatch.setenv(f"TRIAGE_DIGEST__{name}", value)
    runner = CliRunner()
    first = runner.invoke(app, ["digest", "--feed", str(recorded_feed), "--top", "3", "--email"])
    assert first.exit_code == 0, first.output
    digest = triage_home / "digests" / "2025-08-20.md"
    text = digest.read_text(encoding="utf-8")
    assert len(inbox.messages) == 1 and inbox.messages[0]["Subject"].startswith("triage digest 2025-08-20")
    second = runner.invoke(app, ["digest", "--feed", str(recorded_feed), "--top", "3", "--email"])
    assert second.exit_code == 0 and "already sent" in second.stderr
    assert len(inbox.messages) == 1 and digest.read_text(encoding="utf-8") == text
    assert len(re.findall(r"^- \[skim\(@", text, re.M)) == 3


def test_email_login_uses_the_password_from_the_environment(smtp_server, counting, monkeypatch) -> None:
    inbox, port, logins = smtp_server
    core = _core(port, smtp_user="reader")
    with pytest.raises(ConfigError, match="no password") as info:
        run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=1, email=True), critic=counting())
    assert "TRIAGE_SMTP_PASSWORD" in info.value.hint
    assert core.digest_runs() == []  # refused before doing anything
    monkeypatch.setenv("TRIAGE_SMTP_PASSWORD", "secret")
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=1, email=True), critic=counting())
    assert report.emailed and len(inbox.messages) == 1
    assert logins and all(ok for _, ok in logins)
    core.close()


def test_starttls_refused_by_the_server_fails_the_mail_not_the_digest(smtp_server, counting) -> None:
    inbox, port, _ = smtp_server
    core = _core(port)
    core.settings.digest.smtp_starttls = True  # this server offers no STARTTLS
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=1, email=True), critic=counting())
    assert report.exit_code == 3 and not report.emailed and inbox.messages == []
    assert report.path.is_file() and "STARTTLS" in report.email_note
    core.close()


# -- feeds over HTTP and the CLI ---------------------------------------------------------------


@pytest.fixture(scope="module")
def feed_server() -> Iterator[str]:
    """tests/digest/data served over HTTP on loopback; ``/down/…`` answers 503."""

    class Feeds(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
            if self.path.startswith("/down/"):
                self.send_error(503, "maintenance")
                return
            super().do_GET()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Feeds, directory=str(DATA)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def quick_arxiv(monkeypatch: pytest.MonkeyPatch) -> None:
    """No 3 s politeness delay and one retry: the server is ours and on loopback."""
    monkeypatch.setenv("TRIAGE_ARXIV__DELAY_S", "0")
    monkeypatch.setenv("TRIAGE_ARXIV__MAX_RETRIES", "1")


def test_cli_feed_url_json_and_rerun(feed_server: str, triage_home: Path, quick_arxiv) -> None:
    runner = CliRunner()
    args = ["digest", "--feed", f"{feed_server}/night1.atom.xml", "--top", "2", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["night"] == "2026-03-03" and data["listed"] == 6 and len(data["top"]) == 2
    assert data["sources"] == ["cs.LG (6 entries)"]
    digest = triage_home / "digests" / "2026-03-03.md"
    text = digest.read_text(encoding="utf-8")
    second = runner.invoke(app, args)
    assert second.exit_code == 0
    assert json.loads(second.stdout)["critic_calls"] == 0
    assert digest.read_text(encoding="utf-8") == text
    human = runner.invoke(app, ["digest", "--feed", f"{feed_server}/night1.atom.xml", "--top", "2"])
    assert human.exit_code == 0 and "(cached)" in human.stdout and "2026-03-03: 6 listed, 0 new; 6 candidates tonight" in human.stderr


def test_cli_feed_failures_and_exit_codes(feed_server: str, triage_home: Path, quick_arxiv) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["digest", "--feed", f"{feed_server}/missing.xml"])
    assert missing.exit_code == 1 and "HTTP 404" in missing.stderr  # a wrong URL is the reader's input
    down = runner.invoke(app, ["digest", "--feed", f"{feed_server}/down/cs.LG"])
    assert down.exit_code == 3 and "HTTP 503" in down.stderr and "after 2 tries" in down.stderr
    # One feed down, one read: the digest is written from what was read, and the run still says 3.
    partial = runner.invoke(app, ["digest", "--feed", f"{feed_server}/down/cs.CL", "--feed", NIGHT1, "--top", "1"])
    assert partial.exit_code == 3, partial.output
    assert (triage_home / "digests" / "2026-03-03.md").is_file()
    missing_file = runner.invoke(app, ["digest", "--feed", str(DATA / "nope.xml")])
    assert missing_file.exit_code == 1 and "cannot read feed" in missing_file.stderr


def test_cli_category_feeds_from_the_listing_url(tmp_path: Path, monkeypatch, quick_arxiv) -> None:
    (tmp_path / "atom").mkdir()
    shutil.copy(DATA / "night1.atom.xml", tmp_path / "atom" / "cs.LG")
    shutil.copy(DATA / "night1.rss.xml", tmp_path / "atom" / "cs.CL")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("TRIAGE_ARXIV__LISTING_URL", f"http://127.0.0.1:{server.server_address[1]}/atom/{{category}}")
    try:
        # Both spellings of the issue: '--categories cs.LG cs.CL' and 'cs.LG,cs.CL'.
        result = CliRunner().invoke(app, ["digest", "--categories", "cs.LG", "cs.CL", "--top", "1", "--json"])
        again = CliRunner().invoke(app, ["digest", "--categories", "cs.LG,cs.CL", "--top", "1", "--json"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sources"] == ["cs.LG (6 entries)", "cs.CL (2 entries)"]
    assert data["listed"] == 7  # 2603.00101 is in both feeds: one paper
    assert json.loads(again.stdout)["critic_calls"] == 0


def test_cli_usage_errors_and_schedule() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["digest", "--categories", "cs.LG not!a!cat"]).exit_code == 2
    assert runner.invoke(app, ["digest", "--since", "yesterday"]).exit_code == 2
    result = runner.invoke(app, ["digest", "--schedule", "--email", "--json"])
    assert result.exit_code == 0
    units = json.loads(result.stdout)
    assert set(units) == {"crontab", "service", "timer", "install"}
    assert "digest --email" in units["crontab"] and "digest --email" in units["service"]
    text = runner.invoke(app, ["digest", "--schedule"]).stdout
    assert "# crontab -e" in text and "[Timer]" in text and "systemctl --user enable --now triage-digest.timer" in text


def test_cli_email_without_settings_is_a_config_error() -> None:
    result = CliRunner().invoke(app, ["digest", "--feed", NIGHT1, "--email"])
    assert result.exit_code == 1 and "TRIAGE_DIGEST__SMTP_HOST" in result.stderr


# -- one run at a time -----------------------------------------------------------------------------


def test_two_concurrent_digests_one_exits_one_waits(counting) -> None:
    gate = threading.Event()
    first_critic = counting(gate=gate)
    results: dict[str, object] = {}

    def run(name: str, critic, wait: bool) -> None:
        core = Triage(Settings.load())
        try:
            results[name] = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=2, wait=wait), critic=critic)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[name] = exc
        finally:
            core.close()

    first = threading.Thread(target=run, args=("first", first_critic, False))
    first.start()
    assert first_critic.started.wait(60), "the first run never reached the critic"

    run("second", counting(), False)  # exits at once: the first holds the lock
    assert isinstance(results["second"], DigestLocked) and results["second"].exit_code == EXIT_LOCKED

    third_critic = counting()
    third = threading.Thread(target=run, args=("third", third_critic, True))
    third.start()
    time.sleep(0.5)
    assert third.is_alive()  # waiting behind the first
    gate.set()
    first.join(60)
    third.join(60)
    assert results["first"].exit_code == 0 and results["third"].exit_code == 0
    assert third_critic.calls == 0  # the night was already judged when its turn came
    assert results["third"].path.read_text(encoding="utf-8") == results["first"].path.read_text(encoding="utf-8")


def _cli(*args: str, home: Path) -> subprocess.Popen:
    env = {**os.environ, "TRIAGE_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "triage.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_process_exits_75_while_locked_and_waits_with_wait(triage_home: Path) -> None:
    lock = FileLock(str(lock_path(triage_home)))
    with lock:
        proc = _cli("digest", "--feed", NIGHT1, "--top", "1", home=triage_home)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == EXIT_LOCKED, err
        assert "another triage digest is running" in err
        waiting = _cli("digest", "--feed", NIGHT1, "--top", "1", "--wait", home=triage_home)
        time.sleep(1.5)
        assert waiting.poll() is None  # still waiting for the lock
    out, err = waiting.communicate(timeout=240)
    assert waiting.returncode == 0, err
    assert (triage_home / "digests" / "2026-03-03.md").is_file()
    assert "digest finished" in (triage_home / "logs" / "digest.log").read_text(encoding="utf-8")


# -- the arXiv API by submission date ---------------------------------------------------------------


def test_api_query_by_submission_date(core: Triage, counting) -> None:
    body = (DATA / "api-search.atom.xml").read_bytes()
    requests: list[str] = []

    class Api(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        core.settings.arxiv.api_url = f"http://127.0.0.1:{server.server_address[1]}/api/query"
        core.settings.arxiv.delay_s = 0.0
        options = DigestOptions(categories=["cs.LG", "cs.CV"], query="abs:LoRA", since=date(2026, 3, 2),
                                night=date(2026, 3, 3), top_n=1)
        report = run_digest(core, options, critic=counting())
    finally:
        server.shutdown()
        server.server_close()
    query = unquote_plus(requests[0])
    assert "(cat:cs.LG OR cat:cs.CV) AND submittedDate:[202603020000 TO 202603032359] AND (abs:LoRA)" in query
    assert report.exit_code == 0 and report.night == date(2026, 3, 3)
    by_id = {c.entry.arxiv_id: c for c in report.top + report.rest}
    assert set(by_id) == {"2603.00501", "2603.00502"}
    assert by_id["2603.00502"].entry.announce_type == "replace" and by_id["2603.00502"].entry.version == 2
    assert report.top[0].entry.arxiv_id == "2603.00501" and report.top[0].verdict is not None
    assert report.top[0].key == "pontiRoutingLoRAModules2026"
