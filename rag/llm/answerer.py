"""The LLM answer path: condense a follow-up, prompt with passages, ground the reply.

Any failure of the endpoint (down, slow, rate-limited, garbage) or a reply that cannot be
grounded in the passages gives the offline answer with a one-line notice saying why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rag.answer.followup import condense_offline, turns
from rag.answer.offline import OfflineAnswerer
from rag.answer.protocol import Question
from rag.answer.snapshot import IndexSnapshot
from rag.citations import cite, still_in_files
from rag.errors import LLMUnavailableError
from rag.llm.client import REFUSAL_TOKEN, LLMClient
from rag.llm.grounding import Passage, ground, render_passages
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
    """Yield the reply's text as it arrives, holding it back while it could be the refusal token.

    Everything received is also appended to `into`, so the caller has the whole reply.
    """
    held = ""
    released = False
    for delta in llm.stream(prompt, deadline):
        into.append(delta)
        if released:
            yield delta
            continue
        held += delta
        stripped = held.lstrip()
        if stripped and not REFUSAL_TOKEN.startswith(stripped[: len(REFUSAL_TOKEN)]):
            released = True
            yield held


def is_refusal(reply: str) -> bool:
    return REFUSAL_TOKEN in reply


def passages_for(snapshot: IndexSnapshot, question: Question, query: str) -> list[Passage]:
    """The top-k evidence sentences, each widened to its neighbours, numbered from 1."""
    ranked = snapshot.evidence(query, question.where)[: question.k]
    return [Passage(n, ev.chunk, tuple(snapshot.window(ev.chunk))) for n, ev in enumerate(ranked, 1)]


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
        reply = "".join(received).strip()
        if not reply:
            yield from self._offline(question, query, snapshot, fill("llm_unavailable", reason="empty reply"))
            return
        base = Answer(question=question.text, query=query, text=fill("refusal"), refused=True, mode=llm.model,
                      sources=[p.hit for p in passages])
        if is_refusal(reply):
            yield Done(base)
            return
        grounded = ground(reply, passages, snapshot.lexicon)
        kept, _ = still_in_files(snapshot.seeds_dir, grounded.quotes)
        if not grounded.quotes or len(kept) < len(grounded.quotes):
            yield from self._offline(question, query, snapshot, fill("unverified"))
            return
        citations = [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]
        yield Done(base.model_copy(
            update={"text": grounded.text, "citations": citations, "refused": False, "unsupported": grounded.unsupported}
        ))
