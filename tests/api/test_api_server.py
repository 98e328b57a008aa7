"""The API over real HTTP: uvicorn on a loopback port, ``triage serve`` as a process, restarts, the README session."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.api.support import free_port, live_server, wait_healthy, wait_job
from tests.conftest import REPO
from triage.api import create_app, read_token, token_path
from triage.cli import app as cli
from triage.config import Settings

KEY = "okaforRoutingAdaptersFrozen2024"


def test_jobs_survive_a_restart(settings: Settings, auth: dict) -> None:
    # First server: accepts the job but runs nothing (workers=0), then stops.
    first = create_app(settings, workers=0)
    with live_server(first) as url, httpx.Client(base_url=url) as c:
        job = c.post("/papers", json={"id": f"@{KEY}"}, headers=auth)
        assert job.status_code == 202 and job.json()["status"] == "queued"
        job_id = job.json()["id"]
    first.state.core.close()
    # Second server, new process state, same data home: the job is there and gets done.
    second = create_app(settings)
    with live_server(second) as url, httpx.Client(base_url=url) as c:
        assert c.get(f"/jobs/{job_id}", headers=auth).json()["id"] == job_id
        done = wait_job(c, job_id, auth)
        assert done["status"] == "done" and done["result"]["key"] == KEY and done["attempts"] == 1
        assert c.get(f"/papers/{KEY}", headers=auth).json()["verdict"]["key"] == KEY
    second.state.core.close()


# -- the README session --------------------------------------------------------------------


def readme_session() -> str:
    """The shell block of the README's HTTP API section that talks to the server."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## HTTP API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return next(b for b in blocks if "curl" in b)


def curl_commands(block: str) -> list[tuple[bool, str]]:
    """(poll?, curl command) for every curl in the block, in order."""
    found = []
    for line in block.splitlines():
        if line.lstrip().startswith("#") or "curl " not in line:
            continue
        command = line[line.index("curl "):]
        command = re.split(r" \| |; do", command)[0].rstrip(")")
        found.append((line.lstrip().startswith("until "), command))
    return found


def replay(client: httpx.Client, command: str, env: dict[str, str]) -> httpx.Response:
    """Send what a curl command line sends, with shell variables from ``env``."""
    for name, value in env.items():
        command = command.replace(f"${name}", value)
    args = shlex.split(command)[1:]
    headers: dict[str, str] = {}
    data = url = None
    while args:
        arg = args.pop(0)
        if arg == "-H":
            name, _, value = args.pop(0).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = args.pop(0)
        elif arg.startswith("-"):
            assert arg == "-s", f"the replay does not know curl option {arg}"
        else:
            url = arg
    assert url is not None
    return client.request("POST" if data is not None else "GET", url, content=data, headers=headers)


def test_the_readme_curl_session_works(settings: Settings, auth: dict) -> None:
    app = create_app(settings)
    block = readme_session()
    commands = curl_commands(block)
    assert [c.split()[-1].split("/")[-1].split("?")[0] for _, c in commands] == \
        ["papers", "$JOB", "$JOB", KEY, "promote", 'search']  # add, poll, job, verdict, promote, search
    with live_server(app) as url, httpx.Client(timeout=60) as client:
        env = {"API": url, "AUTH": f"Authorization: {auth['Authorization']}"}
        responses = []
        for poll, command in commands:
            response = replay(client, command, env)
            deadline = time.monotonic() + 120
            while poll and response.json()["status"] not in ("done", "error") and time.monotonic() < deadline:
                time.sleep(0.2)
                response = replay(client, command, env)
            assert response.is_success, (command, response.text)
            if "JOB" not in env:
                env["JOB"] = response.json()["id"]
            responses.append(response.json())
        added, polled, job, paper, promoted, hits = responses
        assert added["status"] in ("queued", "running") and job["status"] == "done"
        assert job["result"]["key"] == KEY
        assert paper["verdict"]["decision"] in ("read", "skim", "drop") and paper["sections"]["abstract"]
        assert promoted["new"] == "read" and promoted["actor"] == "reader"
        assert hits[0]["key"] == KEY

        # And the block itself, run by a real shell with curl, when there is one.
        if shutil.which("curl") and shutil.which("bash"):
            script = block.replace("API=http://127.0.0.1:8765", f"API={url}")
            env_vars = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                        "TRIAGE_HOME": str(settings.home)}
            out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                                 env=env_vars, timeout=120)
            assert out.returncode == 0, out.stderr
            assert '"status":"done"' in out.stdout and f'"key":"{KEY}"' in out.stdout and '"new":"read"' in out.stdout
    app.state.core.close()


# -- triage serve ------------------------------------------------------------------------------


def test_triage_serve_runs_with_the_token_and_stops_cleanly(triage_home: Path) -> None:
    env = {**os.environ, "TRIAGE_HOME": str(triage_home), "TRIAGE_CONFIG": str(triage_home / "config.toml")}
    exe = [sys.executable, "-m", "triage.cli"]
    token = subprocess.run([*exe, "serve", "--show-token"], capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert stat.S_IMODE((triage_home / "api-token").stat().st_mode) == 0o600
    port = free_port()
    proc = subprocess.Popen([*exe, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, timeout_s=60)
        assert httpx.get(f"{url}/papers").status_code == 401
        assert httpx.get(f"{url}/papers", headers={"Authorization": f"Bearer {token}"}).json()["papers"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert token not in err  # the token is never logged


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_serve_refuses_a_public_address_without_a_token_and_allow_remote(triage_home: Path, host: str) -> None:
    runner = CliRunner()
    settings = Settings.load()
    result = runner.invoke(cli, ["serve", "--host", host, "--allow-remote"])
    assert result.exit_code == 1 and "no API token exists yet" in result.stderr
    assert read_token(settings) is None  # refusing did not make one
    runner.invoke(cli, ["serve", "--show-token"])
    result = runner.invoke(cli, ["serve", "--host", host])
    assert result.exit_code == 1 and "--allow-remote" in result.stderr
    assert token_path(settings).is_file()


# -- honest reporting under concurrency, a busy port (issue 19) --------------------------------------


def test_of_concurrent_runs_of_one_note_only_the_one_that_wrote_says_written(settings: Settings, auth: dict) -> None:
    from concurrent.futures import ThreadPoolExecutor

    note = settings.api.note_dirs[0] / "small.md"
    note.write_text(f"## Context\n- @{KEY}\n\n## Log\n", encoding="utf-8")
    api = create_app(settings)
    with live_server(api) as url, httpx.Client(base_url=url, timeout=300) as c:
        assert c.post("/notes/run", json={"path": "small.md", "dry_run": True}, headers=auth).status_code == 200
        with ThreadPoolExecutor(30) as pool:
            runs = list(pool.map(lambda _: c.post("/notes/run", json={"path": "small.md"}, headers=auth).json(),
                                 range(30)))
    api.state.core.close()
    assert sum(r["written"] for r in runs) == 1, [r["written"] for r in runs]
    assert note.read_text(encoding="utf-8").count(f"[skim(@{KEY})]") == 1


def test_serve_on_a_busy_port_says_so_before_starting_anything(triage_home: Path, monkeypatch) -> None:
    import socket

    import triage.api

    built: list[object] = []
    monkeypatch.setattr(triage.api, "create_app", lambda *a, **k: built.append(a))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert built == []  # no app, so no job runner picking up queued jobs
