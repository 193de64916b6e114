"""Wiring: `build_pipeline(settings)` returns the object every front end talks to."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.answer.offline import (
    Evidence,
    Lexicon,
    compose,
    continues,
    join,
    score_candidates,
    select_evidence,
    unknown_names,
)
from rag.citations import cite, read_source
from rag.errors import IndexNotReadyError, QuestionError
from rag.answer.followup import condense_offline
from rag.index.refresh import Progress, refresh
from rag.models import Answer, Chunk
from rag.index.parsing import clean_text
from rag.prompts import fill
from rag.answer.retrieval import HybridRetriever
from rag.settings import Settings
from rag.index.store import IndexStore, RefreshSummary, make_client

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
#: How often a long-lived process checks whether `rag index` published a new version.
POINTER_CHECK_SECONDS = 2.0
#: Candidates the evidence score re-ranks (more than top_k: the best quote is not always first).
CANDIDATES = 20

History = Sequence[Any]


def clean_question(question: object, limit: int) -> str:
    """The question with control characters blanked, or QuestionError."""
    if not isinstance(question, str):
        raise QuestionError(fill("empty_question"))
    text = " ".join(_CONTROL.sub(" ", question).split())
    if not text:
        raise QuestionError(fill("empty_question"))
    if len(text) > limit:
        raise QuestionError(fill("too_long", length=f"{len(text):,}", limit=f"{limit:,}"))
    return text


def make_embedder(settings: Settings) -> Any:
    """The embedding model the settings name (the packaged MiniLM by default)."""
    if settings.embedding == "openai":
        from rag.index.embedding_openai import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    from rag.index.embedding import MiniLMEmbedding

    return MiniLMEmbedding()


class Pipeline:
    """Retrieval and answering over one index; safe to share between threads."""

    def __init__(self, settings: Settings, store: IndexStore, embedder: Any, llm: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.llm = llm
        self._lock = threading.Lock()
        self._retriever: HybridRetriever | None = None
        self._lexicon: Lexicon | None = None
        self._checked = 0.0

    @property
    def seeds_dir(self) -> Path:
        return self.settings.seeds_dir

    @property
    def mode(self) -> str:
        return self.llm.model if self.llm is not None else "offline"

    def index(self, progress: Progress | None = None) -> RefreshSummary:
        """Build or refresh the index from the seeds folder."""
        summary = refresh(self.settings, self.store, self.embedder, progress)
        with self._lock:
            self._checked = 0.0
        return summary

    def retriever(self) -> tuple[HybridRetriever, Lexicon]:
        """The retriever for the live index version, reloaded after a refresh."""
        now = time.monotonic()
        with self._lock:
            if self._retriever is not None and now - self._checked < POINTER_CHECK_SECONDS:
                return self._retriever, self._lexicon  # type: ignore[return-value]
            self._checked = now
            try:
                collection = self.store.active()
            except IndexNotReadyError:
                if self._retriever is not None:
                    return self._retriever, self._lexicon  # type: ignore[return-value]
                raise
            if self._retriever is None or self._retriever.collection_name != collection.name:
                records = self.store.all_records(collection)
                self._retriever = HybridRetriever(collection, records, self.embedder)
                self._lexicon = Lexicon(c.text for c in self._retriever.chunks.values())
            return self._retriever, self._lexicon  # type: ignore[return-value]

    def articles(self) -> list[Chunk]:
        """One chunk per indexed article (its first sentence), for titles, dates and filters."""
        retriever, _ = self.retriever()
        first: dict[str, Chunk] = {}
        for chunk in retriever.chunks.values():
            if chunk.source not in first or chunk.position < first[chunk.source].position:
                first[chunk.source] = chunk
        return [first[s] for s in sorted(first)]

    def evidence(self, query: str, sources: Sequence[str] | None = None) -> list[Evidence]:
        """Hybrid candidates re-ranked by the evidence score, best first."""
        retriever, lexicon = self.retriever()
        return self._scored(retriever, lexicon, query, sources)

    @staticmethod
    def _scored(
        retriever: HybridRetriever, lexicon: Lexicon, query: str, sources: Sequence[str] | None
    ) -> list[Evidence]:
        found = retriever.search(query, CANDIDATES, set(sources) if sources else None)
        return score_candidates(query, found, lexicon)

    def retrieve(
        self, question: str, k: int | None = None, sources: Sequence[str] | None = None
    ) -> list[Chunk]:
        """The k best sentence chunks for a question, best first; `.score` is the evidence score."""
        query = clean_question(question, self.settings.max_question_chars)
        ranked = self.evidence(query, sources)[: k or self.settings.top_k]
        return [ev.chunk.model_copy(update={"score": round(ev.score, 4)}) for ev in ranked]

    def ask(
        self,
        question: str,
        history: History | None = None,
        sources: Sequence[str] | None = None,
        k: int | None = None,
    ) -> Answer:
        """Answer from the articles with verified citations, or refuse plainly."""
        answer = None
        for item in self.ask_stream(question, history, sources, k):
            answer = item
        assert isinstance(answer, Answer)
        return answer

    def ask_stream(
        self,
        question: str,
        history: History | None = None,
        sources: Sequence[str] | None = None,
        k: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yield answer text as it arrives, then the final `Answer` (one code path for all)."""
        text = clean_question(question, self.settings.max_question_chars)
        if self.llm is None:
            answer = self.answer_offline(text, condense_offline(text, history), sources, k)
            yield answer.text
            yield answer
            return
        from rag.llm.answerer import stream_llm_answer

        yield from stream_llm_answer(self, text, history, sources, k)

    def answer_offline(
        self,
        question: str,
        query: str,
        sources: Sequence[str] | None,
        k: int | None = None,
        notice: str | None = None,
    ) -> Answer:
        """The extractive answer: quoted evidence sentences, or a refusal."""
        retriever, lexicon = self.retriever()  # one index version for the whole answer
        scored = self._scored(retriever, lexicon, query, sources)
        refuse = unknown_names(query, lexicon)
        evidence = [] if refuse else select_evidence(scored, self.settings.refusal_threshold)
        shown = [ev.chunk.model_copy(update={"score": round(ev.score, 4)}) for ev in scored[: k or self.settings.top_k]]
        kept, stale = self.current([ev.chunk for ev in evidence])
        kept = self.with_continuations(kept, retriever)
        notes = [n for n in (notice, fill("stale_index", files=", ".join(stale)) if stale else None) if n]
        base = Answer(question=question, query=query, text=fill("refusal"), refused=True, sources=shown,
                      notice=" ".join(notes) or None)
        if not kept:
            return base
        citations = [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]
        text = compose([chunk for chunk, _ in kept])
        return base.model_copy(update={"text": text, "citations": citations, "refused": False})

    @staticmethod
    def with_continuations(
        kept: list[tuple[Chunk, str]], retriever: HybridRetriever
    ) -> list[tuple[Chunk, str]]:
        """Quotes extended by a following sentence that refers back to them (see `continues`)."""
        quoted = {chunk.id for chunk, _ in kept}
        extended = []
        for chunk, raw in kept:
            following = retriever.by_position.get((chunk.source, chunk.position + 1))
            if (
                following is not None
                and following.id not in quoted
                and continues(following)
                and clean_text(raw[following.start : following.end]) == following.text
            ):
                chunk = join(chunk, following)
            extended.append((chunk, raw))
        return extended

    def current(self, chunks: Sequence[Chunk]) -> tuple[list[tuple[Chunk, str]], list[str]]:
        """Chunks whose file still holds the indexed sentence, each with its file's text.

        A file edited after `rag index` would make a quote that no longer verifies; such
        chunks are dropped and the file named, rather than citing text that is not there.
        """
        raws: dict[str, str | None] = {}
        kept, stale = [], []
        for chunk in chunks:
            if chunk.source not in raws:
                raws[chunk.source] = read_source(self.seeds_dir, chunk.source)
            raw = raws[chunk.source]
            if raw is not None and clean_text(raw[chunk.start : chunk.end]) == chunk.text:
                kept.append((chunk, raw))
            elif chunk.source not in stale:
                stale.append(chunk.source)
        return kept, stale


def build_pipeline(settings: Settings) -> Pipeline:
    """Construct the pipeline from settings: client, store, embedder, optional LLM."""
    embedder = make_embedder(settings)
    where = (
        f"{settings.chroma_host}:{settings.chroma_port}" if settings.server_mode else str(settings.index_dir)
    )
    store = IndexStore(make_client(settings), settings.collection, embedder.model_name, where)
    llm = None
    if settings.llm_enabled:
        from rag.llm.client import LLMClient

        llm = LLMClient(settings)
    return Pipeline(settings, store, embedder, llm)
