"""Hybrid retrieval: dense vectors in Chroma plus BM25 keywords, fused by reciprocal rank.

Dense search finds paraphrases ("who headed" ~ "is led by"); BM25 finds the rare exact
words dense models blur (names, numbers like "12,000", "GRU"). Reciprocal rank fusion
needs no score calibration between the two, which matters because their scales differ.
A `SearchFilter` is applied inside both searches (a Chroma `where`, a BM25 weight mask),
never after them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

from rag.answer.filters import SearchFilter
from rag.index.entities import decode
from rag.models import Chunk

#: Hits taken from each side per candidate wanted: 20 candidates re-scored -> 60 dense, 60 keyword.
DEPTH_FACTOR = 3
#: RRF constant from Cormack et al. (2009); damps the weight of top ranks.
RRF_K = 60


def chunk_from_record(node_id: str, metadata: dict[str, Any], text: str) -> Chunk:
    """A `Chunk` from what the store holds for one record."""
    return Chunk(
        id=node_id,
        source=metadata["source"],
        text=text,
        start=int(metadata["start"]),
        end=int(metadata["end"]),
        title=metadata.get("title") or None,
        date=metadata.get("date") or None,
        context=metadata.get("context", ""),
        position=int(metadata.get("position", 0)),
        entities=decode(metadata.get("entities", "")),
    )


def rrf(rankings: Iterable[tuple[list[str], float]]) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of several ranked id lists."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, node_id in enumerate(ids):
            fused[node_id] = fused.get(node_id, 0.0) + weight / (RRF_K + rank + 1)
    return fused


class KeywordIndex:
    """BM25 over the sentences of one index version (bm25s, the library llama-index wraps)."""

    def __init__(self, ids: list[str], texts: list[str]) -> None:
        import bm25s
        import Stemmer

        self.ids = ids
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()  # bm25s tokenises with a PyStemmer object, not thread-safe
        self._bm25 = bm25s.BM25()
        self._bm25.index(
            bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False), show_progress=False
        )

    def search(self, question: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(id, BM25 score) of the n best matches among the allowed sentences; no zero scores."""
        import bm25s

        with self._lock:
            tokens = bm25s.tokenize(
                [question], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
            )[0]
            if not tokens:
                return []
            scores = self._bm25.get_scores(tokens, weight_mask=mask)
        n = min(n, len(self.ids))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in best if scores[i] > 0]


class HybridRetriever:
    """Retrieves sentence chunks from one published index version."""

    def __init__(self, collection: Any, records: dict[str, Any], embedder: Any) -> None:
        self.collection = collection
        self.collection_name: str = collection.name
        self.embedder = embedder
        self.chunks: dict[str, Chunk] = {
            node_id: chunk_from_record(node_id, meta, doc)
            for node_id, meta, doc in zip(records["ids"], records["metadatas"], records["documents"], strict=True)
        }
        self.by_position = {(c.source, c.position): c for c in self.chunks.values()}
        self.keywords = KeywordIndex(list(self.chunks), [c.text for c in self.chunks.values()]) if self.chunks else None

    def window(self, chunk: Chunk, width: int = 1) -> list[Chunk]:
        """The chunk with its neighbouring sentences from the same article, in order."""
        positions = range(chunk.position - width, chunk.position + width + 1)
        return [self.by_position[(chunk.source, p)] for p in positions if (chunk.source, p) in self.by_position]

    def dense(self, query_vector: list[float], n: int, where: SearchFilter | None = None) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the n nearest allowed sentences."""
        if not self.chunks:
            return []
        kwargs: dict[str, Any] = {
            "query_embeddings": [query_vector],
            "n_results": min(n, len(self.chunks)),
            "include": ["distances"],
        }
        clause = where.where() if where is not None else None
        if clause is not None:
            kwargs["where"] = clause
        result = self.collection.query(**kwargs)
        ids, distances = result["ids"][0], result["distances"][0]
        return [(i, math.exp(-float(d))) for i, d in zip(ids, distances, strict=True)]

    def keyword(self, question: str, n: int, where: SearchFilter | None = None) -> list[tuple[str, float]]:
        """(id, BM25 score) of the best keyword matches; empty when no term matches."""
        if self.keywords is None:
            return []
        mask = None
        if where is not None:
            mask = np.fromiter((where.allows(self.chunks[i]) for i in self.keywords.ids), dtype=np.float32)
        return self.keywords.search(question, n, mask)

    def search(
        self, question: str, n: int, where: SearchFilter | None = None, query_vector: list[float] | None = None
    ) -> list[tuple[Chunk, float, float]]:
        """Fused candidates, best first, as (chunk, fused score, cosine similarity)."""
        if not self.chunks:
            return []
        width = n * DEPTH_FACTOR
        vector = query_vector if query_vector is not None else self.embedder.get_query_embedding(question)
        dense = self.dense(vector, width, where)
        keyword = self.keyword(question, width, where)
        cosine = dict(dense)
        fused = rrf([([i for i, _ in dense], 1.0), ([i for i, _ in keyword], 1.0)])
        ranked = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)
        kept = [(node_id, score) for node_id, score in ranked if node_id in self.chunks][:n]
        missing = [node_id for node_id, _ in kept if node_id not in cosine]
        if missing:
            cosine.update(self.cosines(vector, missing))
        return [(self.chunks[i], score, cosine[i]) for i, score in kept]

    def vectors(self, ids: list[str]) -> np.ndarray:
        """The stored (unit-length) vectors of these sentences, in the order asked."""
        got = self.collection.get(ids=ids, include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[i] for i in ids], dtype=np.float32)

    def cosines(self, query_vector: list[float], ids: list[str]) -> dict[str, float]:
        """Cosine of the query to stored vectors, for keyword hits dense search missed."""
        got = self.collection.get(ids=ids, include=["embeddings"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        sims = vectors @ np.asarray(query_vector, dtype=np.float32)
        return dict(zip(got["ids"], (float(x) for x in sims), strict=True))
