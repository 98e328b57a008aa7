"""Extraction on papers this test writes with PyMuPDF, and on broken inputs.

Everything here runs without ``../shared``: each test lays out a small paper
(title, authors, abstract, numbered sections, a conclusion, what follows it) on
one or two columns, with running headers, page numbers and footnotes, and checks
that the abstract and the conclusion come back exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pymupdf
import pytest

from triage import extract as extract_module
from triage.errors import PdfError
from triage.extract import EXTRACTOR_VERSION, extract, extract_cached, normalize_text, snapshot
from triage.models import Region

ARXIV_STAMP = "arXiv:2401.00001v1 [cs.LG] 1 Jan 2024"
ABSTRACT = (
    "We study how small adapters let a frozen backbone solve new tasks. Our method routes each input "
    "through a sparse set of modules and matches full fine-tuning on six benchmarks while training "
    "two percent of the parameters."
)
CONCLUSION = (
    "We presented a modular approach to parameter-efficient transfer. Routing inputs through a few "
    "adapters is enough to match full fine-tuning, and the modules compose across tasks."
)
INTRO = (
    "Large pretrained models are expensive to adapt. Fine-tuning every weight for each task costs memory "
    "and time, and the resulting copies cannot be shared. " * 2
).strip()
BODY = (
    "The method keeps the backbone frozen and learns a router over a library of adapters. Each adapter "
    "is a low-rank projection inserted after the attention block. " * 2
).strip()


# -- a tiny typesetter ------------------------------------------------------------


@dataclass
class Item:
    """One thing to typeset: its text and how it looks."""

    text: str
    size: float = 10.0
    bold: bool = False
    gap: float = 6.0  # space after it
    new_page: bool = False  # start a new page before it
    font: str | None = None  # a PyMuPDF font name; default Helvetica (bold or not)


def title(text: str) -> Item:
    return Item(text, size=16, bold=True, gap=10)


def heading(text: str) -> Item:
    return Item(text, size=12, bold=True, gap=4)


def para(text: str) -> Item:
    return Item(text)


class Typesetter:
    """Lays items out top to bottom on one or two columns, page after page."""

    def __init__(self, two_column: bool = False, header: str = "Preprint. Under review.") -> None:
        self.doc = pymupdf.open()
        self.two_column = two_column
        self.header = header
        self.columns = [(54.0, 294.0), (318.0, 558.0)] if two_column else [(72.0, 540.0)]
        self.page: pymupdf.Page | None = None
        self.col = 0
        self.y = 0.0

    def new_page(self) -> None:
        self.page = self.doc.new_page(width=612, height=792)
        number = self.doc.page_count
        # A running header and a page number on every page: both must be ignored.
        self.page.insert_text((72, 36), self.header, fontsize=8, fontname="helv")
        self.page.insert_text((300, 760), str(number), fontsize=9, fontname="helv")
        if number == 1:  # the arXiv stamp, rotated in the left margin
            self.page.insert_text((30, 560), ARXIV_STAMP, fontsize=20, fontname="tiro", rotate=90)
        self.col, self.y = 0, 72.0

    def add(self, item: Item, *, full_width: bool = False) -> pymupdf.Rect:
        if self.page is None or item.new_page:
            self.new_page()
        assert self.page is not None
        while True:
            x0, x1 = (54.0, 558.0) if full_width else self.columns[self.col]
            rect = pymupdf.Rect(x0, self.y, x1, 730)
            font = item.font or ("hebo" if item.bold else "helv")
            shape_left = self.page.insert_textbox(rect, item.text, fontsize=item.size, fontname=font)
            if shape_left >= 0:
                used = rect.height - shape_left
                placed = pymupdf.Rect(x0, self.y, x1, self.y + used)
                self.y += used + item.gap
                return placed
            # Did not fit: next column, else next page.
            if not full_width and self.col + 1 < len(self.columns):
                self.col, self.y = self.col + 1, 72.0
            else:
                self.new_page()

    def footnote(self, text: str) -> None:
        assert self.page is not None
        x0, x1 = self.columns[0]
        self.page.insert_textbox(pymupdf.Rect(x0, 700, x1, 730), text, fontsize=7, fontname="helv")

    def save(self, path: Path) -> Path:
        self.doc.save(path)
        self.doc.close()
        return path


def simple_paper(
    path: Path,
    *,
    two_column: bool = False,
    abstract_label: str | None = "Abstract",
    conclusion_heading: str = "5 Conclusion",
    after_conclusion: list[Item] | None = None,
    cover_page: bool = False,
    extra_sections: int = 0,
    with_conclusion: bool = True,
) -> Path:
    """A paper with the usual parts; the caller varies one of them."""
    ts = Typesetter(two_column=two_column)
    if cover_page:
        ts.add(title("Technical Report TR-2024-17"))
        ts.add(para("Department of Computer Science. Distributed for early dissemination."))
    ts.add(Item("Routing Through Adapters for Frozen Backbones", size=16, bold=True, gap=8, new_page=cover_page),
           full_width=True)
    ts.add(Item("Ada Lovelace and Alan Turing", size=11, gap=14), full_width=True)
    if abstract_label is None:
        ts.add(para(ABSTRACT))
    elif abstract_label.endswith("—"):
        # IEEE: label and text on one line. The built-in CJK font has the em dash Helvetica lacks.
        ts.add(Item(abstract_label + ABSTRACT, font="china-s"))
    else:
        ts.add(heading(abstract_label))
        ts.add(para(ABSTRACT))
    ts.add(heading("1 Introduction"))
    ts.add(para(INTRO))
    ts.footnote("1 Code is available at https://example.org/adapters.")
    ts.add(heading("2 Method"))
    ts.add(para(BODY))
    ts.add(heading("3 Experiments"))
    ts.add(para(BODY))
    ts.add(heading("4 Related Work"))
    ts.add(para(INTRO))
    for n in range(extra_sections):
        ts.add(heading(f"4.{n + 1} More Related Work"))
        ts.add(para(BODY))
    if with_conclusion:
        ts.add(heading(conclusion_heading))
        ts.add(para(CONCLUSION))
    if after_conclusion is None:
        after_conclusion = [heading("Acknowledgements"), para("We thank the reviewers."),
                            heading("References"), para("[1] A. Author. A paper. 2020.")]
    for item in after_conclusion:
        ts.add(item)
    return ts.save(path)


# -- normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("location-\nbased focusing", "location-based focusing"),
        ("the repre-\nsentation", "the representation"),
        ("GPT-\n4 and BERT-\nbased", "GPT-4 and BERT-based"),
        ("soft\u00ad\nhyphen", "softhyphen"),
        ("the ﬁrst ﬂow of ﬀ and ﬃ, ﬄ", "the first flow of ff and ffi, ffl"),
        ("  many \n\n spaces\tand\nlines ", "many spaces and lines"),
        ("Transformer-Big is kept", "Transformer-Big is kept"),
        ("https://github.com/\ntensorflow", "https://github.com/ tensorflow"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


# -- papers ---------------------------------------------------------------------


def test_one_column_paper(tmp_path: Path) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf"))
    assert s.title == "Routing Through Adapters for Frozen Backbones"
    assert s.abstract == ABSTRACT
    assert s.conclusion == CONCLUSION
    assert s.conclusion_found and s.conclusion_kind == "conclusion"
    assert s.conclusion_heading == "5 Conclusion"
    assert s.pages >= 1 and len(s.sha256) == 64
    assert s.abstract_regions and s.conclusion_regions
    assert not any("arXiv:2401" in c.text for c in s.chunks), "margin stamp dropped"
    assert all(r.page >= 1 and r.x0 < r.x1 and r.y0 < r.y1 for r in s.conclusion_regions)


def test_two_column_paper_with_toc_line(tmp_path: Path) -> None:
    ts = Typesetter(two_column=True)
    ts.add(title("Two Columns and a Table of Contents"), full_width=True)
    ts.add(heading("Abstract"))
    ts.add(para(ABSTRACT))
    ts.add(heading("Contents"))
    # A table-of-contents entry must not be taken for the conclusion.
    ts.add(Item("Conclusion ..... 9", size=10, bold=True))
    ts.add(heading("1 Introduction"))
    ts.add(para("Fine-tuning every weight is costly, and the tech-\nnique we propose avoids it. " + INTRO))
    ts.footnote("1 Work done during an internship.")
    for n, name in enumerate(["Method", "Experiments", "Analysis", "Related Work"], start=2):
        ts.add(heading(f"{n} {name}"))
        ts.add(para(BODY))
    ts.add(heading("6 Conclusion"))
    ts.add(para(CONCLUSION))
    ts.add(heading("References"))
    ts.add(para("[1] A. Author. A paper. 2020."))
    pdf = ts.save(tmp_path / "two.pdf")

    s = extract(pdf)
    assert s.abstract == ABSTRACT
    assert s.conclusion == CONCLUSION
    assert s.conclusion_heading == "6 Conclusion"
    assert any("technique we propose" in c.text for c in s.chunks), "end-of-line hyphen joined"
    assert not any("Preprint. Under review." in c.text for c in s.chunks), "running header dropped"
    assert not any("internship" in c.text for c in s.chunks), "footnote dropped"
    assert {c.section for c in s.chunks} >= {"1 Introduction", "6 Conclusion"}


def test_two_column_reading_order(tmp_path: Path) -> None:
    """The left column is read to its end before the right one starts."""
    pdf = simple_paper(tmp_path / "p.pdf", two_column=True)
    s = extract(pdf)
    assert s.abstract == ABSTRACT
    assert s.conclusion == CONCLUSION
    sections = [c.section for c in s.chunks]
    order = [sections.index(h) for h in ("1 Introduction", "2 Method", "3 Experiments", "4 Related Work")]
    assert order == sorted(order)


@pytest.mark.parametrize("label", ["Abstract", "ABSTRACT", "Abstract—"])
def test_abstract_labels(tmp_path: Path, label: str) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", abstract_label=label))
    assert s.abstract == ABSTRACT


def test_abstract_without_label(tmp_path: Path) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", abstract_label=None))
    assert s.abstract == ABSTRACT


def test_abstract_after_cover_page(tmp_path: Path) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", cover_page=True))
    assert s.abstract == ABSTRACT
    assert s.abstract_regions[0].page == 2


@pytest.mark.parametrize(
    "head",
    ["Conclusion", "Conclusions", "Concluding Remarks", "6 Conclusion", "5.CONCLUSION", "VI. CONCLUSION",
     "Conclusions and Future Work", "7. Conclusions"],
)
def test_conclusion_headings(tmp_path: Path, head: str) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", conclusion_heading=head))
    assert s.conclusion == CONCLUSION
    assert s.conclusion_heading == head
    assert s.conclusion_kind == "conclusion"


@pytest.mark.parametrize(
    "after",
    [
        [heading("Limitations"), para("Our study covers only English benchmarks.")],
        [heading("6 Broader Impact"), para("Cheaper adaptation lowers the cost of misuse too.")],
        [heading("A Appendix"), para("Proofs and additional tables follow.")],
        [Item("Acknowledgements We thank the anonymous reviewers for their time.")],
    ],
    ids=["limitations", "next-section", "appendix", "run-in-acknowledgements"],
)
def test_conclusion_stops_before_what_follows(tmp_path: Path, after: list[Item]) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", after_conclusion=after))
    assert s.conclusion == CONCLUSION


def test_run_in_bold_acknowledgements_ends_conclusion(tmp_path: Path) -> None:
    pdf = simple_paper(tmp_path / "p.pdf", after_conclusion=[])
    doc = pymupdf.open(pdf)
    page = doc[-1]
    # Bold lead, regular rest: the ADADELTA layout.
    y = max(b[3] for b in page.get_text("blocks")) + 14
    page.insert_text((72, y), "Acknowledgements", fontsize=10, fontname="hebo")
    page.insert_text((170, y), "We thank the reviewers for their comments.", fontsize=10, fontname="helv")
    out = tmp_path / "q.pdf"
    doc.save(out)
    assert extract(out).conclusion == CONCLUSION


def _append_lines(pdf: Path, out: Path, lines: list[list[tuple[str, str, float]]]) -> Path:
    """Write lines of (text, font, size) runs below the last text of the last page; [] is a blank line."""
    doc = pymupdf.open(pdf)
    page = doc[-1]
    y = max(b[3] for b in page.get_text("blocks") if b[1] < 700) + 24
    for runs in lines:
        x = 72.0
        for text, font, size in runs:
            page.insert_text((x, y), text, fontsize=size, fontname=font)
            x += pymupdf.get_text_length(text + " ", fontname=font, fontsize=size)
        y += 14
    doc.save(out)
    return out


def test_run_in_bold_conclusion(tmp_path: Path) -> None:
    """A LaTeX \\paragraph{Conclusion.}: the conclusion starts on the heading's own line."""
    first, second = CONCLUSION.split(". ", 1)
    pdf = simple_paper(tmp_path / "p.pdf", with_conclusion=False, after_conclusion=[])
    out = _append_lines(pdf, tmp_path / "q.pdf", [
        [("Conclusion.", "hebo", 10), (first + ".", "helv", 10)],
        [(second, "helv", 10)],
        [],
        [("References", "helv", 10)],
        [("[1] A. Author. A paper. 2020.", "helv", 10)],
    ])
    s = extract(out)
    assert s.conclusion_found and s.conclusion_kind == "conclusion"
    assert s.conclusion == CONCLUSION


