"""The LLM boundary: one chat call that comes back as a JSON object, whatever the server can do.

langchain does what it is good at: ``init_chat_model`` builds the chat model for
any provider (``llm.model = "openai:gpt-4o-mini"``, or a bare name for any
OpenAI-compatible server), ``with_structured_output`` shapes the request for the
mode in use (``json_schema``, ``function_calling`` for ``tools``, ``json_mode``
for ``json_object``), its ``InMemoryRateLimiter`` caps the request rate, and its
provider-agnostic exceptions (``ModelRateLimitError``, ``ModelTimeoutError``…)
say what failed.  Its parsers are not trusted: the raw answer's text is parsed
here, strictly, by the critic's pydantic models (langchain's JSON parser
completes truncated objects and would hide a broken answer).

**Modes.**  Servers differ in what they accept: OpenAI and recent vLLM take a
strict ``json_schema``; llama-cpp-python's server takes only ``json_object``
(with a ``schema`` field it turns into a grammar); older builds, some Ollama
versions and proxies take ``json_object`` alone, or nothing.  With ``llm.mode =
"auto"`` the first call tries ``json_schema``; an HTTP 400/422/500 whose body
names ``response_format``, ``json_schema``, ``tools``… is the server saying what
it cannot do, not an outage, so the next mode is tried at once —
``json_object+schema``, ``json_object``, then ``text`` (the schema in the
prompt, the first balanced JSON object taken from the answer).  The mode that
works is remembered per base URL and model, in the process and in
``capabilities_file``, and is recorded in every verdict and trace.

**Failures.**  429 (honouring ``Retry-After``), 5xx and dropped connections are
retried with the backoff of ``triage.retry``; a timeout is retried once (it
already cost a whole timeout).  Every failed call is counted by the endpoint's
circuit breaker, shared process-wide: once it opens, calls stop at once and the
papers left are "not judged: endpoint down".  A refused key (401), an unknown
model (404) or an answer that is not a chat completion at all (an HTML page, an
empty body, no choices) is said in one line naming the setting to change, and
every later call on this endpoint fails the same way without being sent.

langchain and openai are imported here only, and only when an endpoint is built.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage.atomic import write_atomic
from triage.config import LLMSettings
from triage.errors import ConfigError, CriticError, NotJudged, TriageError
from triage.models import TokenUsage
from triage.retry import CircuitBreaker, backoff_s, breaker_for, retry_after_s

__all__ = ["Endpoint", "Reply", "CallLog", "MODES", "AUTO_ORDER", "first_json_object", "probe"]

MODES = ("json_schema", "tools", "json_object+schema", "json_object", "text")
"""Every way of asking for JSON; ``llm.mode`` can force one."""

AUTO_ORDER = ("json_schema", "json_object+schema", "json_object", "text")
"""What ``llm.mode = "auto"`` tries, best first (``tools`` only when forced, or when langchain picks it)."""

MAX_RETRY_AFTER_S = 300.0
TIMEOUT_RETRIES = 1
# Words a server's refusal names when it cannot do what was asked (not a bare "schema": a database error says it too).
_CAPABILITY_WORDS = ("response_format", "json_schema", "json_object", "tool_choice", "tools")
_CAPABILITY_STATUS = (400, 422, 500, 501)
_MODES_LOCK = threading.Lock()
_MODES_SEEN: dict[str, str] = {}  # endpoint id -> negotiated mode, for this process


@dataclass
class CallLog:
    """What the calls for one verdict cost and how they went: the trace's raw material."""

    usage: TokenUsage = field(default_factory=TokenUsage)
    calls: list[dict] = field(default_factory=list)
    retries: int = 0

    def charge(self, prompt: int, completion: int) -> None:
        """Add one call's tokens (every answer is paid for, used or not)."""
        self.usage = TokenUsage(prompt=self.usage.prompt + prompt, completion=self.usage.completion + completion)


