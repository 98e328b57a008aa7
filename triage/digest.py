"""The nightly digest: tonight's arXiv, ranked by the reader's profile, judged by their constitution.

A night of arXiv is read from the listing feeds (one per category, or files and
URLs given with ``--feed``) and, optionally, from an API query by submission
date.  Every (id, version) is recorded in the state the first time it is seen,
with the night it belongs to, so the same paper is never ranked or judged on two
nights; a new version of a paper seen before is noted, not judged again, and a
paper already in the reader's state is noted as such.

Two stages keep the cost bounded.  The *prefilter* scores every new paper
(title and abstract) with the reader model (``triage.critic.model``): the
constitution as a prior, learned from the reader's decisions — in the state
and in the notes triage has read — once there are enough of them; the offline
critic judges with the same model, so the two never disagree.  Its scores are
stored with the seen rows, so a rerun of the same night ranks identically
without embedding anything again.  The *critic* then
judges only the top N, by abstract (``Sections(abstract=…)`` whose hash is the
id, version and abstract) — the best ``pdf_top`` of them with the conclusion of
their PDF too, fetched through the rate-limited arXiv client and cached, the
abstract alone when it cannot be had: cached verdicts first, the rest through
``triage.critic.batch`` (concurrent for the LLM critic, within ``Budget``).  The
budget cap stops the critic, never the digest: papers left unjudged are listed
with their prefilter score.

The night is the feeds' announcement date (else today, UTC); its digest is
rendered from the state alone, so rerunning the same night rewrites the same
file, queues nothing twice, calls no critic and sends no second e-mail.  The
top N are queued in the state (``Status.QUEUED``) for the TUI's inbox.

Cron-safe: nothing is asked, a lock file in the data home keeps two runs from
overlapping (the second exits with ``EXIT_LOCKED`` = 75, or waits with
``wait=True``; the lock is an OS lock, so a killed run never leaves it stale),
files are written atomically, and each run logs to ``<home>/logs/digest.log``
and is recorded in ``digest_runs``.  A run killed outright (``kill -9``, a
power cut) cannot close its row: the next run, holding the lock, marks every
row still ``running`` as ``interrupted``.

Feed text is untrusted: titles, authors and quotes are escaped for markdown
(``entries.markdown_text``) as the e-mail escapes them for HTML, and a feed
over ``limits.feed_mb`` or ``limits.feed_entries`` is refused with a message.

Exit codes (``DigestReport.exit_code``): 0 done (also when the night was
empty — then no file is written — or the budget ran out); 1 bad input (an
unreadable feed file, a feed URL answering 4xx, e-mail asked for without SMTP
settings); 3 a feed could not be fetched, or the critic or the mail server
failed; 75 another digest is running.  When some sources fail and others are
read, the digest is written from what was read and the code says what failed.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import os
import smtplib
import socket
import ssl
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

from triage.atomic import write_atomic
from triage.errors import ConfigError, SourceError, TriageError
from triage.models import Decision, Sections, Status, Verdict
from triage.sources.listing import Listing, ListingEntry, load_listing

if TYPE_CHECKING:

    from triage.critic.base import Critic
    from triage.service import Triage

__all__ = [
    "DigestOptions",
    "DigestReport",
    "Candidate",
    "DigestLocked",
    "EXIT_LOCKED",
    "run_digest",
    "derive_key",
    "build_api_query",
    "abstract_sections",
    "render_markdown",
    "render_html",
    "send_email",
    "check_email_settings",
    "schedule_units",
    "lock_path",
    "log_path",
]

EXIT_LOCKED = 75  # sysexits EX_TEMPFAIL: another run holds the lock; try again later
MAX_CRITIC_FAILURES = 3  # consecutive critic errors after which the endpoint is taken as down
ALSO_LISTED = 30  # papers shown below the cut
API_MAX_RESULTS = 2000
_ANNOUNCE_RANK = {"new": 0, "cross": 1, "replace": 2, "replace-cross": 3}
SMTP_PASSWORD_ENV = "TRIAGE_SMTP_PASSWORD"

log = logging.getLogger("triage.digest")


class DigestLocked(TriageError):
    """Another digest run holds the lock."""

    exit_code = EXIT_LOCKED


def lock_path(home: Path) -> Path:
    """The lock file that keeps two digest runs apart."""
    return home / "digest.lock"


def log_path(home: Path) -> Path:
    """Where digest runs log."""
    return home / "logs" / "digest.log"


# -- options and results ------------------------------------------------------------


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


# -- keys -----------------------------------------------------------------------------

def derive_key(authors: list[str] | tuple[str, ...], title: str, year: int | None) -> str:
    """A Better BibTeX-style key, ``auth.lower + shorttitle(3,3) + year``: ``pfeifferModularDeepLearning2023``.

    The one implementation lives in ``triage.citekey``, so the digest names a
    paper as the reader's library (and ``triage add``) would.
    """
    from triage.citekey import bbt_key

    return bbt_key(list(authors), title, year)


def _unique_key(base: str, arxiv_id: str, taken: Callable[[str, str], bool]) -> str:
    """``base``, or ``base`` + a, b, … when another paper holds it (as Better BibTeX disambiguates)."""
    if not taken(base, arxiv_id):
        return base
    letters = string.ascii_lowercase
    for suffix in [*letters, *(a + b for a in letters for b in letters)]:
        if not taken(base + suffix, arxiv_id):
            return base + suffix
    return f"{base}{arxiv_id.replace('.', '').replace('/', '')}"


# -- sources ------------------------------------------------------------------------------


def build_api_query(categories: list[str], query: str | None, since: date, until: date) -> str:
    """An arXiv API ``search_query`` for papers submitted between two dates in these categories."""
    parts = []
    if categories:
        parts.append("(" + " OR ".join(f"cat:{c}" for c in categories) + ")")
    parts.append(f"submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]")
    if query:
        parts.append(f"({query})")
    return " AND ".join(parts)


def _api_listing(core: Triage, categories: list[str], query: str | None, since: date, until: date,
                 max_results: int) -> Listing:
    try:
        from triage.sources.arxiv import ArxivClient
    except ImportError as exc:  # pragma: no cover - the arXiv client ships with triage
        raise ConfigError("the arXiv API client is not available", hint="use --feed or the category feeds") from exc
    search_query = build_api_query(categories, query, since, until)
    with ArxivClient(core.settings.arxiv) as client:
        results = client.search(search_query, max_results)
    listing = Listing(source=f"arXiv API: {search_query}", kind="api")
    for paper in results:
        try:
            listing.entries.append(ListingEntry.from_paper(paper, source="api"))
        except TriageError as exc:
            listing.warnings.append(str(exc))
    return listing


def _read_sources(core: Triage, options: DigestOptions, categories: list[str],
                  report: DigestReport) -> list[Listing]:
    """Every listing the options name; failures are reported, not raised, unless nothing could be read."""
    arxiv = core.settings.arxiv
    locations: list[str] = list(options.feeds)
    if not locations and not options.query and not options.since:
        locations = [arxiv.listing_url.format(category=c) for c in categories]
    listings: list[Listing] = []
    failures: list[TriageError] = []
    client = None
    if any(loc.startswith(("http://", "https://")) for loc in locations):
        from triage.sources.arxiv import ArxivClient

        client = ArxivClient(arxiv)  # one polite client: the shared rate limit, retries, a size cap
    try:
        limits = core.settings.limits
        for location in locations:
            try:
                listing = load_listing(location, fetch=_fetcher(client, limits.feed_bytes), max_bytes=limits.feed_bytes,
                                       max_entries=limits.feed_entries)
            except SourceError as exc:
                failures.append(exc)
                report.errors.append(str(exc))
                log.error("source failed: %s", exc)
                continue
            listings.append(listing)
            report.sources.append(f"{listing.category or location} ({len(listing.entries)} entries)")
            report.warnings.extend(f"{location}: {w}" for w in listing.warnings)
            log.info("read %s: %d entries", location, len(listing.entries))
    finally:
        if client is not None:
            client.close()
    if options.query or options.since:
        until = options.night or datetime.now(UTC).date()
        since = options.since or until - timedelta(days=1)
        try:
            listing = _api_listing(core, categories, options.query, since, until, options.api_max_results)
        except SourceError as exc:
            failures.append(exc)
            report.errors.append(str(exc))
            log.error("API query failed: %s", exc)
        else:
            listings.append(listing)
            report.sources.append(f"{listing.source} ({len(listing.entries)} entries)")
    if failures:
        if not listings:
            # Nothing to digest: the worst failure is the run's error (1 for a bad file or URL, 3 for the network).
            raise max(failures, key=lambda f: f.exit_code)
        report.source_exit = max(f.exit_code for f in failures)
    return listings


def _fetcher(client, max_bytes: int) -> Callable[[str], bytes] | None:
    if client is None:
        return None
    return lambda url: client.get(url, max_bytes=max_bytes, what="arXiv listing")


def _merge(listings: list[Listing]) -> list[ListingEntry]:
    """One entry per arXiv id: the newest version, its categories merged, 'new' over 'cross' over 'replace'."""
    best: dict[str, ListingEntry] = {}
    for listing in listings:
        for e in listing.entries:
            old = best.get(e.arxiv_id)
            if old is None:
                best[e.arxiv_id] = e
                continue
            if (e.version, -_ANNOUNCE_RANK.get(e.announce_type, 9)) > (old.version, -_ANNOUNCE_RANK.get(old.announce_type, 9)):
                keep, other = e, old
            else:
                keep, other = old, e
            cats = tuple(dict.fromkeys(keep.categories + other.categories))
            best[e.arxiv_id] = ListingEntry(**{**keep.__dict__, "categories": cats})
    return list(best.values())


def _night(listings: list[Listing], options: DigestOptions) -> date:
    if options.night:
        return options.night
    nights = [n for n in (listing.night for listing in listings if listing.kind == "feed") if n]
    return max(nights) if nights else datetime.now(UTC).date()


# -- the prefilter ----------------------------------------------------------------------------

LIKE_PROMOTED = 0.6  # cosine to a paper the reader promoted above which that paper, not a principle, is "closest"


def prefilter(core: Triage, entries: list[ListingEntry]) -> list[tuple[float, str]]:
    """(score 0-10, closest) for each entry: the reader model's score, the one the offline critic gives too.

    ``closest`` is a paper the reader promoted when the entry is very like it
    (``@key``), else the principle that weighs most in the score, else ''.
    """
    import numpy as np

    from triage.critic.model import REASON_Z, paper_text

    if not entries:
        return []
    model = core.reader_model()
    texts = [paper_text(e.title, e.abstract) for e in entries]
    vectors = np.asarray(core.embedder.embed(texts), dtype=np.float64)
    principles = model.constitution.principles
    liked = model.like_promoted(vectors)
    out = []
    for result, (key, cosine) in zip(model.score(texts, vectors), liked):
        reasons = [(p.weight * result.principle_scores[i], p.id) for i, p in enumerate(principles)
                   if not p.against and result.principle_z[i] >= REASON_Z]
        closest = f"@{key}" if key and cosine >= LIKE_PROMOTED else max(reasons)[1] if reasons else ""
        out.append((result.score, closest))
    return out


# -- the critic ----------------------------------------------------------------------------------


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


def _judge_top(core: Triage, top: list[Candidate], critic: Critic, options: DigestOptions, report: DigestReport,
               progress: Callable[[str, int, int], None] | None) -> None:
    """Judge the top N through the batch judge: cached verdicts cost nothing, the rest run within the budget.

    The budget cap stops the critic, never the digest: papers it leaves are
    listed as not judged.  A critic that does not account for its own cost
    (one without a ``budget`` parameter) is charged after each paper, so it
    stops once the cap is reached rather than before.  After
    ``MAX_CRITIC_FAILURES`` failures in a row the endpoint is taken as down and
    the batch's budget is closed, so no further paper is started.
    """
    import inspect

    from triage.critic.batch import BatchResult, Budget, judge_batch

    constitution = core.constitution
    cap = options.max_cost_usd
    todo: list[tuple[Candidate, Sections]] = []
    pdf_top = options.pdf_top if options.pdf_top is not None else core.settings.digest.pdf_top
    for cand, sections in zip(top, _sections_of(core, top, pdf_top, report, progress), strict=True):
        hit = core.state.cached_verdict(sections.sha256, constitution.hash, critic.name, critic.prompt_version)
        if hit is not None:
            cand.verdict, cand.cached = hit.model_copy(update={"key": cand.key}), True
        else:
            todo.append((cand, sections))
    done = len(top) - len(todo)
    if progress:
        progress("judging", done, len(top))
    if not todo:
        return
    budget = Budget(cap)
    self_accounting = "budget" in inspect.signature(critic.judge).parameters
    by_key = {cand.key: cand for cand, _ in todo}
    failures = 0
    unavailable = False

    def close_budget() -> None:
        # Budget has no "stop" of its own: a cap of what is already spent, exhausted, refuses every new paper.
        budget.max_cost_usd = budget.spent if budget.max_cost_usd is None else budget.max_cost_usd
        budget.exhausted = True

    def on_result(result: BatchResult) -> None:
        nonlocal done, failures, unavailable
        done += 1
        cand = by_key[result.key]
        if result.verdict is not None:
            core.state.save_verdict(result.verdict)  # on this thread: one SQLite writer
            cand.verdict = result.verdict
            failures = 0
            report.critic_calls += 1
            report.cost_usd += result.verdict.cost_usd
            if not self_accounting:
                budget.settle(0.0, result.verdict.cost_usd)
                # A free critic (the offline one) is never stopped by a cap, not even a cap of $0.
                if cap is not None and result.verdict.cost_usd > 0 and budget.spent >= cap:
                    close_budget()
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
                close_budget()
                log.error("%d critic failures in a row: no further paper is sent to it tonight", failures)
        if progress:
            progress(f"@{cand.key}", done, len(top))

    # Only a critic that waits on the network gains from concurrency; the embedding critic is CPU-bound.
    concurrency = core.settings.llm.concurrency if critic.name.startswith("llm:") else 1
    judge_batch([(cand.entry.to_paper(cand.key), sections) for cand, sections in todo], critic, constitution,
                concurrency=concurrency, budget=budget, on_result=on_result)
    if report.budget_reached:
        log.warning("budget of $%s reached after %d critic calls", cap, report.critic_calls)


# -- rendering -------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Untrusted feed text as one line of markdown that is never markup (``entries.markdown_text``)."""
    from triage.entries import markdown_text

    return markdown_text(text)


