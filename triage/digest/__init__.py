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
``Triage.judge_many`` (concurrent for the LLM critic, within ``Budget``).  The
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
and is recorded in ``digest_runs``.

Exit codes (``DigestReport.exit_code``): 0 done (also when the night was
empty — then no file is written — or the budget ran out); 1 bad input (an
unreadable feed file, a feed URL answering 4xx, e-mail asked for without SMTP
settings); 3 a feed could not be fetched, or the critic or the mail server
failed; 75 another digest is running.  When some sources fail and others are
read, the digest is written from what was read and the code says what failed.

The package, a module per job: ``report`` (options and results), ``listing``
(sources, one entry per paper, keys, classification against the state),
``profile`` (the prefilter), ``judge`` (the top N through
``Triage.judge_many``, with the failure cut-off as its hook), ``render``
(Markdown and HTML), ``mail`` (SMTP), ``schedule`` (cron and systemd text) and
``run`` (lock, log, and the run start to end).  The state is reached only
through the service (``Triage.digest_seen``, ``enqueue``, ``digest_run_*``…).
"""

from triage.digest.judge import MAX_CRITIC_FAILURES, abstract_sections, pdf_sections
from triage.digest.listing import build_api_query, derive_key
from triage.digest.mail import SMTP_PASSWORD_ENV, check_email_settings, send_email
from triage.digest.profile import prefilter
from triage.digest.render import render_html, render_markdown
from triage.digest.report import ALSO_LISTED, Candidate, DigestOptions, DigestReport, Noted
from triage.digest.run import EXIT_LOCKED, DigestLocked, lock_path, log_path, run_digest
from triage.digest.schedule import schedule_units

__all__ = [
    "DigestOptions",
    "DigestReport",
    "Candidate",
    "Noted",
    "DigestLocked",
    "EXIT_LOCKED",
    "MAX_CRITIC_FAILURES",
    "ALSO_LISTED",
    "SMTP_PASSWORD_ENV",
    "run_digest",
    "derive_key",
    "build_api_query",
    "prefilter",
    "abstract_sections",
    "pdf_sections",
    "render_markdown",
    "render_html",
    "send_email",
    "check_email_settings",
    "schedule_units",
    "lock_path",
    "log_path",
]
