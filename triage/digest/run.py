"""One digest run, start to end: lock, log, read, classify, rank, queue, judge, write, e-mail, record."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

from triage.atomic import write_atomic
from triage.digest.judge import judge_top
from triage.digest.listing import classify, merge, night_of, read_sources
from triage.digest.mail import check_email_settings, send_email
from triage.digest.profile import prefilter
from triage.digest.render import render_html, render_markdown, subject
from triage.digest.report import Candidate, DigestOptions, DigestReport, Noted
from triage.errors import SourceError, TriageError
from triage.sources.listing import ListingEntry

if TYPE_CHECKING:
    from triage.critic.base import Critic
    from triage.service import Triage

__all__ = ["run_digest", "DigestLocked", "EXIT_LOCKED", "lock_path", "log_path"]

EXIT_LOCKED = 75  # sysexits EX_TEMPFAIL: another run holds the lock; try again later

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
    run_id = 0
    if not options.dry_run:
        # This run holds the lock: a row still 'running' is a run killed before it could close it.
        for stale in core.digest_runs_interrupted(os.getpid()):
            log.warning("digest run %d (pid %s, started %s) was killed before it finished: marked interrupted",
                        stale["id"], stale["pid"], stale["started_at"])
    try:
        listings = read_sources(core, options, categories, report)
        report.night = night_of(listings, options)
        night = report.night.isoformat()
        if not options.dry_run:
            run_id = core.digest_run_start(night, json.dumps(report.sources), os.getpid())
        entries = merge(listings)
        report.listed = len(entries)
        fresh, new_rows = classify(core, entries, night, run_id, report)
        report.new = len(fresh)

        # Prefilter the papers never ranked before; earlier runs of this night keep their scores.
        if fresh:
            started = time.perf_counter()
            core.sync_known_notes()  # the reader's latest entries in their notes are part of what the model learns
            core.complete_metadata()  # ...and the abstracts of what they logged by hand, which it learns from
            report.profile = core.reader_model().describe()
            scored = iter(prefilter(core, fresh))
            for row in new_rows:
                if row["kind"] == "candidate":
                    row["score"], row["closest"] = next(scored)
            report.prefilter_s = time.perf_counter() - started
            log.info("prefiltered %d papers in %.1f s", len(fresh), report.prefilter_s)
        if not options.dry_run and new_rows:
            core.digest_mark_seen(new_rows)

        # The night, as the state now knows it (plus this run's rows when nothing is written).
        tonight = core.digest_night(night)
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
            report.profile = next((json.loads(r["stats"]).get("profile", "") for r in core.digest_runs(50)
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
            core.enqueue(c.entry.to_paper(c.key))
        if report.top:
            chosen = critic or core.critic
            report.critic = chosen.name
            judge_top(core, report.top, chosen, options, report, progress)

        emailed_hash = None
        if not candidates and not report.noted:
            # A weekend or holiday listing, or a night already covered: no empty file, no empty e-mail.
            report.email_note = "nothing new tonight" if options.email else ""
            log.info("nothing new for %s: no digest written", night)
            core.digest_run_finish(run_id, "ok" if not report.exit_code else "partial",
                                    stats=json.dumps(_stats(report)), error="; ".join(report.errors) or None)
            return report

        text = render_markdown(report)
        out_dir = options.out_dir or settings.digests_dir
        report.path = out_dir / f"{night}.md"
        write_atomic(report.path, text)
        log.info("wrote %s (%d top, %d below)", report.path, len(report.top), len(report.rest))

        if options.email:
            content_hash = hashlib.sha256(text.encode()).hexdigest()
            if core.digest_emailed(night, content_hash):
                report.email_note = "already sent for this night"
            else:
                try:
                    send_email(core, subject(report), text, render_html(report))
                except SourceError as exc:
                    report.errors.append(str(exc))
                    report.failed_service = True
                    report.email_note = f"failed: {exc.message}"
                    log.error("e-mail failed: %s", exc)
                else:
                    report.emailed, emailed_hash = True, content_hash
                    log.info("e-mailed to %s", settings.digest.mail_to)
        core.digest_run_finish(run_id, "ok" if not report.exit_code else "partial",
                                stats=json.dumps(_stats(report)), digest_path=str(report.path),
                                emailed_hash=emailed_hash, error="; ".join(report.errors) or None)
        log.info("digest finished: %s", json.dumps(_stats(report)))
        return report
    except BaseException as exc:
        log.exception("digest failed: %s", exc)
        if run_id:
            with contextlib.suppress(Exception):
                core.digest_run_finish(run_id, "failed", stats=json.dumps(_stats(report)), error=repr(exc))
        raise


def _stats(report: DigestReport) -> dict:
    return {"listed": report.listed, "old": report.old, "candidates": report.candidates, "top": len(report.top),
            "judged": sum(1 for c in report.top if c.verdict), "critic_calls": report.critic_calls,
            "cost_usd": round(report.cost_usd, 6), "budget_reached": report.budget_reached,
            "emailed": report.emailed, "profile": report.profile}

