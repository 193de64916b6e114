"""Read Parquet exports as articles: one per row, a batch of rows at a time.

Data teams hand archives over as Parquet as often as CSV. The columns are found by name as in
a CSV export (`rag.index.columns`, RAG_EXPORT_COLUMNS), and only those are read, so a wide
table's other columns (images, embeddings) cost nothing. Memory follows the file's row groups:
pyarrow reads a row group's columns at once, then hands them over `BATCH_ROWS` rows at a time.
Typed dates (timestamps, dates) are written as ISO dates by Arrow itself, so a date out of
Python's range cannot stop the file. Rows are numbered from 1 ("row 3" is the third article;
a CSV's row numbers count its header line).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.index.columns import SETTING, Columns
from rag.index.exports import articles_of_rows, no_text_column
from rag.index.extracted import ExtractedText, Extraction, Unreadable

#: Rows converted to Python at a time: a few megabytes of news text.
BATCH_ROWS = 256
MAGIC = b"PAR1"


def read_parquet(path: Path, columns: Columns) -> Extraction:
    """A Parquet export, one article per row, read as they are taken."""
    extraction = Extraction(many=True)
    extraction.articles = _rows(path, columns, extraction.notes)
    return extraction


def _rows(path: Path, columns: Columns, notes: list[tuple[str, str]]) -> Iterator[ExtractedText]:
    import pyarrow
    import pyarrow.parquet

    number = 0
    try:
        with pyarrow.parquet.ParquetFile(path) as table:
            schema = table.schema_arrow
            found = columns.find(schema.names)
            if "text" not in found:
                raise no_text_column(schema.names, columns)
            kind = schema.field(found["text"]).type
            if not _is_text(kind):
                raise Unreadable(
                    f"its text column {found['text']!r} holds {kind}, not text: name another with {SETTING}=text=COLUMN"
                )

            def rows() -> Iterator[tuple[str, dict[str, object]]]:
                nonlocal number
                for batch in table.iter_batches(batch_size=BATCH_ROWS, columns=sorted(set(found.values()))):
                    for row in _dated(batch, found.get("date")).to_pylist():
                        number += 1
                        yield f"row {number}", row

            yield from articles_of_rows(rows(), found, notes)
    except pyarrow.ArrowException as exc:
        where = f" after row {number:,}" if number else ""
        raise Unreadable(f"broken Parquet file{where} ({exc}): fix or re-export the file") from None


def _is_text(kind: Any) -> bool:
    import pyarrow.types as types

    if types.is_dictionary(kind):
        kind = kind.value_type
    return bool(types.is_string(kind) or types.is_large_string(kind))


def _dated(batch: Any, column: str | None) -> Any:
    """The batch with its typed date column written as ISO dates (text dates are left as they are)."""
    import pyarrow.compute
    import pyarrow.types as types

    if column is None:
        return batch
    values = batch.column(column)
    if not (types.is_timestamp(values.type) or types.is_date(values.type)):
        return batch
    at = batch.schema.get_field_index(column)
    return batch.set_column(at, column, pyarrow.compute.strftime(values, format="%Y-%m-%d"))
