"""The walking skeleton end to end: a reading note in, judged entries appended, offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SHARED
from triage.cli import app


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--offline", *args])
    return result.exit_code, result.stdout, result.stderr


def run_note(note: Path, library: Path, *extra: str) -> tuple[int, str, str]:
    return invoke("run", str(note), "--library", str(library), "--critic", "offline", *extra)


def test_run_appends_judged_entries_and_keeps_every_byte_of_the_reader(workspace: Path, sample_papers: Path) -> None:
    note = workspace / "note.md"
    before = note.read_text(encoding="utf-8")
    code, out, err = run_note(note, sample_papers / "library.bib")
    after = note.read_text(encoding="utf-8")

    # The sample note names one key on purpose that no library has: reported, exit 1.
    assert code == 1, err
    assert "doeUnknownPaperNowhere2021" in err
    assert "doeUnknownPaperNowhere2021" not in after.split("## Log", 1)[1]
    # Everything the reader wrote is still there, byte for byte, before the new entries.
    log_end = before.rstrip("\n")
    assert after.startswith(log_end)
    added = after[len(log_end):]
    assert "- [skim(@okaforRoutingAdaptersFrozen2024)]" in added
    assert "triage: " in added and "/10" in added
    # A decision to read is a new read entry, as the reader writes it.
    decisions = {line.split("@")[1].split(":")[0]: line.split(": ")[1].split()[0] for line in out.splitlines() if line.startswith("@")}
    for key, decision in decisions.items():
        assert (f"- [read(@{key})]" in added) == (decision == "read")
    assert decisions["okaforRoutingAdaptersFrozen2024"] == "read"
    assert decisions["moreauBenchmarkingTabularCrop2022"] == "drop"


def test_a_second_run_adds_nothing_and_computes_nothing(workspace: Path, sample_papers: Path, triage_home: Path) -> None:
    note = workspace / "note.md"
    run_note(note, sample_papers / "library.bib")
    first = note.read_bytes()
    code, out, err = run_note(note, sample_papers / "library.bib", "--json")
    assert note.read_bytes() == first
    report = json.loads(out)
    assert report["written"] is False
    assert all(not p["ok"] for p in report["papers"])  # only the unknown key is attempted again
    assert "okaforRoutingAdaptersFrozen2024" in report["skipped"]


def test_verdicts_come_from_the_cache_when_the_log_is_lost(workspace: Path, sample_papers: Path) -> None:
    note = workspace / "note.md"
    original = note.read_text(encoding="utf-8")
    run_note(note, sample_papers / "library.bib")
    note.write_text(original, encoding="utf-8")
    code, out, err = run_note(note, sample_papers / "library.bib", "--json")
    papers = [p for p in json.loads(out)["papers"] if p["ok"]]
    assert papers and all(p["cached"] for p in papers)


def test_dry_run_leaves_the_note_alone(workspace: Path, sample_papers: Path) -> None:
    note = workspace / "note.md"
    before = note.read_bytes()
    code, out, err = run_note(note, sample_papers / "library.bib", "--dry-run")
    # The same answer as a real run (the unknown key is exit 1), and says nothing was written.
    assert code == 1 and "doeUnknownPaperNowhere2021" in err, err
    assert "not written (dry run)" in err and "read" in out
    assert note.read_bytes() == before


def test_the_seed_note_with_no_library_is_left_byte_identical(tmp_path: Path, sample_papers: Path) -> None:
    seed = SHARED / "seed" / "reading-session.md"
    if not seed.is_file():
        pytest.skip("../shared/seed is not present")
    note = tmp_path / "reading-session.md"
    shutil.copy(seed, note)
    note.chmod(0o644)  # the shared seed is read-only, and a read-only note is refused before any paper
    code, out, err = run_note(note, sample_papers / "library.bib")
    assert code == 1
    assert note.read_bytes() == seed.read_bytes()
    for key in ("rombachHighResolutionImageSynthesis2022", "baiConstitutionalAIHarmlessness2022"):
        assert key in err


def test_a_note_without_a_log_gets_one_at_the_end(sample_papers: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("## Context\n- Look at @haddadFederatedLoRAMerging2024 today.\n", encoding="utf-8")
    code, out, err = run_note(note, sample_papers / "library.bib")
    assert code == 0, err
    text = note.read_text(encoding="utf-8")
    assert text.startswith("## Context\n- Look at @haddadFederatedLoRAMerging2024 today.\n")
    assert "## Log" in text and "- [skim(@haddadFederatedLoRAMerging2024)]" in text


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "note"),  # the note does not exist
        (lambda d: (d / "note.md").write_bytes(b"\xff\xfe\x00broken"), "note"),
    ],
)
def test_bad_notes_get_one_clear_line(tmp_path: Path, sample_papers: Path, setup, message: str) -> None:
    setup(tmp_path)
    code, out, err = run_note(tmp_path / "note.md", sample_papers / "library.bib")
    assert code == 1
    assert "Traceback" not in err and message in err.lower()


def test_an_unreadable_library_is_a_clear_error(workspace: Path) -> None:
    broken = workspace / "broken.bib"
    broken.write_bytes(b"\x00\x01 not bibtex at all {{{")
    note = workspace / "note.md"
    before = note.read_bytes()
    code, out, err = run_note(note, broken)
    assert code == 1 and "Traceback" not in err
    assert note.read_bytes() == before


def test_a_corrupt_pdf_with_a_library_abstract_is_judged_by_the_abstract(workspace: Path, sample_papers: Path) -> None:
    lib = workspace / "lib"
    shutil.copytree(sample_papers, lib)
    (lib / "papers" / "haddadFederatedLoRAMerging2024.pdf").write_text("<html>404 Not Found</html>")
    code, out, err = run_note(workspace / "note.md", lib / "library.bib")
    # The unknown key of the sample note still fails; the broken attachment is said, and the paper judged anyway.
    assert code == 1 and "Traceback" not in err
    assert re.search(r"@haddadFederatedLoRAMerging2024: .*no PDF .*judged by the abstract", err)
    text = (workspace / "note.md").read_text(encoding="utf-8")
    entry = text.split("[skim(@haddadFederatedLoRAMerging2024)]", 1)[1].split("\n- [", 1)[0]
    assert "abstract only: no PDF" in entry and re.search(r"triage: .* · abstract only\b", entry)
    assert "![](" not in entry  # no picture without a PDF
    assert "[skim(@okaforRoutingAdaptersFrozen2024)]" in text


def test_a_paper_with_neither_pdf_nor_abstract_is_not_judged(workspace: Path, sample_papers: Path) -> None:
    lib = workspace / "lib"
    shutil.copytree(sample_papers, lib)
    (lib / "papers" / "haddadFederatedLoRAMerging2024.pdf").write_text("<html>404 Not Found</html>")
    bib = lib / "library.bib"
    text = bib.read_text(encoding="utf-8")
    start = text.index("@", text.index("haddadFederatedLoRAMerging2024") - 20)
    entry = text[start:text.index("\n}", start) + 2]
    bib.write_text(text.replace(entry, re.sub(r"\n\s*abstract\s*=\s*\{.*?\},?\n", "\n", entry, flags=re.S)),
                   encoding="utf-8")
    code, out, err = run_note(workspace / "note.md", bib)
    assert code == 1 and "Traceback" not in err
    assert "@haddadFederatedLoRAMerging2024" in err and "@haddadFederatedLoRAMerging2024" not in out
    assert not re.search(r"\b0\.0/10", out)
    assert "[skim(@haddadFederatedLoRAMerging2024)]" not in (workspace / "note.md").read_text(encoding="utf-8")


def test_status_and_history_after_a_run(workspace: Path, sample_papers: Path) -> None:
    run_note(workspace / "note.md", sample_papers / "library.bib")
    code, out, _ = invoke("status", "--json")
    counts = json.loads(out)["papers"]
    assert counts.get("read", 0) >= 1 and counts.get("dropped", 0) >= 1
    code, out, _ = invoke("history", "okaforRoutingAdaptersFrozen2024", "--json")
    assert json.loads(out)[0]["actor"] == "critic"


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys, triage.cli;"
        "heavy = [m for m in ('chromadb', 'torch', 'langchain', 'sentence_transformers', 'fitz', 'openai', 'textual') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith("triage ")


def test_promote_then_undo_keeps_the_promotion_and_appends_the_correction(workspace: Path, sample_papers: Path) -> None:
    note = workspace / "note.md"
    run_note(note, sample_papers / "library.bib")
    key = "haddadFederatedLoRAMerging2024"
    before = note.read_text(encoding="utf-8")
    code, out, err = invoke("promote", key, "--note", str(note), "--reason", "need the merging details")
    assert code == 0, err
    promoted = note.read_text(encoding="utf-8")
    assert promoted.startswith(before) and f"- [read(@{key})]" in promoted[len(before):]
    code, out, err = invoke("undo", key, "--note", str(note))
    assert code == 0, err
    corrected = note.read_text(encoding="utf-8")
    assert corrected.startswith(promoted)
    # One entry that says what was undone, by whom, and where the paper stands now.
    assert corrected[len(promoted):] == f"- [read(@{key})] promotion undone by the reader: back to read\n"
    code, out, _ = invoke("history", key, "--json")
    assert [t["actor"] for t in json.loads(out)][-2:] == ["reader", "reader"]
    code, out, _ = invoke("status", "--json")


def test_search_and_similar_on_the_sample_papers(workspace: Path, sample_papers: Path) -> None:
    run_note(workspace / "note.md", sample_papers / "library.bib")
    code, out, err = invoke("search", "crop yield forecasting with gradient boosted trees", "--json", "--k", "3")
    assert code == 0, err
    assert json.loads(out)[0]["key"] == "moreauBenchmarkingTabularCrop2022"
    code, out, err = invoke("similar", "okaforRoutingAdaptersFrozen2024", "--json")
    keys = [h["key"] for h in json.loads(out)]
    assert "okaforRoutingAdaptersFrozen2024" not in keys
    assert keys.index("moreauBenchmarkingTabularCrop2022") > 0  # the farm paper is not the closest


@pytest.mark.parametrize("command", ["promote", "drop", "undo", "history", "similar", "explain"])
@pytest.mark.parametrize("hostile", ["../../etc/passwd", "a\x00b", "k" * 10_000])
def test_a_hostile_key_is_one_short_line_and_exit_1(command: str, hostile: str) -> None:
    code, out, err = invoke(command, hostile)
    lines = err.strip().splitlines()
    # Commands that take any id the state knows refuse what is no citekey, arXiv id, DOI or URL; the others
    # refuse what is no citekey.  Either way: one short line, the input never echoed whole.
    assert code == 1 and lines[0].startswith("error:") and len(lines[0]) < 120, err
    assert "not a citekey" in lines[0] or "NUL byte" in lines[0] or "characters long" in lines[0], err
    assert "Traceback" not in err and out == ""


def test_run_on_a_vault_triages_its_queue_each_paper_into_the_note_that_named_it_first(
    tmp_path: Path, sample_papers: Path
) -> None:
    vault = tmp_path / "vault"
    (vault / "2026").mkdir(parents=True)
    first = vault / "2026" / "a-monday.md"
    second = vault / "2026" / "b-tuesday.md"
    first.write_text("## Context\n- @okaforRoutingAdaptersFrozen2024 and @moreauBenchmarkingTabularCrop2022\n\n"
                     "## Log\n", encoding="utf-8")
    second_text = ("## Context\n- @okaforRoutingAdaptersFrozen2024 again, and @haddadFederatedLoRAMerging2024\n\n"
                   "## Log\n- [skim(@haddadFederatedLoRAMerging2024)]\n  - skimmed by hand\n")
    second.write_text(second_text, encoding="utf-8")
    before = first.read_text(encoding="utf-8")

    code, out, err = invoke("queue", str(vault))
    assert code == 0 and "@okaforRoutingAdaptersFrozen2024" in out and "@haddad" not in out

    code, out, err = invoke("run", str(vault), "--library", str(sample_papers / "library.bib"), "--critic", "offline")
    assert code == 0, err
    after = first.read_text(encoding="utf-8")
    assert after.startswith(before)
    assert "(@okaforRoutingAdaptersFrozen2024)]" in after and "(@moreauBenchmarkingTabularCrop2022)]" in after
    assert second.read_text(encoding="utf-8") == second_text  # okafor went to the note that named it first

    code, out, err = invoke("run", str(vault), "--library", str(sample_papers / "library.bib"), "--json")
    assert code == 0 and json.loads(out) == [] and first.read_text(encoding="utf-8") == after  # the queue is empty


# -- one line and the documented exit code, never a traceback (issue 19) -----------------------------


@pytest.mark.parametrize("args, option", [
    (["search", "adapters", "--k", "-5"], "--k"),
    (["similar", "okaforRoutingAdaptersFrozen2024", "--k", "0"], "--k"),
    (["search", "adapters", "--status", "bogus"], "--status"),
    (["run", "note.md", "--critic", "bogus"], "--critic"),
    (["score", "x.pdf", "--critic", "bogus"], "--critic"),
    (["digest", "--critic", "bogus"], "--critic"),
])
def test_a_bad_option_value_is_a_usage_error_before_any_work(args: list[str], option: str) -> None:
    code, _, err = invoke(*args)
    assert code == 2 and "Traceback" not in err and f"Invalid value for '{option}'" in err, err


def test_ctrl_c_during_start_up_imports_is_one_line_and_130(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import importlib.abc
    import sys

    import triage.__main__ as entry

    class InterruptedImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "triage.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "triage.cli")
    monkeypatch.setattr(sys, "meta_path", [InterruptedImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as info:
        entry.main()
    assert info.value.code == 130 and capsys.readouterr().err == "interrupted\n"


def test_an_unreadable_library_is_said_once_not_as_every_key_missing(workspace: Path, tmp_path: Path) -> None:
    library = tmp_path / "library.bib"
    library.write_bytes(bytes(range(256)) * 40)
    note = workspace / "note.md"
    before = note.read_bytes()
    code, _, err = run_note(note, library)
    assert code == 1 and "Traceback" not in err
    assert err.count("it is binary data, not a library export") == 1 and "not in your library" not in err, err
    assert note.read_bytes() == before


def test_run_refuses_a_read_only_note_and_changes_nothing(workspace: Path, sample_papers: Path,
                                                          triage_home: Path) -> None:
    note = workspace / "note.md"
    before = note.read_bytes()
    note.chmod(0o444)
    code, _, err = run_note(note, sample_papers / "library.bib")
    assert code == 1 and "read-only" in err and "Traceback" not in err
    assert note.read_bytes() == before
    assert not (triage_home / "triage.sqlite3").exists()  # refused before the state was touched


def test_the_limits_are_configurable(workspace: Path, sample_papers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    note = workspace / "note.md"
    monkeypatch.setenv("TRIAGE_LIMITS__NOTE_MB", "0.001")  # 1 KiB: the sample note is larger
    code, _, err = run_note(note, sample_papers / "library.bib")
    assert code == 1 and "over the 1.0 KiB limit for a note" in err and "limits.note_mb" in err
    monkeypatch.setenv("TRIAGE_LIMITS__CONSTITUTION_PRINCIPLES", "2")
    code, _, err = invoke("constitution", "check")
    assert code == 1 and "more than 2 principles" in err
