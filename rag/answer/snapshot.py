"""One published index version, taken once per question.

An answer reads the retriever, the word statistics and the neighbouring sentences of the
index; if a refresh published a new version halfway through, the answer would mix
versions (a quote from one, its neighbour from another). Every answerer therefore gets
one immutable snapshot when the question arrives and uses nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.answer.filters import SearchFilter
from rag.answer.lexicon import Lexicon
from rag.answer.retrieval import HybridRetriever
from rag.answer.scoring import Evidence, score_candidates
from rag.models import Chunk

#: Candidates the evidence score re-ranks (more than top_k: the best quote is not always first).
CANDIDATES = 20


@dataclass(frozen=True)
class IndexSnapshot:
    """Retriever, lexicon and sentences of one collection version, plus where the files are."""

    version: str
    retriever: HybridRetriever
    lexicon: Lexicon
    seeds_dir: Path

    @classmethod
    def build(cls, retriever: HybridRetriever, seeds_dir: Path) -> IndexSnapshot:
        articles: dict[str, list[str]] = {}
        for chunk in retriever.chunks.values():
            articles.setdefault(chunk.source, []).append(chunk.text)
        lexicon = Lexicon((c.text for c in retriever.chunks.values()), articles)
        return cls(retriever.collection_name, retriever, lexicon, seeds_dir)

    def evidence(self, query: str, where: SearchFilter | None = None, n: int = CANDIDATES) -> list[Evidence]:
        """Hybrid candidates re-ranked by the evidence score, best first."""
        return score_candidates(query, self.retriever.search(query, n, where), self.lexicon, self.nearby)

    def nearby(self, chunk: Chunk, offset: int) -> Chunk | None:
        """The sentence `offset` places from `chunk` in its article, if any."""
        return self.sentence(chunk.source, chunk.position + offset)

    def sentence(self, source: str, position: int) -> Chunk | None:
        """The sentence at a position of an article, if the index holds one there."""
        return self.retriever.by_position.get((source, position))

    def window(self, chunk: Chunk, width: int = 1) -> list[Chunk]:
        return self.retriever.window(chunk, width)

    def sentence_counts(self) -> dict[str, int]:
        """Indexed sentences per article file."""
        counts: dict[str, int] = {}
        for chunk in self.retriever.chunks.values():
            counts[chunk.source] = counts.get(chunk.source, 0) + 1
        return counts

    def articles(self, where: SearchFilter | None = None) -> list[Chunk]:
        """One chunk per indexed article (its first sentence), for titles, dates and filters."""
        first: dict[str, Chunk] = {}
        for chunk in self.retriever.chunks.values():
            if chunk.source not in first or chunk.position < first[chunk.source].position:
                first[chunk.source] = chunk
        return [first[s] for s in sorted(first) if where is None or where.allows(first[s])]
