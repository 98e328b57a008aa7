"""The Chroma index, run against the embedded store and a real Chroma server alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.chroma import chroma_server
from triage.config import Settings
from triage.errors import StoreError
from triage.index import Index
from triage.models import Chunk, Sections

PAPERS = {
    "routing2024": Sections(
        title="Routing Adapters over Frozen Backbones",
        abstract="We learn a routing function that selects parameter-efficient adapter modules for a frozen language model.",
        conclusion="Routing between LoRA modules gives positive transfer at a fraction of the parameters.",
        chunks=[Chunk(text="The router is a softmax over adapter modules trained with the frozen backbone.", section="3 Method", page=2)],
        sha256="sha-routing",
    ),
    "crops2022": Sections(
        title="Gradient Boosted Trees for Crop Yield Forecasting",
        abstract="We benchmark gradient boosted trees on county-level maize yield data with weather covariates.",
        conclusion="Tree ensembles remain a strong baseline for agricultural tabular forecasting.",
        chunks=[Chunk(text="Rainfall in July is the most important feature for maize yield.", section="4 Results", page=3)],
        sha256="sha-crops",
    ),
    "bridges2023": Sections(
        title="Linear Bridges Between Vision and Language",
        abstract="A single linear projection maps frozen image encoder features into the input space of a frozen language model.",
        conclusion="Image representations transfer to language models through one linear map.",
        sha256="sha-bridges",
    ),
}


class CountingEmbedder:
    """The real local model, counting how many texts it embeds."""

    def __init__(self) -> None:
        from triage.embeddings import get_embedder

        self.inner = get_embedder(Settings().embedding)
        self.name = self.inner.name
        self.calls = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(params=["embedded", "server"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "embedded":
        yield Settings(home=tmp_path / "home")
    else:
        with chroma_server(tmp_path / "server-data") as url:
            yield Settings(home=tmp_path / "home", chroma_url=url)


@pytest.fixture
def index(settings: Settings, embedder: CountingEmbedder) -> Index:
    idx = Index(settings, embedder)
    for key, sections in PAPERS.items():
        idx.upsert(key, sections, status="skim")
    return idx


def test_a_query_naming_a_topic_ranks_that_paper_first(index: Index) -> None:
    assert index.search("routing functions for adapters", k=3)[0].key == "routing2024"
    assert index.search("maize harvest prediction", k=3)[0].key == "crops2022"


def test_chunk_hits_carry_section_and_page(index: Index) -> None:
    hit = next(h for h in index.search("softmax router over modules", k=5) if h.kind == "chunk")
    assert (hit.key, hit.section, hit.page) == ("routing2024", "3 Method", 2)


def test_similar_excludes_the_paper_itself(index: Index) -> None:
    hits = index.similar("routing2024", k=2)
    assert [h.key for h in hits][0] == "bridges2023"
    assert "routing2024" not in {h.key for h in hits}


def test_status_filter(index: Index) -> None:
    index.set_status("bridges2023", "read")
    assert {h.key for h in index.search("vision language", k=5, status="read")} == {"bridges2023"}


def test_reindexing_an_unchanged_paper_embeds_nothing(index: Index, embedder: CountingEmbedder) -> None:
    before = embedder.calls
    assert index.upsert("routing2024", PAPERS["routing2024"]) is False
    assert embedder.calls == before
    changed = PAPERS["routing2024"].model_copy(update={"sha256": "sha-routing-v2", "chunks": []})
    assert index.upsert("routing2024", changed) is True
    assert index.count() == {"papers": 3, "chunks": 1}  # the old version's chunk is gone


def test_the_store_persists_across_clients(settings: Settings, index: Index, embedder: CountingEmbedder) -> None:
    reopened = Index(settings, embedder)
    assert reopened.count()["papers"] == 3


def test_another_embedder_is_refused_with_the_fix(settings: Settings, index: Index) -> None:
    class Other:
        name = "openai:text-embedding-3-small"

        def embed(self, texts: list[str]) -> list[list[float]]:
            return [[0.0] * 8 for _ in texts]

    with pytest.raises(StoreError, match="triage reindex"):
        Index(settings, Other()).count()


def test_similar_for_an_unknown_paper(index: Index) -> None:
    with pytest.raises(StoreError, match="not in the index"):
        index.similar("nobody")


def test_searching_an_empty_index_wakes_no_model(settings: Settings, embedder: CountingEmbedder) -> None:
    # The first search on a new data home must not pay seconds of model loading for no hits.
    before = embedder.calls
    assert Index(settings, embedder).search("anything at all", k=5) == []
    assert embedder.calls == before
