"""The JSON files `rag eval` reads besides gold files: thresholds (--check) and an earlier summary (--compare).

Both are read and checked before anything is indexed or asked, so a file of the wrong shape
(a per-corpus thresholds file given with --gold, a list, a hand-edited typo) is one line
naming the file and the shape expected, not a traceback or a wall of "no value" after the
whole evaluation has run.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from rag.errors import InputError

#: A gate's bounds; a metric may have one or both.
BOUNDS = ("min", "max")
GATE = '{"<metric>": {"min": <number>, "max": <number>}, …}'
PER_CORPUS = '{"<corpus>": {"<metric>": {"min": <number>, "max": <number>}, …}, …}'
SUMMARY = '{"rates": {"<metric>": {"value": <number or null>, …}, …}, …} (a summary.json `rag eval` wrote)'


def read_json(path: Path, option: str) -> Any:
    """The file's JSON, or InputError naming the option and the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{option} {path}: cannot read it ({exc}).") from None


def read_thresholds(path: Path, per_corpus: bool, metrics: Collection[str]) -> dict[str, Any]:
    """The --check file: one gate (with --gold) or one gate per corpus name (with --corpus).

    The message says which shape was expected and, when the file has the other one, that it
    was probably meant for the other option (eval/thresholds.json is per corpus).
    """
    data = read_json(path, "--check")
    problem = corpora_problem(data, metrics) if per_corpus else gate_problem(data, metrics)
    if problem is None:
        return data
    expected = f"{PER_CORPUS} with --corpus" if per_corpus else f"{GATE} with --gold"
    other = gate_problem(data, metrics) if per_corpus else corpora_problem(data, metrics)
    meant = "; it looks like a file for --gold" if per_corpus else "; it looks like a per-corpus file, for --corpus"
    hint = meant if other is None and data else ""
    raise InputError(f"--check {path}: {problem}; expected {expected}{hint}.")


def gate_problem(gate: Any, metrics: Collection[str]) -> str | None:
    """What keeps `gate` from being {metric: {"min"/"max": number}}; None when nothing does."""
    if not isinstance(gate, dict):
        return f"{_kind(gate)} instead of an object of metrics"
    for name, bound in gate.items():
        if not isinstance(bound, dict) or not bound or not set(bound) <= set(BOUNDS):
            found = "an object with other keys than min and max" if isinstance(bound, dict) and bound else _kind(bound)
            return f'{name!r} holds {found} instead of {{"min": …, "max": …}}'
        if name not in metrics:
            return f"{name!r} is not a metric (known: {', '.join(metrics)})"
        wrong = next((key for key, value in bound.items() if not _number(value)), None)
        if wrong is not None:
            return f"{name!r} {wrong} is {_kind(bound[wrong])}, not a number"
    return None


def corpora_problem(data: Any, metrics: Collection[str]) -> str | None:
    """What keeps `data` from being {corpus: gate}; None when nothing does."""
    if not isinstance(data, dict):
        return f"{_kind(data)} instead of an object of corpora"
    for corpus, gate in data.items():
        problem = gate_problem(gate, metrics)
        if problem is not None:
            return f"corpus {corpus!r}: {problem}"
    return None


def read_summary(path: Path) -> dict[str, Any]:
    """The --compare file, checked to have the rates `compare` reads."""
    data = read_json(path, "--compare")
    rates = data.get("rates") if isinstance(data, dict) else None
    if not isinstance(rates, dict) or not all(
        isinstance(entry, dict) and (entry.get("value") is None or _number(entry["value"])) for entry in rates.values()
    ):
        raise InputError(f"--compare {path}: expected {SUMMARY}.")
    return data


def _number(value: Any) -> bool:
    """True for a JSON number (JSON's true and false are bools in Python, and not bounds)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """The JSON kind of `value`, for messages ("a list", "a number")."""
    if value == {}:
        return "an empty object"
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")
