"""The LLM critic: judge, self-critique and revise, check the evidence, decide by rule.

One verdict is two calls through ``endpoint.Endpoint`` (which negotiates the JSON
mode the server supports, retries, and stops calling a dead endpoint):

1. **judge** — per principle 1-3 quotes copied from the abstract or conclusion,
   a rationale, then a score on the anchored 0 / 3 / 6 / 10 scale or null
   ("insufficient evidence").  With ``llm.samples > 1`` the judge call is made
   that many times at ``llm.sample_temperature``; the median score per principle
   is kept (with that sample's quotes) and the samples' spread lowers the confidence;
2. **revise** — the model reviews its draft against ``prompts/meta_principles.md``
   and returns revised scores and what changed and why.  The draft repeats paper
   text, so it is fenced as untrusted too.

Then, in code: sentences of the paper that address a model with instructions
(``injection.find_injections``) are never quotes and cap the decision at skim;
every quote is matched against the extracted text (``evidence.verify_scores``:
one bad quote costs that quote, a principle with no verified quote is flagged);
an answer whose evidence fails almost everywhere is ``NotJudged`` (no verdict,
nothing cached or written); and ``decide.rule`` gives the score, decision and
confidence.

Answers are parsed strictly: the first JSON object of the text, validated by
pydantic models in strict mode (a score must be an integer 0-10 or null, not
"7").  A malformed answer gets exactly one repair call that says what was wrong;
an answer cut by the token limit gets one more call with twice the budget.
Every token is charged, used or not.

Only the abstract and conclusion ever reach the model, inside the
``<paper_untrusted>`` fence (see ``prompts.fence_untrusted``).  Every call is
recorded in a trace (messages, mode, raw answers, usage, retries, errors) written
as JSON next to the state, one file per verdict cache key, so ``triage explain
KEY`` can show how a verdict came about.  Traces are files rather than SQLite
rows because they are large, read only when the reader asks, and cheap to delete
without touching the audit trail.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from triage.atomic import write_atomic
from triage.config import LLMSettings
from triage.critic.constitution import Constitution
from triage.critic.decide import evidence_failure, rule
from triage.critic.endpoint import CallLog, Endpoint, Reply
from triage.critic.evidence import verify_quote, verify_scores
from triage.critic.injection import find_injections, overlaps
from triage.critic.prompts import DRAFT_TAG, FENCE_TAG, PROMPT_VERSION, Template, fence_untrusted, load_templates
from triage.errors import NotJudged, TriageError
from triage.models import Paper, PrincipleScore, Quote, Sections, TokenUsage, Verdict

__all__ = [
    "LLMCritic",
    "JudgeAnswer",
    "RevisionAnswer",
    "answer_schema",
    "estimate_tokens",
    "trace_path",
    "read_trace",
    "MAX_ABSTRACT_CHARS",
    "MAX_CONCLUSION_CHARS",
    "INJECTION_CAP",
]

MAX_ABSTRACT_CHARS = 3000
MAX_CONCLUSION_CHARS = 5000
"""Caps that keep the judge prompt under ~3,000 tokens whatever the paper; quotes are still checked against the full text."""

MAX_QUOTES = 3
INJECTION_CAP = "the paper addresses the model with instructions: held at skim"
REPAIR_MESSAGE = (
    "Your previous answer could not be used: {reason}. Answer again with only a JSON object that matches the "
    "schema exactly: one item per principle id ({ids}), each with quotes (1 to 3 passages copied verbatim from "
    "inside the fence), rationale, and score (an integer 0-10, or null)."
)


# -- what the model must answer ------------------------------------------------------


class JudgedPrinciple(BaseModel):
    """The model's judgement of one principle: quotes first, then the rationale, then the score."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    quotes: list[str]
    rationale: str
    score: int | None


class JudgeAnswer(BaseModel):
    """The judge call's answer."""

    model_config = ConfigDict(extra="forbid", strict=True)

    principles: list[JudgedPrinciple]


