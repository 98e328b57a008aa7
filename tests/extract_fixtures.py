"""Generated PDFs, one per extraction failure class seen on journal and proceedings papers.

Every word is written for this project.  Each *case* lays out a small paper
with PyMuPDF the way a publisher's class file would (columns, font sizes, fonts,
footnotes, floats) and returns what a reader would call its abstract and its
conclusion.  The cases reproduce, on text we own, what real papers from outside
arXiv did to the extractor:

==========================  =====================================================
case                        the layout it reproduces
==========================  =====================================================
discussion_subheading       ``5 Discussion`` at once followed by an unnumbered bold
                            sub-heading (journals, NIPS 2008)
fontname_bold               headings bold only by font name (``AdvTimes-B``, no bold
                            flag), barely larger than the text (physics journals)
acm_permission              an ACM proceedings first page: the permission/copyright
                            block and a title footnote under the abstract
acm_categories              a JACM first page: "Categories and Subject Descriptors",
                            "General Terms" right after the abstract
figure_in_conclusion        a plot (tick labels, legend) and its caption inside a
                            conclusion that runs across columns mid-sentence, and a
                            table after it
structured_abstract         a BMC article: Background / Methods / Results /
                            Conclusions inside the abstract, ``Abbreviations`` after
                            the conclusions
footnote_in_conclusion      a two-line footnote at the foot of a page the conclusion
                            runs across
hyphenated_compounds        compounds broken at their hyphen and words split by
                            hyphenation at line ends, in the conclusion
closing_variants            ``Concluding remarks`` and ``Summary and outlook`` headings
==========================  =====================================================

``write_corpus(folder)`` writes all of them and returns labels in the shape of
``labels-dev.json`` (plus the exact expected texts), so ``bench/bench_extract.py``
and the tests score them like the real corpus.  Output is deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

__all__ = ["CASES", "Expected", "Flow", "write_corpus", "label"]

W, H = 612.0, 792.0
TOP, BOTTOM = 72.0, 730.0
HEADER = "Journal of Fictional Results 12 (2009) 1-12"


@dataclass
class Expected:
    """What a reader would call the abstract and the conclusion of a generated paper."""

    abstract: str
    conclusion: str
    heading: str | None
    kind: str = "conclusion"
    notes: str = ""
    float_rects: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)


def _words(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


class Flow:
    """Sets text line by line on one or two columns, page after page, like a class file would.

    Paragraphs break across columns and pages at line boundaries (mid-sentence, as
    LaTeX does); explicit ``\\n`` in a text forces a line end (used to break words
    and compounds at a hyphen).
    """

    def __init__(self, columns: int = 1, body: float = 10.0, font: str = "helv", header: str = HEADER) -> None:
        self.doc = pymupdf.open()
        self.body, self.font, self.header = body, font, header
        self.cols = [(54.0, 294.0), (318.0, 558.0)] if columns == 2 else [(72.0, 540.0)]
        self.page: pymupdf.Page = None  # type: ignore[assignment]
        self.col = 0
        self.y = TOP
        self.bottom: list[float] = []
        self.new_page()

    # -- pages and columns --------------------------------------------------------

    def new_page(self) -> None:
        self.page = self.doc.new_page(width=W, height=H)
        n = self.doc.page_count
        self.page.insert_text((72, 40), self.header, fontsize=8, fontname="helv")
        self.page.insert_text((300, 765), str(n), fontsize=9, fontname="helv")
        self.col, self.y = 0, TOP
        self.bottom = [BOTTOM] * len(self.cols)

    def next_column(self) -> None:
        if self.col + 1 < len(self.cols):
            self.col += 1
            self.y = self.col_top
        else:
            self.new_page()

    col_top = TOP

    def span(self, full_width: bool = False) -> tuple[float, float]:
        return (self.cols[0][0], self.cols[-1][1]) if full_width else self.cols[self.col]

    # -- text ---------------------------------------------------------------------

    def wrap(self, text: str, width: float, font: str, size: float) -> list[str]:
        out: list[str] = []
        for part in text.split("\n"):
            line = ""
            for word in part.split():
                trial = f"{line} {word}".strip()
                if line and pymupdf.get_text_length(trial, fontname=font, fontsize=size) > width:
                    out.append(line)
                    line = word
                else:
                    line = trial
            out.append(line)
        return out

    def text(self, text: str, *, size: float | None = None, font: str | None = None, gap: float = 6.0,
             full_width: bool = False, lead: str = "", lead_font: str = "hebo") -> None:
        """A paragraph (or a heading): wrapped, set line by line, breaking across columns.

        ``lead`` opens the paragraph in ``lead_font`` on the same line (a run-in label).
        """
        size = size or self.body
        font = font or self.font
        leading = size * 1.2
        x0, x1 = self.span(full_width)
        lines = self.wrap(f"{lead} {text}" if lead else text, x1 - x0, font, size)
        for i, line in enumerate(lines):
            if self.y + leading > self.bottom[self.col]:
                self.next_column()
                x0, x1 = self.span(full_width)
            self.y += leading
            x = x0
            if i == 0 and lead:
                self.page.insert_text((x, self.y), lead, fontsize=size, fontname=lead_font)
                x += pymupdf.get_text_length(lead + " ", fontname=lead_font, fontsize=size)
                line = line[len(lead):].lstrip()
            self.page.insert_text((x, self.y), line, fontsize=size, fontname=font)
        self.y += gap

    def heading(self, text: str, size: float = 12.0, font: str = "hebo") -> None:
        self.text(text, size=size, font=font, gap=4.0)

    def foot(self, lines: list[tuple[str, float, str]], *, mark: str = "") -> None:
        """Footnote-like lines at the foot of the current column; text above them stops higher."""
        x0, _ = self.span()
        height = sum(s * 1.2 for _, s, _ in lines)
        y = self.bottom[self.col] - height
        self.bottom[self.col] = y - 8
        for i, (line, size, font) in enumerate(lines):
            y += size * 1.2
            x = x0
            if i == 0 and mark:
                self.page.insert_text((x, y - 3.5), mark, fontsize=6, fontname=font)
                x += 4
            self.page.insert_text((x, y), line, fontsize=size, fontname=font)

    # -- floats ---------------------------------------------------------------------

    def plot(self, height: float = 130.0, label_size: float = 9.0) -> tuple[float, float, float, float]:
        """A line plot drawn in the current column: axes, curves, tick labels, legend, axis title."""
        x0, x1 = self.span()
        if self.y + height > self.bottom[self.col]:
            self.next_column()
            x0, x1 = self.span()
        top = self.y + 6
        ax0, ax1, ay0, ay1 = x0 + 28, x1 - 6, top, top + height - 34
        shape = self.page.new_shape()
        shape.draw_rect(pymupdf.Rect(ax0, ay0, ax1, ay1))
        for k in range(6):
            x = ax0 + k * (ax1 - ax0) / 5
            shape.draw_line((x, ay1), (x, ay1 - 3))
        shape.finish(color=(0, 0, 0), width=0.6)
        for curve, color in (((0.2, 0.5, 0.62, 0.7, 0.74, 0.76), (0, 0, 1)), ((0.3, 0.45, 0.55, 0.6, 0.63, 0.64), (1, 0, 0))):
            pts = [(ax0 + k * (ax1 - ax0) / 5, ay1 - v * (ay1 - ay0)) for k, v in enumerate(curve)]
            shape.draw_polyline(pts)
            shape.finish(color=color, width=1.2)
        shape.commit()
        for k, tick in enumerate(["0", "20", "40", "60", "80", "100"]):
            x = ax0 + k * (ax1 - ax0) / 5
            self.page.insert_text((x - 4, ay1 + 11), tick, fontsize=label_size, fontname="helv")
        for k, tick in enumerate(["0.2", "0.4", "0.6", "0.8"]):
            y = ay1 - (0.2 + 0.2 * k) * (ay1 - ay0)
            self.page.insert_text((x0 + 8, y + 3), tick, fontsize=label_size, fontname="helv")
        self.page.insert_text((ax0 + 8, ay0 + 14), "Routing (ours)", fontsize=label_size, fontname="helv")
        self.page.insert_text((ax0 + 8, ay0 + 26), "Full fine-tuning", fontsize=label_size, fontname="helv")
        self.page.insert_text(((ax0 + ax1) / 2 - 40, ay1 + 24), "Adapters per layer", fontsize=label_size,
                              fontname="helv")
        self.y = top + height
        return (x0, top, x1, top + height)

    def table(self, rows: list[list[str]], size: float = 9.0) -> tuple[float, float, float, float]:
        """A booktabs table in the current column: three rules, a bold header row, cells."""
        x0, x1 = self.span()
        top = self.y + 4
        row_h = size * 1.5
        xs = [x0 + 6 + k * (x1 - x0 - 12) / len(rows[0]) for k in range(len(rows[0]))]
        shape = self.page.new_shape()
        y = top
        shape.draw_line((x0 + 2, y), (x1 - 2, y))
        for r, row in enumerate(rows):
            y += row_h
            for x, cell in zip(xs, row):
                self.page.insert_text((x, y - 3), cell, fontsize=size, fontname="hebo" if r == 0 else "helv")
            if r == 0:
                shape.draw_line((x0 + 2, y + 1), (x1 - 2, y + 1))
        y += 3
        shape.draw_line((x0 + 2, y), (x1 - 2, y))
        shape.finish(color=(0, 0, 0), width=0.5)
        shape.commit()
        self.y = y + 8
        return (x0, top, x1, y)

    def save(self, path: Path, *, rename: dict[str, str] | None = None) -> Path:
        """Save; ``rename`` maps base-14 font names to the names a publisher's fonts carry."""
        for xref in range(1, self.doc.xref_length()):
            kind, base = self.doc.xref_get_key(xref, "BaseFont")
            if kind == "name" and rename and base.lstrip("/") in rename:
                self.doc.xref_set_key(xref, "BaseFont", "/" + rename[base.lstrip("/")])
        self.doc.set_metadata({"creationDate": "D:20090101000000Z", "modDate": "D:20090101000000Z"})
        self.doc.save(path, garbage=1, no_new_id=True)
        self.doc.close()
        return path


