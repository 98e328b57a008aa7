"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of either.

Every file triage writes for the reader — notes, snapshots, digests, the PDF
cache, traces — goes through here: the data goes to a temporary file in the
same folder, is fsynced, takes the mode the file already had (or what a plain
``open()`` would give under the umask: ``mkstemp``'s 0600 would hide a snapshot
from the reader's note app), and is renamed over the target; the folder is then
fsynced so the rename itself survives a power cut where the OS allows it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from functools import cache
from pathlib import Path

__all__ = ["write_atomic", "temp_beside", "fsync_dir", "default_mode"]


@cache
def _umask() -> int:
    # os.umask can only be read by setting it, which races with other threads creating files: ask /proc first.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    current = os.umask(0o022)
    os.umask(current)
    return current


def default_mode(target: Path) -> int:
    """The mode ``target`` has now, else what ``open()`` would create it with."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def temp_beside(target: Path, data: bytes, mode: int | None = None) -> str:
    """Write ``data`` to a synced temporary file next to ``target``, with ``mode``; returns its path.

    For callers that must check something before the rename (the note writer
    compares the note on disk with the version it read); the caller renames or
    removes it.
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # some mounts refuse chmod; the content matters more than the mode
            os.chmod(tmp, default_mode(target) if mode is None else mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable, where the platform can."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(target: Path, data: bytes | str, mode: int | None = None) -> None:
    """Replace ``target`` with ``data`` (str is written as UTF-8) in one rename, creating its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(target, data.encode("utf-8") if isinstance(data, str) else data, mode)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)
