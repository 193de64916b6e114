"""Build or refresh the index from the seeds folder.

Unchanged files keep their vectors (copied, not re-embedded); changed files are replaced,
deleted files removed. A different embedding model or chunking scheme means a full
rebuild: vectors from two models must never share one collection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rag.index.chunking import ChunkRecord, chunk_file
from rag.index.ingest import scan_folder
from rag.index.parsing import day_number, parse_article
from rag.index.store import IndexLock, IndexStore, RefreshSummary
from rag.settings import Settings

#: Called with (records embedded so far, records to embed in total).
Progress = Callable[[int, int], None]
#: Called with the complete new collection just before it is published (to write its version files).
Prepare = Callable[[Any], None]


def embed_text(record: ChunkRecord) -> str:
    """What the vector of a chunk is computed from: the sentence itself.

    Embedding the single sentence keeps vectors sharp (a window blurs who-said-what);
    the neighbours are used for answering, not for matching.
    """
    return record.text


def record_metadata(record: ChunkRecord) -> dict[str, Any]:
    """Flat metadata stored with each vector (Chroma accepts no None values)."""
    return {
        "source": record.source,
        "start": record.start,
        "end": record.end,
        "position": record.position,
        "title": record.title or "",
        "date": record.date or "",
        "day": day_number(record.date),
        "context": record.context,
        "file_sha": record.file_sha,
        "entities": record.entities,
    }


def refresh(
    settings: Settings,
    store: IndexStore,
    embedder: Any,
    progress: Progress | None = None,
    prepare: Prepare | None = None,
) -> RefreshSummary:
    """Bring the index in line with the seeds folder; see the module docstring."""
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    started = time.perf_counter()
    with IndexLock(settings):
        scan = scan_folder(settings.seeds_dir)
        summary = RefreshSummary(skipped=scan.skipped)
        old = None
        old_hashes: dict[str, str] = {}
        if store.active_name():
            old = store.active()
            summary.rebuilt_reason = store.mismatch(old)
            if summary.rebuilt_reason is None:
                old_hashes = store.file_hashes(old)
        current = {f.name: f for f in scan.files}
        for name, file in current.items():
            if name not in old_hashes:
                summary.added.append(name)
            elif old_hashes[name] != file.sha256:
                summary.changed.append(name)
            else:
                summary.unchanged.append(name)
        summary.removed = sorted(set(old_hashes) - set(current))
        if old is not None and not summary.modified:
            summary.collection = old.name
            summary.chunks = old.count()
            summary.seconds = time.perf_counter() - started
            return summary

        target = store.new_collection()
        copied = store.copy_files(old, target, summary.unchanged) if old is not None else 0
        records = [r for name in summary.added + summary.changed for r in chunk_file(current[name])]
        records.sort(key=lambda r: len(embed_text(r)))  # similar lengths batch with little padding
        vector_store = ChromaVectorStore(chroma_collection=target)
        total = len(records)
        step = 256
        for i in range(0, total, step):
            batch = records[i : i + step]
            vectors = embedder.embed([embed_text(r) for r in batch])
            nodes: list[BaseNode] = [
                TextNode(id_=r.id, text=r.text, metadata=record_metadata(r), embedding=v.tolist())
                for r, v in zip(batch, vectors, strict=True)
            ]
            vector_store.add(nodes)
            if progress:
                progress(min(i + step, total), total)
        if progress and total == 0:
            progress(0, 0)
        if prepare is not None:
            prepare(target)
        store.publish(target)
        summary.collection = target.name
        summary.embedded = total
        summary.chunks = copied + total
        summary.seconds = time.perf_counter() - started
        return summary


def left_out(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """Per article file, the lines the parser keeps out of the body, with why (for `rag index --verbose`)."""
    found = {}
    for file in scan_folder(settings.seeds_dir).files:
        dropped = parse_article(file.raw).dropped
        if dropped:
            found[file.name] = dropped
    return found
