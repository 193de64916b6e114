"""Each quirk of the seed files (NOTES.md) is parsed into metadata, not into the text."""

from __future__ import annotations

import pytest

from rag.index.chunking import chunk_file, split_sentences
from rag.index.ingest import SourceFile
from rag.index.lines import as_date
from rag.index.parsing import clean_text, parse_article

from conftest import SEEDS


def load(name: str) -> tuple[str, list]:
    raw = (SEEDS / name).read_text(encoding="utf-8")
    return raw, chunk_file(SourceFile(name=name, raw=raw, sha256="x"))


def test_date_prefix_glued_to_first_sentence_is_metadata_and_dateline_is_dropped():
    raw, chunks = load("000_4ac1dad1d337df25.txt")
    art = parse_article(raw)
    assert art.date == "2025-05-16" and art.title is None
    assert chunks[0].text.startswith("First direct talks between Russia and Ukraine")
    assert all("date 2025" not in c.text and "/TASS/" not in c.text for c in chunks)


def test_date_prefix_glued_to_headline_gives_title():
    raw, chunks = load("001_a39661892d0812d2.txt")
    art = parse_article(raw)
    assert art.date == "2025-05-16"
    assert art.title == "Russia expects to pick up disrupted peace negotiation with Ukraine"
    assert chunks[0].text.startswith("Moscow: Russia views the fresh negotiation")


def test_headline_date_line_caption_tags_and_url_block():
    raw, chunks = load("002_b62eaf8dc1d09b0d.txt")
    art = parse_article(raw)
    assert art.title.startswith("Ukrainian Delegation En Route to Istanbul")
    assert art.date == "2025-05-15"
    assert art.url.startswith("https://www.themoscowtimes.com/2025/05/15/")
    texts = [c.text for c in chunks]
    assert not any("Alexander Ryumin / TASS" in t for t in texts), "photo caption kept"
    assert not any("<u>" in t or "Original url" in t or "themoscowtimes" in t for t in texts)
    tapped = next(c for c in chunks if "tapping his aide" in c.text)
    assert "<u>tapping</u>" in raw[tapped.start : tapped.end], "offsets must cover the raw markup"


def test_file_without_header_and_stray_trailer():
    raw, chunks = load("003_f4afef2fd7492f2d.txt")
    art = parse_article(raw)
    assert art.title is None and art.date is None and art.url is None
    assert chunks[-1].text.endswith("Nord Stream gas pipeline consortium.")
    assert "/rel" not in chunks[-1].text


def test_subheadings_and_captions_are_not_sentences():
    _, chunks = load("000_4ac1dad1d337df25.txt")
    assert not any(c.text in ("Kiev’s response", "Role of United States") for c in chunks)
    _, chunks = load("004_ffb46453cc274d5e.txt")
    assert not any("(Evgeniy Maloletka/AP)" in c.text for c in chunks)


@pytest.mark.parametrize("name", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_every_chunk_offset_maps_to_its_text(name: str):
    raw, chunks = load(name)
    assert len(chunks) > 10
    for chunk in chunks:
        assert clean_text(raw[chunk.start : chunk.end]) == chunk.text
        assert raw[chunk.start] not in " \n" and raw[chunk.end - 1] not in " \n"


def chunk_texts(raw: str, name: str = "a.txt") -> list[str]:
    return [c.text for c in chunk_file(SourceFile(name=name, raw=raw, sha256="x"))]


def test_abbreviations_do_not_end_sentences():
    raw = "Mr Zelensky met U.S. Secretary of State Marco Rubio at 10 a.m. Friday. He left."
    assert chunk_texts(raw) == [
        "Mr Zelensky met U.S. Secretary of State Marco Rubio at 10 a.m. Friday.",
        "He left.",
    ]


def test_chunk_ids_are_content_hashes_stable_across_edits_elsewhere():
    raw = "First fact here. Second fact here."
    before = chunk_file(SourceFile(name="a.txt", raw=raw, sha256="1"))
    after = chunk_file(SourceFile(name="a.txt", raw="Intro line. " + raw, sha256="2"))
    assert {c.id for c in before} <= {c.id for c in after}
    repeated = chunk_file(SourceFile(name="a.txt", raw="Same. Same.", sha256="3"))
    assert len({c.id for c in repeated}) == 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("May 15, 2025", "2025-05-15"),
        ("12 March 2024", "2024-03-12"),
        ("2017/2/7", "2017-02-07"),
        ("2024-03-12", "2024-03-12"),
        ("Talks in 2022 failed", None),
        ("March 2024", None),
        ("15 May", None),
    ],
)
def test_date_lines_in_common_formats(line, expected):
    assert as_date(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Published: 16 August 2002 14:05 GMT", "2002-08-16"),
        ("Updated 3:05 PM ET, Mon March 27, 2017", "2017-03-27"),
        ("Date: 2024-03-12", "2024-03-12"),
        ("Published in 2017 by the ministry, the report said little new", None),
        ("Posted on 3 May 2019, the letter reached him a week later.", None),
    ],
)
def test_labelled_date_lines_date_the_article(line, expected):
    article = parse_article(f"Storm hits the coast\n{line}\n\nThe storm reached the coast on Tuesday.\n")
    assert article.date == expected


