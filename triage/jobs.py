"""Background jobs for the HTTP API, kept in SQLite so they survive a restart.

Adding a paper (resolve, fetch, extract, index, judge) takes seconds to
minutes, so the API answers ``202`` with a job and does the work on a small
thread pool.  A job is a row of the ``jobs`` table (schema: ``m010_jobs`` in
``triage/state.py``, so every process that opens the state has it): what to do
(``kind`` and ``params``), its ``status`` — ``queued`` → ``running`` → ``done``
or ``error`` — and the JSON ``result`` or ``error``.

Two requests for the same work share one job: ``target`` names the work (the
normalised identifier plus the note, say) and a partial unique index allows one
queued-or-running job per target; ``submit`` looks for it and inserts in one
``BEGIN IMMEDIATE`` transaction, so concurrent requests, threads or processes
cannot both create one.  A finished job does not absorb later requests: a new
request makes a new job, which is cheap because the verdict cache answers it.

Restarts: a graceful stop lets running jobs finish and leaves queued ones
queued; the next ``start`` picks them up.  A job left ``running`` by a process
that died (its pid is gone) is put back in the queue.  Jobs must therefore be
safe to run twice — triage is: the state and verdict cache make a re-run a
no-op, and a note gets no second entry for a paper already in its log.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from triage.errors import StoreError, TriageError
from triage.models import utcnow
from triage.state import SqliteStore

__all__ = ["Job", "JobStore", "JobRunner", "Handler", "ACTIVE", "FINISHED"]

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
FINISHED = ("done", "error")

Handler = Callable[["Job"], dict]
"""Does a job's work and returns its JSON-ready result; raising marks the job failed."""

# Ids of jobs some runner of this process is executing right now: a 'running'
# row with our own pid that is not in here was left by a runner that stopped.
_EXECUTING: set[str] = set()
_EXECUTING_LOCK = threading.Lock()


@dataclass(frozen=True)
class Job:
    """One background job as stored."""

    id: str
    kind: str
    target: str
    params: dict
    status: str
    result: dict | None
    error: dict | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    def to_dict(self) -> dict:
        """JSON-ready view (what ``GET /jobs/{id}`` returns)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "params": self.params,
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class JobStore(SqliteStore):
    """The ``jobs`` rows, over its own connection to the state database (WAL: readers never block)."""

    def __init__(self, db_path: Path) -> None:
        try:
            super().__init__(db_path)
            self._db.execute("SELECT 1 FROM jobs LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the jobs table in {db_path}: {exc}",
                             hint="open the state first (triage.state.State) so its migrations run") from exc

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        return Job(
            id=row["id"], kind=row["kind"], target=row["target"], params=json.loads(row["params"] or "{}"),
            status=row["status"], result=json.loads(row["result"]) if row["result"] else None,
            error=json.loads(row["error"]) if row["error"] else None, attempts=row["attempts"],
            created_at=datetime.fromisoformat(row["created_at"]), started_at=_time(row["started_at"]),
            finished_at=_time(row["finished_at"]),
        )

    def submit(self, kind: str, target: str, params: dict) -> tuple[Job, bool]:
        """The active job for ``target`` if there is one, else a new queued job; returns (job, created)."""
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM jobs WHERE target = ? AND status IN ('queued', 'running')", (target,)
            ).fetchone()
            if row is not None:
                return self._job(row), False
            job_id = uuid.uuid4().hex
            db.execute(
                "INSERT INTO jobs (id, kind, target, params, status, created_at) VALUES (?, ?, ?, ?, 'queued', ?)",
                (job_id, kind, target, json.dumps(params), utcnow().isoformat()),
            )
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row), True

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        with self._reading():
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def queued(self) -> list[Job]:
        """Queued jobs, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created_at, id").fetchall()
        return [self._job(r) for r in rows]

    def claim(self, job_id: str) -> bool:
        """Mark a queued job running for this process; False when someone else has it (or it is finished)."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE jobs SET status = 'running', pid = ?, attempts = attempts + 1, started_at = ? "
                "WHERE id = ? AND status = 'queued'",
                (os.getpid(), utcnow().isoformat(), job_id),
            )
            return cur.rowcount == 1

    def finish(self, job_id: str, result: dict) -> None:
        """Record a job's result."""
        self._close(job_id, "done", result=json.dumps(result, default=str))

    def fail(self, job_id: str, error: dict) -> None:
        """Record why a job failed (``{"type", "message", "hint"}``)."""
        self._close(job_id, "error", error=json.dumps(error, default=str))

    def _close(self, job_id: str, status: str, *, result: str | None = None, error: str | None = None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ?",
                (status, result, error, utcnow().isoformat(), job_id),
            )

    def recover(self) -> int:
        """Put back in the queue the jobs a stopped or dead runner left running; returns how many."""
        me = os.getpid()
        with self._write() as db:
            rows = db.execute("SELECT id, pid FROM jobs WHERE status = 'running'").fetchall()
            with _EXECUTING_LOCK:
                executing = set(_EXECUTING)
            orphans = [
                r["id"] for r in rows
                if (r["pid"] == me and r["id"] not in executing) or (r["pid"] != me and not _pid_alive(r["pid"]))
            ]
            for job_id in orphans:
                db.execute("UPDATE jobs SET status = 'queued', pid = NULL WHERE id = ?", (job_id,))
        return len(orphans)


