"""Calibration: thresholds fitted to the reader's decisions, agreement measures, writing them back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.calibrate import balanced_accuracy, calibrate, cohen_kappa, write_thresholds
from triage.cli import app
from triage.critic.constitution import default_constitution_path, load_constitution
from triage.errors import ConfigError
from triage.models import Decision, Paper, PrincipleScore, Status, Verdict
from triage.state import State

R, S, D = Decision.READ, Decision.SKIM, Decision.DROP

# (score the critic gave, what the reader did): the reader promotes from 5.5 up and drops below 4.
HISTORY = [(8.0, R), (7.5, R), (7.0, R), (5.5, R), (5.0, S), (4.5, S), (3.8, D), (2.0, D)]


def verdict(key: str, score: float, constitution) -> Verdict:
    principles = [
        PrincipleScore(id=p.id, weight=p.weight, score=10 - score if p.against else score) for p in constitution.principles
    ]
    return Verdict(key=key, decision=constitution.decide(score), score=score, confidence=0.5, critic="offline:x",
                   principles=principles, constitution_hash=constitution.hash)


def fill(state: State, constitution) -> None:
    for i, (score, reader) in enumerate(HISTORY):
        key = f"p{i}"
        state.upsert_paper(Paper(key=key, title=key))
        state.save_verdict(verdict(key, score, constitution))
        state.set_status(key, constitution.decide(score).status, actor="critic")
        target = reader.status
        state.set_status(key, target, actor="reader", reason="reader decision")


def test_measures():
    assert balanced_accuracy([R, R, S, D], [R, R, S, D]) == 1.0
    assert balanced_accuracy([R, R, R, D], [R, R, R, R]) == 0.5  # "always read" is not rewarded
    assert cohen_kappa([R, S, D], [R, S, D]) == 1.0
    assert cohen_kappa([R, R, S, S], [R, S, R, S]) == pytest.approx(0.0)


def test_calibration_fits_the_readers_thresholds(tmp_path: Path):
    constitution = load_constitution()
    state = State(tmp_path / "s.sqlite3")
    fill(state, constitution)
    result = calibrate(state, constitution)
    assert len(result.samples) == 8 and result.counts == {"read": 4, "skim": 2, "drop": 2}
    assert (result.current.promote_at, result.current.drop_below) == (6.0, 3.5)
    assert result.current.balanced_accuracy < 1.0
    assert result.calibrated.balanced_accuracy == 1.0 and result.calibrated.kappa == 1.0
    assert 5.0 < result.calibrated.promote_at <= 5.5 and 3.8 < result.calibrated.drop_below <= 4.5
    # An undone decision is not the reader's.
    state.undo("p3")
    assert {s.key for s in calibrate(state, constitution).samples} == {f"p{i}" for i in range(8)} - {"p3"}


def test_too_few_decisions_is_a_clear_error(tmp_path: Path):
    state = State(tmp_path / "s.sqlite3")
    with pytest.raises(ConfigError, match="not enough reader decisions"):
        calibrate(state, load_constitution())


def test_write_thresholds_changes_only_those_lines(tmp_path: Path):
    path = tmp_path / "c.md"
    original = default_constitution_path().read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    write_thresholds(path, 5.25, 4.0)
    new = path.read_text(encoding="utf-8")
    assert new == original.replace("promote_at: 6.0", "promote_at: 5.25").replace("drop_below: 3.5", "drop_below: 4")
    c = load_constitution(path)
    assert (c.promote_at, c.drop_below) == (5.25, 4.0)
    # A file without threshold lines gets them before the first principle.
    bare = tmp_path / "bare.md"
    bare.write_text("# Mine\n\n## a (weight 1)\nx\n", encoding="utf-8")
    write_thresholds(bare, 7, 2)
    assert bare.read_text() == "# Mine\n\npromote_at: 7\ndrop_below: 2\n\n## a (weight 1)\nx\n"


def test_cli_calibrate_json_and_write(tmp_path: Path, triage_home: Path, monkeypatch):
    constitution_file = tmp_path / "constitution.md"
    shutil.copy(default_constitution_path(), constitution_file)
    monkeypatch.setenv("TRIAGE_CONSTITUTION", str(constitution_file))
    constitution = load_constitution(constitution_file)
    triage_home.mkdir(parents=True, exist_ok=True)
    state = State(triage_home / "triage.sqlite3")
    fill(state, constitution)
    state.close()

    result = CliRunner().invoke(app, ["calibrate", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["calibrated"]["balanced_accuracy"] == 1.0 and data["current"]["promote_at"] == 6.0

    result = CliRunner().invoke(app, ["calibrate", "--write"])
    assert result.exit_code == 0, result.stderr
    assert "calibrated" in result.stdout and "kappa" in result.stdout
    assert load_constitution(constitution_file).promote_at == data["calibrated"]["promote_at"]


def test_status_mapping_counts_done_as_read(tmp_path: Path):
    constitution = load_constitution()
    state = State(tmp_path / "s.sqlite3")
    state.upsert_paper(Paper(key="k"))
    state.save_verdict(verdict("k", 7.0, constitution))
    state.set_status("k", Status.DONE, actor="reader")
    from triage.calibrate import labels_from_state

    assert labels_from_state(state) == {"k": (R, "state")}


def test_a_paper_decided_by_hand_is_scored_by_score_of(tmp_path: Path):
    constitution = load_constitution()
    state = State(tmp_path / "s.sqlite3")
    fill(state, constitution)
    state.record_decision(Paper(key="byhand2024", abstract="Adapters."), Status.READ, source="note")
    state.record_decision(Paper(key="notext2024"), Status.SKIM, source="note")
    result = calibrate(state, constitution, lambda paper: 9.0 if paper.abstract else None)
    by_key = {s.key: s for s in result.samples}
    assert by_key["byhand2024"].score == 9.0 and by_key["byhand2024"].source == "note"
    assert result.unscored == ["notext2024"]
