"""The reader's library: Better BibTeX exports read into ``Paper`` records.

Three export formats are read, sniffed from the content rather than the file
name: BibTeX/BibLaTeX (``.bib``, ``.bibtex``, ``.biblatex``; parsed with
bibtexparser 2.x), CSL-JSON (a list of items with ``id``) and Better BibTeX
JSON (a dict with ``items``, each with ``citationKey``).  Every entry either
imports or is reported in ``Library.errors`` as ``file:line: skipped entry:
reason``; one bad entry never costs the reader the rest of the file.

What the rest of triage needs from an entry is pulled out here once: alias keys
(BibLaTeX ``ids``, ``tex.ids=`` in Zotero's Extra), the arXiv id wherever Zotero
and Better BibTeX put it (``eprint`` with ``eprinttype``/``archivePrefix``, an
arXiv ``url``, ``note``/``extra``/``number`` lines like ``arXiv: 2302.11529``,
the DOI ``10.48550/arXiv.2302.11529``), and the first attached PDF that exists
(Zotero's ``file = {a.pdf;b.pdf}`` and the ``Name:path:application/pdf`` form,
relative paths taken from the bib file's folder).

A Zotero library is read in place (``triage.sources.zotero``): ``zotero``,
a Zotero data folder or a ``zotero.sqlite`` file, recognised by content, so a
copy named anything still reads.  A file that is neither says what it is
instead ("is a folder", "is empty", "is a PDF", "is Better BibTeX's
database"); its bytes are never echoed.

The library files the reader imported with ``triage library import`` are
remembered in ``<data home>/library.json``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from triage.arxiv_id import find_arxiv_id, parse_arxiv_id
from triage.atomic import write_atomic
from triage.citekey import bbt_key, bbt_suffix
from triage.config import Settings
from triage.errors import SourceError
from triage.latex import decode_latex
from triage.models import Paper
from triage.sources.library import EXTRA_CITATION_KEY, EXTRA_IDS, Library, normalize_doi, year_in

__all__ = [
    "load_library",
    "library_path",
    "remembered_libraries",
    "remember_library",
    "forget_library",
]


_log = logging.getLogger(__name__)


# -- loading ----------------------------------------------------------------------------------


def load_library(paths: Iterable[Path | str], *, zotero_base_dir: Path | None = None) -> Library:
    """Read every library (export file or Zotero library) into one ``Library``; the first wins a key both define.

    Raises ``SourceError`` (one line, naming the file) for a file that cannot be
    read or is not a library at all; bad entries inside a readable file are
    skipped and reported in ``Library.errors``.  ``zotero_base_dir`` is Zotero's
    Linked Attachment Base Directory (read from Zotero's preferences when unset).
    """
    from triage.sources.zotero import is_zotero_source, load_zotero

    library = Library()
    for raw in paths:
        path = Path(raw).expanduser()
        if is_zotero_source(path) or _is_sqlite(path):  # a copy of zotero.sqlite reads too; other SQLite says what it is
            load_zotero(path, library, base_dir=zotero_base_dir)
            continue
        text = _decode(path, _read_bytes(path))
        library.files.append(path)
        kind = _sniff(text)
        if kind == "csl":
            _load_csl(_json(path, text), path, library)
        elif kind == "bbt":
            _load_bbt(_json(path, text), path, library)
        else:
            _load_bib(text, path, library)
    return library


def library_path(raw: Path | str) -> Path:
    """An absolute path for a library the reader named; ``zotero`` is the default Zotero data folder."""
    from triage.sources.zotero import ZOTERO, default_data_dir

    path = Path(raw).expanduser()
    if str(path) == ZOTERO and not path.exists():
        return default_data_dir()
    return path.resolve()


_SQLITE_MAGIC = b"SQLite format 3\x00"
_BINARY_MAGIC = ((b"%PDF-", "a PDF"), (b"PK\x03\x04", "a zip archive"), (b"\x1f\x8b", "a gzip archive"))


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False  # _read_bytes says why


def _read_bytes(path: Path) -> bytes:
    hint = "pass a .bib or .json export, or your Zotero data folder (the one holding zotero.sqlite)"
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise SourceError(f"cannot read library {path}: it is a folder, and not a Zotero data folder",
                          hint=hint) from None
    except FileNotFoundError:
        raise SourceError(f"cannot read library {path}: no such file", hint=hint) from None
    except OSError as exc:
        raise SourceError(f"cannot read library {path}: {exc.strerror or exc}") from None
    if not data.strip():
        raise SourceError(f"cannot read library {path}: it is empty", hint="export your library again") from None
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise SourceError(f"cannot read library {path}: it is {what}, not a library export", hint=hint)
    head = data[:8192]
    controls = sum(1 for b in head if b < 0x20 and b not in b"\t\n\r\f")
    if b"\x00" in head or controls > len(head) // 100:
        raise SourceError(f"cannot read library {path}: it is binary data, not a library export", hint=hint)
    return data


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Old BibTeX files are often Latin-1; every byte decodes, and LaTeX escapes carry the accents anyway.
        return data.decode("latin-1")


def _sniff(text: str) -> str:
    head = text.lstrip()[:1]
    if head == "[":
        return "csl"
    if head == "{":
        try:
            data = json.loads(text)
        except ValueError:
            return "bib"
        if isinstance(data, dict) and "items" in data:
            return "bbt"
        if isinstance(data, dict) and "id" in data:
            return "csl"
        return "bbt"  # reported by _load_bbt as "not a library export"
    return "bib"


def _json(path: Path, text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"cannot read library {path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return [data] if isinstance(data, dict) and "id" in data and "items" not in data else data


# -- BibTeX / BibLaTeX ---------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _load_bib(text: str, path: Path, library: Library) -> None:
    import bibtexparser

    # bibtexparser logs each failed block; keep the reason for our report instead of the reader's terminal.
    logger = logging.getLogger("bibtexparser")
    collect = _Collect()
    logger.addHandler(collect)
    propagate, logger.propagate = logger.propagate, False
    try:
        parsed = bibtexparser.parse_string(text)
    except Exception as exc:  # bibtexparser raises on some inputs instead of reporting a block
        raise SourceError(f"cannot read library {path}: {_printable(str(exc))}") from None
    finally:
        logger.removeHandler(collect)
        logger.propagate = propagate

    name = path.name
    for block in parsed.failed_blocks:
        line = (block.start_line or 0) + 1
        reason = str(block.error) or _reason_from_log(collect.messages, block.start_line) or "BibTeX syntax error"
        library.errors.append(f"{name}:{line}: skipped entry: {_printable(reason)}")
    for entry in parsed.entries:
        where = f"{name}:{(entry.start_line or 0) + 1}"
        try:
            paper = _paper_from_bib(entry, path)
        except Exception as exc:  # one odd entry must not cost the reader the library
            library.errors.append(f"{where}: skipped entry: {exc}")
            continue
        library.add(paper, where)


def _printable(text: str, limit: int = 200) -> str:
    """A parser's message made safe to print: control characters out, one line, bounded."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason_from_log(messages: list[str], start_line: int | None) -> str:
    for message in messages:
        if f"(line {start_line})" in message:
            reason = message.split(" due to ", 1)[-1]
            return " ".join(reason.split())
    return ""


def _field(fields: dict[str, str], *names: str) -> str:
    for name in names:
        value = fields.get(name)
        if value:
            return value.strip()
    return ""


def _paper_from_bib(entry: Any, path: Path) -> Paper:
    fields = {f.key.lower(): str(f.value) for f in entry.fields}
    title = decode_latex(_field(fields, "title"))
    authors = [_name(n) for n in _split_names(_field(fields, "author", "editor"))]
    authors = [a for a in authors if a]
    year = year_in(_field(fields, "year", "date"))
    eprint = _field(fields, "eprint")
    eprinttype = _field(fields, "eprinttype", "archiveprefix").lower()
    arxiv = None
    if eprint and eprinttype in ("", "arxiv"):
        arxiv = parse_arxiv_id(eprint) or find_arxiv_id(eprint)
    doi = normalize_doi(_field(fields, "doi"))
    url = _strip_braces(_field(fields, "url")) or None
    arxiv = arxiv or find_arxiv_id(url, fields.get("doi"), fields.get("note"), fields.get("number"),
                                   fields.get("howpublished"), fields.get("journal"), fields.get("journaltitle"))
    if doi and arxiv is None:
        arxiv = parse_arxiv_id(doi)
    aliases = [a.strip() for a in _strip_braces(_field(fields, "ids")).split(",") if a.strip()]
    pdf, missing = _first_pdf(_split_file_field(fields.get("file", "")), path.parent)
    return Paper(
        key=entry.key,
        title=title,
        authors=authors,
        year=year,
        arxiv_id=arxiv[0] if arxiv else None,
        arxiv_version=arxiv[1] if arxiv else None,
        doi=doi,
        url=url,
        abstract=decode_latex(_field(fields, "abstract")),
        pdf_path=pdf,
        missing_pdf=missing,
        aliases=aliases,
        resolved_by=f"library:{path.name}",
    )


def _strip_braces(text: str) -> str:
    return text.replace("{", "").replace("}", "").strip()


def _split_names(text: str) -> list[str]:
    """Split a BibTeX name list on ``and`` outside braces."""
    names: list[str] = []
    current: list[str] = []
    depth = 0
    tokens = re.split(r"(\{|\}|\s+and\s+)", text)
    for tok in tokens:
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth = max(0, depth - 1)
        elif re.fullmatch(r"\s+and\s+", tok or "") and depth == 0:
            names.append("".join(current))
            current = []
            continue
        current.append(tok or "")
    names.append("".join(current))
    return [n.strip() for n in names if n.strip()]


def _name(raw: str) -> str:
    """One BibTeX/BibLaTeX name as ``Family, Given`` (particles kept with the family name)."""
    if re.search(r"(^|,\s*)family\s*=", raw):  # BibLaTeX extended name format
        parts = dict(
            (k.strip().lower(), v.strip()) for k, _, v in (p.partition("=") for p in re.split(r",\s*(?=\w+\s*=)", raw))
        )
        family = decode_latex(parts.get("family", ""))
        prefix = decode_latex(parts.get("prefix", ""))
        given = decode_latex(parts.get("given", ""))
        family = f"{prefix} {family}".strip() if prefix else family
        return f"{family}, {given}" if given else family
    text = decode_latex(raw)
    if raw.strip().startswith("{") and raw.strip().endswith("}") and raw.count("{") == 1:
        return text  # {Organisation Name}
    if "," in text:
        family, _, given = text.partition(",")
        return f"{family.strip()}, {given.strip()}" if given.strip() else family.strip()
    words = text.split()
    if len(words) < 2:
        return text
    start = next((i for i, w in enumerate(words[:-1]) if w[:1].islower()), len(words) - 1)
    return f"{' '.join(words[start:])}, {' '.join(words[:start])}"


def _split_file_field(value: str) -> list[str]:
    """Paths in a ``file`` field: ``a.pdf;b.pdf`` or ``Name:path:application/pdf`` (``\\:`` escapes)."""
    if not value:
        return []
    value = value.strip().strip("{}")
    paths = []
    for item in re.split(r"(?<!\\);", value):
        parts = re.split(r"(?<!\\):", item)
        if len(parts) >= 3 and (("/" in parts[-1]) or parts[-1].strip().upper() in ("PDF", "")):
            # Description:path:type; a Windows drive letter in an unescaped path splits into more parts.
            candidate = ":".join(parts[1:-1])
        else:
            candidate = item
        candidate = candidate.replace("\\:", ":").replace("\\;", ";").replace("\\\\", "\\").strip()
        if candidate:
            paths.append(candidate)
    return paths


def _first_pdf(candidates: list[str], base: Path) -> tuple[Path | None, Path | None]:
    """(the first attached PDF on disk; else the first one listed, which is missing: a failure names it)."""
    missing = None
    for candidate in candidates:
        p = Path(candidate).expanduser()
        if not p.is_absolute():
            p = base / p
        try:
            if p.suffix.lower() != ".pdf":
                continue
            if p.is_file():
                return p.resolve(), None
        except OSError:
            pass
        missing = missing or p
    return None, missing


# -- CSL-JSON ---------------------------------------------------------------------------------


def _load_csl(data: Any, path: Path, library: Library) -> None:
    name = path.name
    if not isinstance(data, list):
        raise SourceError(f"cannot read library {path}: not a CSL-JSON list of items")
    for i, item in enumerate(data, 1):
        where = f"{name}:item {i}"
        if not isinstance(item, dict):
            library.errors.append(f"{where}: skipped entry: not a CSL item")
            continue
        key = str(item.get("citation-key") or item.get("id") or "").strip()
        if not key:
            library.errors.append(f"{where}: skipped entry: no 'id'")
            continue
        try:
            paper = _paper_from_csl(item, key, path)
        except Exception as exc:
            library.errors.append(f"{where}: skipped entry: {exc}")
            continue
        library.add(paper, where)


def _csl_name(a: dict) -> str:
    if a.get("literal"):
        return str(a["literal"])
    family = " ".join(str(x) for x in (a.get("non-dropping-particle"), a.get("family")) if x)
    given = " ".join(str(x) for x in (a.get("given"), a.get("dropping-particle")) if x)
    return f"{family}, {given}" if given else family


def _paper_from_csl(item: dict, key: str, path: Path) -> Paper:
    authors = [_csl_name(a) for a in item.get("author") or [] if isinstance(a, dict)]
    year = None
    issued = item.get("issued") or {}
    if isinstance(issued, dict):
        parts = issued.get("date-parts") or [[None]]
        try:
            year = int(parts[0][0]) if parts and parts[0] and parts[0][0] else year_in(str(issued.get("raw", "")))
        except (TypeError, ValueError):
            year = year_in(str(issued))
    url = item.get("URL")
    doi = normalize_doi(item.get("DOI"))
    arxiv = find_arxiv_id(url, item.get("DOI"), item.get("number"), item.get("note"), item.get("archive_location"))
    aliases = []
    if item.get("citation-key") and item.get("id") and item["id"] != key:
        aliases.append(str(item["id"]))
    return Paper(
        key=key,
        title=" ".join(str(item.get("title") or "").split()),
        authors=[a for a in authors if a],
        year=year,
        arxiv_id=arxiv[0] if arxiv else None,
        arxiv_version=arxiv[1] if arxiv else None,
        doi=doi,
        url=url,
        abstract=" ".join(str(item.get("abstract") or "").split()),
        aliases=aliases,
        resolved_by=f"library:{path.name}",
    )


# -- Better BibTeX JSON --------------------------------------------------------------------------


_NOT_PAPERS = {"note", "attachment", "annotation"}


def _load_bbt(data: Any, path: Path, library: Library) -> None:
    name = path.name
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise SourceError(f"cannot read library {path}: not a Better BibTeX JSON export (no 'items')")
    for i, item in enumerate(data["items"], 1):
        where = f"{name}:item {i}"
        if not isinstance(item, dict):
            library.errors.append(f"{where}: skipped entry: not a Zotero item")
            continue
        if item.get("itemType") in _NOT_PAPERS:
            library.errors.append(f"{where}: skipped entry: a standalone {item['itemType']}, not a paper")
            continue
        try:
            paper = _paper_from_bbt(item, path)
        except Exception as exc:
            library.errors.append(f"{where}: skipped entry: {exc}")
            continue
        if not item.get("citationKey") and not EXTRA_CITATION_KEY.search(_extra(item)):
            # Older exports carry no key; derive the default one and disambiguate as Better BibTeX does.
            base, n = paper.key, 0
            while library.get(paper.key) is not None and n < 26 * 27:
                n += 1
                paper = paper.model_copy(update={"key": base + bbt_suffix(n)})
            library.warnings.append(f"{where}: no citationKey in the export; using the default-pattern key {paper.key}")
        library.add(paper, where)


def _extra(item: dict) -> str:
    extra = item.get("extra") or ""
    return "\n".join(str(x) for x in extra) if isinstance(extra, list) else str(extra)


def _paper_from_bbt(item: dict, path: Path) -> Paper:
    creators = [c for c in item.get("creators") or [] if isinstance(c, dict)]
    authors_only = [c for c in creators if c.get("creatorType", "author") == "author"] or creators
    authors = []
    for c in authors_only:
        if c.get("name"):
            authors.append(str(c["name"]))
        else:
            family, given = str(c.get("lastName") or ""), str(c.get("firstName") or "")
            authors.append(f"{family}, {given}" if given else family)
    title = " ".join(str(item.get("title") or "").split())
    year = year_in(str(item.get("date") or ""))
    extra = _extra(item)
    pinned = EXTRA_CITATION_KEY.search(extra)
    key = str(item.get("citationKey") or (pinned.group(1) if pinned else "") or bbt_key(authors, title, year))
    aliases = []
    for m in EXTRA_IDS.finditer(extra):
        aliases += [a.strip() for a in m.group(1).split(",") if a.strip()]
    url = item.get("url") or None
    arxiv = find_arxiv_id(url, item.get("DOI"), extra, item.get("number"), item.get("publicationTitle"))
    attachments = []
    for att in item.get("attachments") or []:
        if isinstance(att, dict):
            p = att.get("localPath") or att.get("path")
            if p:
                attachments.append(str(p))
    pdf, missing = _first_pdf(attachments, path.parent)
    return Paper(
        key=key,
        title=title,
        authors=authors,
        year=year,
        arxiv_id=arxiv[0] if arxiv else None,
        arxiv_version=arxiv[1] if arxiv else None,
        doi=normalize_doi(item.get("DOI")),
        url=url,
        abstract=" ".join(str(item.get("abstractNote") or "").split()),
        pdf_path=pdf,
        missing_pdf=missing,
        aliases=aliases,
        resolved_by=f"library:{path.name}",
    )


# -- remembered libraries -------------------------------------------------------------------------


def _registry(settings: Settings) -> Path:
    return settings.home / "library.json"


def _read_registry(settings: Settings) -> list[Path]:
    try:
        data = json.loads(_registry(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Path(p) for p in data.get("files", []) if isinstance(p, str)] if isinstance(data, dict) else []


def _write_registry(settings: Settings, files: list[Path]) -> None:
    target = _registry(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, json.dumps({"files": [str(p) for p in files]}, indent=2))


def remembered_libraries(settings: Settings) -> list[Path]:
    """Libraries imported with ``triage library import`` (files or Zotero data folders) that still exist."""
    return [p for p in _read_registry(settings) if p.exists()]


def remember_library(settings: Settings, path: Path) -> Library:
    """Check that ``path`` reads as a library, then remember it in the data home; returns what it holds."""
    path = library_path(path)
    library = load_library([path], zotero_base_dir=settings.zotero_base_dir)
    if not len(library):
        raise SourceError(f"{path} holds no papers" + (f" ({len(library.errors)} entries skipped)" if library.errors else ""),
                          hint="is it the library export you meant? nothing was remembered")
    files = [p for p in _read_registry(settings) if p != path] + [path]
    _write_registry(settings, files)
    return library


def forget_library(settings: Settings, path: Path) -> bool:
    """Stop remembering a library file; True if it was remembered."""
    path = library_path(path)
    files = _read_registry(settings)
    if path not in files:
        return False
    _write_registry(settings, [p for p in files if p != path])
    return True
