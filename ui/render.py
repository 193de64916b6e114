"""HTML and Markdown for the chat: answers with their sources, and articles with the quote marked.

Pure functions of the typed results, so they are tested without a browser. Everything
taken from an article is escaped: article text is data, never markup.
"""

from __future__ import annotations

import html
from pathlib import Path

from rag.citations import read_source
from rag.models import Answer, Citation
from rag.index.parsing import strip_tags as _plain
from rag.index.parsing import strip_trailer
#: Characters of context shown on each side of a quote in the sources list.
EXCERPT = 90
OFFLINE_LABEL = "offline: quoted from the articles"


def mode_label(mode: str) -> str:
    return OFFLINE_LABEL if mode == "offline" else f"answered by {mode}"


def excerpt(citation: Citation, raw: str | None) -> str:
    """A short excerpt around the quote, with the quote highlighted (HTML)."""
    if raw is None:
        return f"<mark>{html.escape(citation.text)}</mark>"
    before = " ".join(_plain(raw[max(0, citation.start - EXCERPT) : citation.start]).split())
    after = " ".join(_plain(strip_trailer(raw[citation.end : citation.end + EXCERPT])).split())
    before = ("…" + before.split(" ", 1)[-1]) if citation.start > EXCERPT and " " in before else before
    after = (after.rsplit(" ", 1)[0] + "…") if " " in after else after
    return f"{html.escape(before)} <mark>{html.escape(citation.text)}</mark> {html.escape(after)}".strip()


def source_line(citation: Citation) -> str:
    parts = [f"<code>{html.escape(citation.source)}</code>"]
    if citation.title:
        parts.append(f"<em>{html.escape(citation.title)}</em>")
    parts.append(html.escape(citation.date or "undated"))
    return " · ".join(parts)


def answer_message(answer: Answer, seeds_dir: Path) -> str:
    """The assistant message: answer, flags, sources with excerpts, and the mode."""
    text = html.escape(answer.text)
    for sentence in answer.unsupported:
        escaped = html.escape(sentence)
        text = text.replace(escaped, f'<span class="unsupported" title="No source supports this sentence">⚠ {escaped}</span>')
    lines = [text]
    if answer.unsupported:
        lines.append('<p class="flag">⚠ Marked sentences are not supported by the cited sources.</p>')
    if answer.notice:
        lines.append(f'<p class="notice">ℹ {html.escape(answer.notice)}</p>')
    if answer.citations:
        raws = {}
        for c in answer.citations:
            if c.source not in raws:
                raws[c.source] = read_source(seeds_dir, c.source)
        items = "".join(
            f'<li value="{c.number}" class="source">{source_line(c)}<br><span class="excerpt">{excerpt(c, raws[c.source])}</span></li>'
            for c in answer.citations
        )
        lines.append(f'<ol class="sources">{items}</ol>')
    meta = [mode_label(answer.mode)]
    if answer.query and answer.query != answer.question:
        meta.append(f"searched for: “{html.escape(answer.query)}”")
    lines.append(f'<p class="meta">{" · ".join(meta)}</p>')
    return "\n".join(lines)


def article_html(seeds_dir: Path, citation: Citation) -> str:
    """The whole cited article, the quote highlighted and scrolled into view."""
    raw = read_source(seeds_dir, citation.source)
    if raw is None:
        return "<p>That article is not available.</p>"
    head = html.escape(_plain(raw[: citation.start]))
    quote = html.escape(_plain(raw[citation.start : citation.end]))
    tail = html.escape(_plain(raw[citation.end :]))
    body = f'{head}<mark id="cited-quote">{quote}</mark>{tail}'.strip().replace("\n", "<br>")
    title = html.escape(citation.title or citation.source)
    return (
        f'<div class="article"><h3>{title}</h3><p class="meta">{source_line(citation)}</p>'
        f'<div class="article-body">{body}</div></div>'
    )
