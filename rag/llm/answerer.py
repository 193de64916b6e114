"""The LLM answer path: condense a follow-up, prompt with passages, ground the reply.

Any failure of the endpoint (down, slow, rate-limited, garbage) or a reply that cannot be
grounded in the passages gives the offline answer with a one-line notice saying why. A
refusal, as the agreed token or in the model's own words, stays the model's answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from rag.answer.followup import condense_offline, turns
from rag.answer.offline import OfflineAnswerer
from rag.answer.protocol import Question
from rag.answer.snapshot import IndexSnapshot
from rag.citations import cite, still_in_files
from rag.errors import LLMUnavailableError
from rag.index.chunking import split_sentences
from rag.llm.client import REFUSAL_TOKEN, LLMClient, strip_reasoning, visible
from rag.llm.grounding import Passage, ground, normalise_markers, render_passages
from rag.models import Answer, Done, Event, Notice, TextDelta
from rag.prompts import fill


def condense(llm: LLMClient, question: str, history: Sequence[Any], deadline: float) -> str:
    """The follow-up rewritten by the model as a standalone question."""
    lines = []
    for asked, answered in turns(history)[-3:]:
        lines += [f"User: {asked}", f"Assistant: {answered}"]
    prompt = fill("condense", history="\n".join(lines), question=question)
    rewritten = llm.complete([("user", prompt)], deadline).strip().strip('"').splitlines()[0]
    return rewritten or question


def messages(question: str, passages: Sequence[Passage]) -> list[tuple[str, str]]:
    """System rules plus the question with its numbered passages."""
    return [
        ("system", fill("system", refusal_token=REFUSAL_TOKEN)),
        ("user", fill("question", passages=render_passages(passages), question=question)),
    ]


def stream_reply(llm: LLMClient, prompt: list[tuple[str, str]], deadline: float, into: list[str]) -> Iterator[str]:
    """Yield the reply's visible text as it arrives: never a reasoning block, and nothing while
    the reply could still be the refusal token.

    Everything received, reasoning included, is also appended to `into`, so the caller has
    the whole reply.
    """

    def received() -> Iterator[str]:
        for delta in llm.stream(prompt, deadline):
            into.append(delta)
            yield delta

    held = ""
    released = False
    for delta in visible(received()):
        if released:
            yield delta
            continue
        held += delta
        stripped = held.lstrip()
        if stripped and not REFUSAL_TOKEN.startswith(stripped[: len(REFUSAL_TOKEN)]):
            released = True
            yield stripped


# A refusal in free words: a negated "say / contain / find / information…" in a sentence that
# names what the model was given ("The provided passages do not contain…", "I cannot find …
# in the articles", "There is no information about … in the context").
_NEGATED = re.compile(
    r"(?:\b(?:not|no|none|nothing|neither|cannot|unable)\b|n['’]t\b)\W+(?:\w+\W+){0,3}?"
    r"(?:contain|say|said|mention|state|specif|provide|include|indicate|give|answer|find|found|determin|know"
    r"|discuss|address|reveal|tell|report|cover|information|detail|data|indication|reference)"
    r"|\b(?:say|says|said|mention|mentions)\s+nothing\b",
    re.IGNORECASE,
)
_GIVEN = re.compile(r"\b(?:passages?|articles?|context|sources?|texts?|documents?|excerpts?)\b", re.IGNORECASE)
_MARKER = re.compile(r"\[\d{1,3}\]")


def is_refusal(reply: str, numbers: Sequence[int]) -> bool:
    """True for the refusal token, or a reply that opens with a refusal in words, or an
    uncited reply that contains one. A sentence with a citation marker is never a refusal:
    "The articles say talks did not produce a ceasefire [1]." is an answer.
    """
    if REFUSAL_TOKEN in reply:
        return True
    text = normalise_markers(reply, numbers)
    refusals = [
        not _MARKER.search(sentence) and bool(_GIVEN.search(sentence) and _NEGATED.search(sentence))
        for sentence in (text[s:e] for s, e in split_sentences(text, 0, len(text)))
    ]
    return bool(refusals) and (refusals[0] or (any(refusals) and not _MARKER.search(text)))


def passages_for(snapshot: IndexSnapshot, question: Question, query: str) -> list[Passage]:
    """The top-k evidence sentences, each widened to its neighbours, numbered from 1. (The reader
    does not rerank them: it ranks sentences worse than the evidence score, docs/reader.md.)"""
    chunks = [ev.chunk for ev in snapshot.evidence(query, question.where)]
    return [Passage(n, chunk, tuple(snapshot.window(chunk))) for n, chunk in enumerate(chunks[: question.k], 1)]


class LLMAnswerer:
    """Answers written by an OpenAI-compatible model, with citations grounded in the snapshot."""

    def __init__(self, client: LLMClient, fallback: OfflineAnswerer) -> None:
        self.client = client
        self.fallback = fallback

    @property
    def mode(self) -> str:
        return self.client.model

    def _offline(self, question: Question, query: str, snapshot: IndexSnapshot, notice: str) -> Iterator[Event]:
        yield Notice(notice)
        answer = self.fallback.answer(question, query, snapshot, notice=notice)
        yield TextDelta(answer.text)
        yield Done(answer)

    def stream(self, question: Question, snapshot: IndexSnapshot) -> Iterator[Event]:
        llm = self.client
        deadline = llm.deadline()
        query = question.text
        try:
            if turns(question.history):
                query = condense(llm, question.text, question.history or [], deadline)
        except LLMUnavailableError as exc:
            query = condense_offline(question.text, question.history)
            yield from self._offline(question, query, snapshot, fill("llm_unavailable", reason=str(exc)))
            return
        passages = passages_for(snapshot, question, query)
        received: list[str] = []
        try:
            for delta in stream_reply(llm, messages(query, passages), deadline, received):
                yield TextDelta(delta)
        except LLMUnavailableError as exc:
            yield from self._offline(question, query, snapshot, fill("llm_unavailable", reason=str(exc)))
            return
        reply = strip_reasoning("".join(received)).strip()
        if not reply:
            yield from self._offline(question, query, snapshot, fill("llm_unavailable", reason="empty reply"))
            return
        base = Answer(
            question=question.text,
            query=query,
            text=fill("refusal"),
            refused=True,
            mode=llm.model,
            sources=[p.hit for p in passages],
        )
        if is_refusal(reply, [p.number for p in passages]):
            yield Done(base)
            return
        grounded = ground(reply, passages, snapshot.lexicon)
        kept, _ = still_in_files(snapshot.seeds_dir, grounded.quotes)
        if not grounded.quotes or len(kept) < len(grounded.quotes):
            yield from self._offline(question, query, snapshot, fill("unverified"))
            return
        citations = [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]
        yield Done(
            base.model_copy(
                update={
                    "text": grounded.text,
                    "citations": citations,
                    "refused": False,
                    "outcome": "answer",
                    "unsupported": grounded.unsupported,
                }
            )
        )
