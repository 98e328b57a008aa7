"""The headless HTTP API: everything the CLI does, for note tools (Obsidian, Logseq, Zotero scripts, shells).

``create_app(settings)`` builds a FastAPI app over ``triage/service.py`` — the
API never reaches past the facade, so it cannot disagree with the CLI or TUI.
Adding a paper is slow, so ``POST /papers`` answers ``202`` with a job
(``triage/jobs.py``: SQLite-backed, survives restarts, one job per paper).

Security, in the order a request meets it:

* the ``Host`` header must name the address the server is bound to (and, on
  loopback, ``localhost``) or one of ``api.allowed_hosts``: a web page whose
  name an attacker re-points at 127.0.0.1 (DNS rebinding) gets ``400``;
* the body is limited to ``api.max_body_kb`` (``413``), checked on the
  declared length and again on the bytes actually received;
* CORS allows only ``api.cors_origins`` (Obsidian's ``app://obsidian.md`` by
  default); a refused preflight gets the JSON error too;
* every endpoint but ``/health`` needs ``Authorization: Bearer <token>``; the
  token is generated on first use (``secrets.token_urlsafe``), kept in
  ``<home>/api-token`` with mode 0600 and compared in constant time;
* a note path must resolve — symlinks followed — to a ``.md`` file inside one
  of ``api.note_dirs``; ``..`` components and NUL bytes are refused outright.
  The resolved path is what the core writes to, so a symlink swapped in after
  the check cannot redirect the write.

Every error is JSON ``{"error": {"type", "message", "hint"}}``.  Triage errors
map to 4xx/5xx by kind (see ``STATUS``); anything unexpected is logged with its
traceback and answered with a bare JSON 500, never the traceback itself.
"""

# No "from __future__ import annotations": FastAPI reads the endpoints' annotations at runtime,
# and those of the closures in create_app name local objects (the bearer scheme).
import hmac
import ipaddress
import logging
import os
import re
import secrets
import stat
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage import __version__
from triage.arxiv_id import ARXIV_ID, parse_arxiv_id, versioned_id
from triage.config import Settings
from triage.errors import (
    AmbiguousKeyError,
    BudgetExceeded,
    ConfigError,
    CriticError,
    NoteConflictError,
    NoteError,
    PdfError,
    SourceError,
    StoreError,
    TriageError,
)
from triage.jobs import Job, JobRunner, JobStore
from triage.models import PaperView, Status, Transition

__all__ = [
    "create_app",
    "ApiError",
    "TOKEN_FILE",
    "token_path",
    "load_or_create_token",
    "read_token",
    "confine_note",
    "is_loopback",
    "job_target",
    "allowed_hosts",
]

log = logging.getLogger(__name__)

TOKEN_FILE = "api-token"

# Triage errors by kind -> HTTP status.  Order matters: subclasses first.
STATUS: list[tuple[type[TriageError], int]] = [
    (NoteConflictError, 409),
    (NoteError, 422),
    (AmbiguousKeyError, 409),
    (BudgetExceeded, 409),
    (CriticError, 502),
    (PdfError, 422),
    (StoreError, 409),
    (ConfigError, 503),
]


def _status_for(exc: TriageError) -> int:
    if isinstance(exc, SourceError):
        return 502 if exc.exit_code == 3 else (409 if isinstance(exc, AmbiguousKeyError) else 422)
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


