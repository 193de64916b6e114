"""What every answerer receives and what it promises: one small protocol, two implementations.

The offline extractive answerer and the LLM answerer both take a cleaned `Question` and
one `IndexSnapshot` and yield events (`rag.models.Event`) ending in a `Done`; the CLI, the
chat, the Python API and the eval consume that one stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rag.answer.filters import SearchFilter
from rag.answer.snapshot import IndexSnapshot
from rag.errors import QuestionError
from rag.models import Event
from rag.prompts import fill

# Lone surrogates too: the CLI gets them for bytes that are not UTF-8, and no tokenizer takes them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: Most sources a question may ask for (the CLI's and the settings' limit too).
MAX_K = 50


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


def clean_k(k: object, default: int) -> int:
    """How many sources to return: `default` for None, else a whole number from 1 to MAX_K, or QuestionError."""
    if k is None:
        return default
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k must be a whole number from 1 to {MAX_K} (got {k!r}).")
    return k


@dataclass(frozen=True)
class Question:
    """A checked question with its conversation and search limits."""

    text: str
    history: Sequence[Any] | None = None
    where: SearchFilter | None = None
    k: int = 5


class Answerer(Protocol):
    """Answers one question from one snapshot."""

    @property
    def mode(self) -> str:
        """'offline' or the LLM's model name, as shown to users."""
        ...

    def stream(self, question: Question, snapshot: IndexSnapshot) -> Iterator[Event]:
        """Events for the answer, ending with exactly one `Done`."""
        ...
