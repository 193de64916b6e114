"""Sort an article's lines into headline, date, URL, body paragraphs and what is left out.

The rules every article format shares: a text file (`rag.index.parsing`) and a saved web
page (`rag.index.html_pages`) both hand their lines here, and both clean text and read
dates with the functions below. The seed files are scraped text with inconsistent headers
(see NOTES.md): a headline line, a `May 15, 2025` line, photo captions, `<u>` tags, a
trailing `Original url:` block, a stray `/rel`. Sorting never rewrites the text: it keeps
character ranges into the raw file, so every quote built from them can be checked against
the file byte for byte.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

URL_LINE = re.compile(r"https?://\S+")
_URL_LABEL = re.compile(r"(?i)original url:?")
#: A pointer to other stories: "Related article:", "READ MORE: Will losing oil ports end…".
_RELATED = re.compile(
    r"(?i)(?:related (?:articles?|stories|coverage)|read more|see also|also read|more on this story)\s*:"
)
#: A photo credit closing a line: "(Evgeniy Maloletka/AP)", "(Turkish Presidency via AP)", "Alexander
#: Ryumin / TASS"; the slash of a date ("(China Daily European Weekly 03/17/2017 page25)") is none.
_CAPTION = re.compile(r"(\([^()]*((?<!\d)/|/(?!\d)|\bvia\b)[^()]*\)|\s/\s*[A-Z][A-Za-z]+)\s*\Z")
_CREDIT = re.compile(r"(?i)\bcontributed (reporting|to this report)\.?\s*\Z")
_DATELINE = re.compile(r"\A[A-Z][A-Z .'-]+, [A-Z][a-z]+ \d{1,2}\. /[A-Z]+/\.\s+")
_TRAILER = re.compile(r"/rel\s*\Z")
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_SENTENCE_END = '.!?"”’):;…'
#: A Markdown heading marker ("## Reaction"): not part of the heading's words.
_HASHES = re.compile(r"\A#{1,6}\s+")
#: A date line with a label: "Published: 16 August 2002 14:05 GMT", "Updated 3:05 PM ET, Mon March 27, 2017".
_LABELLED_DATE = re.compile(
    r"(?i)\A(?:first |last )?(?:published|updated|posted|date[d]?)(?: on)?\s*:?\s+(?P<value>.{6,60})\Z"
)
#: A line longer than this is a paragraph, never a caption: a credit closing it ("… page20)",
#: "… contributed reporting.") is left out, the paragraph kept.
CAPTION_MAX = 300


@dataclass
class ParsedArticle:
    """Metadata plus the raw-text ranges of the body paragraphs."""

    title: str | None = None
    date: str | None = None
    url: str | None = None
    paragraphs: list[tuple[int, int]] = field(default_factory=list)
    #: Lines left out of the body, as (why, the line): nothing is dropped silently.
    dropped: list[tuple[str, str]] = field(default_factory=list)


_BULLET = re.compile(r"^(?:[-•*–·]|\d{1,2}[.)])\s+\S")
_YEAR_IN = re.compile(r"\b(?:19|20)\d\d\b")


def _is_heading(text: str) -> bool:
    """A short line without a closing full stop that is not a list item: a headline or section title.

    Markdown emphasis closing the line does not hide its full stop ("*…his tax returns.*")."""
    if _BULLET.match(text):
        return False
    ending = text.rstrip("*_") or text
    return ending[-1] not in _SENTENCE_END and len(text) <= 160 and len(text.split()) <= 20


def as_date(line: str, labelled: bool = False) -> str | None:
    """The ISO date a line consists of ("May 15, 2025", "12 March 2024", "2017/2/7"), or None.

    Parsed with dateutil; only short lines that hold a four-digit year count, so prose
    and headlines with a number in them are not taken for dates. After a label that says it
    is a date ("Published:"), words around it are allowed ("3:05 PM ET, Mon March 27, 2017").
    """
    if len(line) > (60 if labelled else 40) or not _YEAR_IN.search(line):
        return None
    if not any(ch.isdigit() for ch in _YEAR_IN.sub("", line)):
        return None
    from dateutil import parser

    try:
        parsed = parser.parse(line, fuzzy=labelled, dayfirst=False, ignoretz=True)
    except (ValueError, OverflowError):
        return None
    return parsed.date().isoformat()


_ISO_START = re.compile(r"\d{4}-\d\d-\d\d(?:[T ].*)?")


def field_date(value: str, labelled: bool = False) -> str | None:
    """The date a metadata field holds: its ISO day ("2017-02-07T10:00:00+01:00"), else `as_date`."""
    value = value.strip()
    return value[:10] if _ISO_START.fullmatch(value) else as_date(value, labelled=labelled)


def _line_date(text: str) -> str | None:
    """The date a line gives, bare or after a label (a label line ending like a sentence is prose)."""
    labelled = None if text.endswith((".", "!", "?")) else _LABELLED_DATE.match(text)
    return as_date(labelled.group("value"), labelled=True) if labelled else as_date(text)


def _left_out(text: str) -> str | None:
    """Why a line is not body text (a related-articles line, a photo caption or a credit), or None.

    Only a line of at most CAPTION_MAX characters can be one: a paragraph that opens with "READ
    MORE: …" and goes on for sentences is story."""
    if len(text) > CAPTION_MAX:
        return None
    if _RELATED.match(text):
        return "related articles"
    if _CAPTION.search(text):
        return "photo caption"
    if _CREDIT.search(text):
        return "credit"
    return None


