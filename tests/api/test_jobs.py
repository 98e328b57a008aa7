"""The job store and runner alone: one active job per target across connections, recovery after a crash, failures."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from triage.errors import SourceError
from triage.jobs import Job, JobRunner, JobStore
from triage.state import State


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "triage.sqlite3"
    State(path).close()  # runs the migrations, m010_jobs among them
    return path


def wait(store: JobStore, job_id: str, timeout_s: float = 10.0) -> Job:
    deadline = time.monotonic() + timeout_s
    while (job := store.get(job_id)) is not None and job.status not in ("done", "error"):
        assert time.monotonic() < deadline, job
        time.sleep(0.01)
    assert job is not None
    return job


def test_one_active_job_per_target_across_connections(db: Path) -> None:
    stores = [JobStore(db) for _ in range(4)]  # as many writers as server processes
    found: list[tuple[str, bool]] = []

    def submit(store: JobStore) -> None:
        for _ in range(5):
            job, created = store.submit("triage", "triage:k", {"id": "k"})
            found.append((job.id, created))

    threads = [threading.Thread(target=submit, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({i for i, _ in found}) == 1 and sum(c for _, c in found) == 1
    job_id = found[0][0]
    assert stores[0].claim(job_id) and not stores[1].claim(job_id)  # one runner gets it
    stores[0].finish(job_id, {"ok": True})
    again, created = stores[1].submit("triage", "triage:k", {"id": "k"})
    assert created and again.id != job_id  # a finished job does not absorb new requests


def test_a_job_left_running_by_a_dead_process_is_requeued(db: Path) -> None:
    store = JobStore(db)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    orphan, _ = store.submit("triage", "a", {})
    alive, _ = store.submit("triage", "b", {})
    for job, pid in ((orphan, dead_pid), (alive, 1)):  # pid 1 is alive: another server's running job
        store.claim(job.id)
        store._db.execute("UPDATE jobs SET pid = ? WHERE id = ?", (pid, job.id))
    assert store.recover() == 1
    assert store.get(orphan.id).status == "queued" and store.get(alive.id).status == "running"


def test_the_runner_records_results_and_failures_and_keeps_going(db: Path) -> None:
    def handle(job: Job) -> dict:
        if job.params["what"] == "unknown":
            raise SourceError("@nope is not in your library", hint="add it")
        if job.params["what"] == "bug":
            raise KeyError("internal detail")
        return {"key": job.params["what"]}

    runner = JobRunner(JobStore(db), {"triage": handle}, workers=2)
    try:
        ok, _ = runner.submit("triage", "1", {"what": "fine"})
        bad, _ = runner.submit("triage", "2", {"what": "unknown"})
        bug, _ = runner.submit("triage", "3", {"what": "bug"})
        assert wait(runner.store, ok.id).result == {"key": "fine"}
        assert wait(runner.store, bad.id).error == {"type": "SourceError", "message": "@nope is not in your library",
                                                    "hint": "add it"}
        failed = wait(runner.store, bug.id)
        assert failed.status == "error" and failed.error["type"] == "InternalError"
        with pytest.raises(ValueError):
            runner.submit("nonsense", "4", {})
    finally:
        runner.stop()


def test_queued_jobs_wait_for_the_next_runner(db: Path) -> None:
    idle = JobRunner(JobStore(db), {"triage": lambda job: {}}, workers=0)
    job, _ = idle.submit("triage", "x", {})
    idle.stop()
    assert idle.get(job.id).status == "queued"
    runner = JobRunner(JobStore(db), {"triage": lambda job: {"ran": True}}, workers=1)
    runner.start()
    try:
        assert wait(runner.store, job.id).result == {"ran": True}
    finally:
        runner.stop()
