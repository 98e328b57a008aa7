"""Fixtures for the critic tests: the scripted OpenAI server and small papers."""

from __future__ import annotations

import pytest

from tests.servers.openai_scripted import ScriptedOpenAI, openai_server  # noqa: F401 (fixture)
from triage.config import LLMSettings
from triage.critic.constitution import Constitution, load_constitution
from triage.critic.llm import LLMCritic
from triage.models import Paper, Sections

ABSTRACT = (
    "We study adapters that route between frozen vision and language towers. "
    "A learned router selects two of sixteen adapters per token and the backbones stay frozen. "
    "On five benchmarks the routed adapters match full fine-tuning with 0.8% of the trainable parameters."
)
CONCLUSION = (
    "Routing between small adapters on frozen backbones recovers most of the quality of full fine-tuning. "
    "Ablations show that the router, not the adapter size, explains the gains. "
    "Limits remain: we only tested English captions and two backbone pairs."
)


def make_paper(i: int = 0, conclusion: str = CONCLUSION, abstract: str = ABSTRACT) -> tuple[Paper, Sections]:
    """A paper and its sections; ``i`` varies the content hash (and the title, for ``push_for``)."""
    title = f"Routing Adapters on Frozen Towers {i}"
    paper = Paper(key=f"paper{i}", title=title)
    sections = Sections(title=title, abstract=abstract, conclusion=conclusion, conclusion_found=True,
                        conclusion_heading="Conclusion", sha256=f"{i:064x}")
    return paper, sections


@pytest.fixture
def constitution() -> Constitution:
    """The shipped six-principle constitution."""
    return load_constitution()


@pytest.fixture
def llm_settings(openai_server: ScriptedOpenAI) -> LLMSettings:  # noqa: F811
    """LLM settings pointing at the scripted server, with short timeouts."""
    return LLMSettings(model="scripted-model", base_url=openai_server.url, api_key="test-key",
                       timeout_s=2.0, max_retries=3)


@pytest.fixture
def critic(llm_settings: LLMSettings, tmp_path) -> LLMCritic:
    """An LLM critic against the scripted server; backoff without real sleeping."""
    return LLMCritic(llm_settings, trace_dir=tmp_path / "traces", backoff_s=0.01)


def _load_make_samples():
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("make_samples", REPO / "data" / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory):
    """A scratch folder with the sample ``library.bib`` and its generated ``papers/`` (skips when absent)."""
    import shutil

    from tests.conftest import REPO

    sample = REPO / "data" / "sample"
    if not (REPO / "data" / "make_samples.py").is_file() or not (sample / "library.bib").is_file():
        pytest.skip("the sample data (data/make_samples.py, data/sample/) is not there yet")
    root = tmp_path_factory.mktemp("samples")
    _load_make_samples().make_samples(root / "papers")
    shutil.copy(sample / "library.bib", root / "library.bib")
    shutil.copy(sample / "reading-session.md", root / "reading-session.md")
    return root


@pytest.fixture(scope="session")
def sample_pdfs(sample_root) -> dict[str, object]:
    """The six generated sample papers, by citekey."""
    return {p.stem: p for p in sorted((sample_root / "papers").glob("*.pdf"))}


@pytest.fixture(scope="session")
def sample_sections(sample_pdfs: dict) -> dict[str, tuple[Paper, Sections]]:
    """(Paper, Sections) for each sample paper, extracted with the real extractor."""
    from triage.extract import extract

    out = {}
    for key, pdf in sample_pdfs.items():
        sections = extract(pdf)
        out[key] = (Paper(key=key, title=sections.title, pdf_path=pdf), sections)
    return out
