"""Ordinary papers, and embeddings remembered by their text.

The reader model measures a paper against a *background*: real arXiv
titles and abstracts from ordinary announcement nights, shipped with triage
(``background/papers.jsonl``; source and licence in ``background/README.md``).
They set what "closer than usual" means for each principle, the rarity of each
term, and the prior's thresholds; a reader's own taste never enters them.

Embedding a thousand abstracts costs tens of seconds on a laptop CPU, so the
background's vectors for the default local model ship with it
(``background/all-MiniLM-L6-v2.npy``, float16, checked against the texts'
hash), and any other vectors are remembered in ``<home>/cache/vectors.sqlite3``
by (embedder, text hash): the background once per other embedder, each decided
paper once.  The cache is a convenience: when it cannot be read or written,
vectors are simply computed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from triage.critic.model import paper_text

if TYPE_CHECKING:
    import numpy as np

    from triage.embeddings import Embedder

__all__ = ["background_texts", "background_vectors", "embed_cached"]


@lru_cache(maxsize=1)
def background_texts() -> tuple[str, ...]:
    """The shipped background papers, as ``paper_text`` (title, then abstract)."""
    raw = resources.files("triage.critic").joinpath("background/papers.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
    return tuple(paper_text(r["title"], r["abstract"]) for r in rows)


def background_vectors(embedder: Embedder, cache_dir: Path | None) -> np.ndarray:
    """The background's unit vectors under ``embedder``: shipped for the default local model, else computed once."""
    import numpy as np

    texts = list(background_texts())
    name = embedder.name.split(":", 1)[-1]
    folder = resources.files("triage.critic").joinpath("background")
    try:
        meta = json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        shipped = meta["embedder"] == embedder.name and meta["texts_sha256"] == _texts_hash(texts)
    except (OSError, ValueError, KeyError):
        shipped = False
    if shipped:
        with folder.joinpath(f"{name}.npy").open("rb") as f:
            vectors = np.load(f).astype(np.float64)
        if vectors.shape[0] == len(texts):
            return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return embed_cached(embedder, texts, cache_dir)


def _texts_hash(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def embed_cached(embedder: Embedder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """Unit vectors for ``texts`` (rows), from the cache where known; new ones are computed and remembered."""
    import numpy as np

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    found: dict[str, np.ndarray] = {}
    db = _open(cache_dir)
    keys = [_key(t) for t in texts]
    if db is not None:
        with contextlib.suppress(sqlite3.Error):
            wanted = list(dict.fromkeys(keys))
            for i in range(0, len(wanted), 500):
                part = wanted[i : i + 500]
                rows = db.execute(
                    f"SELECT key, vector FROM vectors WHERE embedder = ? AND key IN ({','.join('?' * len(part))})",
                    [embedder.name, *part],
                )
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
    missing = [i for i, k in enumerate(keys) if k not in found]
    if missing:
        todo = list(dict.fromkeys(keys[i] for i in missing))
        text_of = {keys[i]: texts[i] for i in missing}
        vectors = np.asarray(embedder.embed([text_of[k] for k in todo]), dtype=np.float32)
        found.update(zip(todo, vectors))
        if db is not None:
            with contextlib.suppress(sqlite3.Error), db:
                db.executemany("INSERT OR REPLACE INTO vectors (embedder, key, vector) VALUES (?, ?, ?)",
                               [(embedder.name, k, v.tobytes()) for k, v in zip(todo, vectors)])
    if db is not None:
        db.close()
    return np.vstack([found[k] for k in keys])


def _open(cache_dir: Path | None) -> sqlite3.Connection | None:
    if cache_dir is None:
        return None
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(Path(cache_dir) / "vectors.sqlite3", timeout=10)
        db.execute("CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, key TEXT, vector BLOB, PRIMARY KEY (embedder, key))")
        return db
    except (OSError, sqlite3.Error):
        return None