def test_small_caps_roman_heading_and_plain_references(tmp_path: Path) -> None:
    """IEEE small capitals come out smaller than the body; an unstyled "References" still ends the section."""
    pdf = simple_paper(tmp_path / "p.pdf", with_conclusion=False, after_conclusion=[])
    out = _append_lines(pdf, tmp_path / "q.pdf", [
        [("VI. CONCLUSION", "helv", 8)],
        [],
        [(CONCLUSION.split(". ", 1)[0] + ".", "helv", 10)],
        [(CONCLUSION.split(". ", 1)[1], "helv", 10)],
        [],
        [("References", "helv", 10)],
        [("[1] A. Author. A paper. 2020.", "helv", 10)],
    ])
    s = extract(out)
    assert s.conclusion_heading == "VI. CONCLUSION"
    assert s.conclusion == CONCLUSION


@pytest.mark.parametrize(("head", "kind"), [("Final Remarks", "conclusion"), ("5. Discussion & Future Work", "discussion"),
                                            ("6 Summary", "summary")])
def test_other_closing_sections(tmp_path: Path, head: str, kind: str) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", conclusion_heading=head))
    assert (s.conclusion_kind, s.conclusion) == (kind, CONCLUSION)


def test_discussion_fallback(tmp_path: Path) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", conclusion_heading="8 Discussion"))
    assert s.conclusion_found and s.conclusion_kind == "discussion"
    assert s.conclusion == CONCLUSION


