"""Build or refresh the index from the seeds folder.

Unchanged files keep their vectors (copied, not re-embedded); changed files are replaced,
deleted files removed. A different embedding model or chunking scheme means a full
rebuild: vectors from two models must never share one collection.

A refresh that is stopped (Ctrl+C, SIGKILL, a lost machine) leaves its unpublished version
behind; the next refresh continues in it, keeping every file that was written whole and
embedding only the rest. The same mechanism spreads a large refresh across machines that share
one Chroma server: each runs one `Part` (its share of the files, written into the unpublished
version, not published), and a last plain refresh finds every file there and publishes it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rag.errors import InputError, RagError, SettingsError
from rag.index.chunking import ChunkRecord, sentences
from rag.index.duplicates import FOLD_KEY, FOLD_OFF, fold_articles, folded_copies
from rag.index.extracted import register
from rag.index.ingest import SourceFile, scan_folder
from rag.index.parsing import ParsedArticle, day_number, parse_article
from rag.index.store import FOLDS_KEY, IndexLock, IndexStore, RefreshSummary, writing_order
from rag.index.workers import embed_files, embed_text, groups, worker_count
from rag.settings import Settings

__all__ = ["Part", "embed_text", "left_out", "record_metadata", "refresh"]

#: Called with (records embedded so far, records to embed in total).
Progress = Callable[[int, int], None]
#: Called with the complete new collection just before it is published (to write its version files).
Prepare = Callable[[Any], None]
#: Records per Chroma `add`: the unit a stopped refresh can lose.
WRITE_BATCH = 256
#: How long a part other than the first waits for part 1 to create the version they all write into.
PART_WAIT_SECONDS = 120.0
_PART = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Part:
    """One machine's share of a refresh split across machines: every `of`-th file of the sorted folder.

    Every machine must see the same folder (shared storage or a copy). Part 1 creates the
    unpublished version (or takes the one a stopped refresh left); the others wait for it.
    """

    number: int
    of: int

    @classmethod
    def parse(cls, text: str) -> Part:
        """Part(2, 3) for "2/3"; InputError saying the expected form otherwise."""
        match = _PART.fullmatch(text)
        if match is None or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise InputError(f"--part takes K/N with 1 <= K <= N, such as 1/2 (got {text!r}).")
        return cls(int(match.group(1)), int(match.group(2)))

    def share(self, names: Iterable[str]) -> set[str]:
        return set(sorted(names)[self.number - 1 :: self.of])

    def __str__(self) -> str:
        return f"{self.number}/{self.of}"


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
    part: Part | None = None,
) -> RefreshSummary:
    """Bring the index in line with the seeds folder, or write `part`'s share of it; see the module docstring."""
    started = time.perf_counter()
    if part is not None and not settings.server_mode:
        raise SettingsError("`rag index --part` needs a Chroma server all machines write to: set RAG_CHROMA_HOST.")
    with IndexLock(settings, f"-part{part.number}" if part else ""):
        extracted = register(settings.seeds_dir, settings.index_dir, settings.columns)
        scan = scan_folder(settings.seeds_dir, columns=settings.columns, store=extracted)
        summary = RefreshSummary(skipped=scan.skipped, published=part is None)
        old = None
        old_hashes: dict[str, str] = {}
        if store.active_name():
            old = store.active()
            summary.rebuilt_reason = store.mismatch(old)
            if summary.rebuilt_reason is None:
                old_hashes = store.file_hashes(old)
        current = {f.name: f for f in scan.files}
        if part is not None:  # the other parts' files, and files removed since, are not this part's to touch
            mine = part.share(current)
            current = {name: file for name, file in current.items() if name in mine}
            old_hashes = {name: sha for name, sha in old_hashes.items() if name in mine}
        for name, file in current.items():
            if name not in old_hashes:
                summary.added.append(name)
            elif old_hashes[name] != file.sha256:
                summary.changed.append(name)
            else:
                summary.unchanged.append(name)
        summary.removed = sorted(set(old_hashes) - set(current))
        way = fold_way(settings)
        if old is not None and summary.rebuilt_reason is None and part is None:
            summary.refolded = (old.metadata or {}).get(FOLDS_KEY) != way
        if old is not None and not summary.modified:
            summary.folded = folded_copies(old)
            summary.collection = old.name
            summary.chunks = old.count()
            summary.seconds = time.perf_counter() - started
            return summary

        target = store.resumable(old.name if old is not None else None)
        if target is None and part is not None and part.number > 1:
            target = wait_for_version(store, old.name if old is not None else None, part)
        if target is None:
            target = store.new_collection()
        else:
            summary.resumed = resume(store, target, current, only=set(current) if part else None)
        done = set(summary.resumed)
        if old is not None:
            store.copy_files(old, target, [n for n in summary.unchanged if n not in done])
        to_embed = [current[n] for n in summary.added + summary.changed if n not in done]
        summary.embedded = write_new_files(target, to_embed, embedder, progress)
        if part is None:
            summary.folded = fold(current.values()) if way != FOLD_OFF else {}
            store.fold(target, summary.folded, way)
            if prepare is not None:
                prepare(target)
            store.publish(target)
            extracted.prune({f.sha256 for f in scan.files})
        summary.collection = target.name
        summary.chunks = target.count()
        summary.seconds = time.perf_counter() - started
        return summary


