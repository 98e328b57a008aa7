"""Reading notes: parse them, and add to them without touching a byte the reader wrote.

The notes are the reader's thinking and the tool is a guest in them, so the
design never regenerates a note from a parse tree.  ``parse`` reads the text
into a *view* (sections, log entries, ``@key`` mentions, each with its 0-based
line numbers) and keeps the text itself; ``Note.to_text`` gives it back as it
was.  Every edit is an insertion at one offset of the original text: new
entries go after the last non-blank line of ``## Log`` (so the section's
trailing blank lines stay where they were), done lines go at the end of
``## Done``.  The inserted text uses the note's own line ending, and if the
note had no final newline the result has none either.

Lines are split on ``\\n`` only (a ``\\r`` before it is part of the line
ending), so line numbers match what an editor shows.  Files are read as bytes
and decoded as UTF-8 with no newline translation, which is what makes CRLF
notes round-trip.

The format, after the seed note::

    ## Log
    - [skim(@pfeifferModularDeepLearning2023)]      <- an entry: status word, key
      - ![](asset/mdl_conclusion.png)              <- an image
      - [soliloquy]                                <- an annotation
      - [hypothesize -> frozen backbones suffice]  <- an annotation with a thought
      - as in @baiConstitutionalAIHarmlessness2022 <- a mention (never skimmed: queued)

An entry's key may also be an Obsidian link, ``- [skim([[@key]])]`` (or
``[[@key|alias]]``), which is how a vault links the literature note ``@key.md``;
``format_entry(..., wikilink=True)`` writes that form.

Headings count only at column 0 (an indented ``##`` belongs to a bullet);
headings, entries and mentions inside fenced code blocks, YAML front matter,
inline code and URLs are ignored, except a literature note's front matter
``citekey: key`` (Obsidian's Zotero plugins write it): the note is about that
paper, so it counts as a mention.

Writes are atomic (``triage.atomic``: a hidden temporary file — in the data
home's ``tmp/`` when it shares the note's file system, so a vault sync never
picks it up, else beside the note — fsync, ``os.replace``, same file mode; a
symlinked note is written through to its target).  A note whose file is
read-only is refused, never replaced through the rename, and temporary files an
interrupted write left behind are removed on the next write of that note.
Before each write a copy of the previous version goes to
``backup_dir/<stem>-<hash of the absolute path>/`` (the last 20 are kept).  If
the file changed on disk since the caller read it (the reader saved in their
editor), the insertion is re-applied to the new text instead of overwriting it.

Notes larger than ``MAX_NOTE_BYTES`` (``limits.note_mb``) are refused with a
message rather than parsed for half a minute.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from triage.atomic import no_interrupt, remove_stray_temps, replace, temp_for
from triage.citekey import find_citekeys
from triage.errors import NoteConflictError, NoteError

__all__ = [
    "Entry",
    "Section",
    "Mention",
    "Note",
    "Queued",
    "NoteEdit",
    "parse",
    "read_note",
    "format_entry",
    "insert_into_section",
    "append_to_log",
    "entry_of_block",
    "append_to_done",
    "ensure_writable",
    "new_note",
    "new_note_path",
    "find_notes",
    "read_notes",
    "build_queue",
    "TEMPLATE_SECTIONS",
    "KEEP_BACKUPS",
    "MAX_NOTE_BYTES",
]

#: The six sections of a session note, in the seed's order.
TEMPLATE_SECTIONS = ("tl;dr", "Context", "Done", "Learned", "Next?", "Log")
#: Previous versions kept per note.
KEEP_BACKUPS = 20
#: How often a write is retried while the file keeps changing under us.
_WRITE_ATTEMPTS = 5
#: The largest note read by default (``limits.note_mb`` sets it): years of a daily log are well under a megabyte.
MAX_NOTE_BYTES = 4 * 1024 * 1024

_HEADING = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_HEADING_CLOSE = re.compile(r"(?:^|[ \t]+)#+$")
# A log entry: a top-level bullet opening with [status(@key)] or [status([[@key]])], optional text after.
_ENTRY = re.compile(r"^[-*+][ \t]+\[([A-Za-z][\w-]*)\((@[^()\s]+|\[\[@[^\[\]()|\s]+(?:\|[^\[\]]*)?\]\])\)\](.*)$")
_FRONT_CITEKEY = re.compile(r"^citekey[ \t]*:[ \t]*[\"']?(?:\[\[)?@?([^\s\"'\[\]|]+)")
# A fence may open inside a bullet ('  - ```'), as readers paste snippets into their notes.
_FENCE = re.compile(r"^[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*(`{3,}|~{3,})(.*)$")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_URL = re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)|<[a-z][\w+.-]*:[^>\s]*>|\b[a-z][\w+.-]*://\S+", re.IGNORECASE)
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|!\[\[([^\]|]+)(?:\|[^\]]*)?\]\]")
# [word] or [word -> thought]; not links, images, wiki links, footnotes or checkboxes.
_ANNOTATION = re.compile(r"(?<![!\[\\\w])\[([A-Za-z][\w-]+(?:[ \t]*->[^\[\]]*)?)\](?![(\[:\]])")


@dataclass(frozen=True)
class Section:
    """A ``#``/``##`` heading and the lines up to the next one (0-based, inclusive)."""

    title: str
    start_line: int
    end_line: int
    level: int = 2


