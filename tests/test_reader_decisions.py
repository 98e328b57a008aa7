"""The reader's own log entries are decisions in the state, wherever they were written (issue 13)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO, SHARED
from triage.cli import app

NOTE = REPO / "tests" / "data" / "notes" / "decided-by-hand.md"
SAMPLE_BIB = REPO / "data" / "sample" / "library.bib"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--offline", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def note(tmp_path: Path) -> Path:
    copy = tmp_path / "session.md"
    shutil.copy(NOTE, copy)
    return copy


def history(key: str) -> list[dict]:
    code, out, err = invoke("history", key, "--json")
    assert code == 0, err
    return json.loads(out)


def test_status_on_a_note_records_the_entries_the_reader_wrote(note: Path) -> None:
    before = note.read_bytes()
    code, out, err = invoke("status", str(note), "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["by_reader"] == {"read": 1, "skim": 3}
    assert info["papers"] == {"read": 1, "skim": 3}
    assert note.read_bytes() == before  # syncing reads the note, never writes it
    lindqvist = history("lindqvistLinearBridgesVision2023")
    assert [(t["old"], t["new"], t["actor"], t["source"]) for t in lindqvist] == [
        (None, "skim", "reader", "note"), ("skim", "read", "reader", "note")]
    assert lindqvist[0]["reason"] == "session.md:8" and lindqvist[1]["reason"] == "session.md:17"
    # A key no library resolves is still the reader's decision, with one notice saying so.
    assert [t["new"] for t in history("zhouUnknownKeyNobodyHas2022")] == ["skim"]
    assert "recorded against their keys" in err and err.count("note:") == 1


def test_a_second_sync_changes_nothing(note: Path) -> None:
    invoke("status", str(note))
    code, out, err = invoke("status", str(note), "--json")
    assert code == 0 and "decisions recorded" not in err
    assert len(history("lindqvistLinearBridgesVision2023")) == 2


def test_an_entry_added_later_is_taken_in_and_the_latest_entry_wins(note: Path) -> None:
    invoke("status", str(note))
    with note.open("a", encoding="utf-8") as f:
        f.write("- [drop(@brennanSparseMixturesModular2023)]\n  - On reflection, not for me.\n")
    code, out, err = invoke("status", str(note), "--json")
    assert json.loads(out)["by_reader"] == {"read": 1, "skim": 2, "dropped": 1}
    assert [t["new"] for t in history("brennanSparseMixturesModular2023")] == ["skim", "dropped"]


def test_a_decision_made_since_elsewhere_is_not_overridden_by_an_old_entry(note: Path) -> None:
    invoke("status", str(note))
    code, _, err = invoke("drop", "lindqvistLinearBridgesVision2023", "--reason", "changed my mind")
    assert code == 0, err
    invoke("status", str(note))
    assert [t["new"] for t in history("lindqvistLinearBridgesVision2023")][-1] == "dropped"
    assert history("lindqvistLinearBridgesVision2023")[-1]["source"] == "cli"


def test_entries_written_on_the_readers_command_are_not_replayed(note: Path) -> None:
    invoke("status", str(note))
    code, _, err = invoke("promote", "brennanSparseMixturesModular2023", "--note", str(note))
    assert code == 0, err
    code, _, err = invoke("drop", "brennanSparseMixturesModular2023", "--note", str(note))
    assert code == 0, err
    invoke("status", str(note))  # the two entries just appended are the reader's, and in the state already
    assert [(t["new"], t["source"]) for t in history("brennanSparseMixturesModular2023")] == [
        ("skim", "note"), ("read", "cli"), ("dropped", "cli")]


def test_entries_the_critic_wrote_are_not_reader_decisions(tmp_path: Path) -> None:
    note = tmp_path / "n.md"
    note.write_text(
        "## Log\n- [skim(@a2020Adapters)]\n  - mine\n"
        "- [skim(@c2022Routing)]\n  - triage: read · 7.0/10 · confidence 0.55 · offline:x\n"
        "- [read(@c2022Routing)]\n  - promoted by the critic (offline:x)\n",
        encoding="utf-8",
    )
    code, out, _ = invoke("status", str(note), "--json")
    assert json.loads(out)["by_reader"] == {"skim": 1}
    code, _, err = invoke("history", "c2022Routing")
    assert code == 1 and "no paper @c2022Routing" in err


def test_keep_and_any_id_the_state_knows(note: Path) -> None:
    code, _, err = invoke("library", "import", str(SAMPLE_BIB))
    assert code == 0, err
    invoke("status", str(note))
    # haddad's library entry carries arXiv 2405.07731: every form of that id names the paper.
    code, out, err = invoke("promote", "2405.07731", "--json")
    assert code == 0, err
    assert json.loads(out)["key"] == "haddadFederatedLoRAMerging2024"
    code, out, err = invoke("keep", "arXiv:2405.07731v2", "--reason", "useful, not central", "--json")
    assert code == 0, err
    kept = json.loads(out)
    assert (kept["new"], kept["actor"], kept["source"]) == ("skim", "reader", "cli")
    assert [t["new"] for t in history("https://arxiv.org/abs/2405.07731")] == ["skim", "read", "skim"]
    code, _, err = invoke("keep", "2501.00001")
    assert code == 1 and "no paper 2501.00001 in the state" in err


def test_run_takes_the_readers_entries_in_before_triaging(tmp_path: Path) -> None:
    note = tmp_path / "session.md"
    shutil.copy(NOTE, note)
    code, out, err = invoke("run", str(note), "--library", str(SAMPLE_BIB), "--critic", "offline", "--json")
    report = json.loads(out)
    assert {d["key"] for d in report["reader_decisions"]} >= {"lindqvistLinearBridgesVision2023",
                                                              "brennanSparseMixturesModular2023"}
    # What the reader logged is not triaged again; the paper only mentioned is.
    triaged = {p["key"] for p in report["papers"]}
    assert "okaforRoutingAdaptersFrozen2024" in triaged and "lindqvistLinearBridgesVision2023" not in triaged


def test_a_dry_run_records_nothing(note: Path) -> None:
    code, out, err = invoke("run", str(note), "--library", str(SAMPLE_BIB), "--critic", "offline", "--dry-run")
    # The note also names a paper no library holds: exit 1, as a real run would answer.
    assert code == 1 and "@someoneNeverSkimmed2021 is not in your library" in err and "not written (dry run)" in err, err
    code, out, _ = invoke("status", "--json")
    assert json.loads(out)["by_reader"] == {}


@pytest.mark.skipif(not (SHARED / "seed" / "reading-session.md").is_file(), reason="../shared/seed is not here")
def test_the_seed_note_shows_the_readers_four_papers(tmp_path: Path) -> None:
    seed = tmp_path / "reading-session.md"
    shutil.copy(SHARED / "seed" / "reading-session.md", seed)
    before = seed.read_bytes()
    code, out, err = invoke("status", str(seed), "--json")
    assert code == 0, err
    assert json.loads(out)["by_reader"] == {"read": 1, "skim": 3}
    assert {t["source"] for t in history("pfeifferModularDeepLearning2023")} == {"note"}
    assert seed.read_bytes() == before
    # calibrate sees them: with no library and no network there is no text to score them on, and it says so.
    code, out, err = invoke("calibrate", "--note", str(seed))
    assert code == 1 and "you decided 4 paper(s) (read 1, skim 3, drop 0)" in err
    assert "0 judged papers" not in err


def test_explain_and_similar_see_a_paper_decided_by_hand(note: Path) -> None:
    code, _, err = invoke("library", "import", str(SAMPLE_BIB))
    invoke("status", str(note))
    code, out, err = invoke("explain", "brennanSparseMixturesModular2023")
    assert code == 1 and "you decided it yourself (skim, session.md:" in err
    # No PDF was ever fetched: the paper is compared by the title and abstract the library holds.
    code, out, err = invoke("similar", "lindqvistLinearBridgesVision2023", "--json")
    assert code == 0, err
    assert "lindqvistLinearBridgesVision2023" not in {h["key"] for h in json.loads(out)}
    code, out, err = invoke("similar", "zhouUnknownKeyNobodyHas2022")
    assert code == 1 and "no text to compare yet" in err


@pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason="../shared/corpus is not here")
def test_a_pdf_whose_first_pages_have_no_text_is_judged_on_its_conclusion() -> None:
    pdf = SHARED / "corpus" / "pdfs" / "edge_cases" / "1412.6980v9_no-text-layer-pages1-4.pdf"
    code, out, err = invoke("score", str(pdf), "--critic", "offline", "--json")
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["basis"] == "conclusion only" and verdict["decision"] in ("drop", "skim", "read")


def test_abstracts_of_papers_logged_by_hand_are_looked_up_once(tmp_path: Path, triage_home: Path) -> None:
    """The seed's own case: no library, a hand-written entry; arXiv (loopback) gives the abstract to learn from."""
    from tests.servers.arxiv_replay import ArxivReplay
    from tests.sources.conftest import ATOM, settings_for
    from triage.service import Triage

    note = tmp_path / "n.md"
    note.write_text("## Log\n- [skim(@pfeifferModularDeepLearning2023)]\n  - judged by abstract and conclusion\n",
                    encoding="utf-8")
    with ArxivReplay() as arxiv:
        arxiv.load_atom_dir(ATOM)
        core = Triage(settings_for(arxiv, triage_home))
        core.sync_notes(note)
        assert core.reader_examples() == []  # decided, but no text to learn from yet
        assert core.complete_metadata() == ["pfeifferModularDeepLearning2023"]
        [example] = core.reader_examples()
        assert example.label.value == "skim" and "modular" in example.text.lower()
        searches = len(arxiv.api_requests())
        assert core.complete_metadata() == [] and len(arxiv.api_requests()) == searches  # known now: not asked again
        core.close()


def test_a_paper_no_source_knows_is_not_looked_up_again_within_a_week(note: Path, triage_home: Path) -> None:
    from triage.config import Settings
    from triage.service import Triage

    core = Triage(Settings.load(home=triage_home))
    core.settings.fetch.offline = True
    core.sync_notes(note)
    asked: list[str] = []
    real = core.resolve
    core.resolve = lambda key: asked.append(key) or real(key)  # type: ignore[method-assign]
    assert core.complete_metadata() == []
    first = sorted(asked)
    assert "zhouUnknownKeyNobodyHas2022" in first
    assert core.complete_metadata() == [] and sorted(asked) == first  # each asked once
    assert core.paper("zhouUnknownKeyNobodyHas2022").paper.resolved_by.startswith("not found ")
    core.close()
