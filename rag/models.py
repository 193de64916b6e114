"""The typed results shared by the Python API, CLI, web chat and eval."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: What an answer is: a claim the quotes support, passages that may answer (no claim), or a refusal.
Outcome = Literal["answer", "passages", "refusal"]


class Chunk(BaseModel):
    """One retrieved sentence, with offsets into the raw article file."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str = Field(description="File name relative to the seeds folder.")
    text: str = Field(description="The sentence with markup removed, as shown to people.")
    start: int
    end: int
    score: float = 0.0
    title: str | None = None
    date: str | None = None
    context: str = Field("", description="The sentence with its neighbours, for answering.")
    position: int = Field(0, description="Index of the sentence in its article.")
    entities: tuple[tuple[int, int, str], ...] = Field(
        (), description="Named entities in `text`: (start, end, OntoNotes label), found at index time."
    )


class Citation(BaseModel):
    """An exact quote from an article: `raw[start:end] == quote` always holds."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(description="The [n] marker in Answer.text.")
    source: str
    quote: str = Field(description="Exact source text, markup included.")
    text: str = Field(description="The quote with markup removed, for display.")
    start: int
    end: int
    title: str | None = None
    date: str | None = None
    where: str | None = Field(
        None,
        description="Where in its file the quote is, for a file that is not plain text: 'page 3' of a PDF, "
        "'row 12' of a CSV export, 'item 4' of a feed, 'message 2' of a mailbox. Offsets then index the text "
        "extracted from the file, which `rag index` keeps.",
    )
    also_in: tuple[str, ...] = Field(
        (),
        description="The other copies of the cited article (the same story under another name, in another "
        "format, or syndicated with small edits), which `rag index` folded into it; the quote is from `source`.",
    )

    @property
    def file(self) -> str:
        """The file the quote is from: `source` without the '#N' that numbers one of a file's many articles."""
        stem, hash_sign, number = self.source.rpartition("#")
        return stem if self.where and hash_sign and number.isdigit() else self.source

    @property
    def place(self) -> str:
        """The file and where in it, as shown beside a quote: 'exports/news.csv, row 12' (a text file: its name)."""
        return f"{self.file}, {self.where}" if self.where else self.source


class Answer(BaseModel):
    """What every front end shows: text with [n] markers and the citations behind them."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    mode: str = Field("offline", description="'offline' or the LLM model name.")
    query: str = Field("", description="The standalone question used for retrieval.")
    unsupported: list[str] = Field(default_factory=list, description="Answer sentences no citation supports.")
    notice: str | None = Field(None, description="One line on degraded service, e.g. LLM down.")
    sources: list[Chunk] = Field(default_factory=list, description="Passages retrieved.")
    index_version: str | None = Field(None, description="The index version (collection) that answered.")
    closest: list[Citation] = Field(
        default_factory=list,
        description="On a refusal: the nearest passages, verified quotes that may not answer the question.",
    )
    outcome: Outcome = Field(
        "answer",
        description="'answer' (a claim with its quotes), 'passages' (quotes that may answer, no claim) or 'refusal'.",
    )
    confidence: float | None = Field(
        None,
        description="How sure the offline reader is of its answer line, 0-1 (offline with the reader only): "
        "compare it with the calibrated line threshold, not as a frequency of being right.",
    )
    claim: str | None = Field(None, description="The short answer line the first quote states, when there is one.")
    claim_threshold: float | None = Field(
        None, description="The reader's confidence from which it states an answer line (calibrated per model)."
    )

    def confidence_label(self) -> str:
        """How sure the reader is, beside the confidence it needs to state an answer:
        'reader confidence 0.91 (not sure: it answers from 0.97; passages only)'. A bare
        percentage read as a probability, and "91% (not sure)" looked like a contradiction.
        Empty without a confidence."""
        if self.confidence is None:
            return ""
        said = {"answer": "sure", "passages": "not sure", "refusal": "too unsure to answer"}[self.outcome]
        if self.claim_threshold is not None and self.outcome != "refusal":
            said += f": it answers from {self.claim_threshold:.2f}"
        if self.outcome == "passages":
            said += "; passages only"
        return f"reader confidence {self.confidence:.2f} ({said})"

    @model_validator(mode="after")
    def _refusal_is_an_outcome(self) -> Answer:
        if self.refused and self.outcome != "refusal":
            self.outcome = "refusal"
        return self


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer text as it is produced (the LLM streams; offline is one piece)."""

    text: str


@dataclass(frozen=True)
class Notice:
    """One line on degraded service, sent before the answer (e.g. the LLM is down)."""

    text: str


@dataclass(frozen=True)
class Done:
    """The final, verified answer; always the last event of a stream."""

    answer: Answer


#: What `ask_stream` yields: any number of deltas and notices, then exactly one `Done`.
Event = TextDelta | Notice | Done


def final_answer(events: Iterable[Event]) -> Answer:
    """The answer that closes a stream of events."""
    for event in events:
        if isinstance(event, Done):
            return event.answer
    raise RuntimeError("the answer stream ended without an answer")
