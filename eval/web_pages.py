"""Make a copy of an eval corpus in which every article is a saved news web page.

    .venv/bin/python eval/web_pages.py eval/corpora/news40 /tmp/web/news40
    .venv/bin/rag eval --corpus eval/corpora/news40 --corpus /tmp/web/news40 --out /tmp/web/out

People keep news as pages saved from a browser as often as plain text. This wraps each
article's headline, date and paragraphs (as `rag.index.parsing` reads the text file) in the
markup news sites write around a story: scripts and styles, a menu, a byline, a photo with a
caption, a "Most read" box holding other articles' headlines, a footer, and the headline and
date in Open Graph and schema.org metadata. Three page layouts take turns: the story in an
<article> with one element per line, in a <main> with JSON-LD metadata with the whole page
minified onto one line, and in a plain <div> (no story element at all) with the source wrapped
at 100 columns, paragraphs included.
The gold questions are copied with their sources renamed to the .html files, so the same
questions measure how much of the answering survives reading the pages instead of the text.
"""

from __future__ import annotations

import html
import json
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.evaluation.corpora import copy_questions, load_corpus  # noqa: E402
from rag.index.parsing import clean_text, parse_article  # noqa: E402

HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | The Daily Example</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{title}">
{date_meta}<link rel="canonical" href="https://news.example/{slug}">
<link rel="stylesheet" href="/static/site.css">
<style>.menu {{ display: flex; }} .story p {{ line-height: 1.5; }}</style>
<script>window.dataLayer = window.dataLayer || []; function track(e) {{ dataLayer.push(e); }} track('view');</script>
{json_ld}</head>
<body>
<header class="site"><nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li><li><a href="/sport">Sport</a></li><li><a href="/subscribe">Subscribe for
unlimited access</a></li></ul></nav></header>
"""
FOOT = """<aside class="most-read"><h2>Most read</h2><ol>
{most_read}</ol></aside>
<footer><p>&copy; 2017 The Daily Example. All rights reserved.</p>
<p><a href="/cookies">Cookie policy</a> | <a href="/privacy">Privacy</a> | <a href="/terms">Terms</a></p></footer>
<script src="/static/app.js"></script>
</body>
</html>
"""


def page(title: str, date: str | None, paragraphs: list[str], others: list[str], layout: int, slug: str) -> str:
    """One article as a saved web page in one of three layouts."""
    esc = html.escape
    date_meta = f'<meta property="article:published_time" content="{date}T09:30:00Z">\n' if date and layout != 1 else ""
    json_ld = ""
    if layout == 1:
        data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title}
        data |= {"datePublished": f"{date}T09:30:00Z"} if date else {}
        json_ld = f'<script type="application/ld+json">{json.dumps(data)}</script>\n'
    body = [f"<p>{esc(text)}</p>" for text in paragraphs]
    if body:  # a link and an emphasis inside the first paragraph, as sites write them
        first = esc(paragraphs[0]).split(" ")
        if len(first) > 6:
            first[1] = f'<a href="/topics/{esc(first[1].strip(",.").lower())}">{first[1]}</a>'
            first[3] = f"<em>{first[3]}</em>"
        body[0] = f"<p>{' '.join(first)}</p>"
    caption = "<figcaption>The scene on the day. Photo: Agency</figcaption>"
    figure = f'<figure><img src="/img/lead.jpg" alt="">{caption}</figure>'
    body.insert(min(2, len(body)), figure)
    byline = '<p class="byline">By Staff Reporter</p>'
    when = f'<time datetime="{date}">{date}</time>' if date else ""
    top = f"<header><h1>{esc(title)}</h1>{byline}{when}</header>"
    if layout == 0:
        story = f'<main><article class="story">\n{top}\n' + "\n".join(body) + "\n</article></main>\n"
    elif layout == 1:
        story = f'<main class="story">\n<h1>{esc(title)}</h1>\n' + "\n".join(body) + "\n</main>\n"
    else:
        story = f'<div class="story-body">\n<h1>{esc(title)}</h1>\n{byline}\n' + "\n".join(body) + "\n</div>\n"
    most_read = "".join(f'<li><a href="/a{i}">{esc(other)}</a></li>\n' for i, other in enumerate(others))
    head = HEAD.format(title=esc(title), date_meta=date_meta, json_ld=json_ld, slug=slug)
    saved = head + story + FOOT.format(most_read=most_read)
    if layout == 1:  # minified, as many sites serve their pages: the whole page on one line
        return saved.replace("\n", "")
    if layout == 2:  # a CMS that wraps its source at 100 columns, inside paragraphs too
        return "\n".join(textwrap.fill(line, 100, break_long_words=False) for line in saved.split("\n")) + "\n"
    return saved


def main(source: Path, target: Path) -> None:
    corpus = load_corpus(source)
    files = sorted(p for p in corpus.articles.rglob("*") if p.is_file() and not p.name.startswith("."))
    parsed = {}
    for path in files:
        raw = path.read_text(encoding="utf-8")
        art = parse_article(raw)
        texts = [clean_text(raw[s:e]) for s, e in art.paragraphs]
        parsed[path] = (art.title or texts[0][:80], art.date, texts)
    titles = [title for title, _, _ in parsed.values()]
    (target / "articles").mkdir(parents=True, exist_ok=True)
    renamed = {}
    for i, (path, (title, date, texts)) in enumerate(parsed.items()):
        name = path.relative_to(corpus.articles).with_suffix(".html")
        renamed[path.relative_to(corpus.articles).as_posix()] = name.as_posix()
        others = [titles[(i + j) % len(titles)] for j in (7, 13, 29, 41)]
        (target / "articles" / name).parent.mkdir(parents=True, exist_ok=True)
        (target / "articles" / name).write_text(page(title, date, texts, others, i % 3, name.stem), encoding="utf-8")
    copy_questions(corpus, renamed, target)
    print(f"Wrote {len(parsed)} web pages and the gold questions to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: web_pages.py CORPUS_FOLDER TARGET_FOLDER")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
