"""Calls to an OpenAI-compatible chat endpoint, with one deadline for the whole answer.

llama-index's `OpenAILike` runs on the official `openai` client. Its own retry decorator
backs off for up to a minute, which would break the promise that a user has an answer
within RAG_LLM_TIMEOUT + 2 s, so retries are done here instead: only for HTTP 429/5xx,
only before any text has arrived, and never past the deadline. Every failure becomes an
`LLMUnavailableError` whose message is a short reason we wrote ourselves, so neither the
API key nor a server's error text can reach a user.

Reasoning models served by Ollama or vLLM may write their thinking inline as
`<think>…</think>` before the answer; `visible` and `strip_reasoning` keep it from users,
including when a tag arrives split across two deltas.

Every call asks for `stream_options: {"include_usage": true}`, so the server's token counts
reach `rag serve`'s `usage` (`rag.llm.usage`). A server that rejects the option with HTTP 400
is asked again without it, once; the client then stops sending it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Sequence

from rag.errors import LLMUnavailableError
from rag.llm import usage
from rag.settings import Settings

log = logging.getLogger(__name__)

#: What the model is told to reply when the passages do not answer the question.
REFUSAL_TOKEN = "NOT_IN_ARTICLES"
_BACKOFF = (0.5, 1.0, 2.0, 2.0, 2.0)
_TAG = re.compile(r"<(/?)think(?:ing)?>", re.IGNORECASE)
_TAGS = ("<think>", "<thinking>", "</think>", "</thinking>")
_BLOCK = re.compile(r"<think(?:ing)?>.*?(?:</think(?:ing)?>|$)", re.IGNORECASE | re.DOTALL)


def strip_reasoning(reply: str) -> str:
    """The reply without reasoning: `<think>…</think>` blocks, an unterminated `<think>…` at
    the end, and everything before a lone `</think>` (chat templates that open the block in
    the prompt, as DeepSeek-R1's does, leave only the closing tag in the reply)."""
    return re.split(r"</think(?:ing)?>", _BLOCK.sub("", reply), flags=re.IGNORECASE)[-1]


def _partial_tag(text: str) -> int:
    """Where a reasoning tag may be starting at the end of `text` (len(text) if nowhere)."""
    at = text.rfind("<")
    return at if at >= 0 and any(tag.startswith(text[at:].lower()) for tag in _TAGS) else len(text)


def visible(deltas: Iterable[str]) -> Iterator[str]:
    """The deltas without reasoning blocks, holding back text that may be the start of a tag.

    Text before a lone closing tag cannot be taken back once shown, but it is never in the
    final answer (`strip_reasoning`).
    """
    buffer, inside = "", False
    for delta in deltas:
        buffer += delta
        while tag := _TAG.search(buffer):
            if not inside and not tag.group(1) and tag.start():
                yield buffer[: tag.start()]
            buffer, inside = buffer[tag.end() :], not tag.group(1)
        cut = _partial_tag(buffer)
        if not inside and buffer[:cut]:
            yield buffer[:cut]
        buffer = buffer[cut:]
    if not inside and buffer:
        yield buffer


def _reason(exc: BaseException, timeout: float) -> str:
    """A short, secret-free description of why a call failed."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"no reply within {timeout:g} s"
    if isinstance(exc, openai.APIConnectionError):
        cause = repr(exc.__cause__ or "").lower()
        if "refused" in cause:
            return "connection refused"
        if "name or service" in cause or "nodename" in cause or "getaddrinfo" in cause or "resolve" in cause:
            return "host not found"
        return "connection failed"
    if isinstance(exc, openai.RateLimitError):
        return "HTTP 429, rate limited"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return "malformed reply"


def _record_usage(raw: object) -> None:
    """Record the usage a chunk carries (with include_usage, the last one, which has no choices)."""
    reported = getattr(raw, "usage", None)
    prompt = getattr(reported, "prompt_tokens", None)
    completion = getattr(reported, "completion_tokens", None)
    if isinstance(prompt, int) and isinstance(completion, int):
        usage.record(prompt, completion)


class LLMClient:
    """Streams chat completions with bounded retries under a deadline."""

    def __init__(self, settings: Settings) -> None:
        from llama_index.llms.openai_like import OpenAILike

        self.model = settings.llm_model
        self.timeout = settings.llm_timeout
        self.retries = settings.llm_retries
        self._llm = OpenAILike(
            model=settings.llm_model,
            api_base=settings.openai_base_url or "https://api.openai.com/v1",
            api_key=settings.api_key(),
            is_chat_model=True,
            temperature=0.0,
            max_retries=0,
            timeout=settings.llm_timeout,
            context_window=16_000,
            additional_kwargs={"stream_options": {"include_usage": True}},
        )

    def deadline(self) -> float:
        """The monotonic time by which the whole answer must be done."""
        return time.monotonic() + self.timeout

    def stream(self, messages: Sequence[tuple[str, str]], deadline: float) -> Iterator[str]:
        """Yield text deltas; raise LLMUnavailableError on any failure or at the deadline."""
        import httpx
        import openai
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=role, content=content) for role, content in messages]
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMUnavailableError(f"no reply within {self.timeout:g} s")
            started = False
            try:
                for chunk in self._llm.stream_chat(chat, timeout=remaining):
                    if time.monotonic() > deadline:
                        raise LLMUnavailableError(f"no reply within {self.timeout:g} s")
                    if chunk.delta:
                        started = True
                        yield chunk.delta
                    _record_usage(chunk.raw)
                return
            except openai.BadRequestError as exc:
                if started or not self._llm.additional_kwargs.pop("stream_options", None):
                    log.warning("LLM failed: %s", _reason(exc, self.timeout))
                    raise LLMUnavailableError(_reason(exc, self.timeout)) from None
                log.info("LLM server refused stream_options; asking without it")
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                wait = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
                if started or attempt >= self.retries or time.monotonic() + wait >= deadline:
                    log.warning("LLM failed after %d attempt(s): %s", attempt + 1, _reason(exc, self.timeout))
                    raise LLMUnavailableError(_reason(exc, self.timeout)) from None
                attempt += 1
                time.sleep(wait)
            except openai.OpenAIError as exc:
                log.warning("LLM failed: %s", _reason(exc, self.timeout))
                raise LLMUnavailableError(_reason(exc, self.timeout)) from None
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
                log.warning("LLM reply unusable: %s", exc.__class__.__name__)
                raise LLMUnavailableError("malformed reply") from None

    def complete(self, messages: Sequence[tuple[str, str]], deadline: float) -> str:
        """The whole reply as one string; an empty reply is a failure."""
        text = strip_reasoning("".join(self.stream(messages, deadline))).strip()
        if not text:
            raise LLMUnavailableError("empty reply")
        return text