def fold_way(settings: Settings) -> str:
    """How this refresh folds copies of one story (stored with the version, so a change refolds it)."""
    return FOLD_KEY if settings.fold_duplicates == "on" else FOLD_OFF


def fold(files: Iterable[SourceFile]) -> dict[str, str]:
    """The folded copies among `files`: copy -> canonical article (`rag.index.duplicates`)."""
    return fold_articles((file.name, file.raw) for file in files).copy_of


def resume(store: IndexStore, target: Any, current: dict[str, SourceFile], only: set[str] | None = None) -> list[str]:
    """Files a stopped refresh wrote whole into `target` that are still current; the rest of it is removed
    (with `only`, the rest among those names: a part leaves the other parts' files alone)."""
    complete = store.complete_files(target)
    kept = sorted(name for name, sha in complete.items() if name in current and current[name].sha256 == sha)
    written = set(store.file_hashes(target))
    store.delete_files(target, sorted((written if only is None else written & only) - set(kept)))
    return kept


def wait_for_version(store: IndexStore, live: str | None, part: Part) -> Any:
    """The unpublished version part 1 creates, polled for up to PART_WAIT_SECONDS."""
    deadline = time.monotonic() + PART_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(1.0)
        target = store.resumable(live)
        if target is not None:
            return target
    raise RagError(
        f"Part {part} found no unpublished version to write into after {PART_WAIT_SECONDS:.0f} s: "
        "start `rag index --part 1/N` (it creates the version), then the other parts."
    )


def write_new_files(target: Any, files: list[SourceFile], embedder: Any, progress: Progress | None) -> int:
    """Chunk, embed and write `files` (in worker processes when there are many); returns sentences written."""
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    sizes = [len(sentences(f.raw, parse_article(f.raw))) for f in files]  # cheap: no tagging, no embedding
    total = sum(sizes)
    vector_store = ChromaVectorStore(chroma_collection=target)
    done = 0
    for group in embed_files(groups(files, sizes), embedder, worker_count(embedder, total)):
        order = writing_order([(r.source, r.position) for r in group.records])
        for i in range(0, len(order), WRITE_BATCH):
            part = order[i : i + WRITE_BATCH]
            nodes: list[BaseNode] = [
                TextNode(
                    id_=group.records[j].id,
                    text=group.records[j].text,
                    metadata=record_metadata(group.records[j]),
                    embedding=group.vectors[j].tolist(),
                )
                for j in part
            ]
            vector_store.add(nodes)
            done += len(part)
            if progress:
                progress(done, max(total, done))
    if progress and total == 0:
        progress(0, 0)
    return done


def left_out(settings: Settings) -> dict[str, ParsedArticle]:
    """Per article file with lines the parser keeps out of the body, the parsed article: its
    `dropped` lines with why (for `rag index --verbose`), and its `paragraphs`, empty when
    nothing of the file is left to index."""
    found = {}
    store = register(settings.seeds_dir, settings.index_dir, settings.columns)
    for file in scan_folder(settings.seeds_dir, columns=settings.columns, store=store).files:
        article = parse_article(file.raw)
        if article.dropped:
            found[file.name] = article
    return found
