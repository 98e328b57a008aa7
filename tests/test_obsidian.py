"""Obsidian vaults: snapshots in the vault's attachment folder, `[[@key]]` links when asked, literature notes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_run import invoke, run_note
from triage.notes import format_entry, parse
from triage.obsidian import attachment_folder, find_vault

KEY = "okaforRoutingAdaptersFrozen2024"


def vault_with(root: Path, app_json: str | None) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    if app_json is not None:
        (root / ".obsidian" / "app.json").write_text(app_json, encoding="utf-8")
    (root / "Sessions" / "2026").mkdir(parents=True)
    return root / "Sessions" / "2026" / "2026-11-28.md"


@pytest.mark.parametrize("setting, expected", [
    ('{"attachmentFolderPath": "Attachments/Images"}', "Attachments/Images"),
    ('{"attachmentFolderPath": "/"}', ""),
    ('{"attachmentFolderPath": "./"}', "Sessions/2026"),
    ('{"attachmentFolderPath": "./assets"}', "Sessions/2026/assets"),
    ('{"attachmentFolderPath": "../../outside"}', "Sessions/2026/asset"),  # never out of the vault
    ('{"showLineNumber": true}', "Sessions/2026/asset"),  # the vault sets none: the seed's asset/
    ("{not json", "Sessions/2026/asset"),
    (None, "Sessions/2026/asset"),
])
def test_the_attachment_folder_follows_app_json(tmp_path: Path, setting: str | None, expected: str) -> None:
    note = vault_with(tmp_path / "vault", setting)
    assert find_vault(note) == (tmp_path / "vault").resolve()
    assert attachment_folder(note) == ((tmp_path / "vault") / expected).resolve()


def test_outside_a_vault_snapshots_go_to_asset(tmp_path: Path) -> None:
    assert find_vault(tmp_path / "note.md") is None
    assert attachment_folder(tmp_path / "note.md") == (tmp_path / "asset").resolve()


def test_a_vault_run_puts_snapshots_in_its_folder_and_writes_wikilinks_when_asked(
    tmp_path: Path, sample_papers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "My Vault"
    note = vault_with(vault, '{"attachmentFolderPath": "Attachments/Paper Snapshots"}')
    note.write_text(f"## Context\n- Routing: [[@{KEY}]]\n\n## Log\n", encoding="utf-8")
    monkeypatch.setenv("TRIAGE_NOTES__WIKILINKS", "true")
    code, out, err = run_note(note, sample_papers / "library.bib")
    assert code == 0, err
    text = note.read_text(encoding="utf-8")
    assert f"- [skim([[@{KEY}]])]\n" in text and f"- [read([[@{KEY}]])]\n" in text
    image = re.search(r"!\[\]\(([^)]+)\)", text).group(1)
    assert image == f"../../Attachments/Paper%20Snapshots/{KEY}_conclusion.png"
    assert (vault / "Attachments" / "Paper Snapshots" / f"{KEY}_conclusion.png").is_file()
    assert not (note.parent / "asset").exists()
    # The links read back as entries: a second run adds nothing.
    code, out, err = run_note(note, sample_papers / "library.bib", "--json")
    assert note.read_text(encoding="utf-8") == text and json.loads(out)["skipped"] == [KEY]


def test_plain_keys_by_default_even_in_a_vault(tmp_path: Path, sample_papers: Path) -> None:
    note = vault_with(tmp_path / "vault", '{"attachmentFolderPath": "./"}')
    note.write_text(f"- @{KEY}\n", encoding="utf-8")
    assert run_note(note, sample_papers / "library.bib")[0] == 0
    text = note.read_text(encoding="utf-8")
    assert f"- [skim(@{KEY})]\n" in text and f"![]({KEY}_conclusion.png)" in text
    assert (note.parent / f"{KEY}_conclusion.png").is_file()


def test_wikilink_entries_parse_with_or_without_an_alias() -> None:
    note = parse("## Log\n- [skim([[@aKey2020]])]\n  - x\n- [read([[@bKey2021|Some Title]])] promoted by the reader\n"
                 "- [skim([[notACitekey]])]\n")
    assert [(e.status, e.key) for e in note.entries] == [("skim", "aKey2020"), ("read", "bKey2021")]
    assert format_entry("skim", "aKey2020", ["x"], wikilink=True) == "- [skim([[@aKey2020]])]\n  - x\n"


def test_a_literature_notes_citekey_front_matter_names_its_paper(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / f"@{KEY}.md").write_text(f'---\ncitekey: "{KEY}"\ntitle: Routing adapters\n---\n# Notes\nGood stuff.\n',
                                      encoding="utf-8")
    code, out, err = invoke("note", "show", str(vault / f"@{KEY}.md"), "--json")
    assert json.loads(out)["mentions"] == [{"key": KEY, "line": 2, "section": "front matter"}]
    code, out, err = invoke("queue", str(vault), "--json")
    assert [q["key"] for q in json.loads(out)] == [KEY]
