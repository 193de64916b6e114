"""The LLM answer path: condense a follow-up, prompt with passages, ground the reply."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rag.citations import cite
from rag.errors import LLMUnavailableError
from rag.answer.followup import condense_offline, turns
from rag.llm.grounding import Passage, ground, render_passages
from rag.llm.client import REFUSAL_TOKEN, LLMClient
from rag.models import Answer
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


def passages_for(pipeline: Any, query: str, sources: Sequence[str] | None, k: int) -> list[Passage]:
    """The top-k evidence sentences, each widened to its neighbours, numbered from 1."""
    retriever, _ = pipeline.retriever()
    ranked = pipeline.evidence(query, sources)[:k]
    return [Passage(n, ev.chunk, tuple(retriever.window(ev.chunk))) for n, ev in enumerate(ranked, 1)]


def stream_llm_answer(
    pipeline: Any, question: str, history: Sequence[Any] | None, sources: Sequence[str] | None, k: int | None
) -> Iterator[str | Answer]:
    """The LLM path of `Pipeline.ask_stream`; any failure yields the offline answer with a notice."""
    llm: LLMClient = pipeline.llm
    deadline = llm.deadline()
    query = question
    k = k or pipeline.settings.top_k

    def fallback(notice: str) -> Iterator[str | Answer]:
        answer = pipeline.answer_offline(question, query, sources, k, notice=notice)
        yield answer.text
        yield answer

    try:
        if turns(history):
            query = condense(llm, question, history or [], deadline)
    except LLMUnavailableError as exc:
        query = condense_offline(question, history)
        yield from fallback(fill("llm_unavailable", reason=str(exc)))
        return
    passages = passages_for(pipeline, query, sources, k)
    shown = [p.hit for p in passages]
    received: list[str] = []
    try:
        yield from stream_reply(llm, messages(query, passages), deadline, received)
    except LLMUnavailableError as exc:
        yield from fallback(fill("llm_unavailable", reason=str(exc)))
        return
    reply = "".join(received).strip()
    if not reply:
        yield from fallback(fill("llm_unavailable", reason="empty reply"))
        return
    base = Answer(question=question, query=query, text=fill("refusal"), refused=True, mode=llm.model, sources=shown)
    if is_refusal(reply):
        yield base
        return
    _, lexicon = pipeline.retriever()
    grounded = ground(reply, passages, lexicon)
    kept, _ = pipeline.current(grounded.quotes)
    if not grounded.quotes or len(kept) < len(grounded.quotes):
        yield from fallback(fill("unverified"))
        return
    citations = [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]
    yield base.model_copy(
        update={"text": grounded.text, "citations": citations, "refused": False, "unsupported": grounded.unsupported}
    )