def _authors_short(authors: tuple[str, ...] | list[str], n: int = 3) -> str:
    if not authors:
        return ""
    return ", ".join(authors[:n]) + (" et al." if len(authors) > n else "")


def _announce_label(entry: ListingEntry) -> str:
    home = entry.primary_category
    return {
        "new": f"new in {home}" if home else "new",
        "cross": f"cross-list from {home}" if home else "cross-list",
        "replace": f"replacement (v{entry.version})",
        "replace-cross": f"cross-listed replacement (v{entry.version})",
    }.get(entry.announce_type, entry.announce_type)


def _meta_line(entry: ListingEntry) -> str:
    bits = [f"**{_md(entry.title)}**"]
    tail = [f"[arXiv:{entry.versioned_id}]({entry.url})", _md(_announce_label(entry))]
    if entry.license_name:
        tail.append(_md(entry.license_name))
    who = _md(_authors_short(entry.authors))
    return " — ".join(bits + ([who] if who else [])) + " · " + " · ".join(tail)


def _candidate_bullets(c: Candidate) -> list[str | list]:
    from triage.entries import key_sentence, verdict_line

    bullets: list[str | list] = [_meta_line(c.entry)]
    sentence = key_sentence(c.entry.abstract, c.verdict)
    if sentence:
        bullets.append('"' + _md(sentence.replace('"', "'")) + '"')
    bullets.append(verdict_line(c.verdict) if c.verdict else f"triage: not judged ({c.not_judged or 'below the cut'})")
    bullets.append(f"prefilter {c.score:.3f}" + (f" · closest: {c.closest}" if c.closest else ""))
    return bullets


