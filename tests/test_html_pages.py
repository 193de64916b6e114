"""A news page saved from a browser is read as its story: headline, date and paragraphs, no page furniture."""

from __future__ import annotations

import pytest

from rag.index.chunking import chunk_file
from rag.index.html_pages import is_html_page
from rag.index.ingest import SourceFile
from rag.index.parsing import clean_text, parse_article

PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Ferry capsizes off Sulawesi | Example News</title>
<meta property="og:title" content="Ferry capsizes off Sulawesi, 40 rescued">
<meta property="article:published_time" content="2024-03-12T08:30:00Z">
<link rel="canonical" href="https://news.example/ferry">
<script>var tracker = "Breaking. News loaded.";</script>
<style>p { margin: 0; }</style>
</head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li>Subscribe now for unlimited access</li></ul></nav></header>
<main><article>
<h1>Ferry capsizes off Sulawesi, 40 rescued</h1>
<p class="byline">By Jane Doe</p>
<p>A ferry carrying 57 passengers capsized off Sulawesi on Tuesday, Indonesia&#39;s rescue agency said.</p>
<p>Rescuers pulled 40 people from the water, agency spokesman <a href="/budi">Budi Santoso</a> told
reporters in Makassar &amp; Jakarta. Seventeen remain missing.</p>
<figure><img src="ferry.jpg" alt="A ferry. Photo">
<figcaption>Rescuers search the water. Photo: Reuters</figcaption></figure>
<p>The vessel left the port of <em>Bau-Bau</em> on Monday night.<br>It sank in heavy seas.</p>
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Celebrity chef opens new restaurant</a></li></ul></aside>
</main>
<footer><p>&copy; 2024 Example News. All rights reserved.</p></footer>
</body></html>
"""


def body(raw: str) -> list[str]:
    return [clean_text(raw[s:e]) for s, e in parse_article(raw).paragraphs]


def test_a_saved_page_gives_its_story_and_metadata_not_its_menus():
    article = parse_article(PAGE)
    assert (article.title, article.date, article.url) == (
        "Ferry capsizes off Sulawesi, 40 rescued",
        "2024-03-12",
        "https://news.example/ferry",
    )
    assert body(PAGE) == [
        "A ferry carrying 57 passengers capsized off Sulawesi on Tuesday, Indonesia's rescue agency said.",
        "Rescuers pulled 40 people from the water, agency spokesman Budi Santoso told reporters in Makassar & "
        "Jakarta. Seventeen remain missing.",
        "The vessel left the port of Bau-Bau on Monday night.",
        "It sank in heavy seas.",
    ]
    dropped = dict((text, why) for why, text in article.dropped)
    assert dropped["Subscribe now for unlimited access"] == "page menu"
    assert dropped["Rescuers search the water. Photo: Reuters"] == "photo caption"
    assert dropped["Celebrity chef opens new restaurant"] == "page aside"
    assert dropped["© 2024 Example News. All rights reserved."] == "page footer"
    assert dropped["By Jane Doe"] == "heading"
    assert "Ferry capsizes off Sulawesi, 40 rescued" not in dropped  # the headline is the title, not left out
    assert not any("tracker" in text or "margin" in text for text in dropped)


def test_every_sentence_of_a_page_is_an_exact_range_of_the_file():
    chunks = chunk_file(SourceFile(name="ferry.html", raw=PAGE, sha256="x"))
    assert [c.text for c in chunks][:3] == [
        "A ferry carrying 57 passengers capsized off Sulawesi on Tuesday, Indonesia's rescue agency said.",
        "Rescuers pulled 40 people from the water, agency spokesman Budi Santoso told reporters in Makassar & Jakarta.",
        "Seventeen remain missing.",
    ]
    assert all(clean_text(PAGE[c.start : c.end]) == c.text for c in chunks)
    assert {c.title for c in chunks} == {"Ferry capsizes off Sulawesi, 40 rescued"}
    assert {c.date for c in chunks} == {"2024-03-12"}


def test_a_page_without_a_story_element_keeps_its_body_and_reads_json_ld():
    raw = (
        "<html><head><title>Storm | Site</title>"
        '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", "headline": "Storm hits the coast",'
        ' "datePublished": "2017-02-07T10:00:00+01:00"}]}</script></head>'
        "<body><div class='menu'><a href='/'>Home</a></div><div class='text'><h1>Storm hits the coast</h1>"
        "<p>The storm reached the coast on Tuesday.<p>Power was cut to 3,000 homes.</div></body></html>"
    )
    article = parse_article(raw)
    assert (article.title, article.date) == ("Storm hits the coast", "2017-02-07")
    assert body(raw) == ["The storm reached the coast on Tuesday.", "Power was cut to 3,000 homes."]
    assert ("heading", "Home") in article.dropped


def test_page_metadata_falls_back_to_the_heading_the_title_and_a_time_element():
    raw = (
        "<!doctype html><html><head><title>Floods in Dresden</title></head><body><article>"
        '<h1>Dresden <em>floods</em> reach record</h1><time datetime="2002-08-16">16 August</time>'
        "<p>Flood waters rose to 9.4 metres.</p></article></body></html>"
    )
    assert (parse_article(raw).title, parse_article(raw).date) == ("Dresden floods reach record", "2002-08-16")
    untitled = "<html><body><p>Flood waters rose to 9.4 metres.</p></body></html>"
    assert parse_article(untitled).title is None and body(untitled) == ["Flood waters rose to 9.4 metres."]


@pytest.mark.parametrize(
    ("raw", "page"),
    [
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", True),
        ('\ufeff<?xml version="1.0"?>\n<!-- saved -->\n<html xmlns="http://www.w3.org/1999/xhtml">', True),
        ("<HTML><BODY>Storm.</BODY></HTML>", True),
        ("Storm hits the coast\n\nThe storm reached the <u>coast</u> on Tuesday.\n", False),
        ("<p>A fragment is text with tags, as the seed files have.</p>", False),
    ],
)
def test_only_saved_pages_are_read_as_pages(raw, page):
    assert is_html_page(raw) is page


def test_broken_markup_still_gives_the_text():
    raw = "<html><body><article><p>Rescuers pulled 40 people out.<p>Seventeen <b>remain missing.</article></span></html"
    assert body(raw) == ["Rescuers pulled 40 people out.", "Seventeen remain missing."]


def test_a_folder_of_saved_pages_answers_with_verified_quotes(tmp_path, make_settings):
    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "ferry.html").write_text(PAGE, encoding="utf-8")
    pipeline = build_pipeline(make_settings(seeds_dir=folder))
    pipeline.index()
    answer = pipeline.ask("How many passengers was the ferry carrying?")
    assert not answer.refused and "57 passengers" in answer.citations[0].text
    cited = answer.citations[0]
    assert (cited.source, cited.title, cited.date) == (
        "ferry.html",
        "Ferry capsizes off Sulawesi, 40 rescued",
        "2024-03-12",
    )
    assert PAGE[cited.start : cited.end] == cited.quote  # the exact characters of the file, markup and all
    assert cited.text == body(PAGE)[0]
    assert pipeline.ask("What restaurant did the celebrity chef open?").refused  # the "Most read" box is not news


def test_character_references_in_the_page_title_belong_to_the_title():
    raw = (
        "<html><head><title>Bosnia&#x27;s appeal &amp; the court</title></head>"
        "<body><p>The appeal was filed.</p></body></html>"
    )
    article = parse_article(raw)
    assert article.title == "Bosnia's appeal & the court" and article.dropped == []


def test_a_refusal_shows_a_repeated_sentence_once(tmp_path, make_settings):
    """Pages often repeat their first sentence as the subtitle; the closest passages should not."""
    from rag.pipeline import build_pipeline

    folder = tmp_path / "news"
    folder.mkdir()
    sentence = "The storm reached the coast of Sulawesi on Tuesday night."
    (folder / "storm.txt").write_text(
        f"Storm hits Sulawesi\n2024-01-09\n\n{sentence}\n{sentence}\nPower was cut to the coast.\n", encoding="utf-8"
    )
    pipeline = build_pipeline(make_settings(seeds_dir=folder))
    pipeline.index()
    answer = pipeline.ask("How much did the storm on the coast of Sulawesi cost?")
    assert answer.refused and len(answer.closest) >= 2
    assert len({c.text for c in answer.closest}) == len(answer.closest)
