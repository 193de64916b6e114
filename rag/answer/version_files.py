"""The files kept beside one index version: keyword index, row table and word statistics.

Answering needs, besides the vectors in Chroma, a BM25 index over every sentence and the
word statistics of the corpus (document frequencies, each article's vocabulary). Building
them means reading every record and stemming every sentence, which grew a serving
process's start and memory with the corpus (22.9 s and 937 MB at 2,000 articles). They
are built once per version instead, when `rag index` writes it, and a serving process
memory-maps them: its start and memory no longer depend on how many articles there are.

Chroma keeps no files for us in server mode (there is no shared disk with `chroma run`),
so the folder is a local cache keyed by the collection's name, which is unique per
version: a process that finds no folder for the live version builds it from the store
once (reading the records page by page) and every later process on that machine loads it.
The key also carries a fingerprint of the code and data that turn text into terms, so a
change to stemming or lemmas rebuilds the files rather than mixing two vocabularies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer import lexicon as lexicon_module
from rag.answer import vocabulary
from rag.answer.lexicon import Lexicon, Spellings
from rag.errors import IndexNotReadyError

log = logging.getLogger(__name__)

#: Bumped when the layout of the folder changes.
LAYOUT = "version-files-2"
#: Packages whose data decides the terms and tokens.
_TERM_PACKAGES = ("bm25s", "PyStemmer", "lemminflect", "countryinfo")
#: Articles whose vocabulary a process keeps decoded (the candidates of recent questions).
ARTICLE_CACHE = 2048


@cache
def fingerprint() -> str:
    """Hash of the code and package versions that turn text into terms and BM25 tokens."""
    digest = hashlib.sha256(LAYOUT.encode())
    for package in _TERM_PACKAGES:
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=?".encode())
    for module in (lexicon_module, vocabulary):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def tokenize(texts: list[str], stemmer: Any, return_ids: bool = True) -> Any:
    """bm25s tokens of sentences or a question: English stopwords out, Snowball stems.

    The one place both the index and the questions are tokenised, so they cannot drift apart.
    """
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False, return_ids=return_ids)


class ArticleTerms:
    """Each article's content stems, decoded from the files for the articles asked about."""

    def __init__(self, index: dict[str, int], terms: list[str], indptr: np.ndarray, data: np.ndarray) -> None:
        self._index = index
        self._terms = terms
        self._indptr = indptr
        self._data = data
        self._cache: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: str, default: frozenset[str] = frozenset()) -> frozenset[str]:
        with self._lock:
            found = self._cache.get(source)
            if found is not None:
                self._cache.move_to_end(source)
                return found
        article = self._index.get(source)
        if article is None:
            return default
        start, end = int(self._indptr[article]), int(self._indptr[article + 1])
        found = frozenset(self._terms[i] for i in self._data[start:end])
        with self._lock:
            self._cache[source] = found
            while len(self._cache) > ARTICLE_CACHE:
                self._cache.popitem(last=False)
        return found


def _mapped(path: Path) -> np.ndarray:
    """A read-only memory map of an .npy file, as a plain array (indexing a `np.memmap` is slower)."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


class VersionFiles:
    """The memory-mapped files of one version: BM25, row table, word statistics."""

    def __init__(self, folder: Path) -> None:
        import bm25s

        self.folder = folder
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.version: str = meta["version"]
        self.count: int = meta["count"]
        self.ids = _mapped(folder / "ids.npy")
        self.row_article = _mapped(folder / "row_article.npy")
        self._article_rows = _mapped(folder / "article_rows.npy")
        self._article_positions = _mapped(folder / "article_positions.npy")
        self._article_indptr = _mapped(folder / "article_indptr.npy")
        self.sources: list[str] = meta["sources"]
        self.dates: list[str | None] = meta["dates"]
        self._article_index = {s: i for i, s in enumerate(self.sources)}
        self.bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False) if self.count else None
        stats = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        terms: list[str] = stats["terms"]
        articles = ArticleTerms(
            self._article_index,
            terms,
            _mapped(folder / "terms_indptr.npy"),
            _mapped(folder / "terms_data.npy"),
        )
        self.lexicon = Lexicon.from_statistics(
            stats["sentences"],
            dict(zip(terms, stats["df"], strict=True)),
            articles,
            json.loads((folder / "spellings.json").read_text(encoding="utf-8")),
        )

    def id_at(self, row: int) -> str:
        return str(self.ids[row].decode("ascii"))

    def row_of(self, source: str, position: int) -> int | None:
        """The row of the sentence at `position` in an article, if the version holds one there."""
        index = self._article_index.get(source)
        if index is None:
            return None
        start, end = int(self._article_indptr[index]), int(self._article_indptr[index + 1])
        if start == end:
            return None
        at = start + position - int(self._article_positions[start])  # positions are usually 0, 1, 2…
        if not start <= at < end or int(self._article_positions[at]) != position:
            at = start + int(np.searchsorted(self._article_positions[start:end], position))
        if at < end and int(self._article_positions[at]) == position:
            return int(self._article_rows[at])
        return None

    def sentence_counts(self) -> dict[str, int]:
        return {s: int(self._article_indptr[i + 1] - self._article_indptr[i]) for i, s in enumerate(self.sources)}

    def first_rows(self) -> list[int]:
        """Per article (in source order), the row of its first sentence."""
        return [int(self._article_rows[int(self._article_indptr[i])]) for i in range(len(self.sources))]


def records(store: Any, collection: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(id, sentence, metadata) of every record, in the store's order, read a page at a time."""
    for page in store.pages(collection, ["documents", "metadatas"]):
        yield from zip(page["ids"], page["documents"], page["metadatas"], strict=True)


