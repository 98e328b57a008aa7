"""Small Zotero data folders made with sqlite3, in the real schema's shape (the tables triage reads).

The real libraries in ``../shared/corpus/zotero`` cover what people's Zotero
looks like; these cover what those lack: Zotero 7's own ``citationKey`` field
filled in, linked files, group libraries, feeds, a database Zotero holds locked.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.servers.arxiv_replay import make_pdf

_SCHEMA = """
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL DEFAULT 1);
CREATE TABLE groups (groupID INTEGER PRIMARY KEY, libraryID INT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT);
CREATE TABLE fieldsCombined (fieldID INTEGER PRIMARY KEY, fieldName TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL);
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID INT, PRIMARY KEY (itemID, fieldID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1,
    orderIndex INT NOT NULL DEFAULT 0);
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT, path TEXT);
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY);
"""
_TYPES = ["journalArticle", "preprint", "attachment", "note", "annotation", "book"]
_FIELDS = ["title", "abstractNote", "date", "DOI", "url", "extra", "archiveID", "number", "citationKey"]


def make_zotero(folder: Path, items: list[dict[str, Any]], *, group_library: int | None = None) -> Path:
    """A Zotero data folder at ``folder`` holding ``items``; returns its ``zotero.sqlite``.

    An item: ``key``, ``fields`` (name -> value), ``authors`` ([(last, first)]),
    ``trashed``, ``library`` (1, or 2 for the group/feed), ``type``; and
    ``attachments``: ``key``, ``path`` (as Zotero stores it), ``link_mode``
    (1 stored, 2 linked), ``pdf`` (bytes to write under ``storage/`` or None
    for a missing file), ``trashed``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "zotero.sqlite"
    db = sqlite3.connect(db_path)
    db.executescript(_SCHEMA)
    db.execute("INSERT INTO libraries VALUES (1, 'user', 1)")
    if group_library is not None:
        db.execute("INSERT INTO libraries VALUES (2, 'group', 1)")
        db.execute("INSERT INTO groups VALUES (?, 2, 'lab')", (group_library,))
    else:
        db.execute("INSERT INTO libraries VALUES (2, 'feed', 0)")
    db.executemany("INSERT INTO itemTypes VALUES (?, ?)", list(enumerate(_TYPES, 1)))
    db.executemany("INSERT INTO fieldsCombined VALUES (?, ?)", [(i + 100, f) for i, f in enumerate(_FIELDS)])
    db.executemany("INSERT INTO creatorTypes VALUES (?, ?)", [(1, "author"), (2, "editor")])
    next_id = iter(range(1, 10_000))
    for item in items:
        item_id = next(next_id)
        db.execute("INSERT INTO items (itemID, itemTypeID, libraryID, key, dateAdded) VALUES (?, ?, ?, ?, ?)",
                   (item_id, _TYPES.index(item.get("type", "journalArticle")) + 1, item.get("library", 1), item["key"],
                    f"2024-01-01 00:00:{item_id:02d}"))
        for name, value in item.get("fields", {}).items():
            db.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
            value_id = db.execute("SELECT valueID FROM itemDataValues WHERE value = ?", (value,)).fetchone()[0]
            db.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, _FIELDS.index(name) + 100, value_id))
        for order, (last, first) in enumerate(item.get("authors", [])):
            cur = db.execute("INSERT INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                             (first, last, 0 if first else 1))
            db.execute("INSERT INTO itemCreators VALUES (?, ?, 1, ?)", (item_id, cur.lastrowid, order))
        if item.get("trashed"):
            db.execute("INSERT INTO deletedItems VALUES (?)", (item_id,))
        for att in item.get("attachments", []):
            att_id = next(next_id)
            db.execute("INSERT INTO items (itemID, itemTypeID, libraryID, key, dateAdded) VALUES (?, 3, ?, ?, ?)",
                       (att_id, item.get("library", 1), att["key"], f"2024-01-02 00:00:{att_id:02d}"))
            db.execute("INSERT INTO itemAttachments VALUES (?, ?, ?, 'application/pdf', ?)",
                       (att_id, item_id, att.get("link_mode", 1), att["path"]))
            if att.get("trashed"):
                db.execute("INSERT INTO deletedItems VALUES (?)", (att_id,))
            if att.get("pdf") is not None and att["path"].startswith("storage:"):
                target = folder / "storage" / att["key"] / att["path"].removeprefix("storage:")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(att["pdf"])
    db.commit()
    db.close()
    return db_path


def small_library(folder: Path) -> Path:
    """A library with a key in each place Zotero keeps one, and the attachment cases."""
    return make_zotero(folder, [
        {"key": "NATIVE01", "fields": {"title": "Routing Adapters on Frozen Backbones", "date": "2024-03-00 3/2024",
                                        "citationKey": "okaforRoutingAdaptersFrozen2024",
                                        "abstractNote": "We route  small adapters\nbetween frozen backbones.",
                                        "url": "https://arxiv.org/abs/2403.01234v2"},
         "authors": [("Okafor", "Ada")],
         "attachments": [{"key": "ATTSTORE", "path": "storage:Okafor - 2024 - Routing.pdf", "pdf": make_pdf("Routing")}]},
        {"key": "EXTRA001", "fields": {"title": "Federated LoRA Merging", "date": "2024",
                                        "extra": "Citation Key: haddadFederatedLoRAMerging2024\ntex.ids: haddad2024fed",
                                        "archiveID": "arXiv:2401.00007"},
         "authors": [("Haddad", "Sami")],
         "attachments": [{"key": "GONE0001", "path": "storage:gone.pdf", "pdf": None}]},
        {"key": "NOKEY001", "fields": {"title": "The Tabular Benchmark of Crop Yield", "date": "2022-00-00 2022",
                                        "extra": "_eprint: 2201.00042\nDOI: 10.1234/CROP.42"},
         "authors": [("Moreau", "Lea")]},
        {"key": "NOKEY002", "fields": {"title": "The Tabular Benchmark of Crop Yield", "date": "2022"},
         "authors": [("Moreau", "Lea")]},
        {"key": "TRASHED1", "trashed": True, "fields": {"title": "Thrown Away", "citationKey": "binnedPaperTrash2020"}},
        {"key": "FEEDITEM", "library": 2, "fields": {"title": "From a feed", "citationKey": "feedItemOnly2025"}},
        {"key": "ANOTE001", "type": "note", "fields": {"title": "a note"}},
        {"key": "TRASHATT", "fields": {"title": "Only a Trashed PDF", "citationKey": "trashedPdfOnly2021"},
         "attachments": [{"key": "BINNED01", "path": "storage:binned.pdf", "pdf": make_pdf("Binned"), "trashed": True}]},
    ])
