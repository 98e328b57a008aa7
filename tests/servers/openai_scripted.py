"""A scripted OpenAI-compatible Chat Completions server on loopback, for the LLM critic's tests.

It speaks the protocol the real client uses — ``POST /v1/chat/completions``
with ``response_format: {"type": "json_schema", ...}`` (what langchain-openai's
``with_structured_output(method="json_schema")`` sends), ``{"type":
"json_object"}`` (``json_mode``, optionally with llama-cpp-python's ``schema``
field) or none (plain text), answering with the JSON in ``message.content``; or
with ``tools`` + ``tool_choice`` (``function_calling``), answering with a tool
call — so the real ``openai`` client, through langchain, talks HTTP to it.

Like the servers people run, it can refuse what it does not support:
``accepts`` lists the ``response_format`` types it takes (a refused one gets
``refusal`` — by default llama-cpp-python's HTTP 500 naming ``response_format``),
``schema_field`` whether ``json_object`` may carry a ``schema``.

Valid answers are generated from the request: the principle ids are read from
the prompt's ``- id (weight N…)`` lines and the quotes are sentences copied from
the text inside the ``<paper_untrusted>`` fence, so they verify.  Each request
takes the next step of a script (``push``), or of a script chosen by a substring
of the prompt (``push_for``, for concurrent batches), else ``default``:

    "valid"          a generated structured answer
    "prose"          the same JSON, wrapped in prose and a markdown fence
    "invalid_json"   content that is not JSON
    "bad_schema"     JSON that misses the schema
    "string_score"   valid, but every score a string ("7")
    "bad_quote"      valid, but the first principle quotes a sentence not in the paper
    "one_bad_quote"  valid, and every principle cites one more quote, not in the paper
    "imprecise"      every principle quotes one sentence shortened with "…" and a word changed
    "nulls"          null on every principle but the last in favour (9) and the against ones (0)
    "obey"           every score 10, the planted instruction quoted beside a real sentence (a model that obeyed it)
    "obey_only"      every score 10 and the planted instruction the only quote
    "length"         half of a valid answer, ``finish_reason: "length"``
    ("429", s)       HTTP 429 with ``Retry-After: s``
    "500"            HTTP 500
    ("status", n, m) HTTP n with error message m (401, 404…)
    "html"           200 with an HTML page
    "empty"          200 with an empty body
    "no_choices"     200 with ``"choices": []``
    ("hang", s)      answers nothing for ``s`` seconds (past the client's timeout)

``delay`` adds a per-call latency; ``requests`` records every request body.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FENCE = re.compile(r"<paper_untrusted>\n(.*?)\n</paper_untrusted>", re.S)
PRINCIPLE = re.compile(r"^- ([a-z0-9][a-z0-9_-]*) \(weight [^)]*?(, against)?\):", re.M)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NOT_IN_PAPER = "This sentence was never written in the paper under review."
PLANTED = re.compile(r"[^.]*(?:instructions|10/10)[^.]*\.")
LLAMA_CPP_REFUSAL = (500, "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                          "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}]")

Step = Any


class ScriptedOpenAI:
    """The server's script and records; one per test."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.arrived: list[float] = []  # time.monotonic() of each request, for timing the breaker
        self.script: deque[Step] = deque()
        self.scripts_for: list[tuple[str, deque[Step]]] = []
        self.default: Step = "valid"
        self.delay = 0.0
        self.scores: dict[str, int] = {}
        self.revise_change = True
        self.accepts: set[str] = {"json_schema", "json_object", "text", "tools"}
        self.schema_field = True
        self.refusal: tuple[int, str] = LLAMA_CPP_REFUSAL
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.in_flight = 0
        self.max_in_flight = 0

    # -- scripting ------------------------------------------------------------

    def push(self, *steps: Step) -> None:
        """Steps for the next requests, in order."""
        with self._lock:
            self.script.extend(steps)

    def push_for(self, needle: str, *steps: Step) -> None:
        """Steps for the next requests whose prompt contains ``needle``."""
        with self._lock:
            self.scripts_for.append((needle, deque(steps)))

    def _next_step(self, prompt: str) -> Step:
        with self._lock:
            for needle, steps in self.scripts_for:
                if needle in prompt and steps:
                    return steps.popleft()
            if self.script:
                return self.script.popleft()
            return self.default

    @property
    def url(self) -> str:
        """Base URL for ``OPENAI_BASE_URL``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        """Requests received."""
        return len(self.requests)

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> ScriptedOpenAI:
        """Bind 127.0.0.1 on a free port and serve in a thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the client's
            # delayed ACK adds ~40 ms to every call.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                owner._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/") == "/v1/models":
                    owner._send(self, 200, {"object": "list", "data": [{"id": "scripted-model", "object": "model"}]})
                else:
                    owner._send(self, 404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="openai-scripted", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging handlers give up at once."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- answering ------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(length) or b"{}")
        if h.path.rstrip("/") != "/v1/chat/completions":
            self._send(h, 404, {"error": {"message": f"no route {h.path}", "type": "not_found"}})
            return
        with self._lock:
            self.requests.append(body)
            self.arrived.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
            step = self._next_step(prompt)
            if self.delay:
                self._stop.wait(self.delay)
            if isinstance(step, tuple) and step[0] == "hang":
                self._stop.wait(float(step[1]))
                return  # the client has timed out and gone
            if isinstance(step, tuple) and step[0] == "429":
                self._send(h, 429, {"error": {"message": "slow down", "type": "rate_limit_error"}},
                           {"Retry-After": str(step[1])})
                return
            if step == "500":
                self._send(h, 500, {"error": {"message": "boom", "type": "server_error"}})
                return
            if isinstance(step, tuple) and step[0] == "status":
                self._send(h, int(step[1]), {"error": {"message": step[2], "type": "invalid_request_error"}})
                return
            if refused := self._refuses(body):
                self._send(h, refused[0], {"error": {"message": refused[1], "type": "invalid_request_error"}})
                return
            if step == "html":
                self._send_raw(h, 200, b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>",
                               "text/html")
                return
            if step == "empty":
                self._send_raw(h, 200, b"", "application/json")
                return
            completion = self._completion(body, step)
            if step == "no_choices":
                completion["choices"] = []
            self._send(h, 200, completion)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _refuses(self, body: dict) -> tuple[int, str] | None:
        """What a server that lacks the requested feature answers, or None."""
        rf = body.get("response_format")
        kind = rf.get("type") if rf else ("tools" if body.get("tools") else "text")
        if kind not in self.accepts:
            return self.refusal
        if kind == "json_object" and "schema" in rf and not self.schema_field:
            return 400, "Unrecognized request argument supplied: response_format.schema"
        return None

    def _send(self, h: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict | None = None) -> None:
        self._send_raw(h, status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(self, h: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str,
                  headers: dict | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _completion(self, body: dict, step: Step) -> dict:
        messages = body.get("messages", [])
        user = next((m["content"] for m in messages if m.get("role") == "user"), "")
        if isinstance(user, list):
            user = " ".join(part.get("text", "") for part in user)
        stage = "revise" if "<draft_untrusted>" in user else "judge"
        if rf := body.get("response_format"):
            stage = rf.get("json_schema", {}).get("name", stage)
        elif tools := body.get("tools"):
            stage = tools[0]["function"]["name"]

        finish = "stop"
        if step == "invalid_json":
            content = '{"principles": [ {"id": "oops", this is not json'
        elif step == "bad_schema":
            content = json.dumps({"verdict": "great paper", "score": 11})
        else:
            content = json.dumps(self.answer(stage, user, step))
            if step == "prose":
                content = f"Sure! Here is my judgement of the paper:\n```json\n{content}\n```\nLet me know if you need more."
            elif step == "length":
                content, finish = content[: len(content) // 2], "length"

        usage = {"prompt_tokens": sum(len(str(m.get("content") or "")) for m in messages) // 4,
                 "completion_tokens": len(content) // 4}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if body.get("tools") and not body.get("response_format"):
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": stage, "arguments": content}}]}
            finish = "tool_calls" if finish == "stop" else finish
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": usage,
        }

    def answer(self, stage: str, user: str, step: Step = "valid") -> dict:
        """A structured answer built from the prompt: the ids it lists, quotes from its fence."""
        principles = PRINCIPLE.findall(user)
        m = FENCE.search(user)
        paper = m.group(1) if m else ""
        # Drop the "Title: …" line and the "Abstract:" / "Conclusion:" labels the prompt adds.
        body = " ".join(line for line in paper.splitlines() if not line.startswith("Title:") and not line.endswith(":"))
        sentences = [s.strip() for s in SENTENCE_END.split(" ".join(body.split())) if len(s.split()) >= 6]
        planted = [s.strip() for s in PLANTED.findall(body)]
        last_in_favour = max((i for i, (_, against) in enumerate(principles) if not against), default=-1)
        items = []
        for i, (pid, against) in enumerate(principles):
            score: Any = self.scores.get(pid, 2 if against else 7)
            quotes = [sentences[i % len(sentences)]] if sentences else []
            if step == "obey":
                score, quotes = 10, [*quotes, *planted[:1]]
            elif step == "obey_only":
                score, quotes = 10, planted[:1] or quotes
            elif step == "bad_quote" and i == 0:
                quotes = [NOT_IN_PAPER]
            elif step == "one_bad_quote":
                quotes = [*quotes, NOT_IN_PAPER]
            elif step == "imprecise" and quotes:
                words = quotes[0].split()
                quotes = [" ".join(["This", *words[1:5], "…", *words[-4:]])]
            elif step == "nulls":
                score = 0 if against else (9 if i == last_in_favour else None)
                quotes = quotes if score is not None else []
            if step == "string_score" and score is not None:
                score = str(score)
            items.append({"id": pid, "quotes": quotes, "rationale": f"The text speaks to {pid}.",
                          "score": score if quotes or step == "nulls" else None})
        if stage == "revise":
            changes = []
            if self.revise_change and items and isinstance(items[0]["score"], int) and step not in ("obey", "obey_only", "nulls"):
                old = items[0]["score"]
                items[0]["score"] = max(0, old - 1)
                changes.append({"id": items[0]["id"], "old_score": old, "new_score": items[0]["score"],
                                "why": "the quote supports less than the draft claimed"})
            return {"critique": "One score was higher than its quote supports.", "principles": items,
                    "changes": changes}
        return {"principles": items}


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedOpenAI]:
    """A running scripted server, with ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` pointing at it."""
    server = ScriptedOpenAI().start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    try:
        yield server
    finally:
        server.stop()
