"""Question answering over news articles with verified citations.

    from rag import ask
    answer = ask("Who headed the Russian delegation?")
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rag.errors import QuestionError, RagError
from rag.models import Answer, Chunk, Citation

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

__all__ = ["Answer", "Chunk", "Citation", "QuestionError", "RagError", "ask", "default_pipeline", "retrieve"]


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


def ask(question: str, history: Sequence[Any] | None = None, **options: Any) -> Answer:
    """Answer a question from the articles; see `Pipeline.ask` for the options."""
    return default_pipeline().ask(question, history=history, **options)


def retrieve(question: str, k: int | None = None, **options: Any) -> list[Chunk]:
    """The k best sentence chunks for a question, best first."""
    return default_pipeline().retrieve(question, k=k, **options)