class JobRunner:
    """Runs stored jobs on a small thread pool; ``workers=0`` only queues them (another runner will run them)."""

    def __init__(self, store: JobStore, handlers: dict[str, Handler], *, workers: int = 2) -> None:
        self.store = store
        self.handlers = handlers
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Recover orphaned jobs and schedule every queued one; idempotent."""
        with self._lock:
            if self._started:
                return
            self._started = True
            if self.workers > 0:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="triage-job")
        recovered = self.store.recover()
        if recovered:
            log.info("requeued %d job(s) left running by a stopped server", recovered)
        for job in self.store.queued():
            self._schedule(job.id)

    def stop(self, *, wait: bool = True) -> None:
        """Stop taking jobs: running ones finish (when ``wait``), queued ones stay queued for the next start."""
        with self._lock:
            pool, self._pool, self._started = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def submit(self, kind: str, target: str, params: dict) -> tuple[Job, bool]:
        """Queue a job unless an active one has the same target; returns (job, created)."""
        if kind not in self.handlers:
            raise ValueError(f"unknown job kind {kind!r}")
        self.start()
        job, created = self.store.submit(kind, target, params)
        if created:
            self._schedule(job.id)
        return job, created

    def get(self, job_id: str) -> Job | None:
        """The stored job, or None."""
        return self.store.get(job_id)

    def _schedule(self, job_id: str) -> None:
        with self._lock:
            pool = self._pool
            if pool is None:
                return
            try:
                pool.submit(self._run, job_id)
            except RuntimeError:  # shut down meanwhile: the job stays queued for the next start
                pass

    def _run(self, job_id: str) -> None:
        with _EXECUTING_LOCK:
            _EXECUTING.add(job_id)
        try:
            if not self.store.claim(job_id):
                return
            job = self.store.get(job_id)
            assert job is not None
            try:
                result = self.handlers[job.kind](job)
            except TriageError as exc:
                self.store.fail(job_id, {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint})
            except Exception as exc:  # a bug, not the reader's input: keep the runner alive and say so
                log.exception("job %s (%s) failed", job_id, job.kind)
                self.store.fail(job_id, {"type": "InternalError", "message": f"unexpected error: {exc}",
                                         "hint": "see the server log"})
            else:
                self.store.finish(job_id, result)
        except Exception:  # the database itself failed: leave the row for recover()
            log.exception("job %s could not be run", job_id)
        finally:
            with _EXECUTING_LOCK:
                _EXECUTING.discard(job_id)
