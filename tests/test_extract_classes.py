"""One test per failure class seen on journal and proceedings papers, on PDFs this project generates.

Each class is laid out by ``tests/extract_fixtures.py`` the way a publisher's
class file sets it (ACM permission blocks, bold-by-name journal fonts, a plot in
the conclusion, a structured abstract...), and must come back exactly: the
abstract and the conclusion a reader would select, nothing more.
"""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from bench.bench_extract import score_file
from tests import extract_fixtures as fx
from triage.extract import extract, snapshot
from triage.hyphens import keeps_hyphen
from triage.models import Sections


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, fx.Expected]]:
    folder = tmp_path_factory.mktemp("generated")
    return {name: (folder / f"{name}.pdf", build(folder / f"{name}.pdf")) for name, build in fx.CASES.items()}


def _check(generated: dict[str, tuple[Path, fx.Expected]], name: str) -> Sections:
    pdf, want = generated[name]
    s = extract(pdf)
    assert s.abstract == fx._words(want.abstract), name
    assert s.conclusion == fx._words(want.conclusion), name
    assert (s.conclusion_heading, s.conclusion_kind) == (want.heading, want.kind), name
    return s


def test_discussion_followed_by_a_bold_subheading(generated: dict) -> None:
    s = _check(generated, "discussion_subheading")
    assert "Comparison with earlier routing methods" not in s.conclusion, "sub-headings are not conclusion text"


def test_headings_bold_only_by_font_name(generated: dict) -> None:
    pdf, _ = generated["fontname_bold"]
    fonts = {span["font"] for block in pymupdf.open(pdf)[0].get_text("dict")["blocks"]
             for line in block["lines"] for span in line["spans"] if span["text"].strip() == "Introduction"}
    assert fonts == {"AdvTimes-B"}, "the fixture really hides the bold in the name"
    _check(generated, "fontname_bold")


def test_acm_permission_block_and_title_footnote_stay_out_of_the_abstract(generated: dict) -> None:
    s = _check(generated, "acm_permission")
    assert "Permission" not in s.abstract and "supported" not in s.abstract
    assert "Categories" not in s.abstract


def test_jacm_classification_lines_stay_out_of_the_abstract(generated: dict) -> None:
    s = _check(generated, "acm_categories")
    assert "General Terms" not in s.abstract


def test_plot_and_table_inside_the_conclusion(generated: dict, tmp_path: Path) -> None:
    s = _check(generated, "figure_in_conclusion")
    for stray in ("0.8", "Routing (ours)", "Adapters per layer", "Backbone", "770M", "Figure 4"):
        assert stray not in s.conclusion
    pdf, want = generated["figure_in_conclusion"]
    # The snapshot is cut around the floats: no conclusion rectangle overlaps the plot or the table.
    for page, box in want.float_rects:
        float_rect = pymupdf.Rect(box)
        for r in s.conclusion_regions:
            if r.page == page:
                overlap = pymupdf.Rect(r.x0, r.y0, r.x1, r.y1) & float_rect
                assert overlap.is_empty or overlap.get_area() < 20, (r, box)
    out = snapshot(pdf, s.conclusion_regions, tmp_path / "conclusion.png")
    assert out is not None and len(s.conclusion_regions) >= 2


def test_structured_abstract(generated: dict) -> None:
    s = _check(generated, "structured_abstract")
    assert s.abstract.startswith("Background ") and " Conclusions One frozen backbone" in s.abstract


def test_footnote_at_the_foot_of_a_conclusion_page(generated: dict) -> None:
    s = _check(generated, "footnote_in_conclusion")
    assert "on request" not in s.conclusion


def test_line_broken_compounds_and_split_words(generated: dict) -> None:
    s = _check(generated, "hyphenated_compounds")
    for word in fx.COMPOUNDS:
        assert word in s.conclusion
    for word in fx.SPLIT_WORDS:
        assert word in s.conclusion


def test_closing_section_variants(generated: dict) -> None:
    _check(generated, "closing_variants")


def test_generated_labels_score_right(generated: dict) -> None:
    """The labels ``write_corpus`` gives the bench agree with the extraction (the bench's scoring rule)."""
    for name, (pdf, want) in generated.items():
        result = score_file(fx.label(name, want), extract(pdf))
        assert result.abstract.ok and result.conclusion.ok, (name, result)


# -- de-hyphenation over real line-broken words ----------------------------------------------

# Pairs met at line ends in real papers (the shared corpus and its Zotero libraries), with what a
# reader would write.  Decided without the document's help: the word list and the shape alone.
REAL_COMPOUNDS = [
    ("high", "dimensional"), ("self", "improvement"), ("location", "based"), ("retriever", "reader"),
    ("Chinese", "English"), ("meta", "learner"), ("open", "vocabulary"), ("log", "likelihood"),
    ("16", "layer"), ("performance", "only"), ("attacker", "related"), ("security", "relevant"),
    ("negative", "sampling"), ("LSM", "tree"), ("cognitive", "behavioral"), ("state-of-the", "art"),
    ("large", "scale"), ("real", "world"), ("long", "term"), ("well", "known"), ("task", "specific"),
    ("end", "to-end"), ("fine", "grained"), ("non", "trivial"), ("GPT", "4"), ("BERT", "based"),
]
REAL_SPLITS = [
    ("repre", "sented"), ("con", "ference"), ("applica", "tion"), ("learn", "ing"), ("en", "coder"),
    ("chal", "lenges"), ("summa", "rization"), ("manage", "ment"), ("back", "ground"), ("work", "load"),
    ("man", "age"), ("be", "ing"), ("im", "plementation"), ("Further", "more"), ("in", "struction"),
    ("pro", "grams"), ("mes", "sages"), ("de", "scribed"), ("op", "erations"), ("improve", "ment"),
    ("recog", "nition"), ("some", "thing"), ("with", "out"), ("para", "meters"), ("there", "fore"),
]


@pytest.mark.parametrize(("left", "right"), REAL_COMPOUNDS, ids=lambda p: str(p))
def test_real_compounds_keep_their_hyphen(left: str, right: str) -> None:
    assert keeps_hyphen(left, right)


@pytest.mark.parametrize(("left", "right"), REAL_SPLITS, ids=lambda p: str(p))
def test_real_split_words_are_joined(left: str, right: str) -> None:
    assert not keeps_hyphen(left, right)


def test_the_document_s_own_spelling_decides_first() -> None:
    """Its spelling elsewhere, even inflected, beats the word list; its own broken form is no evidence."""
    assert not keeps_hyphen("names", "paces", "all module namespaces are flat")
    assert keeps_hyphen("data", "set", "a new data-set of papers")
    assert not keeps_hyphen("data", "set", "the datasets we use")
    assert keeps_hyphen("high", "dimensional", "the high-\ndimensional state")
    assert not keeps_hyphen("repre", "sentation", "the repre-\nsentation")