# -- the shared text of the generated papers ---------------------------------------

TITLE = "Routing Between Adapters on a Frozen Backbone"
AUTHORS = "Ada Okafor and Lin Brennan, Department of Informatics, Fictional University"
ABSTRACT = (
    "We study how small adapter modules let a frozen backbone solve new tasks without touching its weights. "
    "A learned router sends each input through a sparse set of modules, and the modules compose across tasks. "
    "On six benchmarks the method matches full fine-tuning while training two percent of the parameters."
)
INTRO = (
    "Large pretrained models are expensive to adapt. Fine-tuning every weight for each task costs memory and "
    "time, and the resulting copies cannot be shared between tasks or between the people who trained them. "
    "Adapters avoid the copies, but choosing which adapter to use for an input is usually left to the user."
)
METHOD = (
    "The backbone stays frozen and a router learns a distribution over a library of adapters. Each adapter is "
    "a low-rank projection inserted after the attention block, and the router is a linear map of the pooled "
    "hidden state followed by a sparse softmax that keeps the two best modules."
)
RESULTS = (
    "Across the six benchmarks the routed adapters reach ninety-seven percent of the quality of full "
    "fine-tuning on average, and they do so with a fiftieth of the trainable parameters and a third of the "
    "memory during training, measured on the same hardware with the same batch size."
)
CONCLUSION = (
    "We showed that routing inputs between a few small adapters is enough to match full fine-tuning on a "
    "frozen backbone. The router learns which module suits each input, the modules compose across tasks, and "
    "the backbone never changes, so one copy serves every task. Future work should test larger libraries and "
    "routers that look at more than the pooled state."
)
REFERENCES = ["[1] A. Author. A paper about adapters. Journal of Results, 2007.",
              "[2] B. Author. Another paper about routing. Proceedings of a Workshop, 2008."]


