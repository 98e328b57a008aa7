"""What went wrong under triage, by cause, before a hint is chosen: a full disk, a read-only one, a lock, a damage.

SQLite and the OS report the same few faults in many words ("disk I/O error",
"unable to open database file", ``EROFS``, ``ENOSPC``…), and the right advice
differs completely by cause: a full or read-only disk holds a healthy database
that must be left alone, while only a damaged one may be moved aside.  So every
error from the disk goes through ``cause_of`` first, which asks the error's own
code and then, for the vague ones, the file system itself (free space, the
read-only flag, write permission); ``disk_error`` then words it as a
``StoreError`` whose hint is safe to follow for that cause, and nothing else.

Causes, with the exit code each leads to (see ``triage.errors``):

* ``full`` — no space left (1: the reader frees space);
* ``read_only`` — a read-only file system, or a file or folder the user cannot
  write (1);
* ``locked`` — another process holds the database (3: try again later);
* ``corrupt`` — the file is damaged or not a database (1; the only cause whose
  hint moves a file aside, keeping it);
* ``not_a_folder`` — a path that should be a folder is a file (1);
* ``name_too_long`` — a path the file system cannot name (1);
* ``io`` — anything else the disk answered (1).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from triage.errors import StateUnavailable

__all__ = ["cause_of", "disk_error", "os_error", "free_bytes", "read_only_fs", "writable", "human_size",
           "FULL_BELOW_BYTES"]

#: A disk with less free space than this is taken as full when SQLite's error does not say why it failed.
FULL_BELOW_BYTES = 1024 * 1024

# SQLite's primary result codes (https://sqlite.org/rescode.html).
_SQLITE_CAUSE = {5: "locked", 6: "locked", 8: "read_only", 11: "corrupt", 13: "full", 26: "corrupt", 3: "read_only"}
_SQLITE_VAGUE = {10, 14}  # SQLITE_IOERR, SQLITE_CANTOPEN: ask the file system
_ERRNO_CAUSE = {
    errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EROFS: "read_only", errno.EACCES: "read_only",
    errno.EPERM: "read_only", errno.ENAMETOOLONG: "name_too_long", errno.ENOTDIR: "not_a_folder",
    errno.EEXIST: "not_a_folder",
}


def free_bytes(path: Path) -> int | None:
    """Bytes free for this user on the file system holding ``path`` (its nearest existing folder), if known."""
    probe = _existing(path)
    try:
        st = os.statvfs(probe)
    except (OSError, AttributeError):
        return None
    return st.f_bavail * st.f_frsize


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _existing(path: Path) -> Path:
    path = Path(path)
    for candidate in (path, *path.parents):
        try:
            if candidate.exists():
                return candidate
        except OSError:
            continue
    return Path("/")


def _probe(path: Path) -> str | None:
    """What the file system says about writing at ``path``: ``full``, ``read_only``, ``not_a_folder`` or None."""
    path = Path(path)
    where = _existing(path)
    folder = where if where.is_dir() else where.parent
    if where != path and not where.is_dir():
        return "not_a_folder"  # a path below a file
    if read_only_fs(folder):
        return "read_only"
    free = free_bytes(folder)
    if free is not None and free < FULL_BELOW_BYTES:
        return "full"
    if not os.access(folder, os.W_OK) or (_is_file(path) and not writable(path)):
        return "read_only"
    return None


def read_only_fs(path: Path) -> bool:
    """True when ``path`` is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(_existing(Path(path))).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def writable(path: Path) -> bool:
    """True when the file at ``path`` may be written: permitted, and not a file nobody may write (mode 0444).

    root passes ``os.access`` whatever the mode says; a file its owner made read-only is read-only to triage too.
    """
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return True
    return os.access(path, os.W_OK) and bool(mode & 0o222)


