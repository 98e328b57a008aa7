"""Helpers for the fault-injection tests: run `triage` in a child process and hurt it, then judge what is left.

Three ways to hurt a run:

* a signal (kill -9 or ctrl-c) at a random moment, or at a named point of the
  note's write window: a driver (``DRIVER``) wraps one function of
  ``triage.notes`` so that, once it has run, the child writes a marker file and
  pauses; the test signals it when the marker appears;
* a full disk: the data home and the note on a small tmpfs, filled up to a few
  bytes of free space;
* a read-only disk: the same tmpfs, remounted read-only before the run.

A tmpfs needs a mount namespace: ``unshare --user --map-root-user --mount``
gives one without privileges where the kernel allows unprivileged user
namespaces (and to root everywhere).  The mount exists only inside it, so the
whole case (mount, prepare, run, collect) runs there, in ``python -m
tests.fault_support SPEC.json``, and leaves its results in a folder outside the
tmpfs.  Where no namespace can be made, ``mount_available`` says why and those
cases skip.

``note_invariant`` is the property every case must keep: the note holds its
original bytes, or its original bytes with complete entries inserted at the
end of ``## Log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The child process for a window fault: ``FAULT_AT`` names a function of triage.notes; once it has returned,
#: the child writes ``FAULT_MARKER`` and sleeps ``FAULT_PAUSE`` seconds, so a signal lands right there.
DRIVER = """
import os, sys, time
from pathlib import Path
import triage.notes as notes
where, marker, pause = os.environ["FAULT_AT"], Path(os.environ["FAULT_MARKER"]), float(os.environ["FAULT_PAUSE"])
real = getattr(notes, where)
def paused(*args, **kwargs):
    result = real(*args, **kwargs)
    marker.write_text(where)
    time.sleep(pause)
    return result
setattr(notes, where, paused)
from triage.__main__ import main
sys.argv = ["triage", *sys.argv[1:]]
main()
"""

#: Points of the note's write window: the temporary file written; the backup taken; the rename done.
WINDOW = ("_write_tmp", "_backup", "replace")


def child_env(home: Path) -> dict[str, str]:
    """The environment of a child ``triage``: its own data home and config, no LLM endpoint, offline models."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(TRIAGE_HOME=str(home), TRIAGE_CONFIG=str(home / "config.toml"), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(REPO))
    return env


def run_args(note: Path, library: Path) -> list[str]:
    """``triage run`` over the sample library, offline critic."""
    return ["--offline", "run", str(note), "--library", str(library), "--critic", "offline"]


@dataclass
class Outcome:
    """How a child ended: exit code (negative: killed by that signal), stdout, stderr."""

    code: int
    out: str = ""
    err: str = ""


