"""Read CSV, TSV and JSON Lines exports as articles: one per row (Parquet: `parquet_files`).

A newsroom's archive often leaves its system as a table. The columns that hold each
article's headline, date, link and text are found by name, or named by RAG_EXPORT_COLUMNS
(`rag.index.columns`). A file is read row by row, never whole. A row whose bytes are not UTF-8
(exports glued together from several systems mix encodings) is read as Windows-1252, and
the file's notes say how many were.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from rag.index.columns import SETTING, Columns
from rag.index.extracted import ExtractedText, Extraction, Unreadable
from rag.index.html_pages import html_paragraphs
from rag.index.lines import clean_text, field_date

#: Longest field a CSV row may hold: far above any article, low enough to catch a broken quote.
MAX_FIELD = 20_000_000
_MARKUP = re.compile(r"<(?:p|br|div|h[1-6]|li)[\s/>]", re.I)


def no_text_column(seen: Iterable[str], columns: Columns) -> Unreadable:
    """Why an export is skipped when no column holds the text: its columns, and the setting that names one."""
    shown = ", ".join(repr(name) for name in list(seen)[:30]) or "none"
    chosen = dict(columns.chosen).get("text")
    missing = f"no column named {chosen!r} (set by {SETTING})" if chosen else "no text column"
    return Unreadable(f"{missing} among its columns ({shown}): name it with {SETTING}=text=COLUMN")


def article_of_row(row: Mapping[str, object], found: dict[str, str], where: str) -> ExtractedText | None:
    """One row's article (CSV, JSON Lines or Parquet), or None when its text column is empty."""
    value = row.get(found["text"])
    body = value if isinstance(value, str) else ""
    paragraphs = (
        html_paragraphs(f"<div>{body}</div>")
        if _MARKUP.search(body)
        else [" ".join(line.split()) for line in body.splitlines() if line.strip()]
    )
    if not paragraphs:
        return None

    def field(role: str) -> str:
        got = row.get(found[role]) if role in found else None
        return str(got).strip() if isinstance(got, str | int | float) else ""

    date = field("date")
    return ExtractedText(
        "\n\n".join(paragraphs),
        headline=clean_text(field("title")) or None,
        published=(field_date(date, labelled=True) if date else None),
        link=field("url") or None,
        where=where,
    )


def articles_of_rows(
    rows: Iterable[tuple[str, Mapping[str, object]]], found: dict[str, str], notes: list[tuple[str, str]]
) -> Iterator[ExtractedText]:
    """Each (where, row)'s article, noting rows whose text column is empty; Unreadable when none has text."""
    found_any = False
    for where, row in rows:
        article = article_of_row(row, found, where)
        if article is None:
            notes.append((where, f"empty {found['text']!r} column"))
        else:
            found_any = True
            yield article
    if not found_any:
        raise Unreadable("no row with text")


class _Lines:
    """A binary file's lines as text: UTF-8, else Windows-1252 for the lines that are not."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.guessed = 0

    def __iter__(self) -> Iterator[str]:
        with self.path.open("rb") as handle:
            for n, line in enumerate(handle):
                if n == 0 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError:
                    self.guessed += 1
                    yield line.decode("cp1252", errors="replace")

    def note(self, notes: list[tuple[str, str]]) -> None:
        if self.guessed:
            were = "line was" if self.guessed == 1 else "lines were"
            notes.append(("encoding", f"{self.guessed:,} {were} not UTF-8 and read as Windows-1252"))


def read_table(path: Path, columns: Columns) -> Extraction:
    """A CSV or TSV export, one article per row, read as they are taken (see the module's docstring)."""
    extraction = Extraction(many=True)
    extraction.articles = _rows(path, columns, extraction.notes)
    return extraction


def _rows(path: Path, columns: Columns, notes: list[tuple[str, str]]) -> Iterator[ExtractedText]:
    lines = _Lines(path)
    first = next(iter(lines), "")
    delimiter = "\t" if path.suffix.lower() == ".tsv" or first.count("\t") > first.count(",") else ","
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(iter(lines), delimiter=delimiter, strict=True)
    try:
        header = next(reader, [])
        found = columns.find(header)
        if "text" not in found:
            raise no_text_column(header, columns)
        positions = {name: i for i, name in reversed(list(enumerate(header)))}
        rows = (
            (f"row {number}", {name: cells[i] for name, i in positions.items() if i < len(cells)})
            for number, cells in enumerate(reader, 2)
            if any(cell.strip() for cell in cells)
        )
        yield from articles_of_rows(rows, found, notes)
    except csv.Error as exc:
        raise Unreadable(f"broken CSV near line {reader.line_num:,} ({exc}): fix or re-export the file") from None
    finally:
        lines.note(notes)


def read_json_lines(path: Path, columns: Columns) -> Extraction:
    """A JSON Lines export, one article per line holding an object with a text field, read as they are taken."""
    extraction = Extraction(many=True)
    extraction.articles = _objects(path, columns, extraction.notes)
    return extraction


def _objects(path: Path, columns: Columns, notes: list[tuple[str, str]]) -> Iterator[ExtractedText]:
    lines = _Lines(path)
    seen: dict[str, None] = {}
    found_any = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            notes.append((where, f"not JSON ({exc})"))
            continue
        if not isinstance(row, dict):
            notes.append((where, "not a JSON object"))
            continue
        if len(seen) < 100:
            seen.update(dict.fromkeys(row))
        found = columns.find(row)
        article = article_of_row(row, found, where) if "text" in found else None
        if article is None:
            notes.append((where, "no text field"))
        else:
            found_any = True
            yield article
    lines.note(notes)
    if not found_any:
        raise (
            no_text_column(seen, columns)
            if seen and "text" not in columns.find(seen)
            else Unreadable("no line with text")
        )
