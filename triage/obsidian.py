"""Obsidian's conventions, so what triage adds to a vault lands where the reader's own files do.

A note is in a vault when a folder above it holds ``.obsidian/``.  Pictures go
to the vault's attachment folder, ``attachmentFolderPath`` in
``.obsidian/app.json``, as Obsidian itself resolves it:

* ``/`` — the vault's root;
* ``./`` — the note's own folder; ``./sub`` — a folder below the note;
* ``Attachments/Images`` — that folder of the vault.

Outside a vault, or when the vault sets no folder (or ``app.json`` does not
parse), snapshots go to ``asset/`` next to the note, as in the seed.  A setting
that would leave the vault (``../..``) is not followed.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["find_vault", "attachment_folder", "DEFAULT_ASSET_DIR"]

#: Where snapshots go outside a vault: next to the note, as the seed's ``![](asset/…)`` shows.
DEFAULT_ASSET_DIR = "asset"


def find_vault(note: Path) -> Path | None:
    """The vault folder holding ``note`` (the nearest folder above it with ``.obsidian/``), if any."""
    for folder in Path(note).resolve().parents:
        if (folder / ".obsidian").is_dir():
            return folder
    return None


def attachment_folder(note: Path) -> Path:
    """Where pictures for ``note`` go (absolute): the vault's attachment folder, else ``asset/`` beside the note."""
    note = Path(note).resolve()
    fallback = note.parent / DEFAULT_ASSET_DIR
    vault = find_vault(note)
    if vault is None:
        return fallback
    try:
        setting = json.loads((vault / ".obsidian" / "app.json").read_text(encoding="utf-8")).get("attachmentFolderPath")
    except (OSError, ValueError, AttributeError):
        return fallback
    if not isinstance(setting, str) or not setting.strip():
        return fallback
    setting = setting.strip()
    if setting == "/":
        folder = vault
    elif setting == "." or setting.startswith("./"):
        folder = note.parent / setting[2:]
    else:
        folder = vault / setting.strip("/")
    folder = folder.resolve()
    return folder if folder == vault or vault in folder.parents else fallback
