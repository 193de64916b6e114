"""Question answering over news articles with verified citations.

from rag import ask
answer = ask("Who headed the Russian delegation?")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rag.errors import QuestionError, RagError
from rag.models import Answer, Chunk, Citation, Done, Event, Notice, TextDelta, final_answer

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Done",
    "Event",
    "Notice",
    "QuestionError",
    "RagError",
    "TextDelta",
    "ask",
    "ask_stream",
    "default_pipeline",
    "retrieve",
]


@lru_cache(maxsize=1)
def default_pipeline() -> Pipeline:
    """The pipeline for the current settings, built once per process (the explicit cache).

    On first use with no index yet, the index is built from the seeds folder so that
    `ask()` works on a fresh checkout; later refreshes are explicit (`rag index`).
    """
    from rag.errors import IndexNotReadyError
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    pipeline = build_pipeline(load_settings())
    try:
        pipeline.store.active()
    except IndexNotReadyError:
        pipeline.index()
    return pipeline


def _filter(sources: Iterable[str] | None, date_from: str | None, date_to: str | None) -> Any:
    from rag.answer.filters import SearchFilter

    return SearchFilter.of(sources, date_from, date_to)


def ask_stream(
    question: str,
    history: Sequence[Any] | None = None,
    *,
    sources: Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    k: int | None = None,
) -> Iterator[Event]:
    """Events for one answer: `TextDelta`s and `Notice`s, then `Done(answer)`.

    `sources` limits the answer to those files; `date_from`/`date_to` (YYYY-MM-DD) to
    articles dated in that range; `history` is [(question, answer), …] or chat messages.
    """
    where = _filter(sources, date_from, date_to)
    return default_pipeline().ask_stream(question, history, where, k)


def ask(
    question: str,
    history: Sequence[Any] | None = None,
    *,
    sources: Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    k: int | None = None,
) -> Answer:
    """Answer a question from the articles with verified citations, or refuse plainly."""
    stream = ask_stream(question, history, sources=sources, date_from=date_from, date_to=date_to, k=k)
    return final_answer(stream)


def retrieve(
    question: str,
    k: int | None = None,
    *,
    sources: Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> list[Chunk]:
    """The k best sentence chunks for a question, best first."""
    return default_pipeline().retrieve(question, k, _filter(sources, date_from, date_to))
