"""Typed records that flow between the pipeline stages.

resolve -> ``Paper``; extract -> ``Sections``; critic -> ``Verdict``;
state -> ``Status`` / ``Transition``.  They are pydantic models so the CLI's
``--json``, the API and the SQLite state all serialise them the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from triage.arxiv_id import versioned_id

__all__ = [
    "Status",
    "Decision",
    "Paper",
    "Region",
    "Chunk",
    "Figure",
    "Sections",
    "Quote",
    "PrincipleScore",
    "TokenUsage",
    "Verdict",
    "Transition",
    "SectionsSummary",
    "PaperView",
    "FULL_BASIS",
    "utcnow",
]

#: What a verdict rests on when the paper could be read whole; anything less is said in the entry.
FULL_BASIS = "abstract and conclusion"


def utcnow() -> datetime:
    """Timezone-aware now, so stored timestamps compare correctly."""
    return datetime.now(UTC)


class Status(StrEnum):
    """Where a paper stands in the reader's workflow."""

    QUEUED = "queued"
    SKIM = "skim"
    READ = "read"
    DONE = "done"
    DROPPED = "dropped"
    ERROR = "error"


class Decision(StrEnum):
    """What the critic recommends: promote to read, keep at skim, or drop."""

    READ = "read"
    SKIM = "skim"
    DROP = "drop"

    @property
    def status(self) -> Status:
        """The status this decision moves a paper to."""
        return {Decision.READ: Status.READ, Decision.SKIM: Status.SKIM, Decision.DROP: Status.DROPPED}[self]


class Paper(BaseModel):
    """Bibliographic metadata for one paper, however it was resolved."""

    key: str = Field(description="Citekey (Better BibTeX) or a key derived from the arXiv id")
    title: str = ""
    authors: list[str] = Field(default_factory=list, description="'Family, Given' or as printed")
    year: int | None = None
    arxiv_id: str | None = Field(default=None, description="Without version, e.g. 2302.11529")
    arxiv_version: int | None = None
    doi: str | None = None
    url: str | None = None
    abstract: str = Field(default="", description="Abstract from metadata (arXiv/bib), if any")
    pdf_path: Path | None = Field(default=None, description="Local PDF: a library attachment or the cache")
    missing_pdf: Path | None = Field(default=None, description="A PDF the library lists that is not on disk")
    zotero_pdf: str | None = Field(default=None, description="zotero://open-pdf link to the attached PDF")
    pdf_url: str | None = None
    aliases: list[str] = Field(default_factory=list, description="Other citekeys (BBT 'ids')")
    resolved_by: str = Field(default="", description="How it was found, e.g. 'library:refs.bib'")

    @property
    def versioned_id(self) -> str | None:
        """The arXiv id with its version when known (``2302.11529v2``), None for a paper not on arXiv."""
        return versioned_id(self.arxiv_id, self.arxiv_version) if self.arxiv_id else None


class Region(BaseModel):
    """A rectangle on a page (PDF points, origin top-left), 1-based page."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float


class Chunk(BaseModel):
    """A passage of body text for the index."""

    text: str
    section: str = ""
    page: int = 1


class Figure(BaseModel):
    """A figure or table caption with where it sits."""

    caption: str
    page: int
    region: Region | None = None


class Sections(BaseModel):
    """What extraction found in one PDF."""

    model_config = ConfigDict(extra="allow")

    title: str = ""
    abstract: str = ""
    conclusion: str = ""
    conclusion_heading: str | None = None
    conclusion_found: bool = False
    conclusion_kind: str = Field(default="none", description="conclusion | discussion | summary | none")
    pages: int = 0
    abstract_regions: list[Region] = Field(default_factory=list)
    conclusion_regions: list[Region] = Field(default_factory=list)
    chunks: list[Chunk] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="What could not be read, and why")
    sha256: str = Field(default="", description="Content hash of the PDF (of the metadata, for metadata_only)")
    metadata_only: bool = Field(default=False, description="No PDF text: title and abstract from the library or arXiv")

    @classmethod
    def from_metadata(cls, title: str, abstract: str, identity: str) -> Sections:
        """What can be judged of a paper without its PDF: title and abstract, hashed with ``identity``."""
        import hashlib

        digest = hashlib.sha256(f"metadata\n{identity}\n{title}\n{abstract}".encode()).hexdigest()
        return cls(title=title, abstract=abstract, sha256=digest, metadata_only=True)

    @property
    def basis(self) -> str:
        """What a verdict on these sections rests on: ``abstract and conclusion``, ``abstract only``… or ``''``."""
        if self.abstract.strip() and self.conclusion.strip():
            return FULL_BASIS
        if self.abstract.strip():
            return "abstract only"
        if self.conclusion.strip():
            return "conclusion only"
        return ""


class Quote(BaseModel):
    """A passage the critic cites; ``verified`` means it is in the paper verbatim."""

    text: str
    verified: bool = False


class PrincipleScore(BaseModel):
    """The critic's judgement of one principle."""

    id: str
    score: float | None = Field(default=None, description="0-10; None means insufficient evidence")
    weight: float = 1.0
    rationale: str = ""
    quotes: list[Quote] = Field(default_factory=list)
    flagged: bool = Field(default=False, description="A score none of whose quotes could be verified")
    against: bool = Field(default=False, description="The principle counts against a paper (from the constitution)")


