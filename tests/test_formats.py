"""PDF, Word, e-mail, feeds and exports are read into articles whose quotes verify.

Every test goes through `rag index` and a question (the pipeline, the CLI or the chat's
renderer) on small files written here (tests/format_files.py), and checks the quote against
the text `rag index` extracted and kept, the place it is cited with, and what happens when
the file changes or cannot be read.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import format_files as ff
import pytest

from rag.citations import read_source, verify
from rag.models import Citation

from conftest import clean_env

FILLER = [
    "Residents gathered at the town hall on Monday evening to hear the plans.",
    "Officials said more details would follow later in the week.",
]


def story(headline: str, date: str, fact: str) -> ff.Story:
    return (headline, date, [fact, *FILLER])


CRANES = story("Port buys cranes", "2024-02-10", "The harbour authority ordered 14 new cranes from a Finnish supplier.")
LIBRARY = story("Library reopens", "2024-02-11", "The city library reopened with 40,000 new books on its shelves.")
SURGE = story("Surge floods estuary", "2024-02-12", "The storm surge flooded 230 homes along the estuary overnight.")
FOG = story("Fog grounds flights", "2024-02-13", "The airport cancelled 48 flights because of thick fog.")
ORCHESTRA = story("New conductor named", "2024-02-14", "The orchestra hired Maria Lindqvist as its new conductor.")
BAKERY = story("Bakery chain shrinks", "2024-02-15", "The bakery chain closed 12 shops in the northern provinces.")
PANDAS = story("Zoo twins", "2024-02-16", "The zoo welcomed twin red pandas born in the spring.")
SCHOOL = story("Four-day week", "2024-02-17", "The school board approved a four-day week for 19 rural schools.")
TRAMS = story("Tram line opens", "2024-02-18", "The new tram line carried 9,000 passengers on its first day.")
SAILINGS = story("More ferries", "2024-02-19", "The ferry company added 6 late-night sailings to the timetable.")
MUSEUM = story("Festival week", "2024-02-20", "The museum attracted 52,000 visitors during the festival week.")
TURNOUT = story("Turnout record", "2024-02-21", "Voter turnout reached 81 percent in the municipal election.")
OTHER = story("Council meets", "2024-02-01", "The council met to discuss the parking budget for the coming year.")

#: (file, how it is written, question, article name, place, headline, date) for each format.
CASES = [
    (
        "paper.pdf",
        lambda p: ff.pdf(p, [OTHER, CRANES], columns=2),
        "How many new cranes did the harbour authority order?",
        "paper.pdf",
        "page 2",
        "Council meets",
        "2024-02-01",
    ),
    (
        "library.docx",
        lambda p: ff.docx(p, LIBRARY),
        "How many new books did the city library reopen with?",
        "library.docx",
        None,
        "Library reopens",
        "2024-02-11",
    ),
    (
        "alert.eml",
        lambda p: ff.eml(p, SURGE),
        "How many homes did the storm surge flood?",
        "alert.eml",
        None,
        "Surge floods estuary",
        "2024-02-12",
    ),
    (
        "wire.mbox",
        lambda p: ff.mbox(p, [OTHER, FOG]),
        "How many flights did the airport cancel?",
        "wire.mbox#2",
        "message 2",
        "Fog grounds flights",
        "2024-02-13",
    ),
    (
        "news.rss",
        lambda p: ff.feed(p, [OTHER, ORCHESTRA]),
        "Who did the orchestra hire as its new conductor?",
        "news.rss#2",
        "item 2",
        "New conductor named",
        "2024-02-14",
    ),
    (
        "shops.csv",
        lambda p: ff.table(p, [OTHER, OTHER, BAKERY]),
        "How many shops did the bakery chain close?",
        "shops.csv#3",
        "row 4",
        "Bakery chain shrinks",
        "2024-02-15",
    ),
    (
        "zoo.jsonl",
        lambda p: ff.json_lines(p, [OTHER, PANDAS]),
        "What did the zoo welcome?",
        "zoo.jsonl#2",
        "line 2",
        "Zoo twins",
        "2024-02-16",
    ),
    (
        "search.txt",
        lambda p: ff.export(p, [OTHER, SCHOOL]),
        "What did the school board approve for rural schools?",
        "search.txt#2",
        "document 2 of 2",
        "Four-day week",
        "2024-02-17",
    ),
    (
        "trams.atom",
        lambda p: ff.feed(p, [TRAMS], atom=True),
        "How many passengers did the new tram line carry?",
        "trams.atom#1",
        "item 1",
        "Tram line opens",
        "2024-02-18",
    ),
    (
        "times.tsv",
        lambda p: ff.table(p, [SAILINGS]),
        "How many late-night sailings did the ferry company add?",
        "times.tsv#1",
        "row 2",
        "More ferries",
        "2024-02-19",
    ),
    (
        "archive.parquet",
        lambda p: ff.parquet(p, [OTHER, OTHER, TURNOUT]),
        "What did voter turnout reach in the municipal election?",
        "archive.parquet#3",
        "row 3",
        "Turnout record",
        "2024-02-21",
    ),
    (
        "newsletter.eml",
        lambda p: ff.html_eml(p, MUSEUM),
        "How many visitors did the museum attract during the festival week?",
        "newsletter.eml",
        None,
        "Festival week",
        "2024-02-20",
    ),
]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory):
    """One folder holding every format (and a plain text article), indexed once."""
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    root = tmp_path_factory.mktemp("formats")
    folder = root / "news"
    folder.mkdir()
    for name, write, *_ in CASES:
        write(folder / name)
    (folder / "plain.txt").write_text("Plain story\n\nThe mayor opened a bridge over the river Wend.\n")
    # the stories share their filler paragraphs, so folding would take most of them for copies of one
    # another (tests/test_duplicates.py tests folding); here each format's own article must answer
    settings = load_settings(seeds_dir=folder, index_dir=root / "index", fold_duplicates="off", _env_file=None)
    pipeline = build_pipeline(settings)
    summary = pipeline.index()
    return pipeline, summary


@pytest.mark.parametrize(
    ("name", "write", "question", "source", "where", "title", "date"), CASES, ids=[c[0] for c in CASES]
)
def test_each_format_is_read_into_articles_whose_quotes_verify(
    indexed, name, write, question, source, where, title, date
):
    pipeline, summary = indexed
    assert source in summary.added
    answer = pipeline.ask(question)
    assert not answer.refused, answer.text
    cited = answer.citations[0]
    assert (cited.source, cited.where, cited.title, cited.date) == (source, where, title, date)
    assert cited.place == f"{name}, {where}" if where else cited.place == name
    text = read_source(pipeline.seeds_dir, cited.source)
    assert text is not None and text[cited.start : cited.end] == cited.quote
    assert verify(cited, pipeline.seeds_dir)
    stored = list((pipeline.settings.index_dir / "extracted").glob("*.jsonl"))
    assert len(stored) == len(CASES), "one extraction per file content, beside the index"


def test_a_text_file_is_still_cited_by_its_name_alone(indexed):
    pipeline, _ = indexed
    cited = pipeline.ask("What did the mayor open over the river Wend?").citations[0]
    assert (cited.source, cited.where, cited.place) == ("plain.txt", None, "plain.txt")
    assert "where" not in {k for k, v in cited.model_dump().items() if v is not None}


def test_a_pdf_drops_its_running_header_and_page_numbers(indexed):
    pipeline, _ = indexed
    text = read_source(pipeline.seeds_dir, "paper.pdf")
    assert text is not None and "Harbour Gazette" not in text
    assert "\n\n1\n\n" not in text and not text.rstrip().endswith("2")
    assert text.index("council met") < text.index("14 new cranes"), "reading order kept"


def test_an_html_newsletter_is_read_as_its_story_without_its_menu_or_footer(indexed):
    pipeline, _ = indexed
    text = read_source(pipeline.seeds_dir, "newsletter.eml")
    assert text is not None and "Subscribe" not in text and "Unsubscribe" not in text
    assert text.startswith("Festival week\n\nThe museum attracted 52,000 visitors")


def test_the_chat_shows_the_extracted_story_with_the_quote_highlighted(indexed):
    from ui.render import article_html, sources_html

    pipeline, _ = indexed
    cited = pipeline.ask("How many shops did the bakery chain close?").citations[0]
    page = article_html(pipeline.seeds_dir, cited)
    assert '<mark id="cited-quote">The bakery chain closed 12 shops in the northern provinces.</mark>' in page
    assert "<code>shops.csv, row 4</code>" in page
    assert "row 4" in sources_html([cited], pipeline.seeds_dir)


@pytest.mark.slow
def test_the_cli_names_the_file_and_the_place(indexed, tmp_path):
    pipeline, _ = indexed
    env = clean_env(RAG_SEEDS_DIR=str(pipeline.seeds_dir), RAG_INDEX_DIR=str(pipeline.settings.index_dir))
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "How many flights did the airport cancel?"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\n[1] wire.mbox, message 2, 2024-02-13 — Fog grounds flights\n" in result.stdout


def test_a_changed_file_is_read_again_and_its_old_quotes_are_refused(tmp_path, make_settings):
    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    ff.table(folder / "shops.csv", [OTHER, BAKERY])
    pipeline = build_pipeline(make_settings(seeds_dir=folder))
    pipeline.index()
    old = pipeline.ask("How many shops did the bakery chain close?").citations[0]
    assert verify(old, folder)
    changed = ("Bakery chain shrinks", "2024-02-15", ["The bakery chain closed 7 shops in the southern provinces."])
    ff.table(folder / "shops.csv", [OTHER, changed])
    assert not verify(old, folder), "a quote from the old text no longer verifies"
    stale = pipeline.ask("How many shops did the bakery chain close?")
    assert all(c.source != "shops.csv#2" for c in stale.citations), "the stale sentence is not cited"
    summary = pipeline.index()
    assert summary.changed == ["shops.csv#1", "shops.csv#2"]
    fresh = pipeline.ask("How many shops did the bakery chain close?").citations[0]
    assert (fresh.source, fresh.text) == ("shops.csv#2", "The bakery chain closed 7 shops in the southern provinces.")
    assert verify(fresh, folder)
    assert len(list((tmp_path / "index" / "extracted").glob("*.jsonl"))) == 1, "the old extraction is removed"


def test_bad_files_are_skipped_with_the_reason_and_the_rest_indexed(tmp_path, make_settings):
    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    ff.pdf(folder / "good.pdf", [CRANES])
    ff.encrypted_pdf(folder / "locked.pdf", [CRANES])
    ff.image_only_pdf(folder / "scan.pdf")
    (folder / "cut.pdf").write_bytes((folder / "good.pdf").read_bytes()[:400])
    (folder / "cut.docx").write_bytes(ff.docx(tmp_path / "whole.docx", LIBRARY).read_bytes()[:500])
    (folder / "quote.csv").write_text('headline,body\nStorm,"never closed\n', encoding="utf-8")
    (folder / "columns.csv").write_text("id,story_text\n1,The bakery chain closed 12 shops.\n", encoding="utf-8")
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    whole = ff.parquet(tmp_path / "whole.parquet", [OTHER, BAKERY]).read_bytes()
    (folder / "cut.parquet").write_bytes(whole[: len(whole) // 2])
    ff.parquet(folder / "columns.parquet", [BAKERY], text_column="story_text")
    ff.parquet(folder / "lists.parquet", [BAKERY], text_type="list")

    summary = build_pipeline(make_settings(seeds_dir=folder)).index()
    skipped = dict(summary.skipped)
    assert summary.added == ["good.pdf"]
    assert skipped["locked.pdf"].startswith("encrypted PDF")
    assert skipped["scan.pdf"] == "no text layer (a scanned PDF?); OCR is not supported"
    assert skipped["cut.pdf"].startswith("damaged or truncated PDF")
    assert skipped["cut.docx"].startswith("damaged or truncated Word file")
    assert skipped["quote.csv"].startswith("broken CSV near line 2")
    assert skipped["columns.csv"] == (
        "no text column among its columns ('id', 'story_text'): name it with RAG_EXPORT_COLUMNS=text=COLUMN"
    )
    assert skipped["old.doc"].startswith("an old Microsoft Office file")
    assert skipped["cut.parquet"].startswith("broken Parquet file (")
    assert skipped["columns.parquet"] == (
        "no text column among its columns ('headline', 'published', 'url', 'story_text', 'thumbnail'): "
        "name it with RAG_EXPORT_COLUMNS=text=COLUMN"
    )
    assert skipped["lists.parquet"] == (
        "its text column 'body' holds list<element: string>, not text: name another with RAG_EXPORT_COLUMNS=text=COLUMN"
    )


def test_export_columns_are_named_by_a_setting(tmp_path, make_settings):
    from rag.errors import SettingsError
    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    ff.table(folder / "export.csv", [OTHER, BAKERY], header=("hed", "when", "address", "story_text"))
    settings = make_settings(seeds_dir=folder, export_columns="text=story_text, title=hed, date=when")
    pipeline = build_pipeline(settings)
    assert pipeline.index().added == ["export.csv#1", "export.csv#2"]
    cited = pipeline.ask("How many shops did the bakery chain close?").citations[0]
    assert (cited.title, cited.date, cited.where) == ("Bakery chain shrinks", "2024-02-15", "row 3")
    with pytest.raises(SettingsError, match=r"RAG_EXPORT_COLUMNS.*ROLE=COLUMN"):
        make_settings(export_columns="body:story_text")


def test_a_zip_bomb_and_a_feed_that_expands_entities_are_refused(tmp_path, make_settings):
    import zipfile

    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    with zipfile.ZipFile(folder / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\x00" * 300_000_000)
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    (folder / "laughs.rss").write_text(
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "ha">{laughs}]>'
        "<rss><channel><item><title>&l9;</title><description>x</description></item></channel></rss>",
        encoding="utf-8",
    )
    (folder / "local.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY f SYSTEM "file:///etc/passwd">]>'
        "<rss><channel><item><title>t</title><description>&f;</description></item></channel></rss>",
        encoding="utf-8",
    )
    ff.eml(folder / "ok.eml", SURGE)
    summary = build_pipeline(make_settings(seeds_dir=folder)).index()
    skipped = dict(summary.skipped)
    assert summary.added == ["ok.eml"]
    assert skipped["bomb.docx"].startswith("refused: it would unpack to 300,000,000 bytes")
    assert skipped["laughs.rss"].startswith("refused: the feed declares XML entities")
    assert skipped["local.xml"].startswith("refused: the feed declares XML entities")


def test_an_export_with_mixed_encodings_keeps_every_row(tmp_path, make_settings):
    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    rows = [
        b"title,date,text\n",
        "Caf\u00e9 opens,2024-03-01,The caf\u00e9 opened on the quay.\n".encode(),
        "Cr\u00e8che closes,2024-03-02,The cr\u00e8che closed after 40 years.\n".encode("cp1252"),
    ]
    (folder / "mixed.csv").write_bytes(b"".join(rows))
    summary = build_pipeline(make_settings(seeds_dir=folder)).index()
    assert summary.added == ["mixed.csv#1", "mixed.csv#2"]
    assert ("mixed.csv (encoding)", "1 line was not UTF-8 and read as Windows-1252") in summary.skipped
    assert read_source(folder, "mixed.csv#2") == "The cr\u00e8che closed after 40 years."


def test_a_citation_says_where_it_is_only_for_extracted_text():
    plain = Citation(number=1, source="a.txt", quote="q", text="q", start=0, end=1)
    row = plain.model_copy(update={"source": "exports/news.csv#3", "where": "row 4"})
    named = plain.model_copy(update={"source": "issue#2.pdf", "where": "page 1"})
    assert (plain.place, row.place, row.file, named.place) == (
        "a.txt",
        "exports/news.csv, row 4",
        "exports/news.csv",
        "issue#2.pdf, page 1",
    )


def test_uploads_take_the_new_formats_and_refuse_broken_ones(tmp_path):
    from rag.uploads import remove_article, save_uploads

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = ff.pdf(incoming / "paper.pdf", [CRANES])
    scan = ff.image_only_pdf(incoming / "scan.pdf")
    feed = ff.feed(incoming / "feed.xml", [ORCHESTRA])
    fake = incoming / "fake.pdf"
    fake.write_text("Plain text that calls itself a PDF.", encoding="utf-8")
    uploads = [("Paper.PDF", good), ("scan.pdf", scan), ("feed.xml", feed), ("fake.pdf", fake)]
    report = save_uploads(tmp_path / "seeds", uploads)
    assert report.saved == ["Paper.pdf", "feed.xml"]
    assert report.refused == [
        ("scan.pdf", "no text layer (a scanned PDF?); OCR is not supported"),
        ("fake.pdf", "not a PDF file, whatever its name says"),
    ]
    assert (tmp_path / "seeds" / "Paper.pdf").read_bytes() == good.read_bytes()
    ff.table(tmp_path / "seeds" / "shops.csv", [BAKERY])
    removed = remove_article(tmp_path / "seeds", "shops.csv#1", ["shops.csv#1"])
    assert removed == "shops.csv#1 is one of the articles in shops.csv: remove that file to remove them all."
    assert (tmp_path / "seeds" / "shops.csv").is_file()


@pytest.mark.slow
def test_the_pdf_measurement_runs(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parent.parent / "bench" / "pdf_readers.py"),
            "--articles",
            "2",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "| rag (pdf_files.py) | 2 columns | 1.000 | 1.000 | 0 |" in result.stdout, result.stdout


@pytest.mark.slow
def test_a_large_export_is_streamed_into_the_store_not_held_in_memory(tmp_path):
    import csv
    import tracemalloc

    from rag.index.columns import Columns
    from rag.index.extracted import ExtractedStore
    from rag.index.ingest import scan_folder

    folder = tmp_path / "news"
    folder.mkdir()
    paragraph = "The harbour council met again to discuss the budget for the coming year. " * 25
    with (folder / "big.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["title", "date", "text"])
        for n in range(8000):
            writer.writerow([f"Budget meeting {n}", "2024-03-01", f"Meeting {n}. {paragraph}"])
    size = (folder / "big.csv").stat().st_size
    store = ExtractedStore(tmp_path / "index" / "extracted", Columns())
    tracemalloc.start()
    scan = scan_folder(folder, store=store)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(scan.files) == 8000 and size > 14_000_000
    assert peak < size / 4, f"scanning a {size:,}-byte export peaked at {peak:,} bytes"
    assert scan.files[7999].raw.startswith("Meeting 7999. The harbour council")


def test_eval_takes_gold_sources_of_many_article_files_and_shows_where_a_quote_is(indexed, tmp_path):
    from rag.evaluation.gold import GoldError, load_gold
    from rag.evaluation.run import evaluate_item

    pipeline, _ = indexed
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        '{"id": "shops", "question": "How many shops did the bakery chain close?", "answers": ["12"],'
        ' "sources": ["shops.csv#3"], "answerable": true}\n',
        encoding="utf-8",
    )
    [item] = load_gold(gold, pipeline.seeds_dir)
    record = evaluate_item(pipeline, item, 5)
    assert record["hit1"] == 1.0
    assert record["citations"].startswith("[1] shops.csv#3 (row 4)@")
    gold.write_text(
        '{"id": "x", "question": "Q?", "answers": ["a"], "sources": ["missing.csv#3"], "answerable": true}\n',
        encoding="utf-8",
    )
    with pytest.raises(GoldError, match=r"unknown source file 'missing\.csv#3'"):
        load_gold(gold, pipeline.seeds_dir)


def test_eval_formats_copies_a_corpus_into_a_format_with_its_gold_sources_renamed(tmp_path):
    from rag.evaluation.gold import load_gold

    root = Path(__file__).parent.parent
    result = subprocess.run(
        [
            sys.executable,
            str(root / "eval" / "formats.py"),
            str(root / "eval" / "corpora" / "seeds"),
            str(tmp_path),
            "csv",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "seeds-csv"
    items = load_gold(copy / "gold.jsonl", copy / "articles")
    assert {s for item in items for s in item.sources} <= {f"articles.csv#{n}" for n in range(1, 6)}
    assert any(item.sources for item in items)


@pytest.mark.slow
def test_a_mailbox_of_ten_thousand_messages_is_read_message_by_message(tmp_path):
    from rag.index.columns import Columns
    from rag.index.extracted import ExtractedStore
    from rag.index.ingest import scan_folder

    folder = tmp_path / "news"
    folder.mkdir()
    with (folder / "alerts.mbox").open("wb") as out:
        for n in range(10_000):
            body = (
                f"Wire alert {n}: the port reopened at dawn.\n\nShips waited offshore overnight.\n" if n % 1000 else ""
            )
            out.write(
                f"From desk@wire.example Mon Mar  4 09:00:00 2024\nFrom: desk@wire.example\nSubject: Alert {n}\n"
                f"Date: Mon, 04 Mar 2024 09:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n{body}\n".encode()
            )
    scan = scan_folder(folder, store=ExtractedStore(tmp_path / "index" / "extracted", Columns()))
    assert len(scan.files) == 9_990
    assert scan.files[-1].name == "alerts.mbox#9990"
    assert scan.files[-1].raw == "Wire alert 9999: the port reopened at dawn.\n\nShips waited offshore overnight."
    assert scan.skipped[0] == ("alerts.mbox (message 1)", "no text in the message")
    assert scan.skipped[-1] == ("alerts.mbox", "5 more parts left out")


def test_an_export_whose_text_is_html_is_read_as_its_paragraphs(tmp_path):
    from rag.index.ingest import scan_folder

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "cms.csv").write_text(
        'headline,published,body\n"Port reopens","Mon, 04 Mar 2024 09:00:00 +0000",'
        '"<p>The port reopened at dawn &amp; ships moved.</p><figure><figcaption>Photo: Agency</figcaption>'
        '</figure><p>Crews worked all night.</p>"\n',
        encoding="utf-8",
    )
    [article] = scan_folder(folder).files
    assert article.name == "cms.csv#1"
    assert article.raw == "The port reopened at dawn & ships moved.\n\nCrews worked all night."
    assert (article.raw.headline, article.raw.published, article.raw.where) == ("Port reopens", "2024-03-04", "row 2")


def test_a_new_reader_version_reads_the_files_again_and_reindexes_them(tmp_path, make_settings, monkeypatch):
    import rag.index.formats
    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    ff.docx(folder / "library.docx", LIBRARY)
    (folder / "plain.txt").write_text("Plain story\n\nThe mayor opened a bridge.\n", encoding="utf-8")
    pipeline = build_pipeline(make_settings(seeds_dir=folder))
    assert sorted(pipeline.index().added) == ["library.docx", "plain.txt"]
    monkeypatch.setattr(rag.index.formats, "EXTRACTION_VERSION", 2)
    summary = pipeline.index()
    assert (summary.changed, summary.unchanged) == (["library.docx"], ["plain.txt"])
    cited = pipeline.ask("How many new books did the city library reopen with?").citations[0]
    assert cited.source == "library.docx" and verify(cited, folder)