class ScoreChange(BaseModel):
    """One score the revision changed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    old_score: int | None
    new_score: int | None
    why: str


class RevisionAnswer(BaseModel):
    """The self-critique and revision call's answer."""

    model_config = ConfigDict(extra="forbid", strict=True)

    critique: str
    principles: list[JudgedPrinciple]
    changes: list[ScoreChange]


_NULLABLE_INT = {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def answer_schema(stage: str, ids: list[str], *, grammar: bool = False) -> dict:
    """The JSON schema of a stage's answer, principle ids enumerated.

    ``grammar`` adds the bounds a server-side grammar can enforce (one item per
    principle, scores 0-10, at most three quotes, strings of at most 400
    characters) but OpenAI's strict mode does not accept; the models above check
    the first three either way.
    """
    score = ({"anyOf": [{"type": "integer", "minimum": 0, "maximum": 10}, {"type": "null"}]} if grammar
             else _NULLABLE_INT)
    # A small model under a grammar can ramble inside a string until the token limit: bound the strings.
    text = {"type": "string", "maxLength": 400} if grammar else {"type": "string"}
    quotes: dict[str, Any] = {"type": "array", "items": text}
    if grammar:
        quotes["maxItems"] = MAX_QUOTES
    item = {
        "type": "object",
        "properties": {"id": {"type": "string", "enum": ids}, "quotes": quotes, "rationale": text, "score": score},
        "required": ["id", "quotes", "rationale", "score"],
        "additionalProperties": False,
    }
    principles: dict[str, Any] = {"type": "array", "items": item}
    if grammar:
        principles.update(minItems=len(ids), maxItems=len(ids))
    properties: dict[str, Any] = {"principles": principles}
    if stage == "revise":
        change = {
            "type": "object",
            "properties": {"id": {"type": "string", "enum": ids}, "old_score": _NULLABLE_INT,
                           "new_score": _NULLABLE_INT, "why": text},
            "required": ["id", "old_score", "new_score", "why"],
            "additionalProperties": False,
        }
        changes: dict[str, Any] = {"type": "array", "items": change}
        if grammar:
            changes["maxItems"] = len(ids)
        properties = {"critique": text, "principles": principles, "changes": changes}
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


# -- tokens, traces ---------------------------------------------------------------------


def estimate_tokens(text: str) -> int:
    """A conservative token estimate for budgeting (no tokenizer download needed).

    English prose runs about four characters per BPE token; dividing by 3.5
    over-estimates, so the budget stops early rather than late.
    """
    return math.ceil(len(text) / 3.5)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]


def trace_path(trace_dir: Path, paper_hash: str, constitution_hash: str, critic: str, prompt_version: str) -> Path:
    """Where the trace of the verdict with this cache key lives."""
    return trace_dir / f"{_slug(paper_hash[:24])}_{_slug(constitution_hash)}_{_slug(critic)}_{_slug(prompt_version)}.json"


