"""The ``triage`` command line.

Each command's docstring is its help.  Heavy libraries (Chroma, torch,
langchain) are imported inside command bodies, never at module level, so
``triage --help`` answers at once.  Results go to stdout (``--json`` for
machines); messages and errors go to stderr.  Exit codes: 0 ok, 1 the reader's
input (unknown key, bad file), 2 usage, 3 an external service failed; 130
after ctrl-c, at any moment, with one line (``interrupted``) and never a
traceback.  Options are checked before any heavy import: a bad ``--k`` or
``--status`` is a usage error in milliseconds, not a library's TypeError later.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from triage import __version__
from triage.config import CriticName
from triage.errors import EXIT_OK, EXIT_USER, TriageError
from triage.models import Status

EXIT_INTERRUPTED = 130
CRITIC_OPTION = typer.Option("--critic", help="auto, offline or llm.")

app = typer.Typer(
    name="triage",
    help="Skim papers by abstract and conclusion, judge them against your principles, keep the log.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
constitution_app = typer.Typer(help="Inspect and validate the constitution.", no_args_is_help=True)
app.add_typer(constitution_app, name="constitution")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[Optional[Path], typer.Option("--home", help="Data home (default: TRIAGE_HOME or the platform data dir).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Never touch the network: cached and local PDFs only.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Global options shared by every command."""
    ctx.obj = {"home": home, "offline": offline}


# -- helpers shared by commands ------------------------------------------------


def err(message: str) -> None:
    """A message for the reader, on stderr so piped stdout stays clean."""
    typer.echo(message, err=True)


_interrupted_said = False


def say_interrupted() -> None:
    """The one line a ctrl-c gets, wherever it landed (said once per process)."""
    global _interrupted_said
    if not _interrupted_said:
        _interrupted_said = True
        err("interrupted")


@contextmanager
def handled() -> Iterator[None]:
    """Turn triage errors into one clear line on stderr and the documented exit code.

    An OS error no stage had words for (a path too long, a disk that filled up
    on the way) is worded by its cause too (``triage.faults``), never a traceback.
    """
    try:
        yield
    except TriageError as exc:
        _say_error(exc)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        say_interrupted()
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        raise
    except OSError as exc:
        from triage.faults import os_error

        fault = os_error(exc)
        _say_error(fault)
        raise typer.Exit(fault.exit_code) from None


def _say_error(exc: TriageError) -> None:
    err(f"error: {exc.message}")
    if exc.hint:
        err(f"hint: {exc.hint}")


def settings_from(ctx: typer.Context, **overrides: Any):
    """Settings from files and env, with the global flags and ``overrides`` on top."""
    from triage.config import Settings

    obj = ctx.find_root().obj or {}
    settings = Settings.load(home=obj.get("home"), **overrides)
    if obj.get("offline"):
        settings.fetch.offline = True
    return settings


def service(ctx: typer.Context, **overrides: Any):
    """The core facade configured for this invocation."""
    from triage.service import Triage

    return Triage(settings_from(ctx, **overrides))


LIBRARY_HELP = "A BibTeX / CSL-JSON / BBT JSON export, a Zotero data folder or zotero.sqlite, or 'zotero' (repeatable)."


def library_paths(paths: list[Path]) -> list[Path]:
    """Absolute library paths; ``zotero`` becomes Zotero's data folder."""
    from triage.sources import library_path

    return [library_path(p) for p in paths]


def say_offline(core) -> None:
    """The one message a run gives when it found no network and carried on with cached papers."""
    if core.offline_reason:
        err(f"no network: using cached papers only ({core.offline_reason})")


def say_index_problem(core) -> None:
    """The one message a run gives when the search index failed (the papers were triaged all the same)."""
    problem = core.index_problem
    if problem is not None:
        err(f"warning: the search index was not updated: {problem.message}" + (f" ({problem.hint})" if problem.hint else ""))


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr; yields the ``progress(message, done, total)`` callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[item]}"),
        TimeElapsedColumn(), console=console, transient=False, disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=None, item="")

        def update(message: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, item=message)

        yield update


# -- commands ---------------------------------------------------------------------


@app.command()
def run(
    ctx: typer.Context,
    note: Annotated[Path, typer.Argument(metavar="NOTE|DIR", help="A reading note, or a folder of notes (its queue: what 'triage queue' lists).")],
    library: Annotated[Optional[list[Path]], typer.Option("--library", "-l", help=LIBRARY_HELP)] = None,
    critic: Annotated[Optional[CriticName], CRITIC_OPTION] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Judge and show, but write nothing: not the note, snapshots, statuses, verdicts or the index.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", help="Stop before the LLM critic spends more than this many USD.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Judge again instead of reusing cached verdicts.")] = False,
) -> None:
    """Triage every paper NOTE mentions that is not in its log yet, and append the entries.

    With a folder (a vault), its queue: every paper its notes mention and none
    has an entry for, each written to the note that mentioned it first.
    """
    with handled():
        overrides: dict[str, Any] = {"critic": critic}
        if library:
            overrides["library"] = library_paths(library)
        core = service(ctx, **overrides)
        vault = note.is_dir()
        with progress_bar("triage") as progress:
            if vault:
                reports = core.run_queue(note, dry_run=dry_run, progress=progress, max_cost_usd=max_cost, force=force)
            else:
                reports = [core.run_note(note, dry_run=dry_run, progress=progress, max_cost_usd=max_cost, force=force)]
        if as_json:
            print_json([r.to_dict() for r in reports] if vault else reports[0].to_dict())
        else:
            for report in reports:
                _print_run(report, dry_run)
            if vault and not reports:
                err(f"nothing queued in {note}: every paper mentioned has an entry")
        say_offline(core)
        say_index_problem(core)
        failed = [o for report in reports for o in report.failed]
        if failed:
            raise typer.Exit(max(o.exit_code or EXIT_USER for o in failed))


