"""Find the title, abstract and conclusion of a paper PDF, fast, with PyMuPDF.

How it works, in one paragraph: every page is read once with
``page.get_text("dict")`` (text and the boxes of vector drawings, no images:
four times cheaper) and flattened into *visual lines* — MuPDF lines that share
a baseline inside a block are merged, so a heading printed as ``1`` +
``INTRODUCTION`` becomes one line — each carrying its page, box, dominant font
size and boldness (the bold flag, or the font's name: "AdvTimes-B", "CMBX10").
Rotated lines (the arXiv margin stamp, axis labels) are dropped.  A page is two-column
when most text-wide lines stay on one side of the middle; its blocks are then
read band by band (bands cut at full-width blocks), left column before right,
and its full-width blocks are floats (tables, figures) kept out of section
text; one-column pages are read top to bottom.  Lines that repeat in the top or
bottom tenth of several pages (running headers, footers, page numbers) are
dropped.  The body size is the size most characters are set in; lines clearly
smaller, or a little smaller and led by a footnote mark, are footnotes, labels
or sub/superscripts.  A *heading* starts a block and looks like one — optional
numbering (``6``, ``5.``, ``VI.``, ``A.2``) then a capitalised title, set in
bold, larger or capitals — and is not a table-of-contents line (dot leaders or
a trailing page number).  The abstract is the text after an ``Abstract`` label
(own line, ``Abstract—`` inline, or run-in) on the first three pages, up to
the next heading, keyword line, footnote, first-page furniture (ACM permission
and copyright blocks, "Categories and Subject Descriptors", "General Terms")
or a wide gap; a structured abstract keeps its Background / Methods / Results /
Conclusions labels.  Without a label it is the paragraph just before
``1 Introduction`` / ``CCS Concepts`` / ``Keywords``.
The conclusion is the last top-level ``Conclusion``-like heading before the
references (else a run-in bold ``Conclusion.`` paragraph, else the last
``Discussion`` / ``Summary``), running to the next heading of the same or a
higher level (an unnumbered heading set smaller than the section's own is a
sub-heading and does not end it) or to ``Limitations``, ``Acknowledgements``
(also an unlabelled "We thank ..." paragraph), ``References`` or an appendix.
Left out of it: captions, footnotes (with their unmarked continuation lines),
sub-headings, and the text of plots and tables, located by their vector
drawings (axes, booktabs rules), so the snapshot's rectangles go around them.
When there is no such heading, ``conclusion_found`` is false: nothing is
invented.  Line-end hyphens are resolved per word by ``triage.hyphens``: a
compound keeps its hyphen ("high-dimensional"), a hyphenated word is joined.
Pages without a text layer are reported in ``warnings``; there is no OCR.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from triage.atomic import write_atomic
from triage.errors import PdfError
from triage.fetch import check_pdf_bytes, read_pdf
from triage.hyphens import Evidence, join_line_hyphens
from triage.models import Chunk, Figure, Region, Sections

__all__ = ["EXTRACTOR_VERSION", "extract", "extract_cached", "normalize_text", "snapshot"]

# Bump whenever the heuristics change: it is part of the cache key.
EXTRACTOR_VERSION = "3"

# Text and the boxes of vector drawings, no images: "dict" with images is 4x slower, and the
# drawings (plot axes, table rules) tell where a float's text is, almost for free.
_TEXT_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP | pymupdf.TEXT_COLLECT_VECTORS
_CHUNK_CHARS = 1200
_MAX_CONCLUSION_CHARS = 15000
_HEADER_BAND = 0.1  # share of the page height where running headers/footers live

# -- normalisation -------------------------------------------------------------

_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
_LIGATURE_RE = re.compile(f"[{''.join(_LIGATURES)}]")


def normalize_text(s: str, document: Evidence | str = "") -> str:
    """Expand ligatures (ﬁ ﬂ ﬀ ﬃ ﬄ), resolve end-of-line hyphens and collapse whitespace.

    A word split at a line end is joined; a compound broken at its own hyphen keeps it
    (``triage.hyphens``), judged by the rest of the ``document`` when given.  The same
    rule the corpus labels and the critic's quote check use, so a quote copied from the
    paper matches the extracted text.
    """
    s = _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group(0)], s)
    s = join_line_hyphens(s, document)
    return " ".join(s.split())


# -- lines ---------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    """One visual line of text, in reading order."""

    page: int  # 1-based
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float  # dominant font size (by characters)
    bold: bool  # every non-space character is bold
    lead_bold: str  # the text of the leading bold spans (run-in headings)
    column: int  # 0 full width, 1 left, 2 right
    block_start: bool  # first line of a MuPDF block
    raised_start: bool = False  # starts with a smaller, raised run: a footnote number
    spans: list[dict] = field(default_factory=list, repr=False)  # only while the page is built


@dataclass(slots=True)
class _Block:
    x0: float
    y0: float
    x1: float
    y1: float
    lines: list[Line] = field(default_factory=list)


def _load(pdf: Path | bytes) -> tuple[bytes, str]:
    """The file's bytes, checked as the PDF cache checks them, and a name for messages."""
    if isinstance(pdf, (bytes, bytearray)):
        check_pdf_bytes(bytes(pdf))
        return bytes(pdf), "<bytes>"
    return read_pdf(Path(pdf)), str(pdf)


def _open(data: bytes, name: str) -> pymupdf.Document:
    """Open and validate; every failure becomes one clear PdfError."""
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as e:  # MuPDF raises several types for broken files
        raise PdfError(f"{name} is a corrupt PDF: {e}", "download the file again") from e
    if doc.needs_pass or doc.is_encrypted:
        doc.close()
        raise PdfError(f"{name} is encrypted", "save an unencrypted copy (e.g. print to PDF) and use that")
    if doc.page_count == 0:
        doc.close()
        raise PdfError(f"{name} has no pages", "the file is empty or truncated; download it again")
    return doc


Box = tuple[float, float, float, float]
_WHITE = 0xFFFFFF


