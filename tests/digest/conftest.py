"""Fixtures for the digest tests: a core on the per-test data home, feeds, and critics that count or fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.digest.support import RECORDED, CountingCritic
from tests.servers.openai_scripted import openai_server  # noqa: F401 - the scripted LLM endpoint fixture
from triage.config import Settings
from triage.service import Triage


@pytest.fixture
def core() -> Triage:
    """A core on this test's data home (the autouse fixture sets TRIAGE_HOME)."""
    t = Triage(Settings.load())
    yield t
    t.close()


@pytest.fixture
def counting(core: Triage):
    """Build a CountingCritic around the real offline MiniLM critic."""

    def make(**kwargs) -> CountingCritic:
        return CountingCritic(core.make_critic("offline"), **kwargs)

    return make


@pytest.fixture
def recorded_feed() -> Path:
    """The real rss.arxiv.org cs.AI feed from ../shared; skipped when absent."""
    if not RECORDED.is_file():
        pytest.skip("../shared/corpus/atom/rss is not present")
    return RECORDED