def read_trace(path: Path) -> dict | None:
    """A stored trace, or None when there is none (or it is unreadable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class _Run(CallLog):
    """Per-verdict bookkeeping: the call log plus repairs and the mode the answers came in."""

    def __init__(self) -> None:
        super().__init__()
        self.repairs = 0
        self.mode = ""
        self.reserve_more: Callable[[float], None] = lambda usd: None


# -- the critic -----------------------------------------------------------------------


class LLMCritic:
    """Judges papers with an LLM (any OpenAI-compatible endpoint or langchain provider); implements ``Critic``."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        http_client: Any = None,
        trace_dir: Path | None = None,
        prompts_dir: Path | None = None,
        capabilities_file: Path | None = None,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``http_client`` (an ``httpx.Client``) points the calls anywhere; ``trace_dir`` keeps traces;
        ``capabilities_file`` remembers which JSON mode each endpoint accepts."""
        self.settings = settings
        self.name = f"llm:{settings.model}"
        self.templates: dict[str, Template] = load_templates(prompts_dir)
        version = PROMPT_VERSION if prompts_dir is None else _version_for(prompts_dir)
        # More samples make a different verdict: not the same cache entry.
        self.prompt_version = version if settings.samples == 1 else f"{version}+s{settings.samples}"
        self.trace_dir = trace_dir
        self.endpoint = Endpoint(settings, http_client=http_client, capabilities_file=capabilities_file,
                                 backoff_base_s=backoff_s, sleep=sleep)

    @property
    def calls_made(self) -> int:
        """HTTP requests sent (including retries, repairs and mode probes), for tests and benches."""
        return self.endpoint.calls_made

    # -- prompts --------------------------------------------------------------

    @staticmethod
    def render_principles(constitution: Constitution) -> str:
        """The principles as the prompts list them: ``- id (weight W[, against]): statement``."""
        lines = []
        for p in constitution.principles:
            against = ", against" if p.against else ""
            lines.append(f"- {p.id} (weight {p.weight:g}{against}): {p.statement}")
        return "\n".join(lines)

    @staticmethod
    def render_paper(paper: Paper, sections: Sections) -> str:
        """Title, abstract and conclusion only (never the full text), fenced as untrusted data."""
        abstract = _cap(sections.abstract or paper.abstract, MAX_ABSTRACT_CHARS)
        conclusion = _cap(sections.conclusion, MAX_CONCLUSION_CHARS)
        heading = sections.conclusion_heading or "Conclusion"
        title = " ".join((sections.title or paper.title).split())
        body = f"Title: {title}\n\nAbstract:\n{abstract or '(not found)'}\n\n{heading}:\n{conclusion or '(not found)'}"
        return fence_untrusted(body)

    def judge_messages(self, paper: Paper, sections: Sections, constitution: Constitution) -> tuple[str, str]:
        """The judge call's system and user messages."""
        return self.templates["judge"].render(
            fence_tag=FENCE_TAG,
            principles=self.render_principles(constitution),
            paper=self.render_paper(paper, sections),
        )

    def revise_messages(
        self, paper: Paper, sections: Sections, constitution: Constitution, draft: JudgeAnswer, source: str,
        injections: list[str] | None = None,
    ) -> tuple[str, str]:
        """The revision call's messages; the draft carries the code's quote check, so the model sees its misses."""
        items = []
        for p in draft.principles:
            quotes: list[dict[str, Any]] = []
            for q in p.quotes:
                shown: dict[str, Any] = {"text": q, "found_verbatim_in_paper": verify_quote(q, source)}
                if injections and overlaps(q, injections):
                    shown["planted_instruction"] = True
                quotes.append(shown)
            items.append({"id": p.id, "quotes": quotes, "rationale": p.rationale, "score": p.score})
        draft_text = json.dumps({"principles": items}, ensure_ascii=False, indent=1)
        return self.templates["revise"].render(
            fence_tag=FENCE_TAG,
            draft_tag=DRAFT_TAG,
            meta_principles=self.templates["meta_principles"].text,
            principles=self.render_principles(constitution),
            paper=self.render_paper(paper, sections),
            draft=fence_untrusted(draft_text, DRAFT_TAG),
        )

    def estimate_cost(self, paper: Paper, sections: Sections, constitution: Constitution) -> float:
        """Upper estimate, in USD, of one verdict (``samples`` judge calls + the revision) from the prompt length.

        The completion is bounded by ``max_tokens``; the revision prompt is the
        judge prompt plus the meta-principles and a draft no longer than a completion.
        """
        system, user = self.judge_messages(paper, sections, constitution)
        prompt = estimate_tokens(system + user)
        if self.endpoint.mode not in ("json_schema", "tools"):  # the schema travels in the prompt
            prompt += estimate_tokens(json.dumps(answer_schema("revise", [p.id for p in constitution.principles])))
        completion = self._max_tokens(constitution)
        revise_prompt = prompt + estimate_tokens(self.templates["revise"].system + self.templates["meta_principles"].text)
        revise_prompt += completion
        samples = self.settings.samples
        return self.cost(TokenUsage(prompt=samples * prompt + revise_prompt, completion=(samples + 1) * completion))

    def cost(self, usage: TokenUsage) -> float:
        """USD for this usage under the configured price table."""
        s = self.settings
        return (usage.prompt * s.price_per_mtok_prompt + usage.completion * s.price_per_mtok_completion) / 1e6

    def _call_cost(self, messages: list[tuple[str, str]], max_tokens: int) -> float:
        """Upper estimate of one more call with these messages (the schema in the prompt included)."""
        prompt = estimate_tokens("".join(text for _, text in messages)) + 600
        return self.cost(TokenUsage(prompt=prompt, completion=max_tokens))

    @staticmethod
    def _max_tokens(constitution: Constitution) -> int:
        # Room for a rationale and three quotes per principle, plus the critique.
        return 400 + 300 * len(constitution.principles)

    # -- the verdict ----------------------------------------------------------

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution, *, budget: Any = None) -> Verdict:
        """Judge, revise, check the evidence, decide. ``budget`` (``batch.Budget``) is charged first.

        ``NotJudged`` (exit 3) when the answers judge nothing usable or the
        endpoint is down; ``CriticError`` when the endpoint keeps failing.
        """
        run = _Run()
        reserved = 0.0
        if budget is not None:
            reserved = budget.reserve(self.estimate_cost(paper, sections, constitution), paper.key)

        def reserve_more(usd: float) -> None:
            # A repair or a longer try is a call the estimate did not count: held before it is made, so the
            # run still stops before its cap rather than after.
            nonlocal reserved
            if budget is not None:
                reserved += budget.reserve(usd, paper.key)

        run.reserve_more = reserve_more
        abstract = sections.abstract or paper.abstract
        source = f"{abstract}\n{sections.conclusion}"
        injections = find_injections(abstract, sections.conclusion)
        verdict: Verdict | None = None
        error: str | None = None
        revision_answer: RevisionAnswer | None = None
        try:
            system, user = self.judge_messages(paper, sections, constitution)
            samples = self.settings.samples
            temperature = self.settings.sample_temperature if samples > 1 else None
            drafts = [self._call("judge", JudgeAnswer, system, user, constitution, run, temperature)
                      for _ in range(samples)]
            draft, spread = _combine(drafts, constitution) if samples > 1 else (drafts[0], 0.0)
            system, user = self.revise_messages(paper, sections, constitution, draft, source, injections)
            revision_answer = self._call("revise", RevisionAnswer, system, user, constitution, run, None)
            verdict = self._verdict(paper, sections, constitution, draft, revision_answer, source, run,
                                    injections, spread)
            return verdict
        except NotJudged as exc:
            error = f"@{paper.key} not judged: {exc.message}"
            raise NotJudged(error, exc.hint, external=exc.exit_code != NotJudged.exit_code) from exc
        except TriageError as exc:
            error = str(exc)
            raise
        finally:
            if budget is not None:
                budget.settle(reserved, self.cost(run.usage))
            self._save_trace(paper, sections, constitution, run, verdict, revision_answer, error, injections)

    def _verdict(
        self,
        paper: Paper,
        sections: Sections,
        constitution: Constitution,
        draft: JudgeAnswer,
        revised: RevisionAnswer,
        source: str,
        run: _Run,
        injections: list[str],
        spread: float,
    ) -> Verdict:
        by_id = {p.id: p for p in revised.principles}
        scores = []
        for principle in constitution.principles:
            answer = by_id[principle.id]
            # A planted instruction is never evidence, however exactly it is quoted.
            quotes = [q for q in answer.quotes if not overlaps(q, injections)][:MAX_QUOTES]
            scores.append(
                PrincipleScore(
                    id=principle.id,
                    score=None if answer.score is None else float(answer.score),
                    weight=principle.weight,
                    against=principle.against,
                    rationale=answer.rationale.strip(),
                    quotes=[Quote(text=q) for q in quotes],
                )
            )
        scores = verify_scores(scores, source)
        if failure := evidence_failure(scores):
            raise NotJudged(failure, hint="run again with --force, or try a stronger model", external=True)
        ruling = rule(scores, constitution, spread=spread, caps=[INJECTION_CAP] if injections else [])
        return Verdict(
            key=paper.key,
            decision=ruling.decision,
            score=ruling.score,
            confidence=ruling.confidence,
            critic=self.name,
            principles=scores,
            revision=_revision_text(draft, revised),
            llm_mode=run.mode,
            injections=injections,
            held_back=list(ruling.held_back),
            tokens=run.usage,
            cost_usd=round(self.cost(run.usage), 6),
            constitution_hash=constitution.hash,
            paper_hash=sections.sha256,
            prompt_version=self.prompt_version,
            basis=sections.basis,
        )

    # -- one answer, with one repair and one longer try -----------------------

    def _call(
        self,
        stage: str,
        model: type[JudgeAnswer] | type[RevisionAnswer],
        system: str,
        user: str,
        constitution: Constitution,
        run: _Run,
        temperature: float | None,
    ) -> Any:
        ids = [p.id for p in constitution.principles]
        schema = answer_schema(stage, ids)
        messages: list[tuple[str, str]] = [("system", system), ("user", user)]
        max_tokens = self._max_tokens(constitution)
        repaired = extended = False
        while True:
            reply = self.endpoint.ask(stage, schema, messages, max_tokens=max_tokens, log=run, temperature=temperature,
                                      grammar_schema=answer_schema(stage, ids, grammar=True))
            run.mode = reply.mode
            parsed, reason = _validated(reply, model, ids)
            run.calls[-1]["problem"] = reason
            if reason is None:
                return parsed
            if reply.finish_reason == "length":
                if extended:
                    raise NotJudged(f"{stage}: the answer was cut at the {max_tokens}-token limit twice "
                                    "(finish_reason: length)", hint="use a model that answers more briefly, or one "
                                    "with a larger context window", external=True)
                # Cut short, not wrong: the same question with twice the room.
                extended = True
                max_tokens *= 2
                run.reserve_more(self._call_cost(messages, max_tokens))
                continue
            if repaired:
                raise NotJudged(f"{stage}: malformed answer after one repair retry: {reason}",
                                hint="try another model, or one that supports structured output (json_schema)",
                                external=True)
            repaired = True
            run.repairs += 1
            messages = [*messages, ("assistant", reply.text or "(empty answer)"),
                        ("user", REPAIR_MESSAGE.format(reason=reason, ids=", ".join(ids)))]
            run.reserve_more(self._call_cost(messages, max_tokens))

    # -- the trace ------------------------------------------------------------

    def _save_trace(
        self,
        paper: Paper,
        sections: Sections,
        constitution: Constitution,
        run: _Run,
        verdict: Verdict | None,
        revision: RevisionAnswer | None,
        error: str | None,
        injections: list[str],
    ) -> None:
        if self.trace_dir is None:
            return
        trace = {
            "key": paper.key,
            "critic": self.name,
            "prompt_version": self.prompt_version,
            "paper_hash": sections.sha256,
            "constitution_hash": constitution.hash,
            "at": datetime.now(UTC).isoformat(),
            "ok": verdict is not None,
            "error": error,
            "mode": run.mode,
            "samples": self.settings.samples,
            "timeout_s": self.settings.timeout_s,
            "retries": run.retries,
            "repairs": run.repairs,
            "tokens": run.usage.model_dump(),
            "cost_usd": round(self.cost(run.usage), 6),
            "injections": injections,
            "calls": run.calls,
            "revision": revision.model_dump() if revision else None,
            "verdict": verdict.model_dump(mode="json") if verdict else None,
        }
        path = trace_path(self.trace_dir, sections.sha256 or paper.key, constitution.hash, self.name, self.prompt_version)
        try:
            write_atomic(path, json.dumps(trace, ensure_ascii=False, indent=1, default=str))
        except OSError:
            pass  # a trace is for explaining; losing one must not lose the verdict


