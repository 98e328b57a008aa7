"""Library import: BibTeX/BibLaTeX, CSL-JSON and BBT JSON, the real BBT fixtures, broken input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.servers.arxiv_replay import make_pdf
from tests.sources.conftest import BIB
from triage.config import Settings
from triage.errors import SourceError
from triage.sources import forget_library, load_library, remember_library, remembered_libraries
from triage.sources.library import normalize_doi

BBT = "bib/zotero-better-bibtex"


@pytest.fixture
def libdir(tmp_path: Path) -> Path:
    """The project's small library files copied next to two attached PDFs."""
    for f in BIB.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "attachments").mkdir()
    (tmp_path / "attachments" / "third.pdf").write_bytes(make_pdf("Third"))
    (tmp_path / "attachments" / "fourth.pdf").write_bytes(make_pdf("Fourth"))
    return tmp_path


# -- the real Better BibTeX exports --------------------------------------------------------------


def _bbt_files(corpus: Path) -> list[Path]:
    files = sorted((corpus / BBT).iterdir())
    assert len(files) == 15
    return files


def _entry_count(path: Path) -> int:
    """Entries as the file itself counts them (independent of our parser)."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".csl.json"):
        return len(json.loads(text))
    if path.name.endswith(".bbt.json"):
        return len(json.loads(text)["items"])
    return sum(1 for line in text.splitlines() if line.startswith("@") and not line.lower().startswith(("@comment",
                                                                                                         "@string")))


def test_every_bbt_fixture_entry_imports_or_is_reported(corpus: Path) -> None:
    for path in _bbt_files(corpus):
        lib = load_library([path])
        assert len(lib) + len(lib.errors) == _entry_count(path), (path.name, lib.errors)
        for error in lib.errors:
            assert error.startswith(path.name + ":") and "skipped entry: " in error


def test_the_one_unusable_key_is_reported_with_line_and_reason(corpus: Path) -> None:
    lib = load_library([corpus / BBT / "bbt-2163_citekey-preprint-suffix-arxiv.biblatex"])
    assert lib.errors == ["bbt-2163_citekey-preprint-suffix-arxiv.biblatex:143: skipped entry: "
                          "key 'wang*_solving_minimax_2019' is not a usable citekey"]


def test_every_arxiv_id_in_the_fixtures_is_found(corpus: Path) -> None:
    d = corpus / BBT
    # yang… 2022 with its `ids` alias, in BibLaTeX and in BBT JSON (Zotero's Extra: tex.ids=)
    for name in ("bbt-2058_arxiv-articles-as-online.biblatex", "bbt-2058_arxiv-articles-as-online.bbt.json"):
        lib = load_library([d / name])
        yang = lib.get("yangTorchAudioBuildingBlocks2022")
        assert yang is not None and yang.arxiv_id == "2110.15018"
        assert lib.get("@yang2021torchaudio") is yang
        assert lib.get("vandenoordWaveNetGenerativeModel2016").arxiv_id == "1609.03499"
        assert lib.get("vandenoordWaveNetGenerativeModel2016").authors[0] == "van den Oord, Aaron"
    # bbt-460: eprint + eprinttype / archivePrefix, and `extra: arXiv: …` in the JSON
    expected = {"1401.2910", "1508.05387", "1305.4904"}
    for name in ("bbt-460_arxiv-identifiers.bibtex", "bbt-460_arxiv-identifiers.biblatex",
                 "bbt-460_arxiv-identifiers.bbt.json"):
        lib = load_library([d / name])
        assert {p.arxiv_id for p in lib.papers()} == expected, name
    assert load_library([d / "bbt-460_arxiv-identifiers.bibtex"]).get("Ronnow.2014.Defining").authors[0].startswith(
        "Rønnow")
    # bbt-2483: the id only in Extra (JSON) / eprint + DOI 10.48550 (BibTeX)
    for name in ("bbt-2483_arxiv-categories-in-extra.bibtex", "bbt-2483_arxiv-categories-in-extra.bbt.json"):
        paper = load_library([d / name]).get("Ramaswamy2022ELUDEGeneratingInterpretable")
        assert paper is not None and paper.arxiv_id == "2206.07690"
    gpt3 = load_library([d / "bbt-2911_arxiv-pubstate-prepublished.biblatex"]).get("brownLanguageModelsAre2020")
    assert gpt3.arxiv_id == "2005.14165" and gpt3.year == 2020
    # bbt-2163: every arXiv URL among the ML papers
    lib = load_library([d / "bbt-2163_citekey-preprint-suffix-arxiv.biblatex"])
    ids = {p.arxiv_id for p in lib.papers() if p.arxiv_id}
    assert ids == {"1502.01852", "1910.07512", "1802.05957", "2008.02217", "1603.05201"}


def test_all_arxiv_ids_present_in_the_raw_files_are_found(corpus: Path) -> None:
    import re

    for path in _bbt_files(corpus):
        raw = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"arxiv|eprint", line, re.IGNORECASE):
                raw |= set(re.findall(r"(?<![\d.])(\d{4}\.\d{4,5})(?!\d)", line))
        found = {p.arxiv_id for p in load_library([path]).papers()}
        assert raw <= found, (path.name, raw - found)


def test_bbt_json_without_keys_gets_default_keys_disambiguated(corpus: Path) -> None:
    lib = load_library([corpus / BBT / "bbt-1921_default-citekeys-86-items.bbt.json"])
    assert len(lib) == 86 and not lib.errors
    assert "ZoiaBlasonDOttavioEtAl13" in lib  # the one item that carries its key
    assert len(lib.warnings) == 85  # each of the others says which key it derived
    assert "kollerSchweizerischesObligationenrechtBesonderer2012a" in lib


def test_csl_json_fixture(corpus: Path) -> None:
    lib = load_library([corpus / BBT / "bbt-1179_csl-26-items.csl.json"])
    assert len(lib) == 26
    p = lib.get("brittain2004")
    assert p.year == 2004 and p.authors == ["Brittain, Ian"] and p.resolved_by == "library:bbt-1179_csl-26-items.csl.json"


# -- the project's own small files ----------------------------------------------------------------


def test_malformed_entries_are_skipped_with_line_numbers_and_the_rest_imports(libdir: Path) -> None:
    lib = load_library([libdir / "broken.bib"])
    assert lib.keys() == ["goodFirstEntry2020", "goodSecondEntry2021", "goodThirdEntry2022", "goodFourthEntry2023"]
    assert len(lib.errors) == 2
    assert lib.errors[0].startswith("broken.bib:10: skipped entry: ")
    assert "comma" in lib.errors[0]
    assert lib.errors[1].startswith("broken.bib:22: skipped entry: ") and "goodFirstEntry2020" in lib.errors[1]


def test_arxiv_ids_from_eprint_doi_note_and_url(libdir: Path) -> None:
    lib = load_library([libdir / "broken.bib"])
    assert lib.get("goodFirstEntry2020").arxiv_id == "2001.01234"
    second = lib.get("goodSecondEntry2021")
    assert (second.arxiv_id, second.doi) == ("2105.00001", "10.48550/arxiv.2105.00001")
    assert second.authors == ["van den Berg, Anna"] and second.year == 2021
    third = lib.get("goodThirdEntry2022")
    assert (third.arxiv_id, third.arxiv_version) == ("2203.04567", 3)
    fourth = lib.get("goodFourthEntry2023")
    assert (fourth.arxiv_id, fourth.arxiv_version) == ("hep-th/9901001", 2)
    assert lib.by_arxiv("2203.04567v1") is third


def test_file_attachments_relative_to_the_bib_first_existing_pdf(libdir: Path) -> None:
    lib = load_library([libdir / "broken.bib"])
    assert lib.get("goodThirdEntry2022").pdf_path == (libdir / "attachments" / "third.pdf").resolve()
    assert lib.get("goodFourthEntry2023").pdf_path == (libdir / "attachments" / "fourth.pdf").resolve()
    assert lib.get("goodFirstEntry2020").pdf_path is None


def test_file_field_forms() -> None:
    from triage.sources.bibtex import _split_file_field

    assert _split_file_field("a.pdf;b/c.pdf") == ["a.pdf", "b/c.pdf"]
    assert _split_file_field("Full Text PDF:/home/me/Zotero/x.pdf:application/pdf") == ["/home/me/Zotero/x.pdf"]
    assert _split_file_field(r":C\:\\Users\\me\\x.pdf:PDF") == [r"C:\Users\me\x.pdf"]
    assert _split_file_field("Snapshot:s.html:text/html;Full Text:f.pdf:application/pdf") == ["s.html", "f.pdf"]


def test_csl_and_bbt_json_small(libdir: Path) -> None:
    lib = load_library([libdir / "tiny.csl.json", libdir / "tiny.bbt.json"])
    assert lib.get("ponti2023combining").arxiv_id == "2303.00001"
    assert [e.split(": skipped entry: ")[1] for e in lib.errors] == [
        "no 'id'", "not a CSL item", "a standalone note, not a paper"]
    ruder = lib.get("ruder2022adapters")
    assert ruder is not None and ruder.key == "ruderAdapterSurvey2022" and ruder.arxiv_id == "2201.00002"
    assert ruder.pdf_path == (libdir / "attachments" / "third.pdf").resolve()
    assert lib.get("souzaNoKeyGiven2019") is not None  # no citationKey: the default-pattern key
    assert lib.warnings == ["tiny.bbt.json:item 3: no citationKey in the export; using the default-pattern key "
                            "souzaNoKeyGiven2019"]


def test_format_is_sniffed_from_content_not_name(libdir: Path) -> None:
    (libdir / "export.txt").write_text((libdir / "tiny.bbt.json").read_text())
    assert "ruderAdapterSurvey2022" in load_library([libdir / "export.txt"])


def test_first_file_wins_a_key_both_define(libdir: Path) -> None:
    (libdir / "other.bib").write_text("@misc{goodFirstEntry2020, title={Other}}\n")
    lib = load_library([libdir / "broken.bib", libdir / "other.bib"])
    assert lib.get("goodFirstEntry2020").title == "A Good First Entry"
    assert any(e.startswith("other.bib:1: skipped entry: duplicate key") for e in lib.errors)


@pytest.mark.parametrize("content,message", [
    (None, "cannot read library"),
    ("[{", "invalid JSON at line 1"),
    ('{"config": {}}', "not a Better BibTeX JSON export"),
])
def test_unreadable_files_raise_one_line_naming_the_file(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "refs.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SourceError) as exc:
        load_library([path])
    assert message in str(exc.value) and str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_a_folder_is_not_a_library(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="it is a folder"):
        load_library([tmp_path])


def test_latin1_bib_still_reads(tmp_path: Path) -> None:
    (tmp_path / "old.bib").write_bytes("@book{muller1999, title={Über Bücher}, author={Müller, Jörg}}".encode("latin-1"))
    assert load_library([tmp_path / "old.bib"]).get("muller1999").title == "Über Bücher"


def test_latex_is_decoded_in_titles_and_names(tmp_path: Path) -> None:
    (tmp_path / "t.bib").write_text(r"@article{k2020, title={{{BERT}}: 0.9\% of {\"U}ber}, author={R{\o}nnow, T. and {OpenAI}}}")
    p = load_library([tmp_path / "t.bib"]).get("k2020")
    assert p.title == "BERT: 0.9% of Über" and p.authors == ["Rønnow, T.", "OpenAI"]


def test_helpers() -> None:
    assert normalize_doi("https://doi.org/10.1126/Science.1252319") == "10.1126/science.1252319"


def test_remembered_libraries(libdir: Path, triage_home: Path) -> None:
    settings = Settings(home=triage_home)
    assert remembered_libraries(settings) == []
    lib = remember_library(settings, libdir / "broken.bib")
    assert len(lib) == 4
    remember_library(settings, libdir / "tiny.csl.json")
    remember_library(settings, libdir / "broken.bib")  # again: not duplicated, moved last
    assert remembered_libraries(settings) == [(libdir / "tiny.csl.json").resolve(), (libdir / "broken.bib").resolve()]
    (libdir / "tiny.csl.json").unlink()
    assert remembered_libraries(settings) == [(libdir / "broken.bib").resolve()]  # a vanished file is skipped
    assert forget_library(settings, libdir / "broken.bib") and not forget_library(settings, libdir / "broken.bib")
    with pytest.raises(SourceError):
        remember_library(settings, libdir / "missing.bib")