def _print_sync(sync) -> None:
    """The reader decisions a note sync recorded, on stderr (they are not this command's result)."""
    if sync.decisions:
        err(f"{sync.note.name}: {len(sync.decisions)} of your decisions recorded: "
            + ", ".join(f"@{t.key} {t.new.value}" for t in sync.decisions[:8]) + (" …" if len(sync.decisions) > 8 else ""))
    if notice := sync.notice():
        err(f"note: {notice}")


def _print_run(report, dry_run: bool) -> None:
    """One line per paper decided, failures on stderr, and a summary line for the note."""
    if report.sync is not None:
        _print_sync(report.sync)
    for o in report.outcomes:
        if o.ok and o.verdict:
            v = o.verdict
            cached = " (cached)" if o.cached else ""
            typer.echo(f"@{o.key}: {v.decision.value} {v.score:.1f}/10 [{v.critic}]{cached}")
            for warning in o.warnings:
                err(f"@{o.key}: {warning}")
    if report.skipped:
        typer.echo(f"already in the log: {', '.join('@' + k for k in report.skipped)}")
    if report.ignored:
        err(f"not citekeys, left alone: {', '.join('@' + k for k in report.ignored)}")
    for o in report.failed:
        # Most errors name their paper already (they are said alone by fetch and score too).
        err(o.message if o.message.startswith(f"@{o.key} ") else f"@{o.key}: {o.message}")
    decided = sum(o.ok for o in report.outcomes)
    where = "not written (dry run)" if dry_run else ("updated" if report.written else "unchanged")
    err(f"{decided} decided, {len(report.failed)} failed, {len(report.skipped)} already logged; {report.note} {where}")


@app.command()
def extract(
    pdf: Annotated[Path, typer.Argument(help="A PDF file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (title, abstract, conclusion, …).")] = False,
    chunks: Annotated[bool, typer.Option("--chunks", help="Include body chunks and figures in the JSON.")] = False,
) -> None:
    """Extract the title, abstract and conclusion of PDF."""
    with handled():
        from triage.fetch import read_pdf

        read_pdf(pdf)  # a missing, empty, truncated or non-PDF file is refused before PyMuPDF loads
        from triage.extract import extract as do_extract

        sections = do_extract(pdf)
        if as_json:
            exclude = set() if chunks else {"chunks", "figures"}
            print_json(sections.model_dump(mode="json", exclude=exclude))
            return
        typer.echo(f"# {sections.title or '(no title found)'}  [{sections.pages} pages]\n")
        typer.echo(f"## Abstract\n{sections.abstract or '(not found)'}\n")
        heading = sections.conclusion_heading or "Conclusion"
        typer.echo(f"## {heading}\n{sections.conclusion if sections.conclusion_found else '(not found)'}")
        for warning in sections.warnings:
            err(f"warning: {warning}")


