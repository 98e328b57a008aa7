"""What a digest run is asked to do (``DigestOptions``) and what it did (``DigestReport``, ``Candidate``, ``Noted``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from triage.models import Verdict
from triage.sources.listing import ListingEntry

__all__ = ["DigestOptions", "Candidate", "Noted", "DigestReport", "ALSO_LISTED", "API_MAX_RESULTS"]

ALSO_LISTED = 30  # papers shown below the cut
API_MAX_RESULTS = 2000


@dataclass
class DigestOptions:
    """What one ``triage digest`` run reads, judges and writes; ``None`` means the setting."""

    categories: list[str] | None = None
    query: str | None = None
    since: date | None = None
    feeds: list[str] = field(default_factory=list)
    top_n: int | None = None
    pdf_top: int | None = None
    max_cost_usd: float | None = None
    out_dir: Path | None = None
    email: bool = False
    dry_run: bool = False
    wait: bool = False
    night: date | None = None
    api_max_results: int = API_MAX_RESULTS


@dataclass
class Candidate:
    """A paper of the night with its prefilter score and, for the top N, its verdict."""

    entry: ListingEntry
    key: str
    score: float
    closest: str = ""
    verdict: Verdict | None = None
    cached: bool = False
    not_judged: str = ""  # why the critic did not judge it (budget, failure)

    def to_dict(self) -> dict:
        """JSON-ready view."""
        v = self.verdict
        return {
            "key": self.key,
            "arxiv_id": self.entry.versioned_id,
            "title": self.entry.title,
            "announce_type": self.entry.announce_type,
            "prefilter": round(self.score, 4),
            "closest": self.closest,
            "decision": v.decision.value if v else None,
            "score": v.score if v else None,
            "critic": v.critic if v else None,
            "cached": self.cached,
            "cost_usd": v.cost_usd if v and not self.cached else 0.0,
            "not_judged": self.not_judged or None,
        }


@dataclass
class Noted:
    """A paper listed tonight that is not a candidate: a new version, or already in the state."""

    entry: ListingEntry
    key: str
    kind: str  # "version" or "known"
    detail: str = ""


@dataclass
class DigestReport:
    """What a digest run did."""

    night: date
    sources: list[str] = field(default_factory=list)
    listed: int = 0  # distinct papers in this run's sources
    new: int = 0  # of those, never seen before this run
    old: int = 0  # seen on an earlier night, skipped
    top: list[Candidate] = field(default_factory=list)
    rest: list[Candidate] = field(default_factory=list)
    noted: list[Noted] = field(default_factory=list)
    path: Path | None = None
    emailed: bool = False
    email_note: str = ""
    cost_usd: float = 0.0
    critic_calls: int = 0
    budget_reached: bool = False
    critic: str = ""
    profile: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    failed_service: bool = False  # the critic or the mail server failed
    source_exit: int = 0  # the worst exit code of a source that failed while others were read
    prefilter_s: float = 0.0

    @property
    def candidates(self) -> int:
        """Papers of the night that were ranked."""
        return len(self.top) + len(self.rest)

    @property
    def exit_code(self) -> int:
        """0; 3 when the critic or the mail server failed; else a failed source's code (1 input, 3 network)."""
        return max(3 if self.failed_service else 0, self.source_exit)

    def to_dict(self) -> dict:
        """JSON-ready summary for ``--json``."""
        return {
            "night": self.night.isoformat(),
            "sources": self.sources,
            "listed": self.listed,
            "new": self.new,
            "old": self.old,
            "candidates": self.candidates,
            "top": [c.to_dict() for c in self.top],
            "rest": [c.to_dict() for c in self.rest[:ALSO_LISTED]],
            "noted": [{"key": n.key, "arxiv_id": n.entry.versioned_id, "kind": n.kind, "detail": n.detail}
                      for n in self.noted],
            "path": str(self.path) if self.path else None,
            "emailed": self.emailed,
            "email_note": self.email_note,
            "cost_usd": round(self.cost_usd, 6),
            "critic_calls": self.critic_calls,
            "budget_reached": self.budget_reached,
            "critic": self.critic,
            "profile": self.profile,
            "prefilter_s": round(self.prefilter_s, 3),
            "errors": self.errors,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
        }

