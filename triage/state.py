"""The reading state: SQLite in WAL mode, with named migrations.

Every paper has one current status; every change of status is a row in
``transitions`` saying who made it (``critic`` or ``reader``), when and why, so
a decision can be explained, undone and learned from (calibration reads the
reader's overrides).  Every verdict is kept in full, keyed by what produced it
(paper hash, constitution hash, critic, prompt version), which doubles as the
verdict cache: a re-run with nothing changed makes no critic computation.

Several processes may write at once (the TUI open while the nightly digest
runs): writes are short ``BEGIN IMMEDIATE`` transactions and readers never
block under WAL; ``busy_timeout`` makes a second writer wait instead of failing.
Schema changes are functions registered with ``@migration`` and recorded by
name in ``_migrations``; they run once, in order, on open.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from triage.errors import StoreError
from triage.models import Paper, Status, Transition, Verdict, utcnow

__all__ = ["State", "PaperRecord", "NoteEntry", "migration", "MIGRATIONS"]

MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = []


def migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    """Register a schema migration; its function name is its identity, so never rename one."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def _run_script(db: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it commits first, breaking the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE papers (
            key TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            paper_json TEXT NOT NULL,
            pdf_sha TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX papers_status ON papers(status);
        CREATE TABLE transitions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            old TEXT,
            new TEXT NOT NULL,
            actor TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            undone_by INTEGER
        );
        CREATE INDEX transitions_key ON transitions(key, id);
        CREATE TABLE verdicts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            paper_hash TEXT NOT NULL,
            constitution_hash TEXT NOT NULL,
            critic TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            decision TEXT NOT NULL,
            score REAL NOT NULL,
            confidence REAL NOT NULL,
            cost_usd REAL NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            verdict_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX verdicts_cache ON verdicts(paper_hash, constitution_hash, critic, prompt_version);
        CREATE INDEX verdicts_key ON verdicts(key, id);
        """
    )


@migration
def m010_jobs(db: sqlite3.Connection) -> None:
    """Background jobs of the HTTP API (triage/jobs.py owns the rows); at most one active job per target."""
    _run_script(
        db,
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL,
            result TEXT,
            error TEXT,
            pid INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        );
        CREATE UNIQUE INDEX jobs_active_target ON jobs(target) WHERE status IN ('queued', 'running');
        CREATE INDEX jobs_status ON jobs(status, created_at)
        """
    )


@migration
def m020_digest(db: sqlite3.Connection) -> None:
    """The nightly digest: every arXiv (id, version) seen, on which night, and every run."""
    _run_script(
        db,
        """
        CREATE TABLE digest_seen (
            arxiv_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            night TEXT NOT NULL,
            key TEXT NOT NULL,
            kind TEXT NOT NULL,
            announce_type TEXT NOT NULL DEFAULT '',
            score REAL,
            closest TEXT NOT NULL DEFAULT '',
            entry_json TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            run_id INTEGER,
            PRIMARY KEY (arxiv_id, version)
        );
        CREATE INDEX digest_seen_night ON digest_seen(night, kind);
        CREATE INDEX digest_seen_key ON digest_seen(key);
        CREATE TABLE digest_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            night TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            pid INTEGER,
            sources TEXT NOT NULL DEFAULT '[]',
            stats TEXT NOT NULL DEFAULT '{}',
            digest_path TEXT,
            emailed_hash TEXT,
            error TEXT
        );
        CREATE INDEX digest_runs_night ON digest_runs(night, id);
        """
    )


@migration
def m040_decision_sources(db: sqlite3.Connection) -> None:
    """Where each decision was made, and which reader-written note entries the state has taken in.

    ``transitions.source`` is the surface or file a decision came from (``note``,
    ``cli``, ``tui``, ``api``, ``critic``, ``digest``).  ``note_entries`` holds, per
    note and paper, how many of the reader's own log entries for the paper have
    been recorded and the status the last one said, so syncing a note again
    records only entries added since (``State.sync_note_entries``).
    """
    _run_script(
        db,
        """
        ALTER TABLE transitions ADD COLUMN source TEXT NOT NULL DEFAULT '';
        UPDATE transitions SET source = 'critic' WHERE actor = 'critic';
        CREATE TABLE note_entries (
            note TEXT NOT NULL,
            key TEXT NOT NULL,
            entries INTEGER NOT NULL,
            status TEXT NOT NULL,
            line INTEGER NOT NULL,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (note, key)
        );
        CREATE INDEX note_entries_key ON note_entries(key)
        """
    )


