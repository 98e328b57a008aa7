"""A dry run writes nothing anywhere; a reader's decision is one legible entry; `@karpathy` is not a paper."""

from __future__ import annotations

import gc
import hashlib
import json
from pathlib import Path

import pytest

from tests.test_run import invoke, run_note
from triage.entries import is_critic_entry, transition_entry
from triage.models import Status, Transition
from triage.notes import parse

KEY = "haddadFederatedLoRAMerging2024"


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash (what a dry run must not change)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def settled(home: Path) -> bytes:
    """The state database's bytes once every connection is closed (a closed WAL database is one file)."""
    gc.collect()  # the CLI's in-process connections close when collected, checkpointing the WAL
    assert not (home / "triage.sqlite3-wal").exists() or (home / "triage.sqlite3-wal").stat().st_size == 0
    return (home / "triage.sqlite3").read_bytes()


def test_dry_run_leaves_the_state_database_byte_identical(workspace: Path, sample_papers: Path, triage_home: Path) -> None:
    note = workspace / "note.md"
    text = note.read_text(encoding="utf-8")
    # A first, real run on one paper: the state, index and verdict cache exist and hold something.
    note.write_text("## Context\n- @okaforRoutingAdaptersFrozen2024\n\n## Log\n", encoding="utf-8")
    code, out, err = run_note(note, sample_papers / "library.bib")
    assert code == 0 and "okaforRoutingAdaptersFrozen2024" in note.read_text(encoding="utf-8")
    note.write_text(text, encoding="utf-8")  # now it names papers the state has never seen
    state, index, assets = settled(triage_home), tree(triage_home / "chroma"), tree(workspace / "asset")

    code, out, err = run_note(note, sample_papers / "library.bib", "--dry-run", "--json")
    assert code == 1, err  # the sample note's unknown key, as in a real run
    report = json.loads(out)
    decided = [p["key"] for p in report["papers"] if p["ok"]]
    assert KEY in decided and report["dry_run"] and not report["written"]  # it did judge them
    assert settled(triage_home) == state  # statuses, history, verdicts: not one byte
    assert tree(triage_home / "chroma") == index and tree(workspace / "asset") == assets
    assert note.read_text(encoding="utf-8") == text


def test_dry_run_on_a_fresh_home_creates_no_state(workspace: Path, sample_papers: Path, triage_home: Path) -> None:
    code, out, err = run_note(workspace / "note.md", sample_papers / "library.bib", "--dry-run", "--json")
    assert code == 1, err  # the sample note's unknown key, as in a real run
    assert any(p["ok"] for p in json.loads(out)["papers"])
    assert not (triage_home / "triage.sqlite3").exists() and not (triage_home / "chroma").exists()
    assert not (workspace / "asset").exists()


# -- reader decisions, in the note ------------------------------------------------------------------


def test_a_drop_then_an_undo_are_two_entries_that_say_what_happened(workspace: Path, sample_papers: Path) -> None:
    note = workspace / "note.md"
    note.write_text(f"## Context\n- @{KEY}\n\n## Log\n", encoding="utf-8")
    run_note(note, sample_papers / "library.bib")
    before = note.read_text(encoding="utf-8")
    assert invoke("drop", KEY, "--note", str(note), "--reason", "not my field after all")[0] == 0
    assert invoke("undo", KEY, "--note", str(note))[0] == 0
    added = note.read_text(encoding="utf-8")[len(before):]
    status_before = [e for e in parse(before).entries if e.key == KEY][-1].status
    back = {"read": "read", "skim": "skim"}[status_before]
    assert added == (f"- [drop(@{KEY})] dropped by the reader: not my field after all\n"
                     f"- [{back}(@{KEY})] drop undone by the reader: back to {back}\n")
    entries = [e for e in parse(note.read_text(encoding="utf-8")).entries if e.key == KEY][-2:]
    assert [e.status for e in entries] == ["drop", back]
    assert not any(is_critic_entry(e.children) for e in entries)  # the reader's decisions, not the critic's


@pytest.mark.parametrize("transition, first_line", [
    (Transition(key="k2020", old=Status.SKIM, new=Status.READ, actor="reader", reason="need the details"),
     "- [read(@k2020)] promoted by the reader: need the details"),
    (Transition(key="k2020", old=Status.READ, new=Status.SKIM, actor="reader", reason="reader decision"),
     "- [skim(@k2020)] kept at skim by the reader"),
    (Transition(key="k2020", old=Status.SKIM, new=Status.DONE, actor="reader"),
     "- [done(@k2020)] marked done by the reader"),
    (Transition(key="k2020", old=Status.READ, new=Status.SKIM, actor="reader", reason="undo: skim -> read by critic"),
     "- [skim(@k2020)] the critic's promotion undone by the reader: back to skim"),
])
def test_every_reader_decision_is_one_line_saying_what_and_who(transition: Transition, first_line: str) -> None:
    assert transition_entry(transition) == first_line + "\n"
    wiki = transition_entry(transition, wikilink=True)
    assert wiki.startswith(first_line.replace("(@k2020)", "([[@k2020]])"))
    assert [(e.status, e.key) for e in parse("## Log\n" + wiki).entries] == [(first_line[3:7].rstrip("("), "k2020")]


# -- @words that are not citekeys -------------------------------------------------------------------


def test_handles_are_left_alone_by_run_and_queue_and_listed_by_note_show(workspace: Path, sample_papers: Path) -> None:
    note = workspace / "note.md"
    note.write_text("## Context\n- @karpathy tweeted @okaforRoutingAdaptersFrozen2024; @param is code.\n\n## Log\n",
                    encoding="utf-8")
    code, out, err = invoke("queue", str(note), "--json")
    assert [q["key"] for q in json.loads(out)] == ["okaforRoutingAdaptersFrozen2024"]
    code, out, err = invoke("note", "show", str(note), "--json")
    shown = json.loads(out)
    assert shown["ignored"] == ["karpathy", "param"] and shown["unskimmed"] == ["okaforRoutingAdaptersFrozen2024"]
    code, out, err = run_note(note, sample_papers / "library.bib", "--json", "--dry-run")
    report = json.loads(out)
    assert code == 0 and report["ignored"] == ["karpathy", "param"]
    assert [p["key"] for p in report["papers"]] == ["okaforRoutingAdaptersFrozen2024"]


def test_a_key_without_a_year_counts_when_the_library_knows_it(tmp_path: Path) -> None:
    lib = tmp_path / "lib.bib"
    lib.write_text("@book{knuthArtComputerProgramming, title={The Art of Computer Programming}, author={Knuth, Donald}}\n",
                   encoding="utf-8")
    note = tmp_path / "note.md"
    note.write_text("- @knuthArtComputerProgramming and @karpathy\n", encoding="utf-8")
    code, out, err = invoke("run", str(note), "--library", str(lib), "--json", "--dry-run")
    report = json.loads(out)
    assert code == 1 and not report["papers"][0]["ok"]  # counted, but a book with no PDF and no abstract to judge
    assert [p["key"] for p in report["papers"]] == ["knuthArtComputerProgramming"] and report["ignored"] == ["karpathy"]
