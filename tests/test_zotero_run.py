"""`triage run` on a note naming papers of a real Zotero library, with `library = [<its data folder>]`.

One case per library in ../shared/corpus/zotero (skipped without it): every
key resolves from the library in place; attached PDFs are found and judged with
a snapshot and a link into Zotero; papers without a usable PDF are judged from
their Zotero abstract and say so; a paper with neither is not judged, and says
why (not "not in your library").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli import app


@dataclass(frozen=True)
class Case:
    folder: str
    with_pdf: tuple[str, ...]  # an attached PDF is in the data folder
    abstract_only: tuple[str, ...]  # no usable PDF (none attached, missing on disk, or in the trash), an abstract
    keyed_only: tuple[str, ...] = ()  # resolves, but has neither: nothing to judge


CASES = [
    Case("zotero7-bbt", with_pdf=("tsiarasNewApproachAnalyzing2016",),
         abstract_only=("hunterMatplotlib2DGraphics2007", "lacedelliCharacterisationTOI406Showcase2024a")),
    Case("zotero6-bbt-legacy", with_pdf=(),
         abstract_only=("kajiyaRenderingEquation1986", "bloomErrorsOmissionsMarc2003"),
         keyed_only=("goldsmith1987automatic",)),
    Case("zotero6-annotations", with_pdf=("deanMapReduceSimplifiedData2008",),
         abstract_only=("waidelichClimateDamageProjections2024", "mccolloughImpactDecliningBirth2022")),
]


def write_note(path: Path, keys: list[str]) -> Path:
    path.write_text("## Context\n" + "".join(f"- @{k}\n" for k in keys) + "- thanks @karpathy for the pointer\n\n## Log\n",
                    encoding="utf-8")
    return path


def run(note: Path, library: Path) -> tuple[int, dict, str]:
    result = CliRunner().invoke(app, ["--offline", "run", str(note), "--library", str(library), "--critic", "offline",
                                      "--json"])
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.folder for c in CASES])
def test_run_resolves_from_zotero_in_place_and_judges_attached_pdfs(case: Case, corpus: Path, tmp_path: Path) -> None:
    folder = corpus / "zotero" / case.folder
    note = write_note(tmp_path / "session.md", [*case.with_pdf, *case.abstract_only, *case.keyed_only])
    code, report, err = run(note, folder)
    outcomes = {p["key"]: p for p in report["papers"]}
    assert set(outcomes) == {*case.with_pdf, *case.abstract_only, *case.keyed_only}
    assert report["ignored"] == ["karpathy"]  # a handle is not a citekey
    text = note.read_text(encoding="utf-8")
    for key in case.with_pdf:
        assert outcomes[key]["ok"], outcomes[key]
        entry = re.search(rf"^- \[skim\(@{key}\)\]\n((?:  .*\n)+)", text, re.MULTILINE)
        assert entry, text
        image = re.search(r"!\[\]\((asset/[^)]+\.png)\)", entry.group(1))
        assert image and (tmp_path / image.group(1)).is_file()
        assert re.search(r"\[p\. \d+ in Zotero\]\(zotero://open-pdf/library/items/[A-Z0-9]{8}\?page=\d+\)", entry.group(1))
    for key in (*case.abstract_only, *case.keyed_only):
        outcome = outcomes[key]
        # Resolved from the library (never "not in your library"); what is missing is the PDF, and it says so.
        assert "not in your library" not in outcome["message"]
        assert outcome["ok"] or "PDF" in outcome["message"], outcome
    for key in case.keyed_only:  # no PDF, no abstract: nothing honest to judge, and no entry pretends otherwise
        assert not outcomes[key]["ok"] and f"(@{key})]" not in text


@pytest.mark.parametrize("case", CASES, ids=[c.folder for c in CASES])
def test_papers_without_a_pdf_are_judged_from_their_zotero_abstract(case: Case, corpus: Path, tmp_path: Path) -> None:
    note = write_note(tmp_path / "session.md", list(case.abstract_only))
    code, report, err = run(note, corpus / "zotero" / case.folder)
    assert all(p["ok"] for p in report["papers"]), report
    text = note.read_text(encoding="utf-8")
    for key in case.abstract_only:
        entry = re.search(rf"^- \[skim\(@{key}\)\]\n((?:  .*\n)+)", text, re.MULTILINE)
        assert entry, text
        assert "abstract only: no PDF" in entry.group(1) and re.search(r"triage: .* · abstract only\b", entry.group(1))
    # A stale attachment is named (where Zotero says the file is), not "no cached PDF".
    assert all("/storage/" in w for w in re.findall(r"no PDF \(([^)]*is missing[^)]*)\)", err))