def _page_blocks(page: pymupdf.Page, rect: pymupdf.Rect, pno: int, vectors: list[Box]) -> list[_Block]:
    """The page's text blocks with their visual lines (same-baseline lines merged).

    The boxes of its vector drawings are appended to ``vectors``.
    """
    blocks: list[_Block] = []
    max_area, max_width = 0.4 * rect.width * rect.height, 0.9 * rect.width
    for raw in page.get_text("dict", flags=_TEXT_FLAGS)["blocks"]:
        if raw["type"]:
            x0, y0, x1, y1 = raw["bbox"]
            # Page backgrounds, full-width bands and white paint are not figures or tables.
            if raw["type"] == 3 and raw.get("color") != _WHITE and x1 - x0 < max_width and (x1 - x0) * (y1 - y0) < max_area:
                vectors.append(raw["bbox"])
            continue
        lines: list[Line] = []
        prev: Line | None = None
        for ln in raw["lines"]:
            if ln["dir"][0] < 0.9:  # rotated or upside down: arXiv stamp, axis labels
                continue
            spans = ln["spans"]
            x0, y0, x1, y1 = ln["bbox"]
            # Same baseline and to the right: MuPDF split one visual line (e.g. "1" + "INTRODUCTION").
            if prev is not None and abs(prev.y1 - y1) < 2.5 and x0 >= prev.x1 - 1:
                _extend_line(prev, spans, x1, min(prev.y0, y0))
                continue
            text, size, bold, lead = _style(spans)
            if text:
                raised = len(spans) > 1 and spans[0]["size"] < size - 1 and spans[0]["text"].strip().isdigit()
                prev = Line(pno, x0, y0, x1, y1, text, size, bold, lead, 0, prev is None, raised, spans)
                lines.append(prev)
        if lines:
            bx0, by0, bx1, by1 = raw["bbox"]
            blocks.append(_Block(bx0, by0, bx1, by1, lines))
    return blocks


# Bold by name alone: journals' Type 1 fonts often carry no bold flag ("AdvTimes-B", "CMBX10",
# "NimbusRomNo9L-Medi", "MinionPro-Semibold", "LinLibertineTB").
_BOLD_NAME_RE = re.compile(
    r"bold|black|heavy|demi|semibold|medi(?:um)?\b|medi$|^(?:[a-z]{6}\+)?(?:cmbx|cmb\d|sfbx|ptmb|phvb)|"
    r"[-.,_](?:b|bd|bx|sb|db|bi|bdit|bol)$|(?<=[a-z])(?:tb|bd)$",
    re.I,
)
_bold_fonts: dict[str, bool] = {}


def _is_bold(span: dict) -> bool:
    if span["flags"] & 16:
        return True
    font = span["font"]
    bold = _bold_fonts.get(font)
    if bold is None:
        bold = _bold_fonts[font] = _BOLD_NAME_RE.search(font) is not None
    return bold


def _style(spans: list[dict]) -> tuple[str, float, bool, str]:
    """Text, dominant size (by characters), all-bold flag and leading bold text of a line's spans.

    Called for every line: it is a large share of our time, hence the plain loops.
    """
    if len(spans) == 1:  # the common case
        s = spans[0]
        text = s["text"]
        bold = (s["flags"] & 16 or _is_bold(s)) and bool(text) and not text.isspace()
        return text, round(s["size"], 1), bold, text.strip() if bold else ""
    if not spans:
        return "", 0.0, False, ""
    texts = [s["text"] for s in spans]
    line = "".join(texts)
    sizes = [s["size"] for s in spans]
    size = sizes[0]
    if sizes.count(size) != len(sizes):  # mixed sizes (math, footnote marks): weigh by characters
        weights: dict[float, int] = {}
        for sz, text in zip(sizes, texts):
            weights[sz] = weights.get(sz, 0) + len(text)
        size = max(weights, key=weights.__getitem__)
    lead = 0  # spans [0, lead) are bold (or blank)
    for s in spans:
        if not (_is_bold(s) or s["text"].isspace()):
            break
        lead += 1
    if lead == len(spans):
        return line, round(size, 1), bool(line) and not line.isspace(), line.strip()
    return line, round(size, 1), False, "".join(texts[:lead]).strip()


def _extend_line(line: Line, spans: list[dict], x1: float, y0: float) -> None:
    all_spans = line.spans + spans
    _, line.size, line.bold, line.lead_bold = _style(all_spans)
    tail = "".join(s["text"] for s in spans)
    line.text = line.text + ("" if line.text.endswith(" ") or tail.startswith(" ") else " ") + tail
    line.spans = all_spans
    line.x1, line.y0 = max(line.x1, x1), y0


def _column(b: _Block, mid: float) -> int:
    """0 when the block crosses the page's middle (full width), else 1 left / 2 right."""
    if b.x0 < mid - 5 and b.x1 > mid + 5:
        return 0
    return 1 if (b.x0 + b.x1) / 2 < mid else 2


def _is_two_column(blocks: list[_Block], width: float) -> bool:
    """Most text-width lines stay on one side of the middle, and both sides have some."""
    mid = width / 2
    wide = left = right = 0
    for b in blocks:
        for ln in b.lines:
            if ln.x1 - ln.x0 < 0.25 * width:
                continue  # equation pieces, numbers and headings say nothing about the layout
            wide += 1
            if ln.x1 < mid + 5:
                left += 1
            elif ln.x0 > mid - 5:
                right += 1
    return left >= 3 and right >= 3 and left + right >= 0.6 * wide


def _reading_order(blocks: list[_Block], width: float) -> list[_Block]:
    """Top to bottom; on two-column pages, bands cut at full-width blocks, left column first in each."""
    mid = width / 2
    by_position = sorted(blocks, key=lambda b: (b.y0, b.x0))
    if not _is_two_column(blocks, width):
        return by_position  # one column: equation pieces and narrow headings keep their place
    ordered: list[_Block] = []
    band: list[tuple[int, _Block]] = []

    def flush() -> None:
        band.sort(key=lambda cb: (cb[0], cb[1].y0))
        ordered.extend(b for _, b in band)
        band.clear()

    for b in by_position:
        col = _column(b, mid)
        for ln in b.lines:
            ln.column = col
        if col == 0:
            flush()
            ordered.append(b)
        else:
            band.append((col, b))
    flush()
    return ordered