def test_no_conclusion_is_not_invented(tmp_path: Path) -> None:
    s = extract(simple_paper(tmp_path / "p.pdf", conclusion_heading="5 Negative Sampling"))
    assert not s.conclusion_found
    assert s.conclusion == "" and s.conclusion_kind == "none" and s.conclusion_heading is None
    assert not s.conclusion_regions


def test_pages_without_text_layer_are_reported(tmp_path: Path) -> None:
    src = simple_paper(tmp_path / "p.pdf", extra_sections=8)
    assert pymupdf.open(src).page_count >= 2
    doc = pymupdf.open()
    blank = doc.new_page(width=612, height=792)
    blank.draw_rect(pymupdf.Rect(72, 72, 540, 700), color=(0, 0, 0))  # a "scan" with no text
    doc.insert_pdf(pymupdf.open(src), from_page=1)  # keep the pages after the first
    out = tmp_path / "scan.pdf"
    doc.save(out)
    s = extract(out)
    assert s.abstract == ""
    assert any("no text layer on pages 1" in w and "abstract" in w for w in s.warnings)
    assert s.conclusion == CONCLUSION


def test_max_pages(tmp_path: Path) -> None:
    pdf = simple_paper(tmp_path / "p.pdf", cover_page=True)
    s = extract(pdf, max_pages=1)
    assert s.pages == 1 and not s.conclusion_found


