"""Find the article files in the seeds folder and read their articles.

A folder of real files has junk in it. Every file we cannot use is named with the reason,
and the rest are still indexed: one bad file must never cost the user the whole index.
Text files are read as they are; PDF, Word, e-mail, feeds and exports go through their
reader (`rag.index.formats`), one file giving one article or many.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError, SettingsError
from rag.index.columns import Columns
from rag.index.embedding import sha256_of
from rag.index.extracted import ExtractedStore, Extraction, Stored, Unreadable, article_name
from rag.index.formats import HEAD_BYTES, NotReadable, content_key, detect, looks_like_export, read_export

log = logging.getLogger(__name__)

#: Files larger than this are skipped: news articles are kilobytes, and a huge file would
#: stall indexing for minutes while adding nothing a person asks about.
MAX_FILE_BYTES = 2_000_000
#: Notes on left-out parts listed per file (a bad row, an empty item); the rest are counted.
MAX_NOTES = 5


class SourceFile:
    """One readable article: its name (the file's relative to the seeds folder, or FILE#N for one
    of a file's many articles), its exact text (`ExtractedText` for a format read by a reader
    module) and the hash its file's content is known by.

    The text of an article extracted into the index's store is read from there when it is
    used, so a scan of an export of a million rows holds their names, not their text.
    """

    __slots__ = ("_number", "_raw", "_stored", "name", "sha256")

    def __init__(
        self, name: str, raw: str | None = None, sha256: str = "", stored: Stored | None = None, number: int = 1
    ) -> None:
        if raw is None and stored is None:
            raise ValueError("a SourceFile needs its text or where it is stored")
        self.name = name
        self.sha256 = sha256
        self._raw = raw
        self._stored = stored
        self._number = number

    @property
    def raw(self) -> str:
        if self._raw is not None:
            return self._raw
        assert self._stored is not None
        article = self._stored.article(self._number)
        if article is None:
            raise RagError(f"The text extracted from {self.name} is gone from the index folder: run `rag index` again.")
        return article

    def __repr__(self) -> str:
        return f"SourceFile({self.name!r}, sha256={self.sha256[:12]!r})"


@dataclass
class Scan:
    """The outcome of reading a seeds folder."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def scan_folder(
    seeds_dir: Path,
    max_bytes: int = MAX_FILE_BYTES,
    columns: Columns | None = None,
    store: ExtractedStore | None = None,
) -> Scan:
    """Read every regular file under `seeds_dir`, recursing into subfolders.

    Hidden files and folders are ignored, as git and file managers do (.DS_Store, a .git
    folder, the chat's half-written uploads). Every other file we cannot use is skipped and
    named with the reason: symbolic links are not followed (they could point anywhere on the
    machine), and files that are not UTF-8 text are skipped, since a quote's offsets must
    verify against `read_text(encoding="utf-8")`, which a guessed encoding would break.
    Files of the other formats are extracted (into `store`, when given, once per content)
    with the export column names `columns`.
    """
    scan = Scan()
    root = seeds_dir.resolve()
    if not root.is_dir():
        problem = "is a file, not a folder" if root.exists() else "does not exist"
        raise SettingsError(f"The articles folder {root} {problem}: set RAG_SEEDS_DIR to your news folder.")
    for path in sorted(_walk(root)):
        name = path.relative_to(root).as_posix()
        reason = _unusable(path, name)
        if reason is not None:
            scan.skipped.append((name.encode("utf-8", "replace").decode("utf-8"), reason))
            continue
        outcome = read_file(path, name, max_bytes, columns or Columns(), store)
        if isinstance(outcome, str):
            scan.skipped.append((name, outcome))
        else:
            scan.files.extend(outcome[0])
            scan.skipped.extend(outcome[1])
    return scan


def read_file(
    path: Path, name: str, max_bytes: int, columns: Columns, store: ExtractedStore | None
) -> tuple[list[SourceFile], list[tuple[str, str]]] | str:
    """The articles of one file and notes on parts left out, or the reason the file is skipped."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        form = detect(path, head)
    except NotReadable as exc:
        return str(exc)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc.__class__.__name__})"
    if form is None:
        outcome = read_article(path, max_bytes)
        if isinstance(outcome, str):
            return outcome
        text, sha = outcome
        if not looks_like_export(text):
            return [SourceFile(name=name, raw=text, sha256=sha)], []
        key = content_key(sha, columns)
        what = "text export"

        def read() -> Extraction:
            return read_export(text)
    else:
        what = form.name
        try:
            size = path.stat().st_size
            if size > form.max_bytes:
                return f"too large ({size:,} bytes; the limit is {form.max_bytes:,})"
            key = content_key(sha256_of(path), columns)
        except OSError as exc:
            return f"unreadable ({exc.strerror or exc.__class__.__name__})"
        chosen = form

        def read() -> Extraction:
            return chosen.read(path, columns)

    try:
        files, notes = _articles(name, key, read, store)
    except Unreadable as exc:
        return str(exc)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc.__class__.__name__})"
    except Exception as exc:  # a reader library failing on a strange file must not stop the scan
        log.warning("reading %s failed", name, exc_info=True)
        return f"{what} file could not be read ({exc.__class__.__name__}: {exc})"
    shown = [(f"{name} ({where})", why) for where, why in notes[:MAX_NOTES]]
    if len(notes) > MAX_NOTES:
        shown.append((name, f"{len(notes) - MAX_NOTES:,} more parts left out"))
    return files, shown


def _articles(
    name: str, key: str, read: Callable[[], Extraction], store: ExtractedStore | None
) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """A file's articles, extracted into `store` (once per content) and read from there when used;
    without a store, extracted into memory."""
    if store is None:
        extraction = read()
        articles = extraction.listed()
        files = [
            SourceFile(article_name(name, number, extraction.many), raw=article, sha256=key)
            for number, article in enumerate(articles, 1)
        ]
        return files, extraction.notes
    if not store.has(key):
        store.write(key, read())
    count, notes, many = store.summary(key)
    stored = store.at(key)
    files = [
        SourceFile(article_name(name, number, many), sha256=key, stored=stored, number=number)
        for number in range(1, count + 1)
    ]
    return files, notes


def _unusable(path: Path, name: str) -> str | None:
    """Why a folder entry is not read as an article, or None when it may be."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not UTF-8 (rename it)"
    if any(ch < " " or ch == "\x7f" for ch in name):
        return "file name holds a line break or control character (rename it)"
    if path.is_symlink():
        return "symbolic link (not followed)"
    if not path.is_file():
        return "not a regular file"
    return None


def _walk(folder: Path):
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue
        if path.is_dir() and not path.is_symlink():
            yield from _walk(path)
        else:
            yield path


def read_article(path: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, str] | str:
    """Return (text, sha256) for a usable file, or the reason it is skipped."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return f"too large ({size:,} bytes; the limit is {max_bytes:,})"
        data = path.read_bytes()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc.__class__.__name__})"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text (convert it with iconv -f UTF-16 -t UTF-8)"
    if b"\x00" in data:
        return "binary file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text (convert it with iconv -t UTF-8)"
    if not text.strip():
        return "empty"
    # Offsets are into the text as `Path.read_text` gives it (universal newlines), which is what
    # citations are checked against: a file saved with Windows line endings must verify too.
    return text.replace("\r\n", "\n").replace("\r", "\n"), hashlib.sha256(data).hexdigest()
