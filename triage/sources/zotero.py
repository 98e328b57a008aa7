"""The reader's Zotero library, read where it lives: no export step.

``library = ["zotero"]`` (the default data folder, ``~/Zotero``, or the one
Zotero's preferences name), a Zotero data folder, or its ``zotero.sqlite``.
The database is opened with SQLite's ``immutable=1``: Zotero holds an
exclusive lock while it runs, and an immutable connection takes no lock and
never touches the journal, so reading is safe while Zotero is open and can
never change a byte of the reader's library.  (The price: a write Zotero makes
during our read can be seen half-done; that surfaces as a clear "try again".)

What comes out, per regular item that is not in the trash (and not in a feed):

* the citation key, wherever it lives — Zotero 7's own ``citationKey`` field,
  a pinned ``Citation Key:`` line in Extra, or Better BibTeX's database beside
  ``zotero.sqlite`` (BBT 7's ``citationkey`` table, or the legacy LokiJS JSON
  of BBT 5/6).  Items with no key anywhere get the key Better BibTeX's default
  pattern would give them (``deanMapReduceSimplifiedData2008``), reported once
  in ``Library.warnings``;
* title, authors, year, DOI (the field, or a ``DOI:`` line in Extra), URL,
  abstract, and the arXiv id wherever Zotero or an import put it;
* the first PDF attachment that is on disk — ``storage/<key>/<file>`` for
  stored files, the path for linked files (``attachments:`` paths relative to
  the Linked Attachment Base Directory) — with a ``zotero://open-pdf`` link to
  it; a PDF the database lists but the disk lacks is kept as
  ``Paper.missing_pdf`` so a failure can say so.  Trashed attachments are
  ignored.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from triage.arxiv_id import find_arxiv_id, parse_arxiv_id
from triage.citekey import bbt_key, bbt_suffix
from triage.errors import SourceError
from triage.models import Paper
from triage.sources.library import EXTRA_CITATION_KEY, EXTRA_IDS, Library, normalize_doi, year_in

__all__ = ["ZOTERO", "is_zotero_source", "zotero_database", "default_data_dir", "load_zotero"]

#: What ``library`` holds to mean "my Zotero, wherever it keeps its data".
ZOTERO = "zotero"
_DB = "zotero.sqlite"
_BBT_DB = "better-bibtex.sqlite"

_FIELDS = ("title", "abstractNote", "date", "DOI", "url", "extra", "archiveID", "number", "citationKey")
_NOT_PAPERS = ("attachment", "note", "annotation")
_EXTRA_DOI = re.compile(r"^\s*DOI\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_EXTRA_EPRINT = re.compile(r"^\s*_?eprint\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_EXTRA_EPRINT_TYPE = re.compile(r"^\s*_?(?:eprinttype|archiveprefix)\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_PREF = re.compile(r'user_pref\("extensions\.zotero\.(dataDir|baseAttachmentPath)",\s*"((?:[^"\\]|\\.)*)"\);')
_LINKED_FILE = 2
_LINKED_URL = 3


# -- where the library is ---------------------------------------------------------------------


def is_zotero_source(path: Path) -> bool:
    """True for what names a Zotero library: ``zotero``, a data folder, or a ``zotero.sqlite``."""
    if str(path) == ZOTERO and not path.exists():
        return True
    if path.is_dir():
        return (path / _DB).is_file()
    return path.name == _DB


def _profile_prefs() -> list[Path]:
    """Zotero's ``prefs.js`` files, where the data folder and the attachment base folder are set."""
    home = Path.home()
    roots = [home / ".zotero" / "zotero", home / "Library" / "Application Support" / "Zotero" / "Profiles"]
    if appdata := os.environ.get("APPDATA"):
        roots.append(Path(appdata) / "Zotero" / "Zotero" / "Profiles")
    return sorted(p for root in roots if root.is_dir() for p in root.glob("*/prefs.js"))


def _prefs() -> dict[str, str]:
    found: dict[str, str] = {}
    for prefs in _profile_prefs():
        try:
            text = prefs.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for name, value in _PREF.findall(text):
            found.setdefault(name, json.loads(f'"{value}"'))
    return found


def default_data_dir() -> Path:
    """Zotero's data folder: ``~/Zotero``, else the one Zotero's preferences name; ``SourceError`` if neither has a library."""
    candidates = [Path.home() / "Zotero"]
    if custom := _prefs().get("dataDir"):
        candidates.append(Path(custom))
    for folder in candidates:
        if (folder / _DB).is_file():
            return folder
    raise SourceError("no Zotero library found: ~/Zotero has no zotero.sqlite",
                      hint="set library to your Zotero data folder (Zotero: Settings > Advanced > Files and Folders)")


def zotero_database(path: Path) -> Path:
    """The ``zotero.sqlite`` that ``path`` names (``zotero``, a data folder or the file itself)."""
    if str(path) == ZOTERO and not path.exists():
        return default_data_dir() / _DB
    return path / _DB if path.is_dir() else path


