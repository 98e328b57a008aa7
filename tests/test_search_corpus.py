"""Search and "papers like this" over real papers from the shared corpus (skips without ``../shared``).

Papers are extracted from their PDFs and indexed by title, abstract and
conclusion, as ``triage run`` indexes them; the queries describe each paper's
topic in other words than its title, as a reader asking "what do I have on…"
would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import Settings
from triage.embeddings import get_embedder
from triage.extract import extract_cached
from triage.index import Index

TOPICS = {
    "1412.6980v9": "first-order gradient optimizer with adaptive estimates of lower-order moments",
    "1212.5701v1": "per-dimension learning rate for gradient descent that needs no manual tuning",
    "1503.02531v1": "compressing an ensemble of models into a single smaller network",
    "1706.03762": "sequence transduction with self-attention instead of recurrence or convolution",
    "2004.04906v3": "dense vector retrieval of passages for open-domain question answering",
    "1911.02782": "a large corpus of scholarly papers with full text and citation links",
}


@pytest.fixture(scope="module")
def corpus_index(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Index:
    home = tmp_path_factory.mktemp("corpus-index")
    index = Index(Settings(home=home), get_embedder(Settings().embedding))
    for pdf in sorted((corpus / "pdfs").glob("*.pdf")):
        sections = extract_cached(pdf, home / "cache")
        index.upsert(pdf.stem, sections.model_copy(update={"chunks": []}), status="skim")
    return index


@pytest.mark.parametrize("key", sorted(TOPICS))
def test_a_query_naming_a_papers_topic_ranks_that_paper_first(corpus_index: Index, key: str) -> None:
    hits = corpus_index.search(TOPICS[key], k=3, kinds=("paper",))
    assert hits and hits[0].key == key, [(h.key, round(h.score, 3)) for h in hits]


def test_papers_like_adam_start_with_the_other_optimiser(corpus_index: Index) -> None:
    assert corpus_index.similar("1412.6980v9", k=3)[0].key == "1212.5701v1"  # ADADELTA
