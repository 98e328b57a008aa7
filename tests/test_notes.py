"""Reading notes: lossless parsing, the reader's annotations, and insert-only atomic writes."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, SHARED
from triage import notes
from triage.errors import NoteConflictError, NoteError
from triage.notes import append_to_done, append_to_log, format_entry, insert_into_section, parse, read_note

DATA = REPO / "tests" / "data" / "notes"
FIXTURES = sorted(DATA.glob("*.md"))
SEED = SHARED / "seed" / "reading-session.md"


@pytest.fixture
def seed() -> Path:
    """The reader's real note (never copied into the repo); skips when ``../shared`` is absent."""
    if not SEED.is_file():
        pytest.skip("../shared/seed/reading-session.md is not present")
    return SEED


@pytest.fixture
def seed_copy(seed: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "reading-session.md"
    shutil.copyfile(seed, copy)
    return copy


def fixture(name: str, folder: Path) -> Path:
    """A scratch copy of fixture ``name`` in ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / name
    shutil.copyfile(DATA / name, copy)
    return copy


def only_insertion(old: str, new: str) -> str:
    """The text ``new`` adds to ``old``, asserting it is one contiguous insertion and nothing else changed."""
    assert len(new) >= len(old)
    i = 0
    while i < len(old) and old[i] == new[i]:
        i += 1
    added = len(new) - len(old)
    assert new[:i] + new[i + added :] == old, "bytes of the original were changed, not only added to"
    return new[i : i + added]


# -- the seed note ---------------------------------------------------------------------


def test_the_seed_round_trips_byte_for_byte(seed: Path) -> None:
    assert read_note(seed).to_text().encode("utf-8") == seed.read_bytes()


def test_the_seed_has_four_skims_and_one_read_in_order(seed: Path) -> None:
    note = read_note(seed)
    assert [(e.status, e.key) for e in note.entries] == [
        ("skim", "pfeifferModularDeepLearning2023"),
        ("skim", "liTrainLargeThen2020"),
        ("skim", "merulloLinearlyMappingImage2022"),
        ("skim", "huangComposerCreativeControllable2023"),
        ("read", "pfeifferModularDeepLearning2023"),
    ]
    assert note.entry_keys("skim") == {
        "pfeifferModularDeepLearning2023",
        "liTrainLargeThen2020",
        "merulloLinearlyMappingImage2022",
        "huangComposerCreativeControllable2023",
    }
    assert note.entry_keys("read") == {"pfeifferModularDeepLearning2023"}
    assert [s.title for s in note.sections] == ["tl;dr", "Context", "Done", "Learned", "Next?", "Log"]


def test_seed_entries_have_their_spans_children_annotations_and_images(seed: Path) -> None:
    note = read_note(seed)
    lines = seed.read_text(encoding="utf-8").split("\n")
    skim, li, merullo, huang, read = note.entries
    # Spans are 0-based and inclusive, and the blocks tile the log with no gaps.
    assert lines[skim.start_line] == "- [skim(@pfeifferModularDeepLearning2023)]"
    assert [e.start_line for e in note.entries[1:]] == [e.end_line + 1 for e in note.entries[:-1]]
    assert read.end_line == len(lines) - 1 == note.sections[-1].end_line
    assert skim.children == lines[skim.start_line + 1 : skim.end_line + 1]
    assert skim.images == ["asset/mdl_conclusion.png"]
    assert li.annotations == [] and huang.annotations == []
    assert merullo.annotations == [
        "hypothesize -> `co-occurrence` and `causality in time` are enough to bootstrap multimodal intelligence.",
        "soliloquy",
    ]
    assert merullo.images == ["asset/jepa.png"]
    assert read.annotations == ["soliloquy", "question -> what is the proper API to construct such system?"]
    assert read.images == ["asset/mdl_algorithm.png", "asset/mdl_overview.png"]
    assert read.children[-1] == "  - "  # the reader's empty last bullet, trailing space and all


def test_seed_mentions_and_the_papers_never_skimmed(seed: Path) -> None:
    note = read_note(seed)
    keys = [m.key for m in note.mentions]
    for key in ("baiConstitutionalAIHarmlessness2022", "nagraniAttentionBottlenecksMultimodal2022",
                "lecunPathAutonomousMachine2022", "dupontDataFunctaYour2022",
                "mialonAugmentedLanguageModels2023", "rombachHighResolutionImageSynthesis2022",
                "huangComposerCreativeControllable2023"):
        assert key in keys
    unskimmed = {m.key for m in note.unskimmed_mentions()}
    assert unskimmed == {
        "rombachHighResolutionImageSynthesis2022", "baiConstitutionalAIHarmlessness2022",
        "nagraniAttentionBottlenecksMultimodal2022", "lecunPathAutonomousMachine2022",
        "dupontDataFunctaYour2022", "mialonAugmentedLanguageModels2023",
    }
    rombach = next(m for m in note.mentions if m.key.startswith("rombach"))
    assert (rombach.section, rombach.line) == ("Context", 4)
    bai = next(m for m in note.mentions if m.key.startswith("bai"))
    assert bai.section == "Log" and "@baiConstitutionalAIHarmlessness2022" in note.text.split("\n")[bai.line]


def test_appending_to_the_seed_changes_nothing_above_the_new_lines(seed_copy: Path, tmp_path: Path) -> None:
    before = seed_copy.read_text(encoding="utf-8")
    block = format_entry("skim", "rombachHighResolutionImageSynthesis2022", ['"We achieve new state of the art."', "triage: read"])
    after = append_to_log(seed_copy, [block], backup_dir=tmp_path / "backups").text
    assert seed_copy.read_text(encoding="utf-8") == after
    assert after.startswith(before)
    diff = [d for d in difflib.ndiff(before.split("\n"), after.split("\n")) if d[:1] in "+-?"]
    # The seed's last line '  - ' has no newline: ours starts one, and ends without one like the seed did.
    assert diff == [
        "+ - [skim(@rombachHighResolutionImageSynthesis2022)]",
        '+   - "We achieve new state of the art."',
        "+   - triage: read",
    ]
    assert not after.endswith("\n")
    note = read_note(seed_copy)
    assert note.entries[-1].key == "rombachHighResolutionImageSynthesis2022"
    assert "rombachHighResolutionImageSynthesis2022" not in {m.key for m in note.unskimmed_mentions()}


def test_marking_done_on_the_seed_inserts_under_done_only(seed_copy: Path) -> None:
    before = seed_copy.read_text(encoding="utf-8")
    after = append_to_done(seed_copy, ["- @pfeifferModularDeepLearning2023"]).text
    assert only_insertion(before, after) == "- @pfeifferModularDeepLearning2023\n"
    assert after.index("- @pfeifferModularDeepLearning2023") == before.index("## Done\n") + len("## Done\n")
    assert read_note(seed_copy).section("Done").end_line == 10  # its two blank lines stay below the new line


# -- fixtures: line endings, whitespace, unicode, odd markdown ---------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixtures_round_trip_byte_for_byte(path: Path) -> None:
    note = read_note(path)
    assert note.to_text().encode("utf-8") == path.read_bytes()
    assert note.path == path


def test_crlf_lines_are_split_without_their_carriage_return() -> None:
    note = read_note(DATA / "crlf.md")
    (entry,) = note.entries
    assert entry.key == "smithFrozenBackbones2021" and entry.annotations == ["soliloquy"]
    assert entry.children == ['  - "Frozen backbones are enough."', "  - [soliloquy]", "    - Compare with @leeAdapterRouting2022."]
    assert [m.key for m in note.unskimmed_mentions()] == ["leeAdapterRouting2022"]


def test_tabs_trailing_whitespace_and_blank_lines_inside_a_block() -> None:
    note = read_note(DATA / "whitespace.md")
    tab, drop = note.entries
    assert tab.children == [
        "\t- child indented with a tab  ",
        "\t\t- [question -> does the tab survive?]",
        "",
        "\t- after a blank line, still a child",
    ]
    assert tab.annotations == ["question -> does the tab survive?"]
    assert (drop.status, drop.key, drop.children) == ("drop", "dropMeLater2017", ["    - four-space child"])
    assert note.entry_keys("drop") == {"dropMeLater2017"} and note.entry_keys("skim") == {"tabKeyPaper2018"}
    assert note.unskimmed_mentions() == []


def test_unicode_keys_text_images_and_a_byte_order_mark() -> None:
    note = read_note(DATA / "unicode.md")
    assert note.sections[0].title == "tl;dr"  # the BOM does not hide the first heading
    first, second = note.entries
    assert first.key == "müllerKernelMethods2020" and first.images == ["asset/überblick.png"]
    assert (second.status, second.key) == ("Skim", "zhangShuTi2023")
    assert note.entry_keys("skim") == {"müllerKernelMethods2020", "zhangShuTi2023"}  # status compared case-insensitively
    assert [m.key for m in note.mentions] == ["oyvindStudy2021"]


def test_code_urls_emails_and_front_matter_are_not_mentions() -> None:
    note = read_note(DATA / "tricky.md")
    assert [(m.key, m.section) for m in note.mentions] == [("realKey2020", "Context"), ("otherKey2019", "Log")]
    # The '## Log' inside the fenced block is code; '### Sub heading' is content, not a section.
    assert [s.title for s in note.sections] == ["Title", "Context", "Log"]
    skim, read = note.entries
    assert skim.annotations == ["hypothesize -> `code` stays", "TODO"]  # not links, wiki links, footnotes, checkboxes
    assert skim.images == ["asset/a.png", "embed.png"]
    assert (read.status, read.key) == ("read", "realKey2020")


def test_a_note_without_a_log_has_no_entries() -> None:
    note = read_note(DATA / "no-log.md")
    assert note.entries == [] and note.section("Log") is None
    assert [m.key for m in note.unskimmed_mentions()] == ["haddadFederatedLoRAMerging2024"]


def test_entries_outside_the_log_do_not_count() -> None:
    note = parse("## Next?\n- [skim(@planned2020)]\n\n## Log\n- [skim(@done2019)]\n")
    assert note.entry_keys() == {"done2019"}
    # A skim the reader plans under 'Next?' is still waiting: it is a mention, and queued.
    assert [(m.key, m.section) for m in note.unskimmed_mentions()] == [("planned2020", "Next?")]


def test_trailing_text_after_the_bracket_is_kept_and_scanned() -> None:
    note = parse("## Log\n- [read(@a2020)] finally, after @b2021 [question -> why?]\n  - ok\n")
    (entry,) = note.entries
    assert (entry.status, entry.key, entry.annotations) == ("read", "a2020", ["question -> why?"])
    assert [m.key for m in note.mentions] == ["b2021"]


# -- writing ---------------------------------------------------------------------------------


def test_format_entry_matches_the_seed_style() -> None:
    block = format_entry("skim", "@pfeifferModularDeepLearning2023", ["![](asset/x.png)", "Key dimensions:", ["adapter", ["LoRA"]], "last"])
    assert block == (
        "- [skim(@pfeifferModularDeepLearning2023)]\n"
        "  - ![](asset/x.png)\n"
        "  - Key dimensions:\n"
        "    - adapter\n"
        "      - LoRA\n"
        "  - last\n"
    )
    assert format_entry("read", "k2020", ["a\nb", ""], newline="\r\n", indent="\t") == "- [read(@k2020)]\r\n\t- a\r\n\t  b\r\n"
    (entry,) = parse("## Log\n" + block).entries
    assert entry.key == "pfeifferModularDeepLearning2023" and entry.images == ["asset/x.png"] and len(entry.children) == 5


@pytest.mark.parametrize("status, key", [("skim", "bad key"), ("skim", "k)"), ("skim", "10.1000/xyz"), ("ski m", "k2020"), ("", "k2020")])
def test_format_entry_refuses_what_would_not_parse_back(status: str, key: str) -> None:
    with pytest.raises(NoteError, match="cannot write a log entry"):
        format_entry(status, key, ["x"])


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_appending_only_inserts_in_the_log_in_the_notes_own_line_ending(path: Path, tmp_path: Path) -> None:
    note = fixture(path.name, tmp_path)
    before = note.read_bytes().decode("utf-8")
    after = append_to_log(note, [format_entry("skim", "newKey2024", ["one", ["two"]])]).text
    added = only_insertion(before, after)
    nl = "\r\n" if "\r\n" in before else "\n"
    assert "- [skim(@newKey2024)]" + nl + "  - one" + nl + "    - two" in added
    assert ("\r\n" in added) == (nl == "\r\n")
    assert after.endswith("\n") == before.endswith("\n")
    reparsed = read_note(note)
    new_entry = reparsed.entries[-1] if reparsed.entries[-1].key == "newKey2024" else None
    assert new_entry is not None
    log = reparsed.section("Log")
    assert log.start_line < new_entry.start_line <= log.end_line
    old = parse(before)
    assert [(e.status, e.key, e.children) for e in reparsed.entries[:-1]] == [(e.status, e.key, e.children) for e in old.entries]


def test_trailing_blank_lines_of_the_log_stay_after_the_new_entries(tmp_path: Path) -> None:
    note = fixture("whitespace.md", tmp_path)
    after = append_to_log(note, [format_entry("skim", "x2020", ["y"])]).text
    assert "    - four-space child\n- [skim(@x2020)]\n  - y\n   \n\n\n## Next?\n- nothing yet\n" in after


def test_a_missing_log_is_created_at_the_end(tmp_path: Path) -> None:
    note = fixture("no-log.md", tmp_path)
    before = note.read_text(encoding="utf-8")
    after = append_to_log(note, [format_entry("skim", "haddadFederatedLoRAMerging2024", ["x"])]).text
    assert after == before + "\n## Log\n- [skim(@haddadFederatedLoRAMerging2024)]\n  - x\n"
    assert insert_into_section("", "Log", ["- [skim(@a2020)]\n"]) == "## Log\n- [skim(@a2020)]\n"
    assert insert_into_section("text", "Log", ["- [skim(@a2020)]\n"]) == "text\n\n## Log\n- [skim(@a2020)]"


def test_a_missing_done_goes_before_the_log(tmp_path: Path) -> None:
    note = fixture("crlf.md", tmp_path)
    note.write_bytes(note.read_bytes().replace(b"## Done\r\n\r\n", b""))
    before = note.read_bytes().decode("utf-8")
    after = append_to_done(note, ["- @smithFrozenBackbones2021"]).text
    assert after == before.replace("## Log", "## Done\r\n- @smithFrozenBackbones2021\r\n\r\n## Log", 1)
    assert after.index("## Done") < after.index("## Log")


def test_an_open_code_fence_is_closed_before_the_new_entry() -> None:
    after = insert_into_section("## Log\n```python\n@decorator\n", "Log", ["- [skim(@a2020)]\n"])
    assert after == "## Log\n```python\n@decorator\n```\n- [skim(@a2020)]\n"
    assert parse(after).entry_keys() == {"a2020"}


def test_nothing_to_add_means_no_write_at_all(seed_copy: Path, tmp_path: Path) -> None:
    os.utime(seed_copy, ns=(1_000_000_000, 1_000_000_000))
    text = append_to_log(seed_copy, [], backup_dir=tmp_path / "backups").text
    assert append_to_log(seed_copy, ["", "  \n"], backup_dir=tmp_path / "backups").text == text
    assert append_to_done(seed_copy, []) == notes.NoteEdit(text, written=False)
    assert seed_copy.stat().st_mtime_ns == 1_000_000_000
    assert text.encode("utf-8") == seed_copy.read_bytes()
    assert not (tmp_path / "backups").exists()


def test_a_crash_before_the_rename_leaves_the_note_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    note = fixture("crlf.md", tmp_path / "vault")
    before = note.read_bytes()

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(NoteError, match="could not write note"):
        append_to_log(note, [format_entry("skim", "a2020", ["x"])])
    assert note.read_bytes() == before
    assert sorted(p.name for p in note.parent.iterdir()) == ["crlf.md"]


def test_the_file_mode_is_kept_and_a_symlinked_note_stays_a_symlink(tmp_path: Path) -> None:
    real = fixture("no-final-newline.md", tmp_path)
    real.chmod(0o600)
    link = tmp_path / "link.md"
    link.symlink_to(real)
    append_to_log(link, [format_entry("skim", "a2020", ["x"])])
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert "- [skim(@a2020)]" in real.read_text(encoding="utf-8")


def test_the_readers_save_between_read_and_write_is_kept(seed_copy: Path, tmp_path: Path) -> None:
    note = read_note(seed_copy)
    # The reader types in their editor and saves while triage is judging papers.
    edited = note.text.replace("Dig deeper. \n", "Dig deeper. \n- A new thought the reader just saved.\n")
    seed_copy.write_text(edited, encoding="utf-8")
    after = append_to_log(seed_copy, [format_entry("skim", "baiConstitutionalAIHarmlessness2022", ["x"])],
                          backup_dir=tmp_path / "b", expected_text=note.text).text
    assert only_insertion(edited, after) == "\n- [skim(@baiConstitutionalAIHarmlessness2022)]\n  - x"
    (backup,) = list((tmp_path / "b").rglob("*.md"))
    assert backup.read_text(encoding="utf-8") == edited  # the version we replaced is the reader's latest


def test_a_save_during_the_write_is_re_read_and_re_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    note = fixture("no-log.md", tmp_path)
    original = note.read_text(encoding="utf-8")
    real_write_tmp = notes._write_tmp
    calls = []

    def reader_saves_meanwhile(target: Path, data: bytes, temp_dir: Path | None = None) -> str:
        tmp = real_write_tmp(target, data, temp_dir)
        if not calls:
            note.write_text(original + "- saved during the write\n", encoding="utf-8")
        calls.append(tmp)
        return tmp

    monkeypatch.setattr(notes, "_write_tmp", reader_saves_meanwhile)
    after = append_to_log(note, [format_entry("skim", "a2020", ["x"])], expected_text=original).text
    assert len(calls) == 2
    assert after == original + "- saved during the write\n\n## Log\n- [skim(@a2020)]\n  - x\n"
    assert note.read_text(encoding="utf-8") == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no-log.md"]


def test_a_note_that_never_stops_changing_is_a_conflict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    note = fixture("no-log.md", tmp_path)
    real_write_tmp = notes._write_tmp

    def always_saving(target: Path, data: bytes, temp_dir: Path | None = None) -> str:
        tmp = real_write_tmp(target, data, temp_dir)
        with note.open("a", encoding="utf-8") as f:
            f.write("- typing\n")
        return tmp

    monkeypatch.setattr(notes, "_write_tmp", always_saving)
    with pytest.raises(NoteConflictError):
        append_to_log(note, [format_entry("skim", "a2020", ["x"])], expected_text=note.read_text(encoding="utf-8"))
    assert "a2020" not in note.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no-log.md"]


def test_a_note_deleted_after_reading_is_a_conflict(tmp_path: Path) -> None:
    note = fixture("no-log.md", tmp_path)
    text = note.read_text(encoding="utf-8")
    note.unlink()
    with pytest.raises(NoteConflictError):
        append_to_log(note, [format_entry("skim", "a2020", ["x"])], expected_text=text)
    assert not note.exists()


def test_a_concurrent_run_that_wrote_the_same_entry_does_not_duplicate_it(tmp_path: Path) -> None:
    note = fixture("no-log.md", tmp_path)
    text = note.read_text(encoding="utf-8")
    blocks = [format_entry("skim", "a2020", ["first run"]), format_entry("skim", "b2021", ["x"])]
    append_to_log(note, [format_entry("skim", "a2020", ["other run"])], expected_text=text)
    edit = append_to_log(note, blocks, expected_text=text)
    after = edit.text
    assert after.count("[skim(@a2020)]") == 1 and after.count("[skim(@b2021)]") == 1
    assert edit.written and edit.added == (blocks[1],)  # only the entry this edit wrote is its own
    # A third run that found everything written already writes nothing, and says so (both used to say "updated").
    assert append_to_log(note, blocks, expected_text=text) == notes.NoteEdit(after, written=False)
    # Without a conflict the caller's blocks are written as given (a skim then a read is normal).
    again = append_to_log(note, [format_entry("read", "a2020", ["y"])]).text
    assert again.count("@a2020") == 2


def test_backups_keep_the_last_twenty_versions_per_note(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    note = fixture("no-log.md", tmp_path / "a")
    versions = []
    for i in range(25):
        versions.append(note.read_bytes())
        append_to_log(note, [format_entry("skim", f"k{i}x2020", ["x"])], backup_dir=backups)
    (folder,) = list(backups.iterdir())
    assert folder.name.startswith("no-log-")
    kept = sorted(folder.iterdir())
    assert len(kept) == 20
    assert [p.read_bytes() for p in kept] == versions[-20:]
    # A note with the same name in another folder gets its own history.
    other = fixture("no-log.md", tmp_path / "b")
    append_to_log(other, [format_entry("skim", "a2020", ["x"])], backup_dir=backups)
    assert len(list(backups.iterdir())) == 2


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "note not found"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b"## Log\n\xff\xfe broken"), "not UTF-8"),
    ],
)
def test_unreadable_notes_raise_a_clear_note_error(tmp_path: Path, setup, message: str) -> None:
    path = tmp_path / "note.md"
    setup(path)
    with pytest.raises(NoteError, match=message):
        read_note(path)
    with pytest.raises(NoteError, match=message):
        append_to_log(path, [format_entry("skim", "a2020", ["x"])])


# -- new notes, vaults, the queue -----------------------------------------------------------------


def test_a_new_note_has_the_seed_sections_and_a_date() -> None:
    text = notes.new_note("Modular DL", date(2026, 11, 28))
    note = parse(text)
    assert [s.title for s in note.sections] == ["Modular DL — 2026-11-28", *notes.TEMPLATE_SECTIONS]
    assert note.entries == [] and note.mentions == []
    assert "2026-11-28" in notes.new_note(None, date(2026, 11, 28))
    filled = insert_into_section(text, "Log", [format_entry("skim", "a2020", ["x"])])
    assert filled.endswith("## Log\n- [skim(@a2020)]\n  - x\n")


def test_new_note_paths_never_overwrite(tmp_path: Path) -> None:
    first = notes.new_note_path(tmp_path, "Modular DL?", date(2026, 11, 28))
    assert first.name == "2026-11-28-modular-dl.md"
    first.write_text("x")
    assert notes.new_note_path(tmp_path, "Modular DL?", date(2026, 11, 28)).name == "2026-11-28-modular-dl-2.md"


def test_find_notes_walks_a_vault_and_skips_hidden_folders_and_editor_backups(tmp_path: Path) -> None:
    for rel in ("a.md", "sub/b.md", "sub/deep/c.MD", ".obsidian/x.md", ".trash/old.md", "logseq/bak/pages/a.md",
                "logseq/config.edn", "img.png", ".hidden.md", "pages/d.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("## Log\n")
    found = [p.relative_to(tmp_path).as_posix() for p in notes.find_notes(tmp_path)]
    assert found == ["a.md", "pages/d.md", "sub/b.md", "sub/deep/c.MD"]
    assert notes.find_notes(tmp_path / "a.md") == [tmp_path / "a.md"]
    with pytest.raises(NoteError):
        notes.find_notes(tmp_path / "missing")


def test_the_queue_spans_a_vault(tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text("## Context\n- @a2020 and @b2021\n\n## Log\n- [skim(@c2019)]\n")
    (tmp_path / "two.md").write_text("## Log\n- [skim(@a2020)]\n  - see @b2021 and @c2019\n")
    queue = notes.build_queue(read_note(p) for p in notes.find_notes(tmp_path))
    assert [q.key for q in queue] == ["b2021"]
    assert [(p.name, m.line, m.section) for p, m in queue[0].mentions] == [("one.md", 1, "Context"), ("two.md", 2, "Log")]
    assert queue[0].to_dict()["mentions"][0] == {"note": str(tmp_path / "one.md"), "line": 2, "section": "Context"}


# -- properties ---------------------------------------------------------------------------------------

_LINES = st.one_of(
    st.sampled_from([
        "## Log", "## Done", "## Context", "# Title", "### Sub", "#", "##Log", "  ## Log", "---", "...",
        "- [skim(@pfeifferModularDeepLearning2023)]", "- [read(@liTrainLargeThen2020)] trailing", "- [drop(@x)]",
        "  - child with @baiConstitutionalAIHarmlessness2022", "    - [soliloquy]", "\t- [question -> why?]",
        "  - ![](asset/a.png)", "```", "  - ```", "~~~", "`@inline`", "mail a@b.org", "", " ", "\t", "- ",
        "  - trailing spaces   ", "模块化 🧠 é", "\ufeff## Log", "- [ ] todo", "[link](https://x.org/@y)",
    ]),
    st.text(alphabet=st.sampled_from(list("ab @#-[]()!`\t ->:.é🧠\r")), max_size=30),
)
NOTES = st.builds(
    lambda lines, nl, final: nl.join(lines) + (nl if final and lines else ""),
    st.lists(_LINES, max_size=25),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(NOTES)
def test_parse_then_write_is_the_identity_and_the_view_is_consistent(text: str) -> None:
    note = parse(text)
    assert note.to_text() == text
    n_lines = len(notes._split_lines(text))
    for s in note.sections:
        assert 0 <= s.start_line <= s.end_line < n_lines
    for a, b in zip(note.sections, note.sections[1:]):
        assert b.start_line == a.end_line + 1
    logs = [s for s in note.sections if s.title.casefold() == "log"]
    for e in note.entries:
        assert any(s.start_line < e.start_line <= e.end_line <= s.end_line for s in logs)
    for a, b in zip(note.entries, note.entries[1:]):
        assert a.end_line < b.start_line
    assert all(0 <= m.line < n_lines for m in note.mentions)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(NOTES, st.lists(st.sampled_from(["one", "two @b2021", "[soliloquy]", "é"]), min_size=1, max_size=3))
def test_any_append_is_a_pure_insertion_at_the_end_of_the_log(text: str, bullets: list[str]) -> None:
    block = format_entry("skim", "zzNewKey2024", bullets)
    old = parse(text)
    new_text = insert_into_section(text, "Log", [block])
    added = only_insertion(text, new_text)
    assert "- [skim(@zzNewKey2024)]" in added
    new = parse(new_text)
    found = [e for e in new.entries if e.key == "zzNewKey2024"]
    assert len(found) == 1 and [c.strip() for c in found[0].children] == [f"- {b}" for b in bullets]
    log = old.section("Log")
    if log is not None:
        # Everything the Log held before is an unchanged prefix of it now, at the same offset.
        lines = notes._split_lines(text)
        starts = notes._line_starts(text, len(lines))
        end = starts[log.end_line + 1] if log.end_line + 1 < len(lines) else len(text)
        kept = text[starts[log.start_line] : end].rstrip(" \t\r\n")
        assert new_text[starts[log.start_line] :].startswith(kept)
        assert [(e.status, e.key) for e in new.entries if e.key != "zzNewKey2024"] == [(e.status, e.key) for e in old.entries]



@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(NOTES)
def test_marking_done_is_a_pure_insertion_under_done(text: str) -> None:
    new_text = insert_into_section(text, "Done", ["- @zzDoneKey2024 finished"], create_before="Log")
    assert "- @zzDoneKey2024 finished" in only_insertion(text, new_text)
    new = parse(new_text)
    (mention,) = [m for m in new.mentions if m.key == "zzDoneKey2024"]
    assert mention.section == "Done"
    assert [(e.status, e.key) for e in new.entries] == [(e.status, e.key) for e in parse(text).entries]

# -- the command line ------------------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from triage.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_note_show_lists_the_seed_entries_annotations_and_mentions(seed: Path) -> None:
    import json

    code, out, err = invoke("note", "show", str(seed), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [(e["status"], e["key"][:6]) for e in data["entries"]] == [
        ("skim", "pfeiff"), ("skim", "liTrai"), ("skim", "merull"), ("skim", "huangC"), ("read", "pfeiff")]
    assert data["entries"][0]["start_line"] == 16  # 1-based, as the editor shows it
    assert sum(len(e["annotations"]) for e in data["entries"]) == 4
    assert "mialonAugmentedLanguageModels2023" in data["unskimmed"]
    code, out, err = invoke("note", "show", str(seed))
    assert code == 0 and "L45-74  read  @pfeifferModularDeepLearning2023" in out and "[soliloquy]" in out


def test_queue_lists_what_the_vault_mentions_but_never_skimmed(tmp_path: Path) -> None:
    import json

    (tmp_path / "sub").mkdir()
    (tmp_path / "one.md").write_text("## Context\n- @a2020 and @b2021\n")
    (tmp_path / "sub" / "two.md").write_text("## Log\n- [skim(@a2020)]\n")
    (tmp_path / "broken.md").write_bytes(b"\xff\xfe")
    code, out, err = invoke("queue", str(tmp_path), "--json")
    assert code == 0, err
    assert json.loads(out) == [{"key": "b2021", "mentions": [{"note": str(tmp_path / "one.md"), "line": 2, "section": "Context"}]}]
    assert "broken.md" in err and "not UTF-8" in err
    code, out, err = invoke("queue", str(tmp_path))
    assert out == "@b2021  one.md:2 (Context)\n"


def test_queue_and_show_fail_with_one_clear_line(tmp_path: Path) -> None:
    for args in (("queue", str(tmp_path / "nope")), ("note", "show", str(tmp_path / "nope.md"))):
        code, out, err = invoke(*args)
        assert code == 1 and "Traceback" not in err and err.startswith("error: ")


def test_note_new_writes_a_dated_note_and_never_overwrites(tmp_path: Path) -> None:
    code, out, err = invoke("note", "new", "--title", "Modular DL", "--dir", str(tmp_path / "notes"))
    assert code == 0, err
    first = Path(out.strip())
    assert first.parent == tmp_path / "notes" and first.name.endswith("-modular-dl.md")
    assert [s.title for s in read_note(first).sections][1:] == list(notes.TEMPLATE_SECTIONS)
    code, out, err = invoke("note", "new", "--title", "Modular DL", "--dir", str(tmp_path / "notes"))
    assert Path(out.strip()) != first and first.read_text(encoding="utf-8").startswith("# Modular DL — ")


# -- faults (issue 19) ------------------------------------------------------------------------------


def small_note(tmp_path: Path) -> Path:
    note = tmp_path / "vault" / "note.md"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text("## Context\n- @a2020Key\n\n## Log\n- [skim(@b2020Key)] mine\n", encoding="utf-8")
    return note


def test_a_read_only_note_is_refused_not_replaced_through_the_rename(tmp_path: Path) -> None:
    note = small_note(tmp_path)
    before = note.read_bytes()
    note.chmod(0o444)
    with pytest.raises(NoteError, match="read-only") as info:
        append_to_log(note, ["- [skim(@a2020Key)]\n  - triage: skim 5.0/10\n"], backup_dir=tmp_path / "b")
    assert "chmod u+w" in info.value.hint
    assert note.read_bytes() == before and stat.S_IMODE(note.stat().st_mode) == 0o444
    assert not [p for p in note.parent.iterdir() if p.name.endswith(".tmp")]


def test_stray_temporary_files_of_an_interrupted_write_are_removed_on_the_next_write(tmp_path: Path) -> None:
    import subprocess
    import sys

    note = small_note(tmp_path)
    home_tmp = tmp_path / "home" / "tmp"
    home_tmp.mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # the pid of a writer killed between its temporary file and the rename
    dead = note.parent / f".note.md.{gone.pid}.abcd1234.tmp"
    dead_in_home = home_tmp / f".note.md.{gone.pid}.efgh5678.tmp"
    old_anonymous = note.parent / ".note.md.x1y2z3w4.tmp"  # triage before the pid was in the name
    alive = note.parent / f".note.md.{os.getppid()}.live0000.tmp"  # a write in progress elsewhere
    other_note = note.parent / f".other.md.{gone.pid}.abcd1234.tmp"
    for p in (dead, dead_in_home, old_anonymous, alive, other_note):
        p.write_text("the whole new note", encoding="utf-8")
    os.utime(old_anonymous, (1, 1))
    edit = append_to_log(note, ["- [skim(@a2020Key)]\n  - triage: skim 5.0/10\n"], temp_dir=home_tmp)
    assert edit.written
    assert not dead.exists() and not dead_in_home.exists() and not old_anonymous.exists()
    assert alive.exists() and other_note.exists()  # not stray, or not this note's


def test_the_temporary_file_lives_in_the_data_home_when_it_shares_the_notes_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage import atomic

    note = small_note(tmp_path)
    home_tmp = tmp_path / "home" / "tmp"
    made: list[str] = []
    real = atomic.temp_for

    def spy(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(notes, "temp_for", spy)
    append_to_log(note, ["- [skim(@a2020Key)]\n  - triage: skim 5.0/10\n"], temp_dir=home_tmp)
    (tmp,) = made
    assert Path(tmp).parent == home_tmp and Path(tmp).name.startswith(f".note.md.{os.getpid()}.")
    assert not Path(tmp).exists() and "@a2020Key" in note.read_text(encoding="utf-8")


def test_a_symlinked_notes_snapshots_are_kept_under_the_note_not_the_link(tmp_path: Path) -> None:
    real = small_note(tmp_path)
    link = tmp_path / "elsewhere" / "link.md"
    link.parent.mkdir()
    link.symlink_to(real)
    append_to_log(link, ["- [skim(@a2020Key)]\n  - triage: skim 5.0/10\n"], backup_dir=tmp_path / "b")
    assert notes.backup_folder(real, tmp_path / "b").is_dir()
    assert not notes.backup_folder(link, tmp_path / "b").exists()


def test_a_note_over_the_size_limit_is_refused_with_a_message(tmp_path: Path) -> None:
    note = small_note(tmp_path)
    with note.open("a", encoding="utf-8") as f:
        f.write("- a line of a very long log\n" * 40_000)  # ~1.1 MB
    with pytest.raises(NoteError, match=r"MiB, over the 1.0 MiB limit for a note") as info:
        read_note(note, max_bytes=1024 * 1024)
    assert "limits.note_mb" in info.value.hint
    assert read_note(note).path == note  # the default limit (4 MiB) reads it