# -- reading ------------------------------------------------------------------------------------


@contextmanager
def _immutable(db: Path) -> Iterator[sqlite3.Connection]:
    # Percent-encoded by as_uri(), so a '?' or '#' in the reader's folder name stays part of the path.
    uri = db.resolve().as_uri() + "?immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            yield conn
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"cannot read Zotero's database {db}: {exc}",
                          hint="if Zotero is saving right now, try again in a moment") from None


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def load_zotero(path: Path, library: Library, *, base_dir: Path | None = None) -> None:
    """Read the Zotero library ``path`` names into ``library`` (see the module docstring).

    ``base_dir`` is Zotero's Linked Attachment Base Directory, for linked
    files stored as ``attachments:<relative path>``; unset, it is read from
    Zotero's preferences.
    """
    db = zotero_database(path)
    if not db.is_file():
        raise SourceError(f"cannot read library {path}: no {_DB} there",
                          hint="point library at your Zotero data folder (the one holding zotero.sqlite)")
    data_dir = db.parent
    name = f"zotero:{data_dir.name or data_dir}"
    with _immutable(db) as conn:
        tables = _tables(conn)
        if not {"items", "itemData", "itemAttachments"} <= tables:
            raise SourceError(f"cannot read library {db}: {not_zotero_reason(tables)}",
                              hint="pass the Zotero data folder that holds zotero.sqlite")
        items = _read_items(conn, tables)
    keys = _bbt_keys(data_dir / _BBT_DB)
    if base_dir is None and (pref := _prefs().get("baseAttachmentPath")):
        base_dir = Path(pref)

    keyless: list[tuple[str, Paper]] = []
    for item in items:
        paper = _paper(item, data_dir, base_dir, name, keys)
        if paper.key:
            library.add(paper, f"{name}:{item['key']}")
        else:
            keyless.append((item["key"], paper))
    generated = []
    for item_key, paper in keyless:
        # Keyed items first, so a generated key never takes a real one; disambiguated as Better BibTeX does.
        base = bbt_key(paper.authors, paper.title, paper.year)
        key, n = base, 0
        while library.get(key) is not None and n < 26 * 27:
            n += 1
            key = base + bbt_suffix(n)
        if library.add(paper.model_copy(update={"key": key}), f"{name}:{item_key}"):
            generated.append(key)
    if generated:
        library.warnings.append(f"{name}: {len(generated)} items have no citation key; they get Better BibTeX's "
                                f"default-pattern key (e.g. @{generated[0]})")
    library.files.append(data_dir)


def not_zotero_reason(tables: set[str]) -> str:
    """What a SQLite file that is not Zotero's library is, for the error message."""
    if "citationkey" in tables or "better-bibtex" in tables:
        return "it is Better BibTeX's database, not the library (zotero.sqlite sits beside it)"
    return "it is a SQLite database, but not Zotero's (no items table)"


def _read_items(conn: sqlite3.Connection, tables: set[str]) -> list[dict]:
    fields = "fieldsCombined" if "fieldsCombined" in tables else "fields"
    feeds = "AND i.libraryID NOT IN (SELECT libraryID FROM libraries WHERE type = 'feed')" if "libraries" in tables else ""
    trashed = "SELECT itemID FROM deletedItems" if "deletedItems" in tables else "SELECT NULL WHERE 0"
    groups = dict(conn.execute("SELECT libraryID, groupID FROM groups")) if "groups" in tables else {}
    rows = conn.execute(
        f"SELECT i.itemID, i.key, i.libraryID FROM items i JOIN itemTypes t USING (itemTypeID) "
        f"WHERE t.typeName NOT IN ({','.join('?' * len(_NOT_PAPERS))}) AND i.itemID NOT IN ({trashed}) {feeds} "
        f"ORDER BY i.itemID",
        _NOT_PAPERS,
    ).fetchall()
    items = {r[0]: {"key": r[1], "library": r[2], "group": groups.get(r[2]), "fields": {}, "creators": [],
                    "attachments": []} for r in rows}
    for item_id, field, value in conn.execute(
        f"SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN {fields} f USING (fieldID) "
        f"JOIN itemDataValues v USING (valueID) WHERE f.fieldName IN ({','.join('?' * len(_FIELDS))})",
        _FIELDS,
    ):
        if item_id in items and value is not None:
            items[item_id]["fields"][field] = str(value)
    for item_id, first, last, mode, role in conn.execute(
        "SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType FROM itemCreators ic "
        "JOIN creators c USING (creatorID) JOIN creatorTypes ct USING (creatorTypeID) ORDER BY ic.itemID, ic.orderIndex"
    ):
        if item_id in items:
            name = (last or "") if mode == 1 or not first else f"{last}, {first}"
            items[item_id]["creators"].append((role, name.strip()))
    for parent, link_mode, content_type, path, key in conn.execute(
        f"SELECT a.parentItemID, a.linkMode, a.contentType, a.path, i.key FROM itemAttachments a "
        f"JOIN items i USING (itemID) WHERE a.parentItemID IS NOT NULL AND a.itemID NOT IN ({trashed}) "
        f"ORDER BY i.dateAdded, a.itemID"
    ):
        if parent in items and path and link_mode != _LINKED_URL:
            is_pdf = content_type == "application/pdf" or str(path).lower().endswith(".pdf")
            if is_pdf:
                items[parent]["attachments"].append((link_mode, str(path), key))
    return list(items.values())


