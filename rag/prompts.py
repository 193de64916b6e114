"""Prompt and message templates, kept as files in `prompts/` and filled strictly.

`prompts/llm/` holds what the model is sent (system, question, passage, condense, judge);
`prompts/messages/` holds what a person is shown (refusal, too_long, …). The folder is
installed as the package `rag.templates` (see pyproject.toml) and read with
importlib.resources, so the templates work from a wheel as well as from a checkout.

Strict filling (every placeholder given, nothing extra) turns a renamed placeholder into
an error at the first call instead of a prompt with a literal `{passages}` in it.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

#: The package the `prompts/` folder is installed as.
PACKAGE = "rag.templates"
#: The template folders, in the order a bare name is looked up.
KINDS = ("messages", "llm")


def _root() -> Traversable:
    return resources.files(PACKAGE)


def names() -> dict[str, str]:
    """Every template as {bare name: "kind/name"}, e.g. {"refusal": "messages/refusal", …}."""
    found: dict[str, str] = {}
    for kind in KINDS:
        for entry in _root().joinpath(kind).iterdir():
            if entry.is_file() and entry.name.endswith(".txt"):
                found.setdefault(entry.name.removesuffix(".txt"), f"{kind}/{entry.name.removesuffix('.txt')}")
    return found


@cache
def template(name: str) -> str:
    """The text of a template, cached (template files do not change at run time).

    `name` is either "kind/name" ("llm/system") or a bare name ("refusal"), looked up in
    `messages/` and then `llm/`. KeyError when there is no such template.
    """
    candidates = [name] if "/" in name else [f"{kind}/{name}" for kind in KINDS]
    for candidate in candidates:
        kind, _, base = candidate.partition("/")
        if kind not in KINDS or not base or "/" in base:
            break
        entry = _root().joinpath(kind).joinpath(f"{base}.txt")
        if entry.is_file():
            return entry.read_text(encoding="utf-8").strip()
    raise KeyError(f"no template {name!r} in prompts/{' or prompts/'.join(KINDS)}")


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def fill(name: str, **values: object) -> str:
    """The template `name` with its named placeholders filled; KeyError on any mismatch."""
    text = template(name)
    expected = placeholders(text)
    if expected != set(values):
        raise KeyError(f"prompt {name!r} takes {sorted(expected)}, got {sorted(values)}")
    return text.format(**values)
