"""Fixtures for the API tests: the sample library with generated PDFs, a vault with a note, an app and a client."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.support import make_settings
from tests.conftest import REPO
from triage.api import create_app, read_token
from triage.config import Settings

SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="session")
def sample_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``library.bib`` next to freshly generated sample PDFs, in a scratch folder."""
    root = tmp_path_factory.mktemp("api-sample")
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "data" / "make_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_samples(root / "papers")
    shutil.copy(SAMPLE / "library.bib", root / "library.bib")
    return root / "library.bib"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A notes folder open to the API, holding a copy of the sample reading note."""
    folder = tmp_path / "vault"
    folder.mkdir()
    shutil.copy(SAMPLE / "reading-session.md", folder / "reading-session.md")
    return folder


@pytest.fixture
def settings(triage_home: Path, sample_library: Path, vault: Path) -> Settings:
    """Offline settings on this test's data home."""
    return make_settings(triage_home, sample_library, vault)


@pytest.fixture
def auth(settings: Settings) -> dict[str, str]:
    """The Authorization header (the token is created on first use, so build the app first)."""
    from triage.api import load_or_create_token

    return {"Authorization": f"Bearer {load_or_create_token(settings)}"}


@pytest.fixture
def client(settings: Settings, auth: dict[str, str]):
    """An in-process client with the lifespan running (jobs start)."""
    app = create_app(settings)
    assert read_token(settings) == auth["Authorization"].split()[1]
    with TestClient(app) as c:
        yield c
    app.state.core.close()
