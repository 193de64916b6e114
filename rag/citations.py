"""Citations that verify: every quote is an exact slice of the article file, or of the text
extracted from it (PDF, Word, e-mail, feeds, exports: `rag.index.extracted`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.index.extracted import ExtractedText, split_name
from rag.index.formats import HEAD_BYTES, NotReadable, detect, looks_like_export, stored_article
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
        where=raw.place(chunk.start) if isinstance(raw, ExtractedText) else None,
    )


def safe_path(seeds_dir: Path, source: str) -> Path | None:
    """The file for `source` if it lies inside the seeds folder (no traversal, no links out)."""
    root = seeds_dir.resolve()
    path = (root / source).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def read_source(seeds_dir: Path, source: str) -> str | None:
    """The text of an article as it is now, or None when it is outside the seeds folder, unreadable
    or gone: a text file's text, or the text extracted from the file's current content
    (`ExtractedText`, for an article named FILE#N or a file of another format)."""
    path = safe_path(seeds_dir, source)
    number: int | None = None
    if path is None:
        file, number = split_name(source)
        path = safe_path(seeds_dir, file) if number is not None else None
        if path is None:
            return None
    try:
        with path.open("rb") as handle:
            form = detect(path, handle.read(HEAD_BYTES))
        if form is not None:
            return stored_article(seeds_dir, path, number or 1)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, NotReadable):
        return None
    if looks_like_export(text):
        return stored_article(seeds_dir, path, number, text) if number is not None else None
    return text if number is None else None


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
