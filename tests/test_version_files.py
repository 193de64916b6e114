"""Serving without a copy of the corpus: keyword index and word statistics are files of each version.

`rag index` writes them before it publishes a version; a serving process maps them and reads
sentences from the store for each question's candidates only, so it never reads every record.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.answer.filters import SearchFilter
from rag.answer.lexicon import Lexicon
from rag.index.store import IndexStore
from rag.pipeline import build_pipeline

QUESTIONS = [
    "Who headed the Russian delegation?",
    "How long did Friday's talks last?",
    "What did Kaja Kallas say about Putin?",
    "Summarise the Istanbul talks.",
    "How old is Medinsky?",
]


def _answers(pipeline, where: SearchFilter | None = None) -> list[tuple]:
    found = []
    for question in QUESTIONS:
        answer = pipeline.ask(question, where=where)
        found.append((answer.text, answer.citations, answer.closest, answer.sources, answer.refused))
        found.append(tuple((c.id, c.score, c.context, c.entities) for c in pipeline.retrieve(question, k=20)))
    return found


def _never_read_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("a serving process read every record of the collection")

    monkeypatch.setattr(IndexStore, "all_records", refuse)


def test_a_fresh_process_answers_from_the_version_files_without_reading_every_record(
    seeds: Path, make_settings, monkeypatch
):
    settings = make_settings(seeds_dir=seeds)
    indexer = build_pipeline(settings)
    indexer.index()
    folder = indexer.version_files.folder(indexer.store.active_name())
    assert (folder / "meta.json").is_file(), "rag index writes the files before publishing"
    expected = _answers(indexer)
    dated = SearchFilter.of(sources=["000_4ac1dad1d337df25.txt", "002_b62eaf8dc1d09b0d.txt"], date_to="2025-05-15")
    expected_filtered = _answers(indexer, dated)
    articles, counts = indexer.articles(), indexer.snapshot().sentence_counts()

    _never_read_everything(monkeypatch)
    fresh = build_pipeline(settings)
    assert _answers(fresh) == expected
    assert _answers(fresh, dated) == expected_filtered
    assert fresh.articles() == articles and fresh.snapshot().sentence_counts() == counts
    assert 0 < len(fresh.articles(dated)) < len(articles)
    assert fresh.articles(dated) == [a for a in articles if dated.allows_article(a.source, a.date)]


def test_an_index_without_version_files_gets_them_from_the_store_once(seeds: Path, make_settings, monkeypatch):
    """What a serving process on another machine does in server mode, and after an upgrade."""
    settings = make_settings(seeds_dir=seeds)
    indexer = build_pipeline(settings)
    indexer.index()
    expected = _answers(indexer)
    shutil.rmtree(settings.index_dir / "keyword-index")

    assert _answers(build_pipeline(settings)) == expected
    _never_read_everything(monkeypatch)
    assert _answers(build_pipeline(settings)) == expected, "the second process finds the files"


@pytest.mark.parametrize("name", ["ids.npy", "spellings.json"])
@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_damaged_version_files_are_built_again_not_reported(seeds: Path, make_settings, damage, name):
    settings = make_settings(seeds_dir=seeds)
    indexer = build_pipeline(settings)
    indexer.index()
    expected = _answers(indexer)
    (ids,) = (settings.index_dir / "keyword-index").glob(f"*/{name}")
    if damage == "delete":
        ids.unlink()
    else:
        ids.write_bytes(ids.read_bytes()[:40])

    assert _answers(build_pipeline(settings)) == expected
    assert ids.is_file() and len(ids.read_bytes()) > 40


def test_stored_word_statistics_equal_those_computed_from_the_text(pipeline):
    """The lexicon a serving process loads gives the IDF, vocabularies and prefixes of one built from the text."""
    snapshot = pipeline.snapshot()
    records = pipeline.store.all_records(pipeline.store.active())
    articles: dict[str, list[str]] = {}
    for meta, text in zip(records["metadatas"], records["documents"], strict=True):
        articles.setdefault(meta["source"], []).append(text)
    built, stored = Lexicon(records["documents"], articles), snapshot.lexicon
    terms = {t for text in records["documents"] for t in built.terms(text)} | {"zzzunseen", "talk", "kreml"}
    assert all(stored.idf(t) == built.idf(t) and stored.seen(t) == built.seen(t) for t in terms)
    assert all(stored.seen_prefix(t) == built.seen_prefix(t) for t in terms)
    assert all(stored.article_terms(s) == built.article_terms(s) for s in [*articles, "no-such-file.txt"])
    assert (stored.names, stored.words) == (built.names, built.words) and stored.names["medinsky"] == "Medinsky"


def test_only_the_live_and_previous_versions_keep_files(seeds: Path, make_settings):
    settings = make_settings(seeds_dir=seeds)
    pipeline = build_pipeline(settings)
    versions = []
    for n in range(3):
        (seeds / f"00{5 + n}_extra.txt").write_text(f"Extra article number {n} about Antalya.\n", encoding="utf-8")
        pipeline.index()
        versions.append(pipeline.store.active_name())
    kept = sorted(p.name.rsplit("-", 1)[0] for p in (settings.index_dir / "keyword-index").iterdir() if p.is_dir())
    assert kept == sorted(versions[-2:])
    assert pipeline.ask("What is extra article number 2 about?").citations[0].source == "007_extra.txt"


def test_files_written_for_an_unpublished_version_are_rebuilt_when_it_is_prepared_again(seeds: Path, make_settings):
    """A refresh stopped after writing its version files but before publishing resumes that
    version; files added since must reach the keyword index it publishes."""
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    pipeline.index()
    collection = pipeline.store.active()
    stale = pipeline.version_files.ensure(pipeline.store, collection)
    (stale / "marker").write_text("written before the version changed", encoding="utf-8")
    pipeline._prepare(collection)
    assert not (pipeline.version_files.folder(collection.name) / "marker").exists()
    assert pipeline.version_files.ensure(pipeline.store, collection) == stale


def test_a_serving_process_that_follows_new_versions_prunes_their_files(seeds: Path, make_settings):
    """In server mode no local `rag index` prunes, so the serving process drops what it no longer uses."""
    settings = make_settings(seeds_dir=seeds)
    writer, reader = build_pipeline(settings), build_pipeline(settings)
    writer.index()
    first = reader.snapshot().version
    (seeds / "005_extra.txt").write_text("Extra article about Antalya.\n", encoding="utf-8")
    writer.index()
    stale = settings.index_dir / "keyword-index" / "a-version-nobody-serves-0123"
    stale.mkdir()  # as files of an old version left on a machine where no `rag index` runs
    reader._checked = 0.0
    second = reader.snapshot().version
    assert second != first and not stale.exists()
    kept = {p.name.rsplit("-", 1)[0] for p in (settings.index_dir / "keyword-index").iterdir() if p.is_dir()}
    assert kept == {first, second}