def cause_of(exc: BaseException, path: Path) -> str:
    """The cause of ``exc`` (an OSError or a SQLite error) met while using ``path``; see the module docstring."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        if primary in _SQLITE_CAUSE:
            return _SQLITE_CAUSE[primary]
        text = str(exc).lower()
        if primary is None:  # an older SQLite binding: only the words
            for words, cause in (("locked", "locked"), ("readonly", "read_only"), ("read-only", "read_only"),
                                 ("is full", "full"), ("malformed", "corrupt"), ("not a database", "corrupt")):
                if words in text:
                    return cause
        return _probe(path) or "io"
    if isinstance(exc, OSError):
        known = _ERRNO_CAUSE.get(exc.errno or 0)
        if known == "read_only" and exc.errno != errno.EROFS:
            return _probe(path) or known
        return known or _probe(path) or "io"
    text = str(exc).lower()  # other libraries' wrappers (Chroma's) keep only the words
    for words, cause in (("disk is full", "full"), ("no space", "full"), ("readonly", "read_only"),
                         ("read-only", "read_only"), ("locked", "locked"), ("malformed", "corrupt"),
                         ("not a database", "corrupt")):
        if words in text:
            return cause
    return _probe(path) or "io"


def disk_error(exc: BaseException, path: Path, what: str, *, damaged_hint: str = "") -> StateUnavailable:
    """``exc`` met while using ``path`` (``what`` names it: "the state database"), as one line and a safe hint.

    ``damaged_hint`` is what to do when the file itself is damaged (the state's
    and the index's repairs differ); no other cause ever suggests moving a file.
    """
    path = Path(path)
    cause = cause_of(exc, path)
    detail = _detail(exc)
    if cause == "name_too_long":
        return StateUnavailable(f"cannot use {what} {_shown(path)}: the path is too long for the file system "
                                f"({len(str(path))} characters)", hint="use a shorter path", cause=cause)
    folder = path if _is_dir(path) else path.parent
    if cause == "full":
        free = free_bytes(folder)
        shown = f" ({human_size(free)} free)" if free is not None else ""
        return StateUnavailable(f"cannot write {what} {path}: the disk is full{shown}",
                                hint=f"free some space on the disk that holds {folder}, then run again; "
                                     "nothing was lost", cause=cause)
    if cause == "read_only":
        return StateUnavailable(f"cannot write {what} {path}: it is read-only ({detail})",
                                hint="make it writable (or remount the disk read-write), or point --home / TRIAGE_HOME "
                                     "at a writable folder; the data in it is intact", cause=cause)
    if cause == "locked":
        return StateUnavailable(f"{what} {path} is locked by another process",
                                hint="another triage (a run, the digest, the TUI, the API) is writing: "
                                     "run again when it has finished", cause=cause)
    if cause == "corrupt":
        return StateUnavailable(f"{what} {path} is damaged ({detail})",
                                hint=damaged_hint or f"move it aside (mv {path} {path}.damaged) and run again; "
                                     "keep the damaged copy: it may still be recovered", cause=cause)
    if cause == "not_a_folder":
        blocker = _existing(path)
        return StateUnavailable(f"cannot use {what} {path}: {blocker} is a file, not a folder",
                                hint="point --home / TRIAGE_HOME at a folder, or move that file away", cause=cause)
    return StateUnavailable(f"cannot use {what} {path}: {detail}",
                            hint="check the disk (dmesg, fsck); the data was not changed", cause=cause)


def os_error(exc: OSError) -> StateUnavailable:
    """An OS error no stage had words for, worded by its cause, naming its file."""
    named = exc.filename
    path = Path(os.fsdecode(named)) if isinstance(named, (str, bytes, os.PathLike)) and named else Path.cwd()
    return disk_error(exc, path, "the file")


def _shown(path: Path) -> str:
    """A path short enough for a one-line message."""
    text = str(path)
    return text if len(text) <= 200 else f"{text[:100]}…{text[-60:]}"


def _detail(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def human_size(n: float) -> str:
    """A byte count as a reader says it: ``812 bytes``, ``6.8 KiB``, ``60.0 MiB``."""
    for unit in ("bytes", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
