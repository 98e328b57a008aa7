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

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from triage.config import Settings
from triage.critic.base import Critic
from triage.critic.batch import BatchResult
from triage.critic.constitution import Constitution, load_constitution
from triage.errors import (
    EXIT_SERVICE,
    ConfigError,
    NetworkDown,
    NotJudged,
    OfflineMiss,
    PdfError,
    SourceError,
    StateUnavailable,
    StoreError,
    TriageError,
)
from triage.models import Decision, Paper, PaperView, Sections, SectionsSummary, Status, Transition, Verdict

if TYPE_CHECKING:
    from triage.critic.model import Prior, ReaderModel

__all__ = ["Triage", "Outcome", "RunReport", "NoteSync", "ReindexReport", "Progress", "OFFLINE_RECHECK_S"]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(message, done, total)`` while long work runs."""

OFFLINE_RECHECK_S = 300.0
"""After a connection failed, how long papers are served from the cache before the network is tried again."""

T = TypeVar("T")


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
    warnings: list[str] = field(default_factory=list)  # judged anyway, on less than it should have been


@dataclass
class RunReport:
    """The result of triaging a note."""

    note: Path
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the log
    ignored: list[str] = field(default_factory=list)  # @words that are not citekeys (@karpathy)
    written: bool = False
    dry_run: bool = False
    sync: NoteSync | None = None  # the reader's own entries taken into the state first

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
            "ignored": self.ignored,
            "reader_decisions": [{"key": t.key, "status": t.new.value, "where": t.reason}
                                 for t in (self.sync.decisions if self.sync else [])],
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


@dataclass
class NoteSync:
    """What syncing a note's reader-written log entries into the state did."""

    note: Path
    decisions: list[Transition] = field(default_factory=list)  # status changes made, in note order
    unresolved: list[str] = field(default_factory=list)  # new papers known only by their key, for now

    def notice(self) -> str:
        """One line for the reader, '' when there is nothing worth saying."""
        if not self.unresolved:
            return ""
        keys = ", ".join("@" + k for k in self.unresolved[:5]) + (" …" if len(self.unresolved) > 5 else "")
        return (f"{len(self.unresolved)} of your decisions in {self.note.name} name papers your library does not hold "
                f"({keys}): recorded against their keys; their abstracts are looked up when the network is used")


#: The status word of a reader's log entry, and the status it records; other words are not decisions.
@dataclass
class ReindexReport:
    """What ``Triage.reindex`` did."""

    indexed: int = 0
    total: int = 0
    by_abstract: int = 0  # no PDF at hand: indexed by the title and abstract the state holds
    skipped: list[str] = field(default_factory=list)  # neither PDF nor abstract
    moved_aside: Path | None = None  # the damaged index, kept


def _require_text(paper: Paper, sections: Sections) -> None:
    if not sections.basis:
        raise NotJudged(f"@{paper.key} not judged: no text (no abstract or conclusion in the PDF, and none in your "
                        "library or arXiv's metadata)", hint="attach the PDF or add the abstract to your library entry")


def paper_key(raw: str) -> str:
    """A citekey from ``@key`` or ``key``; anything that could not be one is refused, shortened in the message."""
    from triage.citekey import is_safe_key

    key = raw.strip().lstrip("@")
    if not is_safe_key(key):
        shown = key if len(key) <= 60 else key[:57] + "…"
        raise TriageError(f"not a citekey: {shown!r}", hint="citekeys look like pfeifferModularDeepLearning2023")
    return key


def _brief(line) -> PaperView:  # line: triage.state.LogLine
    return PaperView(key=line.key, status=line.status, title=line.title, authors=list(line.authors), year=line.year,
                     arxiv_id=line.arxiv_id, updated_at=datetime.fromisoformat(line.updated_at), decision=line.decision,
                     score=line.score, top=line.top)