def _ordered_top(top: list[Candidate]) -> list[Candidate]:
    order = {Decision.READ: 0, Decision.SKIM: 1, Decision.DROP: 2}
    return sorted(top, key=lambda c: (order[c.verdict.decision] if c.verdict else 3,
                                      -(c.verdict.score if c.verdict else 0.0), -c.score, c.key))


def _tldr(report: DigestReport) -> str:
    judged = [c for c in report.top if c.verdict]
    counts = {d: sum(1 for c in judged if c.verdict and c.verdict.decision is d) for d in Decision}
    line = (f"{report.candidates} new papers tonight, ranked by the prefilter; the top {len(report.top)} "
            f"went to the critic: {counts[Decision.READ]} read, {counts[Decision.SKIM]} skim, "
            f"{counts[Decision.DROP]} drop")
    unjudged = len(report.top) - len(judged)
    if unjudged:
        line += f", {unjudged} not judged"
    return line + "."


def render_markdown(report: DigestReport) -> str:
    """The night's digest in the reader's note style: entries ready to become ``- [skim(@key)]``."""
    from triage.notes import format_entry

    out = [f"# arXiv digest {report.night.isoformat()}", "", "## tl;dr", f"{_tldr(report)}", "", "## Context"]
    if report.sources:
        out.append("- Sources: " + "; ".join(report.sources))
    if report.profile:
        out.append(f"- Prefilter: ranked against {report.profile}.")
    critic_line = f"- Critic: {report.critic or 'none'}"
    judged = sum(1 for c in report.top if c.verdict)
    critic_line += f", {judged} of the top {len(report.top)} judged"
    if report.budget_reached:
        critic_line += "; the budget cap stopped it"
    out.append(critic_line + ".")
    if report.old:
        out.append(f"- {report.old} listed papers were seen on earlier nights and skipped.")
    out += ["", "## Log"]
    for c in _ordered_top(report.top):
        out.append(format_entry("skim", c.key, _candidate_bullets(c)).rstrip("\n"))
    if report.rest:
        out += ["", "## Also tonight", f"Ranked below the top {len(report.top)} by the prefilter:"]
        for c in report.rest[:ALSO_LISTED]:
            who = _md(_authors_short(c.entry.authors, 1))
            out.append(f"- {c.score:.3f} @{c.key}: [{_md(c.entry.title)}]({c.entry.url})" + (f" — {who}" if who else ""))
        if len(report.rest) > ALSO_LISTED:
            out.append(f"- … and {len(report.rest) - ALSO_LISTED} more.")
    versions = [n for n in report.noted if n.kind == "version"]
    known = [n for n in report.noted if n.kind == "known"]
    if versions or known:
        out += ["", "## Seen before"]
        for n in versions + known:
            out.append(f"- @{n.key}: [{_md(n.entry.title)}]({n.entry.url}) — {_md(n.detail)}")
    return "\n".join(out) + "\n"