class ApiError(Exception):
    """An error the API answers directly: HTTP status, a type name, a message and a hint."""

    def __init__(self, status: int, type_: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.hint = status, type_, message, hint


# -- token --------------------------------------------------------------------------


def token_path(settings: Settings) -> Path:
    """Where the API token lives: ``<home>/api-token``."""
    return settings.home / TOKEN_FILE


def read_token(settings: Settings) -> str | None:
    """The stored token, or None when none was generated yet; a too-open file is made 0600 first."""
    path = token_path(settings)
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the API token {path}: {exc.strerror or exc}") from None
    return token or None


def load_or_create_token(settings: Settings) -> str:
    """The API token, generated on first use and stored with mode 0600 (never readable by others)."""
    existing = read_token(settings)
    if existing:
        return existing
    settings.ensure_home()
    path = token_path(settings)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return read_token(settings) or load_or_create_token(settings)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- note paths ---------------------------------------------------------------------


def _lexists(path: Path) -> bool:
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def confine_note(raw: str, note_dirs: list[Path], *, must_exist: bool = True) -> Path:
    """The real path of note ``raw`` if it is a ``.md`` file inside one of ``note_dirs``; ``ApiError`` otherwise.

    Relative paths are taken relative to the first folder that has them (else
    the first folder).  ``..`` components and NUL bytes are refused before
    anything touches the filesystem; symlinks are resolved and the target must
    still be inside an allowed folder.
    """
    if not note_dirs:
        raise ApiError(403, "forbidden", "no folder is open to the API for notes",
                       hint="set api.note_dirs in the config file, or TRIAGE_API__NOTE_DIRS='[\"/path/to/vault\"]'")
    if not raw or "\x00" in raw:
        raise ApiError(422, "invalid_path", "the note path is empty or contains a NUL byte")
    candidate = Path(raw)
    if ".." in candidate.parts or ".." in raw.replace("\\", "/").split("/"):
        raise ApiError(403, "forbidden", "note paths may not contain '..'", hint="give the path inside a note folder")
    if candidate.suffix.lower() != ".md":
        raise ApiError(422, "invalid_path", "only markdown notes (.md) can be read or edited")
    roots = [Path(os.path.realpath(Path(d).expanduser())) for d in note_dirs]
    if not candidate.is_absolute():
        tries = [root / candidate for root in roots]
        candidate = next((t for t in tries if _lexists(t)), tries[0])
    real = Path(os.path.realpath(candidate))
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise ApiError(403, "forbidden", "the note is outside the folders open to the API",
                       hint="allowed: " + ", ".join(str(r) for r in roots))
    if real.suffix.lower() != ".md":
        raise ApiError(403, "forbidden", "the note resolves to a file that is not markdown (.md)")
    if must_exist:
        try:
            mode = real.stat().st_mode
        except OSError:  # missing, a name too long, a file used as a folder…: no such note either way
            raise ApiError(404, "not_found", "no such note", hint="check the path, or create it with 'triage note new'") from None
        if not stat.S_ISREG(mode):
            raise ApiError(422, "invalid_path", "the note path is not a file")
    return real


# -- jobs ---------------------------------------------------------------------------

def job_target(identifier: str, note: Path | None) -> str:
    """What a triage job is about: equal for two requests that ask for the same work."""
    ident = identifier.strip()
    arxiv = parse_arxiv_id(ident)
    ident = f"arxiv:{versioned_id(*arxiv).lower()}" if arxiv else ident.lstrip("@")
    return f"triage:{ident}" + (f"|note:{note}" if note else "")


def _triage_handler(core: Any, settings: Settings) -> Any:
    def handle(job: Job) -> dict:
        identifier = job.params["id"]
        note = job.params.get("note")
        if job.params.get("pick"):
            core.pick(identifier, job.params["pick"])
        # The folders may have changed since the request: check again before writing.
        outcome = core.triage(identifier, confine_note(note, settings.api.note_dirs) if note else None)
        verdict = outcome.verdict
        view = core.paper(outcome.key, brief=True)
        return {
            "note": note, "written": outcome.written, "message": outcome.message, "key": outcome.key,
            "title": view.title if view else "",
            "status": view.status.value if view else None,
            "decision": verdict.decision.value if verdict else None,
            "score": verdict.score if verdict else None,
            "confidence": verdict.confidence if verdict else None,
            "critic": verdict.critic if verdict else None,
            "cached": outcome.cached,
        }

    return handle


# -- request and response models (the OpenAPI schema) -----------------------------------


NOTE_PATTERN = r"^[^\x00]*[^\x00/\\]\.[mM][dD]$"
"""A note path in the schema: a markdown file name, no NUL byte (confinement is checked at run time)."""


class ErrorDetail(BaseModel):
    """What went wrong and how to fix it."""

    type: str = Field(description="Machine-readable kind, e.g. 'unauthorized', 'not_found', 'SourceError'")
    message: str
    hint: str = ""


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorDetail

    model_config = ConfigDict(json_schema_extra={
        "example": {"error": {"type": "not_found", "message": "no paper @doeUnknown2021", "hint": "add it with POST /papers"}}
    })


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"] = "ok"
    version: str = __version__


class PaperList(BaseModel):
    """Papers, most recently changed first (each in brief), and how many there are per status."""

    papers: list[PaperView]
    counts: dict[str, int]


class AddPaper(BaseModel):
    """Triage a paper in the background."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"id": "@okaforRoutingAdaptersFrozen2024"},
                     {"id": "2306.10457", "note": "reading-session.md"}]
    })

    id: str = Field(min_length=1, max_length=2000, pattern=r"\S",
                    description="A citekey (with or without @), an arXiv id, or a URL")
    note: str | None = Field(default=None, max_length=4096, pattern=NOTE_PATTERN,
                             description="Also append the entry to this note (inside api.note_dirs)")
    pick: str | None = Field(default=None, max_length=64, pattern=rf"^(?:{ARXIV_ID})$",
                             description="For a citekey arXiv finds several papers for (a job error lists them): "
                                         "the arXiv id it names, remembered for good")


class JobOut(BaseModel):
    """A background job."""

    id: str
    kind: str
    status: Literal["queued", "running", "done", "error"]
    params: dict[str, Any]
    result: dict[str, Any] | None = Field(description="When done: key, title, status, decision, score, cached…")
    error: ErrorDetail | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": "5f0c2a9e8b7d4c1e9a3b6d2f1e0c4b7a", "kind": "triage", "status": "done",
        "params": {"id": "@okaforRoutingAdaptersFrozen2024", "note": None},
        "result": {"key": "okaforRoutingAdaptersFrozen2024", "status": "read", "decision": "read", "score": 7.1,
                   "cached": False, "written": False},
        "error": None, "attempts": 1, "created_at": "2026-11-28T12:00:00+00:00",
        "started_at": "2026-11-28T12:00:00+00:00", "finished_at": "2026-11-28T12:00:04+00:00",
    }})


class Decide(BaseModel):
    """A reader's decision; optionally recorded in a note as the reader would write it."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"reason": "need the routing details"}, {"note": "reading-session.md"}]
    })

    reason: str = Field(default="", max_length=2000, description="Why (kept in the history)")
    note: str | None = Field(default=None, max_length=4096, pattern=NOTE_PATTERN,
                             description="Append the entry to this note")


