"""Read Parquet exports as articles: one per row, a batch of rows at a time.

Data teams hand archives over as Parquet as often as CSV. The columns are found by name as in
a CSV export (`rag.index.columns`, RAG_EXPORT_COLUMNS), and only those are read, so a wide
table's other columns (images, embeddings) cost nothing. Typed dates (timestamps, dates) are
written as ISO dates; a row whose text is empty or not a string is noted and skipped.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

from rag.index.columns import Columns
from rag.index.exports import article_of_row, no_text_column
from rag.index.extracted import ExtractedText, Extraction, Unreadable

#: Rows converted to Python at a time: a few megabytes of news text.
BATCH_ROWS = 256
MAGIC = b"PAR1"


def read_parquet(path: Path, columns: Columns) -> Extraction:
    """A Parquet export, one article per row, read as they are taken."""
    extraction = Extraction(many=True)
    extraction.articles = _rows(path, columns, extraction.notes)
    return extraction


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _rows(path: Path, columns: Columns, notes: list[tuple[str, str]]) -> Iterator[ExtractedText]:
    import pyarrow
    import pyarrow.parquet

    number = 0
    found_any = False
    try:
        table = pyarrow.parquet.ParquetFile(path)
        names = table.schema_arrow.names
        found = columns.find(names)
        if "text" not in found:
            raise no_text_column(names, columns)
        for batch in table.iter_batches(batch_size=BATCH_ROWS, columns=sorted(set(found.values()))):
            for row in batch.to_pylist():
                number += 1
                article = article_of_row({k: _plain(v) for k, v in row.items()}, found, f"row {number}")
                if article is None:
                    notes.append((f"row {number}", f"empty {found['text']!r} column"))
                else:
                    found_any = True
                    yield article
    except (pyarrow.ArrowException, OSError) as exc:
        where = f" after row {number:,}" if number else ""
        raise Unreadable(f"broken Parquet file{where} ({exc}): fix or re-export the file") from None
    if not found_any:
        raise Unreadable("no row with text")