@dataclass
class Reply:
    """One answer: its text, the JSON object found in it (or why there is none), and how it ended."""

    text: str
    data: Any
    problem: str | None
    finish_reason: str
    mode: str


def first_json_object(text: str) -> tuple[Any, str | None]:
    """The first balanced JSON object in ``text`` (prose or a markdown fence around it is skipped), or why none."""
    body = text.strip()
    if not body:
        return None, "the answer was empty"
    try:
        data = json.loads(body)
    except ValueError:
        pass
    else:
        return (data, None) if isinstance(data, dict) else (None, f"the answer is JSON but not an object ({type(data).__name__})")
    start = body.find("{")
    if start == -1:
        return None, "there is no JSON object in the answer"
    while start != -1:
        end = _balanced_end(body, start)
        if end is None:
            return None, "the JSON object in the answer is not complete (cut short?)"
        try:
            return json.loads(body[start : end + 1]), None
        except ValueError as exc:
            problem = f"not valid JSON ({exc})"
        start = body.find("{", end + 1)
    return None, problem


def _balanced_end(text: str, start: int) -> int | None:
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


class Endpoint:
    """One model at one endpoint, asked for JSON in the best mode it supports."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        http_client: Any = None,
        capabilities_file: Path | None = None,
        backoff_base_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``http_client`` (an ``httpx.Client``) points OpenAI-protocol calls anywhere; ``capabilities_file`` remembers modes."""
        self.settings = settings
        self.provider = settings.provider()
        self.model = settings.model_name()
        self.base_url = settings.resolved_base_url() if self.provider == "openai" else settings.base_url
        if self.provider == "openai" and not (self.base_url or settings.resolved_api_key()):
            raise ConfigError("the LLM critic needs an endpoint", hint="set OPENAI_API_KEY and/or OPENAI_BASE_URL")
        self.id = f"{self.provider}|{self.base_url or 'default'}|{self.model}"
        self.capabilities_file = capabilities_file
        self.backoff_base_s = backoff_base_s
        self._sleep = sleep
        self._lock = threading.Lock()
        self._fatal: TriageError | None = None
        self._runnables: dict[tuple, Any] = {}
        self.breaker: CircuitBreaker = breaker_for((self.id,), settings.breaker_failures, settings.breaker_cooldown_s)
        self.calls_made = 0
        """HTTP requests sent (retries, repairs and mode probes included), for tests and benches."""
        self._chat = self._build_chat(http_client)

    # -- construction ---------------------------------------------------------

    def _build_chat(self, http_client: Any) -> Any:
        from langchain.chat_models import init_chat_model

        s = self.settings
        kwargs: dict[str, Any] = {"temperature": s.temperature, "timeout": s.timeout_s, "max_retries": 0}
        if s.requests_per_second:
            from langchain_core.rate_limiters import InMemoryRateLimiter

            kwargs["rate_limiter"] = InMemoryRateLimiter(requests_per_second=s.requests_per_second,
                                                         check_every_n_seconds=0.05, max_bucket_size=1)
        if self.provider == "openai":
            from pydantic import SecretStr

            kwargs.update(
                base_url=self.base_url,
                # Local servers (llama.cpp, Ollama, vLLM) accept any key; the client insists on one.
                api_key=SecretStr(s.resolved_api_key() or "not-needed"),
                http_client=http_client,
                use_responses_api=False,  # Chat Completions: what every compatible endpoint speaks
            )
        else:
            if s.base_url:
                kwargs["base_url"] = s.base_url
            if s.api_key:
                kwargs["api_key"] = s.api_key
        try:
            return init_chat_model(self.model, model_provider=self.provider, **kwargs)
        except ImportError as exc:
            raise ConfigError(f"llm.model {s.model!r} needs a langchain provider package that is not installed ({exc})",
                              hint=f"pip install langchain-{self.provider.replace('_', '-')}, or use an "
                              "OpenAI-compatible endpoint") from exc

    def _sends_legacy_max_tokens(self) -> bool:
        # langchain-openai sends only max_completion_tokens; llama.cpp's and Ollama's servers read
        # max_tokens and would otherwise generate until the context is full.  OpenAI itself refuses both.
        return self.provider == "openai" and bool(self.base_url) and "api.openai.com" not in (self.base_url or "")

    def _runnable(self, stage: str, schema: dict, mode: str, max_tokens: int, temperature: float | None) -> Any:
        key = (stage, json.dumps(schema, sort_keys=True), mode, max_tokens, temperature)
        with self._lock:
            if key in self._runnables:
                return self._runnables[key]
        bind: dict[str, Any] = {"max_tokens": max_tokens}
        if temperature is not None:
            bind["temperature"] = temperature
        if self._sends_legacy_max_tokens():
            bind["extra_body"] = {"max_tokens": max_tokens}
        chat = self._chat
        named = {"name": stage, "description": f"The {stage} answer.", "parameters": schema}
        if mode == "json_schema":
            # The function form, so langchain can also fall back to tools for models it knows lack json_schema.
            runnable = chat.with_structured_output(named, method="json_schema", strict=True, include_raw=True, **bind)
        elif mode == "tools":
            runnable = chat.with_structured_output(named, method="function_calling", include_raw=True, **bind)
        elif mode in ("json_object+schema", "json_object"):
            response_format: dict[str, Any] = {"type": "json_object"}
            if mode == "json_object+schema":
                response_format["schema"] = schema  # llama-cpp-python and Anyscale-style servers turn it into a grammar
            runnable = chat.with_structured_output(named, method="json_mode", include_raw=True,
                                                   response_format=response_format, **bind)
        else:
            runnable = chat.bind(**bind)
        with self._lock:
            self._runnables[key] = runnable
        return runnable

    # -- the mode -------------------------------------------------------------

    @property
    def mode(self) -> str:
        """The mode calls use now: forced by settings, negotiated earlier (here or in a previous run), else the best."""
        if self.settings.mode != "auto":
            return self.settings.mode
        if self.provider != "openai":
            return "tools"  # the provider's own structured output: langchain knows it best
        with _MODES_LOCK:
            if self.id in _MODES_SEEN:
                return _MODES_SEEN[self.id]
        remembered = self._remembered().get(self.id, {}).get("mode")
        return remembered if remembered in MODES else AUTO_ORDER[0]

    def _remembered(self) -> dict:
        if self.capabilities_file is None:
            return {}
        try:
            data = json.loads(self.capabilities_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _step_down(self, mode: str, why: str) -> str | None:
        """The server refused ``mode``: remember the next one and return it (None when there is none)."""
        order = list(AUTO_ORDER)
        following = order[order.index(mode) + 1 :] if mode in order else []
        if not following:
            return None
        chosen = following[0]
        with _MODES_LOCK:
            _MODES_SEEN[self.id] = chosen
            if self.capabilities_file is not None:
                data = self._remembered()
                entry = data.get(self.id)
                entry = entry if isinstance(entry, dict) else {}
                refused = {**entry.get("refused", {}), mode: why[:300]}
                data[self.id] = {"mode": chosen, "refused": refused, "at": datetime.now(UTC).isoformat()}
                try:
                    write_atomic(self.capabilities_file, json.dumps(data, indent=1, ensure_ascii=False))
                except OSError:
                    pass  # remembering saves one refused call next time; losing it costs nothing else
        return chosen

    # -- one call -------------------------------------------------------------

    def ask(
        self,
        stage: str,
        schema: dict,
        messages: list[tuple[str, str]],
        *,
        max_tokens: int,
        log: CallLog,
        temperature: float | None = None,
        grammar_schema: dict | None = None,
    ) -> Reply:
        """Send ``messages`` (role, text) and return the answer; CriticError (or NotJudged) when there is none.

        In modes without server-side schema the schema is added to the system
        message; ``grammar_schema`` (default ``schema``) is what a server that
        builds a grammar from it gets in ``json_object+schema`` mode.  Retries, mode negotiation and the breaker are handled here;
        what the answer *means* is the caller's to check.
        """
        if self._fatal is not None:
            raise self._fatal
        timeouts = retries = 0
        attempt = 0
        while True:
            if not self.breaker.allow():
                raise NotJudged(f"endpoint down ({self.breaker.reason})",
                                hint="check the LLM server, then run again (judged papers are cached)", external=True)
            mode = self.mode
            record: dict[str, Any] = {"stage": stage, "attempt": attempt, "mode": mode,
                                      "at": datetime.now(UTC).isoformat(), "max_tokens": max_tokens}
            lc_messages, shown = self._messages(messages, schema, mode)
            record["messages"] = shown
            log.calls.append(record)
            attempt += 1
            started = time.monotonic()
            with self._lock:
                self.calls_made += 1
            try:
                sent = grammar_schema if mode == "json_object+schema" and grammar_schema else schema
                raw = self._runnable(stage, sent, mode, max_tokens, temperature).invoke(lc_messages)
                reply = self._reply(raw, mode, record, log)
            except Exception as exc:  # sorted into what to do next just below
                cut = self._length_reply(exc, mode, record, log)
                if cut is None:
                    record["elapsed_s"] = round(time.monotonic() - started, 3)
                    kind, why, delay = self._classify(exc, attempt=retries)
                    record["error"] = why
                    if kind == "capability":
                        if self.settings.mode == "auto" and self.provider == "openai":
                            chosen = self._step_down(mode, why)
                            if chosen is not None:
                                record["next_mode"] = chosen
                                self.breaker.success()  # the server answered: it is up, it only said no
                                continue
                        raise ConfigError(f"{stage}: the endpoint refused llm.mode {mode!r}: {why}",
                                          hint='set llm.mode = "auto" (or another mode) in the config') from exc
                    if kind == "fatal":
                        self.breaker.success()  # the server is up; every later call would be refused the same way
                        assert self._fatal is not None
                        raise self._fatal from exc
                    if kind == "unreadable":
                        self.breaker.failure(why)
                        raise CriticError(f"{stage}: {why}", hint="llm.base_url / OPENAI_BASE_URL must be the API root "
                                          "of an OpenAI-compatible server, e.g. http://localhost:8080/v1") from exc
                    if kind == "refused":
                        self.breaker.success()
                        raise CriticError(f"{stage}: {why}",
                                          hint="check llm.model, OPENAI_BASE_URL and OPENAI_API_KEY") from exc
                    # kind == "retry": an outage, maybe a passing one
                    is_timeout = why.startswith("timed out")
                    self.breaker.failure(why, timeout=is_timeout)
                    timeouts += is_timeout
                    out_of_tries = retries >= self.settings.max_retries or timeouts > TIMEOUT_RETRIES
                    if out_of_tries or delay is None:
                        raise CriticError(f"{stage}: endpoint failed after {retries} retries: {why}",
                                          hint="the LLM endpoint is down or overloaded; try again later") from exc
                    if self.breaker.is_open:
                        raise NotJudged(f"endpoint down ({self.breaker.reason})",
                                        hint="check the LLM server, then run again (judged papers are cached)",
                                        external=True) from exc
                    retries += 1
                    log.retries += 1
                    record["retry_in_s"] = round(delay, 3)
                    self._sleep(delay)
                    continue
                reply = cut
            record["elapsed_s"] = round(time.monotonic() - started, 3)
            self.breaker.success()
            return reply

    def _messages(self, messages: list[tuple[str, str]], schema: dict, mode: str) -> tuple[list[Any], list[dict]]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        out, shown = [], []
        for i, (role, text) in enumerate(messages):
            if i == 0 and role == "system" and mode in ("json_object+schema", "json_object", "text"):
                # No server-side schema in these modes (or one the server may ignore): the model reads it.
                text = f"{text}\n\nAnswer with one JSON object that matches this JSON schema:\n{json.dumps(schema)}"
            out.append(kinds[role](text))
            shown.append({"role": role, "content": text})
        return out, shown

    def _reply(self, result: Any, mode: str, record: dict, log: CallLog) -> Reply:
        raw = result.get("raw") if isinstance(result, dict) else result
        usage = getattr(raw, "usage_metadata", None) or {}
        prompt, completion = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
        log.charge(prompt, completion)
        record["usage"] = {"prompt": prompt, "completion": completion}
        finish = str((getattr(raw, "response_metadata", None) or {}).get("finish_reason") or "")
        record["finish_reason"] = finish
        tool_calls = getattr(raw, "tool_calls", None) or []
        invalid = getattr(raw, "invalid_tool_calls", None) or []
        content = getattr(raw, "content", "")
        text = content if isinstance(content, str) else json.dumps(content)
        if not text.strip() and (tool_calls or invalid):
            # langchain switches models it knows lack json_schema (gpt-4-*) to tool calls: the answer says how.
            mode = "tools"
            if tool_calls:
                args = tool_calls[0].get("args")
                text = json.dumps(args)
                data, problem = (args, None) if isinstance(args, dict) else (None, "the tool call has no arguments")
            else:
                text = str(invalid[0].get("args") or "")
                data, problem = None, f"not valid JSON ({_short(invalid[0].get('error'))})"
        else:
            data, problem = first_json_object(text)
        record["raw"] = text
        record["mode"] = mode
        return Reply(text=text, data=data, problem=problem, finish_reason=finish, mode=mode)

    def _length_reply(self, exc: Exception, mode: str, record: dict, log: CallLog) -> Reply | None:
        """The openai client refuses to parse an answer cut by the token limit; it was paid for all the same."""
        completion = getattr(exc, "completion", None)
        if type(exc).__name__ != "LengthFinishReasonError" or completion is None:
            return None
        usage = getattr(completion, "usage", None)
        prompt, used = (getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0)
        log.charge(prompt, used)
        record["usage"] = {"prompt": prompt, "completion": used}
        record["finish_reason"] = "length"
        choices = getattr(completion, "choices", None) or []
        text = (getattr(choices[0].message, "content", None) or "") if choices else ""
        record["raw"] = text
        data, problem = first_json_object(text)
        return Reply(text=text, data=data, problem=problem, finish_reason="length", mode=mode)

    def _classify(self, exc: BaseException, *, attempt: int) -> tuple[str, str, float | None]:
        """(what to do, why in a few words, how long to wait): retry, capability, fatal, refused or unreadable."""
        from langchain_core import exceptions as lc

        try:
            import openai
        except ImportError:  # another provider's package, without openai installed
            openai = None  # type: ignore[assignment]

        status = getattr(exc, "status_code", None)
        message = _error_text(exc)
        backoff = backoff_s(attempt, self.backoff_base_s)
        if isinstance(exc, lc.ModelTimeoutError) or (openai and isinstance(exc, openai.APITimeoutError)):
            # The timeout itself was the long wait; a short pause lets calls timing out together reach the breaker.
            pause = backoff_s(attempt, min(self.backoff_base_s, self.settings.timeout_s / 10))
            return "retry", f"timed out after {self.settings.timeout_s:g}s", pause
        if isinstance(exc, lc.ModelConnectionError) or (openai and isinstance(exc, openai.APIConnectionError)):
            return "retry", f"connection failed ({_short(message, 120)})", backoff
        if isinstance(exc, lc.ModelRateLimitError) or status == 429:
            wait = retry_after_s(getattr(getattr(exc, "response", None), "headers", None))
            if wait is not None and wait > MAX_RETRY_AFTER_S:
                return "retry", f"endpoint asks to wait {wait:g}s (HTTP 429)", None
            return "retry", "429 rate limited" + (f" (Retry-After {wait:g}s)" if wait is not None else ""), (
                wait if wait is not None else backoff)
        if status in _CAPABILITY_STATUS and any(word in message for word in _CAPABILITY_WORDS):
            return "capability", f"HTTP {status}: {_short(message)}", None
        if isinstance(exc, lc.ModelAuthenticationError) or status == 401:
            self._fatal = ConfigError(f"the LLM endpoint refused the API key (HTTP 401: {_short(message, 120)})",
                                      hint="set OPENAI_API_KEY (or llm.api_key) to a key this endpoint accepts")
            return "fatal", "HTTP 401", None
        if isinstance(exc, lc.ModelPermissionDeniedError) or status == 403:
            self._fatal = ConfigError(f"the LLM endpoint refused access (HTTP 403: {_short(message, 120)})",
                                      hint="check that OPENAI_API_KEY (or llm.api_key) may use this model")
            return "fatal", "HTTP 403", None
        if isinstance(exc, lc.ModelNotFoundError) or status == 404:
            self._fatal = CriticError(
                f"the LLM endpoint does not know model {self.model!r} (or its URL is wrong): HTTP 404: "
                f"{_short(message, 120)}",
                hint="set llm.model (TRIAGE_LLM__MODEL) to a model the server lists, and OPENAI_BASE_URL to its "
                     "API root (…/v1)")
            return "fatal", "HTTP 404", None
        if isinstance(exc, lc.ContextOverflowError):
            return "refused", f"the prompt is longer than the model's context window ({_short(message, 120)})", None
        if isinstance(status, int):
            if status >= 500 or status in (408, 409):
                return "retry", f"HTTP {status}", backoff
            return "refused", f"endpoint answered HTTP {status}: {_short(message)}", None
        if isinstance(exc, lc.ModelError):
            return ("retry", _short(message), backoff) if exc.is_retryable else ("refused", _short(message), None)
        return "unreadable", _unreadable(exc), None


def probe(settings: LLMSettings, timeout_s: float = 5.0) -> str | None:
    """Why an OpenAI-compatible endpoint cannot be reached (``GET …/models``), or None when it answers at all.

    Any HTTP answer counts as reachable — a refused key or a missing route is
    for the judge call to report; only a refused connection, a DNS failure or
    silence means "not there".  Other providers are not probed.
    """
    import httpx

    if settings.provider() != "openai":
        return None
    base = (settings.resolved_base_url() or "https://api.openai.com/v1").rstrip("/")
    try:
        httpx.get(f"{base}/models", timeout=min(timeout_s, settings.timeout_s),
                  headers={"Authorization": f"Bearer {settings.resolved_api_key() or 'not-needed'}"})
    except httpx.TimeoutException:
        return f"{base} did not answer within {min(timeout_s, settings.timeout_s):g}s"
    except httpx.HTTPError as exc:
        return f"{base}: {_short(exc, 120) or type(exc).__name__}"
    return None


def _error_text(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    text = getattr(exc, "message", None) or str(exc)
    if body is not None and not isinstance(body, str):
        try:
            text = f"{text} {json.dumps(body)}"
        except (TypeError, ValueError):
            pass
    elif isinstance(body, str):
        text = f"{text} {body}"
    return text


def _unreadable(exc: BaseException) -> str:
    """What was wrong with an answer that is not a chat completion, in words a reader can act on.

    The openai client reads a body that is not JSON as a string and fails on it
    later (an AttributeError on ``choices``), or quotes it (a ValueError): both
    shapes are recognised here.
    """
    text = str(exc)
    low = text.lower()
    if "<html" in low or "<!doctype" in low:
        return "the endpoint answered an HTML page, not a chat completion"
    if "'str' object has no attribute" in low:
        return "the endpoint answered a page that is not JSON (HTML or plain text), not a chat completion"
    if "expecting value: line 1 column 1 (char 0)" in low or "got str: ''" in low:
        return "the endpoint answered an empty body, not a chat completion"
    if isinstance(exc, IndexError) or "choices" in low:
        return "the endpoint answered a completion with no choices"
    return f"the endpoint's answer is not a chat completion ({type(exc).__name__}: {_short(text, 160)})"


def _short(value: Any, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit] + "…"