@dataclass(frozen=True)
class Entry:
    """One top-level ``- [status(@key)]`` bullet of ``## Log`` with its nested lines."""

    status: str
    key: str
    start_line: int
    end_line: int
    children: list[str] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Mention:
    """An ``@key`` the reader wrote, where it is and in which section."""

    key: str
    line: int
    section: str


@dataclass
class Note:
    """A parsed reading note: the original text plus a view of its structure."""

    path: Path | None
    text: str
    sections: list[Section]
    entries: list[Entry]
    mentions: list[Mention]

    def to_text(self) -> str:
        """The note's text, exactly as it was read."""
        return self.text

    def entry_keys(self, status: str | None = None) -> set[str]:
        """Keys that have a log entry (of ``status`` only, compared case-insensitively, if given)."""
        wanted = status.casefold() if status else None
        return {e.key for e in self.entries if wanted is None or e.status.casefold() == wanted}

    def unskimmed_mentions(self) -> list[Mention]:
        """Mentions of papers that have no log entry of any status, in order of appearance."""
        logged = self.entry_keys()
        return [m for m in self.mentions if m.key not in logged]

    def section(self, title: str) -> Section | None:
        """The last section called ``title`` (case-insensitive), if any."""
        found = [s for s in self.sections if s.title.casefold() == title.casefold()]
        return found[-1] if found else None

    def to_dict(self) -> dict:
        """JSON-ready view (what ``triage note show --json`` prints); lines are 1-based, as editors show them."""
        return {
            "path": str(self.path) if self.path else None,
            "sections": [{"title": s.title, "level": s.level, "start_line": s.start_line + 1, "end_line": s.end_line + 1}
                         for s in self.sections],
            "entries": [
                {"status": e.status, "key": e.key, "start_line": e.start_line + 1, "end_line": e.end_line + 1,
                 "children": e.children, "annotations": e.annotations, "images": e.images}
                for e in self.entries
            ],
            "mentions": [{"key": m.key, "line": m.line + 1, "section": m.section} for m in self.mentions],
            "unskimmed": list(dict.fromkeys(m.key for m in self.unskimmed_mentions())),
        }


@dataclass(frozen=True)
class Queued:
    """A paper the reader mentioned but never skimmed, and everywhere it was mentioned."""

    key: str
    mentions: list[tuple[Path | None, Mention]]

    def to_dict(self) -> dict:
        """JSON-ready view (what ``triage queue --json`` prints)."""
        return {
            "key": self.key,
            "mentions": [
                {"note": str(p) if p else None, "line": m.line + 1, "section": m.section} for p, m in self.mentions
            ],
        }


# -- parsing --------------------------------------------------------------------


