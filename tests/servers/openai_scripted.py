"""A scripted OpenAI-compatible Chat Completions server on loopback, for the LLM critic's tests.

It speaks the protocol the real client uses — ``POST /v1/chat/completions``
with ``response_format: {"type": "json_schema", ...}`` (what langchain-openai's
``with_structured_output(method="json_schema")`` sends), answering with the JSON
in ``message.content``; or with ``tools`` + ``tool_choice`` (``function_calling``),
answering with a tool call — so the real ``openai`` client, through langchain,
talks HTTP to it.

Valid answers are generated from the request: the principle ids are read from
the prompt's ``- id (weight N…)`` lines and the quotes are sentences copied from
the text inside the ``<paper_untrusted>`` fence, so they verify.  Each request
takes the next step of a script (``push``), or of a script chosen by a substring
of the prompt (``push_for``, for concurrent batches), else ``default``:

    "valid"          a generated structured answer
    "invalid_json"   content that is not JSON
    "bad_schema"     JSON that misses the schema
    "bad_quote"      valid, but the first principle quotes a sentence not in the paper
    "obey"           valid, but every score 10 (a model that followed an injected instruction)
    ("429", s)       HTTP 429 with ``Retry-After: s``
    "500"            HTTP 500
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

Step = Any


class ScriptedOpenAI:
    """The server's script and records; one per test."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: deque[Step] = deque()
        self.scripts_for: list[tuple[str, deque[Step]]] = []
        self.default: Step = "valid"
        self.delay = 0.0
        self.scores: dict[str, int] = {}
        self.revise_change = True
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
            self._send(h, 200, self._completion(body, step))
        finally:
            with self._lock:
                self.in_flight -= 1

    def _send(self, h: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
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
        stage = "judge"
        if rf := body.get("response_format"):
            stage = rf.get("json_schema", {}).get("name", "judge")
        elif tools := body.get("tools"):
            stage = tools[0]["function"]["name"]

        if step == "invalid_json":
            content = '{"principles": [ {"id": "oops", this is not json'
        elif step == "bad_schema":
            content = json.dumps({"verdict": "great paper", "score": 11})
        else:
            content = json.dumps(self.answer(stage, user, step))

        usage = {"prompt_tokens": sum(len(str(m.get("content") or "")) for m in messages) // 4,
                 "completion_tokens": len(content) // 4}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        finish = "stop"
        if body.get("tools") and not body.get("response_format"):
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": stage, "arguments": content}}]}
            finish = "tool_calls"
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
        items = []
        for i, (pid, against) in enumerate(principles):
            score = 10 if step == "obey" else self.scores.get(pid, 2 if against else 7)
            quotes = [sentences[i % len(sentences)]] if sentences else []
            if step == "bad_quote" and i == 0:
                quotes = [NOT_IN_PAPER]
            items.append({"id": pid, "score": score if quotes else None,
                          "rationale": f"The text speaks to {pid}.", "quotes": quotes})
        if stage == "revise":
            changes = []
            if self.revise_change and items and items[0]["score"] is not None and step != "obey":
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
