"""Citations that verify: every quote is an exact slice of the article file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.index.parsing import clean_text
from rag.models import Chunk, Citation


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


def safe_path(seeds_dir: Path, source: str) -> Path | None:
    """The file for `source` if it lies inside the seeds folder (no traversal, no links out)."""
    root = seeds_dir.resolve()
    path = (root / source).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def read_source(seeds_dir: Path, source: str) -> str | None:
    """The text of a source file, or None when it is outside the seeds folder or unreadable."""
    path = safe_path(seeds_dir, source)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def verify(citation: Citation, seeds_dir: Path) -> bool:
    """True when the quote is exactly what the file holds at the cited offsets."""
    text = read_source(seeds_dir, citation.source)
    return text is not None and text[citation.start : citation.end] == citation.quote


def still_in_files(seeds_dir: Path, chunks: Sequence[Chunk]) -> tuple[list[tuple[Chunk, str]], list[str]]:
    """Chunks whose file still holds the indexed sentence, each with its file's text, and
    the files that changed since `rag index`.

    A file edited after indexing would make a quote that no longer verifies; such chunks
    are dropped and the file named, rather than citing text that is not there.
    """
    raws: dict[str, str | None] = {}
    kept: list[tuple[Chunk, str]] = []
    stale: list[str] = []
    for chunk in chunks:
        if chunk.source not in raws:
            raws[chunk.source] = read_source(seeds_dir, chunk.source)
        raw = raws[chunk.source]
        if raw is not None and clean_text(raw[chunk.start : chunk.end]) == chunk.text:
            kept.append((chunk, raw))
        elif chunk.source not in stale:
            stale.append(chunk.source)
    return kept, stale
