"""Shared fixtures: every test gets its own data home, and the real corpus when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"

# No test may reach a model hub: the local MiniLM loads from its package path.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def triage_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the data home and config file at a fresh temp dir, and hide any real LLM endpoint."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TRIAGE_HOME", str(home))
    monkeypatch.setenv("TRIAGE_CONFIG", str(home / "config.toml"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real papers and recordings; skips when ``../shared`` is absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present (a fresh user clone has none)")
    return CORPUS