@dataclass(frozen=True)
class NoteEntry:
    """A log entry the reader wrote: the decision it records, and where it is."""

    key: str
    status: Status
    line: int  # 1-based, as editors show it


@dataclass(frozen=True)
class PaperRecord:
    """A paper as the state knows it: metadata, status, PDF hash."""

    paper: Paper
    status: Status
    pdf_sha: str | None
    updated_at: datetime

    @property
    def key(self) -> str:
        """The paper's citekey."""
        return self.paper.key


class SqliteStore:
    """One connection to the state database, shared by a process's threads, and its transactions.

    Every error SQLite raises on the way (a full or read-only disk, a lock held
    too long, a damaged file) leaves as a ``StateUnavailable`` that names the
    cause and a hint safe to follow for it (``triage.faults``), never as SQLite's
    own words.
    """

    #: How the database is named in messages.
    what = "the state database"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        from triage.faults import writable

        # A database file its owner made read-only (mode 0444) is opened read-only, for root too, who could write
        # it: reads (status, history, search) work, and a write meets SQLite's own read-only error, worded as such.
        target: str | Path = path if writable(path) else f"{Path(path).absolute().as_uri()}?mode=ro"
        try:
            self._db = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False,
                                       uri=isinstance(target, str))
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            raise self._fault(exc) from None

    def _fault(self, exc: sqlite3.DatabaseError) -> StoreError:
        from triage.faults import disk_error

        return disk_error(exc, self.path, self.what, damaged_hint=(
            f"move it aside (mv {self.path} {self.path}.damaged) and run again: triage starts a new state, and "
            "'triage status NOTE|DIR' takes the decisions in your notes in again; keep the damaged copy"))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads, with SQLite's errors worded by cause."""
        with self._lock:
            try:
                yield self._db
            except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
                raise  # our own mistakes, not the disk's
            except sqlite3.DatabaseError as exc:
                raise self._fault(exc) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two processes never both
        # read-then-write and lose one update.
        with self._reading() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with suppress(sqlite3.Error):  # a full disk may have rolled it back already
                    db.execute("ROLLBACK")
                raise
            else:
                try:
                    db.execute("COMMIT")
                except sqlite3.DatabaseError:
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise


