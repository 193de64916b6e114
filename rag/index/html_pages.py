"""Read a saved web page as an article: headline, date, URL and the story's paragraphs.

People keep news as pages saved from a browser as often as plain text. Read as text, such a
page gave "<!DOCTYPE html>" for a headline, the menu and the "Most read" links for sentences,
and lost the story's paragraphs among the markup. Here the page is parsed with the standard
library's HTML parser, which tolerates broken markup and reports where each piece of text
sits in the file, so paragraphs stay ranges of the raw file and every quote from them still
verifies against it (`rag.index.lines`: markup inside a quote is removed for display).

What is kept: the text of the page's story (inside <article>, <main> or an element marked
articleBody, when the page has one; else its whole body), outside navigation, headers,
footers, asides, forms, figures and scripts. Each paragraph then goes through the same
sorting as a text file's lines (headings, captions and credits are left out and listed by
`rag index --verbose`). The headline, date and URL come from the page's metadata (Open Graph,
schema.org JSON-LD, <title>, <time>, the canonical link), as news sites write them.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from rag.index.lines import ParsedArticle, clean_text, field_date, read_lines

#: How a saved page begins (after any byte order mark, blank lines or XML prolog).
_PAGE_START = re.compile(
    r"\A\ufeff?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S
)
#: Elements whose text is never the story.
_SKIPPED = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "button",
        "select",
        "figure",
        "figcaption",
        "iframe",
        "object",
        "head",
        "title",
        "canvas",
        "dialog",
        "menu",
    ]
)
#: Elements that end a paragraph where they open or close; other tags (a, em, span…) are inline.
_BLOCKS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "body",
        "address",
        "details",
        "summary",
    ]
)
#: Elements without a closing tag.
_VOID = frozenset(["br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "base", "col", "embed"])
#: Metadata names that hold the publication date, most specific first.
_DATE_FIELDS = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "publishdate",
    "pubdate",
    "date",
    "dc.date.issued",
    "dc.date",
    "parsely-pub-date",
    "sailthru.date",
)
_TITLE_FIELDS = ("og:title", "twitter:title", "headline")
#: Why text in a left-out element is not the story, for `rag index --verbose`.
_WHY = {"figure": "photo caption", "figcaption": "photo caption", "nav": "page menu", "header": "page header"}


def is_html_page(raw: str) -> bool:
    """True for a file that is a saved web page rather than text that contains a few tags."""
    return _PAGE_START.match(raw[:4096]) is not None


def parse_html_page(raw: str) -> ParsedArticle:
    """The article in a saved web page (see the module's docstring)."""
    reader = _PageReader(raw)
    reader.feed(raw)
    reader.close()
    art = ParsedArticle()
    art.title = reader.field(_TITLE_FIELDS) or reader.first_heading or clean_text(reader.page_title) or None
    art.url = reader.field(("canonical", "og:url")) or None
    art.date = _date(reader.field(_DATE_FIELDS)) or _date(reader.first_time)
    readable = [p for p in reader.paragraphs if p.skipped_in is None and p.text]
    story = [p for p in readable if p.in_story] or readable
    in_story = {id(p) for p in story}
    for paragraph in reader.paragraphs:
        if paragraph.skipped_in is not None and paragraph.text:
            art.dropped.append((_WHY.get(paragraph.skipped_in, f"page {paragraph.skipped_in}"), paragraph.text))
        elif paragraph.text and id(paragraph) not in in_story:
            art.dropped.append(("outside the story", paragraph.text))
    read_lines(raw, ((p.start, p.end, p.text) for p in story), art)
    if art.title is None:
        return art
    # the page's own <h1> repeats the headline taken from its metadata: not a left-out heading
    art.dropped = [(why, text) for why, text in art.dropped if not (why == "heading" and text == art.title)]
    return art


def _date(value: str | None) -> str | None:
    return field_date(value, labelled=True) if value else None


class _Paragraph:
    """A run of text between two block tags: where it sits in the raw page, and in what."""

    def __init__(self, start: int, in_story: bool, skipped_in: str | None) -> None:
        self.start = start
        self.end = start
        self.in_story = in_story
        #: The element that keeps it out of the story ("nav", "figcaption"…), if any.
        self.skipped_in = skipped_in
        self.text = ""


#: Elements whose content is code or data, never text a person reads.
_CODE = frozenset(["script", "style", "noscript", "template", "svg", "canvas", "object"])


class _PageReader(HTMLParser):
    """Collects the paragraphs of a page with their raw offsets, and its metadata fields."""

    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=False)
        self.raw = raw
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", raw)]
        self._open: list[str] = []
        self._story_depth: list[int] = []
        self.paragraphs: list[_Paragraph] = []
        self._current: _Paragraph | None = None
        self._fields: dict[str, str] = {}
        self.page_title = ""
        self.first_heading: str | None = None
        self.first_time: str | None = None
        self._heading_from: int | None = None
        self._json_ld: list[str] = []
        self._in_json_ld = False

    def _offset(self) -> int:
        """Where the parser is, as an offset into the raw text."""
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or values.get("itemprop") or "").lower()
            if key and values.get("content"):
                self._fields.setdefault(key, values["content"])
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self._fields.setdefault("canonical", values.get("href", ""))
        elif tag == "time" and self.first_time is None and values.get("datetime"):
            self.first_time = values["datetime"]
        elif tag == "script" and "ld+json" in values.get("type", "").lower():
            self._json_ld.append("")
            self._in_json_ld = True
        if tag in _BLOCKS or tag in _SKIPPED:
            self._close_paragraph()
        if tag in _VOID:
            return
        if (
            tag in ("article", "main")
            or "articlebody" in values.get("itemprop", "").lower()
            or values.get("role") == "main"
        ):
            self._story_depth.append(len(self._open))
        if tag == "h1" and self.first_heading is None:
            self._heading_from = len(self.paragraphs)
        self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS or tag in _SKIPPED:
            self._close_paragraph()
        if tag == "script":
            self._in_json_ld = False
        if tag not in self._open:
            return  # a stray closing tag
        while self._open:
            closed = self._open.pop()
            if self._story_depth and self._story_depth[-1] >= len(self._open):
                self._story_depth.pop()
            if closed == "h1" and self._heading_from is not None:
                words = " ".join(p.text for p in self.paragraphs[self._heading_from :])
                self.first_heading, self._heading_from = words or None, None
            if closed == tag:
                break

    def handle_data(self, data: str) -> None:
        inside = self._open[-1] if self._open else ""
        if inside == "title":
            self.page_title += data
        elif self._in_json_ld:
            self._json_ld[-1] += data
        elif inside not in _CODE:
            self._text(self._offset(), len(data), bool(data.strip()))

    def handle_entityref(self, name: str) -> None:
        self._reference(f"&{name}")

    def handle_charref(self, name: str) -> None:
        self._reference(f"&#{name}")

    def _reference(self, written: str) -> None:
        """A character reference ("&amp;", "&#x27;"): text of the paragraph or the page's title."""
        start = self._offset()
        length = len(written) + (1 if self.raw.startswith(f"{written};", start) else 0)
        if self._open and self._open[-1] == "title":
            self.page_title += self.raw[start : start + length]
        else:
            self._text(start, length, True)

    def _text(self, start: int, length: int, visible: bool) -> None:
        """Extend the open paragraph over text at `start` (a paragraph opens at visible text)."""
        if self._current is None:
            if not visible:
                return
            skipped_in = next((tag for tag in reversed(self._open) if tag in _SKIPPED), None)
            self._current = _Paragraph(start, bool(self._story_depth), skipped_in)
        self._current.end = start + length

    def _close_paragraph(self) -> None:
        if self._current is not None:
            paragraph, self._current = self._current, None
            paragraph.end = paragraph.start + len(self.raw[paragraph.start : paragraph.end].rstrip())
            paragraph.text = clean_text(self.raw[paragraph.start : paragraph.end])
            self.paragraphs.append(paragraph)

    def close(self) -> None:
        super().close()
        self._close_paragraph()
        for block in self._json_ld:
            self._read_json_ld(block)

    def _read_json_ld(self, block: str) -> None:
        """schema.org NewsArticle fields (headline, datePublished, url) from a JSON-LD script."""
        try:
            data: Any = json.loads(block)
        except ValueError:
            return
        items = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for item in items:
            if not isinstance(item, dict):
                continue
            for key, field in (("headline", "headline"), ("datePublished", "datepublished"), ("url", "og:url")):
                value = item.get(key)
                if isinstance(value, str) and value.strip():
                    self._fields.setdefault(field, value)

    def field(self, names: tuple[str, ...]) -> str | None:
        """The first metadata field present among `names`, its value cleaned."""
        for name in names:
            value = self._fields.get(name)
            if value and value.strip():
                return clean_text(value)
        return None


def html_paragraphs(markup: str) -> list[str]:
    """The readable paragraphs of an HTML page or fragment (an e-mail's or a feed item's body), as text.

    Menus, scripts and other left-out elements are dropped as for a saved page."""
    reader = _PageReader(markup)
    reader.feed(markup)
    reader.close()
    return [p.text for p in reader.paragraphs if p.skipped_in is None and p.text]
