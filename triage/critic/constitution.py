"""The reader's constitution: principles in a markdown file they edit.

Format (see ``prompts/constitution.md``)::

    promote_at: 6.0          # score at or above which a paper is promoted to read
    drop_below: 3.5          # score below which it is dropped

    ## modularity (weight 3)
    One paragraph saying what the reader values.

    ## hype (weight 1, against)
    A principle that counts against a paper.

Text before the first ``##`` other than the two thresholds is the reader's
preamble and is ignored.  Parsing reports every problem with its line number, so
``triage constitution check`` can show them all at once.  A file over
``MAX_BYTES`` or with more than ``MAX_PRINCIPLES`` principles (``limits.
constitution_kb`` and ``limits.constitution_principles``), or that is not UTF-8
text, is refused with one line saying so.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from triage.errors import ConfigError
from triage.models import Decision

__all__ = ["Principle", "Constitution", "parse_constitution", "load_constitution", "default_constitution_path",
           "MAX_BYTES", "MAX_PRINCIPLES"]

#: The largest constitution read by default (the shipped one is 3 KiB).
MAX_BYTES = 256 * 1024
#: The most principles a constitution may have by default (each one is scored for every paper).
MAX_PRINCIPLES = 64

_HEADING = re.compile(r"^##\s+(?P<id>\S+)\s*(?:\((?P<opts>[^)]*)\))?\s*$")
_THRESHOLD = re.compile(r"^(?P<name>promote_at|drop_below)\s*:\s*(?P<value>\S+)\s*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Principle:
    """One thing the reader values (or, ``against``, holds against a paper)."""

    id: str
    weight: float
    statement: str
    against: bool = False
    line: int = 0


@dataclass(frozen=True)
class Constitution:
    """The parsed constitution with its thresholds and a content hash."""

    principles: tuple[Principle, ...]
    promote_at: float = 6.0
    drop_below: float = 3.5
    source: str = ""
    text: str = field(default="", repr=False)

    @property
    def hash(self) -> str:
        """Content hash: part of every verdict, so editing the file invalidates cached verdicts."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def decide(self, score: float) -> Decision:
        """The decision a weighted score earns under these thresholds."""
        if score >= self.promote_at:
            return Decision.READ
        if score < self.drop_below:
            return Decision.DROP
        return Decision.SKIM

    def principle(self, pid: str) -> Principle | None:
        """The principle with this id, if any."""
        return next((p for p in self.principles if p.id == pid), None)


def _parse_options(opts: str, lineno: int, errors: list[str]) -> tuple[float, bool]:
    weight, against = 1.0, False
    for raw in filter(None, (o.strip() for o in opts.split(","))):
        if raw == "against":
            against = True
        elif m := re.fullmatch(r"weight\s*[:=]?\s*(\S+)", raw):
            try:
                weight = float(m.group(1))
            except ValueError:
                errors.append(f"line {lineno}: weight must be a number, got {m.group(1)!r}")
                continue
            if not 0 < weight <= 100:
                errors.append(f"line {lineno}: weight must be between 0 and 100, got {weight:g}")
        else:
            errors.append(f"line {lineno}: unknown option {raw!r} (use 'weight N' and optionally 'against')")
    return weight, against


def parse_constitution(text: str, source: str = "<constitution>", *, max_principles: int = MAX_PRINCIPLES) -> Constitution:
    """Parse constitution markdown; raises ConfigError listing every problem with its line."""
    errors: list[str] = []
    ids: set[str] = set()
    thresholds: dict[str, float] = {}
    principles: list[Principle] = []
    current: dict | None = None
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        statement = " ".join(" ".join(body).split())
        if not statement:
            errors.append(f"line {current['line']}: principle '{current['id']}' has no statement")
        principles.append(Principle(statement=statement, **current))

    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            close()
            body = []
            m = _HEADING.match(line)
            if not m:
                errors.append(f"line {lineno}: principle heading must look like '## some-id (weight 2)'")
                current = None
                continue
            pid = m.group("id")
            if not _ID.match(pid):
                errors.append(f"line {lineno}: principle id {pid!r} must be lower-case letters, digits, '-' or '_'")
            if pid in ids:
                errors.append(f"line {lineno}: duplicate principle id {pid!r}")
            ids.add(pid)
            if len(ids) > max_principles:
                raise ConfigError(f"{source}: more than {max_principles} principles (line {lineno})",
                                  hint="keep the principles that matter, or raise limits.constitution_principles")
            weight, against = _parse_options(m.group("opts") or "", lineno, errors)
            current = {"id": pid, "weight": weight, "against": against, "line": lineno}
        elif m := _THRESHOLD.match(line.strip()):
            try:
                thresholds[m.group("name")] = float(m.group("value"))
            except ValueError:
                errors.append(f"line {lineno}: {m.group('name')} must be a number, got {m.group('value')!r}")
        elif current is not None:
            body.append(line.strip())
    close()

    if not principles and not errors:
        errors.append("line 1: no principles found (add '## some-id (weight 1)' headings, each followed by a paragraph)")
    promote_at = thresholds.get("promote_at", 6.0)
    drop_below = thresholds.get("drop_below", 3.5)
    for name, value in (("promote_at", promote_at), ("drop_below", drop_below)):
        if not 0 <= value <= 10:
            errors.append(f"{name} must be between 0 and 10, got {value:g}")
    if drop_below > promote_at:
        errors.append(f"drop_below ({drop_below:g}) must not exceed promote_at ({promote_at:g})")
    if errors:
        raise ConfigError(f"{source}: " + "; ".join(errors), hint="fix the lines above, then run 'triage constitution check'")
    return Constitution(tuple(principles), promote_at, drop_below, source, text)


def default_constitution_path() -> Path:
    """The constitution shipped with triage (``prompts/constitution.md`` in the package)."""
    return Path(str(resources.files("triage.prompts").joinpath("constitution.md")))


def load_constitution(path: Path | None = None, *, max_bytes: int = MAX_BYTES,
                      max_principles: int = MAX_PRINCIPLES) -> Constitution:
    """The reader's constitution if ``path`` is given, else the shipped default; ConfigError says what is wrong."""
    path = path or default_constitution_path()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(f"constitution {path} is {size / 1024:,.0f} KiB, over the {max_bytes / 1024:g} KiB limit",
                              hint="is it the file you meant? a constitution is a page of principles; "
                                   "raise limits.constitution_kb if it really is one")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read constitution {path}: {exc.strerror or exc}",
                          hint="check the 'constitution' setting") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"constitution {path} is not UTF-8 text (invalid byte at offset {exc.start})",
                          hint="is it the file you meant? save it as UTF-8 markdown") from None
    return parse_constitution(text, source=str(path), max_principles=max_principles)