class Undo(BaseModel):
    """Undo the latest decision; optionally append the correction to a note."""

    model_config = ConfigDict(extra="forbid", strict=True)

    note: str | None = Field(default=None, max_length=4096, pattern=NOTE_PATTERN)


class SearchHit(BaseModel):
    """One search result: a paper or a passage."""

    key: str
    kind: str = Field(description="'paper' or 'chunk'")
    score: float = Field(description="Cosine similarity, higher is closer")
    section: str = ""
    page: int | None = None
    text: str = ""
    title: str = ""


class NotePath(BaseModel):
    """A note inside one of the folders open to the API (relative paths: inside the first one that has it)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [{"path": "reading-session.md"}]})

    path: str = Field(min_length=4, max_length=4096, pattern=NOTE_PATTERN)


class RunNote(NotePath):
    """Triage the papers a note mentions that have no log entry yet, and append the entries."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"path": "reading-session.md", "dry_run": True}]
    })

    dry_run: bool = Field(default=False, description="Judge but do not write the note")


class NoteSection(BaseModel):
    title: str
    level: int
    start_line: int
    end_line: int


class NoteEntry(BaseModel):
    status: str
    key: str
    start_line: int
    end_line: int
    children: list[str]
    annotations: list[str]
    images: list[str]


class NoteMention(BaseModel):
    key: str
    line: int
    section: str


class NoteView(BaseModel):
    """A parsed note; lines are 1-based, as editors show them."""

    path: str | None
    sections: list[NoteSection]
    entries: list[NoteEntry]
    mentions: list[NoteMention]
    unskimmed: list[str] = Field(description="Keys mentioned but with no log entry")


class RunPaper(BaseModel):
    key: str
    ok: bool
    message: str
    cached: bool
    decision: str | None
    score: float | None
    critic: str | None


class RunResult(BaseModel):
    """What a note run did."""

    note: str
    written: bool
    dry_run: bool
    skipped: list[str] = Field(description="Keys already in the log")
    papers: list[RunPaper]