@app.command()
def status(
    ctx: typer.Context,
    notes: Annotated[Optional[list[Path]], typer.Argument(metavar="[NOTE|DIR]...", help="Take in the skim/read entries you wrote in these notes first.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show how many papers are at each status, how many you decided yourself, and where the data lives."""
    with handled():
        core = service(ctx)
        for path in notes or []:
            for sync in core.sync_notes(path):
                _print_sync(sync)
        info = core.status()
        if as_json:
            print_json(info)
            return
        typer.echo(f"data home: {info['home']}")
        for name, n in sorted(info["papers"].items()):
            typer.echo(f"{name:>8}: {n}")
        if info["by_reader"]:
            typer.echo("decided by you: " + ", ".join(f"{n} {name}" for name, n in sorted(info["by_reader"].items())))
        if not info["papers"]:
            typer.echo("no papers yet: try 'triage run NOTE'")


@app.command()
def score(
    ctx: typer.Context,
    papers: Annotated[list[str], typer.Argument(help="Citekeys, arXiv ids, URLs, DOIs or PDF files.")],
    critic: Annotated[Optional[CriticName], CRITIC_OPTION] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", help="Stop before the LLM critic spends more than this many USD.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Judge again instead of reusing cached verdicts.")] = False,
) -> None:
    """Judge papers against the constitution and print the verdicts; no status changes.

    A paper named by id is remembered with its verdict (so `explain` and a second `score` find them); a PDF
    given by path leaves only its verdict.
    """
    with handled():
        core = service(ctx, critic=critic)
        items = []
        worst = EXIT_OK  # a broken input is 1; an endpoint that failed is 3, so a script can retry later
        for ident in papers:
            try:
                if ident.lower().endswith(".pdf") and Path(ident).is_file():
                    paper, sections = core.score_pdf(Path(ident))
                else:
                    paper, sections = core.add(ident)
            except TriageError as exc:
                worst = max(worst, exc.exit_code)
                err(f"{ident}: {exc}")
                continue
            items.append((paper, sections))
        results = []
        # Cached verdicts cost nothing; the rest are judged concurrently, within --max-cost.
        for result in core.judge_many(items, max_cost_usd=max_cost, force=force) if items else []:
            if result.verdict is None:
                worst = max(worst, result.exit_code or EXIT_USER)
                err(f"@{result.key}: {result.error}")
            else:
                results.append(result.verdict)
        if as_json:
            print_json([verdict_json(v) for v in results] if len(papers) > 1 else (verdict_json(results[0]) if results else None))
        else:
            from triage.entries import verdict_line

            for v in results:
                typer.echo(f"@{v.key}: {verdict_line(v)}")
                for p in v.principles:
                    mark = "" if not p.flagged else "  [unverified quote]"
                    shown = "n/a" if p.score is None else f"{p.score:4.1f}"
                    typer.echo(f"  {p.id:<16} {shown}  {p.rationale}{mark}")
                for line in _verdict_notes(v.model_dump(mode="json")):
                    typer.echo(f"  {line}")
        if worst:
            raise typer.Exit(worst)


def verdict_json(v) -> dict:
    """The documented ``triage score --json`` shape."""
    return {
        "key": v.key,
        "decision": v.decision.value,
        "score": v.score,
        "confidence": v.confidence,
        "critic": v.critic,
        "basis": v.basis,
        "principles": [
            {"id": p.id, "score": p.score, "rationale": p.rationale, "flagged": p.flagged,
             "quotes": [{"text": q.text, "verified": q.verified} for q in p.quotes]}
            for p in v.principles
        ],
        "revision": v.revision,
        "llm_mode": v.llm_mode,
        "injections": v.injections,
        "held_back": v.held_back,
        "tokens": {"prompt": v.tokens.prompt, "completion": v.tokens.completion},
        "cost_usd": v.cost_usd,
    }


def _verdict_notes(verdict: dict) -> list[str]:
    """What the reader should know beyond the scores: planted instructions, a held-back promotion, the LLM mode."""
    lines = [f"planted instruction (never quoted, held at skim): \"{s}\"" for s in verdict.get("injections") or []]
    lines += [f"not promoted: {why}" for why in verdict.get("held_back") or []]
    if verdict.get("llm_mode"):
        lines.append(f"LLM answered in {verdict['llm_mode']} mode")
    return lines


@app.command()
def explain(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The paper's citekey.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: the verdict and its full trace.")] = False,
) -> None:
    """Show how the latest verdict on a paper came about: prompts, raw answers, revision, evidence."""
    with handled():
        data = service(ctx).explain(key)
        if as_json:
            print_json(data)
            return
        verdict, trace = data["verdict"], data["trace"]
        if verdict:
            typer.echo(f"@{data['key']}: {verdict['decision']} {verdict['score']:.1f}/10 confidence {verdict['confidence']:.2f} "
                       f"[{verdict['critic']}, prompts {verdict['prompt_version']}, constitution {verdict['constitution_hash']}]")
            for p in verdict["principles"]:
                shown = "n/a" if p["score"] is None else f"{p['score']:4.1f}"
                typer.echo(f"  {p['id']:<16} {shown}  {p['rationale']}{'  [flagged]' if p['flagged'] else ''}")
                for q in p["quotes"]:
                    typer.echo(f"      {'✓' if q['verified'] else '✗ not in the paper:'} \"{q['text']}\"")
            for line in _verdict_notes(verdict):
                typer.echo(f"  {line}")
            if verdict["revision"]:
                typer.echo("\nrevision:\n  " + verdict["revision"].replace("\n", "\n  "))
        if trace is None:
            typer.echo("\nno trace: the offline critic scores by embedding similarity, there are no prompts to show"
                       if verdict and verdict["critic"].startswith("offline") else "\nno trace kept for this verdict")
            return
        if not trace.get("ok"):
            typer.echo(f"\nlatest LLM attempt failed: {trace.get('error')}")
        tokens = trace.get("tokens", {})
        typer.echo(f"\ntrace: {len(trace.get('calls', []))} call(s) in {trace.get('mode') or '?'} mode, "
                   f"{trace.get('retries', 0)} retries, "
                   f"{trace.get('repairs', 0)} repairs, {tokens.get('prompt', 0)} prompt + {tokens.get('completion', 0)} "
                   f"completion tokens, ${trace.get('cost_usd', 0):.6f}")
        for call in trace.get("calls", []):
            status = call.get("error") or call.get("problem") or "ok"
            if call.get("finish_reason") == "length":
                status = f"cut at {call.get('max_tokens', '?')} tokens (finish_reason length); {status}"
            typer.echo(f"\n=== {call['stage']} (attempt {call['attempt']}, {call.get('mode', '?')} mode, "
                       f"{call.get('elapsed_s', '?')}s): {status} ===")
            for m in call.get("messages", []):
                typer.echo(f"--- {m['role']} ---\n{m['content']}")
            if call.get("raw") is not None:
                typer.echo(f"--- answer ---\n{call['raw']}")


@app.command()
def calibrate(
    ctx: typer.Context,
    note: Annotated[Optional[list[Path]], typer.Option("--note", help="Also learn from the read/skim entries you wrote in these notes or vaults (repeatable).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Write the calibrated thresholds into the constitution file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit promote_at / drop_below to your own past decisions and report the agreement."""
    with handled():
        from triage.calibrate import write_thresholds
        from triage.errors import ConfigError

        core = service(ctx)
        result = core.calibrate(notes=note)
        if as_json:
            print_json(result.to_dict())
        else:
            typer.echo(f"{len(result.samples)} papers you decided: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
            if result.unscored:
                err(f"{len(result.unscored)} more you decided have no verdict and no abstract to score: "
                    + ", ".join("@" + k for k in result.unscored[:5]) + (" …" if len(result.unscored) > 5 else ""))
            typer.echo(f"{'':<11} {'promote_at':>10} {'drop_below':>10} {'bal. acc.':>9} {'kappa':>6}")
            for name, a in (("current", result.current), ("calibrated", result.calibrated)):
                typer.echo(f"{name:<11} {a.promote_at:>10g} {a.drop_below:>10g} {a.balanced_accuracy:>9.2f} {a.kappa:>6.2f}")
        if write:
            path = core.settings.constitution
            if path is None:
                raise ConfigError("the shipped constitution is not yours to edit",
                                  hint="copy prompts/constitution.md, set TRIAGE_CONSTITUTION to it, and run again")
            write_thresholds(path, result.calibrated.promote_at, result.calibrated.drop_below)
            err(f"{path}: promote_at {result.calibrated.promote_at:g}, drop_below {result.calibrated.drop_below:g}")


def _transition_command(action: str) -> Callable:
    def command(
        ctx: typer.Context,
        key: Annotated[str, typer.Argument(help="The paper: citekey, arXiv id or DOI.")],
        note: Annotated[Optional[Path], typer.Option("--note", help="Also record the decision in this reading note.")] = None,
        reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")] = "",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        with handled():
            core = service(ctx)
            if action == "undo":
                t = core.undo(key, note=note)
            else:
                t = getattr(core, action)(key, reason=reason, note=note)
            if as_json:
                print_json(t.model_dump(mode="json"))
            else:
                typer.echo(f"@{t.key}: {t.old.value if t.old else '-'} -> {t.new.value}")

    command.__doc__ = {
        "promote": "Promote a paper to read (a reader decision, recorded as such).",
        "keep": "Keep a paper at skim: you looked, and it is worth no more (a reader decision, recorded as such).",
        "drop": "Drop a paper (a reader decision, recorded as such).",
        "undo": "Undo the latest decision on a paper; a note gets the correction appended.",
    }[action]
    return command


for _action in ("promote", "keep", "drop", "undo"):
    app.command(name=_action)(_transition_command(_action))


@app.command()
def history(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The paper: citekey, arXiv id or DOI.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show every status change of a paper: who, where, when and why."""
    with handled():
        rows = service(ctx).history(key)
        if as_json:
            print_json([t.model_dump(mode="json") for t in rows])
            return
        if not rows:
            typer.echo(f"no history for {key}")
        for t in rows:
            who = f"{t.actor} ({t.source})" if t.source and t.source != t.actor else t.actor
            typer.echo(f"{t.at:%Y-%m-%d %H:%M}  {t.old.value if t.old else '-':>8} -> {t.new.value:<8} {who:<14} {t.reason}")


@app.command()
def show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The paper's citekey.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the same record as GET /papers/{key}).")] = False,
) -> None:
    """Show one paper as the state knows it: status, latest verdict, sections as extracted, history."""
    with handled():
        from triage.errors import StoreError

        view = service(ctx).paper(key, extract=True)
        if view is None:
            raise StoreError(f"no paper @{key.lstrip('@')} in the state",
                             hint="add it first with 'triage fetch' or 'triage run', or check the key with 'triage papers'")
        if as_json:
            print_json(view.model_dump(mode="json"))
            return
        typer.echo(f"@{view.key}  {view.status.value}  {view.title}")
        meta = "; ".join(view.authors[:6]) + (" et al." if len(view.authors) > 6 else "")
        typer.echo("  " + " · ".join(str(x) for x in (meta, view.year, view.arxiv_id and f"arXiv:{view.arxiv_id}") if x))
        if view.verdict is not None:
            from triage.entries import verdict_line

            typer.echo(f"  {verdict_line(view.verdict)} ({view.verdicts} verdict{'s' if view.verdicts != 1 else ''} kept)")
        if view.sections is not None:
            typer.echo(f"  {view.sections.pages} pages · conclusion: {view.sections.conclusion_heading or 'none found'}")
        if view.problem:
            err(f"warning: {view.problem}")
        for t in view.history:
            typer.echo(f"  {t.at:%Y-%m-%d %H:%M}  {t.old.value if t.old else '-'} -> {t.new.value}  {t.actor}  {t.reason}")


@app.command()
def papers(
    ctx: typer.Context,
    status_filter: Annotated[Optional[str], typer.Option("--status", help="Only papers at this status (skim, read, …).")] = None,
    find: Annotated[str, typer.Option("--find", help="Only papers with every word of this in their key, title or authors.")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many papers.")] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the same records as GET /papers).")] = False,
) -> None:
    """List the papers in the state, most recently changed first, with their latest verdict in brief."""
    with handled():
        from triage.models import Status

        st = Status(status_filter) if status_filter else None
        views = service(ctx).papers(st, find, offset=offset, limit=limit)
        if as_json:
            print_json([v.model_dump(mode="json") for v in views])
            return
        for v in views:
            verdict = f"{v.decision} {v.score:.1f}" if v.score is not None else "-"
            typer.echo(f"{v.status.value:<8} {verdict:<10} @{v.key}  {v.title}")
        if not views:
            err("no papers" + (" match" if st or find else " yet: try 'triage run NOTE'"))


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="How many results.")] = 10,
    status_filter: Annotated[Optional[Status], typer.Option("--status", help="Only papers at this status.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Semantic search over the papers and passages you have triaged."""
    with handled():
        hits = service(ctx).search(query, k=k, status=status_filter)
        _print_hits(hits, as_json)


@app.command()
def similar(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The paper's citekey.")],
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="How many results.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Papers like this one."""
    with handled():
        _print_hits(service(ctx).similar(key, k=k), as_json)


def _print_hits(hits: list, as_json: bool) -> None:
    if as_json:
        print_json([h.model_dump() for h in hits])
        return
    if not hits:
        typer.echo("no results")
    for h in hits:
        where = f" {h.section} p.{h.page}" if h.kind == "chunk" else ""
        snippet = " ".join(h.text.split())[:160]
        typer.echo(f"{h.score:.3f}  @{h.key}{where}  {snippet}")


@app.command()
def reindex(ctx: typer.Context) -> None:
    """Rebuild the search index from the state and the PDF cache (after changing the embedder, or when it is damaged).

    A damaged index is moved aside (kept as chroma.damaged-<time> in the data home) and built anew.
    """
    with handled():
        core = service(ctx)
        with progress_bar("reindex") as progress:
            report = core.reindex(progress)
        if report.moved_aside is not None:
            err(f"the damaged index was moved aside to {report.moved_aside}")
        if report.skipped:
            err(f"no PDF and no abstract, not indexed: {', '.join('@' + k for k in report.skipped[:8])}"
                + (" …" if len(report.skipped) > 8 else ""))
        by_abstract = f" ({report.by_abstract} by their abstract: no PDF at hand)" if report.by_abstract else ""
        err(f"reindexed {report.indexed} of {report.total} papers{by_abstract}")


@constitution_app.command("check")
def constitution_check(
    ctx: typer.Context,
    file: Annotated[Optional[Path], typer.Argument(help="Constitution file (default: the configured one).")] = None,
) -> None:
    """Validate a constitution file and list its principles."""
    with handled():
        from triage.critic.constitution import load_constitution

        settings = settings_from(ctx)
        limits = settings.limits
        c = load_constitution(file or settings.constitution, max_bytes=limits.constitution_bytes,
                              max_principles=limits.constitution_principles)
        typer.echo(f"{c.source}: {len(c.principles)} principles, promote_at {c.promote_at:g}, drop_below {c.drop_below:g}, hash {c.hash}")
        for p in c.principles:
            typer.echo(f"  {p.id:<16} weight {p.weight:g}{'  (against)' if p.against else ''}")


@app.command()
def tui(
    ctx: typer.Context,
    note: Annotated[Optional[Path], typer.Argument(metavar="NOTE", help="A reading note: its session is the log, decisions go into it.")] = None,
) -> None:
    """Open the reading log in the terminal (Textual); with NOTE, that session's papers."""
    with handled():
        from triage.errors import NoteError
        from triage.tui import make_app

        if note is not None and not note.is_file():
            raise NoteError(f"no note at {note}", hint="start one with 'triage note new'")
        make_app(settings_from(ctx), note=note).run()


# -- reading notes (issue 8) ----------------------------------------------------------

note_app = typer.Typer(help="Read and start reading notes.", no_args_is_help=True)
app.add_typer(note_app, name="note")


@note_app.command("show")
def note_show(
    ctx: typer.Context,
    note: Annotated[Path, typer.Argument(help="The reading note (markdown).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (lines are 1-based).")] = False,
) -> None:
    """Show a note's sections, log entries (status, key, lines, annotations) and mentions.

    @words that are not citekeys (no year in them, unknown to your library and state) are listed as ignored.
    """
    with handled():
        from triage.notes import read_note

        core = service(ctx)
        parsed = read_note(note, max_bytes=core.settings.limits.note_bytes)
        data = parsed.to_dict()
        logged = parsed.entry_keys()
        data["ignored"] = [k for k in dict.fromkeys(m.key for m in parsed.mentions)
                           if k not in logged and not core.is_citekey(k)]
        data["unskimmed"] = [k for k in data["unskimmed"] if k not in data["ignored"]]
        if as_json:
            print_json(data)
            return
        typer.echo("sections: " + ", ".join(f"{s['title']} ({s['start_line']}-{s['end_line']})" for s in data["sections"]))
        for e in data["entries"]:
            typer.echo(f"L{e['start_line']}-{e['end_line']}  {e['status']:<5} @{e['key']}")
            for a in e["annotations"]:
                typer.echo(f"    [{a}]")
            for image in e["images"]:
                typer.echo(f"    ![]({image})")
        if not data["entries"]:
            typer.echo("no log entries")
        for m in data["mentions"]:
            typer.echo(f"mention  L{m['line']}  @{m['key']}  ({m['section'] or 'before the first heading'})")
        if data["unskimmed"]:
            typer.echo("never skimmed: " + ", ".join("@" + k for k in data["unskimmed"]))
        if data["ignored"]:
            typer.echo("not citekeys (run and queue leave them alone): " + ", ".join("@" + k for k in data["ignored"]))


@note_app.command("new")
def note_new(
    title: Annotated[Optional[str], typer.Option("--title", help="Title of the session (default: 'Reading session').")] = None,
    folder: Annotated[Path, typer.Option("--dir", help="Folder for the new note (default: here).")] = Path("."),
) -> None:
    """Start a new session note from the template (tl;dr, Context, Done, Learned, Next?, Log), dated today."""
    with handled():
        from datetime import date

        from triage.errors import NoteError
        from triage.notes import new_note, new_note_path

        today = date.today()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = new_note_path(folder, title, today)
            with path.open("x", encoding="utf-8", newline="") as f:
                f.write(new_note(title, today))
        except OSError as exc:
            raise NoteError(f"cannot create a note in {folder}: {exc.strerror or exc}") from None
        typer.echo(str(path))


@app.command()
def queue(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A reading note, or a folder of notes (an Obsidian/Logseq vault).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Papers your notes mention but never skimmed, and where you mentioned them (@words that are not citekeys are left out).

    The skim and read entries you wrote yourself are recorded as your decisions on the way.
    """
    with handled():
        from triage.notes import build_queue, read_notes

        core = service(ctx)
        found, problems = read_notes(path, max_bytes=core.settings.limits.note_bytes)
        for problem in problems:
            err(f"warning: skipped {problem.message}")
        for note in found:
            _print_sync(core.sync_note(note))
        items = [q for q in build_queue(found) if core.is_citekey(q.key)]
        if as_json:
            print_json([q.to_dict() for q in items])
            return
        for q in items:
            where = ", ".join(
                f"{p.relative_to(path) if path.is_dir() and p else p}:{m.line + 1} ({m.section or '-'})" for p, m in q.mentions
            )
            typer.echo(f"@{q.key}  {where}")
        err(f"{len(items)} never skimmed in {len(found)} note(s)" if items else "nothing queued: every paper mentioned has an entry")


# -- nightly digest (issue 9) ----------------------------------------------------------


@app.command()
def digest(
    ctx: typer.Context,
    category_args: Annotated[Optional[list[str]], typer.Argument(metavar="CATEGORY", help="arXiv categories, as with --categories.", show_default=False)] = None,
    categories: Annotated[Optional[list[str]], typer.Option("--categories", "-c", help="arXiv categories (repeatable, or space/comma separated; default: settings).")] = None,
    query: Annotated[Optional[str], typer.Option("--query", "-q", help="Also search the arXiv API (query syntax, e.g. 'abs:adapter').")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="API query: submitted since DATE (YYYY-MM-DD; default yesterday).")] = None,
    feed: Annotated[Optional[list[str]], typer.Option("--feed", help="A listing feed file or URL to read instead of the category feeds (repeatable).")] = None,
    top: Annotated[Optional[int], typer.Option("--top", min=0, help="Papers the critic judges (default: settings).")] = None,
    pdf_top: Annotated[Optional[int], typer.Option("--pdf-top", min=0, help="Of those, the best K are judged with their conclusion too: their PDFs are fetched (default: settings, 0).")] = None,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", min=0.0, help="Stop the critic (not the digest) after spending this many USD.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for YYYY-MM-DD.md (default: <home>/digests).")] = None,
    email: Annotated[bool, typer.Option("--email", help="Also send it as an HTML e-mail (SMTP settings; TRIAGE_SMTP_PASSWORD).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Rank only: no critic, no state, no file, no e-mail.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    schedule: Annotated[bool, typer.Option("--schedule", help="Print a crontab line and systemd service + timer units, and exit.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="If another digest is running, wait for it instead of exiting with 75.")] = False,
    critic: Annotated[Optional[CriticName], CRITIC_OPTION] = None,
) -> None:
    """Tonight's arXiv, ranked by your profile, the top N judged by your constitution, as a note (and e-mail).

    Non-interactive and safe under cron: one run at a time (a lock in the data
    home), reruns of a night add nothing and call no critic, logs go to
    <home>/logs/digest.log.  Exit codes: 0 written (also an empty night or a
    spent budget); 1 bad input; 2 usage; 3 a feed, the critic or SMTP failed
    (the digest is still written from what was read); 75 another digest is
    running (retry later, or pass --wait).
    """
    import re
    import shutil
    from datetime import date

    from triage.digest import EXIT_LOCKED, DigestLocked, DigestOptions, run_digest, schedule_units

    if schedule:
        obj = ctx.find_root().obj or {}
        exe = shutil.which("triage", path=str(Path(sys.executable).parent)) or shutil.which("triage") or f"{sys.executable} -m triage.cli"
        home = obj.get("home")
        command = f"{exe} digest" + (" --email" if email else "")
        units = schedule_units(command, home=Path(home).resolve() if home else None)
        if as_json:
            print_json(units)
        else:
            typer.echo(f"# crontab -e\n{units['crontab']}\n")
            typer.echo(f"# ~/.config/systemd/user/triage-digest.service\n{units['service']}")
            typer.echo(f"# ~/.config/systemd/user/triage-digest.timer\n{units['timer']}")
            typer.echo(f"# {units['install']}")
        return
    wanted = [c for raw in [*(categories or []), *(category_args or [])] for c in re.split(r"[\s,]+", raw) if c]
    for c in wanted:
        if not re.fullmatch(r"[a-z][a-z-]*(\.[A-Za-z-]+)?", c):
            raise typer.BadParameter(f"{c!r} is not an arXiv category (e.g. cs.LG)", param_hint="--categories")
    try:
        since_date = date.fromisoformat(since) if since else None
    except ValueError:
        raise typer.BadParameter(f"{since!r} is not a date (YYYY-MM-DD)", param_hint="--since") from None
    with handled():
        core = service(ctx, critic=critic)
        options = DigestOptions(
            categories=wanted or None, query=query, since=since_date, feeds=list(feed or []), top_n=top, pdf_top=pdf_top,
            max_cost_usd=max_cost, out_dir=out, email=email, dry_run=dry_run, wait=wait,
        )
        try:
            with progress_bar("digest") as progress, _terminated_as_interrupt():
                report = run_digest(core, options, progress=progress)
        except DigestLocked as exc:
            err(f"{exc.message}; this run exits with {EXIT_LOCKED} ({exc.hint})")
            raise typer.Exit(EXIT_LOCKED) from None
        if as_json:
            print_json(report.to_dict())
        else:
            for c in report.top:
                v = c.verdict
                shown = f"{v.decision.value} {v.score:.1f}/10" + (" (cached)" if c.cached else "") if v else f"not judged: {c.not_judged}"
                typer.echo(f"@{c.key}: {shown}  [{c.score:.3f}] {c.entry.title}")
            for message in report.warnings:
                err(f"warning: {message}")
            for message in report.errors:
                err(f"error: {message}")
            where = str(report.path) if report.path else ("nothing written (dry run)" if dry_run else "nothing new: no digest written")
            mail = " · e-mailed" if report.emailed else (f" · e-mail {report.email_note}" if report.email_note else "")
            err(f"{report.night}: {report.listed} listed, {report.new} new; {report.candidates} candidates tonight, "
                f"{len(report.top)} to the critic ({report.critic_calls} calls, ${report.cost_usd:.4f})"
                f"{' · budget reached' if report.budget_reached else ''}{mail}; {where}")
        if report.exit_code:
            raise typer.Exit(report.exit_code)


@contextmanager
def _terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM (cron's or systemd's timeout) ends the block as ctrl-c does: the run closes its records first."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- HTTP API (issue 10) ----------------------------------------------------------------


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[Optional[str], typer.Option("--host", help="Bind address (default: api.host, 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", min=0, max=65535, help="Bind port (default: api.port, 8765).")] = None,
    show_token: Annotated[bool, typer.Option("--show-token", help="Print the API token (generated on first use) and exit.")] = False,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Allow a non-loopback --host (the token must exist already).")] = False,
) -> None:
    """Serve the HTTP API for note tools (FastAPI + uvicorn); every endpoint but /health needs the bearer token."""
    with handled():
        from triage.api import is_loopback, load_or_create_token, read_token, token_path
        from triage.errors import ConfigError

        settings = settings_from(ctx)
        if show_token:
            typer.echo(load_or_create_token(settings))
            return
        host = host or settings.api.host
        port = settings.api.port if port is None else port
        if not is_loopback(host):
            if read_token(settings) is None:
                raise ConfigError(f"refusing to serve on {host}: no API token exists yet",
                                  hint="run 'triage serve --show-token' first, then pass --allow-remote")
            if not allow_remote:
                raise ConfigError(f"refusing to serve on non-loopback address {host}",
                                  hint="pass --allow-remote if other machines should reach it (use TLS in front)")
        # The port first: a busy one is said before anything starts (the job runner would pick up queued jobs).
        sock = _listen(host, port)
        import uvicorn

        from triage.api import create_app

        settings.api.host, settings.api.port = host, sock.getsockname()[1]
        api = create_app(settings)
        err(f"triage API on http://{host}:{settings.api.port} · token in {token_path(settings)} (triage serve --show-token)")
        config = uvicorn.Config(api, log_level="info", proxy_headers=False, server_header=False)
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # ctrl-c is how a server is stopped: it has shut down gracefully by now (uvicorn re-raises it)


def _listen(host: str, port: int):  # -> socket.socket
    """A socket bound to ``host:port`` for the API; ``ConfigError`` when the port is taken or the address wrong."""
    import errno
    import socket

    from triage.errors import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot serve on {host}: {exc.strerror or exc}", hint="pass --host an address of this machine") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        hint = ("another program listens there (another 'triage serve'?): pass --port, or stop it"
                if exc.errno == errno.EADDRINUSE else "pass --host an address of this machine, and --port one you may use")
        raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror or exc}", hint=hint) from None
    sock.set_inheritable(True)
    return sock


# -- paper sources (issue 3) ------------------------------------------------------------

library_app = typer.Typer(help="Import and inspect your reference library (Better BibTeX exports).", no_args_is_help=True)
app.add_typer(library_app, name="library")


def _paper_json(paper) -> dict:
    """The ``--json`` shape of a paper (``triage fetch``, ``triage library show``)."""
    return paper.model_dump(mode="json")


@app.command()
def fetch(
    ctx: typer.Context,
    papers: Annotated[list[str], typer.Argument(help="Citekeys (@key or key), arXiv ids, arXiv/PDF URLs or DOIs.")],
    library: Annotated[Optional[list[Path]], typer.Option("--library", "-l", help=LIBRARY_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: one object per paper.")] = False,
    pick: Annotated[Optional[str], typer.Option("--pick", metavar="ARXIV_ID", help="For one ambiguous citekey: the arXiv paper it names, remembered for good.")] = None,
) -> None:
    """Resolve papers and make sure each PDF is local (attachment, cache, or a download from arXiv).

    With --offline only attachments and the cache are used; keys that cannot be
    served are listed.  A citekey that matches several arXiv papers lists them;
    settle it once with --pick.  Exit 1 if any paper could not be resolved or
    fetched (3 if arXiv or a download failed).
    """
    with handled():
        import time

        from triage.errors import AmbiguousKeyError

        overrides: dict[str, Any] = {}
        if library:
            overrides["library"] = library_paths(library)
        core = service(ctx, **overrides)
        if pick is not None:
            if len(papers) != 1:
                raise typer.BadParameter("--pick settles one citekey: name just that one", param_hint="--pick")
            core.pick(papers[0], pick)
        results, codes = [], []
        for ident in papers:
            started = time.monotonic()
            try:
                paper = core.fetch(ident)
            except TriageError as exc:
                codes.append(exc.exit_code)
                row: dict[str, Any] = {"input": ident, "ok": False, "error": exc.message, "hint": exc.hint}
                if isinstance(exc, AmbiguousKeyError):
                    row["candidates"] = [_paper_json(c) for c in exc.candidates]
                results.append(row)
                if not as_json:
                    err(f"{ident}: {exc}")
                    for c in getattr(exc, "candidates", []):
                        err(f"  candidate: {c.versioned_id}  {c.title} ({c.year})")
                continue
            elapsed = time.monotonic() - started
            results.append({"input": ident, "ok": True, "elapsed_s": round(elapsed, 3), **_paper_json(paper)})
            if not as_json:
                typer.echo(f"@{paper.key}: {paper.pdf_path}  [{paper.resolved_by}, {elapsed:.1f}s]")
        say_offline(core)
        if as_json:
            print_json(results)
        elif codes:
            err(f"{len(papers) - len(codes)} of {len(papers)} fetched")
        if codes:
            raise typer.Exit(max(codes))


@library_app.command("import")
def library_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A Better BibTeX export (.bib, CSL-JSON, BBT JSON), a Zotero data folder or zotero.sqlite, or 'zotero'.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Read a library and remember it: later commands resolve its keys without --library.

    A Zotero library is read in place, read-only, every time (safe while Zotero runs): nothing to re-export.
    """
    with handled():
        from triage.sources import library_path, remember_library

        settings = settings_from(ctx)
        lib = remember_library(settings, file)
        path = library_path(file)
        if as_json:
            print_json({"file": str(path), "entries": len(lib), "with_arxiv_id": sum(1 for p in lib.papers() if p.arxiv_id),
                        "with_pdf": sum(1 for p in lib.papers() if p.pdf_path), "errors": lib.errors, "warnings": lib.warnings})
            return
        for message in [*lib.errors, *lib.warnings]:
            err(f"warning: {message}")
        typer.echo(f"{path}: {len(lib)} entries ({sum(1 for p in lib.papers() if p.arxiv_id)} with an arXiv id, "
                   f"{sum(1 for p in lib.papers() if p.pdf_path)} with a PDF), {len(lib.errors)} skipped; remembered")


@library_app.command("show")
def library_show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="A citekey (or alias) in your library.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one entry of your library, as triage reads it."""
    with handled():
        from triage.errors import SourceError
        from triage.sources import parse_identifier

        ident = parse_identifier(key)
        paper = service(ctx).library().get(ident.value) if ident.kind == "citekey" else None
        if paper is None:
            raise SourceError(f"@{ident.value} is not in your library", hint="triage library import FILE")
        if as_json:
            print_json(_paper_json(paper))
            return
        typer.echo(f"@{paper.key}  ({paper.resolved_by})")
        for label, value in (("title", paper.title), ("authors", "; ".join(paper.authors)), ("year", paper.year),
                             ("arXiv", paper.versioned_id),
                             ("doi", paper.doi), ("url", paper.url), ("pdf", paper.pdf_path),
                             ("missing", f"{paper.missing_pdf} (attached, but not on disk)" if paper.missing_pdf else None),
                             ("zotero", paper.zotero_pdf), ("abstract", f"{len(paper.abstract.split())} words" if paper.abstract else None),
                             ("aliases", ", ".join(paper.aliases))):
            if value:
                typer.echo(f"  {label:<8} {value}")


@library_app.command("list")
def library_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The library files triage reads: from settings and from 'triage library import'."""
    with handled():
        from triage.sources import remembered_libraries

        settings = settings_from(ctx)
        files = [*settings.library, *remembered_libraries(settings)]
        if as_json:
            print_json([str(p) for p in files])
            return
        for p in files:
            typer.echo(str(p))
        if not files:
            err("no library yet: triage library import FILE")


@library_app.command("forget")
def library_forget(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A library file imported before.")],
) -> None:
    """Stop reading a library file imported with 'triage library import'."""
    with handled():
        from triage.errors import SourceError
        from triage.sources import forget_library

        if not forget_library(settings_from(ctx), file):
            raise SourceError(f"{file} is not a remembered library", hint="triage library list")
        err(f"forgot {file}")


def main() -> None:
    """Console-script entry point (through ``triage.__main__``): the command's exit code, 130 after ctrl-c."""
    import signal

    try:
        code = _invoke()
        # The work is over: a ctrl-c from here on (the interpreter shutting down) must not turn a finished
        # run into a traceback or a death by signal.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:  # landed between the command's end and the line above
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = EXIT_INTERRUPTED
    if code == EXIT_INTERRUPTED:
        say_interrupted()  # typer turns a ctrl-c outside a command body into 130 without a word
        # Exit now, without the interpreter's shutdown: CPython dies by SIGINT after it when a ctrl-c once
        # landed in code a C extension ran through PyRun_* (torch does), however the interrupt was handled
        # (seen by the fault-injection module: 'interrupted', then exit -2). Nothing is left to finish: every
        # transaction was committed or rolled back and the note was replaced whole or not at all (as for
        # kill -9, which the same module checks); the critic's threads need not be waited for.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.exit(code)


def _invoke() -> int:
    """Run the command line; its exit code."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: the message and exit 2
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err(f"error: {exc.format_message()}")
        code = exc.exit_code
    except typer.Abort:  # end of input at a prompt
        code = EXIT_USER
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # `triage … | head` closed the pipe: not an error
        sys.stderr.close()
        code = EXIT_OK
    return code if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":
    main()
