"""The LLM critic's failures as the reader meets them: the breaker, --force, the auto fallback, bad endpoints."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.servers.openai_scripted import ScriptedOpenAI
from triage.cli import app

TIMEOUT_S = 2.0
HANG_S = 60  # how long the scripted server holds a hung call


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--offline", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(openai_server: ScriptedOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home, and the LLM settings as a reader sets them: the scripted server, a short per-call timeout."""
    monkeypatch.setenv("TRIAGE_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("TRIAGE_LLM__MODEL", "scripted-model")
    monkeypatch.setenv("TRIAGE_LLM__TIMEOUT_S", str(TIMEOUT_S))
    return tmp_path / "home"


def test_a_hanging_endpoint_stops_the_score_run_after_the_breaker(env, openai_server, sample_pdfs):
    """Every call hangs: eight papers in flight time out together, the breaker opens, nothing more is sent."""
    openai_server.default = ("hang", HANG_S)
    pdfs = [str(p) for p in sample_pdfs.values()]
    code, out, err = invoke("--home", str(env), "score", *pdfs, "--critic", "llm", "--json")
    ended = time.monotonic()

    assert code == 3, err
    assert err.count("not judged: endpoint down") >= len(pdfs) - 2 and "Traceback" not in err
    assert json.loads(out) == []
    # The bound (under three per-call timeouts from the first call to the exit) is bench_critic's to
    # measure; here the counts: one round of calls, the retries not sent, and the hung calls given up by our
    # per-call timeout, not waited out (after its hang the server hangs up, which is said otherwise).
    elapsed = ended - openai_server.arrived[0]
    print(f"\nhanging endpoint, {len(pdfs)} papers, {TIMEOUT_S:g} s per call: stopped after {elapsed:.2f} s")
    assert openai_server.calls < 2 * len(pdfs)
    assert f"timed out after {TIMEOUT_S:g}s" in err


def test_a_hanging_endpoint_stops_a_run_one_paper_at_a_time(env, openai_server, sample_root, monkeypatch, tmp_path):
    """The same with concurrency 1 (a local server): two timeouts in a row and the rest are not sent."""
    monkeypatch.setenv("TRIAGE_LLM__CONCURRENCY", "1")
    note = tmp_path / "note.md"
    shutil.copy(sample_root / "reading-session.md", note)
    before = note.read_bytes()
    openai_server.default = ("hang", HANG_S)
    code, out, err = invoke("--home", str(env), "run", str(note), "--library", str(sample_root / "library.bib"),
                            "--critic", "llm")
    ended = time.monotonic()
    assert code == 3, err
    assert "timed out after 2s" in err and err.count("not judged: endpoint down") == 4
    assert note.read_bytes() == before
    elapsed = ended - openai_server.arrived[0]
    print(f"\nhanging endpoint, concurrency 1: stopped after {elapsed:.2f} s, {openai_server.calls} calls")
    assert openai_server.calls == 2


def test_force_judges_again_past_the_cache(env, openai_server, sample_pdfs):
    pdf = str(sample_pdfs["lindqvistLinearBridgesVision2023"])
    assert invoke("--home", str(env), "score", pdf, "--critic", "llm")[0] == 0
    assert invoke("--home", str(env), "score", pdf, "--critic", "llm")[0] == 0
    assert openai_server.calls == 2  # the second was cached
    code, out, err = invoke("--home", str(env), "score", pdf, "--critic", "llm", "--force", "--json")
    assert code == 0, err and openai_server.calls == 4
    assert json.loads(out)["llm_mode"] == "json_schema"


def test_a_verdict_that_fails_the_evidence_check_is_not_written_and_force_retries_it(env, openai_server, sample_root,
                                                                                   tmp_path):
    note = tmp_path / "note.md"
    shutil.copy(sample_root / "reading-session.md", note)
    before = note.read_bytes()
    openai_server.default = "imprecise"
    args = ("--home", str(env), "run", str(note), "--library", str(sample_root / "library.bib"), "--critic", "llm")
    code, out, err = invoke(*args)
    assert code == 3 and "the evidence check failed for" in err
    assert note.read_bytes() == before  # nothing written
    openai_server.default = "valid"
    code, out, err = invoke(*args, "--force")
    assert code == 1, err  # the sample names one key no library knows
    assert note.read_text(encoding="utf-8").count("llm:scripted-model") >= 5


def test_explain_shows_the_negotiated_mode(env, openai_server, sample_pdfs):
    openai_server.accepts = {"json_object", "text"}
    pdf = str(sample_pdfs["okaforRoutingAdaptersFrozen2024"])
    code, out, err = invoke("--home", str(env), "score", pdf, "--critic", "llm")
    assert code == 0, err and "LLM answered in json_object+schema mode" in out
    code, out, err = invoke("--home", str(env), "explain", "okaforRoutingAdaptersFrozen2024")
    assert code == 0, err
    assert "call(s) in json_object+schema mode" in out
    assert "=== judge (attempt 0, json_schema mode" in out and "response_format" in out


def test_a_truncated_answer_twice_is_exit_3_with_the_reason(env, openai_server, sample_pdfs):
    openai_server.default = "length"
    pdf = str(sample_pdfs["okaforRoutingAdaptersFrozen2024"])
    code, out, err = invoke("--home", str(env), "score", pdf, "--critic", "llm")
    assert code == 3 and "token limit twice (finish_reason: length)" in err and "Traceback" not in err
    code, out, err = invoke("--home", str(env), "explain", "okaforRoutingAdaptersFrozen2024")
    assert "cut at" in out and "finish_reason length" in out


@pytest.mark.parametrize(("step", "code", "says"), [
    ("html", 3, "answered a page that is not JSON"),
    ("empty", 3, "answered an empty body"),
    ("no_choices", 3, "answered a completion with no choices"),
    (("status", 404, "model 'scripted-model' not found"), 3, "does not know model 'scripted-model'"),
    (("status", 401, "Incorrect API key provided"), 1, "refused the API key"),
])
def test_bad_endpoints_are_one_line_and_leave_no_verdict(env, openai_server, sample_pdfs, step, code, says):
    openai_server.default = step
    pdfs = [str(sample_pdfs[k]) for k in ("okaforRoutingAdaptersFrozen2024", "lindqvistLinearBridgesVision2023")]
    got, out, err = invoke("--home", str(env), "score", *pdfs, "--critic", "llm", "--json")
    assert got == code and says in err and "Traceback" not in err
    assert json.loads(out) == []
    assert openai_server.calls <= 2  # one call per paper in flight, none retried
    failures = [line for line in err.splitlines() if says in line]
    assert failures and all(len(line) < 400 for line in failures)
    # Nothing cached: explain finds no verdict, only the failed attempt's trace.
    _, explained, _ = invoke("--home", str(env), "explain", "okaforRoutingAdaptersFrozen2024", "--json")
    data = json.loads(explained)
    assert data["verdict"] is None and says in data["trace"]["error"]


def test_auto_falls_back_to_the_offline_critic_when_the_endpoint_is_unreachable(env, monkeypatch, sample_pdfs, caplog):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # a port nothing listens on once the socket closes
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed}/v1")
    pdf = str(sample_pdfs["lindqvistLinearBridgesVision2023"])
    with caplog.at_level("WARNING", logger="triage.critic"):
        code, out, err = invoke("--home", str(env), "score", pdf, "--critic", "auto", "--json")
    assert code == 0, err
    assert json.loads(out)["critic"].startswith("offline:")
    warnings = [r.getMessage() for r in caplog.records if r.name == "triage.critic"]
    assert len(warnings) == 1 and "not reachable" in warnings[0] and "offline critic judges instead" in warnings[0]
