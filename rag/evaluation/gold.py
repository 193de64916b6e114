"""Gold files: JSON Lines of questions with acceptable answers and source files.

Validation is complete before anything runs, and every problem names its line, so a typo
on line 57 is a one-line message rather than a half-written report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag.errors import InputError
from rag.index.extracted import split_name


class GoldError(InputError):
    """The gold file cannot be used as written; the person who wrote it can fix it."""


class GoldItem(BaseModel):
    """One gold question."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    answers: list[str] = Field(default_factory=list)
    must_include: list[list[str]] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    sources_known: bool = Field(
        True,
        description="False: no article is known to hold the answer (a chat correction no indexed article "
        "contains), so `sources` is empty and the retrieval and citation metrics skip the question.",
    )
    answerable: bool
    history: list[Any] | None = Field(None, description="[[question, answer], …] or role/content messages.")
    kind: str | None = Field(
        None, description="fact, paraphrase, number, who, when, where, followup, broad, unanswerable."
    )
    answer_type: str | None = Field(None, description="person, number, date, place, organisation, or None.")
    line: int = 0

    @property
    def broad(self) -> bool:
        """A summary-type question ("What happened in Istanbul?"), scored on its own row."""
        return self.kind == "broad"

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is blank")
        return value


def load_gold(path: Path, seeds_dir: Path) -> list[GoldItem]:
    """Read and check a gold file; GoldError names the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"Cannot read gold file {path}: {exc}") from None
    known = {p.relative_to(seeds_dir).as_posix() for p in seeds_dir.rglob("*") if p.is_file()}
    items: list[GoldItem] = []
    ids: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise GoldError(f"{where}: expected a JSON object")
        try:
            item = GoldItem(**data, line=number)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "?"
            raise GoldError(f"{where}: field {field!r}: {err['msg']}") from None
        # an article of a file that holds many (an export's row, a feed's item) is FILE#N
        unknown = [s for s in item.sources if s not in known and split_name(s)[0] not in known]
        if unknown:
            raise GoldError(f"{where}: unknown source file {unknown[0]!r} (not in {seeds_dir})")
        if item.answerable and not item.sources and item.sources_known:
            raise GoldError(
                f"{where}: an answerable question needs at least one source (or sources_known false to score it "
                "without retrieval and citation metrics)"
            )
        if item.sources and not item.sources_known:
            raise GoldError(f"{where}: sources_known is false but sources are listed; drop one of them")
        if item.id in ids:
            raise GoldError(f"{where}: duplicate id {item.id!r}")
        ids.add(item.id)
        items.append(item)
    if not items:
        raise GoldError(f"{path} has no questions")
    return items
