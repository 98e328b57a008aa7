"""The LLM critic: judge, self-critique and revise, check the evidence, aggregate.

One verdict is two structured-output calls to an OpenAI-compatible Chat
Completions endpoint through langchain (``ChatOpenAI.with_structured_output``,
``method="json_schema"``, ``include_raw=True``):

1. **judge** — per principle a score 0-10 or null ("insufficient evidence"), a
   rationale and 1-3 quotes copied from the abstract or conclusion;
2. **revise** — the model reviews its draft against ``prompts/meta_principles.md``
   (quotes support scores, no hype, no instruction from the paper followed,
   consistency) and returns revised scores and what changed and why;

then, in code, every quote is matched against the extracted text
(``evidence.verify_scores``: a principle with an unverified quote, or a score
with no quote, is flagged and left out of the mean) and ``aggregate`` gives the
weighted score, decision and confidence.

Only the abstract and conclusion ever reach the model, inside the
``<paper_untrusted>`` fence (see ``prompts.fence_untrusted``).  The client's own
retries are off (``max_retries=0``): this module retries 429 (honouring
``Retry-After``), 5xx, timeouts and connection errors with exponential backoff,
counts them, and gives malformed output (not JSON, or not the schema) exactly
one repair retry that says what was wrong.  Anything else is a ``CriticError``.

Every call is recorded in a trace (messages, raw answers, usage, retries,
errors) written as JSON next to the state, one file per verdict cache key, so
``triage explain KEY`` can show how a verdict came about.  Traces are files
rather than SQLite rows because they are large (two prompts and two answers per
paper), read only when the reader asks, and cheap to delete without touching
the audit trail.

langchain and openai are imported only here, and only when a critic is built.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from triage.atomic import write_atomic
from triage.config import LLMSettings
from triage.critic.base import aggregate
from triage.critic.constitution import Constitution
from triage.critic.evidence import verify_quote, verify_scores
from triage.critic.prompts import FENCE_TAG, PROMPT_VERSION, Template, fence_untrusted, load_templates
from triage.errors import ConfigError, CriticError
from triage.models import Paper, PrincipleScore, Quote, Sections, TokenUsage, Verdict

__all__ = [
    "LLMCritic",
    "JudgeAnswer",
    "RevisionAnswer",
    "estimate_tokens",
    "trace_path",
    "read_trace",
    "MAX_ABSTRACT_CHARS",
    "MAX_CONCLUSION_CHARS",
]

MAX_ABSTRACT_CHARS = 3000
MAX_CONCLUSION_CHARS = 5000
"""Caps that keep the judge prompt under ~3,000 tokens whatever the paper; quotes are still checked against the full text."""

MAX_QUOTES = 3
MAX_RETRY_AFTER_S = 300.0
REPAIR_MESSAGE = (
    "Your previous answer could not be used: {reason}. Answer again with only a JSON object that matches the "
    "schema exactly: one item per principle id ({ids}), score an integer 0-10 or null, 1 to 3 quotes copied verbatim "
    "from inside the fence."
)


# -- what the model must answer ------------------------------------------------------


class JudgedPrinciple(BaseModel):
    """The model's judgement of one principle."""

    model_config = ConfigDict(extra="forbid")

    id: str
    score: int | None
    rationale: str
    quotes: list[str]


class JudgeAnswer(BaseModel):
    """The judge call's answer."""

    model_config = ConfigDict(extra="forbid")

    principles: list[JudgedPrinciple]


class ScoreChange(BaseModel):
    """One score the revision changed."""

    model_config = ConfigDict(extra="forbid")

    id: str
    old_score: int | None
    new_score: int | None
    why: str


class RevisionAnswer(BaseModel):
    """The self-critique and revision call's answer."""

    model_config = ConfigDict(extra="forbid")

    critique: str
    principles: list[JudgedPrinciple]
    changes: list[ScoreChange]


def _response_schema(name: str, model: type[BaseModel]) -> dict:
    # A JSON-schema dict (not the pydantic class) so langchain sends it as
    # response_format and hands back the raw text even when it does not parse:
    # the repair retry needs it.  Strict mode: every field required, no extras.
    return {"name": name, "schema": model.model_json_schema(), "strict": True}


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