def test_markdown_front_matter_and_headings_give_the_metadata_not_body_text():
    raw = (
        '---\ntitle: "Flood waters rise in Dresden"\ndate: 2002-08-16T10:00:00Z\nauthor: Jane Doe\n'
        "url: https://example.com/flood\ntags: [floods, germany]\n---\n\n# Flood waters rise in Dresden\n\n"
        "Flood waters in Dresden rose to a record 9.4 metres on Friday.\n\n## Evacuations\n\n"
        "Thousands of residents were evacuated.\n"
    )
    article = parse_article(raw)
    assert (article.title, article.date, article.url) == (
        "Flood waters rise in Dresden",
        "2002-08-16",
        "https://example.com/flood",
    )
    assert [raw[s:e] for s, e in article.paragraphs] == [
        "Flood waters in Dresden rose to a record 9.4 metres on Friday.",
        "Thousands of residents were evacuated.",
    ]
    assert article.dropped[0][0] == "front matter" and ("heading", "## Evacuations") in article.dropped
    assert parse_article("# Storm hits the coast\n\nThe storm reached the coast.\n").title == "Storm hits the coast"


def test_what_the_parser_leaves_out_is_reported_and_list_items_are_body():
    raw = (
        "Storm hits the coast\n2024/1/9\n\nThe storm reached the coast on Tuesday.\n"
        "- Power cut to 3,000 homes\n- Two roads closed\nWhat comes next\n"
        "Crews were out overnight (Jane Doe/AP)\nRelated article: Earlier storms\n"
    )
    article = parse_article(raw)
    assert article.title == "Storm hits the coast" and article.date == "2024-01-09"
    body = [raw[s:e] for s, e in article.paragraphs]
    assert "- Power cut to 3,000 homes" in body and "- Two roads closed" in body
    assert article.dropped == [
        ("heading", "What comes next"),
        ("photo caption", "Crews were out overnight (Jane Doe/AP)"),
        ("related articles", "Related article: Earlier storms"),
    ]


def test_a_paragraph_ending_in_a_credit_keeps_its_body():
    """A whole article on one line closing with "(China Daily European Weekly 12/30/2016 page20)"
    was once taken for a photo caption and left out entire: nothing of it was indexed."""
    body = "The bridge was built in 1873. " * 12 + "It stands as a pedestrian corridor."
    raw = f"A river that flows\n2016/12/30\n\n{body} (China Daily European Weekly 12/30/2016 page20)\n"
    article = parse_article(raw)
    assert [raw[s:e] for s, e in article.paragraphs] == [body]
    assert article.dropped == [("credit", "(China Daily European Weekly 12/30/2016 page20)")]
    reporting = "Officials said the road would reopen on Friday. " * 8 + "Alex Stone contributed to this report."
    kept = parse_article(f"{reporting}\n")
    assert reporting[slice(*kept.paragraphs[0])].endswith("would reopen on Friday.")
    assert kept.dropped == [("credit", "Alex Stone contributed to this report.")]
    assert parse_article("Crews were out overnight (Jane Doe/AP)\n").paragraphs == []
    only_credit = parse_article("(" + "Evgeniy Maloletka and others " * 12 + "/AP)\n")
    assert only_credit.paragraphs == [] and only_credit.dropped[0][0] == "credit"