class Digest(BaseModel):
    """The newest nightly digest."""

    date: str
    name: str
    markdown: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Bad request", 401: "Missing or wrong bearer token", 403: "Forbidden (note outside the allowed folders)",
        404: "Not found", 409: "Conflicts with the current state", 413: "Request body too large",
        422: "Invalid input", 500: "Internal error (logged)", 502: "An external service failed",
        503: "The server is misconfigured",
    }.items()
}

KeyParam = Annotated[str, PathParam(description="Citekey, with or without @", examples=["okaforRoutingAdaptersFrozen2024"],
                                    max_length=500)]


# -- middleware -------------------------------------------------------------------------


async def _send_error(send: Send, status: int, type_: str, message: str, hint: str = "") -> None:
    body = JSONResponse({"error": {"type": type_, "message": message, "hint": hint}}, status_code=status).body
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413: by Content-Length up front, by counting otherwise."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"request body over {self.max_bytes // 1024} KiB"
        hint = "raise api.max_body_kb if this is legitimate"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit():
                    await _send_error(send, 400, "bad_request", "invalid Content-Length header")
                    return
                if int(value) > self.max_bytes:
                    await _send_error(send, 413, "too_large", too_large, hint)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions from body reading, so this reaches our handler.
                    raise StarletteHTTPException(413, too_large)
            return message

        await self.app(scope, limited, send)


class JsonCORS(CORSMiddleware):
    """Starlette's CORS, whose refused preflight says why in the API's error format rather than in plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ")
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}
        return _error(response.status_code, "cors_refused", f"cross-origin request refused: {refused} not allowed",
                      hint="add the page's origin to api.cors_origins if it should call the API", headers=headers)


class HostCheck:
    """Refuse requests whose ``Host`` header names neither the bound address nor an allowed name (DNS rebinding)."""

    def __init__(self, app: ASGIApp, allowed: set[str]) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            name = _host_name(host)
            if name not in self.allowed:
                await _send_error(send, 400, "invalid_host", f"this server does not answer to the host {host[:100]!r}",
                                  hint="call it by the address it listens on, or add the name to api.allowed_hosts")
                return
        await self.app(scope, receive, send)


def _host_name(host: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8765`` -> ``::1``, ``localhost:8765`` -> ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(settings: Settings) -> set[str]:
    """The names the API answers to: its bind address, loopback's names when bound there, and ``api.allowed_hosts``."""
    bound = _host_name(settings.api.host) if not settings.api.host.startswith("[") else settings.api.host.strip("[]")
    names = {bound.lower(), *(h.lower() for h in settings.api.allowed_hosts)}
    if is_loopback(bound) or bound in ("0.0.0.0", "::", ""):
        names |= {"localhost", "127.0.0.1", "::1"}
    if bound in ("0.0.0.0", "::", ""):
        import socket

        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names


# -- the app ------------------------------------------------------------------------------


def _error(status: int, type_: str, message: str, hint: str = "", headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message, "hint": hint}}, status_code=status, headers=headers)


