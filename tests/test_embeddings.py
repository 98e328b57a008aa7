"""The local model in a child process gives the same vectors as in process, and survives its child dying."""

from __future__ import annotations

import math

import pytest

from triage.config import EmbeddingSettings
from triage.embeddings import ChildProcessMiniLM, LocalMiniLM, get_embedder
from triage.errors import ConfigError

TEXTS = ["Adapters route between frozen vision and language backbones.", "Gradient boosted trees for crop yield."]


@pytest.fixture(scope="module")
def child() -> ChildProcessMiniLM:
    embedder = ChildProcessMiniLM(batch_size=1)  # a round trip per text: batching across trips is exercised
    yield embedder
    embedder.close()


def test_the_child_gives_the_in_process_vectors_under_the_same_name(child: ChildProcessMiniLM) -> None:
    here = get_embedder(EmbeddingSettings())
    assert isinstance(here, LocalMiniLM) and child.name == here.name  # one index serves both
    for a, b in zip(child.embed(TEXTS), here.embed(TEXTS), strict=True):
        assert len(a) == 384 and math.isclose(sum(x * y for x, y in zip(a, b)), 1.0, rel_tol=1e-5)
    assert child.embed([]) == []


def test_a_dead_child_is_a_clear_error_then_a_fresh_child(child: ChildProcessMiniLM) -> None:
    child.embed(TEXTS[:1])
    child._process.kill()
    child._process.wait()
    with pytest.raises(ConfigError, match="embedding process stopped"):
        child.embed(TEXTS)
    assert len(child.embed(TEXTS)) == 2  # the next call starts a new child


def test_settings_choose_the_child() -> None:
    assert isinstance(get_embedder(EmbeddingSettings(child_process=True)), ChildProcessMiniLM)
