"""Which reader a file needs, chosen by its content as well as its name, and its articles read once.

Text, Markdown and saved web pages are read as they are (`rag.index.parsing`): a quote is a
slice of the file. Every other format goes through a reader module that extracts its text:
PDF (`pdf_files`), Word (`word_files`), e-mail and mailboxes (`mail`), RSS and Atom feeds
(`feeds`), CSV/TSV and JSON Lines exports (`exports`), Parquet exports (`parquet_files`) and multi-article text exports
(`multi_documents`). The content decides where it can: a PDF named .txt is still a PDF, a
feed saved as .xml is still a feed, an e-mail without .eml is still an e-mail. An extraction
is kept per file content hash (`rag.index.extracted`), so a file is read once however often
its quotes are checked.
"""

from __future__ import annotations

import hashlib
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.index.columns import Columns
from rag.index.embedding import sha256_of
from rag.index.exports import read_json_lines, read_table
from rag.index.extracted import (
    EXTRACTION_VERSION,
    ExtractedStore,
    ExtractedText,
    Extraction,
    Unreadable,
    stores_for,
)
from rag.index.feeds import MAX_FEED_BYTES, looks_like_feed, read_feed
from rag.index.mail import looks_like_email, looks_like_mbox, read_eml, read_mbox
from rag.index.multi_documents import looks_like_export, read_export
from rag.index.parquet_files import MAGIC as PARQUET_MAGIC
from rag.index.parquet_files import read_parquet
from rag.index.pdf_files import read_pdf
from rag.index.word_files import read_docx

#: Largest PDF, Word file or e-mail read: scanned pages make big files, text layers small ones.
MAX_DOCUMENT_BYTES = 200_000_000
#: Exports and mailboxes are streamed, so only the disk bounds them.
MAX_EXPORT_BYTES = 1 << 40
#: Bytes read to recognise a format.
HEAD_BYTES = 8192
#: Extensions of the formats read by a reader module, for the chat's upload check.
EXTENSIONS = (
    ".pdf",
    ".docx",
    ".eml",
    ".mbox",
    ".rss",
    ".atom",
    ".xml",
    ".csv",
    ".tsv",
    ".jsonl",
    ".ndjson",
    ".parquet",
)


@dataclass(frozen=True)
class Format:
    """A format read by a reader module: its name for messages, its reader and its size limit."""

    name: str
    read: Callable[[Path, Columns], Extraction]
    max_bytes: int


PDF = Format("PDF", lambda path, _: read_pdf(path), MAX_DOCUMENT_BYTES)
WORD = Format("Word", lambda path, _: read_docx(path), MAX_DOCUMENT_BYTES)
EMAIL = Format("e-mail", lambda path, _: read_eml(path), MAX_DOCUMENT_BYTES)
MAILBOX = Format("mailbox", lambda path, _: read_mbox(path), MAX_EXPORT_BYTES)
FEED = Format("feed", lambda path, _: read_feed(path), MAX_FEED_BYTES)
TABLE = Format("CSV", read_table, MAX_EXPORT_BYTES)
JSON_LINES = Format("JSON Lines", read_json_lines, MAX_EXPORT_BYTES)
PARQUET = Format("Parquet", read_parquet, MAX_EXPORT_BYTES)


class NotReadable(Exception):
    """A file no reader takes, with the reason (an old .doc, a spreadsheet)."""


def detect(path: Path, head: bytes) -> Format | None:
    """The reader format of a file, or None for a text file; NotReadable for a known unsupported one."""
    suffix = path.suffix.lower()
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(PARQUET_MAGIC):
        return PARQUET
    if head.startswith(b"PK\x03\x04"):
        if suffix == ".docx" or _zip_holds(path, "word/document.xml"):
            return WORD
        raise NotReadable("a zip file that is not a Word .docx (unpack it into the folder)")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise NotReadable("an old Microsoft Office file (.doc/.xls): save it as .docx or text")
    if suffix == ".mbox" or looks_like_mbox(head):
        return MAILBOX
    if suffix == ".eml" or looks_like_email(head):
        return EMAIL
    if looks_like_feed(head) or suffix in (".rss", ".atom"):
        return FEED
    if suffix in (".csv", ".tsv"):
        return TABLE
    if suffix in (".jsonl", ".ndjson") or (suffix == ".json" and head.lstrip().startswith(b"{") and b"}\n{" in head):
        return JSON_LINES
    return None


def _zip_holds(path: Path, member: str) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def store_extraction(store: ExtractedStore, key: str, read: Callable[[], Extraction]) -> None:
    """Extract a file into `store` under `key` (its content), unless it is there already."""
    if not store.has(key):
        store.write(key, read())


__all__ = [
    "EXTENSIONS",
    "Extraction",
    "Format",
    "NotReadable",
    "Unreadable",
    "content_key",
    "detect",
    "looks_like_export",
    "read_export",
    "store_extraction",
    "stored_article",
]

#: (path, size, mtime) -> content hash, so checking a quote does not hash a large file again.
_hashes: dict[tuple[str, int, int], str] = {}
_hashes_lock = threading.Lock()


def content_hash(path: Path) -> str:
    """The file's content hash, remembered while its size and modification time stay the same."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _hashes_lock:
        known = _hashes.get(key)
    if known is None:
        known = sha256_of(path)
        with _hashes_lock:
            if len(_hashes) > 10_000:
                _hashes.clear()
            _hashes[key] = known
    return known


def content_key(sha: str, columns: Columns) -> str:
    """What an extraction is stored and indexed under: the file's content hash mixed with the
    readers' version and the export columns setting, so that a new reader or a new setting
    reads the file again and `rag index` sees its articles as changed (and embeds them again)."""
    return hashlib.sha256(f"{sha}:v{EXTRACTION_VERSION}:{columns.chosen!r}".encode()).hexdigest()


def stored_article(seeds_dir: Path, path: Path, number: int, text: str | None = None) -> ExtractedText | None:
    """Article `number` (from 1) of the file as it is now: from an index's stored extraction of
    its content, else extracted now; None when the file no longer has it or cannot be read.

    `text` is the file's text when it is a text export (already read by the caller)."""
    try:
        stores = stores_for(seeds_dir)
        columns = stores[0].columns if stores else Columns()
        key = content_key(content_hash(path), columns)
        for store in stores:
            if store.has(key):
                return store.article(key, number)
        if text is not None:
            export = text

            def read() -> Extraction:
                return read_export(export)
        else:
            with path.open("rb") as handle:
                form = detect(path, handle.read(HEAD_BYTES))
            if form is None:
                return None
            chosen = form

            def read() -> Extraction:
                return chosen.read(path, columns)

        if stores:
            store_extraction(stores[0], key, read)
            return stores[0].article(key, number)
        articles = read().listed()
    except (OSError, Unreadable, NotReadable):
        return None
    return articles[number - 1] if 1 <= number <= len(articles) else None
