"""Sentences of one index version, read from the store when a question needs them.

A serving process used to hold every sentence of the corpus as a `Chunk`; at 2,000 articles
that alone was hundreds of megabytes per process. A question only ever reads its candidates
and the sentences around them, so those are fetched by id in one `get` and kept in a bounded
cache (recent questions' sentences), and nothing else is held.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from rag.index.entities import decode
from rag.models import Chunk

#: Sentences kept decoded per process: a question touches about a hundred (candidates and neighbours).
CACHE_SIZE = 20_000
#: Ids per `get` (well under SQLite's variable limit).
BATCH = 5000


def chunk_from_record(node_id: str, metadata: dict[str, Any], text: str) -> Chunk:
    """A `Chunk` from what the store holds for one record (every metadata key the answer uses)."""
    return Chunk(
        id=node_id,
        source=metadata["source"],
        text=text,
        start=int(metadata["start"]),
        end=int(metadata["end"]),
        title=metadata.get("title") or None,
        date=metadata.get("date") or None,
        context=metadata.get("context", ""),
        position=int(metadata.get("position", 0)),
        entities=decode(metadata.get("entities", "")),
    )


class SentenceReader:
    """`Chunk`s of one collection by id: from the cache, else one `get` for all that are missing."""

    def __init__(self, collection: Any, cache_size: int = CACHE_SIZE) -> None:
        self.collection = collection
        self._cache: OrderedDict[str, Chunk] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def get(self, ids: Iterable[str], keep: bool = True) -> dict[str, Chunk]:
        """The chunks of these ids (unknown ids are left out); `keep=False` reads past the cache."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Chunk] = {}
        with self._lock:
            for node_id in wanted:
                chunk = self._cache.get(node_id)
                if chunk is not None:
                    self._cache.move_to_end(node_id)
                    found[node_id] = chunk
        missing = [i for i in wanted if i not in found]
        for start in range(0, len(missing), BATCH):
            got = self.collection.get(ids=missing[start : start + BATCH], include=["documents", "metadatas"])
            for node_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                found[node_id] = chunk_from_record(node_id, meta, text)
        if keep and missing:
            with self._lock:
                for node_id in missing:
                    if node_id in found:
                        self._cache[node_id] = found[node_id]
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return found