def render_html(report: DigestReport) -> str:
    """The same digest as a small self-contained HTML e-mail."""
    from triage.entries import key_sentence, verdict_line

    e = html.escape
    parts = [
        "<!doctype html><html><body style=\"font-family:sans-serif;max-width:46em\">",
        f"<h2>arXiv digest {e(report.night.isoformat())}</h2>",
        f"<p>{e(_tldr(report))}</p>",
    ]
    for c in _ordered_top(report.top):
        entry = c.entry
        quote = key_sentence(entry.abstract, c.verdict) if c.verdict else ""
        verdict = verdict_line(c.verdict) if c.verdict else f"not judged ({c.not_judged or 'below the cut'})"
        parts.append(
            f"<h3><a href=\"{e(entry.url)}\">{e(entry.title)}</a></h3>"
            f"<p style=\"color:#555\">{e(_authors_short(entry.authors))} · arXiv:{e(entry.versioned_id)} · "
            f"{e(_announce_label(entry))}{' · ' + e(entry.license_name) if entry.license_name else ''}</p>"
            + (f"<blockquote>{e(quote)}</blockquote>" if quote else "")
            + f"<p><code>@{e(c.key)}</code> — {e(verdict)}</p>"
        )
    if report.rest:
        parts.append(f"<h3>Also tonight</h3><ol start=\"{len(report.top) + 1}\">")
        parts += [f"<li><a href=\"{e(c.entry.url)}\">{e(c.entry.title)}</a> ({c.score:.3f})</li>"
                  for c in report.rest[:ALSO_LISTED]]
        parts.append("</ol>")
    parts.append("</body></html>")
    return "\n".join(parts)


