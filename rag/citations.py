"""Citations that verify: every quote is an exact slice of the article file."""

from __future__ import annotations

import re
from pathlib import Path

from rag.models import Chunk, Citation

_MARKER = re.compile(r"\[(\d{1,3})\]")


def cite(number: int, chunk: Chunk, raw: str) -> Citation:
    """A citation for `chunk`, its quote taken from the raw file at the chunk's offsets."""
    return Citation(
        number=number,
        source=chunk.source,
        quote=raw[chunk.start : chunk.end],
        text=chunk.text,
        start=chunk.start,
        end=chunk.end,
        title=chunk.title,
        date=chunk.date,
    )


def verify(citation: Citation, seeds_dir: Path) -> bool:
    """True when the quote is exactly what the file holds at the cited offsets."""
    path = (seeds_dir / citation.source).resolve()
    if not path.is_relative_to(seeds_dir.resolve()) or not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text[citation.start : citation.end] == citation.quote


def markers(text: str) -> list[int]:
    """The [n] markers in an answer, in order of appearance."""
    return [int(m) for m in _MARKER.findall(text)]
