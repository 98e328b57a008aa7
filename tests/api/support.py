"""Helpers for the API tests: settings over the sample library, and a real uvicorn on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from triage.config import ApiSettings, FetchSettings, Settings


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(home: Path, library: Path, vault: Path, **api: object) -> Settings:
    """Offline settings over the sample library, with ``vault`` open to the API.

    Starlette's test client calls itself ``testserver``: allowed, as a reader would allow a name they use.
    """
    api.setdefault("allowed_hosts", ["testserver"])
    return Settings(
        home=home,
        library=[library],
        fetch=FetchSettings(offline=True),
        critic="offline",
        api=ApiSettings(note_dirs=[vault], **api),
    )


def wait_healthy(url: str, timeout_s: float = 30.0) -> None:
    """Poll ``/health`` until it answers 200."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become healthy")
        time.sleep(0.05)


@contextmanager
def live_server(app, port: int | None = None) -> Iterator[str]:
    """Run ``app`` under a real uvicorn on 127.0.0.1 in a thread; yields its URL; a graceful stop on exit."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def wait_job(client: httpx.Client | object, job_id: str, headers: dict, timeout_s: float = 120.0) -> dict:
    """Poll ``GET /jobs/{id}`` until the job is finished; returns it."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "error"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout_s}s")
        time.sleep(0.1)
