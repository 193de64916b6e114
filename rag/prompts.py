"""Prompt and message templates, kept as files in `prompts/` and filled strictly.

Strict filling (every placeholder given, nothing extra) turns a renamed placeholder into
an error at the first call instead of a prompt with a literal `{passages}` in it.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@cache
def template(name: str) -> str:
    """The text of `prompts/<name>.txt` (cached: prompt files do not change at run time)."""
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").strip()


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def fill(name: str, **values: object) -> str:
    """`prompts/<name>.txt` with its named placeholders filled; KeyError on any mismatch."""
    text = template(name)
    expected = placeholders(text)
    if expected != set(values):
        raise KeyError(
            f"prompt {name!r} takes {sorted(expected)}, got {sorted(values)}"
        )
    return text.format(**values)