def start(args: list[str], env: dict[str, str], *, fault_at: str | None = None, marker: Path | None = None,
          pause: float = 30.0) -> subprocess.Popen:
    """Start ``triage ARGS`` (through the driver when ``fault_at`` names a point of the write window)."""
    if fault_at is None:
        command = [sys.executable, "-m", "triage", *args]
    else:
        assert marker is not None
        env = {**env, "FAULT_AT": fault_at, "FAULT_MARKER": str(marker), "FAULT_PAUSE": str(pause)}
        command = [sys.executable, "-c", DRIVER, *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(child: subprocess.Popen, timeout: float = 180.0) -> Outcome:
    """Wait for the child; its exit code and output."""
    out, err = child.communicate(timeout=timeout)
    return Outcome(child.returncode, out, err)


def signal_at_marker(child: subprocess.Popen, marker: Path, signum: int, timeout: float = 180.0) -> bool:
    """Send ``signum`` once ``marker`` exists; False if the child ended first."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if child.poll() is not None:
            return False
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"{marker.name} never appeared")
        time.sleep(0.01)
    child.send_signal(signum)
    return True


def signal_after(child: subprocess.Popen, delay: float, signum: int) -> bool:
    """Send ``signum`` after ``delay`` seconds; False if the child ended first."""
    try:
        child.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        child.send_signal(signum)
        return True


# -- what is left ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    """Whether the note kept the invariant, and how many of its original bytes are gone if not."""

    ok: bool
    bytes_lost: int
    why: str = ""


def note_invariant(original: bytes, after: bytes) -> Verdict:
    """The note holds ``original``, or ``original`` with complete entries inserted at the end of ``## Log``."""
    from triage.notes import parse

    if after == original:
        return Verdict(True, 0)
    prefix = 0
    limit = min(len(original), len(after))
    while prefix < limit and original[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and original[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    kept = prefix + suffix
    if kept < len(original):
        return Verdict(False, len(original) - kept, "original bytes changed or missing")
    try:
        before_text, after_text = original.decode("utf-8"), after.decode("utf-8")
    except UnicodeDecodeError:
        return Verdict(False, 0, "the note is no longer UTF-8")
    # Where the entries may go: right after the last non-blank line of ## Log (insert_into_section).
    from triage.notes import insert_into_section

    probe = insert_into_section(before_text, "Log", ["- [skim(@probe2020)]\n"])
    where = next(i for i, (a, b) in enumerate(zip(probe, before_text + "\0")) if a != b)
    inserted = after_text[len(before_text[:where]): len(after_text) - len(before_text[where:])]
    if after_text != before_text[:where] + inserted + before_text[where:]:
        return Verdict(False, 0, "text was added somewhere else than the end of ## Log")
    added = parse("## Log\n" + inserted).entries
    if not added or any(not line.startswith(("- [", "  ")) for line in inserted.splitlines() if line.strip()):
        return Verdict(False, 0, f"what was added is not whole entries: {inserted[:200]!r}")
    for entry in added:
        # A critic's entry is whole when it ends in its verdict line (skim) or says who promoted it (read).
        complete = entry.children and (entry.children[-1].strip().startswith("- triage:")
                                       or entry.children[-1].strip().startswith("- promoted by the critic"))
        if not complete:
            return Verdict(False, 0, f"entry @{entry.key} is incomplete")
    return Verdict(True, 0)


def history(db: Path) -> list[tuple]:
    """Every transition in a state database (an empty list when there is none), after SQLite's own recovery."""
    if not db.exists():
        return []
    # Closed here, not whenever the garbage collector gets to it: the last connection to close removes the
    # WAL files, which must not vanish under a later case's copy of this home.
    with contextlib.closing(sqlite3.connect(db)) as connection:
        ok = connection.execute("PRAGMA integrity_check").fetchone()[0]
        assert ok == "ok", f"{db} fails its integrity check: {ok}"
        return connection.execute("SELECT id, key, old, new, actor FROM transitions ORDER BY id").fetchall()


def stray_temps(*folders: Path) -> list[Path]:
    """Temporary files of triage's atomic writes (``.name.<pid>.<random>.tmp``) in ``folders``."""
    return [p for folder in folders if folder.is_dir() for p in folder.iterdir()
            if p.name.startswith(".") and p.name.endswith(".tmp")]


@dataclass
class Tally:
    """Cases tried, passed, and original note bytes lost, for the closing report."""

    tried: int = 0
    passed: int = 0
    bytes_lost: int = 0
    failures: list[str] = field(default_factory=list)

    def record(self, name: str, passed: bool, bytes_lost: int = 0, why: str = "") -> None:
        """One case's result."""
        self.tried += 1
        self.passed += passed
        self.bytes_lost += bytes_lost
        if not passed:
            self.failures.append(f"{name}: {why}")

    def line(self) -> str:
        """The summary the closing note quotes."""
        return f"fault injection: {self.tried} cases tried, {self.passed} passed, {self.bytes_lost} note bytes lost"


# -- a tmpfs in a mount namespace ----------------------------------------------------------------

UNSHARE = ["unshare", "--user", "--map-root-user", "--mount"]


@cache
def mount_available() -> str:
    """'' when a small tmpfs can be mounted in a new mount namespace here, else why not."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount is not installed"
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"triage-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run([*UNSHARE, "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe} && touch {probe}/x"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if done.returncode != 0:
        return f"no mount namespace for an unprivileged tmpfs here: {done.stderr.strip()[:200]}"
    return ""


def in_tmpfs(spec: dict, work: Path, timeout: float = 240.0) -> dict:
    """Run one case on a tmpfs (``spec``: see ``_case``); returns its result (code, out, err, note bytes…)."""
    work.mkdir(parents=True, exist_ok=True)
    spec = {**spec, "out": str(work), "mount": str(work / "mnt")}
    spec_file = work / "spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run([*UNSHARE, sys.executable, "-m", "tests.fault_support", str(spec_file)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    result_file = work / "result.json"
    if not result_file.exists():
        raise AssertionError(f"the tmpfs case did not finish: {done.stderr[-2000:]}")
    return json.loads(result_file.read_text(encoding="utf-8"))


def _case(spec_file: Path) -> None:
    """Inside the namespace: mount, prepare, fill or freeze, run triage, collect what is left."""
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    mount, out = Path(spec["mount"]), Path(spec["out"])
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={spec['size']}", "tmpfs", str(mount)], check=True)
    home, notes = mount / "home", mount / "notes"
    shutil.copytree(spec["home"], home)
    notes.mkdir()
    note = notes / "note.md"
    shutil.copyfile(spec["note"], note)
    if spec.get("leave") is not None:
        st = os.statvfs(mount)
        room = st.f_bavail * st.f_frsize - int(spec["leave"])
        with open(mount / "filler", "wb") as f:
            while room > 0:
                chunk = min(room, 1 << 20)
                try:
                    f.write(b"\0" * chunk)
                    f.flush()
                except OSError:
                    break
                room -= chunk
    if spec.get("read_only"):
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    args = [a.replace("{note}", str(note)) for a in spec["args"]]
    child = subprocess.run([sys.executable, "-m", "triage", *args], env=child_env(home), capture_output=True,
                           text=True, timeout=200)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(note, out / "note.md")
    for name in ("triage.sqlite3", "triage.sqlite3-wal"):
        if (home / name).exists():
            shutil.copyfile(home / name, out / name)
    result = {"code": child.returncode, "out": child.stdout, "err": child.stderr,
              "temps": [p.name for p in stray_temps(notes, home / "tmp")]}
    (out / "result.json").write_text(json.dumps(result), encoding="utf-8")


def kill_quietly(child: subprocess.Popen) -> None:
    """Make sure a child is gone (a failed test must not leave one running)."""
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
        child.wait()


if __name__ == "__main__":
    _case(Path(sys.argv[1]))