def _split_lines(text: str) -> list[str]:
    """Lines without their ``\\n`` / ``\\r\\n`` ending; no phantom line after a final newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


class _Fences:
    """Tracks fenced code blocks line by line (CommonMark-ish).

    A fence opened inside a bullet ends with a closing fence or, as in
    CommonMark, when a non-blank line is less indented than the fence (the
    bullet is over), so one unclosed snippet cannot swallow the rest of a note.
    """

    def __init__(self) -> None:
        self.open: str | None = None
        self.column = 0

    def step(self, line: str) -> bool:
        """Feed one line; True if it is part of a fence (opening, body or closing)."""
        expanded = line.expandtabs(4)
        m = _FENCE.match(expanded)
        if self.open is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                self.open, self.column = m.group(1), m.start(1)
                return True
            return False
        if self.column and expanded.strip() and len(expanded) - len(expanded.lstrip()) < self.column:
            self.open = None
            return self.step(line)
        if m and m.group(1)[0] == self.open[0] and len(m.group(1)) >= len(self.open) and not m.group(2).strip():
            self.open = None
        return True


def _front_matter_end(lines: list[str]) -> int:
    """Index of the first line after YAML front matter (0 when there is none)."""
    if lines and lines[0].lstrip("\ufeff").rstrip() == "---":
        for i in range(1, len(lines)):
            if lines[i].rstrip() in ("---", "..."):
                return i + 1
    return 0


def _heading(line: str) -> tuple[int, str] | None:
    """(level, title) for an ATX heading at column 0, else None."""
    m = _HEADING.match(line.lstrip("\ufeff"))
    if not m:
        return None
    title = _HEADING_CLOSE.sub("", m.group(2) or "").strip()
    return len(m.group(1)), title


def _scannable(line: str) -> str:
    """The line with inline code and URLs blanked, so neither yields mentions."""
    line = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
    return _URL.sub(lambda m: " " * len(m.group(0)), line)


def _code_lines(lines: list[str], start: int) -> set[int]:
    fences = _Fences()
    return {i for i in range(start, len(lines)) if fences.step(lines[i])}


def parse(text: str, path: Path | None = None) -> Note:
    """Parse a note's text into sections, log entries and mentions; the text is kept as is."""
    lines = _split_lines(text)
    body = _front_matter_end(lines)
    code = _code_lines(lines, body)

    # Sections: '#' and '##' headings at column 0; '###' and deeper are content.
    heads = [
        (i, h) for i in range(body, len(lines)) if i not in code and (h := _heading(lines[i])) is not None and h[0] <= 2
    ]
    sections = [
        Section(title=h[1], start_line=i, end_line=(heads[n + 1][0] - 1 if n + 1 < len(heads) else len(lines) - 1), level=h[0])
        for n, (i, h) in enumerate(heads)
    ]
    section_of = [""] * len(lines)
    for s in sections:
        for i in range(s.start_line, s.end_line + 1):
            section_of[i] = s.title

    entries: list[Entry] = []
    header_lines: dict[int, int] = {}  # line -> column where its text after the entry bracket starts
    for s in sections:
        if s.title.casefold() == "log":
            entries.extend(_entries(lines, s, code, header_lines))

    mentions: list[Mention] = []
    for i in range(1, body):
        m = _FRONT_CITEKEY.match(lines[i])
        if m and find_citekeys("@" + m.group(1)) == [m.group(1)]:
            mentions.append(Mention(key=m.group(1), line=i, section="front matter"))
    for i in range(body, len(lines)):
        if i in code:  # a '@decorator' in a snippet is not a paper
            continue
        line = lines[i][header_lines[i]:] if i in header_lines else lines[i]
        for key in find_citekeys(_scannable(line)):
            mentions.append(Mention(key=key, line=i, section=section_of[i]))
    return Note(path=path, text=text, sections=sections, entries=entries, mentions=mentions)


def _entries(lines: list[str], section: Section, code: set[int], header_lines: dict[int, int]) -> list[Entry]:
    found: list[Entry] = []
    i = section.start_line + 1
    end = section.end_line
    while i <= end:
        m = _ENTRY.match(lines[i]) if i not in code else None
        key = _entry_key(m.group(2)) if m else None
        if not m or key is None:
            i += 1
            continue
        start = i
        last = i
        # Children are the indented lines that follow, and blank lines between them.  A
        # fence inside a bullet is indented too, and a line at column 0 ends it (CommonMark).
        for j in range(i + 1, end + 1):
            line = lines[j]
            if line[:1] in (" ", "\t") and line.strip():
                last = j
            elif line.strip():
                break  # back at column 0: the block is over (blank lines before it stay outside)
        header_lines[start] = m.end(2) + 2
        children = lines[start + 1 : last + 1]
        scan = [m.group(3), *children]
        annotations = [a.strip() for text in scan for a in _ANNOTATION.findall(_strip_inline_code(text))]
        images = [a or b for text in scan for a, b in _IMAGE.findall(_strip_inline_code(text))]
        found.append(
            Entry(
                status=m.group(1),
                key=key,
                start_line=start,
                end_line=last,
                children=children,
                annotations=annotations,
                images=[s.strip() for s in images],
            )
        )
        i = last + 1
    return found


