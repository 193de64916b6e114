"""HTML and Markdown for the chat: answers with their sources, and articles with the quote marked.

Pure functions of the typed results, so they are tested without a browser. Everything
taken from an article is escaped: article text is data, never markup.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

from rag.citations import read_source
from rag.index.html_pages import is_html_page
from rag.index.lines import strip_tags as _plain
from rag.index.parsing import clean_text, parse_article
from rag.models import Answer, Chunk, Citation

#: Characters of context shown on each side of a quote in the sources list.
EXCERPT = 90
OFFLINE_LABEL = "offline: quoted from the articles"


def mode_label(mode: str) -> str:
    return OFFLINE_LABEL if mode == "offline" else f"answered by {mode}"


@lru_cache(maxsize=16)
def _paragraphs(raw: str) -> tuple[tuple[int, int], ...]:
    """An article's story paragraphs, parsed once for all the quotes an answer cites from it."""
    return tuple(parse_article(raw).paragraphs)


def story_around(raw: str, start: int, end: int) -> tuple[str, str]:
    """The article's story text before and after raw[start:end], as the index read it: paragraphs
    only, markup and entities resolved, so a saved web page's menus, scripts and captions (and a
    text file's captions and trailers) never show beside a quote."""
    paragraphs = _paragraphs(raw)
    before = " ".join(clean_text(raw[s : min(e, start)]) for s, e in paragraphs if s < start)
    after = " ".join(clean_text(raw[max(s, end) : e]) for s, e in paragraphs if e > end)
    return before.strip(), after.strip()


def excerpt(citation: Citation, raw: str | None) -> str:
    """A short excerpt of the story around the quote, with the quote highlighted (HTML)."""
    if raw is None:
        return f"<mark>{html.escape(citation.text)}</mark>"
    before, after = story_around(raw, citation.start, citation.end)
    if len(before) > EXCERPT:
        cut = before[-EXCERPT:]
        before = "…" + (cut.split(" ", 1)[-1] if " " in cut else cut)
    if len(after) > EXCERPT:
        cut = after[:EXCERPT]
        after = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return f"{html.escape(before)} <mark>{html.escape(citation.text)}</mark> {html.escape(after)}".strip()


def source_line(citation: Citation) -> str:
    parts = [f"<code>{html.escape(citation.place)}</code>"]
    if citation.title:
        parts.append(f"<em>{html.escape(citation.title)}</em>")
    parts.append(html.escape(citation.date or "undated"))
    if citation.also_in:  # copies of the story that `rag index` folded into this article
        copies = ", ".join(f"<code>{html.escape(name)}</code>" for name in citation.also_in)
        parts.append(f'<span class="also-in">also in: {copies}</span>')
    return " · ".join(parts)


_MARKER = re.compile(r"\[(\d+)\]")
CLOSEST_LABEL = "Closest passages (they may not answer your question):"


def body_html(answer: Answer) -> str:
    """The answer text: its first paragraph (the answer line) first and bold, then the quotes.

    A summary (lines starting "- ") becomes a list whose items name their article and date.
    """
    cited = {c.number: c for c in answer.citations}
    blocks = []
    for i, block in enumerate(answer.text.split("\n\n")):
        lines = block.split("\n")
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_flagged(line[2:], answer)}{_where(line, cited)}</li>" for line in lines)
            blocks.append(f'<ul class="summary">{items}</ul>')
        else:
            css = "answer-line" if i == 0 and answer.outcome == "answer" else "quotes"
            blocks.append(f'<p class="{css}">{"<br>".join(_flagged(line, answer) for line in lines)}</p>')
    return "\n".join(blocks)


def _flagged(text: str, answer: Answer) -> str:
    """Escaped text with the sentences no citation supports marked."""
    escaped = html.escape(text)
    for sentence in answer.unsupported:
        flagged = html.escape(sentence)
        escaped = escaped.replace(
            flagged, f'<span class="unsupported" title="No source supports this sentence">⚠ {flagged}</span>'
        )
    return escaped


def _where(line: str, cited: dict[int, Citation]) -> str:
    numbers = [int(n) for n in _MARKER.findall(line)]
    citation = cited.get(numbers[0]) if numbers else None
    if citation is None:
        return ""
    title, date = html.escape(citation.title or citation.source), html.escape(citation.date or "undated")
    return f' <span class="meta">— {title}, {date}</span>'


def sources_html(citations: list[Citation], seeds_dir: Path, css: str = "sources") -> str:
    """Numbered sources: file, headline, date, and an excerpt with the quote highlighted."""
    raws: dict[str, str | None] = {}
    for c in citations:
        if c.source not in raws:
            raws[c.source] = read_source(seeds_dir, c.source)
    items = "".join(
        f'<li value="{c.number}" class="source">{source_line(c)}<br>'
        f'<span class="excerpt">{excerpt(c, raws[c.source])}</span></li>'
        for c in citations
    )
    return f'<ol class="{css}">{items}</ol>'


