"""The API in process (TestClient): auth, note-path confinement, limits, JSON errors, jobs and the paper flow."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.api.support import wait_job
from triage.api import create_app, load_or_create_token, token_path
from triage.cli import app as cli_app
from triage.config import Settings
from triage.models import Paper

KEY = "okaforRoutingAdaptersFrozen2024"


def assert_error(response, status: int, type_: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "hint"}
    assert "Traceback" not in response.text
    if type_:
        assert body["error"]["type"] == type_
    return body["error"]


# -- auth -----------------------------------------------------------------------------

PROTECTED = [
    ("GET", "/openapi.json", None),
    ("GET", "/papers", None),
    ("GET", f"/papers/{KEY}", None),
    ("POST", "/papers", {"id": KEY}),
    ("GET", "/jobs/abc", None),
    ("POST", f"/papers/{KEY}/promote", {}),
    ("POST", f"/papers/{KEY}/drop", {}),
    ("POST", f"/papers/{KEY}/undo", {}),
    ("GET", f"/papers/{KEY}/history", None),
    ("GET", "/search?q=adapters", None),
    ("GET", f"/papers/{KEY}/similar", None),
    ("POST", "/notes/parse", {"path": "reading-session.md"}),
    ("POST", "/notes/run", {"path": "reading-session.md", "dry_run": True}),
    ("GET", "/digests/latest", None),
]


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "version": "0.1.0"}


def test_every_route_is_listed_here(client: TestClient) -> None:
    """A new endpoint must join PROTECTED (and so the auth tests) or be /health."""
    paths = {r.path for r in client.app.routes if getattr(r, "methods", None)}
    listed = {p.split("?")[0].replace(KEY, "{key}").replace("/abc", "/{job_id}") for _, p, _ in PROTECTED}
    assert paths - listed == {"/health"}


def test_missing_or_wrong_token_is_401(client: TestClient, auth: dict) -> None:
    token = auth["Authorization"].split()[1]
    wrong = [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer ", "bearer", f"Bearer {token[:-1]}",
             f"Bearer {token}x", f"Basic {token}", f"Bearer {token.upper()}"]
    for method, path, body in PROTECTED:
        for header in wrong:
            headers = {"Authorization": header} if header is not None else {}
            response = client.request(method, path, json=body, headers=headers)
            assert_error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"


def test_the_token_in_the_query_string_is_not_accepted(client: TestClient, auth: dict) -> None:
    token = auth["Authorization"].split()[1]
    assert_error(client.get("/papers", params={"token": token, "access_token": token}), 401)


def test_token_is_stored_0600_and_stable(settings: Settings, auth: dict) -> None:
    path = token_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(settings) == auth["Authorization"].split()[1]
    assert len(auth["Authorization"].split()[1]) >= 40


def test_a_token_file_readable_by_others_is_tightened(settings: Settings, auth: dict) -> None:
    path = token_path(settings)
    os.chmod(path, 0o644)
    assert load_or_create_token(settings) == auth["Authorization"].split()[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- note paths -----------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A note outside the vault that no request may read or change."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text("## Log\n- [skim(@secretKey2020)]\n", encoding="utf-8")
    return folder


def attacks(vault: Path, outside: Path) -> list[tuple[str, int]]:
    (vault / "sub").mkdir()
    (vault / "link-out.md").symlink_to(outside / "secret.md")
    (vault / "dir-out").symlink_to(outside)
    (vault / "plain.txt").write_text("not a note")
    (vault / "looks.md").symlink_to(vault / "plain.txt")
    (vault / "folder.md").mkdir()
    return [
        ("../outside/secret.md", 403),
        ("sub/../../outside/secret.md", 403),
        ("sub/../reading-session.md", 403),  # '..' is refused even when it stays inside
        ("..\\outside\\secret.md", 403),
        (str(outside / "secret.md"), 403),
        ("link-out.md", 403),  # a symlink out of the vault
        ("dir-out/secret.md", 403),  # a symlinked folder out of the vault
        ("looks.md", 403),  # a .md name that resolves to a non-markdown file
        ("/etc/passwd", 422),
        ("plain.txt", 422),
        ("reading-session.md\x00.txt", 422),
        ("reading-session.txt\x00.md", 422),
        ("missing.md", 404),
        ("folder.md", 422),
        (str(vault / "reading-session.md") + "/../../outside/secret.md", 403),
    ]


def test_note_paths_are_confined(client: TestClient, auth: dict, vault: Path, outside: Path) -> None:
    before = (outside / "secret.md").read_bytes()
    for path, status in attacks(vault, outside):
        for route, extra in (("/notes/parse", {}), ("/notes/run", {"dry_run": False})):
            response = client.post(route, json={"path": path, **extra}, headers=auth)
            error = assert_error(response, status)
            assert "secretKey2020" not in response.text, (route, path, error)
        response = client.post("/papers", json={"id": KEY, "note": path}, headers=auth)
        assert_error(response, status)
    assert (outside / "secret.md").read_bytes() == before


def test_decisions_with_a_note_outside_change_nothing(client: TestClient, auth: dict, outside: Path) -> None:
    before = (outside / "secret.md").read_bytes()
    client.app.state.core._state.upsert_paper(Paper(key=KEY, title="Routing Adapters"))
    client.post(f"/papers/{KEY}/promote", headers=auth).raise_for_status()
    history = client.get(f"/papers/{KEY}/history", headers=auth).json()
    for action in ("promote", "drop", "undo"):
        response = client.post(f"/papers/{KEY}/{action}", json={"note": str(outside / "secret.md")}, headers=auth)
        assert_error(response, 403)
    assert (outside / "secret.md").read_bytes() == before
    assert client.get(f"/papers/{KEY}/history", headers=auth).json() == history  # refused before deciding


def test_no_note_folder_configured_means_no_note_access(settings: Settings, auth: dict) -> None:
    closed = settings.model_copy(update={"api": settings.api.model_copy(update={"note_dirs": []})})
    with TestClient(create_app(closed)) as c:
        error = assert_error(c.post("/notes/parse", json={"path": "reading-session.md"}, headers=auth), 403)
        assert "note_dirs" in error["hint"]


# -- limits and errors ------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(client: TestClient, auth: dict) -> None:
    big = '{"path": "' + "a" * (300 * 1024) + '.md"}'
    headers = {**auth, "content-type": "application/json"}
    assert_error(client.post("/notes/parse", content=big, headers=headers), 413, "too_large")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(300):
            yield b" " * 1024

    assert_error(client.post("/notes/parse", content=chunks(), headers=headers), 413, "too_large")


def test_invalid_input_is_422_json(client: TestClient, auth: dict) -> None:
    assert_error(client.post("/papers", json={"nope": 1}, headers=auth), 422, "invalid_input")
    assert_error(client.post("/papers", content=b"{not json", headers={**auth, "content-type": "application/json"}), 422)
    assert_error(client.get("/papers", params={"status": "maybe"}, headers=auth), 422)
    assert_error(client.get("/search", params={"q": "x", "k": 0}, headers=auth), 422)
    assert_error(client.post("/papers", json={"id": "   "}, headers=auth), 422)


def test_an_unknown_query_parameter_is_422_not_silently_ignored(client: TestClient, auth: dict) -> None:
    error = assert_error(client.get("/papers", params={"stauts": "read"}, headers=auth), 422, "invalid_input")
    assert "'stauts'" in error["message"] and "status" in error["hint"]
    assert_error(client.get("/papers?=V", headers=auth), 422)  # a nameless parameter is unknown too
    assert client.get("/papers", params={"status": "read", "limit": 5}, headers=auth).status_code == 200


def test_unknown_things_are_404(client: TestClient, auth: dict) -> None:
    assert_error(client.get("/papers/doeUnknownPaperNowhere2021", headers=auth), 404, "not_found")
    assert_error(client.post("/papers/doeUnknownPaperNowhere2021/promote", headers=auth), 404)
    assert_error(client.get("/papers/doeUnknownPaperNowhere2021/similar", headers=auth), 404)
    assert_error(client.get("/jobs/nope", headers=auth), 404)
    assert_error(client.get("/digests/latest", headers=auth), 404)
    assert_error(client.get("/no/such/route", headers=auth), 404)
    assert_error(client.delete("/papers", headers=auth), 405)


def test_an_unexpected_error_is_a_logged_json_500(settings: Settings, auth: dict, caplog) -> None:
    app = create_app(settings)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    app.state.core._state.counts = broken
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/papers", headers=auth)
    error = assert_error(response, 500, "internal")
    assert "secret internals" not in response.text and "RuntimeError" not in error["message"]
    assert "secret internals" in caplog.text


def test_cors_allows_obsidian_only(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    ok = client.options("/papers", headers={"Origin": "app://obsidian.md", **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "app://obsidian.md"
    evil = client.options("/papers", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in evil.headers
    assert client.get("/health", headers={"Origin": "app://obsidian.md"}).headers["access-control-allow-origin"]


def test_openapi_has_examples_and_the_bearer_scheme(client: TestClient, auth: dict) -> None:
    schema = client.get("/openapi.json", headers=auth).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "security" not in schema["paths"]["/health"]["get"]
    assert schema["paths"]["/papers"]["post"]["security"] == [{"HTTPBearer": []}]
    assert schema["components"]["schemas"]["AddPaper"]["examples"]
    assert schema["paths"]["/papers"]["post"]["responses"]["401"]["content"]["application/json"]


# -- jobs ---------------------------------------------------------------------------------


def test_two_requests_for_the_same_paper_share_one_job(settings: Settings, auth: dict, vault: Path) -> None:
    app = create_app(settings, workers=0)  # jobs only queue, so the first is still active for the second
    with TestClient(app) as c:
        first = c.post("/papers", json={"id": f"@{KEY}"}, headers=auth)
        assert first.status_code == 202 and first.headers["location"] == f"/jobs/{first.json()['id']}"
        assert first.json()["status"] == "queued"
        assert c.post("/papers", json={"id": KEY}, headers=auth).json()["id"] == first.json()["id"]
        assert c.post("/papers", json={"id": f"  @{KEY} "}, headers=auth).json()["id"] == first.json()["id"]
        # With a note it is other work (an entry to write): its own job, shared in turn.
        with_note = c.post("/papers", json={"id": KEY, "note": "reading-session.md"}, headers=auth).json()["id"]
        assert with_note != first.json()["id"]
        assert c.post("/papers", json={"id": KEY, "note": str(vault / "reading-session.md")}, headers=auth).json()["id"] == with_note
        # arXiv ids in their several spellings are one paper too.
        ids = {c.post("/papers", json={"id": i}, headers=auth).json()["id"] for i in
               ("2306.10457", "arXiv:2306.10457", "https://arxiv.org/abs/2306.10457", "https://arxiv.org/pdf/2306.10457.pdf")}
        assert len(ids) == 1

        found: list[str] = []

        def post() -> None:
            found.append(c.post("/papers", json={"id": "@brennanSparseMixturesModular2023"}, headers=auth).json()["id"])

        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(found)) == 1


def test_a_job_that_fails_says_why(client: TestClient, auth: dict) -> None:
    job = client.post("/papers", json={"id": "@doeUnknownPaperNowhere2021"}, headers=auth).json()
    done = wait_job(client, job["id"], auth)
    assert done["status"] == "error" and done["result"] is None
    # Offline (as these settings are), a key the library lacks needs the network: OfflineMiss, a SourceError.
    assert done["error"]["type"] == "OfflineMiss" and "doeUnknownPaperNowhere2021" in done["error"]["message"]
    # A failed job does not absorb the next request: it gets a new one.
    again = client.post("/papers", json={"id": "@doeUnknownPaperNowhere2021"}, headers=auth).json()
    assert again["id"] != job["id"]


def test_an_ambiguous_key_fails_with_the_candidates_then_a_pick_settles_it(settings: Settings, auth: dict) -> None:
    from tests.servers.arxiv_replay import ArxivReplay
    from tests.sources.conftest import AMBIGUOUS_KEY, ATOM, PICKED, serve_the_pick
    from triage.config import ArxivSettings

    with ArxivReplay() as arxiv:
        arxiv.load_atom_dir(ATOM)
        serve_the_pick(arxiv)
        online = settings.model_copy(update={"arxiv": ArxivSettings(api_url=arxiv.api_url, pdf_url=arxiv.pdf_url,
                                                                     delay_s=0.0, max_retries=0)})
        online.fetch.offline = False
        app = create_app(online)
        with TestClient(app) as client:
            failed = wait_job(client, client.post("/papers", json={"id": f"@{AMBIGUOUS_KEY}"},
                                                  headers=auth).json()["id"], auth)
            assert failed["error"]["type"] == "AmbiguousKeyError"
            assert "2201.04567" in failed["error"]["message"] and "pick" in failed["error"]["hint"]
            assert_error(client.post("/papers", json={"id": f"@{AMBIGUOUS_KEY}", "pick": "../x"}, headers=auth), 422)
            picked = client.post("/papers", json={"id": f"@{AMBIGUOUS_KEY}", "pick": PICKED}, headers=auth).json()
            done = wait_job(client, picked["id"], auth)
            assert done["status"] == "done", done["error"]
            assert client.get(f"/papers/{AMBIGUOUS_KEY}", headers=auth).json()["paper"]["arxiv_id"] == PICKED
        app.state.core.close()


# -- the paper flow -------------------------------------------------------------------------


def test_add_read_decide_search(client: TestClient, auth: dict, vault: Path) -> None:
    note = vault / "reading-session.md"
    job = client.post("/papers", json={"id": f"@{KEY}", "note": "reading-session.md"}, headers=auth).json()
    done = wait_job(client, job["id"], auth)
    assert done["status"] == "done", done
    result = done["result"]
    assert result["key"] == KEY and result["decision"] == "read" and result["status"] == "read" and result["written"]
    assert f"- [skim(@{KEY})]" in note.read_text(encoding="utf-8")

    paper = client.get(f"/papers/@{KEY}", headers=auth).json()
    assert paper["status"] == "read" and paper["verdict"]["decision"] == "read"
    assert paper["sections"]["conclusion_found"] and "adapter" in paper["sections"]["abstract"].lower()
    assert paper["history"][0]["actor"] == "critic"

    listed = client.get("/papers", params={"status": "read"}, headers=auth).json()
    assert [p["key"] for p in listed["papers"]] == [KEY] and listed["counts"] == {"read": 1}
    assert listed["papers"][0]["decision"] == "read" and listed["papers"][0]["title"] == paper["title"]

    # One PaperView: the TUI's detail pane, the API and the CLI's --json show the same record.
    assert paper == client.app.state.core.paper(KEY).model_dump(mode="json")
    shown = CliRunner().invoke(cli_app, ["--offline", "show", KEY, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == paper
    listed_cli = CliRunner().invoke(cli_app, ["--offline", "papers", "--status", "read", "--json"])
    assert json.loads(listed_cli.stdout) == listed["papers"]

    drop = client.post(f"/papers/{KEY}/drop", json={"reason": "not now", "note": "reading-session.md"}, headers=auth)
    assert drop.status_code == 200 and drop.json()["new"] == "dropped" and drop.json()["actor"] == "reader"
    undo = client.post(f"/papers/{KEY}/undo", headers=auth).json()
    assert undo["new"] == "read"
    assert client.post(f"/papers/{KEY}/undo", headers=auth).json()["new"] == "queued"  # the critic's decision
    assert_error(client.post(f"/papers/{KEY}/undo", headers=auth), 409)  # nothing left to undo

    hits = client.get("/search", params={"q": "routing adapters on frozen backbones", "k": 3}, headers=auth).json()
    assert hits and hits[0]["key"] == KEY
    assert client.get(f"/papers/{KEY}/similar", headers=auth).json() == []  # the only paper indexed

    parsed = client.post("/notes/parse", json={"path": "reading-session.md"}, headers=auth).json()
    assert KEY in {e["key"] for e in parsed["entries"]}
    # A run triages what the note mentions and its log lacks (one paper here, to keep the test fast).
    small = vault / "small.md"
    small.write_text(f"## Context\n- @{KEY} and @doeUnknownPaperNowhere2021\n\n## Log\n", encoding="utf-8")
    before = small.read_bytes()
    run = client.post("/notes/run", json={"path": "small.md", "dry_run": True}, headers=auth).json()
    assert run["dry_run"] and not run["written"] and run["skipped"] == []
    assert {p["key"]: p["ok"] for p in run["papers"]} == {KEY: True, "doeUnknownPaperNowhere2021": False}
    assert small.read_bytes() == before
    run = client.post("/notes/run", json={"path": str(small)}, headers=auth).json()
    assert run["written"] and f"- [skim(@{KEY})]" in small.read_text(encoding="utf-8")


def test_latest_digest(client: TestClient, auth: dict, settings: Settings) -> None:
    settings.digests_dir.mkdir(parents=True, exist_ok=True)
    (settings.digests_dir / "2026-11-26.md").write_text("old", encoding="utf-8")
    (settings.digests_dir / "2026-11-27.md").write_text("# Digest 2026-11-27\n", encoding="utf-8")
    (settings.digests_dir / "notes.md").write_text("not a digest", encoding="utf-8")
    got = client.get("/digests/latest", headers=auth).json()
    assert got == {"date": "2026-11-27", "name": "2026-11-27.md", "markdown": "# Digest 2026-11-27\n"}


# -- the JSON error everywhere, the Host header (issue 19) --------------------------------------------


def test_a_refused_cors_preflight_answers_the_json_error(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    evil = client.options("/papers", headers={"Origin": "https://evil.example", **preflight})
    error = assert_error(evil, 400, "cors_refused")
    assert "api.cors_origins" in error["hint"] and "access-control-allow-origin" not in evil.headers


@pytest.mark.parametrize("host, allowed", [
    ("evil.example", False), ("evil.example:8765", False), ("127.0.0.1.evil.example", False),
    ("127.0.0.1:8765", True), ("localhost:8765", True), ("[::1]:8765", True), ("testserver", True),
])
def test_the_host_header_must_name_this_server(settings: Settings, host: str, allowed: bool) -> None:
    settings.api.host = "127.0.0.1"
    with TestClient(create_app(settings)) as c:
        response = c.get("/health", headers={"Host": host})
    if allowed:
        assert response.status_code == 200
    else:
        error = assert_error(response, 400, "invalid_host")
        assert "api.allowed_hosts" in error["hint"]
