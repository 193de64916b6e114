"""The `chat.completion` object and its streamed chunks, built from one verified answer.

Both carry the same reply: the answer text, then the sources list unless it is turned off,
cut at the client's token limit if it set one; `annotations` for the `[n]` markers that
remain; the extra fields (`citations`, `refused`, …); and `usage`. `usage` is the model's own
count when an LLM wrote the answer and its server reported one; otherwise it is counted with
the shipped tokenizer (`rag.api.tokens`): the text of every message sent as the prompt, the
content returned as the completion.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rag.api import tokens
from rag.api.requests import ChatRequest
from rag.api.sources import ArticleLinks, cited_in, sources_list, url_citations
from rag.llm.usage import ModelUsage
from rag.models import Answer, Citation


@dataclass(frozen=True)
class Reply:
    """What one answer becomes on the wire, whether streamed or not."""

    content: str
    annotations: list[dict[str, Any]]
    extras: dict[str, Any]
    finish_reason: str
    usage: dict[str, int]


def extras(answer: Answer, citations: list[Citation]) -> dict[str, Any]:
    """What an answer has beyond its text: citations, what kind of answer it is and how sure the
    reader is, always; nearest passages on a refusal; a notice."""
    found: dict[str, Any] = {
        "citations": [c.model_dump() for c in citations],
        "refused": answer.refused,
        "outcome": answer.outcome,
        "confidence": answer.confidence,
    }
    if answer.closest:
        found["closest"] = [c.model_dump() for c in answer.closest]
    if answer.notice:
        found["notice"] = answer.notice
    return found


def reply(
    answer: Answer, request: ChatRequest, links: ArticleLinks, list_sources: bool, model_usage: ModelUsage
) -> Reply:
    """The answer as the request asked for it (sources list on or off, token limit)."""
    text = answer.text
    listed = request.sources_list if request.sources_list is not None else list_sources
    content = text + (sources_list(answer.citations) if listed else "")
    limit = request.token_limit()
    cut = False
    if limit is not None:
        content, cut = tokens.truncate(content, limit)
    kept = content[: len(text)]
    citations = cited_in(kept, answer.citations) if cut else answer.citations
    if model_usage.calls:
        prompt, completion = model_usage.prompt_tokens, model_usage.completion_tokens
    else:
        prompt = tokens.count([m.text() for m in request.messages])
        completion = tokens.count([content])
    return Reply(
        content=content,
        annotations=url_citations(kept, citations, links),
        extras=extras(answer, citations),
        finish_reason="length" if cut else "stop",
        usage={"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    )


def _head(kind: str, model: str) -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": kind, "created": int(time.time()), "model": model}


def completion(found: Reply, model: str) -> dict[str, Any]:
    """A `chat.completion` object holding the whole answer."""
    message = {"role": "assistant", "content": found.content, "annotations": found.annotations, **found.extras}
    return {
        **_head("chat.completion", model),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": found.finish_reason}],
        "usage": found.usage,
    }


def chunks(found: Reply, model: str, with_usage: bool) -> Iterator[str]:
    """Server-sent events: the content (and its annotations) as one delta, then the extra fields
    with the finish reason, then, when asked for, a last chunk with `usage` and no choices, then [DONE]."""
    head = _head("chat.completion.chunk", model)
    first: dict[str, Any] = {"role": "assistant", "content": found.content}
    if found.annotations:
        first["annotations"] = found.annotations
    events: list[dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": first, "logprobs": None, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": found.extras, "logprobs": None, "finish_reason": found.finish_reason}]},
    ]
    if with_usage:
        events = [{**event, "usage": None} for event in events] + [{"choices": [], "usage": found.usage}]
    for event in events:
        yield f"data: {json.dumps({**head, **event}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
