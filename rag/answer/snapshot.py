"""One published index version, taken once per question.

An answer reads the retriever, the word statistics and the neighbouring sentences of the
index; if a refresh published a new version halfway through, the answer would mix
versions (a quote from one, its neighbour from another). Every answerer therefore gets
one immutable snapshot when the question arrives and uses nothing else.

A snapshot holds no copy of the corpus: its keyword index and word statistics are the
memory-mapped files of its version, and sentences are read from its own collection (the
previous version's collection outlives a publish by one round, see `IndexStore.drop_stale`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer.filters import SearchFilter
from rag.answer.lexicon import Lexicon
from rag.answer.retrieval import HybridRetriever
from rag.answer.scoring import Evidence, score_candidates
from rag.answer.version_files import VersionFiles
from rag.errors import QuestionError
from rag.index.duplicates import Folds
from rag.models import Answer, Chunk, Citation

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
    def build(cls, collection: Any, files: VersionFiles, embedder: Any, seeds_dir: Path) -> IndexSnapshot:
        """The snapshot of `collection`, whose version files are `files`."""
        retriever = HybridRetriever(collection, files, embedder)
        return cls(retriever.collection_name, retriever, files.lexicon, seeds_dir)

    def check_sources(self, where: SearchFilter | None) -> None:
        """QuestionError when a filter names a file this version does not hold: a mistyped name
        would otherwise narrow the search to nothing and read as "the articles do not say"."""
        if where is None or where.sources is None:
            return
        missing = sorted(where.sources - set(self.retriever.files.sources))
        if missing:
            raise QuestionError(
                f"No indexed article is named {', '.join(missing)}: sources are file names relative to the "
                "articles folder, as the answers' source lines show them."
            )

    @property
    def folds(self) -> Folds:
        """The copies of one story this version folded into their canonical article."""
        return self.retriever.folds

    def with_copies(self, answer: Answer) -> Answer:
        """The answer with each citation listing the other copies of its article ("also in")."""
        folds = self.retriever.folds
        if not folds.copy_of:
            return answer

        def listed(citations: list[Citation]) -> list[Citation]:
            return [c.model_copy(update={"also_in": folds.also_in(c.source)}) for c in citations]

        return answer.model_copy(update={"citations": listed(answer.citations), "closest": listed(answer.closest)})

    def evidence(self, query: str, where: SearchFilter | None = None, n: int = CANDIDATES) -> list[Evidence]:
        """Hybrid candidates re-ranked by the evidence score, best first."""
        return score_candidates(query, self.retriever.search(query, n, where), self.lexicon, self.nearby)

    def nearby(self, chunk: Chunk, offset: int) -> Chunk | None:
        """The sentence `offset` places from `chunk` in its article, if any."""
        return self.sentence(chunk.source, chunk.position + offset)

    def sentence(self, source: str, position: int) -> Chunk | None:
        """The sentence at a position of an article, if the index holds one there."""
        return self.retriever.at(source, position)

    def window(self, chunk: Chunk, width: int = 1) -> list[Chunk]:
        return self.retriever.window(chunk, width)

    def article_dates(self) -> list[str | None]:
        """Each indexed article's date (None when undated), from the version files."""
        return list(self.retriever.files.dates)

    def sentence_counts(self) -> dict[str, int]:
        """Indexed sentences per article file."""
        return self.retriever.files.sentence_counts()

    def articles(self, where: SearchFilter | None = None) -> list[Chunk]:
        """One chunk per indexed article (its first sentence), for titles, dates and filters.

        The filter is applied to the stored source and date first, so only the first
        sentences of allowed articles are read from the store.
        """
        files = self.retriever.files
        rows = [
            row
            for source, date, row in zip(files.sources, files.dates, files.first_rows(), strict=True)
            if where is None or where.allows_article(source, date)
        ]
        ids = [files.id_at(row) for row in rows]
        found = self.retriever.sentences.get(ids, keep=False)
        return [found[i] for i in ids if i in found]