@dataclass(slots=True)
class _Doc:
    lines: list[Line]
    pages: int
    heights: dict[int, float]
    empty_pages: list[int]
    body_size: float
    meta_title: str = ""
    two_column_pages: set[int] = field(default_factory=set)
    vectors: dict[int, list[Box]] = field(default_factory=dict)  # page -> boxes of vector drawings
    floats: dict[int, list[tuple[Box, str]]] = field(default_factory=dict)  # page -> plots and tables
    spelling: Evidence = field(init=False)  # how the paper spells words, for line-end hyphens

    def __post_init__(self) -> None:
        self.spelling = Evidence(self._whole_text)

    def _whole_text(self) -> str:
        return "\n".join([ln.text for ln in self.lines])  # MuPDF has expanded ligatures already

    def join(self, lines: Sequence[Line], first: str | None = None) -> str:
        """The lines as normalised text; ``first`` replaces the first line's text (after a label)."""
        texts = [ln.text for ln in lines]
        if first is not None and texts:
            texts[0] = first
        return normalize_text("\n".join(texts), self.spelling)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a paper is extracted.

    Each page's "dict" is thousands of fresh containers, none in a cycle (reference counting
    frees them), yet their number sets off collections that walk every line read so far,
    and later the chunks and regions set off more: about a tenth of our time.  Nothing here
    makes a cycle.  The previous state is restored, so a caller (or another thread) that runs
    with the collector off keeps it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(doc: pymupdf.Document, max_pages: int | None, warnings: list[str]) -> _Doc:
    """All visual lines of the document in reading order (one get_text per page)."""
    n = doc.page_count if max_pages is None else min(doc.page_count, max_pages)
    lines: list[Line] = []
    margins: list[int] = []  # indexes in ``lines`` of lines in the top or bottom band of their page
    heights: dict[int, float] = {}
    empty: list[int] = []
    broken: list[int] = []
    vectors: dict[int, list[Box]] = {}
    for i in range(n):
        try:
            page = doc[i]
            rect = page.rect
            heights[i + 1] = rect.height
            blocks = _page_blocks(page, rect, i + 1, vectors.setdefault(i + 1, []))
        except Exception:  # a damaged page must not cost the rest of the paper
            broken.append(i + 1)
            continue
        page_lines = [ln for b in _reading_order(blocks, rect.width) for ln in b.lines]
        top, bottom = rect.height * _HEADER_BAND, rect.height * (1 - _HEADER_BAND)
        for k, ln in enumerate(page_lines, start=len(lines)):
            ln.spans = []  # let the page's span dicts go now: a document's worth slows the collector
            if ln.y1 < top or ln.y0 > bottom:
                margins.append(k)
        if len(page_lines) < 20 and sum(len(ln.text.strip()) for ln in page_lines) < 20:
            empty.append(i + 1)
        lines.extend(page_lines)
    if broken:
        warnings.append(f"could not read pages {_ranges(broken)} (damaged PDF)")
    lines = _drop_running_lines(lines, margins, min(3, max(2, n)))
    two_column = {ln.page for ln in lines if ln.column}
    return _Doc(lines, n, heights, empty, _body_size(lines), _metadata_title(doc), two_column, vectors)


def _metadata_title(doc: pymupdf.Document) -> str:
    """The document-info title when it looks like a real one (not a file name or 'untitled')."""
    title = normalize_text((doc.metadata or {}).get("title") or "")
    if len(title.split()) < 2 or re.search(r"\.(?:pdf|dvi|tex|docx?)$|^microsoft word|^untitled", title, re.I):
        return ""
    return title


def _body_size(lines: list[Line]) -> float:
    """The font size most characters are set in, tolerant of 8.9/9.0/9.1 jitter."""
    sizes: dict[float, int] = {}
    for ln in lines:
        sizes[ln.size] = sizes.get(ln.size, 0) + len(ln.text)
    if not sizes:
        return 10.0
    # Score each size by the characters within 0.3 pt of it, so jittered sizes pool together.
    return max(sizes, key=lambda s: sum(n for t, n in sizes.items() if abs(t - s) <= 0.3))


_DIGITS_RE = re.compile(r"\d+")


def _drop_running_lines(lines: list[Line], margins: list[int], repeats: int) -> list[Line]:
    """Drop running headers, footers and page numbers: margin lines on ``repeats`` pages or more.

    ``margins`` are the indexes of the lines in the top or bottom band of their page.
    """
    margin = {i: _DIGITS_RE.sub("#", lines[i].text.strip().lower()) for i in margins}
    pages_per_key: dict[str, set[int]] = {}
    for i, k in margin.items():
        pages_per_key.setdefault(k, set()).add(lines[i].page)
    dropped = {i for i, k in margin.items() if len(pages_per_key[k]) >= repeats or _PAGE_NUMBER_RE.match(lines[i].text)}
    return [ln for i, ln in enumerate(lines) if i not in dropped] if dropped else lines


_PAGE_NUMBER_RE = re.compile(r"^\s*(?:page\s*)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:/|of)\s*\d+)?\s*$", re.I)


def _ranges(pages: Sequence[int]) -> str:
    """[1,2,3,5] -> '1-3, 5'."""
    out: list[str] = []
    start = prev = pages[0]
    for p in [*pages[1:], None]:
        if p is not None and p == prev + 1:
            prev = p
            continue
        out.append(f"{start}-{prev}" if prev != start else str(start))
        if p is not None:
            start = prev = p
    return ", ".join(out)


# -- headings ------------------------------------------------------------------

# "6", "6.1", "VI", "A", "A.2", followed by a dot or a space ("5.CONCLUSION", "VI. CONCLUSION"):
# without the separator "INSTANCE" would read as roman "I" + "NSTANCE".
_NUMBERING = r"(?P<num>\d{1,2}(?:\.\d{1,2}){0,3}|[IVX]{1,5}|[A-H](?:\.\d{1,2}){0,3})(?:\.\s*|\s+)"
_HEADING_RE = re.compile(rf"^\s*(?:{_NUMBERING})?(?P<title>[A-Z][^\n]{{0,90}})$")
# Small capitals often come out letter-split: "C ONCLUSION", "R EFERENCES".
_SPACED_CAPS_RE = re.compile(r"\b([A-Z]) (?=[A-Z]{2,}\b)")
_TOC_LINE_RE = re.compile(r"(?:\.\s*){4,}\s*\d+\s*$")  # "5 Conclusions . . . . . 9"
_TOC_RE = re.compile(r"(?:\.\s*){4,}|\s\.\s\.|\s\d{1,3}\s*$")
_CAPTION_RE = re.compile(
    r"^\s*(?:Figure|Fig\.|Table|Tab\.|Algorithm)\s*(?:[A-Z]?\d+|[IVX]+)(?:\s*[.:|—–]|\s*$)", re.I
)
_CONCLUSION_RE = re.compile(r"\bconclu(?:sions?|ding|sion)\b", re.I)
_REMARKS_RE = re.compile(r"^(?:final|closing|concluding)\s+(?:remarks|thoughts|words)\b", re.I)
_DISCUSSION_RE = re.compile(r"^(?:general\s+)?discussions?\b", re.I)
_SUMMARY_RE = re.compile(r"^summary\b", re.I)
_STOP_RE = re.compile(
    r"^(?:acknowledg(?:e)?ments?|references|bibliography|limitations?\b|appendi(?:x|ces)|supplementary|"
    r"ethic(?:s|al)|broader\s+impacts?|author\s+contributions?|funding|competing\s+interests|"
    r"data\s+availability|code\s+availability|reproducibility|impact\s+statement|checklist)",
    re.I,
)
_CLOSING_LINE_RE = re.compile(
    r"^(?:acknowledg(?:e)?ments?|references|bibliography|limitations|appendix|appendices)$", re.I
)
_ACK_RUN_IN_RE = re.compile(r"^acknowledg(?:e)?ments?\b[.:]?\s+\S", re.I)
# Journals (AAS, APS) print acknowledgements as a plain paragraph after the conclusions.
_THANKS_RE = re.compile(
    r"^\s*(?:(?:we|the\s+authors?|i)\s+(?:would\s+like\s+to\s+|wish\s+to\s+)?(?:thank|are\s+(?:very\s+)?grateful|"
    r"gratefully\s+acknowledge|acknowledge\s+(?:the\s+)?(?:support|funding))|this\s+(?:work|research|project|study)\s+"
    r"(?:was|is|has\s+been)\s+(?:partially\s+|partly\s+|financially\s+)?(?:supported|funded))",
    re.I,
)
_REFERENCES_RE = re.compile(r"^(?:references|bibliography|literature\s+cited)\b", re.I)


