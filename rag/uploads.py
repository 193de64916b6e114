"""Adding and removing articles from the chat: safe file names, the same checks as `rag index`.

An upload comes from a browser, so its name and bytes are hostile until checked. Only the
base name is kept, reduced to a small alphabet (no path, no control characters, no hidden
file), and the file lands directly in the seeds folder or not at all: it is written to a
hidden temporary file (which the index scan ignores) and linked to its final name, which
fails rather than overwrites. The checks are `rag index`'s own (`read_article` for text, the
format's reader for a PDF, Word file, e-mail, feed or export), so a file the chat accepts is
a file `rag index` indexes. Re-indexing runs in one background thread
(`BackgroundIndex`) while questions keep using the published version.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.index.columns import Columns
from rag.index.extracted import split_name
from rag.index.formats import EXTENSIONS as READER_EXTENSIONS
from rag.index.formats import FEED, HEAD_BYTES, PARQUET, PDF, WORD, Format, NotReadable, Unreadable, detect
from rag.index.ingest import MAX_FILE_BYTES, read_article

log = logging.getLogger(__name__)

#: File types the chat accepts: text, Markdown and pages saved from a browser (`rag.index.html_pages`),
#: and the formats read by a reader module (`rag.index.formats`): PDF, Word, e-mail, feeds, exports.
EXTENSIONS = (".txt", ".md", ".html", ".htm", *READER_EXTENSIONS)
#: Extensions whose files must be of that format: a text file named .pdf would otherwise be
#: indexed as text, which is not what its name tells the person who added it.
PROMISED: dict[str, Format] = {
    ".pdf": PDF,
    ".docx": WORD,
    ".rss": FEED,
    ".atom": FEED,
    ".xml": FEED,
    ".parquet": PARQUET,
}
#: Largest PDF, Word file, mailbox or export accepted in one upload (text files: `max_bytes`).
MAX_DOCUMENT_BYTES = 50_000_000
#: Files per upload: a news folder grows by a few articles at a time, not by thousands.
MAX_FILES = 20
#: Longest stored name stem; long enough for a headline, short enough for every file system.
MAX_STEM = 80

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class UploadReport:
    """What happened to each uploaded file, in words a person can act on."""

    saved: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def add(self, stored: str, note: str = "") -> None:
        self.saved.append(stored)
        self.lines.append(f"Added {stored}{f' ({note})' if note else ''}.")

    def refuse(self, name: str, reason: str) -> None:
        self.refused.append((name, reason))
        self.lines.append(f"Refused {name}: {reason}.")


def safe_name(original: str) -> str | None:
    """The name an upload is stored under, or None when nothing usable is left.

    Keeps the last path component only (both `/` and `\\` separate), folds accents to ASCII,
    replaces anything outside letters, digits, `.`, `_` and `-` by `_`, and drops leading
    dots so the file is never hidden (the index scan skips hidden files).
    """
    base = re.split(r"[/\\]", original)[-1]
    folded = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", folded).lstrip("._-")
    stem, dot, ext = cleaned.rpartition(".")
    if not dot or f".{ext.lower()}" not in EXTENSIONS:
        return None
    stem = stem.strip("._-")[:MAX_STEM].rstrip("._-")
    if not stem:
        return None
    return f"{stem}.{ext.lower()}"


def check_upload(
    original: str, path: Path, max_bytes: int = MAX_FILE_BYTES, columns: Columns | None = None
) -> tuple[str, bytes] | str:
    """(stored name, bytes) for an acceptable upload, or the reason it is refused."""
    name = safe_name(original)
    if name is None:
        kinds = ", ".join(EXTENSIONS)
        return (
            "only text, Markdown, saved web pages, PDF, Word, e-mail, feed and export files can be added "
            f"(the name must end in {kinds})"
        )
    try:
        with path.open("rb") as handle:
            form = detect(Path(name), handle.read(HEAD_BYTES))
        promised = PROMISED.get(Path(name).suffix)
        if promised is not None and form is not promised:
            return f"not a {promised.name} file, whatever its name says"
        if form is not None:
            return _check_document(name, path, form, columns or Columns())
    except NotReadable as exc:
        return str(exc)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc.__class__.__name__})"
    outcome = read_article(path, max_bytes)
    if isinstance(outcome, str):
        return outcome
    return name, outcome[0].encode("utf-8")


def _check_document(name: str, path: Path, form: Format, columns: Columns) -> tuple[str, bytes] | str:
    """A file of a reader module's format is accepted when its reader finds an article in it."""
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        return f"too large ({size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,})"
    try:
        for _ in form.read(path, columns).articles:  # read through, as `rag index` will
            pass
    except Unreadable as exc:
        return str(exc)
    except Exception as exc:  # a reader library failing on a hostile file: refuse it, keep the chat
        log.warning("checking upload %s failed", name, exc_info=True)
        return f"{form.name} file could not be read ({exc.__class__.__name__})"
    return name, path.read_bytes()