class TokenUsage(BaseModel):
    """Tokens spent on one verdict."""

    prompt: int = 0
    completion: int = 0


class Verdict(BaseModel):
    """The critic's judgement of one paper against one constitution."""

    key: str
    decision: Decision
    score: float = Field(description="Weighted score 0-10")
    confidence: float = Field(ge=0.0, le=1.0)
    critic: str = Field(description="Which critic produced it, e.g. 'offline:all-MiniLM-L6-v2'")
    principles: list[PrincipleScore] = Field(default_factory=list)
    revision: str = Field(default="", description="What the self-critique changed and why")
    llm_mode: str = Field(default="", description="How the LLM endpoint was asked for JSON: json_schema, tools, "
                          "json_object or text ('' for a critic without an LLM)")
    injections: list[str] = Field(default_factory=list, description="Sentences of the paper that address a model or "
                                  "reviewer with instructions: never quoted, and the decision is at most skim")
    held_back: list[str] = Field(default_factory=list, description="Rules that kept the decision below what the "
                                 "score earns, e.g. too little of the constitution covered")
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    constitution_hash: str = ""
    paper_hash: str = ""
    prompt_version: str = ""
    basis: str = Field(default="", description="What was judged: 'abstract and conclusion', 'abstract only'…")
    created_at: datetime = Field(default_factory=utcnow)

    def top_principles(self, n: int = 2) -> list[PrincipleScore]:
        """The principles that weighed most in the decision, most first.

        A principle's pull is its weight times its value to the reader (an
        ``against`` principle counts inverted: 10 - score, as in the mean).  A
        promotion or a skim lists the strongest pulls up, a drop the strongest
        pulls down; a principle without a score, or whose quotes did not verify,
        did not count and is never named.
        """
        counted = [p for p in self.principles if p.score is not None and not p.flagged]

        def value(p: PrincipleScore) -> float:
            return 10.0 - (p.score or 0.0) if p.against else (p.score or 0.0)

        if self.decision is Decision.DROP:
            return sorted(counted, key=lambda p: p.weight * (10.0 - value(p)), reverse=True)[:n]
        return sorted(counted, key=lambda p: p.weight * value(p), reverse=True)[:n]


class Transition(BaseModel):
    """One change of status, by the critic or the reader."""

    key: str
    old: Status | None
    new: Status
    actor: str = Field(description="'critic' or 'reader'")
    reason: str = ""
    source: str = Field(default="", description="Where it was decided: note, cli, tui, api, critic or digest")
    at: datetime = Field(default_factory=utcnow)


class SectionsSummary(BaseModel):
    """What extraction found in a PDF, without the body: what a paper's detail shows (chunks and figures counted)."""

    title: str = ""
    abstract: str = ""
    conclusion: str = ""
    conclusion_heading: str | None = None
    conclusion_found: bool = False
    pages: int = 0
    chunks: int = 0
    figures: int = 0
    warnings: list[str] = Field(default_factory=list)

    @field_validator("chunks", "figures", mode="before")
    @classmethod
    def _counted(cls, value: object) -> object:
        # Summaries kept before issue 16 are whole ``Sections`` with their lists emptied.
        return len(value) if isinstance(value, list) else value

    @classmethod
    def of(cls, sections: Sections) -> SectionsSummary:
        """The summary of a full extraction."""
        return cls(title=sections.title, abstract=sections.abstract, conclusion=sections.conclusion,
                   conclusion_heading=sections.conclusion_heading, conclusion_found=sections.conclusion_found,
                   pages=sections.pages, chunks=len(sections.chunks), figures=len(sections.figures),
                   warnings=list(sections.warnings))


class PaperView(BaseModel):
    """One paper as every surface shows it (the TUI, the API, ``--json``), built by ``Triage.paper``/``papers``.

    A list fills the first block (the paper in brief, with its newest verdict's
    decision, score and top principle); a paper's detail fills the rest too.
    """

    key: str
    status: Status
    title: str = ""
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    arxiv_id: str | None = None
    updated_at: datetime | None = None
    decision: str = ""
    score: float | None = None
    top: str = Field(default="", description="The principle that weighs most in the newest verdict")

    paper: Paper | None = None
    verdict: Verdict | None = None
    verdicts: int = Field(default=0, description="How many verdicts are kept")
    history: list[Transition] = Field(default_factory=list)
    sections: SectionsSummary | None = Field(default=None, description="None when the PDF was never extracted")
    pdf_to_extract: Path | None = Field(default=None, description="A PDF on disk whose sections were never summarised")
    problem: str = ""
