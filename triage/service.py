"""The one facade every surface calls: CLI, TUI, digest and HTTP API.

``Triage`` wires the pipeline stages together — resolve, fetch, extract,
index, critic, state, notes — and owns nothing but the wiring: each stage is
its own module and can be used alone.  Heavy parts (Chroma, the embedding
model, langchain) are created on first use, so constructing a ``Triage`` is
cheap and ``triage --help`` stays fast.

Everything here raises ``TriageError`` subclasses and never prints; surfaces
turn errors into exit codes, notifications or JSON.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from triage.config import Settings
from triage.critic.base import Critic
from triage.critic.batch import BatchResult
from triage.critic.constitution import Constitution, load_constitution
from triage.errors import ConfigError, TriageError
from triage.models import Decision, Paper, Sections, Status, Transition, Verdict

__all__ = ["Triage", "Outcome", "RunReport", "Progress"]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(message, done, total)`` while long work runs."""


@dataclass
class Outcome:
    """What happened to one paper in a run."""

    key: str
    ok: bool
    message: str = ""
    verdict: Verdict | None = None
    cached: bool = False
    written: bool = False
    exit_code: int = 0  # for a failure: 1 the reader's input, 3 a service (arXiv, the LLM endpoint)


@dataclass
class RunReport:
    """The result of triaging a note."""

    note: Path
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the log
    written: bool = False
    dry_run: bool = False

    @property
    def failed(self) -> list[Outcome]:
        """Papers that could not be triaged."""
        return [o for o in self.outcomes if not o.ok]

    def to_dict(self) -> dict:
        """JSON-ready summary for ``--json``."""
        return {
            "note": str(self.note),
            "written": self.written,
            "dry_run": self.dry_run,
            "skipped": self.skipped,
            "papers": [
                {
                    "key": o.key,
                    "ok": o.ok,
                    "message": o.message,
                    "cached": o.cached,
                    "decision": o.verdict.decision.value if o.verdict else None,
                    "score": o.verdict.score if o.verdict else None,
                    "critic": o.verdict.critic if o.verdict else None,
                }
                for o in self.outcomes
            ],
        }


def paper_key(raw: str) -> str:
    """A citekey from ``@key`` or ``key``; anything that could not be one is refused, shortened in the message."""
    from triage.citekey import is_safe_key

    key = raw.strip().lstrip("@")
    if not is_safe_key(key):
        shown = key if len(key) <= 60 else key[:57] + "…"
        raise TriageError(f"not a citekey: {shown!r}", hint="citekeys look like pfeifferModularDeepLearning2023")
    return key


