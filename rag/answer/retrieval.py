"""Hybrid retrieval: dense vectors in Chroma plus BM25 keywords, fused by reciprocal rank.

Dense search finds paraphrases ("who headed" ~ "is led by"); BM25 finds the rare exact
words dense models blur (names, numbers like "12,000", "GRU"). Reciprocal rank fusion
needs no score calibration between the two, which matters because their scales differ.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

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
    )


def rrf(rankings: Iterable[tuple[list[str], float]]) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of several ranked id lists."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, node_id in enumerate(ids):
            fused[node_id] = fused.get(node_id, 0.0) + weight / (RRF_K + rank + 1)
    return fused


class HybridRetriever:
    """Retrieves sentence chunks from one published index version."""

    def __init__(self, collection: Any, records: dict[str, Any], embedder: Any) -> None:
        from llama_index.core.schema import TextNode
        from llama_index.retrievers.bm25 import BM25Retriever
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.collection = collection
        self.collection_name = collection.name
        self.embedder = embedder
        self.vector_store = ChromaVectorStore(chroma_collection=collection)
        self.chunks: dict[str, Chunk] = {
            node_id: chunk_from_record(node_id, meta, doc)
            for node_id, meta, doc in zip(records["ids"], records["metadatas"], records["documents"])
        }
        self.by_position = {(c.source, c.position): c for c in self.chunks.values()}
        self.bm25 = None
        # bm25s tokenises queries with a PyStemmer object, which is not thread-safe.
        self._bm25_lock = threading.Lock()
        if self.chunks:
            nodes = [TextNode(id_=i, text=c.text) for i, c in self.chunks.items()]
            self.bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=min(DEPTH_FACTOR * 20, len(nodes)))

    def window(self, chunk: Chunk, width: int = 1) -> list[Chunk]:
        """The chunk with its neighbouring sentences from the same article, in order."""
        positions = range(chunk.position - width, chunk.position + width + 1)
        return [self.by_position[(chunk.source, p)] for p in positions if (chunk.source, p) in self.by_position]

    def dense(self, query_vector: list[float], n: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the n nearest sentences."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        if not self.chunks:
            return []
        result = self.vector_store.query(
            VectorStoreQuery(query_embedding=query_vector, similarity_top_k=min(n, len(self.chunks)))
        )
        return list(zip(result.ids or [], result.similarities or []))

    def keyword(self, question: str, n: int) -> list[tuple[str, float]]:
        """(id, BM25 score) of the best keyword matches; empty when no term matches."""
        if self.bm25 is None:
            return []
        with self._bm25_lock:
            hits = self.bm25.retrieve(question)
        return [(h.node.node_id, float(h.score)) for h in hits[:n] if h.score > 0]

    def search(
        self,
        question: str,
        n: int,
        sources: set[str] | None = None,
        query_vector: list[float] | None = None,
    ) -> list[tuple[Chunk, float, float]]:
        """Fused candidates, best first, as (chunk, fused score, cosine similarity).

        `sources` limits the search to chosen files; filtering after a wider search keeps
        one code path for filtered and unfiltered queries.
        """
        if not self.chunks:
            return []
        width = n * DEPTH_FACTOR if sources is None else len(self.chunks)
        vector = query_vector if query_vector is not None else self.embedder.get_query_embedding(question)
        dense = self.dense(vector, width)
        keyword = self.keyword(question, width)
        cosine = dict(dense)
        fused = rrf([([i for i, _ in dense], 1.0), ([i for i, _ in keyword], 1.0)])
        ranked = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)
        kept = [
            (node_id, score)
            for node_id, score in ranked
            if node_id in self.chunks and (sources is None or self.chunks[node_id].source in sources)
        ][:n]
        missing = [node_id for node_id, _ in kept if node_id not in cosine]
        if missing:
            cosine.update(self.cosines(vector, missing))
        return [(self.chunks[i], score, cosine[i]) for i, score in kept]

    def cosines(self, query_vector: list[float], ids: list[str]) -> dict[str, float]:
        """Cosine of the query to stored vectors, for keyword hits dense search missed."""
        import numpy as np

        got = self.collection.get(ids=ids, include=["embeddings"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        sims = vectors @ np.asarray(query_vector, dtype=np.float32)
        return dict(zip(got["ids"], (float(x) for x in sims)))