@dataclass(slots=True)
class Heading:
    """A line recognised as a section heading."""

    index: int  # position in _Doc.lines
    title: str  # without the numbering
    text: str  # as printed
    level: int | None  # 1 for "6", 2 for "6.1"; None when unnumbered
    run_in: bool = False  # bold lead of a paragraph ("Acknowledgements We thank ...")
    rest: str = ""  # for a run-in heading, the paragraph text after the lead
    size: float = 0.0  # font size: an unnumbered heading set smaller than its section's is a sub-heading


def _heading(ln: Line, index: int, body: float) -> Heading | None:
    """The line as a heading, or None when it reads as body text, a caption or a TOC entry."""
    text = ln.text.strip()
    # Cheap tests first: a section heading is bold, larger or in capitals; the other two kinds
    # are a short closing word or open with a bold lead (or "Acknowledgements").
    styled = ln.bold or ln.size >= body + 0.8 or text.isupper() or text[:1].isdigit()
    if styled and (h := _section_heading(ln, text, index, body)):
        return h
    if len(text) < 20 and (h := _closing_line(ln, text, index)):
        return h
    if ln.lead_bold or text[:3].lower() == "ack":
        return _run_in(ln, text, index)
    return None


def _section_heading(ln: Line, text: str, index: int, body: float) -> Heading | None:
    """A numbered or styled short line: "6 Conclusion", "VI. CONCLUSION", a bold "Conclusion"."""
    if not 3 <= len(text) <= 90 or _TOC_RE.search(text) or _CAPTION_RE.match(text):
        return None
    m = _HEADING_RE.match(text)
    if not m:
        return None
    title, num = _SPACED_CAPS_RE.sub(r"\1", m.group("title").strip()), (m.group("num") or "").rstrip(".")
    if len(title.split()) > 10 or title.endswith((".", ",", ";", ":")):
        return None
    larger = ln.size >= body + 0.8
    if not (ln.block_start or larger):
        return None  # mid-paragraph: a bold abstract (IEEE) is not a run of headings
    styled = ln.bold or larger
    caps = title.isupper() and sum(c.isalpha() for c in title) >= 4
    # Small capitals ("VI. CONCLUSION" in IEEE) come out smaller than the body text.
    caps_heading = caps and ln.size >= (body * 0.7 if num else body - 0.6)
    # An OCR text layer has one font for everything: "5. Conclusion" alone on its line still
    # names a closing section.
    plain_closing = bool(num) and not num.isalpha() and len(title.split()) <= 4 and _kind(title) is not None
    if not (styled or caps_heading or plain_closing):
        return None
    if not num and ln.size < body - 0.3:
        return None  # a bold table header row, not a section
    if len(num) == 1 and num.isalpha() and num not in "IVX" and not styled:
        return None  # "A SIMPLE CASE" in body caps is not an appendix heading
    level = None if not num else 1 if num.isalpha() else num.count(".") + 1
    return Heading(index, title, _SPACED_CAPS_RE.sub(r"\1", text), level, size=ln.size)


def _closing_line(ln: Line, text: str, index: int) -> Heading | None:
    """'References', 'Acknowledgments', 'Limitations' alone on a line end a section even unstyled."""
    if ln.block_start and _CLOSING_LINE_RE.match(text):
        return Heading(index, text, text, None, size=ln.size)
    return None


def _run_in(ln: Line, text: str, index: int) -> Heading | None:
    """A bold lead opening a paragraph that names a closing section or the conclusion.

    "Acknowledgements We thank ..." ends the section before it; "Conclusion. We showed ..."
    (a LaTeX \\paragraph) can be the conclusion itself.  A paragraph opening with
    "Acknowledgements" needs no bold: no conclusion sentence starts that way.
    """
    if not ln.block_start:
        return None
    lead = ln.lead_bold.strip()
    title = lead.rstrip(".:— ")
    if (lead and not ln.bold and len(title.split()) <= 5 and text.startswith(lead)
            and (_STOP_RE.match(title) or _kind(title) == "conclusion")):
        return Heading(index, title, title, None, run_in=True, rest=text[len(lead):].strip())
    if _ACK_RUN_IN_RE.match(text):
        title = text.split()[0].rstrip(".:")
        return Heading(index, title, title, None, run_in=True, rest=text[len(title):].lstrip(".: "))
    return None


def _toc_pages(lines: list[Line]) -> set[int]:
    """Pages that look like a table of contents (many dot-leader / page-number lines)."""
    counts: Counter[int] = Counter()
    for ln in lines:
        t = ln.text.rstrip()
        # Only a line ending in a page number after dots can be one: test that before the pattern.
        if t[-1:].isdigit() and t.count(".") >= 4 and len(t) < 90 and _TOC_LINE_RE.search(t):
            counts[ln.page] += 1
    return {p for p, c in counts.items() if c >= 5}


def _headings(d: _Doc) -> list[Heading]:
    toc = _toc_pages(d.lines)
    out = []
    larger = d.body_size + 0.8
    for i, ln in enumerate(d.lines):
        # Every kind of heading opens a block or stands out by size: most lines are neither.
        if not (ln.block_start or ln.size >= larger) or ln.page in toc:
            continue
        h = _heading(ln, i, d.body_size)
        if h is not None:
            out.append(h)
    return out


# -- sections ------------------------------------------------------------------


def _is_small(ln: Line, reference: float) -> bool:
    """Footnotes, figure labels and sub/superscripts are set clearly smaller than the text.

    A footnote only a little smaller than the text still gives itself away by its marker:
    a raised number or a symbol (∗ † ‡ § ¶) in front.
    """
    if ln.size < reference * 0.86:
        return True
    return ln.size < reference - 0.5 and (ln.text.lstrip()[:1] in _FOOTNOTE_MARKS or ln.raised_start)