# -- e-mail ------------------------------------------------------------------------------------------


def check_email_settings(core: Triage) -> None:
    """ConfigError, before any work is done, when ``--email`` cannot possibly be sent."""
    s = core.settings.digest
    if not s.smtp_host or not s.mail_to:
        raise ConfigError("e-mail needs an SMTP host and a recipient",
                          hint="set TRIAGE_DIGEST__SMTP_HOST and TRIAGE_DIGEST__MAIL_TO (or [digest] in config.toml)")
    if s.smtp_user and not os.environ.get(SMTP_PASSWORD_ENV):
        raise ConfigError(f"SMTP user {s.smtp_user!r} is set but no password", hint=f"set {SMTP_PASSWORD_ENV}")


def send_email(core: Triage, subject: str, text: str, html_body: str) -> None:
    """Send the digest over SMTP (STARTTLS when set; the password from ``TRIAGE_SMTP_PASSWORD``)."""
    check_email_settings(core)
    s = core.settings.digest
    password = os.environ.get(SMTP_PASSWORD_ENV)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = s.mail_from or s.smtp_user or f"triage@{socket.getfqdn()}"
    msg["To"] = s.mail_to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="triage.local")
    msg.set_content(text)
    msg.add_alternative(html_body, subtype="html")
    try:
        smtp_cls = smtplib.SMTP_SSL if s.smtp_port == 465 else smtplib.SMTP
        with smtp_cls(s.smtp_host or "", s.smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            if s.smtp_starttls and smtp_cls is smtplib.SMTP:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_user and password:
                smtp.login(s.smtp_user, password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise SourceError(f"sending the digest to {s.smtp_host}:{s.smtp_port} failed: {exc}",
                          hint="check the [digest] SMTP settings", external=True) from None


# -- the run -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s pid=%(process)d %(message)s"))
    log.addHandler(handler)
    previous = log.level
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
        handler.close()


@contextlib.contextmanager
def _locked(home: Path, wait: bool) -> Iterator[None]:
    from filelock import FileLock, Timeout

    home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(home)), thread_local=False)
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise DigestLocked("another triage digest is running", hint="it will finish on its own; use --wait to queue behind it") from None
    try:
        yield
    finally:
        lock.release()


