"""The answer line as the trained reader (`rag.reader`) reads it from the quoted sentences.

The evidence score (`rag.answer.scoring`) chooses the sentences to quote and whether to refuse:
on held-out news it ranks sentences better than the reader (reader-test P@1 0.534 against
0.384, eval/baselines/2026-12-03-the-reader.md). What it cannot do is read: the bold answer
line was a word-statistics guess at which phrase of the best sentence answers. The reader reads
the quoted sentences with their neighbours, and its best span becomes the line when it is sure
enough; otherwise the answer shows the passages without a claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.models import Chunk
from rag.reader.model import Reader

#: Characters trimmed from the ends of a span before it becomes the answer line.
TRIM = " \t,.;:!?\"'“”‘’()[]"


@dataclass(frozen=True)
class Line:
    """The answer line: the words of one quoted sentence, and how sure the reader is of them."""

    #: Which of the sentences read states it.
    index: int
    text: str
    confidence: float


def answer_line(reader: Reader, query: str, chunks: Sequence[Chunk]) -> Line | None:
    """The reader's best span over `chunks`, or None when it found no span in any of them.

    The caller compares `confidence` with the calibrated threshold: below it, the span is not shown.
    """
    readings = reader.read(query, [c.text for c in chunks], [c.context for c in chunks])
    spans = [(r.answers, i) for i, r in enumerate(readings) if r.span is not None]
    if not spans:
        return None
    confidence, index = max(spans, key=lambda pair: pair[0])  # the first of equals
    start, end = readings[index].span or (0, 0)
    text = chunks[index].text[start:end].strip(TRIM)
    return Line(index, text, round(confidence, 3)) if text else None