@pytest.mark.parametrize("ending", ["(2016/17)", "(www.gov.uk/statement)"])
def test_a_long_paragraph_keeps_a_closing_parenthesis_that_is_no_credit(ending):
    raw = "The data were published in 1873. " * 12 + f"They cover the fiscal year {ending}\n"
    article = parse_article(raw)
    assert raw[slice(*article.paragraphs[0])].endswith(ending) and article.dropped == []


def test_a_short_paragraph_ending_in_a_print_credit_is_body_not_a_caption():
    """The slash of a date is no photo agency's: the paragraph used to be dropped whole as a caption."""
    line = "Last year, Bayer invested 100 million euros in the plant. (China Daily European Weekly 03/17/2017 page25)"
    raw = (
        f"Bayer opens plant\n\nBayer opened a plant in Beijing on Friday.\n{line}\nREAD MORE: Why Bayer bet on China\n"
    )
    article = parse_article(raw)
    assert [raw[s:e] for s, e in article.paragraphs] == [
        "Bayer opened a plant in Beijing on Friday.",
        "Last year, Bayer invested 100 million euros in the plant.",
    ]
    assert article.dropped == [
        ("credit", "(China Daily European Weekly 03/17/2017 page25)"),
        ("related articles", "READ MORE: Why Bayer bet on China"),
    ]


@pytest.mark.parametrize(
    ("written", "title"),
    [
        ("\"'Huge advance' in fighting heart attacks\"", "'Huge advance' in fighting heart attacks"),
        ("'Trump''s ban'", "Trump's ban"),
        ('"Merkel: \\"No\\""', 'Merkel: "No"'),
        ("Plain title: with a colon", "Plain title: with a colon"),
    ],
)
def test_front_matter_titles_are_read_as_yaml_writes_them(written, title):
    article = parse_article(f"---\ntitle: {written}\ndate: 2017-03-17\n---\n\nThe body.\n")
    assert (article.title, article.date) == (title, "2017-03-17")


def test_markdown_emphasis_and_glued_abbreviations_do_not_reach_the_quotes():
    raw = "*Pace, Florida (CNN)Rep. Matt Gaetz surprised the crowd. He will **not** release his tax returns.*\n"
    assert chunk_texts(raw, "gaetz.md") == [
        "Pace, Florida (CNN)Rep. Matt Gaetz surprised the crowd.",
        "He will not release his tax returns.",
    ]
    assert clean_text("5 * 3 and snake_case stay") == "5 * 3 and snake_case stay"
    glued = 'Russia backed the post-Sept. 11 coalition. "Read it. Or don\'t." The paper sold out.'
    assert [glued[s:e] for s, e in split_sentences(glued, 0, len(glued))] == [
        "Russia backed the post-Sept. 11 coalition.",
        '"Read it.',
        "Or don't.\"",
        "The paper sold out.",
    ]


def test_a_headline_that_asks_is_the_title_when_a_date_line_follows():
    raw = "Why are Turkey and the Netherlands clashing?\n2017-03-12\n\nThe row escalated on Sunday.\n"
    article = parse_article(raw)
    assert (article.title, article.date) == ("Why are Turkey and the Netherlands clashing?", "2017-03-12")
    assert [raw[s:e] for s, e in article.paragraphs] == ["The row escalated on Sunday."]
    lede = "Why does it matter?\n\nThe row escalated on Sunday.\n"  # no date after it: a question opening the story
    assert parse_article(lede).title is None and len(parse_article(lede).paragraphs) == 2


def test_a_long_paragraph_opening_with_read_more_is_story():
    story = (
        "READ MORE: Israel bars entry to boycott backers. "
        + "Lanning said the laws were draconian and undemocratic. " * 6
    )
    article = parse_article(story.strip() + "\n")
    assert len(article.paragraphs) == 1 and article.dropped == []


def test_an_attribution_left_alone_by_a_quotations_full_stop_joins_it():
    text = (
        '"We will leave the EU." Brexit Secretary David Davis said. "It is over." He said. '
        '"No," said Mr Davis. Talks failed.'
    )
    assert [text[s:e] for s, e in split_sentences(text, 0, len(text))] == [
        '"We will leave the EU." Brexit Secretary David Davis said.',
        '"It is over." He said.',
        '"No," said Mr Davis.',
        "Talks failed.",
    ]
