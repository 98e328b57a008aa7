"""Indexing and search through triage vs the same work done with Chroma directly.

    python -m bench.bench_index [--papers 50] [--chunks-per-paper 40] [--search-chunks 10000]

Prints (1) the time to index N chunks through ``triage.index.Index.upsert``
against embedding the same texts and calling ``collection.add`` directly, and
the ratio (target <= 1.25); (2) search latency p50/p95 over an index of
``--search-chunks`` chunks.  Texts are synthetic sentences built from a fixed
vocabulary, so the run is reproducible and needs no corpus.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from triage.config import Settings
from triage.embeddings import get_embedder
from triage.index import Index
from triage.models import Chunk, Sections

WORDS = ["adapter", "routing", "module", "frozen", "backbone", "vision", "language", "projection", "latent", "space", "contrastive", "prefix", "tuning", "sparse", "expert", "mixture", "federated", "merging", "low", "rank", "transfer", "benchmark", "gradient", "yield", "crop", "attention", "transformer", "pretraining", "representation", "alignment", "decoder", "encoder", "token", "budget", "compute"]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(18, 40))).capitalize() + "."


def make_papers(n_papers: int, chunks_per_paper: int, seed: int = 0) -> list[tuple[str, Sections]]:
    rng = random.Random(seed)
    papers = []
    for i in range(n_papers):
        chunks = [Chunk(text=" ".join(sentence(rng) for _ in range(3)), section=f"{j % 5 + 1} Section", page=j // 4 + 1)
                  for j in range(chunks_per_paper)]
        papers.append((f"paper{i:05d}", Sections(title=sentence(rng), abstract=sentence(rng), conclusion=sentence(rng),
                                                 chunks=chunks, sha256=f"sha{seed}-{i}")))
    return papers


def bench_indexing(papers: list[tuple[str, Sections]], embedder) -> tuple[float, float]:
    import chromadb

    from triage.index import paper_document

    with tempfile.TemporaryDirectory() as tmp:
        index = Index(Settings(home=Path(tmp) / "ours"), embedder)
        index.count()  # open the store outside the timing, as the raw side does
        t0 = time.perf_counter()
        for key, sections in papers:
            index.upsert(key, sections, status="skim")
        ours = time.perf_counter() - t0

        client = chromadb.PersistentClient(path=str(Path(tmp) / "raw"))
        pcol = client.get_or_create_collection("papers", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        ccol = client.get_or_create_collection("chunks", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        t0 = time.perf_counter()
        for key, sections in papers:
            texts = [paper_document(sections)] + [c.text for c in sections.chunks]
            vectors = embedder.embed(texts)
            ccol.add(ids=[f"{key}#{i}" for i in range(len(sections.chunks))], embeddings=vectors[1:],
                     documents=texts[1:], metadatas=[{"key": key, "section": c.section, "page": c.page} for c in sections.chunks])
            pcol.add(ids=[key], embeddings=[vectors[0]], documents=[texts[0]], metadatas=[{"key": key}])
        raw = time.perf_counter() - t0
    return ours, raw


def bench_search(n_chunks: int, embedder, queries: int = 50) -> tuple[float, float]:
    per_paper = 50
    papers = make_papers(max(1, n_chunks // per_paper), per_paper, seed=1)
    rng = random.Random(2)
    with tempfile.TemporaryDirectory() as tmp:
        index = Index(Settings(home=Path(tmp)), embedder)
        for key, sections in papers:
            index.upsert(key, sections, status="skim")
        latencies = []
        for _ in range(queries):
            q = " ".join(rng.choice(WORDS) for _ in range(4))
            t0 = time.perf_counter()
            index.search(q, k=10)
            latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=50)
    parser.add_argument("--chunks-per-paper", type=int, default=40)
    parser.add_argument("--search-chunks", type=int, default=10_000)
    args = parser.parse_args()

    embedder = get_embedder(Settings().embedding)
    embedder.embed(["warm up the model"])
    papers = make_papers(args.papers, args.chunks_per_paper)
    n = sum(len(s.chunks) for _, s in papers)
    ours, raw = bench_indexing(papers, embedder)
    print(f"indexing {n} chunks in {len(papers)} papers: triage {ours:.2f}s, raw embed+collection.add {raw:.2f}s, "
          f"ratio {ours / raw:.2f} (target <= 1.25)")
    p50, p95 = bench_search(args.search_chunks, embedder)
    print(f"search over {args.search_chunks} chunks: p50 {p50:.1f} ms, p95 {p95:.1f} ms (includes embedding the query)")


if __name__ == "__main__":
    main()
