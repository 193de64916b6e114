"""The chat request as the API reads it: what is used, what is honoured, what is refused.

Fields a client may send that would change the answer in a way this API cannot deliver are
refused with OpenAI's 400 error naming the parameter, never accepted and silently ignored:
several choices (`n` > 1), tool calls (`tools`, `functions`, a `tool_choice` that demands a
call), and JSON output (`response_format` other than text: the answer is prose with `[n]`
markers, and `chat.completions.parse` would fail on it later and less clearly).
`max_tokens`/`max_completion_tokens` are honoured by cutting the answer (finish_reason
"length"). Sampling fields (`temperature`, `top_p`, `seed`, …) are accepted and ignored:
the offline answer is deterministic, and the LLM path answers at temperature 0.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rag.api.errors import ApiError
from rag.api.sources import without_sources_list
from rag.errors import QuestionError
from rag.prompts import fill


class Message(BaseModel):
    """One chat message; content is a string or OpenAI's list of parts (only text parts count)."""

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields the API reads; others are accepted and ignored (see the module docstring)."""

    model: str = ""
    messages: list[Message]
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    tool_choice: str | dict[str, Any] | None = None
    functions: list[Any] | None = None
    function_call: str | dict[str, Any] | None = None
    #: newsrag's own option: False leaves the sources list off the end of the content.
    sources_list: bool | None = None

    def token_limit(self) -> int | None:
        """The tighter of `max_tokens` and `max_completion_tokens` (None: no limit)."""
        limits = [x for x in (self.max_tokens, self.max_completion_tokens) if x is not None]
        return min(limits) if limits else None

    def usage_in_stream(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage

    def check_supported(self) -> None:
        """ApiError(400) naming the first parameter asked for that this API cannot honour."""
        if self.n is not None and self.n > 1:
            raise _unsupported(
                "n", "n > 1 is not supported: one answer per request; send the request again for another."
            )
        if self.tools:
            raise _unsupported(
                "tools", "tools are not supported: the answer comes from the articles, never a tool call."
            )
        if self.functions:
            raise _unsupported(
                "functions", "functions are not supported: the answer comes from the articles, never a function call."
            )
        for param in ("tool_choice", "function_call"):
            choice = getattr(self, param)
            if choice is not None and choice not in ("none", "auto"):
                raise _unsupported(param, f"{param} {_shown(choice)} is not supported: this model never calls tools.")
        kind = (self.response_format or {}).get("type", "text")
        if kind != "text":
            raise _unsupported(
                "response_format",
                f"response_format {kind!r} is not supported: answers are text with [n] citation markers; "
                'send {"type": "text"} or leave response_format out.',
            )


def _shown(value: str | dict[str, Any]) -> str:
    return repr(value) if isinstance(value, str) else "naming a function"


def _unsupported(param: str, message: str) -> ApiError:
    return ApiError(400, message, code="unsupported_parameter", param=param)


def split_messages(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """The last user message is the question; the user and assistant messages before it are the
    history, as the role/content dicts the pipeline accepts (system messages are ignored: the
    answer comes from the articles, not from the client's instructions). Our own sources list
    is taken off the assistant messages a client sends back, so it is not read as the answer."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise QuestionError(fill("no_user_message"))
    last = users[-1]
    history = [
        {"role": m.role, "content": without_sources_list(m.text()) if m.role == "assistant" else m.text()}
        for m in messages[:last]
        if m.role in ("user", "assistant")
    ]
    return messages[last].text(), history
