"""The semantic index: papers and body chunks in ChromaDB.

Embedded ``PersistentClient`` in the data home by default; an ``HttpClient``
when ``settings.chroma_url`` is set, so a lab can share one index.  We compute
embeddings ourselves (``triage.embeddings``) and hand Chroma vectors, never
text to embed: Chroma's built-in default model downloads an ONNX file on first
use, which must never happen here.  The embedder's name is stored in each
collection's metadata; opening a store made with another embedder is an error
that names the reindex command, because mixed vectors give silent nonsense.

Upserts are idempotent by the PDF's content hash: re-indexing an unchanged
paper reads one metadata row and embeds nothing.

The index is a cache of the state: whatever goes wrong with it is a
``StoreError`` whose hint fits the cause (``triage.faults``): a full or
read-only disk says so; an embedded store that is damaged, or a ``chroma`` path
that is a file, names ``triage reindex``, which moves the broken copy aside
(``move_aside``) and rebuilds the index from the state and the PDF cache.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from triage.config import Settings
from triage.embeddings import Embedder
from triage.errors import StoreError, TriageError
from triage.models import Sections

__all__ = ["Index", "Hit", "REINDEX_HINT"]

#: What repairs a damaged embedded index.
REINDEX_HINT = ("run 'triage reindex': it rebuilds the index from the state and the PDF cache, "
                "keeping the damaged copy aside")

PAPERS = "triage_papers"
CHUNKS = "triage_chunks"


class Hit(BaseModel):
    """One search result."""

    key: str
    kind: str  # "paper" or "chunk"
    score: float  # cosine similarity, higher is closer
    section: str = ""
    page: int | None = None
    text: str = ""
    title: str = ""


def paper_document(sections: Sections) -> str:
    """The text a paper is embedded by: title, abstract and conclusion, as the reader judges it."""
    return "\n\n".join(t for t in (sections.title, sections.abstract, sections.conclusion) if t)


class Index:
    """Paper and chunk collections over one Chroma client."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.Lock()
        self._client: Any = None
        self._collections: dict[str, Any] = {}

    def _connect(self) -> Any:
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            try:
                if self.settings.chroma_url:
                    from urllib.parse import urlparse

                    url = urlparse(self.settings.chroma_url)
                    self._client = chromadb.HttpClient(
                        host=url.hostname or "localhost",
                        port=url.port or (443 if url.scheme == "https" else 8000),
                        ssl=url.scheme == "https",
                        settings=chroma_settings,
                    )
                else:
                    self.settings.chroma_dir.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)
            except Exception as exc:  # chromadb raises many types for an unreachable server or a damaged store
                self._forget_client()
                raise self._error(exc) from None
        return self._client

    def _error(self, exc: BaseException) -> StoreError:
        """``exc`` from Chroma as a StoreError whose hint fits the cause (see the module docstring)."""
        if isinstance(exc, TriageError):
            return exc if isinstance(exc, StoreError) else StoreError(exc.message, exc.hint)
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        if self.settings.chroma_url:
            return StoreError(f"the Chroma server at {self.settings.chroma_url} failed: {detail}",
                              hint="check that it runs and that 'chroma_url' names it")
        from triage.faults import cause_of, disk_error

        where = self.settings.chroma_dir
        cause = cause_of(exc, where)
        if cause in ("full", "read_only", "locked", "name_too_long"):
            return disk_error(exc, where, "the search index")
        if where.exists() and not where.is_dir():
            return StoreError(f"the search index {where} is a file, not a folder", hint=REINDEX_HINT)
        return StoreError(f"the search index {where} is damaged ({detail})", hint=REINDEX_HINT)

    @contextlib.contextmanager
    def _chroma(self) -> Iterator[None]:
        """Chroma's errors, in the middle of any operation, as ``_error`` words them."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    def _forget_client(self) -> None:
        # Chroma keeps one system per path for the process: a failed open would otherwise be reused as is.
        self._client = None
        self._collections.clear()
        with contextlib.suppress(Exception):
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()

    def move_aside(self) -> Path | None:
        """Move the embedded store (a damaged folder, or a file in its place) to ``chroma.damaged-<time>``; its new path.

        The next use starts an empty index.  None when there was nothing to move
        (or the index is a server's, which is not ours to move).
        """
        where = self.settings.chroma_dir
        if self.settings.chroma_url or not (where.exists() or where.is_symlink()):
            return None
        self._forget_client()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = where.with_name(f"{where.name}.damaged-{stamp}")
        n = 1
        while aside.exists():
            aside = where.with_name(f"{where.name}.damaged-{stamp}-{n}")
            n += 1
        try:
            where.rename(aside)
        except OSError as exc:
            from triage.faults import disk_error

            raise disk_error(exc, where, "the search index") from None
        return aside

    def _collection(self, name: str) -> Any:
        if name not in self._collections:
            client = self._connect()
            with self._chroma():
                col = client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    metadata={"embedder": self.embedder.name},
                    configuration={"hnsw": {"space": "cosine"}},
                )
            stored = (col.metadata or {}).get("embedder")
            if stored and stored != self.embedder.name:
                raise StoreError(
                    f"the index was built with {stored}, but the configured embedder is {self.embedder.name}",
                    hint="run 'triage reindex' to rebuild it with the configured embedder",
                )
            self._collections[name] = col
        return self._collections[name]

    def _indexed_sha(self, key: str) -> str | None:
        """The content hash ``key`` is indexed from; '' when indexed without one, None when absent."""
        with self._chroma():
            got = self._collection(PAPERS).get(ids=[key], include=["metadatas"])
        return str((got["metadatas"][0] or {}).get("sha256", "")) if got["ids"] else None

    def is_current(self, key: str, sha256: str) -> bool:
        """True when ``key`` is indexed from exactly this PDF content."""
        return self._indexed_sha(key) == sha256

    def upsert(self, key: str, sections: Sections, *, status: str = "", title: str = "") -> bool:
        """Index a paper and its chunks; returns False when it was already current (nothing embedded)."""
        with self._lock, self._chroma():
            indexed = self._indexed_sha(key)
            if sections.sha256 and indexed == sections.sha256:
                return False
            papers, chunks = self._collection(PAPERS), self._collection(CHUNKS)
            doc = paper_document(sections) or title or key
            texts = [doc] + [c.text for c in sections.chunks]
            vectors = self.embedder.embed(texts)
            meta = {"key": key, "sha256": sections.sha256, "status": status, "title": sections.title or title}
            if indexed is not None:
                # A new version of the paper may have fewer chunks: drop the old ones first.
                chunks.delete(where={"key": key})
            if sections.chunks:
                chunks.upsert(
                    ids=[f"{key}#{i}" for i in range(len(sections.chunks))],
                    embeddings=vectors[1:],
                    documents=[c.text for c in sections.chunks],
                    metadatas=[
                        {"key": key, "section": c.section, "page": c.page, "status": status, "title": meta["title"]}
                        for c in sections.chunks
                    ],
                )
            # The paper row last: it marks the paper current, so a crash mid-way re-indexes next time.
            papers.upsert(ids=[key], embeddings=[vectors[0]], documents=[doc], metadatas=[meta])
            return True

    def set_status(self, key: str, status: str) -> None:
        """Keep the status filter in step with the state after a promotion or drop."""
        with self._chroma():
            self._set_status(key, status)

    def _set_status(self, key: str, status: str) -> None:
        for name in (PAPERS, CHUNKS):
            col = self._collection(name)
            got = col.get(where={"key": key}, include=["metadatas"])
            if got["ids"]:
                col.update(ids=got["ids"], metadatas=[{**(m or {}), "status": status} for m in got["metadatas"]])

    def search(self, query: str, *, k: int = 10, status: str | None = None, kinds: tuple[str, ...] = ("paper", "chunk")) -> list[Hit]:
        """Papers and chunks closest to ``query``, best first."""
        with self._chroma():
            return self._search(query, k=k, status=status, kinds=kinds)

    def _search(self, query: str, *, k: int, status: str | None, kinds: tuple[str, ...]) -> list[Hit]:
        collections = [(kind, self._collection(name)) for kind, name in (("paper", PAPERS), ("chunk", CHUNKS))
                       if kind in kinds]
        collections = [(kind, col) for kind, col in collections if col.count()]
        if not collections:
            return []  # nothing to search: the embedding model (seconds to load) is not worth waking
        vector = self.embedder.embed([query])[0]
        where = {"status": status} if status else None
        hits: list[Hit] = []
        for kind, col in collections:
            res = col.query(query_embeddings=[vector], n_results=min(k, col.count()), where=where,
                            include=["documents", "metadatas", "distances"])
            for doc, meta, dist in zip(res["documents"][0], res["metadatas"][0], res["distances"][0]):
                meta = meta or {}
                hits.append(Hit(key=str(meta.get("key", "")), kind=kind, score=round(1.0 - float(dist), 4),
                                section=str(meta.get("section", "")), page=meta.get("page"), text=doc or "",
                                title=str(meta.get("title", ""))))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]

    def similar(self, key: str, *, k: int = 5) -> list[Hit]:
        """Papers closest to paper ``key`` (itself excluded)."""
        with self._chroma():
            return self._similar(key, k=k)

    def _similar(self, key: str, *, k: int) -> list[Hit]:
        papers = self._collection(PAPERS)
        got = papers.get(ids=[key], include=["embeddings"])
        if not got["ids"]:
            raise StoreError(f"@{key} is not in the index", hint="run 'triage run' or 'triage reindex' first")
        n = min(k + 1, papers.count())
        res = papers.query(query_embeddings=[got["embeddings"][0]], n_results=n,
                           include=["documents", "metadatas", "distances"])
        hits = [
            Hit(key=str((m or {}).get("key", "")), kind="paper", score=round(1.0 - float(d), 4), text=doc or "",
                title=str((m or {}).get("title", "")))
            for doc, m, d in zip(res["documents"][0], res["metadatas"][0], res["distances"][0])
        ]
        return [h for h in hits if h.key != key][:k]

    def count(self) -> dict[str, int]:
        """Number of papers and chunks indexed."""
        with self._chroma():
            return {"papers": self._collection(PAPERS).count(), "chunks": self._collection(CHUNKS).count()}

    def reset(self) -> None:
        """Drop both collections (before a reindex with another embedder)."""
        client = self._connect()
        for name in (PAPERS, CHUNKS):
            try:
                client.delete_collection(name)
            except Exception:  # absent already: nothing to drop
                pass
        self._collections.clear()
        self.count()  # a store too damaged to delete from is found out here, not paper by paper
