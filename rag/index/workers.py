"""Chunking and embedding new files, in worker processes when there is enough to do.

Indexing is bound by two CPU-heavy steps per sentence: spaCy's entity tagger (about 2 ms)
and the MiniLM embedding. One process with ONNX's own threads left a core idle during
tagging and tokenising, so a large refresh runs one worker process per core, each with one
ONNX thread, on groups of whole files. At most two groups per worker are in flight, so
memory stays bounded whatever the corpus size, and results are written as they come.

Small refreshes (a few articles, the chat's uploads) stay in-process: starting a worker
(importing spaCy and onnxruntime) costs seconds.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from rag.index.chunking import ChunkRecord, chunk_file
from rag.index.ingest import SourceFile

log = logging.getLogger(__name__)

#: Sentences to embed below which worker processes are not worth their start-up.
PARALLEL_MIN_SENTENCES = 2000
#: Target sentences per group of files handed to a worker.
GROUP_SENTENCES = 512


@dataclass(frozen=True)
class Embedded:
    """The chunks of a group of whole files and their vectors, in the same order."""

    records: list[ChunkRecord]
    vectors: np.ndarray


def embed_text(record: ChunkRecord) -> str:
    """What the vector of a chunk is computed from: the sentence itself.

    Embedding the single sentence keeps vectors sharp (a window blurs who-said-what);
    the neighbours are used for answering, not for matching.
    """
    return record.text


def embed_group(files: Sequence[SourceFile], embedder: Any) -> Embedded:
    """Chunk whole files and embed their sentences."""
    records = [r for file in files for r in chunk_file(file)]
    if not records:
        return Embedded(records, np.zeros((0, 0), dtype=np.float32))
    return Embedded(records, np.asarray(embedder.embed([embed_text(r) for r in records]), dtype=np.float32))


def groups(files: Sequence[SourceFile], sizes: Sequence[int], target: int | None = None) -> list[list[SourceFile]]:
    """Files in order, cut into groups of about `target` (GROUP_SENTENCES) sentences; a file is never split."""
    target = target or GROUP_SENTENCES
    found: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    count = 0
    for file, size in zip(files, sizes, strict=True):
        current.append(file)
        count += size
        if count >= target:
            found.append(current)
            current, count = [], 0
    if current:
        found.append(current)
    return found


@cache
def _worker_embedder() -> Any:
    """The embedder of a worker process (loaded once per process, one ONNX thread)."""
    from rag.index.embedding import MiniLMEmbedding

    return MiniLMEmbedding(threads=1)


def _embed_in_worker(files: list[SourceFile]) -> Embedded:
    return embed_group(files, _worker_embedder())


def worker_count(embedder: Any, sentences: int) -> int:
    """Worker processes for this much work: one per core for the packaged model, else none."""
    from rag.index.embedding import MiniLMEmbedding

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not isinstance(embedder, MiniLMEmbedding) or sentences < PARALLEL_MIN_SENTENCES or cores < 2:
        return 0
    return cores


def embed_files(batches: list[list[SourceFile]], embedder: Any, workers: int) -> Iterator[Embedded]:
    """The embedded groups, in completion order: in this process, or in `workers` processes.

    Workers are spawned (never forked from a process holding Chroma's threads), so they import
    the caller's main module: a script calling `rag.index()` without an
    `if __name__ == "__main__":` guard breaks its pool, and the groups left are then done here.
    """
    left = dict(enumerate(batches))
    if workers >= 1:
        try:
            for number, embedded in _in_workers(batches, workers):
                del left[number]
                yield embedded
        except BrokenProcessPool:
            log.warning(
                "Worker processes failed to start (is `rag.index()` called from a script without an "
                '`if __name__ == "__main__":` guard?); embedding the remaining %d groups in this process.',
                len(left),
            )
    for group in left.values():
        yield embed_group(group, embedder)


def _in_workers(batches: list[list[SourceFile]], workers: int) -> Iterator[tuple[int, Embedded]]:
    """(number of the group, embedded) in completion order, at most two groups per worker in flight."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        waiting = list(reversed(range(len(batches))))
        running: dict[Future[Embedded], int] = {}
        while waiting or running:
            while waiting and len(running) < 2 * workers:
                number = waiting.pop()
                running[pool.submit(_embed_in_worker, batches[number])] = number
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield running.pop(future), future.result()