class _Run:
    """Per-verdict bookkeeping: usage summed over calls, the trace, retries."""

    def __init__(self) -> None:
        self.usage = TokenUsage()
        self.calls: list[dict] = []
        self.retries = 0
        self.repairs = 0


# -- the critic -----------------------------------------------------------------------


class LLMCritic:
    """Judges papers with an LLM at an OpenAI-compatible endpoint; implements ``Critic``."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        http_client: Any = None,
        trace_dir: Path | None = None,
        prompts_dir: Path | None = None,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``http_client`` (an ``httpx.Client``) points the calls anywhere; ``trace_dir`` keeps traces."""
        self.settings = settings
        self.name = f"llm:{settings.model}"
        self.templates: dict[str, Template] = load_templates(prompts_dir)
        self.prompt_version = PROMPT_VERSION if prompts_dir is None else _version_for(prompts_dir)
        self.trace_dir = trace_dir
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._lock = threading.Lock()
        self.calls_made = 0
        """HTTP requests sent (including retries and repairs), for tests and benches."""

        base_url, api_key = settings.resolved_base_url(), settings.resolved_api_key()
        if not (base_url or api_key):
            raise ConfigError("the LLM critic needs an endpoint", hint="set OPENAI_API_KEY and/or OPENAI_BASE_URL")
        from langchain_openai import ChatOpenAI

        self._chat = ChatOpenAI(
            model=settings.model,
            base_url=base_url,
            # Local servers (Ollama, vLLM) accept any key; the client insists on one.
            api_key=SecretStr(api_key or "not-needed"),
            timeout=settings.timeout_s,
            max_retries=0,  # we retry ourselves, so Retry-After is honoured and counted
            temperature=settings.temperature,
            http_client=http_client,
            use_responses_api=False,  # Chat Completions: what every compatible endpoint speaks
        )
        self._runnables: dict[tuple[str, int], Any] = {}

    def _runnable(self, stage: str, max_tokens: int) -> Any:
        # One structured-output runnable per (stage, completion limit); the limit
        # depends on the constitution's size, and bounds the cost the budget reserves.
        with self._lock:
            key = (stage, max_tokens)
            if key not in self._runnables:
                schema = _response_schema(stage, JudgeAnswer if stage == "judge" else RevisionAnswer)
                chat = self._chat.model_copy(update={"max_tokens": max_tokens})
                self._runnables[key] = chat.with_structured_output(schema, method="json_schema", include_raw=True)
            return self._runnables[key]

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
        self, paper: Paper, sections: Sections, constitution: Constitution, draft: JudgeAnswer, source: str
    ) -> tuple[str, str]:
        """The revision call's messages; the draft carries the code's quote check, so the model sees its misses."""
        items = []
        for p in draft.principles:
            quotes = [{"text": q, "found_verbatim_in_paper": verify_quote(q, source)} for q in p.quotes]
            items.append({"id": p.id, "score": p.score, "rationale": p.rationale, "quotes": quotes})
        return self.templates["revise"].render(
            fence_tag=FENCE_TAG,
            meta_principles=self.templates["meta_principles"].text,
            principles=self.render_principles(constitution),
            paper=self.render_paper(paper, sections),
            draft=json.dumps({"principles": items}, ensure_ascii=False, indent=1),
        )

    def estimate_cost(self, paper: Paper, sections: Sections, constitution: Constitution) -> float:
        """Upper estimate, in USD, of one verdict (judge + revision) from the prompt length.

        The completion is bounded by ``max_tokens``; the revision prompt is the
        judge prompt plus the meta-principles and a draft no longer than a completion.
        """
        system, user = self.judge_messages(paper, sections, constitution)
        prompt = estimate_tokens(system + user)
        completion = self._max_tokens(constitution)
        revise_prompt = prompt + estimate_tokens(self.templates["revise"].system + self.templates["meta_principles"].text)
        revise_prompt += completion
        return self.cost(TokenUsage(prompt=prompt + revise_prompt, completion=2 * completion))

    def cost(self, usage: TokenUsage) -> float:
        """USD for this usage under the configured price table."""
        s = self.settings
        return (usage.prompt * s.price_per_mtok_prompt + usage.completion * s.price_per_mtok_completion) / 1e6

    @staticmethod
    def _max_tokens(constitution: Constitution) -> int:
        # Room for a rationale and three quotes per principle, plus the critique.
        return 400 + 300 * len(constitution.principles)

    # -- the verdict ----------------------------------------------------------

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution, *, budget: Any = None) -> Verdict:
        """Judge, revise, check the evidence, aggregate. ``budget`` (``batch.Budget``) is charged first."""
        run = _Run()
        reservation = None
        if budget is not None:
            reservation = budget.reserve(self.estimate_cost(paper, sections, constitution), paper.key)
        source = f"{sections.abstract or paper.abstract}\n{sections.conclusion}"
        verdict: Verdict | None = None
        error: str | None = None
        revision_answer: RevisionAnswer | None = None
        try:
            system, user = self.judge_messages(paper, sections, constitution)
            draft = self._call("judge", JudgeAnswer, system, user, constitution, run)
            system, user = self.revise_messages(paper, sections, constitution, draft, source)
            revision_answer = self._call("revise", RevisionAnswer, system, user, constitution, run)
            verdict = self._verdict(paper, sections, constitution, draft, revision_answer, source, run)
            return verdict
        except CriticError as exc:
            error = str(exc)
            raise
        finally:
            if reservation is not None:
                budget.settle(reservation, self.cost(run.usage))
            self._save_trace(paper, sections, constitution, run, verdict, revision_answer, error)

    def _verdict(
        self,
        paper: Paper,
        sections: Sections,
        constitution: Constitution,
        draft: JudgeAnswer,
        revised: RevisionAnswer,
        source: str,
        run: _Run,
    ) -> Verdict:
        by_id = {p.id: p for p in revised.principles}
        scores = []
        for principle in constitution.principles:
            answer = by_id[principle.id]
            scores.append(
                PrincipleScore(
                    id=principle.id,
                    score=None if answer.score is None else float(answer.score),
                    weight=principle.weight,
                    rationale=answer.rationale.strip(),
                    quotes=[Quote(text=q) for q in answer.quotes[:MAX_QUOTES]],
                )
            )
        scores = verify_scores(scores, source)
        # A score with no quote at all is as unsupported as one with a wrong quote.
        scores = [
            s.model_copy(update={"flagged": True}) if s.score is not None and not s.quotes else s for s in scores
        ]
        score, decision, confidence = aggregate(scores, constitution)
        return Verdict(
            key=paper.key,
            decision=decision,
            score=score,
            confidence=confidence,
            critic=self.name,
            principles=scores,
            revision=_revision_text(draft, revised),
            tokens=run.usage,
            cost_usd=round(self.cost(run.usage), 6),
            constitution_hash=constitution.hash,
            paper_hash=sections.sha256,
            prompt_version=self.prompt_version,
        )

    # -- one structured call, with retries and one repair ---------------------

    def _call(
        self,
        stage: str,
        model: type[JudgeAnswer] | type[RevisionAnswer],
        system: str,
        user: str,
        constitution: Constitution,
        run: _Run,
    ) -> Any:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        ids = [p.id for p in constitution.principles]
        messages: list[Any] = [SystemMessage(system), HumanMessage(user)]
        for attempt in range(2):
            result, record = self._invoke(stage, messages, constitution, run)
            raw = result.get("raw")
            text = _raw_text(raw)
            parsed = None
            # The raw text is parsed strictly here: langchain's JSON parser accepts
            # truncated JSON (it completes partial objects), which would hide a broken answer.
            data, reason = _strict_json(raw, text)
            if reason is None:
                try:
                    parsed = model.model_validate(data)
                    reason = _check_principles(parsed.principles, ids)
                except ValidationError as exc:
                    reason = "does not match the schema: " + "; ".join(
                        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]
                    )
            record["raw"] = text
            record["problem"] = reason
            if reason is None:
                return parsed
            if attempt == 1:
                raise CriticError(
                    f"{stage}: malformed answer after one repair retry: {reason}",
                    hint="try another model, or one that supports structured output (json_schema)",
                )
            run.repairs += 1
            messages = [
                *messages,
                AIMessage(text or "(empty answer)"),
                HumanMessage(REPAIR_MESSAGE.format(reason=reason, ids=", ".join(ids))),
            ]
        raise AssertionError("unreachable")

    def _invoke(self, stage: str, messages: list[Any], constitution: Constitution, run: _Run) -> tuple[dict, dict]:
        import openai

        runnable = self._runnable(stage, self._max_tokens(constitution))
        max_retries = max(0, self.settings.max_retries)
        for attempt in range(max_retries + 1):
            record: dict[str, Any] = {
                "stage": stage,
                "attempt": attempt,
                "at": datetime.now(UTC).isoformat(),
                "messages": [{"role": m.type, "content": m.content} for m in messages],
            }
            run.calls.append(record)
            started = time.monotonic()
            with self._lock:
                self.calls_made += 1
            try:
                result = runnable.invoke(messages)
            except openai.RateLimitError as exc:
                delay = _retry_after(exc.response)
                why = f"429 rate limited (Retry-After {delay:g}s)" if delay is not None else "429 rate limited"
                if delay is not None and delay > MAX_RETRY_AFTER_S:
                    record["error"] = why
                    raise CriticError(f"{stage}: endpoint asks to wait {delay:g}s", hint="try again later") from exc
                delay = delay if delay is not None else self._backoff(attempt)
            except openai.APIStatusError as exc:
                # Like the openai client's own policy: 408 and 409 are worth another try, other 4xx are not.
                if exc.status_code < 500 and exc.status_code not in (408, 409):
                    record["error"] = f"HTTP {exc.status_code}"
                    raise CriticError(
                        f"{stage}: endpoint answered HTTP {exc.status_code}: {_short(exc.message)}",
                        hint="check the model name, OPENAI_BASE_URL and OPENAI_API_KEY",
                    ) from exc
                why, delay = f"HTTP {exc.status_code}", self._backoff(attempt)
            except openai.APITimeoutError:
                why, delay = f"timed out after {self.settings.timeout_s:g}s", self._backoff(attempt)
            except openai.APIConnectionError as exc:
                why, delay = f"connection failed ({_short(exc)})", self._backoff(attempt)
            else:
                record["elapsed_s"] = round(time.monotonic() - started, 3)
                usage = getattr(result.get("raw"), "usage_metadata", None) or {}
                record["usage"] = {"prompt": usage.get("input_tokens", 0), "completion": usage.get("output_tokens", 0)}
                run.usage = TokenUsage(
                    prompt=run.usage.prompt + record["usage"]["prompt"],
                    completion=run.usage.completion + record["usage"]["completion"],
                )
                return result, record
            record["error"] = why
            record["elapsed_s"] = round(time.monotonic() - started, 3)
            if attempt == max_retries:
                raise CriticError(
                    f"{stage}: endpoint failed after {max_retries} retries: {why}",
                    hint="the LLM endpoint is down or overloaded; try again later",
                )
            run.retries += 1
            record["retry_in_s"] = round(delay, 3)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        # Exponential with full jitter on top, so parallel papers do not retry in lockstep.
        base = self.backoff_s * (2**attempt)
        return base + random.uniform(0, base / 2)

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
            "retries": run.retries,
            "repairs": run.repairs,
            "tokens": run.usage.model_dump(),
            "cost_usd": round(self.cost(run.usage), 6),
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


def _raw_text(raw: Any) -> str:
    if raw is None:
        return ""
    content = raw.content if isinstance(raw.content, str) else json.dumps(raw.content)
    if not content and getattr(raw, "tool_calls", None):
        return json.dumps(raw.tool_calls[0].get("args", {}))
    return content


def _strict_json(raw: Any, text: str) -> tuple[Any, str | None]:
    """The answer's JSON, or why there is none."""
    if raw is not None and getattr(raw, "invalid_tool_calls", None):
        return None, f"not valid JSON ({_short(raw.invalid_tool_calls[0].get('error'))})"
    if raw is not None and getattr(raw, "tool_calls", None) and not raw.content:
        return raw.tool_calls[0].get("args"), None
    body = text.strip()
    if body.startswith("```"):  # some local models wrap JSON in a markdown fence
        body = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", body)
    if not body:
        return None, "the answer was empty"
    try:
        return json.loads(body), None
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"


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


def _retry_after(response: Any) -> float | None:
    """Seconds the endpoint asks us to wait: ``retry-after-ms``, ``Retry-After`` seconds or HTTP date."""
    headers = getattr(response, "headers", None) or {}
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


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
