"""Rendering of answers and articles for the chat (no browser needed)."""

from __future__ import annotations

from rag.citations import safe_path
from rag.index.parsing import clean_text
from rag.models import Answer, Citation
from ui.render import CLOSEST_LABEL, OFFLINE_LABEL, answer_message, article_html, excerpt

from conftest import SEEDS

SOURCE = "002_b62eaf8dc1d09b0d.txt"


def citation(needle: str, number: int = 1) -> Citation:
    raw = (SEEDS / SOURCE).read_text(encoding="utf-8")
    start = raw.index(needle)
    end = raw.index(".", start) + 1
    return Citation(
        number=number,
        source=SOURCE,
        quote=raw[start:end],
        text=raw[start:end].replace("<u>", "").replace("</u>", ""),
        start=start,
        end=end,
        title="Ukrainian Delegation En Route",
        date="2025-05-15",
    )


def test_answer_shows_sources_with_title_date_and_highlighted_excerpt():
    c = citation("President Vladimir Putin rejected")
    html = answer_message(Answer(question="q", text="Putin rejected it. [1]", citations=[c]), SEEDS)
    assert f"<code>{SOURCE}</code>" in html and "Ukrainian Delegation En Route" in html and "2025-05-15" in html
    assert "<mark>President Vladimir Putin rejected" in html
    assert "&lt;u&gt;" not in html and "<u>" not in html
    assert OFFLINE_LABEL in html


def test_unsupported_sentences_notice_and_rewritten_query_are_visible():
    answer = Answer(
        question="and hers?",
        query="What is Kallas's job?",
        text="She is chief [1]. The Moon is cheese.",
        citations=[citation("Medinsky also headed")],
        unsupported=["The Moon is cheese."],
        notice="The language model was unavailable (HTTP 500).",
        mode="gpt-test",
    )
    html = answer_message(answer, SEEDS)
    assert 'class="unsupported"' in html and "⚠ The Moon is cheese." in html
    assert "HTTP 500" in html and "answered by gpt-test" in html
    assert "searched for: “What is Kallas&#x27;s job?”" in html


def test_article_text_is_escaped_not_rendered():
    answer = Answer(question="q", text="<script>alert(1)</script> [1]", citations=[])
    assert "<script>" not in answer_message(answer, SEEDS)


def test_excerpt_is_short_and_centered_on_the_quote():
    c = citation("Medinsky also headed")
    text = excerpt(c, (SEEDS / SOURCE).read_text(encoding="utf-8"))
    assert text.count("<mark>") == 1 and len(text) < len(c.text) + 260


def test_article_view_highlights_the_quote_and_refuses_paths_outside_seeds(tmp_path):
    html = article_html(SEEDS, citation("Medinsky also headed"))
    assert '<mark id="cited-quote">Medinsky also headed' in html and "Zelensky" in html
    evil = citation("Medinsky also headed").model_copy(update={"source": "../../../../etc/passwd"})
    assert "not available" in article_html(SEEDS, evil)
    assert safe_path(SEEDS, "../pyproject.toml") is None
    assert safe_path(SEEDS, SOURCE) is not None


def test_excerpt_leaves_out_the_stray_trailer_at_an_article_end():
    source = "003_f4afef2fd7492f2d.txt"
    raw = (SEEDS / source).read_text(encoding="utf-8")
    start = raw.index("She said the measures")
    end = raw.index("consortium.", start) + len("consortium.")
    last = Citation(number=1, source=source, quote=raw[start:end], text=raw[start:end], start=start, end=end)
    shown = excerpt(last, raw)
    assert shown.endswith("consortium.</mark>") and "/rel" not in shown


def test_answer_line_comes_first_and_bold_then_the_quotes():
    c = citation("Medinsky also headed")
    html = answer_message(Answer(question="q", text=f"Medinsky [1].\n\n{c.text} [1]", citations=[c]), SEEDS)
    assert html.index('<p class="answer-line">Medinsky [1].</p>') < html.index('<p class="quotes">')


def test_summary_lists_each_sentence_with_its_article_and_date():
    first, second = citation("Medinsky also headed", 1), citation("Medinsky also headed", 2)
    second = second.model_copy(update={"date": None, "title": None})
    text = f"- {first.text} [1]\n- {second.text} [2]"
    html = answer_message(Answer(question="q", text=text, citations=[first, second]), SEEDS)
    assert html.count("<li>") == 2 and '<ul class="summary">' in html
    assert "— Ukrainian Delegation En Route, 2025-05-15" in html and f"— {SOURCE}, undated" in html


def test_refusal_shows_closest_passages_under_their_own_label():
    c = citation("Medinsky also headed")
    html = answer_message(Answer(question="q", text="The articles do not say.", refused=True, closest=[c]), SEEDS)
    assert CLOSEST_LABEL in html and 'class="sources closest"' in html and "<mark>" in html
    assert html.index("The articles do not say.") < html.index(CLOSEST_LABEL)


PAGE = (
    '<!DOCTYPE html><html><head><title>Ferry | News</title><script>var x = "Breaking. News";</script></head>'
    '<body><nav><a href="/">Home</a> Share on Facebook</nav><article><h1>Ferry capsizes</h1>'
    '<figure><img src="/img/photo.jpg" alt=""><figcaption>File photo. (Reuters)</figcaption></figure>'
    "<p>A ferry carrying 57 passengers capsized on Tuesday.</p><p>Rescuers pulled 40 people from the water, "
    "the agency&#8217;s spokesman said. Seventeen remain missing.</p></article>"
    "<footer>&copy; 2024 Example News</footer></body></html>"
)


def page_citation(tmp_path, needle: str) -> tuple[Citation, str]:
    (tmp_path / "ferry.html").write_text(PAGE, encoding="utf-8")
    start = PAGE.index(needle)
    end = PAGE.index(".", start) + 1
    quote = PAGE[start:end]
    text = clean_text(quote)
    cited = Citation(number=1, source="ferry.html", quote=quote, text=text, start=start, end=end, title="Ferry")
    return cited, PAGE


def test_a_web_page_excerpt_shows_its_story_not_its_markup(tmp_path):
    cited, raw = page_citation(tmp_path, "Rescuers pulled")
    shown = excerpt(cited, raw)
    assert shown.startswith("A ferry carrying 57 passengers capsized on Tuesday. <mark>Rescuers pulled")
    assert shown.endswith("</mark> Seventeen remain missing.")
    assert not any(junk in shown for junk in ("img", "alt=", "Reuters", "Share on Facebook", "&amp;#"))


def test_a_cited_web_page_is_shown_as_its_paragraphs_with_the_quote_marked(tmp_path):
    cited, _ = page_citation(tmp_path, "Rescuers pulled")
    shown = article_html(tmp_path, cited)
    assert "<p>A ferry carrying 57 passengers capsized on Tuesday.</p>" in shown
    marked = "Rescuers pulled 40 people from the water, the agency’s spokesman said."
    assert f'<p><mark id="cited-quote">{marked}</mark> Seventeen remain missing.</p>' in shown
    assert not any(junk in shown for junk in ("DOCTYPE", "var x", "Home", "File photo", "Example News"))
