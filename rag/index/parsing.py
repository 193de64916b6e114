"""Read an article file: its metadata and body paragraphs, whatever its format.

A saved web page goes to `rag.index.html_pages`; a text or Markdown file has its YAML front
matter and its ` date YYYY-MM-DD ` prefix (glued to the first line of the seed files) read
here, and its lines sorted by `rag.index.lines`. Parsing never rewrites the text: it returns
character ranges into the raw file, so every quote built from them can be checked against
the file byte for byte.
"""

from __future__ import annotations

import datetime
import re

from rag.index.extracted import ExtractedText
from rag.index.html_pages import is_html_page, parse_html_page
from rag.index.lines import URL_LINE, ParsedArticle, clean_text, field_date, read_lines

_DATE_PREFIX = re.compile(r"\A\s*date (\d{4}-\d{2}-\d{2})[ \t]+")
#: A YAML front matter block opening a Markdown file (Hugo, Jekyll, exported CMS pages).
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(?P<body>(?:.*\n){0,60}?)(?:---|\.\.\.)[ \t]*(?:\n|\Z)")
_FIELD = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$", re.M)


def _lines(raw: str, start: int):
    pos = start
    for line in raw[start:].splitlines(keepends=True):
        body = line.rstrip("\r\n")
        lead = len(body) - len(body.lstrip())
        text = body.strip()
        yield pos + lead, pos + lead + len(text), text
        pos += len(line)


def _front_matter(raw: str, art: ParsedArticle) -> int:
    """Read a leading YAML front matter block into the title, date and URL; where the text after it starts.

    Parsed with PyYAML, so quoted titles come out as written ("'Huge advance' in…", "Trump's
    ban" from 'Trump''s ban'); a block YAML cannot read falls back to its flat `key: value`
    lines. The block is reported as left out.
    """
    match = _FRONT_MATTER.match(raw)
    if match is None:
        return 0
    fields = _front_matter_fields(match.group("body"))
    art.title = clean_text(_text_field(fields, "title", "headline")) or None
    for key in ("date", "published", "publish_date", "pubdate", "created"):
        value = fields.get(key)
        if isinstance(value, datetime.date):  # YAML reads an unquoted 2002-08-16 as a date
            art.date = art.date or value.isoformat()[:10]
        elif isinstance(value, str):
            day = value.strip()
            art.date = art.date or field_date(day)
    url = _text_field(fields, "url", "link", "canonical_url")
    art.url = url if URL_LINE.fullmatch(url) else None
    lines = match.group("body").count("\n")
    art.dropped.append(("front matter", f"{lines} lines of metadata (title, date, …)"))
    return match.end()


def _front_matter_fields(block: str) -> dict[str, object]:
    """The front matter's top-level fields, keys lower-cased."""
    import yaml

    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        data = {m.group("key"): m.group("value").strip("'\"") for m in _FIELD.finditer(block)}
    return {str(key).lower(): value for key, value in data.items()}


def _text_field(fields: dict[str, object], *keys: str) -> str:
    """The first of `keys` that holds text (or a number: a title may be "1984")."""
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return ""


def parse_article(raw: str) -> ParsedArticle:
    """Split a raw article into metadata and body paragraph ranges (a saved web page too).

    Text a reader module extracted (`ExtractedText`) starts from the headline, date and link its
    format gave (a feed item's title, a CSV row's date column), and its lines are sorted as a
    text file's are.
    """
    if isinstance(raw, ExtractedText):
        art = ParsedArticle(title=raw.headline, date=raw.published, url=raw.link)
        read_lines(raw, _lines(raw, 0), art)
        return art
    if is_html_page(raw):
        return parse_html_page(raw)
    art = ParsedArticle()
    pos = _front_matter(raw, art)
    match = _DATE_PREFIX.match(raw, pos)
    if match:
        art.date = match.group(1)
        pos = match.end()
    read_lines(raw, _lines(raw, pos), art)
    return art


def day_number(date: str | None) -> int:
    """An ISO date as the integer Chroma can compare (2025-05-16 -> 20250516); 0 when unknown."""
    if not date:
        return 0
    digits = date.replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0