def _references(f: Flow, heading: str = "References", size: float = 12.0, font: str = "hebo") -> None:
    f.heading(heading, size=size, font=font)
    for ref in REFERENCES:
        f.text(ref, size=f.body - 1, gap=2)


def _front(f: Flow, *, label: str = "Abstract", label_font: str = "hebo", label_size: float = 12.0) -> None:
    f.text(TITLE, size=16, font="hebo", gap=8, full_width=True)
    f.text(AUTHORS, size=11, gap=14, full_width=True)
    f.heading(label, size=label_size, font=label_font)
    f.text(ABSTRACT)


def _body(f: Flow, headings: list[str], size: float = 12.0, font: str = "hebo") -> None:
    for head, text in zip(headings, [INTRO, METHOD, RESULTS, METHOD, RESULTS]):
        f.heading(head, size=size, font=font)
        f.text(text)


# -- the cases ------------------------------------------------------------------------


def discussion_subheading(path: Path) -> Expected:
    f = Flow()
    _front(f)
    _body(f, ["1 Introduction", "2 Method", "3 Experiments", "4 Analysis"])
    first = ("Routing matters most when the tasks differ: on the two benchmarks that share a domain a single "
             "adapter is as good as the router, while on the four that do not the router gains four points.")
    second = ("The router learns a small number of stable routes. Most inputs of one task take the same two "
              "modules, and tasks that share a route also transfer well to each other.")
    f.heading("5 Discussion")
    f.heading("Comparison with earlier routing methods", size=10.5)
    f.text(first)
    f.heading("What the router learns", size=10.5)
    f.text(second)
    f.heading("Acknowledgements")
    f.text("We thank the reviewers for their careful reading.")
    _references(f)
    f.save(path)
    return Expected(ABSTRACT, f"{first} {second}", "5 Discussion", "discussion",
                    "an unnumbered bold sub-heading right after the Discussion heading must not end it")