_HTTP_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               406: "not_acceptable", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_input"}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, exc.type, exc.message, exc.hint, headers)

    @app.exception_handler(TriageError)
    async def triage_error(request: Request, exc: TriageError) -> JSONResponse:
        return _error(_status_for(exc), type(exc).__name__, exc.message, exc.hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; list every method of the resource.
            allowed: set[str] = set()
            for route in request.app.router.routes:
                if route.matches(request.scope)[0] is not Match.NONE:
                    allowed |= set(getattr(route, "methods", None) or ())
            headers["Allow"] = ", ".join(sorted(allowed))
        return _error(exc.status_code, _HTTP_TYPES.get(exc.status_code, "http_error"), message, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors()[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        return _error(422, "invalid_input", "; ".join(problems) or "invalid request",
                      hint="see /openapi.json for the expected shape")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal", "internal error; the details are in the server log")


def create_app(settings: Settings, *, core: Any = None, workers: int = 2) -> FastAPI:
    """The FastAPI app over ``core`` (a ``triage.service.Triage``; built from ``settings`` when omitted).

    ``workers`` is the size of the job thread pool; 0 queues jobs without
    running them (another server on the same data home will).
    """
    if core is None:
        from triage.service import Triage

        core = Triage(settings)
    token = load_or_create_token(settings)
    token_bytes = token.encode()
    core.open()  # the database and its migrations (the jobs table) before the job store
    jobs = JobRunner(JobStore(settings.db_path), {"triage": _triage_handler(core, settings)}, workers=workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        jobs.start()
        try:
            yield
        finally:
            jobs.stop(wait=True)

    app = FastAPI(
        title="triage",
        version=__version__,
        description="Paper triage for note tools. Every endpoint but /health needs `Authorization: Bearer <token>` "
                    "(`triage serve --show-token`). Errors are `{\"error\": {\"type\", \"message\", \"hint\"}}`.",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.core = core
    app.state.jobs = jobs
    app.state.settings = settings
    _install_error_handlers(app)
    # Added inner first: CORS wraps the body limit, so a 413 still carries CORS headers; the Host check is outermost.
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_kb * 1024)
    app.add_middleware(
        JsonCORS,
        allow_origins=list(settings.api.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    app.add_middleware(HostCheck, allowed=allowed_hosts(settings))

    bearer = HTTPBearer(auto_error=False, description="The token from `triage serve --show-token`")

    def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        given = credentials.credentials.encode() if credentials else b""
        if not credentials or not hmac.compare_digest(given, token_bytes):
            raise ApiError(401, "unauthorized", "missing or wrong bearer token",
                           hint="send 'Authorization: Bearer <token>'; 'triage serve --show-token' prints it")

    def refuse_unknown_query(request: Request) -> None:
        # A misspelt parameter (``?stauts=read``) silently ignored returns the wrong list; say so instead.
        route = request.scope.get("route")
        declared = {param.alias for param in route.dependant.query_params} if route is not None else set()
        unknown = sorted({name for name, _ in request.query_params.multi_items()} - declared)
        if unknown:
            raise ApiError(422, "invalid_input", f"unknown query parameter(s): {', '.join(map(repr, unknown))}",
                           hint=f"this endpoint takes: {', '.join(sorted(declared)) or 'no query parameters'}")

    api = APIRouter(dependencies=[Depends(require_token), Depends(refuse_unknown_query)], responses=ERRORS)
    dirs = settings.api.note_dirs

    def note_or_none(raw: str | None) -> Path | None:
        return confine_note(raw, dirs) if raw is not None else None

    def known(key: str, *, brief: bool = True) -> PaperView:
        view = core.paper(key.lstrip("@"), brief=brief, extract=True)
        if view is None:
            raise ApiError(404, "not_found", f"no paper @{key.lstrip('@')}", hint="add it with POST /papers")
        return view

    @app.get("/health", response_model=Health, tags=["meta"])
    def health() -> Health:
        """Liveness; the only endpoint without a token."""
        return Health()

    @api.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict:
        return app.openapi()

    @api.get("/papers", response_model=PaperList, tags=["papers"])
    def list_papers(
        status: Annotated[Status | None, Query(description="Only papers at this status")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> PaperList:
        """Papers, most recently changed first."""
        return PaperList(papers=core.papers(status, limit=limit, offset=offset), counts=core.counts())

    @api.get("/papers/{key}", response_model=PaperView, tags=["papers"])
    def get_paper(key: KeyParam) -> PaperView:
        """One paper with its sections summary, latest verdict and history."""
        return known(key, brief=False)

    @api.post("/papers", status_code=202, response_model=JobOut, tags=["papers"])
    def add_paper(body: AddPaper, request: Request) -> JSONResponse:
        """Triage a paper (citekey, arXiv id or URL) in the background; poll the job. Same paper, same job."""
        note = note_or_none(body.note)
        target = job_target(body.id, note)
        params = {"id": body.id.strip(), "note": str(note) if note else None, "pick": body.pick}
        job, _created = jobs.submit("triage", target, params)
        return JSONResponse(jsonable_encoder(job.to_dict()), status_code=202, headers={"Location": f"/jobs/{job.id}"})

    @api.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
    def get_job(job_id: Annotated[str, PathParam(max_length=64, examples=["5f0c2a9e8b7d4c1e9a3b6d2f1e0c4b7a"])]) -> dict:
        """A job's status (queued, running, done, error), its result or its error."""
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id}")
        return job.to_dict()

    def _decide(action: str, key: str, body: Decide | None) -> Transition:
        record = known(key)
        body = body or Decide()
        note = note_or_none(body.note)
        return getattr(core, action)(record.key, reason=body.reason, note=note, source="api")

    @api.post("/papers/{key}/promote", response_model=Transition, tags=["decisions"])
    def promote(key: KeyParam, body: Annotated[Decide | None, Body()] = None) -> Transition:
        """Promote a paper to read (a reader decision); with ``note``, a ``- [read(@key)]`` entry is appended."""
        return _decide("promote", key, body)

    @api.post("/papers/{key}/keep", response_model=Transition, tags=["decisions"])
    def keep(key: KeyParam, body: Annotated[Decide | None, Body()] = None) -> Transition:
        """Keep a paper at skim (a reader decision: worth the skim, not a full reading)."""
        return _decide("keep", key, body)

    @api.post("/papers/{key}/drop", response_model=Transition, tags=["decisions"])
    def drop(key: KeyParam, body: Annotated[Decide | None, Body()] = None) -> Transition:
        """Drop a paper (a reader decision)."""
        return _decide("drop", key, body)

    @api.post("/papers/{key}/undo", response_model=Transition, tags=["decisions"])
    def undo(key: KeyParam, body: Annotated[Undo | None, Body()] = None) -> Transition:
        """Undo the latest decision; a note keeps what was written and gets the correction appended."""
        record = known(key)
        note = note_or_none(body.note if body else None)
        return core.undo(record.key, note=note, source="api")

    @api.get("/papers/{key}/history", response_model=list[Transition], tags=["decisions"])
    def history(key: KeyParam) -> list[Transition]:
        """Every status change of a paper: who, when, why."""
        return core.history(known(key).key)

    @api.get("/search", response_model=list[SearchHit], tags=["search"])
    def search(
        q: Annotated[str, Query(min_length=1, max_length=1000, description="What to look for, in plain words",
                                examples=["routing functions for adapters"])],
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        status: Annotated[Status | None, Query(description="Only papers at this status")] = None,
    ) -> list[SearchHit]:
        """Semantic search over the papers and passages triaged so far."""
        if not core.counts():
            return []  # nothing triaged yet: no need to load the index and the embedding model
        return [SearchHit(**h.model_dump()) for h in core.search(q, k=k, status=status)]

    @api.get("/papers/{key}/similar", response_model=list[SearchHit], tags=["search"])
    def similar(key: KeyParam, k: Annotated[int, Query(ge=1, le=100)] = 5) -> list[SearchHit]:
        """Papers like this one."""
        record = known(key)
        try:
            hits = core.similar(record.key, k=k)
        except StoreError as exc:
            raise ApiError(404, "not_indexed", exc.message, exc.hint) from None
        return [SearchHit(**h.model_dump()) for h in hits]

    @api.post("/notes/parse", response_model=NoteView, tags=["notes"])
    def parse_note(body: NotePath) -> dict:
        """A note's sections, log entries and @key mentions; the entries you wrote are recorded as your decisions."""
        return core.read_note(confine_note(body.path, dirs)).to_dict()

    @api.post("/notes/run", response_model=RunResult, tags=["notes"])
    def run_note(body: RunNote) -> dict:
        """Triage every paper the note mentions that is not in its log yet, and append the entries (atomic)."""
        return core.run_note(confine_note(body.path, dirs), dry_run=body.dry_run).to_dict()

    @api.get("/digests/latest", response_model=Digest, tags=["digests"])
    def latest_digest() -> Digest:
        """The newest nightly digest (``digests/YYYY-MM-DD.md`` in the data home)."""
        folder = settings.digests_dir
        found = sorted(p for p in folder.glob("*.md") if re.fullmatch(r"\d{4}-\d{2}-\d{2}\.md", p.name)) \
            if folder.is_dir() else []
        if not found:
            raise ApiError(404, "not_found", "no digest yet", hint="run 'triage digest' (or schedule it)")
        latest = found[-1]
        try:
            text = latest.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ApiError(503, "unavailable", f"cannot read {latest.name}: {exc.strerror or exc}") from None
        return Digest(date=latest.stem, name=latest.name, markdown=text)

    app.include_router(api)
    return app