# -- helpers ----------------------------------------------------------------------------


def _version_for(directory: Path) -> str:
    from triage.critic.prompts import prompt_version

    return prompt_version(directory)


def _cap(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return (cut[: end + 1] if end > limit // 2 else cut) + " […]"


def _validated(reply: Reply, model: type[BaseModel], ids: list[str]) -> tuple[Any, str | None]:
    """The answer as ``model``, or why it cannot be used."""
    if reply.problem is not None:
        cut = " (the answer was cut by the token limit)" if reply.finish_reason == "length" else ""
        return None, reply.problem + cut
    try:
        parsed = model.model_validate(reply.data)
    except ValidationError as exc:
        return None, "does not match the schema: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]
        )
    return parsed, _check_principles(parsed.principles, ids)  # type: ignore[attr-defined]


def _short(value: Any, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _check_principles(items: list[JudgedPrinciple], ids: list[str]) -> str | None:
    got = [p.id for p in items]
    problems = []
    if missing := [i for i in ids if i not in got]:
        problems.append(f"missing principle(s) {', '.join(missing)}")
    if unknown := [i for i in got if i not in ids]:
        problems.append(f"unknown principle id(s) {', '.join(unknown)}")
    if dupes := sorted({i for i in got if got.count(i) > 1}):
        problems.append(f"duplicate principle id(s) {', '.join(dupes)}")
    if bad := [p.id for p in items if p.score is not None and not 0 <= p.score <= 10]:
        problems.append(f"score out of 0-10 for {', '.join(bad)}")
    return "; ".join(problems) or None


def _combine(drafts: list[JudgeAnswer], constitution: Constitution) -> tuple[JudgeAnswer, float]:
    """Self-consistency: per principle the median of the samples (a null when most said null), and the spread.

    The kept item is a sample's own (its quotes and rationale match its score);
    the spread is the weighted mean range of the samples' scores, a null counting as 0.
    """
    chosen = []
    spread_total = weight_total = 0.0
    for principle in constitution.principles:
        versions = [next(p for p in d.principles if p.id == principle.id) for d in drafts]
        numeric = [p.score for p in versions if p.score is not None]
        if 2 * len(numeric) <= len(versions):
            chosen.append(next(p for p in versions if p.score is None))
        else:
            median = statistics.median_low(numeric)
            chosen.append(next(p for p in versions if p.score == median))
        values = [p.score or 0 for p in versions]
        spread_total += principle.weight * (max(values) - min(values))
        weight_total += principle.weight
    return JudgeAnswer(principles=chosen), round(spread_total / weight_total, 2) if weight_total else 0.0


def _revision_text(draft: JudgeAnswer, revised: RevisionAnswer) -> str:
    """What the self-critique found and changed, for the verdict and the reader."""
    before = {p.id: p.score for p in draft.principles}
    lines = [" ".join(revised.critique.split())]
    reported = set()
    for change in revised.changes:
        reported.add(change.id)
        lines.append(f"{change.id}: {_fmt(change.old_score)} -> {_fmt(change.new_score)}: {' '.join(change.why.split())}")
    # The model's own list of changes is not trusted to be complete.
    for p in revised.principles:
        if p.id not in reported and before.get(p.id) != p.score:
            lines.append(f"{p.id}: {_fmt(before.get(p.id))} -> {_fmt(p.score)} (not explained by the revision)")
    return "\n".join(line for line in lines if line)


def _fmt(score: int | None) -> str:
    return "n/a" if score is None else str(score)
