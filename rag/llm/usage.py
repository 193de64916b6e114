"""The model's own token counts for one answer, collected while it is produced.

An answer may take two model calls (condensing a follow-up, then answering), and the
`Answer` object carries no token counts, so `LLMClient` adds what the server reports to the
meter of the current context: the caller opens one with `metered()` around the answer and
reads it afterwards. A call outside any meter (the CLI, the chat) records nothing. A context
variable, not a global: `rag serve` answers many questions at once, each in its own thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class ModelUsage:
    """Tokens the model server reported, summed over the calls of one answer."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Calls that reported usage; 0 means the server reported none (or no model was called).
    calls: int = 0


_current: ContextVar[ModelUsage | None] = ContextVar("model_usage", default=None)


@contextmanager
def metered() -> Iterator[ModelUsage]:
    """Collect the usage of the model calls made inside the block."""
    usage = ModelUsage()
    token = _current.set(usage)
    try:
        yield usage
    finally:
        _current.reset(token)


def record(prompt_tokens: int, completion_tokens: int) -> None:
    """Add one call's reported usage to the current meter, if there is one."""
    usage = _current.get()
    if usage is not None:
        usage.prompt_tokens += prompt_tokens
        usage.completion_tokens += completion_tokens
        usage.calls += 1
