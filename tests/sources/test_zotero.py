"""Zotero read in place: keys wherever they live, attachments, abstracts, and never a byte written."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.servers.arxiv_replay import make_pdf
from tests.sources.zotero_support import make_zotero, small_library
from triage.cli import app
from triage.errors import SourceError
from triage.sources import load_library


@pytest.fixture
def zotero(corpus: Path) -> Path:
    """The real Zotero data folders (skips without ../shared)."""
    return corpus / "zotero"


def sha(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- the real libraries -------------------------------------------------------------------------------


def test_zotero7_keys_come_from_better_bibtex_and_pdfs_from_storage(zotero: Path) -> None:
    folder = zotero / "zotero7-bbt"
    lib = load_library([folder])
    assert len(lib) == 194 and not lib.errors and not lib.warnings  # every item keyed by BBT 7's citationkey table
    paper = lib.get("tsiarasNewApproachAnalyzing2016")
    assert paper.title.startswith("A New Approach to Analyzing HST Spatial Scans")
    assert paper.pdf_path == folder / "storage" / "ID4ZFUMH" / (
        "Tsiaras et al. - 2016 - A New Approach to Analyzing HST Spatial Scans The Transmission Spectrum of HD 209458 b.pdf")
    assert paper.zotero_pdf == "zotero://open-pdf/library/items/ID4ZFUMH"
    assert paper.arxiv_id == "1511.07796"  # from an ADS import's '_eprint:' line in Extra
    assert paper.authors[0] == "Tsiaras, A." and paper.year == 2016
    # The attachment row is there, the file is not (over the snapshot's size limit): named, not "no PDF".
    toi = lib.get("lacedelliCharacterisationTOI406Showcase2024a")
    assert toi.pdf_path is None and toi.missing_pdf.parent.name == "J7CQWVAH" and toi.zotero_pdf is None
    assert toi.abstract.startswith("The exoplanet sub-Neptune population currently poses a conundrum")
    assert toi.arxiv_id == "2409.11083"
    assert lib.get("hunterMatplotlib2DGraphics2007").abstract  # an abstract and no attachment at all
    assert sum(1 for p in lib.papers() if p.pdf_path) == 4 and sum(1 for p in lib.papers() if p.abstract) == 5
    # Malformed '_eprint' values (a number that lost its zeros, a publisher URL) are no arXiv id.
    assert all(len(p.arxiv_id.split(".")[-1]) >= 4 for p in lib.papers() if p.arxiv_id and "." in p.arxiv_id)


def test_zotero6_legacy_keys_from_lokijs_and_extra_the_rest_default_pattern(zotero: Path) -> None:
    lib = load_library([zotero / "zotero6-bbt-legacy"])
    assert len(lib) == 102  # 106 regular items, 4 in the trash
    assert lib.get("goldsmith1987automatic").title == "Automatic creation of object hierarchies for ray tracing"
    assert lib.get("wald2007fast").authors == ["Wald, Ingo"]
    # 45 BBT keys, 2 for items no longer in the library; 59 items have no key anywhere: BBT's default pattern.
    assert lib.get("conty2018importance") is None
    assert lib.warnings == ["zotero:zotero6-bbt-legacy: 59 items have no citation key; they get Better BibTeX's "
                            "default-pattern key (e.g. @appelSomeTechniquesShading1968)"]
    assert lib.get("kajiyaRenderingEquation1986").abstract
    # The only PDF sits in the trash (the attachment itself): not used.
    errata = lib.get("bloomErrorsOmissionsMarc2003")
    assert errata is not None and errata.pdf_path is None and errata.missing_pdf is None
    assert sum(1 for p in lib.papers() if p.abstract) == 44


def test_zotero6_without_any_keys_gets_default_pattern_keys(zotero: Path) -> None:
    folder = zotero / "zotero6-annotations"
    lib = load_library([folder])
    assert len(lib) == 15
    mapreduce = lib.get("deanMapReduceSimplifiedData2008")
    assert mapreduce.doi == "10.1145/1327452.1327492" and mapreduce.abstract
    assert mapreduce.pdf_path.parent == folder / "storage" / "L5VFETMG"
    assert lib.get("waidelichClimateDamageProjections2024").missing_pdf is not None
    assert sum(1 for p in lib.papers() if p.pdf_path) == 9  # the 10th PDF is a standalone attachment, not a paper


def test_reading_leaves_every_byte_and_creates_nothing(zotero: Path, tmp_path: Path) -> None:
    folder = tmp_path / "Zotero"
    shutil.copytree(zotero / "zotero7-bbt", folder)
    before = sha(folder)
    assert len(load_library([folder])) == 194
    assert sha(folder) == before  # no journal replayed, no -wal/-shm, nothing touched


# -- a library made here: the cases the real ones lack ---------------------------------------------------


def test_a_key_in_each_place_and_the_fallback(tmp_path: Path) -> None:
    lib = load_library([small_library(tmp_path / "Zotero").parent])
    native = lib.get("okaforRoutingAdaptersFrozen2024")  # Zotero 7's own citationKey field
    assert native.abstract == "We route small adapters between frozen backbones."
    assert (native.arxiv_id, native.arxiv_version) == ("2403.01234", 2)
    assert native.pdf_path.name == "Okafor - 2024 - Routing.pdf" and native.zotero_pdf.endswith("/items/ATTSTORE")
    pinned = lib.get("haddadFederatedLoRAMerging2024")  # 'Citation Key:' in Extra
    assert lib.get("haddad2024fed") is pinned and pinned.arxiv_id == "2401.00007"  # archiveID
    assert pinned.missing_pdf == tmp_path / "Zotero" / "storage" / "GONE0001" / "gone.pdf"
    # Two keyless items that would get the same key: disambiguated as Better BibTeX does.
    first, second = lib.get("moreauTabularBenchmarkCrop2022"), lib.get("moreauTabularBenchmarkCrop2022a")
    assert first.arxiv_id == "2201.00042" and first.doi == "10.1234/crop.42" and second.arxiv_id is None
    assert lib.get("binnedPaperTrash2020") is None and lib.get("feedItemOnly2025") is None  # trash and feeds
    assert lib.get("trashedPdfOnly2021").pdf_path is None  # a trashed attachment is not the paper's PDF


def test_linked_files_and_the_attachment_base_folder(tmp_path: Path) -> None:
    base = tmp_path / "papers"
    base.mkdir()
    (base / "sub").mkdir()
    (base / "sub" / "linked.pdf").write_bytes(make_pdf("Linked"))
    absolute = tmp_path / "elsewhere.pdf"
    absolute.write_bytes(make_pdf("Absolute"))
    make_zotero(tmp_path / "Zotero", [
        {"key": "LINKREL1", "fields": {"title": "Relative", "citationKey": "relLinked2020"},
         "attachments": [{"key": "A1", "path": "attachments:sub/linked.pdf", "link_mode": 2}]},
        {"key": "LINKABS1", "fields": {"title": "Absolute", "citationKey": "absLinked2020"},
         "attachments": [{"key": "A2", "path": str(absolute), "link_mode": 2}]},
        {"key": "GROUP001", "library": 2, "fields": {"title": "Group paper", "citationKey": "groupPaper2021"},
         "attachments": [{"key": "A3", "path": "storage:g.pdf", "pdf": make_pdf("Group")}]},
    ], group_library=4242)
    lib = load_library([tmp_path / "Zotero"], zotero_base_dir=base)
    assert lib.get("relLinked2020").pdf_path == base / "sub" / "linked.pdf"
    assert lib.get("absLinked2020").pdf_path == absolute
    assert lib.get("groupPaper2021").zotero_pdf == "zotero://open-pdf/groups/4242/items/A3"
    assert load_library([tmp_path / "Zotero"]).get("relLinked2020").pdf_path is None  # no base folder known


def test_readable_while_zotero_holds_its_exclusive_lock(tmp_path: Path) -> None:
    db = small_library(tmp_path / "Zotero")
    holder = sqlite3.connect(db)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # as Zotero does while it runs
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1).execute("SELECT 1 FROM items").fetchall()
        assert lib_keys(db) >= {"okaforRoutingAdaptersFrozen2024", "haddadFederatedLoRAMerging2024"}
    finally:
        holder.rollback()
        holder.close()


def lib_keys(path: Path) -> set[str]:
    return set(load_library([path]))


def test_zotero_means_the_default_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match="no Zotero library found"):
        load_library(["zotero"])
    small_library(tmp_path / "Zotero")
    assert "okaforRoutingAdaptersFrozen2024" in load_library(["zotero"])


def test_a_copy_of_the_database_under_another_name_is_recognised(tmp_path: Path) -> None:
    db = small_library(tmp_path / "Zotero")
    copy = tmp_path / "backup.db"
    shutil.copy(db, copy)
    assert "okaforRoutingAdaptersFrozen2024" in load_library([copy])


# -- bad files say what they are ------------------------------------------------------------------------


def file_with(name: str, data: bytes):
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


@pytest.mark.parametrize("make, says", [
    (lambda d: d / "folder", "it is a folder, and not a Zotero data folder"),
    (file_with("empty.bib", b" \n"), "it is empty"),
    (file_with("junk.bib", bytes(range(256)) * 40), "it is binary data"),
    (file_with("paper.bib", make_pdf("x")), "it is a PDF"),
    (lambda d: d / "missing.bib", "no such file"),
])
def test_bad_library_files_say_what_they_are(tmp_path: Path, make, says: str) -> None:
    (tmp_path / "folder").mkdir()
    path = make(tmp_path)
    with pytest.raises(SourceError) as exc:
        load_library([path])
    assert says in exc.value.message and exc.value.message.isprintable() and len(exc.value.message) < 300


def test_sqlite_files_that_are_not_the_library(zotero: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="Better BibTeX's database, not the library"):
        load_library([zotero / "zotero7-bbt" / "better-bibtex.sqlite"])
    other = tmp_path / "notes.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(SourceError, match="a SQLite database, but not Zotero's"):
        load_library([other])


def test_cli_imports_a_zotero_folder_and_reads_it_in_place(zotero: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["library", "import", str(zotero / "zotero6-annotations"), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["entries"] == 15 and report["with_pdf"] == 9 and report["warnings"]
    shown = runner.invoke(app, ["library", "show", "deanMapReduceSimplifiedData2008"])
    assert shown.exit_code == 0 and "zotero://open-pdf/library/items/L5VFETMG" in shown.stdout
    listed = runner.invoke(app, ["library", "list"])
    assert str(zotero / "zotero6-annotations") in listed.stdout
    # What used to be remembered as "0 entries": a file that holds no papers is refused, not remembered.
    empty = tmp_path / "empty.json"
    empty.write_text('{"items": []}')
    refused = runner.invoke(app, ["library", "import", str(empty)])
    assert refused.exit_code == 1 and "holds no papers" in refused.stderr
