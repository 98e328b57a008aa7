"""The reading state: statuses, history, undo, verdict cache, concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from triage.errors import StoreError
from triage.models import Decision, Paper, PrincipleScore, Status, Verdict
from triage.state import MIGRATIONS, State


def _verdict(key: str = "a2023", paper_hash: str = "h1") -> Verdict:
    return Verdict(
        key=key, decision=Decision.READ, score=7.5, confidence=0.6, critic="offline:test",
        principles=[PrincipleScore(id="modularity", score=8.0)], constitution_hash="c1",
        paper_hash=paper_hash, prompt_version="v1",
    )


def test_new_paper_is_queued_and_status_changes_are_recorded(tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite3")
    state.upsert_paper(Paper(key="a2023", title="A"))
    assert state.get("a2023").status is Status.QUEUED
    state.set_status("a2023", Status.SKIM, actor="critic", reason="score 5")
    state.set_status("a2023", Status.READ, actor="reader", reason="looks great")
    history = state.history("a2023")
    assert [(t.old, t.new, t.actor) for t in history] == [
        (Status.QUEUED, Status.SKIM, "critic"),
        (Status.SKIM, Status.READ, "reader"),
    ]
    assert state.counts() == {"read": 1}


def test_upsert_keeps_the_status_of_a_known_paper(tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite3")
    state.upsert_paper(Paper(key="a2023"))
    state.set_status("a2023", Status.READ, actor="reader")
    state.upsert_paper(Paper(key="a2023", title="New title"), pdf_sha="abc")
    record = state.get("a2023")
    assert record.status is Status.READ and record.paper.title == "New title" and record.pdf_sha == "abc"


def test_undo_restores_previous_status_and_can_walk_back(tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite3")
    state.upsert_paper(Paper(key="a2023"))
    state.set_status("a2023", Status.SKIM, actor="critic")
    state.set_status("a2023", Status.READ, actor="reader")
    t = state.undo("a2023")
    assert (t.old, t.new) == (Status.READ, Status.SKIM)
    assert state.get("a2023").status is Status.SKIM
    state.undo("a2023")
    assert state.get("a2023").status is Status.QUEUED
    with pytest.raises(StoreError):
        state.undo("a2023")
    # Undos are themselves in the history: nothing is erased.
    assert len(state.history("a2023")) == 4


def test_unknown_key_is_a_clear_error(tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite3")
    with pytest.raises(StoreError, match="no paper @nobody"):
        state.set_status("nobody", Status.READ, actor="reader")


def test_verdict_cache_is_keyed_by_everything_that_produced_it(tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite3")
    state.save_verdict(_verdict())
    assert state.cached_verdict("h1", "c1", "offline:test", "v1").score == 7.5
    assert state.cached_verdict("h1", "c2", "offline:test", "v1") is None  # constitution edited
    assert state.cached_verdict("h2", "c1", "offline:test", "v1") is None  # new PDF version
    assert state.latest_verdict("a2023").decision is Decision.READ


def test_migrations_run_once_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    State(path).upsert_paper(Paper(key="a2023"))
    reopened = State(path)
    assert reopened.get("a2023") is not None
    names = [r[0] for r in reopened._db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == sorted(name for name, _ in MIGRATIONS)


def test_a_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is damaged"):
        State(path)


def _writer(path: str, prefix: str, n: int) -> None:
    state = State(Path(path))
    for i in range(n):
        key = f"{prefix}{i}"
        state.upsert_paper(Paper(key=key))
        state.set_status(key, Status.SKIM, actor="critic")
        state.save_verdict(_verdict(key=key, paper_hash=key))


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    State(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), p, 150)) for p in ("tui", "digest")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    state = State(path)
    assert state.counts() == {"skim": 300}
    assert all(len(state.history(f"{p}{i}")) == 1 for p in ("tui", "digest") for i in range(150))
    assert state._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