def fontname_bold(path: Path) -> Expected:
    f = Flow(font="tiro")
    f.text(TITLE, size=16, font="tibo", gap=8, full_width=True)
    f.text(AUTHORS, size=11, gap=14, full_width=True, font="tiro")
    f.heading("Abstract", size=10.5, font="tibo")
    f.text(ABSTRACT)
    _body(f, ["Introduction", "Methods", "Observations", "Results"], size=10.5, font="tibo")
    f.heading("Conclusions", size=10.5, font="tibo")
    f.text(CONCLUSION)
    f.heading("Acknowledgments", size=10.5, font="tibo")
    f.text("This work was supported by a grant from a fictional foundation.")
    _references(f, size=10.5, font="tibo")
    # The journal's fonts: bold only by name, no bold flag in the font.
    f.save(path, rename={"Times-Bold": "AdvTimes-B", "Times-Roman": "AdvTimes"})
    return Expected(ABSTRACT, CONCLUSION, "Conclusions", "conclusion",
                    "headings set in a font whose name alone says bold, 0.5 pt larger than the text")


PERMISSION = (
    "Permission to make digital or hard copies of all or part of this work for personal or classroom use is "
    "granted without fee provided that copies are not made or distributed for profit or commercial advantage "
    "and that copies bear this notice and the full citation on the first page. To copy otherwise, to "
    "republish, to post on servers or to redistribute to lists, requires prior specific permission and/or a fee.",
    "PLDI'09, June 15-20, 2009, Dublin, Ireland.",
    "Copyright 2009 ACM 978-1-60558-392-1/09/06 ...$5.00.",
)


