"""Property-based tests generated from the OpenAPI schema (schemathesis 4) against the running server.

Every operation gets examples from the schema's own ``examples`` plus
generated valid and invalid inputs; every response is checked by
schemathesis' default checks: no 5xx, status codes and bodies as documented,
invalid input rejected, valid input not rejected, auth enforced.  The state
holds one paper and the vault one note, so the examples reach past the 404s.
Jobs only queue here (``workers=0``): running them is tested elsewhere, and
a fuzzer feeding the critic would only make this slow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.support import live_server, make_settings
from triage.api import create_app, load_or_create_token
from triage.models import Paper

MAX_EXAMPLES = 12
CALLS: list[str] = []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sample_library: Path) -> Iterator[tuple[str, dict]]:
    """A real uvicorn on a loopback port over a data home with one paper and a note."""
    home = tmp_path_factory.mktemp("fuzz-home")
    vault = tmp_path_factory.mktemp("fuzz-vault")
    (vault / "reading-session.md").write_text(
        "## Context\n- @okaforRoutingAdaptersFrozen2024\n\n## Log\n- [skim(@okaforRoutingAdaptersFrozen2024)]\n  - seen\n",
        encoding="utf-8",
    )
    config = make_settings(home, sample_library, vault)
    app = create_app(config, workers=0)
    app.state.core._state.upsert_paper(Paper(key="okaforRoutingAdaptersFrozen2024", title="Routing Adapters"))
    app.state.core.embedder.embed(["warm up"])  # the model loads once, not inside a request's timeout
    with live_server(app) as url:
        yield url, {"Authorization": f"Bearer {load_or_create_token(config)}"}
    app.state.core.close()
    print(f"\nschemathesis: {len(CALLS)} calls, {len(set(CALLS))} operations")


@pytest.fixture(scope="module")
def api_schema(server: tuple[str, dict]):
    url, auth = server
    return schemathesis.openapi.from_url(f"{url}/openapi.json", headers=auth)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_the_schema_holds(case, server: tuple[str, dict]) -> None:
    url, auth = server
    CALLS.append(case.operation.label)
    case.call_and_validate(base_url=url, headers=auth, timeout=60)