def _caption_ends(lines: list[Line], start: int) -> int:
    """Index after the last line of the caption starting at ``start``."""
    first = lines[start]
    j = start + 1
    prev = first
    while j < len(lines):
        ln = lines[j]
        if ln.page != prev.page or ln.y0 - prev.y1 > 0.6 * max(prev.size, 1) or ln.x0 > prev.x1 or ln.x1 < prev.x0:
            break
        if ln.block_start and abs(ln.size - first.size) > 0.5:
            break
        prev = ln
        j += 1
    return j


_FOOTNOTE_MARKS = set("∗*†‡§¶")
_SUBCAPTION_RE = re.compile(r"^\s*\([a-h]\)\s")


def _is_float(ln: Line, d: _Doc) -> bool:
    """Full-width text on a two-column page is a table or figure, never running text."""
    return ln.column == 0 and ln.page in d.two_column_pages


def _is_body(ln: Line, d: _Doc, *, floats_allowed: bool = False) -> bool:
    """Running text: not small print, not a float, not a sub-figure caption like "(a) ..."."""
    # Small print and sub-captions are all set at least half a point smaller than the text.
    if ln.size < d.body_size - 0.5 and (_is_small(ln, d.body_size) or _SUBCAPTION_RE.match(ln.text)):
        return False
    return floats_allowed or not _is_float(ln, d)


def _section_lines(d: _Doc, start: int, stop: int, skip: Collection[int] = ()) -> list[Line]:
    """Body lines in [start, stop): no captions, floats, footnotes or the lines in ``skip``.

    A footnote's first line gives it away (small, or a mark in front); the lines that
    follow it in its block are footnote too when they are set smaller than the text.
    Text inside a plot or a table (tick labels, legends, cells) is left out.
    """
    lines = d.lines
    out: list[Line] = []
    i = start
    in_footnote = False
    while i < stop:
        ln = lines[i]
        if ln.block_start:
            in_footnote = False
            if _CAPTION_RE.match(ln.text):
                i = _caption_ends(lines, i)
                continue
            if out and _THANKS_RE.match(ln.text):
                break  # an unlabelled acknowledgements paragraph ends the section
        if _is_small(ln, d.body_size):
            in_footnote = True
        elif i in skip or (in_footnote and ln.size < d.body_size - 0.5) or _in_float(ln, d):
            pass
        elif _is_body(ln, d):
            out.append(ln)
        i += 1
    return out


# -- floats inside a section ------------------------------------------------------

_FIGURE, _TABLE = "figure", "table"


def _float_boxes(d: _Doc, page: int) -> list[tuple[Box, str]]:
    """Where the page's plots and tables are, from its vector drawings.

    A plot is a cluster of drawings (axes, ticks, curves) at least 40 x 30 pt; a table is
    two or more horizontal rules of the same extent (booktabs).  Computed once per page.
    """
    cached = d.floats.get(page)
    if cached is not None:
        return cached
    rules: dict[tuple[int, int], list[Box]] = {}
    shapes: list[list[float]] = []
    for v in d.vectors.get(page, ()):
        x0, y0, x1, y1 = v
        if y1 - y0 <= 2.5 and x1 - x0 >= 40:
            rules.setdefault((round(x0 / 4), round(x1 / 4)), []).append(v)
        else:
            shapes.append([x0, y0, x1, y1])
    boxes: list[tuple[Box, str]] = []
    for (x0, y0, x1, y1) in _clusters(shapes, 6.0):
        if x1 - x0 >= 40 and y1 - y0 >= 30:
            boxes.append(((x0, y0, x1, y1), _FIGURE))
    for group in rules.values():
        if len(group) >= 2:
            top, bottom = min(r[1] for r in group), max(r[3] for r in group)
            if bottom - top >= 10:
                boxes.append(((min(r[0] for r in group), top, max(r[2] for r in group), bottom), _TABLE))
    d.floats[page] = boxes
    return boxes


def _clusters(rects: list[list[float]], gap: float) -> list[list[float]]:
    """Bounding boxes of groups of rectangles that touch (within ``gap``), merged until stable."""
    merged = True
    while merged and len(rects) > 1:
        merged = False
        out: list[list[float]] = []
        for r in sorted(rects, key=lambda r: r[1]):
            for c in out:
                if r[0] <= c[2] + gap and c[0] <= r[2] + gap and r[1] <= c[3] + gap and c[1] <= r[3] + gap:
                    c[0], c[1], c[2], c[3] = min(c[0], r[0]), min(c[1], r[1]), max(c[2], r[2]), max(c[3], r[3])
                    merged = True
                    break
            else:
                out.append(list(r))
        rects = out
    return rects


def _in_float(ln: Line, d: _Doc) -> bool:
    """The line is a plot's label (inside it, or a short one just beside or below it) or a table cell."""
    if not d.vectors.get(ln.page):
        return False
    cx, cy = (ln.x0 + ln.x1) / 2, (ln.y0 + ln.y1) / 2
    for (x0, y0, x1, y1), kind in _float_boxes(d, ln.page):
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            return True
        # Tick labels sit left of and below the axes, the axis title under them.
        if (kind == _FIGURE and x0 - 16 <= cx <= x1 + 16 and y0 <= cy <= y1 + 28
                and (ln.x1 - ln.x0 < 0.6 * (x1 - x0) or _TICKS_RE.match(ln.text))):
            return True
    return False


_TICKS_RE = re.compile(r"^[\s\d.,%+\-−–×eEkKMx^]*$")


def _regions(lines: Sequence[Line], pad: float = 2.0) -> list[Region]:
    """One rectangle per run of lines on the same page and column."""
    regions: list[Region] = []
    cur: list[float] | None = None
    key: tuple[int, int] | None = None
    prev: Line | None = None
    for ln in lines:
        k = (ln.page, ln.column)
        # A jump down past a figure, or back up, starts a new rectangle: the picture shows text only.
        adjacent = prev is not None and -2 < ln.y0 - prev.y1 < 2.5 * max(ln.size, prev.size)
        prev = ln
        if cur is not None and k == key and adjacent:
            cur = [min(cur[0], ln.x0), min(cur[1], ln.y0), max(cur[2], ln.x1), max(cur[3], ln.y1)]
            continue
        if cur is not None and key is not None:
            regions.append(Region(page=key[0], x0=cur[0] - pad, y0=cur[1] - pad, x1=cur[2] + pad, y1=cur[3] + pad))
        cur, key = [ln.x0, ln.y0, ln.x1, ln.y1], k
    if cur is not None and key is not None:
        regions.append(Region(page=key[0], x0=cur[0] - pad, y0=cur[1] - pad, x1=cur[2] + pad, y1=cur[3] + pad))
    return regions


