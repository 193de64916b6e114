"""Find the article files in the seeds folder and read the ones that are text.

A folder of real files has junk in it. Every file we cannot use is named with the reason,
and the rest are still indexed: one bad file must never cost the user the whole index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import SettingsError

#: Files larger than this are skipped: news articles are kilobytes, and a huge file would
#: stall indexing for minutes while adding nothing a person asks about.
MAX_FILE_BYTES = 2_000_000


@dataclass(frozen=True)
class SourceFile:
    """One readable article: its name relative to the seeds folder and its exact text."""

    name: str
    raw: str
    sha256: str


@dataclass
class Scan:
    """The outcome of reading a seeds folder."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def scan_folder(seeds_dir: Path, max_bytes: int = MAX_FILE_BYTES) -> Scan:
    """Read every regular file under `seeds_dir`, recursing into subfolders.

    Hidden files and folders are ignored, as git and file managers do (.DS_Store, a .git
    folder, the chat's half-written uploads). Every other file we cannot use is skipped and
    named with the reason: symbolic links are not followed (they could point anywhere on the
    machine), and files that are not UTF-8 text are skipped, since a quote's offsets must
    verify against `read_text(encoding="utf-8")`, which a guessed encoding would break.
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
        outcome = read_article(path, max_bytes)
        if isinstance(outcome, str):
            scan.skipped.append((name, outcome))
        else:
            scan.files.append(SourceFile(name=name, raw=outcome[0], sha256=outcome[1]))
    return scan


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
