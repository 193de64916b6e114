"""The typed results shared by the Python API, CLI, web chat and eval."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class Answer(BaseModel):
    """What every front end shows: text with [n] markers and the citations behind them."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    mode: str = Field("offline", description="'offline' or the LLM model name.")
    query: str = Field("", description="The standalone question used for retrieval.")
    unsupported: list[str] = Field(
        default_factory=list, description="Answer sentences no citation supports."
    )
    notice: str | None = Field(None, description="One line on degraded service, e.g. LLM down.")
    sources: list[Chunk] = Field(default_factory=list, description="Passages retrieved.")
