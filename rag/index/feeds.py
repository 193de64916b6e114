"""Read an RSS or Atom feed file as articles: one per item, with its title, date and link.

feedparser reads every flavour of feed; the bytes are first parsed by defusedxml, which
refuses entity declarations, so a feed that would expand entities a billion times or read
a file of this machine through an external entity is refused before feedparser sees it.
Each item's text is its full content when the feed carries it, else its summary, read as
HTML paragraphs.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from rag.index.extracted import ExtractedText, Extraction, Unreadable
from rag.index.html_pages import html_paragraphs
from rag.index.lines import clean_text

#: How a feed file begins (after any byte order mark, XML prolog or comments).
_FEED_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)?"
    rb"(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)[\s>]",
    re.S,
)
#: Feeds larger than this are refused: feedparser reads a feed whole.
MAX_FEED_BYTES = 50_000_000


def looks_like_feed(head: bytes) -> bool:
    return _FEED_START.match(head) is not None


def read_feed(path: Path) -> Extraction:
    """One article per item with text (see the module's docstring)."""
    import defusedxml
    import defusedxml.ElementTree
    import feedparser

    size = path.stat().st_size
    if size > MAX_FEED_BYTES:
        raise Unreadable(f"feed too large ({size:,} bytes; the limit is {MAX_FEED_BYTES:,})")
    data = path.read_bytes()
    try:
        defusedxml.ElementTree.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        raise Unreadable(
            f"refused: the feed declares XML entities ({exc.__class__.__name__}), "
            "which can expand without bound or read local files"
        ) from None
    except defusedxml.ElementTree.ParseError as exc:
        if b"<!ENTITY" in data:
            raise Unreadable("refused: the feed declares XML entities") from None
        problem = str(exc)  # feedparser reads many broken feeds; say why if it cannot
    else:
        problem = ""
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=True)
    articles: list[ExtractedText] = []
    extraction = Extraction(articles, many=True)
    for number, entry in enumerate(parsed.entries, 1):
        where = f"item {number}"
        markup = (entry.get("content") or [{}])[0].get("value") or entry.get("summary") or ""
        paragraphs = html_paragraphs(f"<div>{markup}</div>")
        if not paragraphs:
            extraction.notes.append((where, "no text in the item"))
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        articles.append(
            ExtractedText(
                "\n\n".join(paragraphs),
                headline=clean_text(entry.get("title", "")) or None,
                published=time.strftime("%Y-%m-%d", when) if when else None,
                link=entry.get("link") or None,
                where=where,
            )
        )
    if not articles:
        raise Unreadable(f"no item with text in the feed{f' ({problem})' if problem else ''}")
    return extraction