def _entry_key(written: str) -> str | None:
    """The key of an entry's ``@key`` or ``[[@key]]`` / ``[[@key|alias]]``; None when it is not one citekey."""
    cited = written[2:-2].split("|", 1)[0] if written.startswith("[[") else written
    return cited[1:] if find_citekeys(cited) == [cited[1:]] else None


def _strip_inline_code(line: str) -> str:
    """Blank inline code spans (an annotation's own backticks survive: they sit inside brackets)."""

    def blank(m: re.Match[str]) -> str:
        before = line[: m.start()]
        return m.group(0) if before.count("[") > before.count("]") else " " * len(m.group(0))

    return _INLINE_CODE.sub(blank, line)


def read_note(path: Path, *, max_bytes: int = MAX_NOTE_BYTES) -> Note:
    """Read and parse a note; ``NoteError`` says clearly why when it cannot be read (or is over ``max_bytes``)."""
    return parse(_read_text(Path(path), max_bytes), path=Path(path))


def _read_text(path: Path, max_bytes: int = MAX_NOTE_BYTES) -> str:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            from triage.faults import human_size

            raise NoteError(f"note {path} is {human_size(size)}, over the {human_size(max_bytes)} limit for a note",
                            "split it, or raise limits.note_mb (TRIAGE_LIMITS__NOTE_MB) if it really is one note")
        data = path.read_bytes()
    except FileNotFoundError:
        raise NoteError(f"note not found: {path}", "check the path, or create one with 'triage note new'") from None
    except IsADirectoryError:
        raise NoteError(f"note {path} is a folder, not a markdown file") from None
    except OSError as exc:
        raise NoteError(f"cannot read note {_shown(path)}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(
            f"note {path} is not UTF-8 text (invalid byte at offset {exc.start})", "save it as UTF-8 in your editor"
        ) from None


def _shown(path: Path) -> str:
    """A path short enough for a one-line message."""
    text = str(path)
    return text if len(text) <= 200 else f"{text[:100]}…{text[-60:]} ({len(text)} characters)"


# -- writing entries --------------------------------------------------------------