def _bbt_keys(db: Path) -> dict[tuple[int, str], str]:
    """Better BibTeX's keys by (libraryID, item key): BBT 7's ``citationkey`` table or the legacy LokiJS JSON."""
    if not db.is_file():
        return {}
    try:
        with _immutable(db) as conn:
            tables = _tables(conn)
            if "citationkey" in tables:
                return {(int(lib), str(key)): str(cite) for lib, key, cite in
                        conn.execute("SELECT libraryID, itemKey, citationKey FROM citationkey") if cite}
            if "better-bibtex" in tables:
                row = conn.execute("SELECT data FROM \"better-bibtex\" WHERE name = 'better-bibtex.citekey'").fetchone()
                rows = json.loads(row[0]).get("data", []) if row else []
                return {(int(r["libraryID"]), str(r["itemKey"])): str(r["citekey"]) for r in rows
                        if isinstance(r, dict) and r.get("citekey") and r.get("itemKey") and r.get("libraryID") is not None}
    except (SourceError, ValueError, TypeError, AttributeError, KeyError):
        pass  # a damaged BBT database costs the keys it holds; the default-pattern keys stand in
    return {}


def _paper(item: dict, data_dir: Path, base_dir: Path | None, name: str, bbt: dict[tuple[int, str], str]) -> Paper:
    f = item["fields"]
    extra = f.get("extra", "")
    pinned = EXTRA_CITATION_KEY.search(extra)
    key = (f.get("citationKey", "").strip() or (pinned.group(1) if pinned else "")
           or bbt.get((item["library"], item["key"]), ""))
    creators = item["creators"]
    authors = [n for role, n in creators if role == "author" and n] or [n for _, n in creators if n]
    doi_line = _EXTRA_DOI.search(extra)
    arxiv = find_arxiv_id(f.get("url"), f.get("DOI"), f.get("archiveID"), f.get("number"), extra)
    eprint = _EXTRA_EPRINT.search(extra)
    kind = _EXTRA_EPRINT_TYPE.search(extra)
    if arxiv is None and eprint and (kind is None or kind.group(1).lower() == "arxiv"):
        arxiv = parse_arxiv_id(eprint.group(1))  # ADS imports: '_eprint: 2006.09403'; '1306.007' is no id
    aliases = [a.strip() for m in EXTRA_IDS.finditer(extra) for a in m.group(1).split(",") if a.strip()]
    pdf, missing, attachment = _first_pdf(item["attachments"], data_dir, base_dir)
    link = None
    if attachment:
        where = f"groups/{item['group']}" if item["group"] is not None else "library"
        link = f"zotero://open-pdf/{where}/items/{attachment}"
    return Paper(
        key=key,
        title=" ".join(f.get("title", "").split()),
        authors=authors,
        year=year_in(f.get("date", "")),
        arxiv_id=arxiv[0] if arxiv else None,
        arxiv_version=arxiv[1] if arxiv else None,
        doi=normalize_doi(f.get("DOI") or (doi_line.group(1) if doi_line else None)),
        url=f.get("url") or None,
        abstract=" ".join(f.get("abstractNote", "").split()),
        pdf_path=pdf,
        missing_pdf=missing,
        zotero_pdf=link,
        aliases=aliases,
        resolved_by=name,
    )


def _attachment_path(link_mode: int, raw: str, key: str, data_dir: Path, base_dir: Path | None) -> Path | None:
    if raw.startswith("storage:"):
        return data_dir / "storage" / key / raw.removeprefix("storage:")
    if link_mode == _LINKED_FILE:
        if raw.startswith("attachments:"):
            return base_dir / raw.removeprefix("attachments:") if base_dir else None
        return Path(raw)
    return None


def _first_pdf(attachments: list[tuple[int, str, str]], data_dir: Path,
               base_dir: Path | None) -> tuple[Path | None, Path | None, str | None]:
    """(the first PDF on disk, else None; the first listed but missing; the attachment key of the one on disk)."""
    missing = None
    for link_mode, raw, key in attachments:
        path = _attachment_path(link_mode, raw, key, data_dir, base_dir)
        if path is None:
            continue
        try:
            if path.is_file():
                return path, None, key
        except OSError:
            pass
        missing = missing or path
    return None, missing, None

