"""The text read out of files whose bytes are not their text (PDF, Word, e-mail, feeds, exports).

A quote from a text file is checked against the file itself. A PDF's or a CSV row's text is
what a reader module made of the file, so that text is kept: once per file content hash, in
`<index_dir>/extracted/`, and quotes are checked against it. A file that changes has a new
hash, is read again, and a quote from its old text no longer matches: it is refused as stale,
as for a text file.

One file can hold many articles (a feed's items, an export's rows, a mailbox's messages):
each is indexed as its own article named `FILE#N`, N counting the file's articles from 1,
and says where in the file it is ("row 12", "item 3"). A PDF is one article whose text
remembers where each page starts, so a quote is cited with its page.
"""

from __future__ import annotations

import array
import bisect
import functools
import json
import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.index.columns import Columns

#: Name of the folder under the index folder that holds extracted text.
FOLDER = "extracted"
#: Bumped when a reader changes what it extracts: part of every extraction's key
#: (`rag.index.formats.content_key`), so old extractions are neither reused nor left indexed.
EXTRACTION_VERSION = 1


class Unreadable(Exception):
    """A file of a known format that cannot be read; the message says why, for the skipped list."""


class ExtractedText(str):
    """An article's extracted text, carrying what the format said about it.

    A str, so that every function that takes an article's raw text (sentence splitting,
    citing, the chat's article view) takes it unchanged; the fields are read where they
    matter: parsing (headline, date, link) and citing (the page or row of a quote).
    """

    headline: str | None
    published: str | None
    link: str | None
    #: Where the article is in its file ("row 12", "item 3", "message 2"), None for a whole file.
    where: str | None
    #: For a paginated file, the offset in the text where each page starts (page 1 first).
    pages: tuple[int, ...]

    def __new__(
        cls,
        text: str,
        headline: str | None = None,
        published: str | None = None,
        link: str | None = None,
        where: str | None = None,
        pages: Iterable[int] = (),
    ) -> ExtractedText:
        made = super().__new__(cls, text)
        made.headline, made.published, made.link = headline, published, link
        made.where, made.pages = where, tuple(pages)
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (ExtractedText, (str(self), self.headline, self.published, self.link, self.where, self.pages))

    def place(self, start: int) -> str | None:
        """Where text starting at `start` is in the file: its page, else the article's place."""
        if self.pages:
            return f"page {max(1, bisect.bisect_right(self.pages, start))}"
        return self.where

    def record(self) -> dict[str, Any]:
        return {
            "text": str(self),
            "title": self.headline,
            "date": self.published,
            "url": self.link,
            "where": self.where,
            "pages": list(self.pages),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ExtractedText:
        return cls(
            record["text"],
            record.get("title"),
            record.get("date"),
            record.get("url"),
            record.get("where"),
            record.get("pages", ()),
        )


@dataclass
class Extraction:
    """A file's articles, and notes on parts of it left out (a bad row, an empty item).

    A reader of a large format yields its articles one at a time, so that they go to the
    store as they are read; `notes` is complete once `articles` has been gone through.
    """

    articles: Iterable[ExtractedText] = field(default_factory=list)
    #: (where in the file, why it is left out)
    notes: list[tuple[str, str]] = field(default_factory=list)
    #: True for a format that holds many articles: each is named FILE#N.
    many: bool = False

    def listed(self) -> list[ExtractedText]:
        """The articles as a list (read through once; after this `notes` is complete)."""
        if not isinstance(self.articles, list):
            self.articles = list(self.articles)
        return self.articles


def article_name(file: str, number: int, many: bool) -> str:
    """The name an article is indexed and cited under: the file's, or FILE#N for one of many."""
    return f"{file}#{number}" if many else file


def split_name(name: str) -> tuple[str, int | None]:
    """(file, article number) of an article name; (name, None) when it names no numbered article."""
    file, hash_sign, number = name.rpartition("#")
    if hash_sign and file and number.isdigit() and not number.startswith("0"):
        return file, int(number)
    return name, None


@dataclass(frozen=True)
class Stored:
    """Where a file's extraction is stored: enough to read one of its articles in any process."""

    folder: Path
    key: str

    @property
    def stem(self) -> Path:
        return self.folder / f"{self.key}-v{EXTRACTION_VERSION}"

    def article(self, number: int) -> ExtractedText | None:
        """Article `number` (from 1), or None when there is no such article (or no extraction)."""
        offsets = _offsets(str(self.stem) + ".offsets")
        if offsets is None or not 1 <= number <= len(offsets):
            return None
        with open(str(self.stem) + ".jsonl", "rb") as handle:
            handle.seek(offsets[number - 1])
            return ExtractedText.from_record(json.loads(handle.readline()))


@functools.lru_cache(maxsize=16)
def _offsets_at(path: str, version: tuple[int, int]) -> array.array[int]:
    offsets = array.array("q")
    with open(path, "rb") as handle:
        offsets.frombytes(handle.read())
    return offsets


def _offsets(path: str) -> array.array[int] | None:
    """Where each article's line starts in the .jsonl beside it (cached while the file is unchanged)."""
    try:
        stat = os.stat(path)
        return _offsets_at(path, (stat.st_size, stat.st_mtime_ns))
    except OSError:
        return None


class ExtractedStore:
    """Extracted articles on disk, three files per file content hash (with the columns setting).

    `<key>-vN.jsonl` holds one line per article; `.offsets` where each line starts, so one
    article of a large export is read without reading the rest; `.json` the number of articles,
    the notes and whether the file holds many. The .json is written last: it marks a complete
    extraction, so a stopped `rag index` leaves none half-written in use.
    """

    def __init__(self, folder: Path, columns: Columns) -> None:
        self.folder = folder
        #: The export columns setting the extractions were made with (`rag.index.columns`).
        self.columns = columns

    def at(self, key: str) -> Stored:
        return Stored(self.folder, key)

    def has(self, key: str) -> bool:
        return Path(str(self.at(key).stem) + ".json").is_file()

    def write(self, key: str, extraction: Extraction) -> None:
        """Store a file's extraction, reading its articles once, one at a time; a reader's
        Unreadable on the way leaves nothing stored."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = str(self.at(key).stem)
        tmp = self.folder / f".{uuid.uuid4().hex}.tmp"
        offsets = array.array("q")
        try:
            with tmp.open("wb") as out:
                for article in extraction.articles:
                    offsets.append(out.tell())
                    out.write(json.dumps(article.record(), ensure_ascii=False).encode("utf-8") + b"\n")
            os.replace(tmp, stem + ".jsonl")
            tmp.write_bytes(offsets.tobytes())
            os.replace(tmp, stem + ".offsets")
            meta = {"count": len(offsets), "notes": extraction.notes, "many": extraction.many}
            tmp.write_text(json.dumps(meta), encoding="utf-8")
            os.replace(tmp, stem + ".json")
        finally:
            tmp.unlink(missing_ok=True)

    def summary(self, key: str) -> tuple[int, list[tuple[str, str]], bool]:
        """(articles, notes, whether the file holds many) of a stored extraction."""
        meta = json.loads(Path(str(self.at(key).stem) + ".json").read_text(encoding="utf-8"))
        return meta["count"], [(where, why) for where, why in meta["notes"]], meta["many"]

    def article(self, key: str, number: int) -> ExtractedText | None:
        """Article `number` (from 1) of a stored extraction, or None."""
        return self.at(key).article(number)

    def prune(self, keep: set[str]) -> None:
        """Remove the extractions of files that are no longer in the folder."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            key = path.name.split("-v", 1)[0]
            if path.suffix in (".jsonl", ".offsets", ".json") and key not in keep:
                path.unlink(missing_ok=True)


#: seeds folder -> the stores of the indexes built from it, for checking quotes (`rag.citations`).
_stores: dict[Path, list[ExtractedStore]] = {}
_stores_lock = threading.Lock()


def register(seeds_dir: Path, index_dir: Path, columns: Columns) -> ExtractedStore:
    """The store of extracted text for an index of `seeds_dir`, remembered for checking its quotes.

    Quotes are checked given only the seeds folder (`rag.citations.read_source`); this is
    how that check finds the text an index stored.
    """
    folder = (index_dir / FOLDER).resolve()
    with _stores_lock:
        known = _stores.setdefault(seeds_dir.resolve(), [])
        for store in known:
            if store.folder == folder:
                store.columns = columns
                return store
        store = ExtractedStore(folder, columns)
        known.append(store)
        return store


def stores_for(seeds_dir: Path) -> list[ExtractedStore]:
    with _stores_lock:
        return list(_stores.get(seeds_dir.resolve(), []))