def format_entry(
    status: str, key: str, bullets: list[str | list], *, newline: str = "\n", indent: str = "  ",
    headline: str = "", wikilink: bool = False,
) -> str:
    """A ``- [status(@key)]`` block with one nested bullet per item, in the seed's style.

    ``headline`` follows the bracket on the first line (``- [drop(@key)] dropped
    by the reader``); ``wikilink`` writes the key as ``[[@key]]``.  A list among
    ``bullets`` holds sub-bullets of the bullet before it (lists nest further).
    A bullet with several lines keeps them, aligned under its text.  Empty
    bullets are left out.  ``NoteError`` if the status or key would not read
    back as an entry.
    """
    # An entry that would not parse back would never count as logged: the paper would be re-added on every run.
    key = key.removeprefix("@")
    if not re.fullmatch(r"[A-Za-z][\w-]*", status):
        raise NoteError(f"cannot write a log entry with status {status!r}: it must be one word, like 'skim'")
    if find_citekeys("@" + key) != [key]:
        raise NoteError(f"cannot write a log entry for {key!r}: it is not a citekey", "give the paper a Better BibTeX key")
    cited = f"[[@{key}]]" if wikilink else f"@{key}"
    headline = " ".join(headline.split())
    out = [f"- [{status}({cited})]" + (f" {headline}" if headline else "")]

    def emit(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                emit(item, depth + 1)
                continue
            parts = [p.rstrip("\r") for p in str(item).strip().split("\n")]
            if not parts[0]:
                continue
            out.append(f"{indent * depth}- {parts[0]}")
            out.extend(f"{indent * depth}  {p}" if p.strip() else "" for p in parts[1:])

    emit(bullets, 1)
    return newline.join(out) + newline


def _newline_of(text: str) -> str:
    """The note's own line ending: CRLF if most of its lines use it, else LF."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def _normalise(blocks: Iterable[str], newline: str) -> list[str]:
    out = []
    for block in blocks:
        if not block or not block.strip():
            continue
        lines = block.replace("\r\n", "\n").split("\n")
        if lines[-1] == "":
            lines.pop()
        out.append(newline.join(lines) + newline)
    return out


def insert_into_section(text: str, title: str, blocks: list[str], *, create_before: str | None = None) -> str:
    """``text`` with ``blocks`` inserted at the end of section ``title``; nothing else changes.

    The blocks go after the section's last non-blank line, so its trailing
    blank lines stay after them.  A missing section is created (a ``## title``
    heading) before section ``create_before`` if that exists, else at the end
    after one blank line.  The inserted text uses the note's line ending; a
    note without a final newline keeps having none; a code fence left open
    where the text goes is closed first.  Pure: no I/O.
    """
    nl = _newline_of(text)
    parts = _normalise(blocks, nl)
    if not parts:
        return text
    note = parse(text)
    lines = _split_lines(text)
    starts = _line_starts(text, len(lines))
    section = note.section(title)
    if section is None:
        heading = f"## {title}{nl}"
        before = note.section(create_before) if create_before else None
        if before is not None:
            pos = starts[before.start_line]
            return text[:pos] + heading + "".join(parts) + nl + text[pos:]
        blank_before = not text.strip() or (text.endswith("\n") and not lines[-1].strip())
        return _insert_after(text, lines, starts, len(lines) - 1, ("" if blank_before else nl) + heading + "".join(parts), nl)
    last = section.start_line
    for i in range(section.end_line, section.start_line, -1):
        if lines[i].strip():
            last = i
            break
    return _insert_after(text, lines, starts, last, "".join(parts), nl)


def _line_starts(text: str, n: int) -> list[int]:
    starts = [0]
    pos = 0
    for _ in range(n - 1):
        pos = text.index("\n", pos) + 1
        starts.append(pos)
    return starts


def _insert_after(text: str, lines: list[str], starts: list[int], last: int, addition: str, nl: str) -> str:
    """Insert ``addition`` (ending in ``nl``) after line ``last`` (-1: at the start of an empty text)."""
    fences = _Fences()
    for line in lines[_front_matter_end(lines) : last + 1]:
        fences.step(line)
    if fences.open is not None and fences.column == 0:
        addition = fences.open + nl + addition  # (a fence inside a bullet ends at our column-0 line by itself)
    if last + 1 < len(lines):
        pos = starts[last + 1]
        return text[:pos] + addition + text[pos:]
    if not text or text.endswith("\n"):
        return text + addition
    # The last line has no newline: start ours with one and, like the note, end without one.
    return text + nl + addition[: -len(nl)]


# -- files --------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteEdit:
    """What an edit of a note did: its text now, whether this edit wrote it, and the blocks it added."""

    text: str
    written: bool
    added: tuple[str, ...] = ()


def append_to_log(
    path: Path,
    blocks: list[str],
    *,
    backup_dir: Path | None = None,
    expected_text: str | None = None,
    temp_dir: Path | None = None,
) -> NoteEdit:
    """Append entry blocks at the end of the note's ``## Log`` (created at the end if missing).

    Atomic, byte-preserving, with a backup of the previous version in
    ``backup_dir`` and the temporary file in ``temp_dir`` when it is on the
    note's file system.  If ``expected_text`` (the text the caller decided on) is
    given and the file now differs, the reader saved meanwhile: the blocks are
    added to the new text, except those whose ``[status(@key)]`` entry appeared
    in it since (another run wrote it already).  With nothing left to add,
    nothing is written (``written`` is False).  ``NoteError`` for a read-only note.
    """

    added: list[str] = []

    def change(text: str) -> str:
        todo = blocks
        if expected_text is not None and text != expected_text:
            appeared = _entry_pairs(parse(text)) - _entry_pairs(parse(expected_text))
            todo = [b for b in blocks if _block_pair(b) not in appeared]
        added[:] = [b for b in todo if b and b.strip()]
        return insert_into_section(text, "Log", todo)

    edit = _edit(Path(path), change, backup_dir=backup_dir, expected_text=expected_text, temp_dir=temp_dir)
    return NoteEdit(edit.text, edit.written, tuple(added) if edit.written else ())


def append_to_done(
    path: Path,
    lines: list[str],
    *,
    backup_dir: Path | None = None,
    expected_text: str | None = None,
    temp_dir: Path | None = None,
) -> NoteEdit:
    """Append lines at the end of ``## Done`` (created before ``## Log``, else at the end); rules as ``append_to_log``."""
    return _edit(
        Path(path),
        lambda text: insert_into_section(text, "Done", lines, create_before="Log"),
        backup_dir=backup_dir,
        expected_text=expected_text,
        temp_dir=temp_dir,
    )


def _entry_pairs(note: Note) -> set[tuple[str, str]]:
    return {(e.status.casefold(), e.key) for e in note.entries}


def entry_of_block(block: str) -> tuple[str, str] | None:
    """(status word in lower case, key) of an entry block's first line, None when it is not one."""
    return _block_pair(block)


def _block_pair(block: str) -> tuple[str, str] | None:
    m = _ENTRY.match(_split_lines(block)[0]) if block.strip() else None
    key = _entry_key(m.group(2)) if m else None
    return (m.group(1).casefold(), key) if m and key else None


def ensure_writable(path: Path) -> None:
    """``NoteError`` unless triage may write the note: the file is not read-only, nor its folder.

    Checked before any work whose result the note must take (a run, a decision),
    so that a note that cannot be written changes nothing anywhere.  A file
    nobody may write (mode 0444) counts as read-only even for root, who could.
    """
    from triage.faults import read_only_fs, writable

    target = Path(path).resolve()
    if target.is_file() and not writable(target):
        raise NoteError(f"note {path} is read-only; nothing was changed",
                        "make it writable (chmod u+w) if triage should add to it")
    folder = target.parent
    if read_only_fs(folder) or not os.access(folder, os.W_OK):
        raise NoteError(f"cannot write in {folder}, the note's folder; nothing was changed",
                        "make the folder writable, or open a note you can edit")


def _edit(path: Path, change: Callable[[str], str], *, backup_dir: Path | None, expected_text: str | None,
          temp_dir: Path | None = None) -> NoteEdit:
    """Apply ``change`` to the note's current text and write the result atomically (never when unchanged)."""
    target = path.resolve() if path.is_symlink() else path
    for _attempt in range(_WRITE_ATTEMPTS):
        try:
            current = _read_text(target, max(MAX_NOTE_BYTES, _size(target)))  # the reader's own note: never refused here
        except NoteError as exc:
            if expected_text is None:
                raise
            raise NoteConflictError(f"the note changed on disk and can no longer be read: {exc.message}") from None
        new_text = change(current)
        if new_text == current:
            return NoteEdit(current, False)
        ensure_writable(target)
        remove_stray_temps(target, target.parent, temp_dir)
        before = current.encode("utf-8")
        # From the temporary file to the rename, ctrl-c waits (a write takes milliseconds): the note is
        # replaced whole or not at all, and no temporary file is left behind.
        with no_interrupt():
            tmp: str | None = None  # set while a temporary file exists; removed below unless renamed
            try:
                tmp = _write_tmp(target, new_text.encode("utf-8"), temp_dir)
                # The reader may have saved while we prepared the write: only replace the version we based it on.
                if target.read_bytes() != before:
                    continue
                if backup_dir is not None:
                    _backup(target, before, Path(backup_dir))  # the note's own history, whichever link named it
                replace(tmp, target)
                tmp = None
                return NoteEdit(new_text, True)
            except FileNotFoundError:
                raise NoteConflictError(f"note {path} was moved or deleted while triage was writing it") from None
            except OSError as exc:
                raise _write_error(exc, target) from None
            finally:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
    raise NoteConflictError(
        f"note {path} kept changing while triage tried to write it", "save it in your editor and run the command again"
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _write_error(exc: OSError, target: Path) -> NoteError:
    """An OS error met while writing the note, worded by its cause; the note is as it was."""
    from triage.faults import cause_of

    cause = cause_of(exc, target)
    if cause == "full":
        return NoteError(f"could not write note {target}: the disk is full", "free some space and run again; "
                         "the note was left as it was")
    if cause == "read_only":
        return NoteError(f"could not write note {target}: its folder or disk is read-only",
                         "make it writable and run again; the note was left as it was")
    return NoteError(f"could not write note {target}: {exc.strerror or exc}", "the note was left as it was")


def _write_tmp(target: Path, data: bytes, temp_dir: Path | None = None) -> str:
    """A synced temporary file for ``target`` with its mode; a failure is a NoteError."""
    try:
        return temp_for(target, data, temp_dir=temp_dir)
    except OSError as exc:
        raise _write_error(exc, target) from None


def backup_folder(path: Path, backup_dir: Path) -> Path:
    """Where the previous versions of note ``path`` are kept."""
    digest = hashlib.sha256(str(Path(path).absolute()).encode("utf-8")).hexdigest()[:12]
    return Path(backup_dir) / f"{Path(path).stem}-{digest}"


def _backup(path: Path, data: bytes, backup_dir: Path, keep: int = KEEP_BACKUPS) -> Path:
    """Keep ``data`` (the version about to be replaced) and prune to the last ``keep`` copies."""
    folder = backup_folder(path, backup_dir)
    folder.mkdir(parents=True, exist_ok=True)
    ns = time.time_ns()
    while True:
        stamp = datetime.fromtimestamp(ns // 10**9, UTC)
        copy = folder / f"{stamp:%Y%m%dT%H%M%S}.{ns % 10**9:09d}{Path(path).suffix or '.md'}"
        if not copy.exists():
            break
        ns += 1
    copy.write_bytes(data)
    for old in sorted(p for p in folder.iterdir() if p.is_file())[:-keep]:
        with contextlib.suppress(OSError):
            old.unlink()
    return copy


# -- new notes, vaults, the queue ------------------------------------------------------


def new_note(title: str | None, today: date) -> str:
    """A fresh session note from the seed's template: a dated title and the six sections."""
    heading = f"# {title.strip()} — {today.isoformat()}" if title and title.strip() else f"# Reading session — {today.isoformat()}"
    return heading + "\n\n" + "\n\n".join(f"## {s}" for s in TEMPLATE_SECTIONS) + "\n"


def new_note_path(folder: Path, title: str | None, today: date) -> Path:
    """A file name for a new note in ``folder`` that does not exist yet: ``2026-11-28-title.md``."""
    slug = re.sub(r"[^\w]+", "-", (title or "reading session").casefold()).strip("-")[:60] or "reading-session"
    base = f"{today.isoformat()}-{slug}"
    candidate = Path(folder) / f"{base}.md"
    n = 2
    while candidate.exists():
        candidate = Path(folder) / f"{base}-{n}.md"
        n += 1
    return candidate


# Logseq keeps copies of pages here; reading them would count every mention twice.
_SKIP_DIRS = {("logseq", "bak"), ("logseq", "version-files")}


def find_notes(path: Path) -> list[Path]:
    """One note, or every ``*.md`` under a folder (a vault), skipping hidden folders and editor backups."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise NoteError(f"no such note or folder: {path}")
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here.name, d) not in _SKIP_DIRS)
        found.extend(here / f for f in sorted(files) if f.lower().endswith(".md") and not f.startswith("."))
    return sorted(found)


def read_notes(path: Path, *, max_bytes: int = MAX_NOTE_BYTES) -> tuple[list[Note], list[NoteError]]:
    """The note at ``path``, or every note of the folder; in a folder, unreadable notes are returned, not raised."""
    paths = find_notes(path)
    if Path(path).is_file():
        return [read_note(paths[0], max_bytes=max_bytes)], []
    found: list[Note] = []
    errors: list[NoteError] = []
    for p in paths:
        try:
            found.append(read_note(p, max_bytes=max_bytes))
        except NoteError as exc:
            errors.append(exc)
    return found, errors


def build_queue(notes: Iterable[Note]) -> list[Queued]:
    """Papers mentioned in any of ``notes`` with no log entry in any of them, in order of first mention."""
    notes = list(notes)
    logged: set[str] = set().union(*(n.entry_keys() for n in notes)) if notes else set()
    queue: dict[str, list[tuple[Path | None, Mention]]] = {}
    for note in notes:
        for m in note.mentions:
            if m.key not in logged:
                queue.setdefault(m.key, []).append((note.path, m))
    return [Queued(key=k, mentions=v) for k, v in queue.items()]