def answer_message(answer: Answer, seeds_dir: Path) -> str:
    """The assistant message: the answer line, quotes, flags, sources with excerpts, and the mode."""
    lines = [body_html(answer)]
    if answer.unsupported:
        lines.append('<p class="flag">⚠ Marked sentences are not supported by the cited sources.</p>')
    if answer.notice:
        lines.append(f'<p class="notice">ℹ {html.escape(answer.notice)}</p>')
    if answer.citations:
        lines.append(sources_html(answer.citations, seeds_dir))
    if answer.closest:
        lines.append(f'<p class="meta closest-label">{CLOSEST_LABEL}</p>')
        lines.append(sources_html(answer.closest, seeds_dir, "sources closest"))
    meta = [mode_label(answer.mode)]
    if answer.confidence is not None:
        meta.append(html.escape(answer.confidence_label()))
    if answer.query and answer.query != answer.question:
        meta.append(f"searched for: “{html.escape(answer.query)}”")
    lines.append(f'<p class="meta">{" · ".join(meta)}</p>')
    return "\n".join(lines)


def article_html(seeds_dir: Path, citation: Citation) -> str:
    """The whole cited article, the quote highlighted and scrolled into view."""
    raw = read_source(seeds_dir, citation.source)
    if raw is None:
        return "<p>That article is not available.</p>"
    if is_html_page(raw):
        return _article(citation, _page_story(raw, citation))
    head = html.escape(_plain(raw[: citation.start]))
    quote = html.escape(_plain(raw[citation.start : citation.end]))
    tail = html.escape(_plain(raw[citation.end :]))
    body = f'{head}<mark id="cited-quote">{quote}</mark>{tail}'.strip().replace("\n", "<br>")
    return _article(citation, body)


def _article(citation: Citation, body: str) -> str:
    title = html.escape(citation.title or citation.source)
    return (
        f'<div class="article"><h3>{title}</h3><p class="meta">{source_line(citation)}</p>'
        f'<div class="article-body">{body}</div></div>'
    )


def _page_story(raw: str, citation: Citation) -> str:
    """A saved web page shown as its story's paragraphs (not its markup), the quote marked."""
    blocks = []
    marked = False
    for s, e in _paragraphs(raw):
        if e <= citation.start or s >= citation.end:
            blocks.append(html.escape(clean_text(raw[s:e])))
            continue
        a, b = max(s, citation.start), min(e, citation.end)
        mark = "<mark>" if marked else '<mark id="cited-quote">'
        marked = True
        parts = (html.escape(clean_text(raw[s:a])), f"{mark}{html.escape(clean_text(raw[a:b]))}</mark>")
        blocks.append(" ".join([*parts, html.escape(clean_text(raw[b:e]))]).strip())
    return "".join(f"<p>{block}</p>" for block in blocks)


#: Words of the story that stand in for a missing headline.
DERIVED_WORDS = 8
#: How a title made from the story's first words is marked wherever it is shown.
DERIVED_MARK = "no headline: first words"


def headline(article: Chunk) -> tuple[str, bool]:
    """The article's headline; for a file without one, the first words of its story (`article` is
    its first sentence, with the next in its context) and True, so the title is marked as derived
    rather than passed off as the paper's."""
    if article.title:
        return article.title, False
    story = article.context if article.context.startswith(article.text) else article.text
    words = story.split()
    return " ".join(words[:DERIVED_WORDS]) + ("…" if len(words) > DERIVED_WORDS else ""), True


def _headline_html(article: Chunk) -> str:
    title, derived = headline(article)
    if not derived:
        return f"<strong>{html.escape(title)}</strong>"
    return (
        f'<strong class="derived" title="The file has no headline: these are its first words">'
        f'“{html.escape(title)}”</strong> <span class="meta">({DERIVED_MARK})</span>'
    )


def articles_html(articles: list[Chunk], sentences: dict[str, int]) -> str:
    """The indexed articles, one line each: headline (or the story's first words, marked), date,
    sentence count, and the file."""
    items = "".join(
        f'<li>{_headline_html(a)}<br><span class="meta">'
        f"{html.escape(a.date or 'undated')} · {_count(sentences.get(a.source, 0), 'sentence')}"
        f" · <code>{html.escape(a.source)}</code></span></li>"
        for a in articles
    )
    return f'<p class="meta">{_count(len(articles), "article")}</p><ol class="article-list">{items}</ol>'


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def index_status_html(running: bool, done: int, total: int, message: str) -> str:
    """The background refresh as a line of text, with a progress bar while it runs."""
    if not message:
        return ""
    text = html.escape(message)
    if running and total:
        return f'<p class="meta"><progress value="{done}" max="{total}"></progress> {text}</p>'
    return f'<p class="meta">{text}</p>'


def lines_html(lines: list[str]) -> str:
    """Messages about uploaded or removed files, one per line, escaped."""
    return "".join(f'<p class="meta">{html.escape(line)}</p>' for line in lines)