# abstract ---------------------------------------------------------------------

_ABSTRACT_LABEL_RE = re.compile(r"^\s*a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\s*(?P<sep>[—–:.\-]|\s|$)\s*(?P<rest>.*)$", re.I)
# Lines that close an abstract whatever their style, and one that is heading-like to do so.
_KEYWORD_LINE = (r"key\s*words|keywords|index\s+terms|ccs\s+concepts|additional\s+key|acm\s+reference|"
                 r"categories\s+and\s+subject\s+descriptors|general\s+terms|uni(?:fi|ﬁ)ed\s+astronomy\s+thesaurus")
_KEYWORD_LINE_RE = re.compile(rf"^\s*(?:{_KEYWORD_LINE})", re.I)
_ABSTRACT_STOP_RE = re.compile(
    rf"^\s*(?:{_KEYWORD_LINE}|"
    r"(?:table\s+of\s+)?contents\s*$|"
    r"(?:\d\.?|I\.?)?\s*introduction\b|(?:1|I)\.?\s+[A-Z])",
    re.I,
)
_ABSTRACT_PAGES = 3
# First-page furniture that follows an abstract: classification lines, the permission and
# copyright block, funding and address notes (ACM, JACM, Springer, journals).
_FURNITURE_RE = re.compile(
    r"^\s*(?:categories\s+and\s+subject\s+descriptors|general\s+terms|permission\s+to\s+(?:make|copy)|"
    r"copyright\b|©|\(c\)\s*\d{4}|publication\s+rights|this\s+(?:work|research|paper|material)\s+(?:was|is|has)\s+"
    r"(?:been\s+)?(?:supported|funded|partially|partly|sponsored|based)|authors?['’]?\s+address|"
    r"received\s+\w+\s+\d|accepted\s+\w+\s+\d|(?:mathematics\s+)?subject\s+classi(?:fi|ﬁ)cation|msc\s*20\d\d|"
    r"jel\s+classi(?:fi|ﬁ)cation|pacs\b|doi:|https?://doi)",
    re.I,
)
# The labels of a structured abstract (BMC, PLOS, Elsevier, Bioinformatics).
_STRUCTURED_RE = re.compile(
    r"^\s*(?:background|methods?|results?|conclusions?|objectives?|purpose|aims?|findings|interpretation|design|"
    r"setting|participants|context|motivation|significance|availability(?:\s+and\s+implementation)?|contact|"
    r"materials\s+and\s+methods|methodology|approach|limitations|implications|originality(?:/value)?|"
    r"main\s+outcome\s+measures?)\s*[:.]?\s*$",
    re.I,
)


def _find_abstract(d: _Doc, headings: dict[int, Heading]) -> tuple[list[Line], str]:
    """Lines of the abstract and the text of its first line when that differs from the line's own.

    It differs after an inline label ("Abstract—We ...": the text after it) and after a
    drop capital ("M" above "apReduce is ...": "MapReduce is ...").
    """
    lines = d.lines
    for i, ln in enumerate(lines):
        if ln.page > _ABSTRACT_PAGES:
            break
        m = _ABSTRACT_LABEL_RE.match(ln.text)
        if not m:
            continue
        rest = m.group("rest").strip()
        labelled = ln.bold or ln.size > d.body_size + 0.5 or ln.text.strip()[:8].isupper() or m.group("sep") in "—–:.-"
        if not rest and not labelled and len(ln.text.strip()) > 8:
            continue
        if rest and m.group("sep").isspace() and not ln.lead_bold.lower().startswith("abstract"):
            continue  # "Abstract interpretation is ..." in body text
        body = _abstract_body(d, i, rest, headings)
        if not rest and len(body) > 1 and _drop_capital_rest(lines, i + 1) is not None:
            return body[1:], body[0].text.strip() + body[1].text
        return body, rest
    return _unlabelled_abstract(d, headings), ""


def _drop_capital_rest(lines: list[Line], i: int) -> int | None:
    """When line ``i`` is a drop capital ("M" set four lines high), the index of the line it begins.

    That line starts right of the capital, level with it, in lower case ("apReduce is ..."),
    wherever the reading order put it.
    """
    cap = lines[i]
    t = cap.text.strip()
    if not (len(t) == 1 and t.isupper() and cap.size > 1.5 * max(ln.size for ln in lines[i + 1 : i + 6] or [cap])):
        return None
    for k in range(i + 1, min(i + 12, len(lines))):
        ln = lines[k]
        if ln.page == cap.page and ln.x0 >= cap.x1 - 3 and cap.y0 <= ln.y0 <= cap.y1 and ln.text[:1].islower():
            return k
    return None


def _abstract_body(d: _Doc, label: int, rest: str, headings: dict[int, Heading]) -> list[Line]:
    """The abstract's lines after its label, up to the next heading, keyword line or furniture.

    A structured abstract's labels (Background, Methods, ...) are part of it; each label
    appears once, so the paper's own "Background" section ends it.
    """
    lines = d.lines
    first = label if rest else label + 1
    out: list[Line] = []
    reference: float | None = None
    structured: set[str] = set()
    label_size = 0.0
    start = first
    if not rest and first < len(lines) and (k := _drop_capital_rest(lines, first)) is not None:
        out.append(lines[first])  # the caller glues the capital to the line it begins
        start = k
    for j in range(start, len(lines)):
        ln = lines[j]
        if ln.page != lines[label].page and out:
            break
        text = ln.text.strip()
        if ln.block_start and j != label and _STRUCTURED_RE.match(text) and (structured or j == first):
            name = text.rstrip(":. ").lower()
            if name in structured or (structured and ln.size > label_size + 0.5):
                break
            structured.add(name)
            label_size = ln.size
            out.append(ln)
            continue
        if j != label and (j in headings or _ABSTRACT_STOP_RE.match(ln.text) and _looks_like_heading_line(ln, d)):
            break
        if out and ln.block_start and (_FURNITURE_RE.match(text) or text[:1] in _FOOTNOTE_MARKS):
            break  # the permission block, classification lines or a title footnote
        if reference is None:
            reference = ln.size
        if _is_small(ln, reference):
            if len(text) > 3:
                break  # a footnote: the abstract is over
            continue
        if out and (abs(ln.size - reference) > 1.2 or _TOC_LINE_RE.search(ln.text)):
            break
        if out and ln.block_start and ln.bold and not out[0].bold and len(ln.text) < 60:
            break  # a bold line after a plain abstract: the next heading ("Contents"), whatever its size
        prev = out[-1] if out else None
        if prev is not None and prev.page == ln.page and prev.column == ln.column and ln.y0 - prev.y1 > 3 * ln.size:
            break  # a wide gap in the same column: what follows sits at the foot of the column
        out.append(ln)
    return out


