"""Shared fixtures: every test gets its own data home, and the real corpus when present."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SAMPLE = REPO / "data" / "sample"

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


def _make_samples(out: Path) -> list[Path]:
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "data" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module.make_samples(out)


@pytest.fixture(scope="session")
def sample_papers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample library with freshly generated PDFs, in a scratch folder."""
    root = tmp_path_factory.mktemp("sample")
    _make_samples(root / "papers")
    shutil.copy(SAMPLE / "library.bib", root / "library.bib")
    return root


@pytest.fixture
def workspace(sample_papers: Path, tmp_path: Path) -> Path:
    """A scratch copy of the sample note next to the sample library."""
    shutil.copy(SAMPLE / "reading-session.md", tmp_path / "note.md")
    return tmp_path
