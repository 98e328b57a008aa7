"""The critic's part of the night: the top N judged through the service's batch path (``Triage.judge_many``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from triage.digest.report import Candidate, DigestOptions, DigestReport
from triage.errors import TriageError
from triage.models import Sections
from triage.sources.listing import ListingEntry

if TYPE_CHECKING:
    from triage.critic.base import Critic
    from triage.critic.batch import BatchResult
    from triage.service import Triage

__all__ = ["abstract_sections", "pdf_sections", "judge_top", "MAX_CRITIC_FAILURES"]

MAX_CRITIC_FAILURES = 3  # consecutive critic errors after which the endpoint is taken as down

log = logging.getLogger("triage.digest")


def abstract_sections(entry: ListingEntry) -> Sections:
    """What the critic reads of a listed paper: title and abstract, hashed by id, version and abstract."""
    return Sections.from_metadata(entry.title, entry.abstract, entry.versioned_id)


def pdf_sections(core: Triage, cand: Candidate) -> Sections:
    """The listed abstract plus the conclusion of the paper's PDF (fetched once, then from the cache).

    The feed's abstract is the author's own text, so it is kept; the PDF adds
    what the listing lacks.  The verdict is cached under the PDF's hash, apart
    from an abstract-only verdict on the same paper.
    """
    from triage.fetch import fetch_pdf

    extracted = core.extract(fetch_pdf(cand.entry.to_paper(cand.key), core.settings))
    return extracted.model_copy(update={"title": cand.entry.title, "abstract": cand.entry.abstract, "chunks": []})


def _sections_of(core: Triage, top: list[Candidate], pdf_top: int, report: DigestReport,
                 progress: Callable[[str, int, int], None] | None) -> list[Sections]:
    """What the critic reads of each top paper: the best ``pdf_top`` with their conclusion, when their PDF can be had."""
    out = []
    for rank, cand in enumerate(top):
        sections = abstract_sections(cand.entry)
        if rank < pdf_top:
            if progress:
                progress(f"fetching @{cand.key}", rank, min(pdf_top, len(top)))
            try:
                sections = pdf_sections(core, cand)
            except TriageError as exc:
                # The abstract alone still makes a verdict; the night goes on.
                log.warning("@%s judged by its abstract only: %s", cand.key, exc.message)
                report.warnings.append(f"@{cand.key}: no PDF ({exc.message}); judged by its abstract")
        out.append(sections)
    return out


def judge_top(core: Triage, top: list[Candidate], critic: Critic, options: DigestOptions, report: DigestReport,
              progress: Callable[[str, int, int], None] | None) -> None:
    """Judge the top N through the service's batch path: cached verdicts cost nothing, the rest run within the budget.

    The budget cap stops the critic, never the digest: papers it leaves are
    listed as not judged.  After ``MAX_CRITIC_FAILURES`` failures in a row the
    endpoint is taken as down and no further paper is started.
    """
    cap = options.max_cost_usd
    pdf_top = options.pdf_top if options.pdf_top is not None else core.settings.digest.pdf_top
    sections = _sections_of(core, top, pdf_top, report, progress)
    by_key = {cand.key: cand for cand in top}
    failures = 0
    unavailable = False

    def on_result(result: BatchResult) -> bool:
        nonlocal failures, unavailable
        cand = by_key[result.key]
        if result.verdict is not None:
            failures = 0
            report.critic_calls += 1
            report.cost_usd += result.verdict.cost_usd
            log.info("judged @%s: %s %.1f", cand.key, result.verdict.decision.value, result.verdict.score)
        elif result.status == "budget":
            if unavailable:
                cand.not_judged = "critic unavailable"
            else:
                report.budget_reached = True
                cand.not_judged = f"budget of ${cap:g} reached" if cap is not None else "budget reached"
                log.warning("@%s not judged: %s", cand.key, result.error)
        else:
            failures += 1
            cand.not_judged = f"critic failed: {result.error}"
            report.errors.append(f"@{cand.key}: {result.error}")
            report.failed_service = True
            log.error("critic failed on @%s: %s", cand.key, result.error)
            if failures >= MAX_CRITIC_FAILURES and not unavailable:
                unavailable = True
                log.error("%d critic failures in a row: no further paper is sent to it tonight", failures)
                return True
        return False

    results = core.judge_many([(cand.entry.to_paper(cand.key), s) for cand, s in zip(top, sections, strict=True)],
                              critic=critic, max_cost_usd=cap, progress=progress, on_result=on_result)
    for cand, result in zip(top, results, strict=True):
        if result.verdict is not None:
            cand.verdict, cand.cached = result.verdict, result.cached
        elif not cand.not_judged:  # refused before the critic was asked (no text to judge)
            cand.not_judged = result.error
    if report.budget_reached:
        log.warning("budget of $%s reached after %d critic calls", cap, report.critic_calls)