def _looks_like_heading_line(ln: Line, d: _Doc) -> bool:
    t = ln.text.strip()
    if _KEYWORD_LINE_RE.match(t):
        return True
    return ln.bold or ln.size > d.body_size + 0.5 or (len(t) < 40 and t.isupper())


def _unlabelled_abstract(d: _Doc, headings: dict[int, Heading]) -> list[Line]:
    """No 'Abstract' label: the paragraph just before the first heading or keyword line."""
    lines = d.lines
    anchor = None
    for i, ln in enumerate(lines):
        if ln.page > _ABSTRACT_PAGES:
            break
        # Only the paper's first section ("1 ...", "I. ...") or a keyword line can close an abstract.
        first_section = i in headings and re.match(r"^\s*(?:1|I)\.?\s", headings[i].text) is not None
        if first_section or (_ABSTRACT_STOP_RE.match(ln.text) and _looks_like_heading_line(ln, d)):
            anchor = i
            break
    if anchor is None:
        return []
    # A keyword or classification line is set like the abstract above it (8 pt in ACM journals):
    # small print is judged against it, not against the body text.
    reference = lines[anchor].size if _KEYWORD_LINE_RE.match(lines[anchor].text) else d.body_size
    out: list[Line] = []
    j = anchor - 1
    while j >= 0:
        ln = lines[j]
        if ln.page != lines[anchor].page:
            break
        if out:
            nxt = out[-1]
            if abs(ln.size - nxt.size) > 0.6 or nxt.y0 - ln.y1 > 2.5 * ln.size or ln.bold:
                break
        elif _is_small(ln, reference) or len(ln.text.strip()) < 3:
            j -= 1
            continue
        out.append(ln)
        j -= 1
    out.reverse()
    # A block of 1-2 lines is an author or affiliation line, not an abstract.
    return out if sum(len(ln.text) for ln in out) > 200 else []


# conclusion -------------------------------------------------------------------


def _kind(title: str) -> str | None:
    """conclusion / discussion / summary for a heading title, else None."""
    if len(title.split()) > 8:
        return None
    if _CONCLUSION_RE.search(title) or _REMARKS_RE.match(title):
        return "conclusion"
    if _DISCUSSION_RE.match(title):
        return "discussion"
    if _SUMMARY_RE.match(title):
        return "summary"
    return None


def _pick_conclusion(heads: list[Heading], main_start: int, main_end: int) -> tuple[Heading, str] | None:
    """The last conclusion heading in the main text; else the last discussion / summary.

    The main text starts after the abstract: a structured abstract's "Conclusions" label
    is not the paper's conclusion.
    """
    first_section = next((h.index for h in heads if h.level is not None), 0)
    found: dict[str, list[Heading]] = {"conclusion": [], "run-in": [], "discussion": [], "summary": []}
    for h in heads:
        if not main_start <= h.index < main_end:
            continue
        kind = _kind(h.title)
        if kind == "summary" and h.index < first_section:
            continue  # "Summary" in front of the paper is the abstract (journals), not a closing section
        if kind and h.run_in:
            if kind == "conclusion":  # "Discussion." paragraphs are everywhere; only a run-in conclusion counts
                found["run-in"].append(h)
        elif kind:
            found[kind].append(h)
    for kind in ("conclusion", "run-in", "discussion", "summary"):
        cands = found[kind]
        if cands:
            top = [h for h in cands if h.level in (None, 1)]
            return (top or cands)[-1], "conclusion" if kind == "run-in" else kind
    return None


def _section_end(heads: list[Heading], start: Heading, limit: int) -> int:
    """Index of the first line after the section that starts at ``start``.

    A numbered heading of the same or a higher level ends it; an unnumbered one ends it
    unless it is set smaller than the section's own heading: then it is a sub-heading
    ("5 Discussion" / "Comparison with prior work").
    """
    for h in heads:
        if h.index <= start.index:
            continue
        if h.run_in or _STOP_RE.match(h.title) or _REFERENCES_RE.match(h.title) or start.run_in:
            return h.index
        if h.level is None:
            if h.size >= start.size - 0.3:
                return h.index
        elif start.level is None or h.level <= start.level:
            return h.index
    return limit


def _main_end(heads: list[Heading], n_lines: int) -> int:
    for h in heads:
        if _REFERENCES_RE.match(h.title):
            return h.index
    return n_lines


# chunks and figures -------------------------------------------------------------


def _chunks(d: _Doc, heads: list[Heading]) -> list[Chunk]:
    """Body text in ~1200-character passages that never straddle a section."""
    starts = {h.index: h for h in heads}
    chunks: list[Chunk] = []
    buf: list[str] = []
    size = 0
    section, page, skipping = "", 1, False

    def flush() -> None:
        nonlocal buf, size
        text = normalize_text("\n".join(buf), d.spelling)
        if len(text) > 40:
            chunks.append(Chunk(text=text, section=section, page=page))
        buf, size = [], 0

    i = 0
    lines = d.lines
    while i < len(lines):
        ln = lines[i]
        h = starts.get(i)
        if h is not None and not h.run_in:
            flush()
            section = h.text
            skipping = bool(_REFERENCES_RE.match(h.title))
            i += 1
            continue
        if ln.block_start and _CAPTION_RE.match(ln.text):
            i = _caption_ends(lines, i)
            continue
        # Page 1 may set the abstract full width above the columns: keep its "floats" in the index.
        if not skipping and _is_body(ln, d, floats_allowed=ln.page == 1):
            if not buf:
                page = ln.page
            buf.append(ln.text)
            size += len(ln.text)
            if size >= _CHUNK_CHARS and ln.text.rstrip().endswith((".", "?", "!")):
                flush()
        i += 1
    flush()
    return chunks


def _figures(d: _Doc) -> list[Figure]:
    figures = []
    lines = d.lines
    for i, ln in enumerate(lines):
        if ln.block_start and _CAPTION_RE.match(ln.text):
            caption = lines[i : _caption_ends(lines, i)]
            regions = _regions(caption)
            figures.append(Figure(caption=d.join(caption), page=ln.page, region=regions[0] if regions else None))
    return figures


# title -------------------------------------------------------------------------


def _title_runs(lines: list[Line]) -> list[list[Line]]:
    """Consecutive lines set in the same size and weight, close together."""
    runs: list[list[Line]] = []
    for ln in lines:
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and abs(ln.size - last.size) <= 0.5
            and ln.bold == last.bold
            and ln.y0 - last.y1 < 1.2 * ln.size
        ):
            runs[-1].append(ln)
        else:
            runs.append([ln])
    return runs


