"""Fault injection over `triage run`: kill -9 and ctrl-c at random moments and inside the note's write window,
a full disk and a read-only one.

After every case the note holds its original bytes, or its original bytes with
complete entries at the end of ``## Log``; the state's history is all still
there (and passes SQLite's integrity check); a ctrl-c ends with exit 130 and the
one line ``interrupted``; a full or read-only disk ends with one line that says
so, exit 1, and never the advice to move a healthy database aside.  No
temporary file is left next to the note, and one an interrupted write left in
the data home is gone after the next write.

The random moments come from ``TRIAGE_FAULT_SEED`` (printed on failure), else
a fresh seed.  The full and read-only disks need a tmpfs in a mount namespace
(``tests/fault_support.py``); where the kernel refuses one, those cases skip and
``tests/test_store_faults.py`` covers the same paths by simulating ENOSPC and
EROFS at the OS and SQLite boundary.  ``make test-faults`` runs this module alone
and prints the tally (cases tried / passed / note bytes lost).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.fault_support import (
    WINDOW,
    Tally,
    child_env,
    finish,
    history,
    in_tmpfs,
    kill_quietly,
    mount_available,
    note_invariant,
    run_args,
    signal_after,
    signal_at_marker,
    start,
    stray_temps,
)

pytestmark = pytest.mark.xdist_group("faults")  # one warm-up, on one worker

SEED = int(os.environ.get("TRIAGE_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
#: Random moments per kind of signal: 2 inside `make test` (the module then adds about a minute), more with
#: ``make test-faults`` (TRIAGE_FAULT_CASES=N).
RANDOM_CASES = int(os.environ.get("TRIAGE_FAULT_CASES") or 2)
#: ``make test-faults`` tries every point of the write window and every fill level; ``make test`` a subset
#: that still crosses each kind of fault (about a minute on two cores).
THOROUGH = RANDOM_CASES > 2
TALLY = Tally()
SAMPLE_NOTE = Path(__file__).parents[1] / "data" / "sample" / "reading-session.md"


@pytest.fixture(scope="module", autouse=True)
def tally():
    """Print the tally when the module is done (``make test-faults`` shows it; ``TRIAGE_FAULT_REPORT`` keeps it)."""
    yield TALLY
    line = f"{TALLY.line()} (seed {SEED})"
    sys.__stdout__.write(f"\n{line}\n" + "".join(f"  failed: {f}\n" for f in TALLY.failures))
    if report := os.environ.get("TRIAGE_FAULT_REPORT"):
        Path(report).write_text(line + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory, sample_papers: Path) -> dict:
    """A data home that has triaged the sample note's papers in another note (caches filled, history in the
    state), and how long an unhurt run of the sample note takes on a copy of it.

    Every case then runs on warm caches: a run is seconds, not a minute of PDF extraction and embedding, and
    still goes through every step that writes (the state, the index, the snapshot, the note).
    """
    from triage.notes import parse

    root = tmp_path_factory.mktemp("faults")
    home = root / "home"
    library = sample_papers / "library.bib"
    original = SAMPLE_NOTE.read_bytes()
    keys = dict.fromkeys(m.key for m in parse(original.decode("utf-8")).mentions)
    first = root / "first.md"
    first.write_text("## Context\n" + "".join(f"- @{k}\n" for k in keys) + "\n## Log\n", encoding="utf-8")
    done = finish(start(run_args(first, library), child_env(home)))
    assert done.code == 1 and "Traceback" not in done.err, done.err  # the sample names one unknown key on purpose
    control = root / "control"
    shutil.copytree(home, control / "home")
    (control / "note.md").write_bytes(original)
    started = time.monotonic()
    done = finish(start(run_args(control / "note.md", library), child_env(control / "home")))
    duration = time.monotonic() - started
    assert done.code == 1 and "Traceback" not in done.err  # the sample names one unknown key on purpose
    assert note_invariant(original, (control / "note.md").read_bytes()).ok
    assert (control / "note.md").read_bytes() != original
    return {"home": home, "library": library, "original": original, "duration": duration,
            "history": history(home / "triage.sqlite3")}


def case(warm: dict, tmp_path: Path) -> tuple[Path, Path]:
    """A fresh copy of the warm home and of the original note for one case."""
    home = tmp_path / "home"
    shutil.copytree(warm["home"], home)
    note = tmp_path / "notes" / "note.md"
    note.parent.mkdir()
    note.write_bytes(warm["original"])
    return home, note


def judge(name: str, warm: dict, note_bytes: bytes, db: Path, *, problems: list[str] | None = None) -> None:
    """Check the note invariant and the history; record the case in the tally; fail with the seed."""
    verdict = note_invariant(warm["original"], note_bytes)
    why = [] if verdict.ok else [verdict.why]
    now = history(db)
    if now[: len(warm["history"])] != warm["history"]:
        why.append("history lost")
    why += problems or []
    TALLY.record(name, not why, verdict.bytes_lost, "; ".join(why))
    assert not why, f"{name} (TRIAGE_FAULT_SEED={SEED}): {'; '.join(why)}"


def output_problems(err: str) -> list[str]:
    return ["a traceback on stderr"] if "Traceback" in err else []


# -- kill -9 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(RANDOM_CASES))
def test_a_kill_at_a_random_moment_loses_nothing(n: int, warm: dict, tmp_path: Path) -> None:
    home, note = case(warm, tmp_path)
    delay = random.Random(SEED + n).uniform(0.2, warm["duration"] * 1.1)
    child = start(run_args(note, warm["library"]), child_env(home))
    try:
        signal_after(child, delay, signal.SIGKILL)
        finish(child)
    finally:
        kill_quietly(child)
    problems = [f"temporary file left next to the note: {p.name}" for p in stray_temps(note.parent)]
    judge(f"kill -9 at {delay:.2f}s", warm, note.read_bytes(), home / "triage.sqlite3", problems=problems)


@pytest.mark.parametrize("point", WINDOW if THOROUGH else (WINDOW[0], WINDOW[2]))
def test_a_kill_inside_the_write_window_loses_nothing_and_the_next_write_cleans_up(
    point: str, warm: dict, tmp_path: Path
) -> None:
    home, note = case(warm, tmp_path)
    marker = tmp_path / "marker"
    child = start(run_args(note, warm["library"]), child_env(home), fault_at=point, marker=marker)
    try:
        assert signal_at_marker(child, marker, signal.SIGKILL)
        finish(child)
    finally:
        kill_quietly(child)
    problems = [f"temporary file left next to the note: {p.name}" for p in stray_temps(note.parent)]
    judge(f"kill -9 after {point}", warm, note.read_bytes(), home / "triage.sqlite3", problems=problems)
    if point != "_write_tmp":
        return
    # The killed write left its temporary file in the data home (never in the vault); the next write removes it.
    assert stray_temps(home / "tmp")
    again = finish(start(run_args(note, warm["library"]), child_env(home)))
    problems = output_problems(again.err)
    problems += [f"stray temporary file not removed: {p.name}" for p in stray_temps(note.parent, home / "tmp")]
    if note.read_bytes() == warm["original"]:
        problems.append("the run after the kill wrote nothing")
    judge("the run after a kill -9 after _write_tmp", warm, note.read_bytes(), home / "triage.sqlite3",
          problems=problems)


# -- ctrl-c -------------------------------------------------------------------------------------------


def interrupted_problems(code: int, err: str) -> list[str]:
    problems = output_problems(err)
    if code == 130 and err.strip() != "interrupted":
        problems.append(f"ctrl-c said more than one line: {err.strip()[-300:]!r}")
    if code not in (130, 1):  # 1: the run finished first (the sample names one unknown key)
        problems.append(f"exit {code} after ctrl-c: {err.strip()[-600:]!r}")
    return problems


@pytest.mark.parametrize("n", range(RANDOM_CASES))
def test_ctrl_c_at_a_random_moment_says_one_line_and_loses_nothing(n: int, warm: dict, tmp_path: Path) -> None:
    home, note = case(warm, tmp_path)
    # From half a second on: before that the interpreter itself is starting (a ctrl-c there is Python's own,
    # before any of triage's code can take charge of it).
    delay = random.Random(SEED - 1 - n).uniform(0.5, warm["duration"] * 1.1)
    child = start(run_args(note, warm["library"]), child_env(home))
    try:
        signal_after(child, delay, signal.SIGINT)
        done = finish(child)
    finally:
        kill_quietly(child)
    judge(f"ctrl-c at {delay:.2f}s", warm, note.read_bytes(), home / "triage.sqlite3",
          problems=interrupted_problems(done.code, done.err) + [
              f"temporary file left: {p.name}" for p in stray_temps(note.parent, home / "tmp")])


@pytest.mark.parametrize("point", WINDOW[:2] if THOROUGH else WINDOW[:1])
def test_ctrl_c_inside_the_write_window_waits_for_the_write(point: str, warm: dict, tmp_path: Path) -> None:
    home, note = case(warm, tmp_path)
    marker = tmp_path / "marker"
    child = start(run_args(note, warm["library"]), child_env(home), fault_at=point, marker=marker, pause=1.0)
    try:
        assert signal_at_marker(child, marker, signal.SIGINT)
        done = finish(child)
    finally:
        kill_quietly(child)
    problems = interrupted_problems(done.code, done.err)
    if done.code != 130:
        problems.append(f"exit {done.code}, not 130")
    if note.read_bytes() == warm["original"]:
        problems.append("the write was abandoned half-way instead of finished")
    problems += [f"temporary file left: {p.name}" for p in stray_temps(note.parent, home / "tmp")]
    judge(f"ctrl-c after {point}", warm, note.read_bytes(), home / "triage.sqlite3", problems=problems)


# -- a full disk, a read-only disk ------------------------------------------------------------------


def needs_mount() -> None:
    if why := mount_available():
        pytest.skip(why)


def tmpfs_run(warm: dict, tmp_path: Path, **spec: object) -> tuple[dict, bytes]:
    """`triage run` of a copy of the warm home and note on a tmpfs just big enough (``spec``: leave, read_only)."""
    needs_mount()
    note = tmp_path / "original.md"
    note.write_bytes(warm["original"])
    size = sum(p.stat().st_size for p in warm["home"].rglob("*") if p.is_file()) + 1024 * 1024
    result = in_tmpfs({"size": size, "home": str(warm["home"]), "note": str(note), **spec,
                       "args": run_args(Path("{note}"), warm["library"])}, tmp_path / "case")
    return result, (tmp_path / "case" / "note.md").read_bytes()


def disk_problems(result: dict, words: str) -> list[str]:
    err = result["err"]
    problems = output_problems(err)
    if result["code"] != 1:
        problems.append(f"exit {result['code']}, not 1")
    said = [line for line in err.splitlines() if words in line]
    if len(said) > 1:
        problems.append(f"{words!r} said {len(said)} times (once per paper?)")
    if "aside" in err:
        problems.append("the hint moves a healthy database aside")
    if result["temps"]:
        problems.append(f"temporary files left: {result['temps']}")
    return problems


@pytest.mark.parametrize("leave", [0, 16 * 1024, 96 * 1024, 320 * 1024] if THOROUGH else [0, 16 * 1024, 96 * 1024])
def test_a_full_disk_is_said_once_and_loses_nothing(leave: int, warm: dict, tmp_path: Path) -> None:
    result, after = tmpfs_run(warm, tmp_path, leave=leave)
    problems = disk_problems(result, "disk is full")
    full = "disk is full" in result["err"]
    if leave == 0 and not full:
        problems.append(f"a disk with no room left was not said to be full: {result['err'][-400:]!r}")
    if not full and after == warm["original"]:
        problems.append("the run neither finished nor said the disk was full")
    judge(f"full disk ({leave} bytes left)", warm, after, tmp_path / "case" / "triage.sqlite3", problems=problems)


def test_a_read_only_disk_is_said_once_and_changes_nothing(warm: dict, tmp_path: Path) -> None:
    result, after = tmpfs_run(warm, tmp_path, read_only=True)
    problems = disk_problems(result, "read-only")
    if "read-only" not in result["err"]:
        problems.append(f"a read-only disk was not said to be read-only: {result['err'][-400:]!r}")
    if after != warm["original"]:
        problems.append("the note changed on a read-only disk")
    judge("read-only disk", warm, after, tmp_path / "case" / "triage.sqlite3", problems=problems)