def test_bytes_input(tmp_path: Path) -> None:
    pdf = simple_paper(tmp_path / "p.pdf")
    assert extract(pdf.read_bytes()).conclusion == CONCLUSION


def test_figures_and_captions_kept_out_of_the_conclusion(tmp_path: Path) -> None:
    after = [Item("Figure 3: Accuracy against the number of adapters.", size=9), para("Later text.")]
    ts = Typesetter()
    ts.add(title("A Paper With A Figure"), full_width=True)
    ts.add(heading("Abstract"))
    ts.add(para(ABSTRACT))
    ts.add(heading("1 Introduction"))
    ts.add(para(INTRO))
    ts.add(heading("2 Conclusion"))
    ts.add(after[0])
    ts.add(para(CONCLUSION))
    ts.add(heading("References"))
    ts.add(para("[1] A. Author. A paper. 2020."))
    s = extract(ts.save(tmp_path / "f.pdf"))
    assert s.conclusion == CONCLUSION
    assert [f.caption for f in s.figures] == ["Figure 3: Accuracy against the number of adapters."]
    assert s.figures[0].page == 1 and s.figures[0].region is not None


# -- broken inputs ------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_html_saved_as_pdf(tmp_path: Path) -> None:
    bad = tmp_path / "paper.pdf"
    bad.write_text("<!DOCTYPE html><html><body>Rate limit exceeded</body></html>")
    with pytest.raises(PdfError, match="not a PDF"):
        extract(bad)