def build(folder: Path, version: str, rows: Iterator[tuple[str, str, dict[str, Any]]]) -> None:
    """Write the files of one version into `folder` (which must not exist yet)."""
    import bm25s
    import Stemmer

    ids: list[str] = []
    texts: list[str] = []
    places: list[tuple[str, int]] = []
    dates: dict[str, str | None] = {}
    lexicon = Lexicon([])
    df: Counter[str] = Counter()
    spellings = Spellings()
    article_terms: dict[str, set[str]] = {}
    for node_id, text, meta in rows:
        ids.append(node_id)
        texts.append(text)
        source = meta["source"]
        places.append((source, int(meta.get("position", 0))))
        dates.setdefault(source, meta.get("date") or None)
        terms = set(lexicon.terms(text))
        df.update(terms)
        spellings.add(text)
        article_terms.setdefault(source, set()).update(terms)

    sources = sorted(dates)
    article_of = {s: i for i, s in enumerate(sources)}
    row_article = np.fromiter((article_of[s] for s, _ in places), dtype=np.int32, count=len(places))
    order = sorted(range(len(places)), key=lambda r: (row_article[r], places[r][1]))
    counts = np.bincount(row_article, minlength=len(sources)) if places else np.zeros(len(sources), dtype=np.int64)

    folder.mkdir(parents=True)
    np.save(folder / "ids.npy", np.array([i.encode("ascii") for i in ids], dtype=f"S{max(map(len, ids), default=1)}"))
    np.save(folder / "row_article.npy", row_article)
    np.save(folder / "article_rows.npy", np.array(order, dtype=np.int32))
    np.save(folder / "article_positions.npy", np.array([places[r][1] for r in order], dtype=np.int32))
    np.save(folder / "article_indptr.npy", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))

    vocabulary_terms = sorted(df)
    term_of = {t: i for i, t in enumerate(vocabulary_terms)}
    per_article = [sorted(term_of[t] for t in article_terms[s]) for s in sources]
    sizes = np.cumsum([len(a) for a in per_article])
    np.save(folder / "terms_indptr.npy", np.concatenate([[0], sizes]).astype(np.int64))
    np.save(folder / "terms_data.npy", np.array([i for a in per_article for i in a], dtype=np.int32))
    stats = {"sentences": len(texts), "terms": vocabulary_terms, "df": [df[t] for t in vocabulary_terms]}
    (folder / "terms.json").write_text(json.dumps(stats), encoding="utf-8")
    (folder / "spellings.json").write_text(json.dumps(spellings.table()), encoding="utf-8")

    if texts:
        bm25 = bm25s.BM25()
        bm25.index(tokenize(texts, Stemmer.Stemmer("english")), show_progress=False)
        bm25.save(str(folder / "bm25"), show_progress=False)
    meta = {"version": version, "count": len(ids), "sources": sources, "dates": [dates[s] for s in sources]}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


class VersionFilesCache:
    """The folders of version files under one root, built at most once per version."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, version: str) -> Path:
        return self.root / f"{version}-{fingerprint()}"

    def ready(self, version: str) -> bool:
        return (self.folder(version) / "meta.json").is_file()

    def ensure(self, store: Any, collection: Any, rebuild: bool = False) -> Path:
        """The folder of this collection's files, built from the store's records if missing
        (or always, with `rebuild`: an unpublished version resumed after an interrupted
        refresh may have changed since its files were written).

        Built in a temporary folder and renamed into place, under a file lock, so several
        processes on one machine build it once and never read a half-written folder.
        """
        from filelock import FileLock

        target = self.folder(collection.name)
        if self.ready(collection.name) and not rebuild:
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.root / f".{collection.name}.lock")):
            if self.ready(collection.name) and not rebuild:
                return target
            scratch = self.root / f".building-{collection.name}-{uuid.uuid4().hex[:8]}"
            try:
                build(scratch, collection.name, records(store, collection))
                shutil.rmtree(target, ignore_errors=True)
                os.replace(scratch, target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        return target

    def load(self, store: Any, collection: Any) -> VersionFiles:
        """The files of this collection (built first when this machine has none yet, and again
        when they are unreadable: a deleted or truncated file is repaired, not reported)."""
        try:
            folder = self.ensure(store, collection)
        except OSError as exc:
            raise IndexNotReadyError(
                f"Cannot write the keyword files of {collection.name} under {self.root} ({exc}); "
                "check that RAG_INDEX_DIR is writable and has free space."
            ) from None
        try:
            return VersionFiles(folder)
        except (OSError, ValueError, KeyError) as exc:  # a cache of the store: built again, once
            log.warning("The keyword files in %s are unreadable (%s); building them again from the store.", folder, exc)
        try:
            return VersionFiles(self.ensure(store, collection, rebuild=True))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexNotReadyError(
                f"The keyword files of {collection.name} in {folder} are unreadable ({exc}) even when built again; "
                "check that RAG_INDEX_DIR is writable and has free space."
            ) from None

    def prune(self, keep: set[str]) -> None:
        """Remove the files of versions not in `keep`; a process that mapped them keeps reading them.

        Folders being built (`.building-…`) are left to their builder, which removes them.
        """
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.name.startswith(".building-"):
                continue
            version = path.name.removeprefix(".").removesuffix(".lock")
            if version in keep or any(path.name.startswith(f"{name}-") for name in keep if name):
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
