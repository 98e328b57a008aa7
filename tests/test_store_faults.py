"""Full, read-only, damaged and unnameable storage, simulated at the OS and SQLite boundary, through the CLI.

``tests/test_faults.py`` makes real full and read-only disks on a tmpfs where
the kernel allows a mount namespace; these cases hold everywhere: SQLite's own
SQLITE_FULL (a page limit on the connection), a state file its owner made
read-only, ENOSPC and EROFS from the OS under the note writer, a damaged Chroma
store, a ``chroma`` path that is a file, a data home that is a file, a path the
file system cannot name.  Each must end in one line that says what happened,
with a hint that is safe to follow (never "move the database aside" for a
healthy one), the documented exit code, and the note untouched.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage import atomic
from triage.cli import app
from triage.config import Settings
from triage.state import State

KEY = "okaforRoutingAdaptersFrozen2024"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--offline", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def one_note(folder: Path, *keys: str) -> Path:
    note = folder / "note.md"
    note.write_text("## Context\n" + "".join(f"- @{k}\n" for k in keys) + "\n## Log\n", encoding="utf-8")
    return note


@pytest.fixture(scope="module")
def warm_home(tmp_path_factory: pytest.TempPathFactory, sample_papers: Path) -> Path:
    """A data home that has triaged one paper (state, index, caches): copied for each test."""
    home = tmp_path_factory.mktemp("warm") / "home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRIAGE_HOME", str(home))
        env.setenv("TRIAGE_CONFIG", str(home / "config.toml"))
        code, _, err = invoke("run", str(one_note(home.parent, KEY)), "--library", str(sample_papers / "library.bib"),
                              "--critic", "offline")
    assert code == 0, err
    return home


@pytest.fixture
def home(warm_home: Path, triage_home: Path) -> Path:
    shutil.rmtree(triage_home)
    shutil.copytree(warm_home, triage_home)
    return triage_home


def run(note: Path, library: Path) -> tuple[int, str, str]:
    return invoke("run", str(note), "--library", str(library), "--critic", "offline")


def said_once(err: str, words: str) -> bool:
    return sum(words in line for line in err.splitlines()) == 1


def test_sqlite_full_is_said_once_per_run_and_never_moves_the_state_aside(
    home: Path, workspace: Path, sample_papers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = State.__init__

    def no_room(self: State, path: Path) -> None:
        opened(self, path)
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL at the next new page

    monkeypatch.setattr(State, "__init__", no_room)
    note = workspace / "note.md"
    before = note.read_bytes()
    code, _, err = run(note, sample_papers / "library.bib")
    assert code == 1 and "Traceback" not in err
    assert said_once(err, "the disk is full"), err  # once per run, not once per paper
    assert "aside" not in err and "nothing was lost" in err
    assert note.read_bytes() == before


def test_a_read_only_state_file_is_one_line_for_run_and_drop_and_still_reads(
    home: Path, workspace: Path, sample_papers: Path
) -> None:
    db = home / "triage.sqlite3"
    db.chmod(0o444)
    note = workspace / "note.md"
    before = note.read_bytes()
    code, _, err = run(note, sample_papers / "library.bib")
    assert code == 1 and "Traceback" not in err and said_once(err, "is read-only"), err
    assert "aside" not in err and note.read_bytes() == before
    code, _, err = invoke("drop", KEY)
    assert code == 1 and "Traceback" not in err and said_once(err, "is read-only") and "aside" not in err
    code, out, _ = invoke("history", KEY)  # reading needs no write
    assert code == 0 and "read" in out


def test_a_damaged_state_file_is_the_one_case_told_to_move_it_aside(home: Path) -> None:
    (home / "triage.sqlite3").write_bytes(b"this is not a database, it is a damaged file" * 100)
    for suffix in ("-wal", "-shm"):
        (home / f"triage.sqlite3{suffix}").unlink(missing_ok=True)
    code, _, err = invoke("history", KEY)
    assert code == 1 and "Traceback" not in err
    assert "is damaged" in err and "mv " in err and ".damaged" in err and "keep the damaged copy" in err


@pytest.mark.parametrize("errno_, words", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only")])
def test_the_os_refusing_the_notes_temporary_file_is_one_line_and_the_note_is_untouched(
    errno_: int, words: str, home: Path, tmp_path: Path, sample_papers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int) -> None:
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr(atomic.os, "fsync", refuse)
    note = one_note(tmp_path, KEY)
    before = note.read_bytes()
    code, _, err = run(note, sample_papers / "library.bib")
    assert code == 1 and "Traceback" not in err and said_once(err, words), err
    assert "aside" not in err and "the note was left as it was" in err
    assert note.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert not [p for p in (home / "tmp").iterdir()] if (home / "tmp").exists() else True


def test_a_data_home_that_is_a_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("TRIAGE_HOME", str(home))
    for args in (["status"], ["run", str(one_note(tmp_path, KEY)), "--critic", "offline"]):
        code, _, err = invoke(*args)
        assert code == 1 and "Traceback" not in err and f"{home} is a file, not a folder" in err, err


def test_a_path_too_long_to_name_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / "/".join(["d" * 200] * 25) / "note.md"  # ~5,000 characters: ENAMETOOLONG
    code, _, err = invoke("run", str(deep), "--critic", "offline")
    assert code == 1 and "Traceback" not in err and "too long" in err and len(err.splitlines()) <= 2, err
    assert max(len(line) for line in err.splitlines()) < 400  # the path is shortened in the message
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path / ("h" * 5000)))
    code, _, err = invoke("status")
    assert code == 1 and "Traceback" not in err and "too long" in err


# -- the search index -------------------------------------------------------------------------------


def damage_index(home: Path) -> None:
    store = home / "chroma" / "chroma.sqlite3"
    assert store.is_file()
    store.write_bytes(b"\0garbage" * 4096)


def test_a_damaged_index_costs_the_search_not_the_run_and_reindex_repairs_it(
    home: Path, workspace: Path, sample_papers: Path
) -> None:
    damage_index(home)
    note = workspace / "note.md"
    code, _, err = run(note, sample_papers / "library.bib")
    assert code == 1 and "Traceback" not in err  # 1: the sample names one unknown key on purpose
    assert "[skim(@okaforRoutingAdaptersFrozen2024)]" in note.read_text(encoding="utf-8")
    assert said_once(err, "the search index was not updated") and "triage reindex" in err
    assert "chroma_url" not in err
    code, _, err = invoke("search", "routing adapters")
    assert code == 1 and "triage reindex" in err and "chroma_url" not in err and "Traceback" not in err

    code, _, err = invoke("reindex")
    assert code == 0, err
    aside = [p for p in home.iterdir() if p.name.startswith("chroma.damaged-")]
    assert len(aside) == 1 and (aside[0] / "chroma.sqlite3").read_bytes().startswith(b"\0garbage")  # kept
    assert "moved aside" in err and "reindexed" in err
    code, out, err = invoke("search", "routing adapters", "--json")
    assert code == 0 and KEY in out, err


def test_a_chroma_path_that_is_a_file_is_repaired_by_reindex(home: Path) -> None:
    shutil.rmtree(home / "chroma")
    (home / "chroma").write_text("oops", encoding="utf-8")
    code, _, err = invoke("search", "routing adapters")
    assert code == 1 and "Errno" not in err and "is a file, not a folder" in err and "triage reindex" in err
    code, _, err = invoke("reindex")
    assert code == 0, err
    assert (home / "chroma").is_dir()
    code, out, _ = invoke("search", "routing adapters", "--json")
    assert code == 0 and KEY in out


def test_a_full_disk_under_the_index_is_not_called_damage(tmp_path: Path) -> None:
    from triage.embeddings import Embedder
    from triage.index import Index

    index = Index(Settings(home=tmp_path), Embedder.__new__(Embedder))
    error = index._error(OSError(errno.ENOSPC, "No space left on device"))
    assert "full" in error.message and "reindex" not in error.hint and "aside" not in error.hint