@pytest.mark.timeout(30)
def test_empty_file(tmp_path: Path) -> None:
    bad = tmp_path / "empty.pdf"
    bad.write_bytes(b"")
    with pytest.raises(PdfError):
        extract(bad)


@pytest.mark.timeout(30)
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PdfError, match="cannot read"):
        extract(tmp_path / "nope.pdf")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("keep", [0.9, 0.5, 0.2, 0.05])
def test_truncated_pdf_returns_or_raises(tmp_path: Path, keep: float) -> None:
    data = simple_paper(tmp_path / "p.pdf", two_column=True).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: int(len(data) * keep)])
    try:
        s = extract(cut)
    except PdfError as e:
        assert str(e)
    else:
        # What survives the cut is read, page count and all; the full file has two pages.
        assert 1 <= s.pages <= 2 and s.sha256 == hashlib.sha256(cut.read_bytes()).hexdigest()


@pytest.mark.timeout(30)
def test_encrypted_pdf(tmp_path: Path) -> None:
    src = pymupdf.open(simple_paper(tmp_path / "p.pdf"))
    locked = tmp_path / "locked.pdf"
    src.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    with pytest.raises(PdfError, match="encrypted") as info:
        extract(locked)
    assert info.value.hint


def test_owner_password_only_is_readable(tmp_path: Path) -> None:
    """Publisher PDFs often restrict printing with an owner password; they open without one."""
    src = pymupdf.open(simple_paper(tmp_path / "p.pdf"))
    restricted = tmp_path / "restricted.pdf"
    src.save(restricted, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="",
             permissions=pymupdf.PDF_PERM_PRINT)
    assert extract(restricted).conclusion == CONCLUSION


@pytest.mark.timeout(30)
def test_zero_page_pdf(tmp_path: Path) -> None:
    empty = tmp_path / "zero.pdf"
    empty.write_bytes(
        b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type/Pages/Kids[]/Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    )
    with pytest.raises(PdfError, match="no pages"):
        extract(empty)


