"""Hybrid retrieval: dense vectors in Chroma plus BM25 keywords, fused by reciprocal rank.

Dense search finds paraphrases ("who headed" ~ "is led by"); BM25 finds the rare exact
words dense models blur (names, numbers like "12,000", "GRU"). Reciprocal rank fusion
needs no score calibration between the two, which matters because their scales differ.
A `SearchFilter` is applied inside both searches (a Chroma `where`, a BM25 weight mask),
never after them, and so are folded copies of one story (`rag.index.duplicates`): a search
leaves them out, unless its filter names the files to search.

Nothing here holds the corpus: BM25 and the row table are memory-mapped files of the
version (`rag.answer.version_files`), and sentences are read from the store for the
candidates of a question and their neighbours (`rag.answer.sentences`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from functools import cached_property
from typing import Any

import numpy as np

from rag.answer.filters import SearchFilter
from rag.answer.sentences import SentenceReader, chunk_from_record
from rag.answer.version_files import VersionFiles, tokenize
from rag.index.duplicates import NOT_FOLDED, Folds, folded_copies
from rag.models import Chunk

__all__ = ["DEPTH_FACTOR", "RRF_K", "HybridRetriever", "KeywordIndex", "chunk_from_record", "rrf"]

#: Hits taken from each side per candidate wanted: 20 candidates re-scored -> 60 dense, 60 keyword.
DEPTH_FACTOR = 3
#: RRF constant from Cormack et al. (2009); damps the weight of top ranks.
RRF_K = 60
#: Sentences read around each candidate with it: the answerers look up to two places away
#: (a neighbour holding the answer, then the sentence that continues it).
PREFETCH_REACH = 2


def rrf(rankings: Iterable[tuple[list[str], float]]) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of several ranked id lists."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, node_id in enumerate(ids):
            fused[node_id] = fused.get(node_id, 0.0) + weight / (RRF_K + rank + 1)
    return fused


class KeywordIndex:
    """BM25 over the sentences of one index version (bm25s, the library llama-index wraps), memory-mapped."""

    def __init__(self, files: VersionFiles) -> None:
        import Stemmer

        self._files = files
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()  # bm25s tokenises with a PyStemmer object, not thread-safe

    def search(self, question: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(id, BM25 score) of the n best matches among the allowed sentences; no zero scores."""
        bm25 = self._files.bm25
        if bm25 is None:
            return []
        with self._lock:  # PyStemmer is not thread-safe; scoring only reads the index
            tokens = tokenize([question], self._stemmer, return_ids=False)[0]
        if not tokens:
            return []
        scores = bm25.get_scores(tokens, weight_mask=mask)
        n = min(n, self._files.count)
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self._files.id_at(int(i)), float(scores[i])) for i in best if scores[i] > 0]


class HybridRetriever:
    """Retrieves sentence chunks from one published index version."""

    def __init__(self, collection: Any, files: VersionFiles, embedder: Any) -> None:
        self.collection = collection
        self.collection_name: str = collection.name
        self.embedder = embedder
        self.files = files
        self.sentences = SentenceReader(collection)
        self.keywords = KeywordIndex(files)
        #: Folded copies of one story in this version, each with the canonical article searched instead.
        self.folds = Folds(folded_copies(collection))

    @property
    def count(self) -> int:
        """Sentences in this version."""
        return self.files.count

    def at(self, source: str, position: int) -> Chunk | None:
        """The sentence at a position of an article, if the version holds one there."""
        row = self.files.row_of(source, position)
        if row is None:
            return None
        node_id = self.files.id_at(row)
        return self.sentences.get([node_id]).get(node_id)

    def window(self, chunk: Chunk, width: int = 1) -> list[Chunk]:
        """The chunk with its neighbouring sentences from the same article, in order."""
        ids = self._nearby_ids([chunk], width)
        found = self.sentences.get(ids)
        return [found[i] for i in ids if i in found]

    def _nearby_ids(self, chunks: Iterable[Chunk], reach: int) -> list[str]:
        """Ids of the sentences within `reach` places of each chunk, in article order."""
        ids = []
        for chunk in chunks:
            for position in range(chunk.position - reach, chunk.position + reach + 1):
                row = self.files.row_of(chunk.source, position)
                if row is not None:
                    ids.append(self.files.id_at(row))
        return ids

    def dense(self, query_vector: list[float], n: int, where: SearchFilter | None = None) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the n nearest allowed sentences."""
        if not self.count:
            return []
        kwargs: dict[str, Any] = {
            "query_embeddings": [query_vector],
            "n_results": min(n, self.count),
            "include": ["distances"],
        }
        clause = where.where() if where is not None else None
        if self._leaves_out_copies(where):
            clause = NOT_FOLDED if clause is None else {"$and": [clause, NOT_FOLDED]}
        if clause is not None:
            kwargs["where"] = clause
        result = self.collection.query(**kwargs)
        ids, distances = result["ids"][0], result["distances"][0]
        return [(i, math.exp(-float(d))) for i, d in zip(ids, distances, strict=True)]

    def mask(self, where: SearchFilter) -> np.ndarray:
        """BM25 weights: 1 for the sentences of articles the filter allows, else 0."""
        allowed = np.fromiter(
            (where.allows_article(s, d) for s, d in zip(self.files.sources, self.files.dates, strict=True)),
            dtype=np.float32,
            count=len(self.files.sources),
        )
        return allowed[self.files.row_article]

    def keyword(self, question: str, n: int, where: SearchFilter | None = None) -> list[tuple[str, float]]:
        """(id, BM25 score) of the best keyword matches; empty when no term matches."""
        mask = self.mask(where) if where is not None else None
        if self._leaves_out_copies(where):
            mask = self.unfolded if mask is None else mask * self.unfolded
        return self.keywords.search(question, n, mask)

    def _leaves_out_copies(self, where: SearchFilter | None) -> bool:
        """Whether a search leaves out the folded copies: when there are any, unless the filter names the
        files to search (a copy named there is searched: the person asked for that file)."""
        return bool(self.folds.copy_of) and (where is None or where.sources is None)

    @cached_property
    def unfolded(self) -> np.ndarray:
        """BM25 weights: 0 for the sentences of folded copies, else 1."""
        searched = np.fromiter(
            (source not in self.folds.copy_of for source in self.files.sources),
            dtype=np.float32,
            count=len(self.files.sources),
        )
        return searched[self.files.row_article]

    def search(
        self, question: str, n: int, where: SearchFilter | None = None, query_vector: list[float] | None = None
    ) -> list[tuple[Chunk, float, float]]:
        """Fused candidates, best first, as (chunk, fused score, cosine similarity).

        The candidates and the sentences around them are read from the store in one `get`.
        """
        if not self.count:
            return []
        width = n * DEPTH_FACTOR
        vector = query_vector if query_vector is not None else self.embedder.get_query_embedding(question)
        dense = self.dense(vector, width, where)
        keyword = self.keyword(question, width, where)
        cosine = dict(dense)
        fused = rrf([([i for i, _ in dense], 1.0), ([i for i, _ in keyword], 1.0)])
        kept = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)[:n]
        missing = [node_id for node_id, _ in kept if node_id not in cosine]
        if missing:
            cosine.update(self.cosines(vector, missing))
        found = self.sentences.get(node_id for node_id, _ in kept)
        self.sentences.get(self._nearby_ids(found.values(), PREFETCH_REACH))
        return [(found[i], score, cosine[i]) for i, score in kept if i in found]

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