def acm_permission(path: Path) -> Expected:
    f = Flow(columns=2, body=9.0)
    f.text(TITLE, size=18, font="hebo", gap=8, full_width=True)
    f.text(AUTHORS, size=11, gap=16, full_width=True)
    f.col_top = f.y
    f.heading("ABSTRACT", size=10)
    f.text(ABSTRACT)
    lines = [(ln, 8.0, "helv") for part in PERMISSION for ln in f.wrap(part, 240, "helv", 8.0)]
    f.foot(lines)
    f.foot([("*This work was supported in part by a grant from a fictional", 8.5, "helv"),
            ("foundation for research on adapters.", 8.5, "helv")])
    f.next_column()
    f.heading("Categories and Subject Descriptors", size=10)
    f.text("D.3.4 [Programming Languages]: Processors - Compilers; I.2.6 [Artificial Intelligence]: Learning")
    f.heading("General Terms", size=10)
    f.text("Algorithms, Experimentation, Performance")
    f.heading("Keywords", size=10)
    f.text("adapters, routing, frozen backbones")
    f.col_top = TOP
    _body(f, ["1. INTRODUCTION", "2. METHOD", "3. EXPERIMENTS", "4. RESULTS", "5. RELATED WORK"], size=10)
    f.heading("6. CONCLUSIONS", size=10)
    f.text(CONCLUSION)
    _references(f, "7. REFERENCES", size=10)
    f.save(path)
    return Expected(ABSTRACT, CONCLUSION, "6. CONCLUSIONS", "conclusion",
                    "the permission block and a title footnote sit under the abstract, nearly as large")


def acm_categories(path: Path) -> Expected:
    f = Flow(body=10.0)
    f.text(TITLE, size=14, font="hebo", gap=6, full_width=True)
    f.text("ADA OKAFOR AND LIN BRENNAN", size=10, gap=12)
    f.text(ABSTRACT, size=9, lead="Abstract.")
    f.text("Categories and Subject Descriptors: C.2.4 [Computer-Communication Networks]: Distributed "
           "Systems - distributed applications; I.2.6 [Artificial Intelligence]: Learning", size=9, gap=2)
    f.text("General Terms: Algorithms, Reliability, Theory", size=9, gap=2)
    f.text("Additional Key Words and Phrases: adapters, routing, frozen backbones", size=9, gap=10)
    f.text("This work was supported by a grant from a fictional foundation. Authors' address: Department of "
           "Informatics, Fictional University.", size=9, gap=2)
    f.text("Permission to copy without fee all or part of this material is granted provided that the copies are "
           "not made or distributed for direct commercial advantage.", size=9, gap=2)
    f.text("(c) 1985 ACM 0004-5411/85/0400-0374 $00.75", size=9, gap=12)
    _body(f, ["1. Introduction", "2. The Model", "3. Results", "4. Related Work"], size=10)
    f.heading("5. Conclusion", size=10)
    f.text(CONCLUSION)
    _references(f, "REFERENCES", size=10)
    f.save(path)
    return Expected(ABSTRACT, CONCLUSION, "5. Conclusion", "conclusion",
                    "classification lines and the title footnote follow the abstract at the same size")


FIG_CAPTION = ("Figure 4: Accuracy against the number of adapters per layer for routing and full fine-tuning, "
               "averaged over the six benchmarks and three seeds.")
TABLE_CAPTION = "Table 3: Accuracy by backbone size."


