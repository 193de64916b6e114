"""The llama-index quickstart, the baseline both benches compare against.

SimpleDirectoryReader -> VectorStoreIndex on Chroma with llama-index's defaults
(SentenceSplitter 1024/200 tokens, top_k 2). Its default embedding is OpenAI's, which cannot
run offline, so it gets the same packaged MiniLM model as ours.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from rag.evaluation.metrics import file_ranks, percentile

#: question sets by name: (question, gold files) pairs
QuestionSets = dict[str, list[tuple[str, list[str]]]]


def quickstart(seeds: Path, question_sets: QuestionSets) -> dict[str, float]:
    """Build time, chunks, and per question set file hit@1, MRR@5 and retrieval p50 (`<set>_hit1`…)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Settings as LISettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.index.embedding import MiniLMEmbedding

    LISettings.embed_model = MiniLMEmbedding().as_llama_index()
    LISettings.llm = None
    folder = tempfile.mkdtemp()
    try:
        started = time.perf_counter()
        client = chromadb.PersistentClient(path=folder, settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("quickstart")
        store = ChromaVectorStore(chroma_collection=collection)
        # exclude_hidden=False: the scale corpora live under ~/.cache, and the reader skips any file
        # with a hidden folder anywhere in its path (the articles themselves are not hidden)
        docs = SimpleDirectoryReader(str(seeds), exclude_hidden=False).load_data()
        index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store))
        figures = {"build_s": time.perf_counter() - started, "chunks": float(collection.count())}
        top2, top5 = index.as_retriever(), index.as_retriever(similarity_top_k=5)
        for name, questions in question_sets.items():
            hit1 = mrr = 0.0
            latencies = []
            for question, gold in questions:
                started = time.perf_counter()
                nodes = top2.retrieve(question)
                latencies.append((time.perf_counter() - started) * 1000)
                hit1 += file_ranks([Path(n.node.metadata["file_path"]).name for n in nodes], gold) == 1
                rank = file_ranks([Path(n.node.metadata["file_path"]).name for n in top5.retrieve(question)], gold)
                mrr += 1 / rank if rank else 0
            n = max(1, len(questions))
            figures |= {f"{name}_hit1": hit1 / n, f"{name}_mrr5": mrr / n, f"{name}_p50_ms": percentile(latencies, 50)}
        return figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)