def run_digest(core: Triage, options: DigestOptions | None = None, *, critic: Critic | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> DigestReport:
    """Read tonight's listings, rank, judge the top N, write the digest (and e-mail it); see the module docstring."""
    options = options or DigestOptions()
    settings = core.settings
    if options.email and not options.dry_run:
        check_email_settings(core)
    settings.ensure_home()
    with _logging_to(log_path(settings.home)):
        if options.dry_run:
            return _run(core, options, critic, progress)
        with _locked(settings.home, options.wait):
            return _run(core, options, critic, progress)


def _run(core: Triage, options: DigestOptions, critic: Critic | None,
         progress: Callable[[str, int, int], None] | None) -> DigestReport:
    import time

    settings = core.settings
    categories = options.categories or list(settings.digest.categories)
    top_n = options.top_n if options.top_n is not None else settings.digest.top_n
    report = DigestReport(night=options.night or datetime.now(UTC).date(), dry_run=options.dry_run)
    log.info("digest started (pid %d): categories=%s feeds=%s query=%r dry_run=%s",
             os.getpid(), categories, options.feeds, options.query, options.dry_run)
    state = core.state
    run_id = 0
    if not options.dry_run:
        # This run holds the lock: a row still 'running' is a run killed before it could close it.
        for stale in state.digest_runs_interrupted(os.getpid()):
            log.warning("digest run %d (pid %s, started %s) was killed before it finished: marked interrupted",
                        stale["id"], stale["pid"], stale["started_at"])
    try:
        listings = _read_sources(core, options, categories, report)
        report.night = _night(listings, options)
        night = report.night.isoformat()
        if not options.dry_run:
            run_id = state.digest_run_start(night, json.dumps(report.sources), os.getpid())
        entries = _merge(listings)
        report.listed = len(entries)

        # Classify every entry against what the state has seen.
        seen = state.digest_seen([e.arxiv_id for e in entries])
        known = state.keys_for_arxiv_ids([e.arxiv_id for e in entries if e.arxiv_id not in seen])
        fresh: list[ListingEntry] = []
        new_rows: list[dict] = []
        keys_tonight: dict[str, str] = {}

        def taken(key: str, arxiv_id: str) -> bool:
            if keys_tonight.get(key, arxiv_id) != arxiv_id:
                return True
            owner = state.digest_key_owner(key)
            if owner is not None and owner != arxiv_id:
                return True
            record = state.get(key)
            return record is not None and record.paper.arxiv_id != arxiv_id

        for e in entries:
            rows = seen.get(e.arxiv_id, [])
            same = next((r for r in rows if r["version"] == e.version), None)
            if same is not None:
                if same["night"] != night:
                    report.old += 1
                continue  # this night's rows are read back from the state below
            if rows:
                first = rows[0]
                new_rows.append(_row(e, night, first["key"], "version", run_id,
                                     detail=f"v{e.version}; v{first['version']} seen {first['night']}"))
            elif e.arxiv_id in known:
                new_rows.append(_row(e, night, known[e.arxiv_id], "known", run_id, detail="already in your state"))
            else:
                fresh.append(e)  # a replacement of a paper never seen is as new to the reader as a new one
        report.new = len(fresh)
        for e in fresh:
            key = _unique_key(derive_key(e.authors, e.title, e.year), e.arxiv_id, taken)
            keys_tonight[key] = e.arxiv_id
            new_rows.append(_row(e, night, key, "candidate", run_id))

        # Prefilter the papers never ranked before; earlier runs of this night keep their scores.
        if fresh:
            started = time.perf_counter()
            core.sync_known_notes()  # the reader's latest entries in their notes are part of what the model learns
            report.profile = core.reader_model().describe()
            scored = iter(prefilter(core, fresh))
            for row in new_rows:
                if row["kind"] == "candidate":
                    row["score"], row["closest"] = next(scored)
            report.prefilter_s = time.perf_counter() - started
            log.info("prefiltered %d papers in %.1f s", len(fresh), report.prefilter_s)
        if not options.dry_run and new_rows:
            state.digest_mark_seen(new_rows)

        # The night, as the state now knows it (plus this run's rows when nothing is written).
        tonight = state.digest_night(night)
        if options.dry_run:
            tonight += [r for r in new_rows if (r["arxiv_id"], r["version"]) not in
                        {(t["arxiv_id"], t["version"]) for t in tonight}]
        candidates: list[Candidate] = []
        for r in tonight:
            entry = ListingEntry.from_dict(json.loads(r["entry_json"]))
            if r["kind"] == "candidate":
                candidates.append(Candidate(entry=entry, key=r["key"], score=r["score"] or 0.0, closest=r["closest"]))
            else:
                detail = json.loads(r["entry_json"]).get("detail", "")
                report.noted.append(Noted(entry=entry, key=r["key"], kind=r["kind"], detail=detail))
        if not report.profile and candidates:
            # Nothing new this run: say which profile ranked the night, as the run that ranked it recorded.
            report.profile = next((json.loads(r["stats"]).get("profile", "") for r in state.digest_runs(50)
                                   if r["night"] == night and json.loads(r["stats"]).get("profile")), "")
        candidates.sort(key=lambda c: (-c.score, c.key))
        report.top, report.rest = candidates[:top_n], candidates[top_n:]

        if options.dry_run:
            report.critic = "(dry run: not called)"
            for c in report.top:
                c.not_judged = "dry run"
            log.info("dry run: %d candidates, nothing written", report.candidates)
            return report

        # Queue the top N for the inbox, then judge them.
        for c in report.top:
            state.upsert_paper(c.entry.to_paper(c.key), status=Status.QUEUED)
        if report.top:
            chosen = critic or core.critic
            report.critic = chosen.name
            _judge_top(core, report.top, chosen, options, report, progress)

        emailed_hash = None
        if not candidates and not report.noted:
            # A weekend or holiday listing, or a night already covered: no empty file, no empty e-mail.
            report.email_note = "nothing new tonight" if options.email else ""
            log.info("nothing new for %s: no digest written", night)
            state.digest_run_finish(run_id, "ok" if not report.exit_code else "partial",
                                    stats=json.dumps(_stats(report)), error="; ".join(report.errors) or None)
            return report

        text = render_markdown(report)
        out_dir = options.out_dir or settings.digests_dir
        report.path = out_dir / f"{night}.md"
        write_atomic(report.path, text)
        log.info("wrote %s (%d top, %d below)", report.path, len(report.top), len(report.rest))

        if options.email:
            content_hash = hashlib.sha256(text.encode()).hexdigest()
            if state.digest_emailed(night, content_hash):
                report.email_note = "already sent for this night"
            else:
                try:
                    send_email(core, _subject(report), text, render_html(report))
                except SourceError as exc:
                    report.errors.append(str(exc))
                    report.failed_service = True
                    report.email_note = f"failed: {exc.message}"
                    log.error("e-mail failed: %s", exc)
                else:
                    report.emailed, emailed_hash = True, content_hash
                    log.info("e-mailed to %s", settings.digest.mail_to)
        state.digest_run_finish(run_id, "ok" if not report.exit_code else "partial",
                                stats=json.dumps(_stats(report)), digest_path=str(report.path),
                                emailed_hash=emailed_hash, error="; ".join(report.errors) or None)
        log.info("digest finished: %s", json.dumps(_stats(report)))
        return report
    except BaseException as exc:
        log.exception("digest failed: %s", exc)
        if run_id:
            with contextlib.suppress(Exception):
                state.digest_run_finish(run_id, "failed", stats=json.dumps(_stats(report)), error=repr(exc))
        raise


def _row(e: ListingEntry, night: str, key: str, kind: str, run_id: int, *, detail: str = "") -> dict:
    data = e.to_dict()
    if detail:
        data["detail"] = detail
    return {"arxiv_id": e.arxiv_id, "version": e.version, "night": night, "key": key, "kind": kind,
            "announce_type": e.announce_type, "entry_json": json.dumps(data, ensure_ascii=False),
            "run_id": run_id or None}


def _stats(report: DigestReport) -> dict:
    return {"listed": report.listed, "old": report.old, "candidates": report.candidates, "top": len(report.top),
            "judged": sum(1 for c in report.top if c.verdict), "critic_calls": report.critic_calls,
            "cost_usd": round(report.cost_usd, 6), "budget_reached": report.budget_reached,
            "emailed": report.emailed, "profile": report.profile}


def _subject(report: DigestReport) -> str:
    reads = sum(1 for c in report.top if c.verdict and c.verdict.decision is Decision.READ)
    return f"triage digest {report.night.isoformat()}: {reads} to read, {len(report.top)} judged of {report.candidates} new"


# -- scheduling ----------------------------------------------------------------------------------------


def schedule_units(command: str, *, home: Path | None = None, time_utc: str = "06:30") -> dict[str, str]:
    """A crontab line and a systemd user service + timer that run ``command`` after arXiv's nightly update.

    The listing feeds refresh around midnight US Eastern (04:00-05:00 UTC),
    Monday to Friday; the default runs at 06:30 UTC on those days.  cron reads
    local time, so the crontab line is converted (and says so).
    """
    hour, minute = (int(x) for x in time_utc.split(":"))
    today = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    local = today.astimezone()
    env = f"TRIAGE_HOME={home} " if home else ""
    logs = f"{home}/logs/cron.log" if home else "$HOME/triage-digest-cron.log"
    crontab = (
        f"# triage nightly digest at {time_utc} UTC ({local:%H:%M} {local.tzname()}), Monday to Friday;\n"
        f"# set TRIAGE_SMTP_PASSWORD=... above this line if you e-mail it\n"
        f"{local.minute} {local.hour} * * 1-5 {env}{command} >>{logs} 2>&1"
    )
    environment = f"Environment=TRIAGE_HOME={home}\n" if home else ""
    service = (
        "[Unit]\n"
        "Description=triage nightly arXiv digest\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{environment}"
        "# TRIAGE_SMTP_PASSWORD=... in this file, readable only by you\n"
        "EnvironmentFile=-%h/.config/triage/digest.env\n"
        f"ExecStart={command}\n"
        # 75 = another digest was running: not a failure worth a red unit.
        "SuccessExitStatus=75\n"
    )
    timer = (
        "[Unit]\n"
        "Description=Run the triage digest after arXiv's nightly announcement\n\n"
        "[Timer]\n"
        f"OnCalendar=Mon..Fri *-*-* {hour:02d}:{minute:02d}:00 UTC\n"
        "Persistent=true\n"
        "RandomizedDelaySec=10min\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    install = (
        "save the service as ~/.config/systemd/user/triage-digest.service and the timer as "
        "~/.config/systemd/user/triage-digest.timer, then: "
        "systemctl --user daemon-reload && systemctl --user enable --now triage-digest.timer"
    )
    return {"crontab": crontab, "service": service, "timer": timer, "install": install}