def figure_in_conclusion(path: Path) -> Expected:
    f = Flow(columns=2)
    f.text(TITLE, size=16, font="hebo", gap=8, full_width=True)
    f.text(AUTHORS, size=11, gap=14, full_width=True)
    f.col_top = f.y
    f.heading("Abstract")
    f.text(ABSTRACT)
    f.col_top = TOP
    _body(f, ["1 Introduction", "2 Method", "3 Experiments", "4 Analysis"])
    for extra in ("4.1 Ablations", "4.2 Cost"):
        f.heading(extra, size=10.5)
        f.text(RESULTS)
    # The conclusion starts low in a column and goes on in the next one, past a plot and its caption.
    f.new_page()
    while f.y < 420:
        f.text(METHOD)
    f.heading("5 Conclusion")
    lines = f.wrap(CONCLUSION, 240, "helv", 10)
    room = int((f.bottom[f.col] - f.y) // 12) - 1
    room = max(2, min(room, len(lines) - 2))
    head, tail = " ".join(lines[:room]), " ".join(lines[room:])
    f.text(head, gap=0)
    f.next_column()
    page = f.doc.page_count
    fig = f.plot()
    f.text(FIG_CAPTION, size=9, gap=10)
    f.text(tail)
    tab_top = f.y
    f.text(TABLE_CAPTION, size=9, gap=2)
    tab = f.table([["Backbone", "Params", "Accuracy"], ["Small", "60M", "71.2"], ["Base", "220M", "76.8"],
                   ["Large", "770M", "79.5"]], size=10.0)
    _references(f)
    f.save(path)
    return Expected(ABSTRACT, CONCLUSION, "5 Conclusion", "conclusion",
                    "a plot with body-size tick labels and a table inside the conclusion",
                    float_rects=[(page, fig), (page, (tab[0], tab_top, tab[2], tab[3]))])


STRUCTURED = [
    ("Background", "Adapting large models to clinical text is costly, and hospitals cannot share the copies."),
    ("Methods", "We routed inputs between small adapters on a frozen backbone across six clinical tasks."),
    ("Results", "Routed adapters reached ninety-seven percent of full fine-tuning quality on average."),
    ("Conclusions", "One frozen backbone with routed adapters can serve every clinical task we studied."),
]


def structured_abstract(path: Path) -> Expected:
    f = Flow(font="tiro")
    f.text(TITLE, size=16, font="tibo", gap=8, full_width=True)
    f.text(AUTHORS, size=11, gap=14, full_width=True, font="tiro")
    f.heading("Abstract", size=12, font="tibo")
    for label_text, text in STRUCTURED:
        f.text(label_text, font="tibo", gap=1)
        f.text(text, gap=4)
    f.text("Keywords: adapters, routing, clinical text", gap=12)
    _body(f, ["Background", "Methods", "Results"], font="tibo")
    f.heading("Discussion", font="tibo")
    f.text(RESULTS)
    f.heading("Conclusions", font="tibo")
    f.text(CONCLUSION)
    f.heading("Abbreviations", font="tibo")
    f.text("NLP: natural language processing; LoRA: low-rank adaptation.")
    f.heading("Competing interests", font="tibo")
    f.text("The authors declare that they have no competing interests.")
    _references(f, font="tibo")
    f.save(path)
    abstract = " ".join(f"{label_text} {text}" for label_text, text in STRUCTURED)
    return Expected(abstract, CONCLUSION, "Conclusions", "conclusion",
                    "Background/Methods/Results/Conclusions labels inside the abstract")


def footnote_in_conclusion(path: Path) -> Expected:
    f = Flow()
    _front(f)
    _body(f, ["1 Introduction", "2 Method", "3 Experiments", "4 Analysis", "5 Related Work"])
    while f.y < 600:
        f.text(METHOD)
    f.heading("6 Conclusion")
    # The conclusion runs onto the next page; a two-line footnote sits at the foot of this one.
    f.foot([("The code, the adapters and the routing logs of every experiment are available from the", 9.0, "helv"),
            ("authors on request, together with the scripts that draw the figures.", 9.0, "helv")], mark="2")
    text = CONCLUSION + " " + RESULTS
    f.text(text)
    _references(f)
    f.save(path)
    return Expected(ABSTRACT, text, "6 Conclusion", "conclusion",
                    "the footnote's second line is set 1 pt smaller than the text and carries no mark")


# Line-broken at their hyphen: the hyphen belongs to the word.  Split by hyphenation: it does not.
COMPOUNDS = ["high-dimensional", "self-improvement", "state-of-the-art", "two-stage", "task-specific",
             "fine-tuning", "low-rank", "data-efficient"]
SPLIT_WORDS = ["representation", "parameters", "experiments", "adaptation", "performance", "distribution"]


def hyphenated_compounds(path: Path) -> Expected:
    f = Flow()
    _front(f)
    _body(f, ["1 Introduction", "2 Method", "3 Experiments"])
    # Each sentence's key word ends a line: compounds break at their own hyphen, other words where
    # hyphenation put one.  Only "fine-tuning" and "two-stage" also appear unbroken elsewhere.
    broken = [
        ("Routing keeps the high-", "dimensional hidden state intact."),
        ("It allows a kind of self-", "improvement of the library over time."),
        ("The results are state-of-the-", "art on four benchmarks."),
        ("A two-", "stage schedule trains the router after the adapters."),
        ("Each task-", "specific module is small."),
        ("Full fine-", "tuning remains the reference."),
        ("Every low-", "rank adapter has rank eight."),
        ("The method is data-", "efficient as well."),
        ("The learned repre-", "sentation stays frozen."),
        ("We train two percent of the para-", "meters only."),
        ("All the experi-", "ments use three seeds."),
        ("Fast adapta-", "tion is the goal."),
        ("The perfor-", "mance gap closes with more modules."),
        ("The routing distri-", "bution is sparse."),
    ]
    f.heading("4 Conclusion")
    lines = [broken[0][0]] + [f"{broken[i - 1][1]} {broken[i][0]}" for i in range(1, len(broken))]
    f.text("\n".join([*lines, broken[-1][1]]))
    f.text("We also used two-stage fine-tuning in one ablation.")
    _references(f)
    f.save(path)
    joined = []
    for a, b in broken:
        glue = "" if a.endswith(("repre-", "para-", "experi-", "adapta-", "perfor-", "distri-")) else "-"
        joined.append(a[:-1] + glue + b)
    return Expected(ABSTRACT, " ".join(joined) + " We also used two-stage fine-tuning in one ablation.",
                    "4 Conclusion", "conclusion", "compounds keep their hyphen; hyphenated words are joined")


def closing_variants(path: Path) -> Expected:
    f = Flow()
    _front(f)
    _body(f, ["1 Introduction", "2 Method", "3 Experiments"])
    f.heading("4 Summary and outlook")
    f.text(RESULTS)
    f.heading("5 Concluding remarks")
    f.text(CONCLUSION)
    _references(f)
    f.save(path)
    return Expected(ABSTRACT, CONCLUSION, "5 Concluding remarks", "conclusion",
                    "'Concluding remarks' wins over an earlier 'Summary and outlook'")


CASES: dict[str, Callable[[Path], Expected]] = {
    fn.__name__: fn
    for fn in (discussion_subheading, fontname_bold, acm_permission, acm_categories, figure_in_conclusion,
               structured_abstract, footnote_in_conclusion, hyphenated_compounds, closing_variants)
}


def _ends(text: str, n: int = 8) -> tuple[str, str]:
    words = text.split()
    return " ".join(words[:n]), " ".join(words[-n:])


def label(name: str, e: Expected) -> dict:
    """A record in the shape of ``labels-dev.json`` (first/last eight words), plus the exact texts."""
    a_first, a_last = _ends(_words(e.abstract))
    c_first, c_last = _ends(_words(e.conclusion))
    return {
        "file": f"{name}.pdf", "abstract_extractable": True, "abstract_first": a_first, "abstract_last": a_last,
        "conclusion_kind": e.kind, "conclusion_heading": e.heading, "conclusion_first": c_first,
        "conclusion_last": c_last, "abstract": _words(e.abstract), "conclusion": _words(e.conclusion),
        "notes": e.notes,
    }


def write_corpus(folder: Path) -> list[dict]:
    """Write every case's PDF into ``folder``; their labels, in ``labels-dev.json`` shape."""
    folder.mkdir(parents=True, exist_ok=True)
    return [label(name, build(folder / f"{name}.pdf")) for name, build in CASES.items()]


if __name__ == "__main__":
    import json
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "generated-corpus")
    (out / "labels.json").parent.mkdir(parents=True, exist_ok=True)
    labels = write_corpus(out)
    (out / "labels.json").write_text(json.dumps(labels, indent=1))
    print(f"{len(labels)} PDFs and labels.json in {out}")