#: A credit closing a long paragraph: a named source with an agency after a slash, "via" or a
#: page number ("(China Daily European Weekly 12/30/2016 page20)", "(Jane Doe/AP)"), not a
#: parenthesis that only holds figures or a link ("(2016/17)", "(www.gov.uk/statement)").
_CLOSING_CREDIT = re.compile(r"\((?=[^()]*[A-Z][a-z])[^()]*(?:/\s*[A-Z][A-Za-z]+|\bvia\b|\bpage\s*\d+)[^()]*\)\s*\Z")
#: "… on Friday. Alex Stone and Kayna Whitworth contributed to this report.": from the sentence's start.
_CONTRIBUTED = re.compile(r"(?i)(?:(?<=[.!?\"”])\s+|\A)[^.!?]*\bcontributed (?:reporting|to this report)\.?\s*\Z")


def _question_headline(text: str, after: list[tuple[int, int, str]], art: ParsedArticle, seen_body: bool) -> bool:
    """A headline that asks ("Why are Turkey and the Netherlands clashing?"): the file's first line,
    short, ending in a question or exclamation mark, with a date line right after it."""
    return (
        not seen_body
        and art.title is None
        and text.endswith(("?", "!"))
        and len(text) <= 160
        and len(text.split()) <= 20
        and bool(after)
        and _line_date(after[0][2]) is not None
    )


def _closing_credit(text: str) -> int | None:
    """Where a credit closing a paragraph starts, or None. A short line counts as a paragraph
    with a credit only when a sentence ends before the credit ("…100 million euros in the plant.
    (China Daily European Weekly 03/17/2017 page25)"); otherwise it is a caption's credit."""
    found = _CLOSING_CREDIT.search(text) or _CONTRIBUTED.search(text)
    if found is None:
        return None
    if len(text) <= CAPTION_MAX and not text[: found.start()].rstrip().endswith(tuple('.!?"”’')):
        return None
    return found.start()


def read_lines(raw: str, lines: Iterable[tuple[int, int, str]], art: ParsedArticle) -> None:
    """Sort (start, end, text) lines of `raw` into `art`: a URL, a date, a headline, body
    paragraphs, and what is left out (captions, credits, headings) with the reason.

    `text` is what the line says (for a web page, its markup removed); ranges index `raw`.
    """
    seen_body = False
    expect_url = False
    lines = [line for line in lines if line[2]]
    for i, (start, end, text) in enumerate(lines):
        if expect_url and URL_LINE.fullmatch(text):
            art.url = art.url or text
            expect_url = False
            continue
        if _URL_LABEL.fullmatch(text):
            expect_url = True
            continue
        if URL_LINE.fullmatch(text):
            art.url = art.url or text
            continue
        date = None if seen_body and art.date else _line_date(text)
        if date:
            art.date = art.date or date
            continue
        why = _left_out(text)
        if why:
            art.dropped.append((why, text))
            continue
        if _is_heading(text) or _HASHES.match(text) or _question_headline(text, lines[i + 1 : i + 2], art, seen_body):
            if not seen_body and art.title is None:
                art.title = clean_text(_HASHES.sub("", text))
            else:
                art.dropped.append(("heading", text))
            continue
        dateline = _DATELINE.match(raw[start:end])
        if dateline:
            start += dateline.end()
        trailer = _TRAILER.search(raw, start, end)
        if trailer:
            end = trailer.start()
        credit = _closing_credit(raw[start:end])
        if credit is not None:
            art.dropped.append(("credit", raw[start + credit : end].strip()))
            end = start + len(raw[start : start + credit].rstrip())
            if end == start:
                continue
        seen_body = True
        art.paragraphs.append((start, end))


def strip_tags(text: str) -> str:
    """Text with markup tags removed and everything else, whitespace included, kept."""
    return _TAG.sub("", text)


#: Markdown emphasis around words ("*Pace, Florida (CNN)…returns.*", "**Update**"), not a lone
#: "5 * 3" or the underscore inside "snake_case".
_EMPHASIS = re.compile(r"(?<![\w*_])[*_]{1,3}(?=[^\s*_])|(?<=[^\s*_])[*_]{1,3}(?![\w*_])")


def clean_text(text: str) -> str:
    """Text as shown and embedded: tags and Markdown emphasis removed, entities decoded,
    whitespace collapsed, a byte order mark (which `read_text` keeps at the start of a file) dropped."""
    return " ".join(_EMPHASIS.sub("", html.unescape(strip_tags(text))).replace("\ufeff", "").split())
