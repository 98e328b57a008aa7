"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of either.

Every file triage writes for the reader — notes, snapshots, digests, the PDF
cache, traces — goes through here: the data goes to a temporary file, is
fsynced, takes the mode the file already had (or what a plain ``open()`` would
give under the umask: ``mkstemp``'s 0600 would hide a snapshot from the
reader's note app), and is renamed over the target; the folder is then fsynced
so the rename itself survives a power cut where the OS allows it.

The temporary file is hidden (``.note.md.<pid>.<random>.tmp``) and lives next
to the target, or in a folder of the caller's (the data home's ``tmp/``) when
that is on the same file system, so a vault sync never sees a half-made note.
A process killed between the temporary file and the rename leaves it behind:
its name says whose it was, and ``remove_stray_temps`` removes those of dead
processes (and any older than ``STALE_TEMP_S``) on the next write of that file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

__all__ = ["write_atomic", "temp_for", "replace", "fsync_dir", "default_mode", "remove_stray_temps", "no_interrupt",
           "STALE_TEMP_S"]

#: A temporary file older than this is stray whoever made it (a write takes well under a second).
STALE_TEMP_S = 3600.0
#: Without a process id in its name (triage before 0.1.1, or another machine's), stray after a minute.
STALE_ANONYMOUS_TEMP_S = 60.0


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


def _temp_folder(target: Path, temp_dir: Path | None) -> Path:
    """``temp_dir`` when a rename from it to ``target`` can be atomic (same file system), else ``target``'s folder."""
    if temp_dir is None:
        return target.parent
    try:
        Path(temp_dir).mkdir(parents=True, exist_ok=True)
        if os.stat(temp_dir).st_dev == os.stat(target.parent).st_dev:
            return Path(temp_dir)
    except OSError:
        pass
    return target.parent


def temp_for(target: Path, data: bytes, mode: int | None = None, *, temp_dir: Path | None = None) -> str:
    """Write ``data`` to a synced, hidden temporary file for ``target``, with ``mode``; returns its path.

    For callers that must check something before the rename (the note writer
    compares the note on disk with the version it read); the caller renames it
    with ``replace`` or removes it.
    """
    folder = _temp_folder(target, temp_dir)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
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


def replace(tmp: str, target: Path) -> None:
    """Rename ``tmp`` over ``target`` and make it durable; a temp another mount holds is copied beside first."""
    try:
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # same device number, different mounts (a bind mount): rename refuses
            raise
        with open(tmp, "rb") as f:
            data = f.read()
        beside = temp_for(target, data, stat.S_IMODE(os.stat(tmp).st_mode))
        os.unlink(tmp)
        try:
            os.replace(beside, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(beside)
            raise
    fsync_dir(target.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable, where the platform can."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(target: Path, data: bytes | str, mode: int | None = None, *, temp_dir: Path | None = None) -> None:
    """Replace ``target`` with ``data`` (str is written as UTF-8) in one rename, creating its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_for(target, data.encode("utf-8") if isinstance(data, str) else data, mode, temp_dir=temp_dir)
    try:
        replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _temp_name(target_name: str) -> re.Pattern[str]:
    # mkstemp's random part: 8 of [a-z0-9_]; triage before 0.1.1 wrote no process id.
    return re.compile(rf"^\.{re.escape(target_name)}\.(?:(\d+)\.)?[a-z0-9_]{{8}}\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_stray_temps(target: Path, *folders: Path | None) -> list[Path]:
    """Remove temporary files an interrupted write of ``target`` left in ``folders`` (default: its own folder).

    A temp file is stray when the process named in it is gone, or when it is
    older than ``STALE_TEMP_S`` (``STALE_ANONYMOUS_TEMP_S`` without a process
    id); a write in progress in another process is left alone.  Returns what
    was removed.
    """
    pattern = _temp_name(target.name)
    now = time.time()
    removed = []
    for folder in dict.fromkeys(f for f in (folders or (target.parent,)) if f is not None):
        try:
            names = [n for n in os.listdir(folder) if n.startswith(f".{target.name}.") and n.endswith(".tmp")]
        except OSError:
            continue
        for name in names:
            m = pattern.match(name)
            if not m:
                continue
            path = Path(folder) / name
            try:
                age = now - path.lstat().st_mtime
            except OSError:
                continue
            pid = int(m.group(1)) if m.group(1) else None
            if pid is None:
                stray = age > STALE_ANONYMOUS_TEMP_S
            else:
                stray = age > STALE_TEMP_S or (pid != os.getpid() and not _alive(pid))
            if stray:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed


@contextlib.contextmanager
def no_interrupt() -> Iterator[None]:
    """Hold ctrl-c back until the block is over, then raise it: for the few steps that must finish together.

    Only the main thread receives signals, so elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except (ValueError, OSError):  # no signals here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt
