"""The Chroma index: versioned collections behind an atomic pointer.

A refresh never edits the collection people are querying. It writes a new collection
(copying the vectors of unchanged files, embedding only new and changed ones) and, when
that is complete, flips a pointer stored in a tiny collection's metadata — one SQLite row
update. A refresh killed at any moment therefore leaves the previous index answering, and
the same code works against an embedded store and a `chroma run` server.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import IndexLockedError, IndexNotReadyError, SettingsError, StoreUnavailableError
from rag.index.duplicates import COPY_OF, FOLDED, folded_copies
from rag.settings import Settings

log = logging.getLogger(__name__)

#: Records per `get` when reading a whole collection (well under SQLite's variable limit).
PAGE_SIZE = 5000
#: Bumped when chunking changes, so an old index is rebuilt rather than mixed.
CHUNK_SCHEMA = "sentences-v10-attributions"
#: The version metadata naming how its copies were folded (`rag.index.duplicates.FOLD_KEY`).
FOLDS_KEY = "folds"


@dataclass
class RefreshSummary:
    """What `refresh` did, for the CLI summary and tests."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Files a stopped refresh had already written whole, kept rather than embedded again.
    resumed: list[str] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    rebuilt_reason: str | None = None
    collection: str | None = None
    seconds: float = 0.0
    #: False for one part of a refresh split across machines (`rag.index.refresh.Part`): it writes, never publishes.
    published: bool = True
    #: Copies of one story folded into its canonical article: copy -> canonical (`rag.index.duplicates`).
    folded: dict[str, str] = field(default_factory=dict)
    #: True when the way of folding changed (RAG_FOLD_DUPLICATES, an index from before folding): the files
    #: are copied into a new version and folded again, none embedded again.
    refolded: bool = False

    @property
    def modified(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt_reason or self.refolded)


def make_client(settings: Settings) -> Any:
    """A Chroma client: HTTP when a host is set, else persistent in `index_dir`."""
    import chromadb
    import chromadb.errors
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    host = settings.chroma_host
    if host is not None:
        where = f"{host}:{settings.chroma_port}"
        try:
            return chromadb.HttpClient(host=host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises ValueError/ConnectError variants here
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {where} ({exc.__class__.__name__}). "
                "Start it with `chroma run --host HOST --port PORT`, or unset RAG_CHROMA_HOST."
            ) from None
    folder = settings.index_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"RAG_INDEX_DIR {folder} cannot hold the index ({exc.strerror or exc.__class__.__name__}): "
            "set it to a folder this user can write."
        ) from None
    try:
        return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
    except chromadb.errors.ChromaError as exc:
        raise StoreUnavailableError(
            f"The index in {folder} cannot be opened ({exc}): it is damaged; delete that folder and run `rag index`."
        ) from None


def writing_order(places: Sequence[tuple[str, int]]) -> list[int]:
    """Indexes of (source, position) records in the order to write them: file by file, each
    file's first sentence after its others.

    Batches are written in order, so a file whose first sentence is in the store was written
    whole (`IndexStore.complete_files`), which lets a stopped refresh resume per file.
    """
    rank: dict[str, int] = {}
    for source, _ in places:
        rank.setdefault(source, len(rank))
    return sorted(range(len(places)), key=lambda i: (rank[places[i][0]], places[i][1] == 0))


class IndexStore:
    """Owns the collections of one index name on one Chroma client."""

    def __init__(self, client: Any, name: str, embed_model_id: str, where: str) -> None:
        self.client = client
        self.name = name
        self.embed_model_id = embed_model_id
        self.where = where
        self._pointer_name = f"{name}-pointer"

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Chroma calls inside turn a lost connection into one clear error (a question's reads
        go to the collection directly, so `Pipeline` answers inside this)."""
        import chromadb.errors
        import httpx

        try:
            yield
        except (ConnectionError, httpx.TransportError) as exc:
            raise StoreUnavailableError(
                f"Chroma at {self.where} is unavailable ({exc.__class__.__name__}); is the server running?"
            ) from None
        except chromadb.errors.InternalError as exc:
            raise StoreUnavailableError(f"Chroma at {self.where} failed ({exc}); the index may be damaged.") from None

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a Chroma call, turning connection failures into one clear error."""
        with self.reading():
            return fn(*args, **kwargs)

    def _pointer(self) -> Any:
        return self._call(
            self.client.get_or_create_collection,
            self._pointer_name,
            metadata={"active": ""},
            embedding_function=None,
        )

    def active_name(self) -> str | None:
        """Name of the collection queries should use, or None before the first build."""
        return (self._pointer().metadata or {}).get("active") or None

    def active(self) -> Any:
        """The live collection; IndexNotReadyError when no index was built yet."""
        name = self.active_name()
        if not name:
            raise IndexNotReadyError(f"No index yet in {self.where}: run `rag index` first.")
        return self._call(self.client.get_collection, name, embedding_function=None)

    def mismatch(self, collection: Any) -> str | None:
        """Why an existing collection cannot be reused, or None when it can."""
        meta = collection.metadata or {}
        if meta.get("embed_model") != self.embed_model_id:
            return f"embedding model changed ({meta.get('embed_model')} -> {self.embed_model_id})"
        if meta.get("chunk_schema") != CHUNK_SCHEMA:
            return f"chunking changed ({meta.get('chunk_schema')} -> {CHUNK_SCHEMA})"
        return None

    def pages(
        self, collection: Any, include: list[str], where: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, as `get` results of at most PAGE_SIZE records each.

        One `get` of a whole collection fails past about 32,766 records ("too many SQL
        variables" in Chroma's SQLite layer), which `make bench-scale` hit at 2,000 articles;
        reading page by page also lets a caller keep only what it needs of each record.
        """
        offset = 0
        while True:
            kwargs: dict[str, Any] = {"include": include, "limit": PAGE_SIZE, "offset": offset}
            if where is not None:
                kwargs["where"] = where
            got = self._call(collection.get, **kwargs)
            yield got
            if len(got["ids"]) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _pages(self, collection: Any, include: list[str], where: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every matching record in one result, read page by page (see `pages`)."""
        merged: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
        for got in self.pages(collection, include, where):
            for name, values in merged.items():
                values.extend(got[name] if got[name] is not None else [])
        return merged

    def file_hashes(self, collection: Any) -> dict[str, str]:
        """source -> sha256 of the file version the collection holds."""
        return {m["source"]: m["file_sha"] for m in self._pages(collection, ["metadatas"])["metadatas"]}

    def complete_files(self, collection: Any) -> dict[str, str]:
        """source -> sha256 of the files written whole: a file's first sentence is always written last."""
        found = self._pages(collection, ["metadatas"], where={"position": 0})["metadatas"]
        return {m["source"]: m["file_sha"] for m in found}

    def delete_files(self, collection: Any, names: Sequence[str]) -> None:
        """Remove every record of these files from a collection that is not published yet."""
        names = list(names)
        for i in range(0, len(names), 500):
            self._call(collection.delete, where={"source": {"$in": names[i : i + 500]}})

    def _version_time(self, name: str) -> int:
        """The creation time (ms) in a version's name, -1 for another name."""
        stamp = name.removeprefix(f"{self.name}-v").split("-", 1)[0]
        return int(stamp) if name.startswith(f"{self.name}-v") and stamp.isdigit() else -1

    def resumable(self, after: str | None) -> Any | None:
        """The newest version created after the live one and never published: a refresh that was stopped.

        Its complete files are kept by the next refresh instead of being embedded again.
        """
        floor = self._version_time(after) if after else -1
        names = [c if isinstance(c, str) else c.name for c in self._call(self.client.list_collections)]
        for name in sorted((n for n in names if self._version_time(n) > floor), key=self._version_time, reverse=True):
            collection = self._call(self.client.get_collection, name, embedding_function=None)
            if self.mismatch(collection) is None:
                return collection
        return None

    def all_records(self, collection: Any) -> dict[str, Any]:
        """Every record's id, document and metadata (to build the keyword index)."""
        return self._pages(collection, ["documents", "metadatas"])

    def new_collection(self) -> Any:
        """An empty, not-yet-visible collection for the next version of the index."""
        name = f"{self.name}-v{time.time_ns() // 1_000_000}-{uuid.uuid4().hex[:6]}"
        return self._call(
            self.client.create_collection,
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embed_model": self.embed_model_id, "chunk_schema": CHUNK_SCHEMA},
            embedding_function=None,
        )

    def copy_files(self, source: Any, target: Any, names: Sequence[str]) -> int:
        """Copy the stored vectors of unchanged files: no re-embedding."""
        if not names:
            return 0
        got = self._pages(source, ["embeddings", "documents", "metadatas"], where={"source": {"$in": list(names)}})
        batch = self.client.get_max_batch_size()
        order = writing_order([(m["source"], int(m.get("position", 0))) for m in got["metadatas"]])
        for i in range(0, len(order), batch):
            part = order[i : i + batch]
            self._call(
                target.add,
                ids=[got["ids"][j] for j in part],
                embeddings=[got["embeddings"][j] for j in part],
                documents=[got["documents"][j] for j in part],
                metadatas=[got["metadatas"][j] for j in part],
            )
        return len(order)

    def fold(self, collection: Any, copy_of: dict[str, str], way: str) -> None:
        """Flag the sentences of folded copies (copy -> canonical) so that searches leave them out, clear
        the flag of articles no longer folded, and record the way of folding in the version's metadata.

        Only articles whose fold changed are written: a refresh copies the flags of unchanged files.
        """
        before = folded_copies(collection)
        changed = sorted(name for name in set(before) | set(copy_of) if before.get(name) != copy_of.get(name))
        batch = self.client.get_max_batch_size()
        for i in range(0, len(changed), 500):
            got = self._pages(collection, ["metadatas"], where={"source": {"$in": changed[i : i + 500]}})
            metas = got["metadatas"]
            # each article's first sentence last, as when writing: it is what `folded_copies` reads, so a
            # refresh stopped halfway through leaves no article flagged in part without noticing it
            order = writing_order([(m["source"], int(m.get("position", 0))) for m in metas])
            for j in range(0, len(order), batch):
                part = order[j : j + batch]
                self._call(
                    collection.update,
                    ids=[got["ids"][k] for k in part],
                    metadatas=[
                        {FOLDED: metas[k]["source"] in copy_of, COPY_OF: copy_of.get(metas[k]["source"], "")}
                        for k in part
                    ],
                )
        if (collection.metadata or {}).get(FOLDS_KEY) != way:
            self._call(collection.modify, metadata={**(collection.metadata or {}), FOLDS_KEY: way})

    def publish(self, collection: Any) -> None:
        """Make `collection` the live index (atomic), then drop stale versions."""
        previous = self.active_name()
        self._call(self._pointer().modify, metadata={"active": collection.name})
        self.drop_stale(keep={collection.name, previous or ""})

    def drop_stale(self, keep: set[str]) -> None:
        """Delete old versions and leftovers of killed refreshes.

        The previous version is kept one more round so that a process that loaded it a
        moment ago can finish its query.
        """
        prefix = f"{self.name}-v"
        for col in self._call(self.client.list_collections):
            col_name = col if isinstance(col, str) else col.name
            if col_name.startswith(prefix) and col_name not in keep:
                log.info("dropping stale collection %s", col_name)
                self._call(self.client.delete_collection, col_name)


class IndexLock:
    """One refresh at a time per index; a second `rag index` gets a clear message."""

    def __init__(self, settings: Settings, suffix: str = "") -> None:
        from filelock import FileLock

        if settings.server_mode:
            safe = f"{settings.chroma_host}-{settings.chroma_port}-{settings.collection}{suffix}"
            path = Path(tempfile.gettempdir()) / f"rag-index-{safe.replace('/', '_')}.lock"
        else:
            settings.index_dir.mkdir(parents=True, exist_ok=True)
            path = settings.index_dir / f".{settings.collection}.lock"
        self._lock = FileLock(str(path), timeout=0)
        self._path = path

    def __enter__(self) -> IndexLock:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            raise IndexLockedError(
                f"Another `rag index` is refreshing this index (lock {self._path}); wait for it to finish."
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
