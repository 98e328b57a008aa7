"""Atomic writes: old or new content, never half; modes as the reader expects; nothing left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from triage.atomic import write_atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "asset" / "key_conclusion.png", b"png")  # the folder is made too
    finally:
        os.umask(old)
    assert mode(tmp_path / "asset" / "key_conclusion.png") == 0o644  # a note app must be able to show it


def test_an_existing_file_keeps_its_mode_and_gets_the_new_content(tmp_path: Path) -> None:
    target = tmp_path / "note.md"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    write_atomic(target, "néw")
    assert target.read_bytes() == "néw".encode() and mode(target) == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "digest.md"
    target.write_text("old", encoding="utf-8")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["digest.md"]
