"""Where an answer came from, in the places OpenAI clients look.

Three forms, because clients differ in what they keep:

- `annotations` of type `url_citation` on the message (OpenAI's own convention, which the
  official client and litellm keep): one per `[n]` marker, its `start_index`/`end_index`
  the marker's place in the content, with the article's URL and headline;
- the extra `citations` field (the full quote, offsets and date), for clients that keep
  unknown fields;
- a short sources list at the end of the content ("Sources:" then "[1] headline, date"),
  which every client shows, since it is text. A request option or a setting turns it off.

An article's URL is the one its file gives (a front-matter `url`, an "Original url:" line,
a saved page's canonical link, a feed item's link, an export row's url column), read with the
indexer's parser. An article without one is
referred to by its file name in the seeds folder.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from rag.citations import safe_path
from rag.models import Citation
from rag.prompts import fill, template

_MARKER = re.compile(r"\[(\d+)\]")
#: The sources list as the end of an assistant message a client sends back as history.
_LIST = re.compile(
    r"\n\n" + re.escape(template("sources_list").split("{lines}")[0]) + r"(?:(?:\[\d+\])+ [^\n]*(?:\n|\Z))+\Z"
)


class ArticleLinks:
    """The URL each source file gives, parsed once per file version (size and mtime)."""

    def __init__(self, seeds_dir: Path) -> None:
        self.seeds_dir = seeds_dir
        self._found: dict[str, tuple[tuple[int, int], str | None]] = {}
        self._lock = threading.Lock()

    def url(self, source: str) -> str:
        """The article's URL when its file gives one, else its file name (a reference into the seeds folder)."""
        return self._parsed_url(source) or source

    def _parsed_url(self, source: str) -> str | None:
        from rag.citations import read_source
        from rag.index.extracted import split_name
        from rag.index.parsing import parse_article

        path = safe_path(self.seeds_dir, source) or safe_path(self.seeds_dir, split_name(source)[0])
        if path is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        version = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            known = self._found.get(source)
        if known is not None and known[0] == version:
            return known[1]
        raw = read_source(self.seeds_dir, source)  # an article of an export or feed has its own link
        url = parse_article(raw).url if raw is not None else None
        with self._lock:
            self._found[source] = (version, url)
        return url


def url_citations(content: str, citations: list[Citation], links: ArticleLinks) -> list[dict[str, Any]]:
    """One `url_citation` per `[n]` marker of a cited number in `content`, in order."""
    by_number = {c.number: c for c in citations}
    found = []
    for marker in _MARKER.finditer(content):
        citation = by_number.get(int(marker.group(1)))
        if citation is None:
            continue
        found.append(
            {
                "type": "url_citation",
                "url_citation": {
                    "start_index": marker.start(),
                    "end_index": marker.end(),
                    "url": links.url(citation.source),
                    "title": citation.title or citation.source,
                },
            }
        )
    return found


def sources_list(citations: list[Citation]) -> str:
    """The list that ends the content ("Sources:", then "[1][2] headline, date"), one line per cited article."""
    if not citations:
        return ""
    articles: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.number):
        articles.setdefault(c.source, []).append(c)
    lines = []
    for cited in articles.values():
        first = cited[0]
        markers = "".join(f"[{c.number}]" for c in cited)
        name = first.title or first.source
        lines.append(f"{markers} {name}, {first.date}" if first.date else f"{markers} {name}")
    return "\n\n" + fill("sources_list", lines="\n".join(lines))


def without_sources_list(content: str) -> str:
    """An assistant message as the pipeline should see it in the history: without our sources list."""
    return _LIST.sub("", content)


def cited_in(content: str, citations: list[Citation]) -> list[Citation]:
    """The citations whose marker is still in `content` (after a `max_tokens` cut)."""
    numbers = {int(m.group(1)) for m in _MARKER.finditer(content)}
    return [c for c in citations if c.number in numbers]