class Triage:
    """The core library's entry point; pass your own ``Settings`` (tests do)."""

    def __init__(self, settings: Settings | None = None, *, critic: Critic | None = None) -> None:
        self.settings = settings or Settings.load()
        self._critic = critic
        self._lock = threading.RLock()
        self._state = None
        self._index = None
        self._library = None
        self._constitution: Constitution | None = None

    # -- lazily built parts ---------------------------------------------------

    @property
    def state(self):  # -> triage.state.State
        """The SQLite reading state."""
        with self._lock:
            if self._state is None:
                from triage.state import State

                self.settings.ensure_home()
                self._state = State(self.settings.db_path)
            return self._state

    @property
    def embedder(self):  # -> triage.embeddings.Embedder
        """The configured embedding backend."""
        from triage.embeddings import get_embedder

        return get_embedder(self.settings.embedding, self.settings.llm)

    @property
    def index(self):  # -> triage.index.Index
        """The Chroma index."""
        with self._lock:
            if self._index is None:
                from triage.index import Index

                self._index = Index(self.settings, self.embedder)
            return self._index

    @property
    def constitution(self) -> Constitution:
        """The reader's constitution (or the shipped default)."""
        if self._constitution is None:
            self._constitution = load_constitution(self.settings.constitution)
        return self._constitution

    def reload_constitution(self) -> Constitution:
        """Re-read the constitution file (the reader edited it); a broken file raises and keeps nothing stale."""
        self._constitution = None
        return self.constitution

    @property
    def critic(self) -> Critic:
        """The configured critic: the LLM when an endpoint is set (or asked for), else offline."""
        with self._lock:
            if self._critic is None:
                self._critic = self.make_critic(self.settings.critic)
            return self._critic

    def make_critic(self, kind: str) -> Critic:
        """Build a critic by kind: ``offline``, ``llm`` or ``auto``."""
        if kind == "auto":
            kind = "llm" if self.settings.llm.configured() else "offline"
        if kind == "llm":
            from triage.critic.llm import LLMCritic

            if not self.settings.llm.configured():
                raise ConfigError("the LLM critic needs an endpoint", hint="set OPENAI_API_KEY and/or OPENAI_BASE_URL")
            return LLMCritic(self.settings.llm, trace_dir=self.traces_dir)
        from triage.critic.offline import EmbeddingCritic

        return EmbeddingCritic(self.embedder)

    def library(self):  # -> triage.sources.bibtex.Library
        """The reader's library: configured files plus those imported with ``triage library import``."""
        with self._lock:
            if self._library is None:
                from triage.sources import load_library, remembered_libraries

                self._library = load_library([*self.settings.library, *remembered_libraries(self.settings)])
            return self._library

    # -- one paper ------------------------------------------------------------

    def resolve(self, identifier: str) -> Paper:
        """Metadata for a citekey, arXiv id, URL or DOI."""
        from triage.sources import resolve

        return resolve(identifier, self.settings, self.library())

    def pick(self, key: str, arxiv_id: str) -> Paper:
        """Settle an ambiguous citekey: ``key`` is the arXiv paper ``arxiv_id`` from now on (every surface)."""
        from triage.sources import pick

        return pick(key, arxiv_id, self.settings, self.library())

    def fetch(self, identifier: str) -> Paper:
        """Resolve and make sure the PDF is local; ``paper.pdf_path`` points at it."""
        from triage.fetch import fetch_pdf

        paper = self.resolve(identifier)
        pdf = fetch_pdf(paper, self.settings)
        return paper.model_copy(update={"pdf_path": pdf})

    def extract(self, pdf: Path) -> Sections:
        """Title, abstract, conclusion, chunks… of a PDF, cached by content hash."""
        from triage.extract import extract_cached

        sections = extract_cached(pdf, self.settings.cache_dir)
        self._keep_summary(sections)
        return sections

    def _summary_path(self, sha: str) -> Path:
        return self.settings.cache_dir / "sections" / f"{sha}.json"

    def _keep_summary(self, sections: Sections) -> None:
        # What a paper's detail shows, kept apart from the extraction cache so showing it
        # never imports PyMuPDF nor reads the PDF (sections_summary).
        path = self._summary_path(sections.sha256)
        if not sections.sha256 or path.is_file():
            return
        from triage.atomic import write_atomic

        brief = sections.model_copy(update={"abstract_regions": [], "conclusion_regions": [], "chunks": [], "figures": []})
        try:
            write_atomic(path, brief.model_dump_json().encode("utf-8"))
        except OSError:
            pass  # the detail then extracts again, slower, not wrong

    def sections_summary(self, key: str) -> Sections | None:
        """Title, abstract and conclusion of the paper's PDF as last extracted (no chunks), or None if never."""
        record = self.state.get(paper_key(key))
        if record is None or not record.pdf_sha:
            return None
        try:
            return Sections.model_validate_json(self._summary_path(record.pdf_sha).read_bytes())
        except (OSError, ValueError):
            return None

    def add(self, identifier: str) -> tuple[Paper, Sections]:
        """Fetch, extract and index a paper, and record it in the state (status kept if known)."""
        paper = self.fetch(identifier)
        assert paper.pdf_path is not None
        sections = self.extract(paper.pdf_path)
        record = self.state.upsert_paper(paper, pdf_sha=sections.sha256)
        self.index.upsert(paper.key, sections, status=record.status.value, title=paper.title)
        return paper, sections

    def judge(self, paper: Paper, sections: Sections, *, critic: Critic | None = None) -> tuple[Verdict, bool]:
        """A verdict for the paper, from the cache when nothing changed; returns (verdict, cached)."""
        critic = critic or self.critic
        constitution = self.constitution
        cached = self.state.cached_verdict(sections.sha256, constitution.hash, critic.name, critic.prompt_version)
        if cached is not None:
            return cached.model_copy(update={"key": paper.key}), True
        verdict = critic.judge(paper, sections, constitution)
        self.state.save_verdict(verdict)
        return verdict, False

    def triage(self, identifier: str, *, critic: Critic | None = None) -> tuple[Paper, Sections, Verdict, bool]:
        """Add a paper and judge it; the critic's decision becomes its status."""
        paper, sections = self.add(identifier)
        verdict, cached = self.judge(paper, sections, critic=critic)
        self._apply_verdict(paper, verdict)
        return paper, sections, verdict, cached

    def _apply_verdict(self, paper: Paper, verdict: Verdict) -> None:
        record = self.state.get(paper.key)
        # The critic only moves papers it has not judged before (or that the reader
        # left queued); a reader's own decision is never overridden by a re-run.
        if record is not None and record.status in (Status.QUEUED, Status.ERROR):
            self.state.set_status(paper.key, verdict.decision.status, actor="critic",
                                  reason=f"{verdict.critic}: score {verdict.score:.1f}")
            self.index.set_status(paper.key, verdict.decision.status.value)

    # -- many papers at once, and how a verdict came about (issue 5) --------------------

    @property
    def traces_dir(self) -> Path:
        """Where the LLM critic keeps each verdict's trace (prompts, raw answers, revision)."""
        return self.settings.home / "traces"

    def judge_many(
        self,
        items: list[tuple[Paper, Sections]],
        *,
        critic: Critic | None = None,
        max_cost_usd: float | None = None,
        progress: Progress | None = None,
    ) -> list[BatchResult]:
        """Verdicts for many papers: cached ones with no call, the rest concurrently within the budget.

        Results come back in input order; each is ``ok`` (verdict saved, like
        ``judge``), ``error`` (the reason) or ``budget`` (not judged: the run's
        cap would have been exceeded).  One paper's failure never stops the others.
        """
        from triage.critic.batch import Budget, judge_batch

        critic = critic or self.critic
        constitution = self.constitution
        results: dict[int, BatchResult] = {}
        todo: list[int] = []
        for i, (paper, sections) in enumerate(items):
            hit = self.state.cached_verdict(sections.sha256, constitution.hash, critic.name, critic.prompt_version)
            if hit is not None:
                results[i] = BatchResult(key=paper.key, status="ok", verdict=hit.model_copy(update={"key": paper.key}),
                                         cached=True)
            else:
                todo.append(i)
        done = len(results)

        def on_result(result: BatchResult) -> None:
            nonlocal done
            done += 1
            if result.verdict is not None:
                self.state.save_verdict(result.verdict)  # runs on this thread: one SQLite writer
            if progress:
                progress(f"judged @{result.key}", done, len(items))

        # Only a critic that waits on the network gains from concurrency; the
        # embedding critic is CPU-bound and runs one paper at a time.
        concurrency = self.settings.llm.concurrency if critic.name.startswith("llm:") else 1
        batch = judge_batch([items[i] for i in todo], critic, constitution, concurrency=concurrency,
                            budget=Budget(max_cost_usd), on_result=on_result)
        results.update(zip(todo, batch))
        return [results[i] for i in range(len(items))]

    def explain(self, key: str) -> dict:
        """The newest verdict for a paper and the trace of how it came about; StoreError when there is none."""
        import json

        from triage.critic.llm import read_trace, trace_path
        from triage.errors import StoreError

        key = paper_key(key)
        verdict = self.state.latest_verdict(key)
        trace = None
        if verdict is not None:
            trace = read_trace(trace_path(self.traces_dir, verdict.paper_hash or key, verdict.constitution_hash,
                                          verdict.critic, verdict.prompt_version))
        if trace is None and self.traces_dir.is_dir():
            # A failed LLM verdict leaves a trace and no verdict: the newest trace for the key.
            found = []
            for path in self.traces_dir.glob("*.json"):
                data = read_trace(path)
                if data and data.get("key") == key and (verdict is None or not data.get("ok")):
                    found.append(data)
            trace = max(found, key=lambda d: d.get("at", ""), default=None)
        if verdict is None and trace is None:
            raise StoreError(f"no verdict for @{key}", hint="judge it first with 'triage score KEY' or 'triage run NOTE'")
        return json.loads(json.dumps({"key": key, "verdict": verdict.model_dump(mode="json") if verdict else None,
                                      "trace": trace}, default=str))

    def calibrate(self, *, notes: list[Path] | None = None):  # -> triage.calibrate.Calibration
        """Thresholds fitted to the reader's own decisions, next to the current ones."""
        from triage.calibrate import calibrate

        return calibrate(self.state, self.constitution, notes)

    # -- reader decisions -----------------------------------------------------

    def set_status(self, key: str, status: Status, *, reason: str = "", note: Path | None = None) -> Transition:
        """A reader's decision (promote, keep, drop, done); appended to ``note`` as the reader would."""
        key = paper_key(key)
        if note is not None:
            self._note_ready(note)
        transition = self.state.set_status(key, status, actor="reader", reason=reason or "reader decision")
        self._after_transition(transition, note)
        return transition

    def promote(self, key: str, *, reason: str = "", note: Path | None = None) -> Transition:
        """Promote a paper to read."""
        return self.set_status(key, Status.READ, reason=reason, note=note)

    def drop(self, key: str, *, reason: str = "", note: Path | None = None) -> Transition:
        """Drop a paper."""
        return self.set_status(key, Status.DROPPED, reason=reason, note=note)

    def undo(self, key: str, *, note: Path | None = None) -> Transition:
        """Undo the latest decision; the note keeps what was written and gets the correction after it."""
        if note is not None:
            self._note_ready(note)
        transition = self.state.undo(paper_key(key))
        self._after_transition(transition, note)
        return transition

    def history(self, key: str) -> list[Transition]:
        """Every status change of a paper."""
        return self.state.history(paper_key(key))

    def _note_ready(self, note: Path):  # -> triage.notes.Note
        """The note, read, once it is sure to take an entry: checked before the state changes,
        so that when the note cannot be written neither changes (issue 17)."""
        import os

        from triage import notes
        from triage.errors import NoteError

        try:
            parsed = notes.read_note(note)
        except NoteError as exc:
            raise type(exc)(f"{exc.message}; nothing was changed", exc.hint) from None
        folder = Path(note).resolve().parent
        if not os.access(folder, os.W_OK):
            raise NoteError(f"cannot write in {folder}, the note's folder; nothing was changed",
                            "make the folder writable, or open a note you can edit")
        return parsed

    def _after_transition(self, transition: Transition, note: Path | None) -> None:
        if self._index is not None or self.settings.chroma_dir.exists():
            try:
                self.index.set_status(transition.key, transition.new.value)
            except TriageError:
                pass  # the index is a cache of the state; 'triage reindex' repairs it
        if note is not None:
            from triage import entries, notes

            block = entries.transition_entry(transition)
            if block:
                notes.append_to_log(note, [block], backup_dir=self.settings.backups_dir)

    # -- looking papers up, and the reading log a page at a time (the TUI) -----------------

    def paper_record(self, key: str):  # -> triage.state.PaperRecord | None
        """The paper as the state knows it (metadata, status, PDF hash), or None."""
        return self.state.get(paper_key(key))

    def latest_verdict(self, key: str) -> Verdict | None:
        """The newest verdict for the paper, whatever critic made it."""
        return self.state.latest_verdict(paper_key(key))

    def verdict_count(self, key: str) -> int:
        """How many verdicts are kept for the paper."""
        return len(self.state.verdicts(paper_key(key)))

    def counts(self) -> dict[str, int]:
        """Papers per status."""
        return self.state.counts()

    def log_page(self, status: Status | None = None, text: str = "", *, after: tuple[str, str] | None = None,
                 before: tuple[str, str] | None = None, offset: int = 0, limit: int = 100):  # -> list[LogLine]
        """Papers most recently changed first, filtered by status and by words of their key, title or authors.

        A page continues from the row next to it (``after`` the last row of the page
        above, ``before`` the first row of the page below), else starts at ``offset``.
        """
        return self.state.log_lines(status, text, after=after, before=before, offset=offset, limit=limit)

    def log_count(self, status: Status | None = None, text: str = "") -> int:
        """How many papers ``log_page`` walks through with this filter."""
        return self.state.log_count(status, text)

    def log_position(self, key: str, status: Status | None = None, text: str = "") -> int | None:
        """The paper's 0-based row under this filter, or None when the filter hides it."""
        return self.state.log_position(paper_key(key), status, text)

    def find_papers(self, text: str, *, limit: int = 20):  # -> list[LogLine]
        """Papers whose key, title or authors hold every word of ``text``, best match first."""
        return self.state.find_papers(text, limit=limit)

    def state_version(self) -> int:
        """A number that changes when another process commits to the state (to notice outside changes)."""
        return self.state.data_version()

    # -- search ---------------------------------------------------------------

    def search(self, query: str, *, k: int = 10, status: Status | None = None):
        """Papers and passages closest to ``query``."""
        return self.index.search(query, k=k, status=status.value if status else None)

    def similar(self, key: str, *, k: int = 5):
        """Papers like paper ``key``."""
        return self.index.similar(paper_key(key), k=k)

    # -- a whole note ---------------------------------------------------------

    def run_note(
        self,
        note_path: Path,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        critic: Critic | None = None,
        max_cost_usd: float | None = None,
        only: set[str] | None = None,
    ) -> RunReport:
        """Triage every paper the note mentions that has no entry in its log yet, and append entries.

        ``only`` narrows that to some keys (``run_queue`` sends each paper to one note).

        Papers that fail (unknown key, broken PDF, a critic error…) are reported
        and get no entry; a paper the critic failed on is marked ``error`` with
        the reason.  The critic judges the papers as one batch (concurrently for
        the LLM critic, within ``max_cost_usd``).  The note is written once,
        atomically, and only if something was decided.
        """
        from triage import notes

        note = notes.read_note(note_path)
        logged = note.entry_keys()
        pending: list[str] = []
        report = RunReport(note=note_path, dry_run=dry_run)
        for mention in note.mentions:
            if only is not None and mention.key not in only:
                continue
            if mention.key in logged:
                if mention.key not in report.skipped:
                    report.skipped.append(mention.key)
            elif mention.key not in pending:
                pending.append(mention.key)

        blocks: list[str] = []
        added: dict[str, tuple[Paper, Sections]] = {}
        failed: dict[str, TriageError] = {}
        for i, key in enumerate(pending):
            if progress:
                progress(f"@{key}", i, len(pending))
            try:
                added[key] = self.add(key)
            except TriageError as exc:
                failed[key] = exc
        judged = dict(zip(added, self.judge_many(list(added.values()), critic=critic, max_cost_usd=max_cost_usd,
                                                 progress=progress))) if added else {}
        for key in pending:
            if key in failed:
                report.outcomes.append(Outcome(key=key, ok=False, message=str(failed[key]),
                                               exit_code=failed[key].exit_code))
                continue
            paper, sections = added[key]
            result = judged[key]
            if result.verdict is None:
                if result.status == "error":
                    self._mark_error(paper.key, result.error)
                report.outcomes.append(Outcome(key=key, ok=False, message=result.error, exit_code=result.exit_code))
                continue
            verdict = result.verdict
            try:
                self._apply_verdict(paper, verdict)
                blocks.extend(self._entry_blocks(paper, sections, verdict, note_path, dry_run=dry_run))
            except TriageError as exc:
                report.outcomes.append(Outcome(key=key, ok=False, message=str(exc), exit_code=exc.exit_code))
                continue
            report.outcomes.append(Outcome(key=key, ok=True, verdict=verdict, cached=result.cached, written=not dry_run))
        if progress:
            progress("done", len(pending), len(pending))
        if blocks and not dry_run:
            notes.append_to_log(note_path, blocks, backup_dir=self.settings.backups_dir, expected_text=note.text)
            report.written = True
        return report

    def run_queue(
        self,
        folder: Path,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        critic: Critic | None = None,
        max_cost_usd: float | None = None,
    ) -> list[RunReport]:
        """Triage the queue of a folder of notes: every paper they mention that none of them has an entry for.

        Each paper's entry goes to the note that mentioned it first, so a paper
        skimmed in one note is not skimmed again in another.  One report per note
        written to, in path order; unreadable notes are skipped (``read_notes``).
        """
        from triage import notes

        found, _unreadable = notes.read_notes(folder)
        by_note: dict[Path, set[str]] = {}
        for queued in notes.build_queue(found):
            first_note = queued.mentions[0][0]
            if first_note is not None:
                by_note.setdefault(first_note, set()).add(queued.key)
        spent = 0.0
        reports = []
        for path in sorted(by_note):
            left = None if max_cost_usd is None else max(0.0, max_cost_usd - spent)
            report = self.run_note(path, dry_run=dry_run, progress=progress, critic=critic, max_cost_usd=left,
                                   only=by_note[path])
            spent += sum(o.verdict.cost_usd for o in report.outcomes if o.verdict and not o.cached)
            reports.append(report)
        return reports

    def _mark_error(self, key: str, reason: str) -> None:
        """A paper the critic could not judge: status ``error`` with the reason (a later run retries it)."""
        record = self.state.get(key)
        if record is not None and record.status in (Status.QUEUED, Status.ERROR):
            self.state.set_status(key, Status.ERROR, actor="critic", reason=reason[:500])

    def triage_into_note(self, identifier: str, note_path: Path, *, critic: Critic | None = None) -> Outcome:
        """Triage one paper and append its entries to the note, unless the log has it already."""
        from triage import notes

        # The note takes the entries before the verdict moves the status: when it cannot
        # (moved, unwritable, kept changing), the paper stays as it was and the error says why.
        note = self._note_ready(note_path)
        paper, sections = self.add(identifier)
        verdict, cached = self.judge(paper, sections, critic=critic)
        logged = paper.key in note.entry_keys()
        blocks = self._logged_entry_blocks(paper, verdict, note) if logged else self._entry_blocks(paper, sections, verdict, note_path)
        if blocks:
            notes.append_to_log(note_path, blocks, backup_dir=self.settings.backups_dir, expected_text=note.text)
        self._apply_verdict(paper, verdict)
        message = ("already in the log" + ("; the critic's decision added" if blocks else "")) if logged else ""
        return Outcome(key=paper.key, ok=True, message=message, verdict=verdict, cached=cached, written=bool(blocks))

    def _logged_entry_blocks(self, paper: Paper, verdict: Verdict, note) -> list[str]:
        """For a paper the reader logged by hand: the entry that says what the verdict changes, if the note lacks it.

        The critic moves only papers nobody decided on (``_apply_verdict``); when it
        promotes or drops one, the note gets the ``read`` entry, or the verdict line, the
        critic's markers included.
        """
        from triage import entries, notes

        record = self.state.get(paper.key)
        if record is None or record.status not in (Status.QUEUED, Status.ERROR):
            return []
        new = verdict.decision.status
        if new is Status.READ and paper.key not in note.entry_keys("read"):
            return [entries.promotion_entry(paper.key, f"{entries.CRITIC_PROMOTION} ({verdict.critic})")]
        if new is Status.DROPPED:
            return [notes.format_entry("skim", paper.key, [entries.verdict_line(verdict)])]
        return []

    def _entry_blocks(
        self, paper: Paper, sections: Sections, verdict: Verdict, note_path: Path, *, dry_run: bool = False
    ) -> list[str]:
        """The skim entry (with its snapshot) and, when the critic promotes, the read entry."""
        from triage import entries

        snapshot = None if dry_run else self._snapshot(paper, sections, note_path.parent / "asset")
        blocks = [entries.skim_entry(paper, sections, verdict, snapshot=snapshot, note_dir=note_path.parent)]
        if verdict.decision is Decision.READ:
            blocks.append(entries.promotion_entry(paper.key, f"{entries.CRITIC_PROMOTION} ({verdict.critic})"))
        return blocks

    def _snapshot(self, paper: Paper, sections: Sections, asset_dir: Path) -> Path | None:
        """PNG of the conclusion region next to the note, as the reader pastes one."""
        from triage.citekey import is_safe_key
        from triage.extract import snapshot

        regions = sections.conclusion_regions or sections.abstract_regions
        if not regions or paper.pdf_path is None or not is_safe_key(paper.key):
            return None
        kind = "conclusion" if sections.conclusion_regions else "abstract"
        try:
            return snapshot(paper.pdf_path, regions, asset_dir / f"{paper.key}_{kind}.png")
        except (TriageError, OSError):
            return None  # a missing picture must not cost the reader the entry

    def status(self) -> dict:
        """Counts per status and where the data lives."""
        return {"home": str(self.settings.home), "papers": self.state.counts()}

    def stop_embedder(self) -> None:
        """End the local embedding child process now, not waiting for it to exit (an interactive app quitting)."""
        embedding = self.settings.embedding
        if embedding.backend == "local" and embedding.child_process:
            from triage.embeddings import ChildProcessMiniLM

            embedder = self.embedder
            if isinstance(embedder, ChildProcessMiniLM):
                embedder.close(wait=0)

    def close(self) -> None:
        """Release the database connection."""
        if self._state is not None:
            self._state.close()

