"""Split a news database's text export into its articles.

Archive services export a search as one text file of many articles, each opened by a
"Document 3 of 25" line and closed by "End of Document". Each becomes an article of its own:
its first line is its headline, its date the first date line (or its Load-Date), and the
export's labelled metadata lines (Length:, Byline:, Section:, Load-Date:, Copyright …) are
left out of its story.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.index.extracted import ExtractedText, Extraction, Unreadable
from rag.index.lines import as_date, clean_text

_OPENS = re.compile(r"(?im)^[ \t]*Document[ \t]+(\d+)[ \t]+of[ \t]+(\d+)[ \t]*$")
_CLOSES = re.compile(r"(?im)^[ \t]*End of Document[ \t]*$")
_LABELLED = re.compile(
    r"(?i)^(?:length|byline|section|load-date|language|publication-type|journal-code|document-type|graphic|"
    r"highlight|dateline|subject|geographic|organization|company|industry|person|ticker|notes|correction-date|"
    r"distribution|word count|edition|accession number|copyright)\s*:|^copyright\b|^©|^body$|^\(c\)\s"
)
_LOAD_DATE = re.compile(r"(?i)^load-date\s*:\s*(.+)$")


def looks_like_export(text: str) -> bool:
    """True for a text file holding "Document N of M" … "End of Document" articles."""
    return _OPENS.search(text) is not None and _CLOSES.search(text) is not None


def read_export(text: str) -> Extraction:
    """One article per document of the export (see the module's docstring), split as they are taken."""
    extraction = Extraction(many=True)
    extraction.articles = _documents(text, extraction.notes)
    return extraction


def _documents(text: str, notes: list[tuple[str, str]]) -> Iterator[ExtractedText]:
    found_any = False
    opens = list(_OPENS.finditer(text))
    for i, match in enumerate(opens):
        end = opens[i + 1].start() if i + 1 < len(opens) else len(text)
        closing = _CLOSES.search(text, match.end(), end)
        where = f"document {match.group(1)} of {match.group(2)}"
        article = _document(text[match.end() : closing.start() if closing else end], where)
        if article is None:
            notes.append((where, "no text"))
        else:
            found_any = True
            yield article
    if not found_any:
        raise Unreadable("no document with text in the export")


def _document(segment: str, where: str) -> ExtractedText | None:
    lines = [" ".join(line.split()) for line in segment.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        return None
    date = None
    kept: list[str] = []
    for line in lines:
        load = _LOAD_DATE.match(line)
        if load:
            date = date or as_date(load.group(1).strip(), labelled=True)
        if _LABELLED.match(line):
            continue
        date = date or (as_date(line) if len(kept) < 6 else None)
        kept.append(line)
    if len(kept) < 2:
        return None
    return ExtractedText("\n\n".join(kept), headline=clean_text(kept[0]) or None, published=date, where=where)