class Triage:
    """The core library's entry point; pass your own ``Settings`` (tests do)."""

    def __init__(self, settings: Settings | None = None, *, critic: Critic | None = None) -> None:
        self.settings = settings or Settings.load()
        self._critic = critic
        self._lock = threading.RLock()
        self._state_db = None
        self._index_db = None
        self._library = None
        self._constitution: Constitution | None = None
        self._model: ReaderModel | None = None
        self._model_key: tuple[str, str] | None = None
        self._prior_model: Prior | None = None
        self.offline_reason: str | None = None  # why the network was given up on (host and cause), once it was
        self._offline_until = 0.0
        self.index_problem: StoreError | None = None  # the first failure of the search index, said once by surfaces

    # -- lazily built parts ---------------------------------------------------

    # The state and the index stay behind this door: surfaces ask the methods below (issue 16).
    @property
    def _state(self):  # -> triage.state.State
        """The SQLite reading state."""
        with self._lock:
            if self._state_db is None:
                from triage.state import State

                self.settings.ensure_home()
                self._state_db = State(self.settings.db_path)
            return self._state_db

    @property
    def embedder(self):  # -> triage.embeddings.Embedder
        """The configured embedding backend."""
        from triage.embeddings import get_embedder

        return get_embedder(self.settings.embedding, self.settings.llm)

    @property
    def _index(self):  # -> triage.index.Index
        """The Chroma index."""
        with self._lock:
            if self._index_db is None:
                from triage.index import Index

                self._index_db = Index(self.settings, self.embedder)
            return self._index_db

    @property
    def constitution(self) -> Constitution:
        """The reader's constitution (or the shipped default)."""
        if self._constitution is None:
            limits = self.settings.limits
            self._constitution = load_constitution(self.settings.constitution, max_bytes=limits.constitution_bytes,
                                                   max_principles=limits.constitution_principles)
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
        """Build a critic by kind: ``offline``, ``llm`` or ``auto``.

        ``auto`` is the LLM critic when an endpoint is configured and answers,
        else the offline critic: a configured endpoint that cannot be reached
        costs one warning (logged), not the run.
        """
        if kind == "auto":
            kind = "llm" if self.settings.llm.configured() else "offline"
            if kind == "llm":
                from triage.critic.endpoint import probe

                if why := probe(self.settings.llm):
                    logging.getLogger("triage.critic").warning(
                        "warning: the LLM endpoint is not reachable (%s): the offline critic judges instead", why)
                    kind = "offline"
        if kind == "llm":
            from triage.critic.llm import LLMCritic

            if not self.settings.llm.configured():
                raise ConfigError("the LLM critic needs an endpoint", hint="set OPENAI_API_KEY and/or OPENAI_BASE_URL")
            return LLMCritic(self.settings.llm, trace_dir=self.traces_dir,
                             capabilities_file=self.settings.cache_dir / "llm-modes.json")
        from triage.critic.offline import PersonalCritic

        return PersonalCritic(self.embedder, self.reader_model)

    def reader_examples(self) -> list:  # -> list[triage.critic.model.Example]
        """The reader's decisions with the text they were made on (papers with no abstract known are left out)."""
        from triage.critic.model import Example, paper_text

        label = {Status.READ: Decision.READ, Status.DONE: Decision.READ, Status.SKIM: Decision.SKIM,
                 Status.DROPPED: Decision.DROP}
        if not self.settings.db_path.exists():
            return []  # nothing decided yet, and a dry run must not create the state to find that out
        examples = []
        for paper, status, _source in self._state.reader_decisions():
            if status in label and paper.abstract.strip():
                examples.append(Example(key=paper.key, text=paper_text(paper.title, paper.abstract), label=label[status]))
        return examples

    def reader_model(self, *, learn: bool = True):  # -> triage.critic.model.ReaderModel
        """The model of this reader (constitution, background, their decisions), rebuilt when any of them changes.

        ``learn=False``: the constitution alone, as if the reader had decided nothing yet.
        """
        from triage.critic.background import embed_cached
        from triage.critic.model import ReaderModel, examples_fingerprint

        examples = self.reader_examples() if learn else []
        prior = self._prior()
        wanted = (prior.fingerprint, examples_fingerprint(examples))
        with self._lock:
            if self._model is None or self._model_key != wanted:
                vectors = embed_cached(self.embedder, [e.text for e in examples], self.settings.cache_dir) \
                    if examples else None
                self._model = ReaderModel(prior, examples, vectors)
                self._model_key = wanted
            return self._model

    def _prior(self):  # -> triage.critic.model.Prior
        """The constitution measured against the background (kept until the constitution changes)."""
        import numpy as np

        from triage.critic.background import background_texts, background_vectors
        from triage.critic.model import Prior

        constitution = self.constitution
        with self._lock:
            if self._prior_model is None or self._prior_model.constitution.hash != constitution.hash:
                embedder = self.embedder
                background = list(background_texts())
                self._prior_model = Prior(
                    constitution,
                    lambda texts: np.asarray(embedder.embed(texts), dtype=np.float64),
                    background,
                    background_vectors(embedder, self.settings.cache_dir),
                )
            return self._prior_model

    def library(self):  # -> triage.sources.library.Library
        """The reader's library: configured files plus those imported with ``triage library import``."""
        with self._lock:
            if self._library is None:
                from triage.sources import load_library, remembered_libraries

                self._library = load_library([*self.settings.library, *remembered_libraries(self.settings)],
                                             zotero_base_dir=self.settings.zotero_base_dir)
            return self._library

    # -- one paper ------------------------------------------------------------

    def resolve(self, identifier: str) -> Paper:
        """Metadata for a citekey, arXiv id, URL or DOI."""
        from triage.sources import resolve

        return self._networked(lambda settings: resolve(identifier, settings, self.library()))

    def pick(self, key: str, arxiv_id: str) -> Paper:
        """Settle an ambiguous citekey: ``key`` is the arXiv paper ``arxiv_id`` from now on (every surface)."""
        from triage.sources import pick

        return self._networked(lambda settings: pick(key, arxiv_id, settings, self.library()))

    def fetch(self, identifier: str) -> Paper:
        """Resolve and make sure the PDF is local; ``paper.pdf_path`` points at it."""
        return self._fetched(self.resolve(identifier))

    def _fetched(self, paper: Paper) -> Paper:
        """``paper`` with its PDF made local (attachment, cache or download)."""
        from triage.fetch import fetch_pdf

        pdf = self._networked(lambda settings: fetch_pdf(paper, settings))
        # A link into Zotero only makes sense for the very file Zotero holds (not a download standing in for it).
        return paper.model_copy(update={"pdf_path": pdf, "zotero_pdf": paper.zotero_pdf if pdf == paper.pdf_path else None})

    def _networked(self, call: Callable[[Settings], T]) -> T:
        """Run ``call``; when it finds no network at all, the rest of the run (a while) uses cached papers only.

        One failed connection is enough to know: waiting out retries for every
        paper is what made an offline run of ten papers take half a minute.  The
        reason stays in ``offline_reason`` for the surface to say once.
        """
        try:
            try:
                return call(self._network_settings())
            except NetworkDown as exc:
                with self._lock:
                    self._offline_until = time.monotonic() + OFFLINE_RECHECK_S
                    self.offline_reason = self.offline_reason or f"{exc.host}: {exc.cause}"
                return call(self._network_settings())
        except OfflineMiss as exc:
            if not self.settings.fetch.offline:
                exc.exit_code = EXIT_SERVICE  # the network failed the reader, not their input: try again later
            raise

    def _network_settings(self) -> Settings:
        if self.settings.fetch.offline or time.monotonic() >= self._offline_until:
            return self.settings
        return self.settings.model_copy(update={"fetch": self.settings.fetch.model_copy(update={"offline": True})})

    def is_citekey(self, key: str) -> bool:
        """Whether a ``@word`` of a note names a paper: it has a citekey's shape, or the library or state knows it.

        ``@karpathy`` in a note is a person, not a paper: ``run`` and ``queue`` leave it alone.
        """
        from triage.citekey import has_citekey_shape

        if has_citekey_shape(key):
            return True
        try:
            if self.library().get(key) is not None:
                return True
        except TriageError:
            pass  # an unreadable library is reported where it is needed; here it just knows no keys
        return self.settings.db_path.exists() and self._state.get(key) is not None

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
        # never imports PyMuPDF nor reads the PDF (``paper``).
        path = self._summary_path(sections.sha256)
        if not sections.sha256 or path.is_file():
            return
        from triage.atomic import write_atomic

        try:
            write_atomic(path, SectionsSummary.of(sections).model_dump_json().encode("utf-8"))
        except OSError:
            pass  # the detail then extracts again, slower, not wrong

    def add(self, identifier: str, *, record: bool = True) -> tuple[Paper, Sections]:
        """Resolve, fetch, extract and index a paper, and record it in the state (status kept if known).

        What is judged is what can be had: the PDF's abstract and conclusion;
        the library's or arXiv's abstract where the PDF has none (a partial or
        image-only PDF); the abstract alone when there is no PDF at all (offline,
        no attachment, a download that failed), with the reason in
        ``sections.warnings``.  With neither PDF nor abstract the fetch error
        stands.  ``record=False`` (a dry run) reads only: neither the state nor
        the index is touched.
        """
        paper = self.resolve(identifier)
        try:
            paper = self._fetched(paper)
        except (SourceError, PdfError) as exc:
            if not paper.abstract.strip():
                raise
            sections = Sections.from_metadata(paper.title, paper.abstract, paper.arxiv_id or paper.key)
            sections.warnings.append(f"no PDF ({exc.message}): judged by the abstract from {paper.resolved_by or 'metadata'}")
        else:
            assert paper.pdf_path is not None
            sections = self._with_metadata(paper, self.extract(paper.pdf_path))
        if record:
            # The state keeps the text the paper was judged on: the reader model learns from it once they decide.
            known = paper.model_copy(update={"title": paper.title or sections.title,
                                             "abstract": paper.abstract or sections.abstract})
            stored = self._state.upsert_paper(known, pdf_sha=None if sections.metadata_only else sections.sha256)
            self._index_quietly(lambda index: index.upsert(paper.key, sections, status=stored.status.value,
                                                           title=paper.title))
        return paper, sections

    def _index_quietly(self, call: Callable) -> None:
        """Keep the search index in step, if it can be: a failure is kept in ``index_problem``, never the paper's.

        The index is a cache of the state ('triage reindex' rebuilds it), so a
        damaged one costs the reader the search, not the run; the surface says
        so once.  A full or read-only disk is the state's problem too, and stops
        the run where the state meets it.
        """
        if self.index_problem is not None:
            return
        try:
            call(self._index)
        except StateUnavailable:
            raise
        except StoreError as exc:
            self.index_problem = exc

    @staticmethod
    def _with_metadata(paper: Paper, sections: Sections) -> Sections:
        """The PDF's sections, with the metadata's abstract where the PDF yielded none (no text layer, say)."""
        if sections.abstract.strip() or not paper.abstract.strip():
            return sections
        return sections.model_copy(update={
            "abstract": paper.abstract, "title": sections.title or paper.title,
            "warnings": [*sections.warnings, f"no abstract in the PDF: the abstract from {paper.resolved_by or 'metadata'}"],
        })

    def judge(self, paper: Paper, sections: Sections, *, critic: Critic | None = None,
              force: bool = False) -> tuple[Verdict, bool]:
        """A verdict for the paper, from the cache when nothing changed (``force``: judged again); (verdict, cached).

        ``NotJudged`` when there is no text to judge: never a 0.0 from nothing.
        """
        critic = critic or self.critic
        constitution = self.constitution
        _require_text(paper, sections)
        cached = None if force else self._state.cached_verdict(sections.sha256, constitution.hash, critic.name,
                                                               critic.prompt_version)
        if cached is not None:
            return cached.model_copy(update={"key": paper.key}), True
        verdict = critic.judge(paper, sections, constitution)
        self._state.save_verdict(verdict)
        return verdict, False

    def triage(self, identifier: str, note: Path | None = None, *, critic: Critic | None = None) -> Outcome:
        """Add a paper and judge it; the critic's decision becomes its status.

        With ``note`` the entries go into the note too ("into the note, else into
        the library"), unless its log has the paper already; the note is checked
        before anything changes.
        """
        if note is not None:
            return self._triage_into_note(identifier, note, critic=critic)
        paper, sections = self.add(identifier)
        verdict, cached = self.judge(paper, sections, critic=critic)
        self._apply_verdict(paper, verdict)
        return Outcome(key=paper.key, ok=True, verdict=verdict, cached=cached, warnings=list(sections.warnings))

    def rescore(self, key: str, *, critic: str = "llm") -> tuple[Verdict, bool]:
        """A fresh verdict on a paper from the ``critic`` kind (the LLM by default); the reader's status is left alone."""
        chosen = self.make_critic(critic)
        record = self._state.get(paper_key(key))
        if record is None or record.paper.pdf_path is None:
            raise ConfigError(f"@{paper_key(key)} has not been triaged yet", hint="add it first")
        return self.judge(record.paper, self.extract(Path(record.paper.pdf_path)), critic=chosen)

    def score_pdf(self, pdf: Path) -> tuple[Paper, Sections]:
        """A PDF to judge by its path: extracted and named by its file name, not recorded in the state."""
        sections = self.extract(pdf)
        return Paper(key=pdf.stem, title=sections.title, pdf_path=pdf), sections

    def _apply_verdict(self, paper: Paper, verdict: Verdict) -> None:
        record = self._state.get(paper.key)
        # The critic only moves papers it has not judged before (or that the reader
        # left queued); a reader's own decision is never overridden by a re-run.
        if record is not None and record.status in (Status.QUEUED, Status.ERROR):
            self._state.set_status(paper.key, verdict.decision.status, actor="critic",
                                  reason=f"{verdict.critic}: score {verdict.score:.1f}")
            self._index_quietly(lambda index: index.set_status(paper.key, verdict.decision.status.value))

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
        save: bool = True,
        force: bool = False,
        on_result: Callable[[BatchResult], bool | None] | None = None,
    ) -> list[BatchResult]:
        """Verdicts for many papers: cached ones with no call (``force``: none), the rest concurrently within the budget.

        Results come back in input order; each is ``ok`` (verdict saved, like
        ``judge``), ``error`` (the reason) or ``budget`` (not judged: the run's
        cap would have been exceeded).  One paper's failure never stops the
        others; an LLM endpoint that keeps failing trips its circuit breaker and
        the papers left fail at once as "not judged: endpoint down".
        ``save=False`` (a dry run) keeps new verdicts out of the state.

        A critic that does not account for its own cost (no ``budget``
        parameter) is charged after each paper, so it stops once the cap is
        reached rather than before.  ``on_result`` sees each paper the critic
        judged or failed (not the cached ones), on this thread; when it returns
        True no further paper is started (the digest gives up on an endpoint
        after failures in a row).
        """
        import inspect

        from triage.critic.batch import Budget, judge_batch

        critic = critic or self.critic
        constitution = self.constitution
        results: dict[int, BatchResult] = {}
        todo: list[int] = []
        known = save or self.settings.db_path.exists()  # a dry run must not create the state to look in it
        for i, (paper, sections) in enumerate(items):
            try:
                _require_text(paper, sections)
            except NotJudged as exc:
                results[i] = BatchResult(key=paper.key, status="error", error=str(exc), exit_code=exc.exit_code)
                continue
            hit = self._state.cached_verdict(sections.sha256, constitution.hash, critic.name,
                                             critic.prompt_version) if known and not force else None
            if hit is not None:
                results[i] = BatchResult(key=paper.key, status="ok", verdict=hit.model_copy(update={"key": paper.key}),
                                         cached=True)
            else:
                todo.append(i)
        done = len(results)

        budget = Budget(max_cost_usd)
        self_accounting = "budget" in inspect.signature(critic.judge).parameters

        def judged(result: BatchResult) -> None:
            nonlocal done
            done += 1
            if result.verdict is not None and save:
                self._state.save_verdict(result.verdict)  # runs on this thread: one SQLite writer
            if result.verdict is not None and not self_accounting:
                budget.settle(0.0, result.verdict.cost_usd)
                # A free critic (the offline one) is never stopped by a cap, not even a cap of $0.
                if max_cost_usd is not None and result.verdict.cost_usd > 0 and budget.spent >= max_cost_usd:
                    budget.close()
            if on_result is not None and on_result(result):
                budget.close()
            if progress:
                progress(f"judged @{result.key}", done, len(items))

        # Only a critic that waits on the network gains from concurrency; the
        # embedding critic is CPU-bound and runs one paper at a time.
        concurrency = self.settings.llm.concurrency if critic.name.startswith("llm:") else 1
        if progress and todo and critic.name.startswith("llm:"):
            progress(f"judging with {critic.name}, each call up to {self.settings.llm.timeout_s:g} s", done, len(items))
        batch = judge_batch([items[i] for i in todo], critic, constitution, concurrency=concurrency,
                            budget=budget, on_result=judged)
        results.update(zip(todo, batch))
        return [results[i] for i in range(len(items))]

    def explain(self, key: str) -> dict:
        """The newest verdict for a paper and the trace of how it came about; StoreError when there is none."""
        import json

        from triage.critic.llm import read_trace, trace_path
        from triage.errors import StoreError

        key = self.known_key(key, held=False)  # a PDF scored by path has verdicts but no paper row
        verdict = self._state.latest_verdict(key)
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
            decided = [t for t in self._state.history(key) if t.actor == "reader"]
            if decided:
                where = decided[-1].reason if decided[-1].source == "note" else decided[-1].source
                raise StoreError(f"no verdict for @{key}: you decided it yourself ({decided[-1].new.value}, {where})",
                                 hint="'triage score KEY' shows what the critic would say")
            raise StoreError(f"no verdict for @{key}", hint="judge it first with 'triage score KEY' or 'triage run NOTE'")
        return json.loads(json.dumps({"key": key, "verdict": verdict.model_dump(mode="json") if verdict else None,
                                      "trace": trace}, default=str))

    def calibrate(self, *, notes: list[Path] | None = None):  # -> triage.calibrate.Calibration
        """Thresholds fitted to the reader's own decisions (the entries they wrote in ``notes`` included)."""
        from triage.calibrate import calibrate
        from triage.critic.model import paper_text

        for path in notes or []:
            self.sync_notes(path)
        self.complete_metadata()  # papers you logged by hand: their abstracts are what they are scored on
        prior = None

        def score_of(paper: Paper) -> float | None:
            # Papers logged by hand have no verdict: the constitution alone scores their abstract (never a model
            # that learned from the very decision it would be checked against).
            nonlocal prior
            if not paper.abstract.strip():
                return None
            prior = prior or self.reader_model(learn=False)
            return prior.score([paper_text(paper.title, paper.abstract)])[0].score

        return calibrate(self._state, self.constitution, score_of)

    # -- reader decisions -----------------------------------------------------

    def known_key(self, identifier: str, *, held: bool = True) -> str:
        """The key of a paper the state holds, named by citekey, arXiv id (any form), arXiv URL or DOI.

        With ``held=False`` a citekey the state has no paper for is returned as given rather than refused.
        """
        from triage.errors import StoreError
        from triage.sources import parse_identifier

        ident = parse_identifier(identifier)
        key = self._state.find_key(ident.kind, ident.value)
        if key is None and not held and ident.kind == "citekey":
            return ident.value
        if key is None:
            shown = f"@{ident.value}" if ident.kind == "citekey" else ident.value
            raise StoreError(f"no paper {shown} in the state",
                             hint="add it first with 'triage fetch' or 'triage run', or check the key with 'triage status'")
        return key

    def set_status(self, key: str, status: Status, *, reason: str = "", note: Path | None = None,
                   source: str = "cli") -> Transition:
        """A reader's decision (promote, keep, drop, done) from ``source``; appended to ``note`` as the reader would."""
        key = self.known_key(key)
        if note is not None:
            self._note_ready(note)
        transition = self._state.set_status(key, status, actor="reader", reason=reason or "reader decision",
                                            source=source)
        self._after_transition(transition, note)
        return transition

    def promote(self, key: str, *, reason: str = "", note: Path | None = None, source: str = "cli") -> Transition:
        """Promote a paper to read."""
        return self.set_status(key, Status.READ, reason=reason, note=note, source=source)

    def keep(self, key: str, *, reason: str = "", note: Path | None = None, source: str = "cli") -> Transition:
        """Keep a paper at skim: the reader looked and decided it is worth no more, and no less."""
        return self.set_status(key, Status.SKIM, reason=reason, note=note, source=source)

    def drop(self, key: str, *, reason: str = "", note: Path | None = None, source: str = "cli") -> Transition:
        """Drop a paper."""
        return self.set_status(key, Status.DROPPED, reason=reason, note=note, source=source)

    def undo(self, key: str, *, note: Path | None = None, source: str = "cli") -> Transition:
        """Undo the latest decision; the note keeps what was written and gets the correction after it."""
        key = self.known_key(key)
        if note is not None:
            self._note_ready(note)
        transition = self._state.undo(key, source=source)
        self._after_transition(transition, note)
        return transition

    def history(self, key: str) -> list[Transition]:
        """Every status change of a paper."""
        return self._state.history(self.known_key(key))

    def _note_ready(self, note: Path):  # -> triage.notes.Note
        """The note, read, once it is sure to take an entry: checked before the state changes,
        so that when the note cannot be written neither changes (issue 17)."""
        from triage import notes
        from triage.errors import NoteError

        try:
            parsed = notes.read_note(note, max_bytes=self.settings.limits.note_bytes)
        except NoteError as exc:
            raise type(exc)(f"{exc.message}; nothing was changed", exc.hint) from None
        notes.ensure_writable(note)
        return parsed

    def _after_transition(self, transition: Transition, note: Path | None) -> None:
        if self._index_db is not None or self.settings.chroma_dir.exists():
            self._index_quietly(lambda index: index.set_status(transition.key, transition.new.value))
        if note is not None:
            from triage import entries, notes

            block = entries.transition_entry(transition, wikilink=self.settings.notes.wikilinks)
            if block:
                notes.append_to_log(note, [block], backup_dir=self.settings.backups_dir, temp_dir=self.settings.tmp_dir)
                # The entry is the reader's, and this decision is in the state already: a sync must not replay
                # it.  It is remembered as a sync will read it (its status word), which is what a sync compares.
                pair = notes.entry_of_block(block)
                said = entries.ENTRY_STATUS.get(pair[0], transition.new) if pair else transition.new
                self._state.note_entry_written(self._note_id(note), transition.key, said)

    # -- the reader's own entries in their notes -------------------------------------------

    @staticmethod
    def _note_id(path: Path) -> str:
        return str(Path(path).resolve())

    def read_note(self, path: Path):  # -> triage.notes.Note
        """Read a note and take its reader-written entries into the state (``sync_note``)."""
        from triage import notes

        note = notes.read_note(path, max_bytes=self.settings.limits.note_bytes)
        self.sync_note(note)
        return note

    def sync_note(self, note) -> NoteSync:
        """Record every ``[status(@key)]`` entry the reader wrote in ``note`` as a reader decision (source ``note``).

        Entries the critic wrote (``entries.is_critic_entry``) are not the
        reader's and are skipped.  A paper the state does not know is added
        without its PDF, with whatever the library or arXiv's remembered
        answers hold about it (no network is used here).  Contradicting entries
        for one paper: the latest in note order wins, and the history keeps
        each.  Syncing the same note again changes nothing.
        """
        from triage.entries import ENTRY_STATUS, is_critic_entry
        from triage.state import NoteEntry

        assert note.path is not None
        found = [
            NoteEntry(key=e.key, status=ENTRY_STATUS[e.status.casefold()], line=e.start_line + 1)
            for e in note.entries
            if e.status.casefold() in ENTRY_STATUS and not is_critic_entry(e.children)
        ]
        sync = NoteSync(note=note.path)
        if not found:
            return sync
        sync.decisions = self._state.sync_note_entries(self._note_id(note.path), found, self._metadata_for_decision,
                                                       label=note.path.name)
        sync.unresolved = [t.key for t in sync.decisions
                           if t.old is None and (r := self._state.get(t.key)) is not None and not r.paper.resolved_by]
        for t in sync.decisions:
            self._after_transition(t, None)
        return sync

    def sync_notes(self, path: Path) -> list[NoteSync]:
        """``sync_note`` for a note, or every note of a folder (unreadable notes are skipped)."""
        from triage import notes

        found, _unreadable = notes.read_notes(path, max_bytes=self.settings.limits.note_bytes)
        return [self.sync_note(n) for n in found]

    def sync_known_notes(self) -> list[NoteSync]:
        """Sync again every note synced before that still exists (the digest does, before it learns the profile)."""
        from triage import notes
        from triage.errors import NoteError

        synced = []
        for name in self._state.synced_notes():
            try:
                synced.append(self.sync_note(notes.read_note(Path(name), max_bytes=self.settings.limits.note_bytes)))
            except NoteError:
                continue  # moved or deleted since: its decisions stay in the state
        return synced

    def complete_metadata(self, keys: list[str] | None = None, *, limit: int = 20) -> list[str]:
        """Look up title and abstract for papers you decided on that have none yet; returns the keys completed.

        Your entries are recorded without the network (``sync_note``); the
        text the reader model and ``calibrate`` need is fetched here, when the
        network is about to be used anyway: your library first, then arXiv
        (at most ``limit`` papers a call, each looked up at most once a week).
        """
        from datetime import timedelta

        from triage.models import utcnow

        wanted = set(keys) if keys is not None else None
        done: list[str] = []
        tried = 0
        stamp = f"not found {utcnow():%Y-%m-%d}"
        for paper, _status, _source in self._state.reader_decisions():
            if paper.abstract.strip() or (wanted is not None and paper.key not in wanted) or tried >= limit:
                continue
            if paper.resolved_by.startswith("not found "):
                try:
                    when = datetime.strptime(paper.resolved_by.removeprefix("not found "), "%Y-%m-%d").replace(tzinfo=UTC)
                except ValueError:
                    when = None
                if when is not None and utcnow() - when < timedelta(days=7):
                    continue
            tried += 1
            try:
                found = self.resolve(paper.key)
            except TriageError:
                found = None
            if found is not None and found.abstract.strip():
                self._state.upsert_paper(found.model_copy(update={"key": paper.key}))
                done.append(paper.key)
            else:
                self._state.upsert_paper(paper.model_copy(update={"resolved_by": stamp}))
        return done

    def _metadata_for_decision(self, key: str) -> Paper:
        """What is known about a paper the reader decided on, without the network: library, then arXiv's remembered answers."""
        from triage.sources import resolve

        offline = self.settings.model_copy(update={"fetch": self.settings.fetch.model_copy(update={"offline": True})})
        try:
            return resolve(key, offline, self.library())
        except TriageError:
            return Paper(key=key)

    # -- looking papers up, and the reading log a page at a time (TUI, API, CLI) ---------------

    def paper(self, key: str, *, brief: bool = False, extract: bool = False) -> PaperView | None:
        """The paper as every surface shows it, or None when the state has no such paper.

        ``brief``: what a list shows (metadata, status, the newest verdict in
        brief); otherwise its detail too: the verdict, history and the sections
        as summarised at extraction.  Showing a paper never opens its PDF unless
        ``extract`` asks for it: a PDF never summarised is named in
        ``pdf_to_extract`` (the TUI extracts it in the background), and one
        gone from disk is said in ``problem``.
        """
        from triage.citekey import is_safe_key

        key = key.strip().lstrip("@")
        record = self._state.get(key) if is_safe_key(key) else None  # what cannot be a citekey names no paper
        if record is None:
            return None
        verdict = self._state.latest_verdict(key)
        top = verdict.top_principles(1) if verdict else []
        paper = record.paper
        view = PaperView(key=key, status=record.status, title=paper.title, authors=list(paper.authors), year=paper.year,
                         arxiv_id=paper.arxiv_id, updated_at=record.updated_at,
                         decision=verdict.decision.value if verdict else "", score=verdict.score if verdict else None,
                         top=top[0].id if top else "")
        if brief:
            return view
        view.paper, view.verdict = paper, verdict
        view.verdicts = len(self._state.verdicts(key))
        view.history = self._state.history(key)
        view.sections = self._summary(record.pdf_sha)
        pdf = paper.pdf_path
        if view.sections is None and pdf is not None:
            if not Path(pdf).is_file():
                view.problem = f"the PDF is gone: {pdf}"
            elif extract:
                try:
                    view.sections = SectionsSummary.of(self.extract(Path(pdf)))
                except (TriageError, OSError) as exc:
                    view.problem = f"the PDF could not be read: {exc}"
            else:
                view.pdf_to_extract = Path(pdf)
        return view

    def papers(self, status: Status | None = None, text: str = "", *, after: tuple[str, str] | None = None,
               before: tuple[str, str] | None = None, offset: int = 0, limit: int = 100) -> list[PaperView]:
        """Papers most recently changed first (in brief), filtered by status and by words of their key, title or authors.

        A page continues from the row next to it (``after`` the last row of the page
        above, ``before`` the first row of the page below), else starts at ``offset``.
        """
        lines = self._state.log_lines(status, text, after=after, before=before, offset=offset, limit=limit)
        return [_brief(line) for line in lines]

    def _summary(self, pdf_sha: str | None) -> SectionsSummary | None:
        if not pdf_sha:
            return None
        try:
            return SectionsSummary.model_validate_json(self._summary_path(pdf_sha).read_bytes())
        except (OSError, ValueError):
            return None

    def counts(self) -> dict[str, int]:
        """Papers per status."""
        return self._state.counts()

    def log_count(self, status: Status | None = None, text: str = "") -> int:
        """How many papers ``papers`` walks through with this filter."""
        return self._state.log_count(status, text)

    def log_position(self, key: str, status: Status | None = None, text: str = "") -> int | None:
        """The paper's 0-based row under this filter, or None when the filter hides it."""
        return self._state.log_position(paper_key(key), status, text)

    def find_papers(self, text: str, *, limit: int = 20) -> list[PaperView]:
        """Papers whose key, title or authors hold every word of ``text``, best match first (in brief)."""
        return [_brief(line) for line in self._state.find_papers(text, limit=limit)]

    def open(self) -> None:
        """Open the state now: create the database and run its migrations (before another store shares the file)."""
        self._state  # noqa: B018 -- the property opens it

    def state_version(self) -> int:
        """A number that changes when another process commits to the state (to notice outside changes)."""
        return self._state.data_version()

    # -- search ---------------------------------------------------------------

    def search(self, query: str, *, k: int = 10, status: Status | None = None):
        """Papers and passages closest to ``query`` (``k`` of them, at least one)."""
        if k < 1:
            raise TriageError(f"cannot show {k} results", hint="ask for at least one")
        return self._index.search(query, k=k, status=status.value if status else None)

    def similar(self, key: str, *, k: int = 5):
        """Papers like paper ``key`` (``k`` of them, at least one); one known only by its metadata (a paper you
        logged by hand) is indexed first."""
        from triage.errors import StoreError

        if k < 1:
            raise TriageError(f"cannot show {k} results", hint="ask for at least one")
        key = self.known_key(key)
        try:
            return self._index.similar(key, k=k)
        except StoreError:
            record = self._state.get(key)
            if record is None or not (record.paper.title or record.paper.abstract):
                raise StoreError(f"@{key} has no text to compare yet (no PDF, and no title or abstract known)",
                                 hint="add it to your library, or 'triage fetch' it") from None
            paper = record.paper
            self._index.upsert(key, Sections.from_metadata(paper.title, paper.abstract, paper.arxiv_id or key),
                              status=record.status.value, title=paper.title)
            return self._index.similar(key, k=k)

    # -- the nightly digest's records (triage/digest/) -------------------------------------

    def digest_seen(self, arxiv_ids: list[str]) -> dict[str, list[dict]]:
        """Every (id, version) the digest has seen of these arXiv ids, by id, oldest version first."""
        return self._state.digest_seen(arxiv_ids)

    def digest_mark_seen(self, rows: list[dict]) -> None:
        """Record (id, version) rows as seen; rows already there are kept as they were."""
        self._state.digest_mark_seen(rows)

    def digest_night(self, night: str) -> list[dict]:
        """Every row first seen on ``night`` (YYYY-MM-DD)."""
        return self._state.digest_night(night)

    def keys_for_arxiv_ids(self, arxiv_ids: list[str]) -> dict[str, str]:
        """Papers already in the state with one of these arXiv ids: id -> key."""
        return self._state.keys_for_arxiv_ids(arxiv_ids)

    def key_taken(self, key: str, arxiv_id: str) -> bool:
        """Whether ``key`` names another paper than ``arxiv_id``: in the digest's records or in the state."""
        owner = self._state.digest_key_owner(key)
        if owner is not None and owner != arxiv_id:
            return True
        record = self._state.get(key)
        return record is not None and record.paper.arxiv_id != arxiv_id

    def enqueue(self, paper: Paper) -> None:
        """Put a paper in the inbox (status queued; a paper the state knows keeps its status)."""
        self._state.upsert_paper(paper, status=Status.QUEUED)

    def digest_run_start(self, night: str, sources: str, pid: int) -> int:
        """Record a digest run as running; returns its id."""
        return self._state.digest_run_start(night, sources, pid)

    def digest_run_finish(self, run_id: int, status: str, **outcome: str | None) -> None:
        """Close a digest run with its outcome (``stats``, ``digest_path``, ``emailed_hash``, ``error``)."""
        self._state.digest_run_finish(run_id, status, **outcome)  # type: ignore[arg-type]

    def digest_runs_interrupted(self, pid: int) -> list[dict]:
        """Close every digest run still running (other than ``pid``'s) as interrupted; only the lock holder may ask."""
        return self._state.digest_runs_interrupted(pid)

    def digest_runs(self, limit: int = 20) -> list[dict]:
        """The latest digest runs, newest first."""
        return self._state.digest_runs(limit)

    def digest_emailed(self, night: str, content_hash: str) -> bool:
        """True when this night's digest with exactly this content was e-mailed already."""
        return self._state.digest_emailed(night, content_hash)

    def reindex(self, progress: Progress | None = None) -> ReindexReport:
        """Rebuild the search index from the state and the PDF cache (after a change of embedder, or damage).

        Every paper the state holds is indexed from its PDF (the library's
        attachment, else the cache by its content hash), else from the title and
        abstract the state keeps.  An embedded index that cannot even be opened
        or emptied (damaged, or a file where its folder should be) is moved aside
        first, kept as ``chroma.damaged-<time>``, and built anew; a full or
        read-only disk is said as such and nothing is moved.
        """
        from triage.fetch import cached_pdf

        report = ReindexReport()
        index = self._index
        try:
            index.reset()
        except StateUnavailable:
            raise
        except StoreError:
            report.moved_aside = index.move_aside()
            if report.moved_aside is None:
                raise
            index.reset()
        self.index_problem = None
        records = self._state.papers(limit=10_000_000)
        report.total = len(records)
        for i, record in enumerate(records):
            if progress:
                progress(f"@{record.key}", i, len(records))
            paper = record.paper
            pdf = paper.pdf_path if paper.pdf_path is not None and Path(paper.pdf_path).is_file() else None
            if pdf is None and record.pdf_sha and (self.settings.papers_dir / f"{record.pdf_sha}.pdf").is_file():
                pdf = self.settings.papers_dir / f"{record.pdf_sha}.pdf"
            pdf = pdf or cached_pdf(paper, self.settings.papers_dir)
            sections = None
            if pdf is not None:
                try:
                    sections = self.extract(Path(pdf))
                except (TriageError, OSError):
                    sections = None
            if sections is None:
                if not paper.abstract.strip():
                    report.skipped.append(record.key)
                    continue
                sections = Sections.from_metadata(paper.title, paper.abstract, paper.arxiv_id or paper.key)
                report.by_abstract += 1
            index.upsert(record.key, sections, status=record.status.value, title=paper.title)
            report.indexed += 1
        if progress:
            progress("done", len(records), len(records))
        return report

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
        force: bool = False,
    ) -> RunReport:
        """Triage every paper the note mentions that has no entry in its log yet, and append entries.

        ``only`` narrows that to some keys (``run_queue`` sends each paper to one note);
        ``force`` judges them again instead of reusing cached verdicts.

        Papers that fail (unknown key, broken PDF, a critic error…) are reported
        and get no entry; a paper the critic failed on is marked ``error`` with
        the reason.  The critic judges the papers as one batch (concurrently for
        the LLM critic, within ``max_cost_usd``).  The note is written once,
        atomically, and only if something was decided.  A ``@word`` that is not
        a citekey (``is_citekey``) is listed in ``ignored``, never resolved.

        ``dry_run`` decides the same and writes none of it: not the note, the
        snapshots, the state (statuses, verdicts) or the index.  Only caches of
        facts that no decision depends on may fill: downloaded PDFs,
        extractions, what arXiv answered.
        """
        from triage import notes

        note = notes.read_note(note_path, max_bytes=self.settings.limits.note_bytes)
        if not dry_run:
            notes.ensure_writable(note_path)  # before any work: a note that cannot take the entries changes nothing
        # What concerns every paper is said once, before any: an unreadable library (not as N unknown keys),
        # a data home or state that cannot be used.
        self.library()
        if not dry_run:  # a dry run creates no state
            _ = self._state
        report = RunReport(note=note_path, dry_run=dry_run)
        if not dry_run:
            report.sync = self.sync_note(note)
            if report.sync.unresolved:
                self.complete_metadata(report.sync.unresolved)
        logged = note.entry_keys()
        pending: list[str] = []
        seen: set[str] = set()
        for mention in note.mentions:
            if (only is not None and mention.key not in only) or mention.key in seen:
                continue
            seen.add(mention.key)
            if mention.key in logged:
                report.skipped.append(mention.key)
            elif self.is_citekey(mention.key):
                pending.append(mention.key)
            else:
                report.ignored.append(mention.key)

        blocks: list[str] = []
        added: dict[str, tuple[Paper, Sections]] = {}
        failed: dict[str, TriageError] = {}
        for i, key in enumerate(pending):
            if progress:
                progress(f"@{key}", i, len(pending))
            try:
                added[key] = self.add(key, record=not dry_run)
            except StateUnavailable:
                raise  # every paper would meet it: the run stops and says it once
            except TriageError as exc:
                failed[key] = exc
        judged = dict(zip(added, self.judge_many(list(added.values()), critic=critic, max_cost_usd=max_cost_usd,
                                                 progress=progress, save=not dry_run, force=force))) if added else {}
        for key in pending:
            if key in failed:
                report.outcomes.append(Outcome(key=key, ok=False, message=str(failed[key]),
                                               exit_code=failed[key].exit_code))
                continue
            paper, sections = added[key]
            result = judged[key]
            if result.verdict is None:
                if result.status == "error" and not dry_run:
                    self._mark_error(paper.key, result.error)
                report.outcomes.append(Outcome(key=key, ok=False, message=result.error, exit_code=result.exit_code))
                continue
            verdict = result.verdict
            try:
                if not dry_run:
                    self._apply_verdict(paper, verdict)
                blocks.extend(self._entry_blocks(paper, sections, verdict, note_path, dry_run=dry_run))
            except StateUnavailable:
                raise
            except TriageError as exc:
                report.outcomes.append(Outcome(key=key, ok=False, message=str(exc), exit_code=exc.exit_code))
                continue
            report.outcomes.append(Outcome(key=key, ok=True, verdict=verdict, cached=result.cached,
                                           warnings=list(sections.warnings)))
        if progress:
            progress("done", len(pending), len(pending))
        if blocks and not dry_run:
            edit = notes.append_to_log(note_path, blocks, backup_dir=self.settings.backups_dir, expected_text=note.text,
                                       temp_dir=self.settings.tmp_dir)
            report.written = edit.written
            # Another run may have written some of these entries first: only the blocks this edit added are ours.
            ours = {pair[1] for block in edit.added if (pair := notes.entry_of_block(block))}
            for outcome in report.outcomes:
                outcome.written = outcome.ok and outcome.key in ours
        return report

    def run_queue(
        self,
        folder: Path,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        critic: Critic | None = None,
        max_cost_usd: float | None = None,
        force: bool = False,
    ) -> list[RunReport]:
        """Triage the queue of a folder of notes: every paper they mention that none of them has an entry for.

        Each paper's entry goes to the note that mentioned it first, so a paper
        skimmed in one note is not skimmed again in another.  One report per note
        written to, in path order; unreadable notes are skipped (``read_notes``).
        """
        from triage import notes

        found, _unreadable = notes.read_notes(folder, max_bytes=self.settings.limits.note_bytes)
        self.library()  # as in run_note: an unreadable library is said once
        if not dry_run:
            for note in found:  # the reader's decisions in every note, also those with nothing queued
                self.sync_note(note)
        by_note: dict[Path, set[str]] = {}
        for queued in notes.build_queue(found):
            first_note = queued.mentions[0][0]
            if first_note is not None and self.is_citekey(queued.key):
                by_note.setdefault(first_note, set()).add(queued.key)
        spent = 0.0
        reports = []
        for path in sorted(by_note):
            left = None if max_cost_usd is None else max(0.0, max_cost_usd - spent)
            report = self.run_note(path, dry_run=dry_run, progress=progress, critic=critic, max_cost_usd=left,
                                   only=by_note[path], force=force)
            spent += sum(o.verdict.cost_usd for o in report.outcomes if o.verdict and not o.cached)
            reports.append(report)
        return reports

    def _mark_error(self, key: str, reason: str) -> None:
        """A paper the critic could not judge: status ``error`` with the reason (a later run retries it)."""
        record = self._state.get(key)
        if record is not None and record.status in (Status.QUEUED, Status.ERROR):
            self._state.set_status(key, Status.ERROR, actor="critic", reason=reason[:500])

    def _triage_into_note(self, identifier: str, note_path: Path, *, critic: Critic | None = None) -> Outcome:
        """Triage one paper and append its entries to the note, unless the log has it already."""
        from triage import notes

        # The note takes the entries before the verdict moves the status: when it cannot
        # (moved, unwritable, kept changing), the paper stays as it was and the error says why.
        note = self._note_ready(note_path)
        paper, sections = self.add(identifier)
        verdict, cached = self.judge(paper, sections, critic=critic)
        logged = paper.key in note.entry_keys()
        blocks = self._logged_entry_blocks(paper, verdict, note) if logged else self._entry_blocks(paper, sections, verdict, note_path)
        written = False
        if blocks:
            written = notes.append_to_log(note_path, blocks, backup_dir=self.settings.backups_dir,
                                          expected_text=note.text, temp_dir=self.settings.tmp_dir).written
        self._apply_verdict(paper, verdict)
        message = ("already in the log" + ("; the critic's decision added" if written else "")) if logged else ""
        return Outcome(key=paper.key, ok=True, message=message, verdict=verdict, cached=cached, written=written)

    def _logged_entry_blocks(self, paper: Paper, verdict: Verdict, note) -> list[str]:
        """For a paper the reader logged by hand: the entry that says what the verdict changes, if the note lacks it.

        The critic moves only papers nobody decided on (``_apply_verdict``); when it
        promotes or drops one, the note gets the ``read`` entry, or the verdict line, the
        critic's markers included.
        """
        from triage import entries, notes

        record = self._state.get(paper.key)
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
        from triage.obsidian import attachment_folder

        wikilink = self.settings.notes.wikilinks
        snapshot = None if dry_run else self._snapshot(paper, sections, attachment_folder(note_path))
        blocks = [entries.skim_entry(paper, sections, verdict, snapshot=snapshot, note_dir=note_path.resolve().parent,
                                     wikilink=wikilink)]
        if verdict.decision is Decision.READ:
            blocks.append(entries.promotion_entry(paper.key, f"{entries.CRITIC_PROMOTION} ({verdict.critic})",
                                                  wikilink=wikilink))
        return blocks

    def _snapshot(self, paper: Paper, sections: Sections, asset_dir: Path) -> Path | None:
        """PNG of the conclusion region in the note's attachment folder, as the reader pastes one."""
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
        """Counts per status, those the reader decided, and where the data lives."""
        return {"home": str(self.settings.home), "papers": self._state.counts(), "by_reader": self._state.reader_counts()}

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
        if self._state_db is not None:
            self._state_db.close()