def save_uploads(
    seeds_dir: Path,
    uploads: Sequence[tuple[str, Path]],
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_FILE_BYTES,
    columns: Columns | None = None,
) -> UploadReport:
    """Check each (original name, uploaded file) and store the good ones in `seeds_dir`.

    Nothing is ever overwritten: a file whose name is taken is skipped when its content is
    the same, and otherwise stored under `name-2.txt` (and so on), which the report says.
    """
    report = UploadReport()
    if len(uploads) > max_files:
        report.refuse(
            f"{len(uploads):,} files", f"too many files in one upload (at most {max_files}); add them in batches"
        )
        return report
    root = seeds_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    for original, path in uploads:
        shown = _printable(original)
        checked = check_upload(original, Path(path), max_bytes, columns)
        if isinstance(checked, str):
            report.refuse(shown, checked)
            continue
        name, data = checked
        stored = _store(root, name, data)
        if stored is None:
            report.refuse(shown, f"already in the folder as {name} (same text)")
        elif stored != name:
            report.add(stored, f"{name} already exists with different text")
        else:
            report.add(stored, "" if name == original else f"from {shown}")
    return report


def _printable(name: str) -> str:
    """A name fit to show in a message: control characters visible, length bounded."""
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)
    return shown if len(shown) <= 120 else shown[:117] + "…"


def _store(root: Path, name: str, data: bytes) -> str | None:
    """Write `data` as `name` (or `stem-N.ext` when taken) in `root`; None when identical text exists."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a safe file name: {name!r}")
    stem, ext = name.rsplit(".", 1)
    tmp = root / f".upload-{uuid.uuid4().hex}.tmp"
    with open(tmp, "xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    try:
        for n in range(1, 1000):
            candidate = name if n == 1 else f"{stem}-{n}.{ext}"
            target = root / candidate
            if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                return None
            try:
                _link_or_create(tmp, target, data)
            except FileExistsError:
                continue
            return candidate
        raise RuntimeError(f"no free name for {name} in {root}")
    finally:
        tmp.unlink(missing_ok=True)


def _link_or_create(tmp: Path, target: Path, data: bytes) -> None:
    """Give the complete temporary file its name; FileExistsError when the name is taken.

    A hard link is atomic (the index scan never sees a half-written article) and never
    follows or replaces what is there; file systems without hard links get an exclusive create.
    """
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        with open(target, "xb") as out:
            out.write(data)


def remove_article(seeds_dir: Path, source: str, indexed: Sequence[str]) -> str:
    """Delete one indexed article file; returns what happened, for the page.

    Only names the index lists are accepted, and only regular files inside the seeds
    folder are deleted, so a forged request cannot remove anything else.
    """
    if source not in indexed:
        return f"{_printable(source)} is not an indexed article."
    root = seeds_dir.resolve()
    path = root / source
    file, number = split_name(source)
    if number is not None and not path.exists() and (root / file).is_file():
        return (
            f"{_printable(source)} is one of the articles in {_printable(file)}: remove that file to remove them all."
        )
    if path.is_symlink() or not path.is_file() or root not in path.resolve().parents:
        return f"{_printable(source)} is not a file in the seeds folder."
    path.unlink(missing_ok=True)  # two pages removing it at once: both see it gone
    return f"Removed {source}."


@dataclass
class IndexStatus:
    """The background refresh as the page shows it."""

    running: bool = False
    done: int = 0
    total: int = 0
    message: str = ""
    runs: int = 0


class BackgroundIndex:
    """Runs `index(progress)` in one thread; a request while it runs queues exactly one more run.

    The pipeline publishes a new index version atomically, so questions asked meanwhile are
    answered from the previous version; this class only keeps the page informed.
    """

    def __init__(self, index: Callable[[Callable[[int, int], None]], Any]) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._status = IndexStatus()
        self._again = False

    def request(self) -> None:
        """Start a refresh now, or once more after the one in progress."""
        with self._lock:
            if self._status.running:
                self._again = True
                return
            self._status = IndexStatus(running=True, message="Indexing…", runs=self._status.runs)
        threading.Thread(target=self._run, name="rag-index", daemon=True).start()

    def status(self) -> IndexStatus:
        with self._lock:
            return IndexStatus(**vars(self._status))

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._status.done, self._status.total = done, total
            self._status.message = f"Indexing: embedded {done} of {total} sentences…"

    def _run(self) -> None:
        while True:
            try:
                message = describe(self._index(self._progress))
            except Exception as exc:  # shown in the page; the previous index keeps answering
                log.exception("background refresh failed")
                message = f"⚠ The index was not updated: {exc}"
            with self._lock:
                if self._again:
                    self._again = False
                    self._status.message = "Indexing again for the latest change…"
                    continue
                self._status = IndexStatus(message=message, runs=self._status.runs + 1)
                return


def describe(summary: Any) -> str:
    """One line for a finished refresh (a `RefreshSummary`), with any skipped files named."""
    changed = (
        f"{len(summary.added)} added, {len(summary.changed)} changed, {len(summary.removed)} removed"
        if summary.modified
        else "no change"
    )
    text = f"Index updated ({changed}): {summary.chunks} sentences, in {summary.seconds:.1f} s."
    skipped = "; ".join(f"{name}: {reason}" for name, reason in summary.skipped)
    return f"{text} Skipped {skipped}." if skipped else text