def _title(d: _Doc, first_page: int) -> str:
    """The largest multi-word run of lines in the top half of the first page with text.

    Runs of one or two words are passed over when a longer one exists: those are logos
    and venue banners ("Paper Search") more often than titles.
    """
    top = [
        ln
        for ln in d.lines
        if ln.page == first_page
        and ln.y0 < d.heights[ln.page] * 0.5
        and len(ln.text.strip()) > 1
        and "arxiv" not in ln.text.lower()
        and ln.size >= d.body_size + 0.5
    ]
    runs = _title_runs(top)
    wordy = [r for r in runs if sum(len(ln.text.split()) for ln in r) >= 3]
    candidates = wordy or runs
    if not candidates:
        return ""
    return d.join(max(candidates, key=lambda r: r[0].size))


# -- public API --------------------------------------------------------------------


def extract(pdf: Path | bytes, *, max_pages: int | None = None) -> Sections:
    """Title, abstract, conclusion, chunks, figures and regions of a paper PDF.

    Raises ``PdfError`` when the input is not a PDF, is corrupt, encrypted or
    has no pages.  What could not be read (pages without a text layer, a missing
    abstract) is reported in ``Sections.warnings``.
    """
    data, name = _load(pdf)
    return _extract(data, name, max_pages)


def _extract(data: bytes, name: str, max_pages: int | None, sha: str | None = None) -> Sections:
    # The pause ends after this frame's lines are freed, so the collection that follows has
    # only the result left to walk.
    with _collector_paused():
        return _extract_paused(data, name, max_pages, sha)


def _extract_paused(data: bytes, name: str, max_pages: int | None, sha: str | None) -> Sections:
    doc = _open(data, name)
    try:
        warnings: list[str] = []
        d = _read(doc, max_pages, warnings)
    finally:
        doc.close()
    return _sections(d, sha or hashlib.sha256(data).hexdigest(), warnings)


def _sections(d: _Doc, sha: str, warnings: list[str]) -> Sections:
    heads = _headings(d)
    abstract, abstract_lines = _abstract(d, {h.index: h for h in heads})
    no_first_page = bool(d.empty_pages) and d.empty_pages[0] == 1
    if d.empty_pages:
        why = "; abstract not readable without OCR" if no_first_page and not abstract else ""
        warnings.append(f"no text layer on pages {_ranges(d.empty_pages)}{why}")
    if not abstract and not no_first_page:
        warnings.append("abstract not found")

    after_abstract = d.lines.index(abstract_lines[-1]) + 1 if abstract_lines else 0
    conclusion, conclusion_lines, heading, kind = _conclusion(d, heads, after_abstract)
    if not conclusion:
        warnings.append("no conclusion, discussion or summary section found")

    first_text_page = next((p for p in range(1, d.pages + 1) if p not in d.empty_pages), 0)
    return Sections(
        title=(_title(d, first_text_page) if 0 < first_text_page <= 2 else "") or d.meta_title,
        abstract=abstract,
        conclusion=conclusion,
        conclusion_heading=heading,
        conclusion_found=bool(conclusion),
        conclusion_kind=kind,
        pages=d.pages,
        abstract_regions=_regions(abstract_lines),
        conclusion_regions=_regions(conclusion_lines),
        chunks=_chunks(d, heads),
        figures=_figures(d),
        warnings=warnings,
        sha256=sha,
    )


def _abstract(d: _Doc, headings: dict[int, Heading]) -> tuple[str, list[Line]]:
    """The abstract's text and lines; an inline label ("Abstract—We ...") is cut off."""
    lines, inline_rest = _find_abstract(d, headings)
    return d.join(lines, inline_rest or None), lines


def _conclusion(d: _Doc, heads: list[Heading], main_start: int) -> tuple[str, list[Line], str | None, str]:
    """Text, lines, heading and kind of the closing section; empty and 'none' when there is none."""
    picked = _pick_conclusion(heads, main_start, _main_end(heads, len(d.lines)))
    if picked is None:
        return "", [], None, "none"
    h, kind = picked
    end = _section_end(heads, h, len(d.lines))
    subheadings = {g.index for g in heads if h.index < g.index < end}
    lines = _section_lines(d, h.index + 1, end, subheadings)
    if h.run_in:  # the conclusion starts on the heading's own line, after the bold lead
        lines = [d.lines[h.index], *lines]
        text = d.join(lines, h.rest)
    else:
        text = d.join(lines)
    if not text:
        return "", [], None, "none"
    return text[:_MAX_CONCLUSION_CHARS], lines, normalize_text(h.text), kind


def extract_cached(pdf: Path, cache_dir: Path) -> Sections:
    """``extract`` with a cache keyed by the PDF's content hash and the extractor version."""
    data, name = _load(pdf)
    sha = hashlib.sha256(data).hexdigest()
    path = Path(cache_dir) / "extract" / f"{sha}-v{EXTRACTOR_VERSION}.json"
    if path.is_file():
        try:
            return Sections.model_validate_json(path.read_bytes())
        except ValueError:
            pass  # a corrupt cache entry is simply recomputed
    sections = _extract(data, name, None, sha)
    try:
        write_atomic(path, json.dumps(sections.model_dump(mode="json"), ensure_ascii=False).encode())
    except OSError:
        pass  # an unwritable cache costs time next run, not this result
    return sections


def snapshot(pdf: Path, regions: list[Region], out_png: Path, *, zoom: float = 2.0) -> Path | None:
    """Render ``regions`` (stacked top to bottom) into one PNG at ``out_png``; None when there are none."""
    if not regions:
        return None
    doc = _open(*_load(pdf))
    try:
        pixmaps = list(_clips(doc, regions, zoom))
    finally:
        doc.close()
    if not pixmaps:
        return None
    gap = int(4 * zoom)
    width = max(p.width for p in pixmaps)
    height = sum(p.height for p in pixmaps) + gap * (len(pixmaps) - 1)
    sheet = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    sheet.clear_with(255)
    y = 0
    for pix in pixmaps:
        pix.set_origin(0, y)
        sheet.copy(pix, pix.irect)
        y += pix.height + gap
    out_png = Path(out_png)
    write_atomic(out_png, sheet.tobytes("png"))
    return out_png


def _clips(doc: pymupdf.Document, regions: list[Region], zoom: float) -> Iterator[pymupdf.Pixmap]:
    matrix = pymupdf.Matrix(zoom, zoom)
    for r in regions:
        if not 1 <= r.page <= doc.page_count:
            continue
        page = doc[r.page - 1]
        clip = pymupdf.Rect(r.x0, r.y0, r.x1, r.y1) & page.rect
        if clip.is_empty:
            continue
        yield page.get_pixmap(matrix=matrix, clip=clip, alpha=False, colorspace=pymupdf.csRGB)
