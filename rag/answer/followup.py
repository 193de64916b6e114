"""Follow-up questions: turn "what is her job?" into a question that stands alone.

With an LLM the model rewrites the question (prompts/llm/condense.txt). Offline we use one
documented rule: when the question refers back (a pronoun such as he/she/they/it, or it
is very short), the names from the previous question and the start of the previous answer
are appended in brackets, e.g. "What is her job? (Kaja Kallas)". Questions that stand on
their own ("And who led Ukraine's team?") are only stripped of the leading "and".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.answer.lexicon import QUESTION_WORDS, stopwords

_PRONOUN = re.compile(
    r"\b(he|she|they|it|him|her|them|his|hers|its|their|theirs|this|that|these|those|there)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(and|also|so|but|what about|how about)\b[\s,]*", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*")

_POSSESSIVE = re.compile(r"[’']s$")
#: Words of the previous answer searched for names (its first sentence or so).
ANSWER_WORDS = 30


def turns(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """(question, answer) pairs from pairs or from Gradio-style role/content messages; anything
    else (a string, a number, items of other shapes) holds no turns."""
    if not history or not isinstance(history, (list, tuple)):
        return []
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for item in history:
        if isinstance(item, dict):
            content = item.get("content")
            text = content if isinstance(content, str) else ""
            if item.get("role") == "user":
                pending = text
            elif item.get("role") == "assistant" and pending is not None:
                pairs.append((pending, text))
                pending = None
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((str(item[0] or ""), str(item[1] or "")))
    return pairs


def _function_word(word: str) -> bool:
    """Capitalised words that start a question or sentence rather than name someone ("Who", "Did", "Her")."""
    lower = word.lower()
    return lower in stopwords() or lower in QUESTION_WORDS or lower in ("mr", "mrs", "ms")


def names(text: str) -> list[str]:
    """Capitalised names in a text, in order, without question words."""
    found = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group().split() if not _function_word(w)]
        name = _POSSESSIVE.sub("", " ".join(words)).strip()
        if name and name not in found:
            found.append(name)
    return found


def condense_offline(question: str, history: Sequence[Any] | None) -> str:
    """The standalone form of `question`, by the rule in the module docstring."""
    pairs = turns(history)
    if not pairs:
        return question
    stripped = _LEADING.sub("", question).strip() or question
    if not _PRONOUN.search(stripped) and len(stripped.split()) > 3:
        return stripped[0].upper() + stripped[1:]
    previous_q, previous_a = pairs[-1]
    context = names(previous_q) + names(" ".join(previous_a.split()[:ANSWER_WORDS]))
    context = [n for i, n in enumerate(context) if n not in context[:i] and n not in stripped]
    if not context:
        return stripped
    return f"{stripped} ({', '.join(context[:4])})"