@pytest.mark.timeout(30)
def test_garbage_after_header(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    try:
        extract(bad)
    except PdfError as e:
        assert str(e)


# -- cache -----------------------------------------------------------------------


def test_extract_cached_writes_then_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = simple_paper(tmp_path / "p.pdf")
    cache = tmp_path / "cache"
    first = extract_cached(pdf, cache)
    files = list((cache / "extract").glob("*.json"))
    assert [f.name for f in files] == [f"{first.sha256}-v{EXTRACTOR_VERSION}.json"]
    assert not [f for f in (cache / "extract").iterdir() if f.name.endswith(".tmp")]

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("cache was not used")

    monkeypatch.setattr(extract_module, "_extract", boom)
    assert extract_cached(pdf, cache) == first


def test_extract_cached_names_the_file_in_errors(tmp_path: Path) -> None:
    bad = tmp_path / "oops.pdf"
    bad.write_text("<html>Not found</html>")
    with pytest.raises(PdfError, match="oops.pdf: server returned an HTML page, not a PDF"):
        extract_cached(bad, tmp_path / "cache")


def test_extract_cached_recomputes_a_corrupt_entry(tmp_path: Path) -> None:
    pdf = simple_paper(tmp_path / "p.pdf")
    cache = tmp_path / "cache"
    first = extract_cached(pdf, cache)
    entry = next((cache / "extract").glob("*.json"))
    entry.write_text("{not json")
    assert extract_cached(pdf, cache) == first
    assert json.loads(entry.read_text())["sha256"] == first.sha256


def test_cache_key_includes_extractor_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = simple_paper(tmp_path / "p.pdf")
    cache = tmp_path / "cache"
    extract_cached(pdf, cache)
    monkeypatch.setattr(extract_module, "EXTRACTOR_VERSION", "999")
    extract_cached(pdf, cache)
    assert len(list((cache / "extract").glob("*.json"))) == 2


# -- snapshots -------------------------------------------------------------------


def test_snapshot_of_the_conclusion(tmp_path: Path) -> None:
    pdf = simple_paper(tmp_path / "p.pdf")
    s = extract(pdf)
    out = snapshot(pdf, s.conclusion_regions, tmp_path / "asset" / "key_conclusion.png")
    assert out is not None and out.is_file()
    pix = pymupdf.Pixmap(str(out))
    r = s.conclusion_regions[0]
    assert abs(pix.width - (r.x1 - r.x0) * 2) <= 2
    assert not [p for p in out.parent.iterdir() if p.suffix == ".tmp"]


def test_snapshot_stacks_regions(tmp_path: Path) -> None:
    pdf = simple_paper(tmp_path / "p.pdf")
    regions = [Region(page=1, x0=72, y0=72, x1=300, y1=172), Region(page=1, x0=72, y0=300, x1=540, y1=350)]
    out = snapshot(pdf, regions, tmp_path / "stack.png", zoom=1.0)
    assert out is not None
    pix = pymupdf.Pixmap(str(out))
    assert pix.width == 468 and pix.height >= 150


def test_snapshot_without_regions(tmp_path: Path) -> None:
    pdf = simple_paper(tmp_path / "p.pdf")
    assert snapshot(pdf, [], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


# -- the project's own sample papers ------------------------------------------------


def _make_samples_module() -> ModuleType:
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "data" / "make_samples.py"
    if not script.is_file():
        pytest.skip("data/make_samples.py is not there")
    spec = importlib.util.spec_from_file_location("make_samples_for_extract", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_project_sample_papers(tmp_path: Path) -> None:
    """Every sample the demo uses (IEEE inline abstract, TOC, no-label abstract, Discussion) comes back exactly."""
    ms = _make_samples_module()
    by_key = {p.key: p for p in ms.PAPERS}
    for path in ms.make_samples(tmp_path):
        paper, s = by_key[path.stem], extract(path)
        assert s.abstract == normalize_text(paper.abstract), path.name
        assert s.conclusion == normalize_text(paper.conclusion_text), path.name
        assert s.conclusion_heading == paper.conclusion_heading, path.name
