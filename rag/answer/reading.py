"""Evidence as the trained reader sees it (`rag.reader`): reranked, with a claim and a confidence.

The evidence score (`rag.answer.scoring`) finds candidates; the reader reads each with its
neighbours and says how likely it is to answer the question, and which of its words are the
answer. The reader's probability for the best sentence is the answer's confidence, and two
calibrated thresholds turn it into one of three outcomes: a claim with its quotes, passages
that may answer (no claim), or a refusal with the closest passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.scoring import Evidence
from rag.models import Chunk
from rag.reader.model import Reader, Reading

#: Characters trimmed from the ends of a span before it becomes the answer line.
TRIM = " \t,.;:!?\"'“”‘’()[]"


@dataclass(frozen=True)
class Read:
    """A candidate with the reader's view of it."""

    evidence: Evidence
    reading: Reading

    @property
    def chunk(self) -> Chunk:
        return self.evidence.chunk

    @property
    def answers(self) -> float:
        return self.reading.answers

    def claim(self) -> str | None:
        """The answer span as the sentence words it, or None when the reader found none."""
        if self.reading.span is None:
            return None
        start, end = self.reading.span
        phrase = self.chunk.text[start:end].strip(TRIM)
        return phrase or None


#: Candidates the reader reads, the evidence score's best first: each costs about 4 ms on two cores.
READ = 8


def read(reader: Reader, query: str, scored: Sequence[Evidence], limit: int = READ) -> list[Read]:
    """The best `limit` candidates read and sorted by the reader's probability, best first (each text once)."""
    unique: list[Evidence] = []
    for ev in scored:
        if len(unique) == limit:
            break
        if all(ev.chunk.text != seen.chunk.text for seen in unique):
            unique.append(ev)
    readings = reader.read(query, [ev.chunk.text for ev in unique], [ev.chunk.context for ev in unique])
    found = [Read(ev, reading) for ev, reading in zip(unique, readings, strict=True)]
    return sorted(found, key=lambda r: r.answers, reverse=True)
