"""The digest as a note in the reader's style (Markdown) and as a small HTML e-mail."""

from __future__ import annotations

import html

from triage.digest.report import ALSO_LISTED, Candidate, DigestReport
from triage.models import Decision
from triage.sources.listing import ListingEntry

__all__ = ["render_markdown", "render_html", "subject"]


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


def subject(report: DigestReport) -> str:
    """The e-mail's subject line."""
    reads = sum(1 for c in report.top if c.verdict and c.verdict.decision is Decision.READ)
    return f"triage digest {report.night.isoformat()}: {reads} to read, {len(report.top)} judged of {report.candidates} new"