class State(SqliteStore):
    """Access to the SQLite state; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from triage.faults import disk_error

            raise disk_error(exc, path, self.what) from None
        super().__init__(path)
        with self._reading() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        # Read first: a state with nothing to migrate opens on a read-only disk too (status, history, search).
        with self._reading() as db:
            has_table = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").fetchone()
            applied = {r["name"] for r in db.execute("SELECT name FROM _migrations")} if has_table else set()
        if all(name in applied for name, _fn in MIGRATIONS):
            return
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {r["name"] for r in db.execute("SELECT name FROM _migrations")}
            for name, fn in MIGRATIONS:
                if name not in done:
                    fn(db)
                    db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, utcnow().isoformat()))

    # -- papers -------------------------------------------------------------

    def upsert_paper(self, paper: Paper, *, pdf_sha: str | None = None, status: Status = Status.QUEUED) -> PaperRecord:
        """Insert a paper (with ``status`` if new) or refresh its metadata; the status of a known paper is kept."""
        now = utcnow().isoformat()
        data = paper.model_dump_json()
        with self._write() as db:
            row = db.execute("SELECT status, pdf_sha FROM papers WHERE key = ?", (paper.key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO papers (key, status, title, paper_json, pdf_sha, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (paper.key, status.value, paper.title, data, pdf_sha, now),
                )
            else:
                db.execute(
                    "UPDATE papers SET title = ?, paper_json = ?, pdf_sha = COALESCE(?, pdf_sha), updated_at = ? WHERE key = ?",
                    (paper.title, data, pdf_sha, now, paper.key),
                )
        record = self.get(paper.key)
        assert record is not None
        return record

    def get(self, key: str) -> PaperRecord | None:
        """The paper with this key, or None."""
        with self._reading():
            row = self._db.execute("SELECT * FROM papers WHERE key = ?", (key,)).fetchone()
        return self._record(row) if row else None

    def papers(self, status: Status | None = None, *, limit: int = 1000, offset: int = 0) -> list[PaperRecord]:
        """Papers, most recently changed first, optionally with one status."""
        sql, args = "SELECT * FROM papers", []
        if status is not None:
            sql, args = sql + " WHERE status = ?", [status.value]
        sql += " ORDER BY updated_at DESC, key LIMIT ? OFFSET ?"
        with self._reading():
            rows = self._db.execute(sql, (*args, limit, offset)).fetchall()
        return [self._record(r) for r in rows]

    def reader_decisions(self) -> list[tuple[Paper, Status, str]]:
        """Every paper with a standing decision of the reader's, that decision and where it was made (undone ones do not stand)."""
        with self._reading():
            rows = self._db.execute(
                "SELECT p.paper_json, t.new, t.source FROM papers p JOIN transitions t ON t.id = ("
                "SELECT MAX(id) FROM transitions WHERE key = p.key AND actor = 'reader' AND undone_by IS NULL "
                "AND reason NOT LIKE 'undo%') ORDER BY t.id"
            ).fetchall()
        return [(Paper.model_validate_json(r["paper_json"]), Status(r["new"]), r["source"]) for r in rows]

    def reader_counts(self) -> dict[str, int]:
        """Papers per status among those whose current status is the reader's own decision."""
        with self._reading():
            rows = self._db.execute(
                "SELECT p.status, COUNT(*) AS n FROM papers p JOIN transitions t ON t.id = "
                "(SELECT MAX(id) FROM transitions WHERE key = p.key) WHERE t.actor = 'reader' GROUP BY p.status"
            ).fetchall()
        return {r["status"]: r["n"] for r in rows}

    def find_key(self, kind: str, value: str) -> str | None:
        """The key of the paper a parsed identifier names (``citekey``, ``arxiv``, ``doi`` or ``url``), if held."""
        column = {"arxiv": "$.arxiv_id", "doi": "$.doi", "url": "$.url"}.get(kind)
        with self._reading():
            if column is None:
                row = self._db.execute("SELECT key FROM papers WHERE key = ?", (value,)).fetchone()
                if row is None:  # a Better BibTeX alias ('ids') of a paper held under its main key
                    row = self._db.execute(
                        "SELECT papers.key AS key FROM papers, json_each(papers.paper_json, '$.aliases') "
                        "WHERE json_each.value = ? LIMIT 1", (value,)).fetchone()
            else:
                row = self._db.execute(
                    f"SELECT key FROM papers WHERE lower(json_extract(paper_json, '{column}')) = lower(?) "
                    "ORDER BY updated_at DESC LIMIT 1", (value,)).fetchone()
        return row["key"] if row else None

    def counts(self) -> dict[str, int]:
        """Number of papers per status."""
        with self._reading():
            rows = self._db.execute("SELECT status, COUNT(*) AS n FROM papers GROUP BY status").fetchall()
        return {r["status"]: r["n"] for r in rows}

    @staticmethod
    def _record(row: sqlite3.Row) -> PaperRecord:
        return PaperRecord(
            paper=Paper.model_validate_json(row["paper_json"]),
            status=Status(row["status"]),
            pdf_sha=row["pdf_sha"],
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )

    # -- status ---------------------------------------------------------------

    def set_status(self, key: str, new: Status, *, actor: str, reason: str = "", source: str = "") -> Transition:
        """Move a known paper to ``new``, recording who, why and from where. StoreError for an unknown key."""
        with self._write() as db:
            return self._transition(db, key, new, actor=actor, reason=reason, source=source)

    def record_decision(self, paper: Paper, new: Status, *, reason: str = "", source: str) -> Transition:
        """A reader's decision on ``paper``, which need not be known yet: it is added with no PDF if it is not."""
        with self._write() as db:
            self._insert_if_missing(db, paper)
            return self._transition(db, paper.key, new, actor="reader", reason=reason, source=source)

    @staticmethod
    def _insert_if_missing(db: sqlite3.Connection, paper: Paper) -> None:
        # A paper first known from a decision has no status before it: the transition's 'old' is None.
        db.execute(
            "INSERT OR IGNORE INTO papers (key, status, title, paper_json, pdf_sha, updated_at) VALUES (?, '', ?, ?, NULL, ?)",
            (paper.key, paper.title, paper.model_dump_json(), utcnow().isoformat()),
        )

    @staticmethod
    def _transition(db: sqlite3.Connection, key: str, new: Status, *, actor: str, reason: str, source: str) -> Transition:
        now = utcnow()
        row = db.execute("SELECT status FROM papers WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError(f"no paper @{key} in the state", hint="add it first with 'triage fetch' or 'triage run'")
        old = Status(row["status"]) if row["status"] else None
        db.execute("UPDATE papers SET status = ?, updated_at = ? WHERE key = ?", (new.value, now.isoformat(), key))
        db.execute(
            "INSERT INTO transitions (key, old, new, actor, reason, at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, old.value if old else None, new.value, actor, reason, now.isoformat(), source),
        )
        return Transition(key=key, old=old, new=new, actor=actor, reason=reason, source=source, at=now)

    # -- the reader's own log entries ------------------------------------------------------

    def sync_note_entries(self, note: str, entries: list[NoteEntry], paper_for: Callable[[str], Paper],
                          *, label: str = "") -> list[Transition]:
        """Record the reader's log entries of one note as reader decisions; returns the status changes made.

        ``entries`` are the note's reader-written entries in note order.  Per
        paper, only entries beyond those recorded on an earlier sync count (or,
        when the reader deleted some, the last one if it now says something
        else), so a decision made since in another surface is not overridden by
        an old line; an entry that says what the state already says changes
        nothing.  Unknown papers are added (``paper_for`` gives their
        metadata).  One transaction: a note is taken in whole or not at all.
        """
        by_key: dict[str, list[NoteEntry]] = {}
        for entry in entries:
            by_key.setdefault(entry.key, []).append(entry)
        made: list[Transition] = []
        now = utcnow().isoformat()
        with self._write() as db:
            for key, found in by_key.items():
                row = db.execute("SELECT entries, status FROM note_entries WHERE note = ? AND key = ?", (note, key)).fetchone()
                seen = row["entries"] if row else 0
                if len(found) > seen:
                    fresh = found[seen:]
                elif row is not None and row["status"] != found[-1].status.value:
                    fresh = found[-1:]
                else:
                    fresh = []
                if fresh and db.execute("SELECT 1 FROM papers WHERE key = ?", (key,)).fetchone() is None:
                    self._insert_if_missing(db, paper_for(key))
                for entry in fresh:
                    current = db.execute("SELECT status FROM papers WHERE key = ?", (key,)).fetchone()["status"]
                    if current != entry.status.value:
                        made.append(self._transition(db, key, entry.status, actor="reader", source="note",
                                                     reason=f"{label or note}:{entry.line}"))
                db.execute(
                    "INSERT INTO note_entries (note, key, entries, status, line, synced_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (note, key) DO UPDATE SET entries = excluded.entries, status = excluded.status, "
                    "line = excluded.line, synced_at = excluded.synced_at",
                    (note, key, len(found), found[-1].status.value, found[-1].line, now),
                )
        return made

    def note_entry_written(self, note: str, key: str, status: Status) -> None:
        """Triage appended a reader's decision to ``note``: count it as taken in, so a sync does not apply it again."""
        with self._write() as db:
            db.execute(
                "INSERT INTO note_entries (note, key, entries, status, line, synced_at) VALUES (?, ?, 1, ?, 0, ?) "
                "ON CONFLICT (note, key) DO UPDATE SET entries = entries + 1, status = excluded.status, "
                "synced_at = excluded.synced_at",
                (note, key, status.value, utcnow().isoformat()),
            )

    def synced_notes(self) -> list[str]:
        """Every note whose reader entries have been taken in."""
        with self._reading():
            return [r["note"] for r in self._db.execute("SELECT DISTINCT note FROM note_entries ORDER BY note")]

    def undo(self, key: str, *, actor: str = "reader", source: str = "") -> Transition:
        """Restore the status before the latest change that has not been undone yet."""
        now = utcnow()
        with self._write() as db:
            last = db.execute(
                "SELECT * FROM transitions WHERE key = ? AND undone_by IS NULL AND reason NOT LIKE 'undo%' "
                "ORDER BY id DESC LIMIT 1",
                (key,),
            ).fetchone()
            if last is None or last["old"] is None:
                raise StoreError(f"nothing to undo for @{key}")
            current = db.execute("SELECT status FROM papers WHERE key = ?", (key,)).fetchone()["status"]
            restored = Status(last["old"])
            reason = f"undo: {last['old']} -> {last['new']} by {last['actor']}"
            cur = db.execute(
                "INSERT INTO transitions (key, old, new, actor, reason, at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, current, restored.value, actor, reason, now.isoformat(), source),
            )
            db.execute("UPDATE transitions SET undone_by = ? WHERE id = ?", (cur.lastrowid, last["id"]))
            db.execute("UPDATE papers SET status = ?, updated_at = ? WHERE key = ?", (restored.value, now.isoformat(), key))
        return Transition(key=key, old=Status(current), new=restored, actor=actor, reason=reason, source=source, at=now)

    def history(self, key: str) -> list[Transition]:
        """Every status change of a paper, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT * FROM transitions WHERE key = ? ORDER BY id", (key,)).fetchall()
        return [self._transition_of(r) for r in rows]

    def overrides(self) -> list[Transition]:
        """Reader decisions that changed a status the critic had set (calibration's ground truth)."""
        with self._reading():
            rows = self._db.execute(
                "SELECT t.* FROM transitions t WHERE t.actor = 'reader' AND t.undone_by IS NULL ORDER BY t.id"
            ).fetchall()
        return [self._transition_of(r) for r in rows]

    @staticmethod
    def _transition_of(r: sqlite3.Row) -> Transition:
        return Transition(key=r["key"], old=Status(r["old"]) if r["old"] else None, new=Status(r["new"]),
                          actor=r["actor"], reason=r["reason"], source=r["source"], at=datetime.fromisoformat(r["at"]))

    # -- verdicts -------------------------------------------------------------

    def save_verdict(self, verdict: Verdict) -> None:
        """Keep a verdict in full (the audit trail and the verdict cache)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO verdicts (key, paper_hash, constitution_hash, critic, prompt_version, decision, score, "
                "confidence, cost_usd, prompt_tokens, completion_tokens, verdict_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    verdict.key, verdict.paper_hash, verdict.constitution_hash, verdict.critic, verdict.prompt_version,
                    verdict.decision.value, verdict.score, verdict.confidence, verdict.cost_usd,
                    verdict.tokens.prompt, verdict.tokens.completion, verdict.model_dump_json(),
                    verdict.created_at.isoformat(),
                ),
            )

    def cached_verdict(self, paper_hash: str, constitution_hash: str, critic: str, prompt_version: str) -> Verdict | None:
        """The newest verdict produced from exactly these inputs, if any."""
        with self._reading():
            row = self._db.execute(
                "SELECT verdict_json FROM verdicts WHERE paper_hash = ? AND constitution_hash = ? AND critic = ? "
                "AND prompt_version = ? ORDER BY id DESC LIMIT 1",
                (paper_hash, constitution_hash, critic, prompt_version),
            ).fetchone()
        return Verdict.model_validate_json(row["verdict_json"]) if row else None

    def latest_verdict(self, key: str) -> Verdict | None:
        """The newest verdict for a paper, whatever produced it."""
        with self._reading():
            row = self._db.execute(
                "SELECT verdict_json FROM verdicts WHERE key = ? ORDER BY id DESC LIMIT 1", (key,)
            ).fetchone()
        return Verdict.model_validate_json(row["verdict_json"]) if row else None

    def verdicts(self, key: str) -> list[Verdict]:
        """Every verdict for a paper, oldest first."""
        with self._reading():
            rows = self._db.execute("SELECT verdict_json FROM verdicts WHERE key = ? ORDER BY id", (key,)).fetchall()
        return [Verdict.model_validate_json(r["verdict_json"]) for r in rows]


    # -- nightly digest (triage/digest/) ------------------------------------------------
    # Rows are plain dicts: the digest module owns their meaning; the state only keeps them.

    _DIGEST_CHUNK = 500  # ids per IN (...) query

    def digest_seen(self, arxiv_ids: list[str]) -> dict[str, list[dict]]:
        """Every seen (id, version) row for these arXiv ids, by id, oldest version first."""
        out: dict[str, list[dict]] = {}
        ids = list(dict.fromkeys(arxiv_ids))
        with self._reading():
            for i in range(0, len(ids), self._DIGEST_CHUNK):
                part = ids[i : i + self._DIGEST_CHUNK]
                rows = self._db.execute(
                    f"SELECT * FROM digest_seen WHERE arxiv_id IN ({','.join('?' * len(part))}) ORDER BY version",
                    part,
                ).fetchall()
                for r in rows:
                    out.setdefault(r["arxiv_id"], []).append(dict(r))
        return out

    def digest_mark_seen(self, rows: list[dict]) -> int:
        """Record (id, version) rows in one transaction; rows already there are kept as they were."""
        now = utcnow().isoformat()
        with self._write() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO digest_seen (arxiv_id, version, night, key, kind, announce_type, score, closest, "
                "entry_json, first_seen_at, run_id) VALUES (:arxiv_id, :version, :night, :key, :kind, :announce_type, "
                ":score, :closest, :entry_json, :first_seen_at, :run_id)",
                [{"first_seen_at": now, "run_id": None, "closest": "", "score": None, **r} for r in rows],
            )
            return db.total_changes - before

    def digest_night(self, night: str) -> list[dict]:
        """Every row first seen on ``night`` (YYYY-MM-DD)."""
        with self._reading():
            rows = self._db.execute("SELECT * FROM digest_seen WHERE night = ? ORDER BY arxiv_id, version", (night,))
            return [dict(r) for r in rows.fetchall()]

    def digest_key_owner(self, key: str) -> str | None:
        """The arXiv id a digest key was given to, if any."""
        with self._reading():
            row = self._db.execute("SELECT arxiv_id FROM digest_seen WHERE key = ? LIMIT 1", (key,)).fetchone()
        return row["arxiv_id"] if row else None

    def keys_for_arxiv_ids(self, arxiv_ids: list[str]) -> dict[str, str]:
        """Papers already in the state with one of these arXiv ids: id -> key."""
        wanted = set(arxiv_ids)
        with self._reading():
            rows = self._db.execute(
                "SELECT key, json_extract(paper_json, '$.arxiv_id') AS aid FROM papers WHERE aid IS NOT NULL"
            ).fetchall()
        return {r["aid"]: r["key"] for r in rows if r["aid"] in wanted}

    def digest_run_start(self, night: str, sources: str, pid: int) -> int:
        """Record a digest run as running; returns its id."""
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO digest_runs (night, started_at, status, pid, sources) VALUES (?, ?, 'running', ?, ?)",
                (night, utcnow().isoformat(), pid, sources),
            )
            return int(cur.lastrowid or 0)

    def digest_run_finish(self, run_id: int, status: str, *, stats: str = "{}", digest_path: str | None = None,
                          emailed_hash: str | None = None, error: str | None = None) -> None:
        """Close a digest run with its outcome."""
        with self._write() as db:
            db.execute(
                "UPDATE digest_runs SET finished_at = ?, status = ?, stats = ?, digest_path = ?, "
                "emailed_hash = COALESCE(?, emailed_hash), error = ? WHERE id = ?",
                (utcnow().isoformat(), status, stats, digest_path, emailed_hash, error, run_id),
            )

    def digest_runs_interrupted(self, pid: int) -> list[dict]:
        """Close every digest run still 'running' (other than process ``pid``'s) as 'interrupted'; returns them.

        Only the holder of the digest lock may call it: then no other run is alive.
        """
        with self._write() as db:
            rows = [dict(r) for r in db.execute(
                "SELECT * FROM digest_runs WHERE status = 'running' AND (pid IS NULL OR pid != ?)", (pid,))]
            db.executemany(
                "UPDATE digest_runs SET status = 'interrupted', finished_at = ?, "
                "error = COALESCE(error, 'killed before it finished') WHERE id = ?",
                [(utcnow().isoformat(), r["id"]) for r in rows])
        return rows

    def digest_runs(self, limit: int = 20) -> list[dict]:
        """The latest digest runs, newest first."""
        with self._reading():
            rows = self._db.execute("SELECT * FROM digest_runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]

    def digest_emailed(self, night: str, content_hash: str) -> bool:
        """True when this night's digest with exactly this content was e-mailed already."""
        with self._reading():
            row = self._db.execute(
                "SELECT 1 FROM digest_runs WHERE night = ? AND emailed_hash = ? LIMIT 1", (night, content_hash)
            ).fetchone()
        return row is not None

    # -- end of nightly digest ---------------------------------------------------------

    # -- the reading log (tui/): keyset pages, positions, search by key/title/authors ------
    # The log reads the papers most recently changed first, a page at a time: each page
    # continues from the (updated_at, key) of a row next to it, so no page costs more than
    # its own rows whatever its position (m030_log_order).  A jump to an arbitrary position
    # (a scrollbar drag, End) seeks through the covering index only.  Text filters go
    # through the trigram FTS5 table (m031_papers_fts): every word the reader types must be a
    # substring (case-insensitive) of the key, the title or the authors.

    def log_lines(
        self,
        status: Status | None = None,
        text: str = "",
        *,
        after: LogCursor | None = None,
        before: LogCursor | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[LogLine]:
        """Papers in log order (newest change first): the ``limit`` after ``after``, before ``before``, or from ``offset``."""
        where, args = self._log_filter(status, text)
        columns = _LOG_COLUMNS
        if before is not None:
            # Walk backwards from the row after the page, then put the page back in log order.
            sql = (f"SELECT {columns} FROM {_LOG_FROM} WHERE {where} AND (p.updated_at, p.key) > (?, ?) "
                   "ORDER BY p.updated_at, p.key LIMIT ?")
            rows = self._log_query(sql, [*args, *before, limit])
            return rows[::-1]
        if after is None and offset > 0:
            anchor = self._log_anchor(where, args, offset)
            if anchor is None:
                return []
            sql = (f"SELECT {columns} FROM {_LOG_FROM} WHERE {where} AND (p.updated_at, p.key) <= (?, ?) "
                   "ORDER BY p.updated_at DESC, p.key DESC LIMIT ?")
            return self._log_query(sql, [*args, *anchor, limit])
        if after is not None:
            where += " AND (p.updated_at, p.key) < (?, ?)"
            args = [*args, *after]
        sql = f"SELECT {columns} FROM {_LOG_FROM} WHERE {where} ORDER BY p.updated_at DESC, p.key DESC LIMIT ?"
        return self._log_query(sql, [*args, limit])

    def log_count(self, status: Status | None = None, text: str = "") -> int:
        """How many papers the log shows with this status and text filter."""
        where, args = self._log_filter(status, text)
        with self._reading():
            return int(self._db.execute(f"SELECT COUNT(*) FROM papers p WHERE {where}", args).fetchone()[0])

    def log_position(self, key: str, status: Status | None = None, text: str = "") -> int | None:
        """The 0-based row of ``key`` in the log with this filter, or None when the filter hides it."""
        where, args = self._log_filter(status, text)
        with self._reading():
            row = self._db.execute(f"SELECT p.updated_at FROM papers p WHERE {where} AND p.key = ?", [*args, key]).fetchone()
            if row is None:
                return None
            ahead = self._db.execute(
                f"SELECT COUNT(*) FROM papers p WHERE {where} AND (p.updated_at, p.key) > (?, ?)",
                [*args, row["updated_at"], key],
            ).fetchone()[0]
        return int(ahead)

    def find_papers(self, text: str, *, limit: int = 20) -> list[LogLine]:
        """Papers whose key, title or authors contain every word of ``text``, best match first (the palette's jump)."""
        found, args = _text_match(text)
        if not found:
            return []
        rank = "f.rank, " if _fts_query(text) else ""
        sql = (f"SELECT {_LOG_COLUMNS} FROM papers_fts f JOIN papers p ON p.rowid = f.rowid {_NEWEST_VERDICT} "
               f"WHERE {found} ORDER BY {rank}p.updated_at DESC, p.key DESC LIMIT ?")
        return self._log_query(sql, [*args, limit])

    def _log_filter(self, status: Status | None, text: str) -> tuple[str, list]:
        where, args = ["1"], []
        if status is not None:
            where.append("p.status = ?")
            args.append(status.value)
        found, found_args = _text_match(text)
        if found:
            where.append(f"p.rowid IN (SELECT rowid FROM papers_fts f WHERE {found})")
            args += found_args
        return " AND ".join(where), args

    def data_version(self) -> int:
        """SQLite's ``data_version``: it changes whenever another connection commits."""
        with self._reading():
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _log_anchor(self, where: str, args: list, offset: int) -> LogCursor | None:
        with self._reading():
            row = self._db.execute(
                f"SELECT p.updated_at, p.key FROM papers p WHERE {where} "
                "ORDER BY p.updated_at DESC, p.key DESC LIMIT 1 OFFSET ?",
                [*args, offset],
            ).fetchone()
        return (row["updated_at"], row["key"]) if row else None

    def _log_query(self, sql: str, args: list) -> list[LogLine]:
        with self._reading():
            rows = self._db.execute(sql, args).fetchall()
        return [
            LogLine(key=r["key"], status=Status(r["status"]), title=r["title"], updated_at=r["updated_at"],
                    score=r["score"], decision=r["decision"] or "", top=r["top"] or "",
                    authors=tuple(json.loads(r["authors"] or "[]")), year=r["year"], arxiv_id=r["arxiv_id"])
            for r in rows
        ]

    # -- end of the reading log ----------------------------------------------------------


LogCursor = tuple[str, str]
"""Where a log page continues from: the (updated_at, key) of the row next to it."""

# The newest verdict's decision, score and top principle (score × weight, the first listed on a
# tie, as ``Verdict.top_principles``) come from SQLite in the page's own query.
_LOG_COLUMNS = """p.key, p.status, p.title, p.updated_at, v.decision, v.score,
    json_extract(p.paper_json, '$.authors') AS authors, json_extract(p.paper_json, '$.year') AS year,
    json_extract(p.paper_json, '$.arxiv_id') AS arxiv_id,
    (SELECT json_extract(pr.value, '$.id') FROM json_each(v.verdict_json, '$.principles') pr
     WHERE json_extract(pr.value, '$.score') IS NOT NULL
     ORDER BY json_extract(pr.value, '$.score') * json_extract(pr.value, '$.weight') DESC, pr.key LIMIT 1) AS top"""
_NEWEST_VERDICT = "LEFT JOIN verdicts v ON v.id = (SELECT MAX(id) FROM verdicts WHERE key = p.key)"
_LOG_FROM = f"papers p {_NEWEST_VERDICT}"
#: FTS5's trigram tokenizer matches substrings of at least this many characters.
_TRIGRAM = 3


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_match(text: str) -> tuple[str, list]:
    """A condition on ``papers_fts f`` for rows holding every word of ``text`` ('' for no words).

    Words of 3+ characters go through the trigram index; shorter ones are a LIKE over the
    rows it leaves (or over the FTS table's own copy when no word is long).
    """
    words = text.split()
    short = [w for w in words if len(w) < _TRIGRAM]
    match = _fts_query(text)
    conditions = (["papers_fts MATCH ?"] if match else []) + [
        "(f.key || ' ' || f.title || ' ' || f.authors) LIKE ? ESCAPE '\\'" for _ in short
    ]
    return " AND ".join(conditions), ([match] if match else []) + [f"%{_like_escape(w)}%" for w in short]


def _fts_query(text: str) -> str | None:
    """An FTS5 query matching rows that contain every word of ``text`` (None when no word is long enough).

    Each word is one quoted string, so nothing the reader types is FTS syntax; words
    shorter than a trigram are left to the LIKE scan in ``_log_filter``.
    """
    words = [w for w in text.split() if len(w) >= _TRIGRAM]
    if not words:
        return None
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


@dataclass(frozen=True)
class LogLine:
    """One row of the reading log: the paper, its status and its newest verdict in brief."""

    key: str
    status: Status
    title: str
    updated_at: str
    score: float | None = None
    decision: str = ""
    top: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    arxiv_id: str | None = None

    @property
    def cursor(self) -> LogCursor:
        """Where the next (or previous) page continues from."""
        return (self.updated_at, self.key)


@migration
def m030_log_order(db: sqlite3.Connection) -> None:
    """The log's sort column, (updated_at, key), indexed for keyset pages, alone and per status.

    ``papers_status`` is a prefix of the per-status index and goes.
    """
    _run_script(
        db,
        """
        CREATE INDEX papers_log_order ON papers(updated_at, key);
        CREATE INDEX papers_status_log_order ON papers(status, updated_at, key);
        DROP INDEX IF EXISTS papers_status
        """,
    )


@migration
def m031_papers_fts(db: sqlite3.Connection) -> None:
    """A trigram FTS5 index over key, title and authors, kept in step with ``papers`` by triggers.

    Its rowid is the paper's rowid, so the triggers find a paper's row and a search joins
    the papers without a scan (a VACUUM may renumber the rowids of ``papers``, which has no
    INTEGER PRIMARY KEY: triage never runs one).  Writers of any process keep it current
    through the triggers: there is nothing to call.
    """
    authors = "coalesce((SELECT group_concat(value, '; ') FROM json_each({row}.paper_json, '$.authors')), '')"
    # One statement per execute: the trigger bodies hold semicolons, which _run_script splits on.
    db.execute("CREATE VIRTUAL TABLE papers_fts USING fts5(key, title, authors, tokenize = 'trigram')")
    db.execute(f"INSERT INTO papers_fts (rowid, key, title, authors) "
               f"SELECT rowid, key, title, {authors.format(row='papers')} FROM papers")
    db.execute(f"""CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
        INSERT INTO papers_fts (rowid, key, title, authors) VALUES (new.rowid, new.key, new.title, {authors.format(row='new')});
        END""")
    db.execute(f"""CREATE TRIGGER papers_fts_update AFTER UPDATE OF key, title, paper_json ON papers BEGIN
        UPDATE papers_fts SET key = new.key, title = new.title, authors = {authors.format(row='new')} WHERE rowid = old.rowid;
        END""")
    db.execute("""CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        DELETE FROM papers_fts WHERE rowid = old.rowid;
        END""")
