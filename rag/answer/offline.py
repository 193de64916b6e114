"""The offline answerer: quote the sentences that answer, or refuse.

With no LLM, the honest answer is the article's own words: the best sentences by the
evidence score (`rag.answer.scoring`) that hold the kind of answer asked for, or a plain
refusal below the calibrated threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from rag.answer.followup import condense_offline
from rag.answer.protocol import Question
from rag.answer.scoring import Evidence, unknown_names
from rag.answer.snapshot import IndexSnapshot
from rag.citations import cite, still_in_files
from rag.index.parsing import clean_text
from rag.models import Answer, Chunk, Done, Event, TextDelta
from rag.prompts import fill

#: Further sentences are quoted when their score is this close to the best one.
RUNNER_UP_MARGIN = 0.12
MAX_SENTENCES = 3

#: Openings that refer back to the sentence before ("She said the measures would target...").
_REFERS_BACK = re.compile(r"^(?:He|She|They|This|These|Those)\b")


def select_evidence(scored: Sequence[Evidence], threshold: float, limit: int = MAX_SENTENCES) -> list[Evidence]:
    """The sentences to quote: the best one, plus close runners-up; empty means refuse.

    Only sentences with the kind of answer asked for are quoted: "How old is Medinsky?" is
    refused when no sentence about him states an age, however close they are in meaning.
    """
    scored = [ev for ev in scored if ev.typed]
    if not scored or scored[0].score < threshold:
        return []
    chosen = [scored[0]]
    for ev in scored[1:]:
        if len(chosen) == limit or ev.score < scored[0].score - RUNNER_UP_MARGIN:
            break
        if all(ev.chunk.text != c.chunk.text for c in chosen):
            chosen.append(ev)
    return chosen


def continues(following: Chunk) -> bool:
    """True when a sentence only makes sense with the one before it, so a quote should include it.

    "Von der Leyen said the EU was preparing a new sanctions package." is followed by "She
    said the measures would target the shadow fleet...": the answer is in the second.
    """
    return bool(_REFERS_BACK.match(following.text))


def spanning(first: Chunk, following: Chunk) -> Chunk:
    """One quote spanning two consecutive sentences of an article."""
    return first.model_copy(update={"end": following.end, "text": f"{first.text} {following.text}"})


def with_continuations(kept: list[tuple[Chunk, str]], snapshot: IndexSnapshot) -> list[tuple[Chunk, str]]:
    """Quotes extended by a following sentence that refers back to them (see `continues`)."""
    quoted = {chunk.id for chunk, _ in kept}
    extended = []
    for chunk, raw in kept:
        following = snapshot.sentence(chunk.source, chunk.position + 1)
        if (
            following is not None
            and following.id not in quoted
            and continues(following)
            and clean_text(raw[following.start : following.end]) == following.text
        ):
            chunk = spanning(chunk, following)
        extended.append((chunk, raw))
    return extended


def quoted_text(quotes: Sequence[Chunk]) -> str:
    """The answer text: each quoted sentence followed by its [n] marker."""
    return " ".join(f"{chunk.text} [{i}]" for i, chunk in enumerate(quotes, 1))


class OfflineAnswerer:
    """Extractive answers with verified citations; needs no model beyond the embedder."""

    mode = "offline"

    def __init__(self, refusal_threshold: float) -> None:
        self.refusal_threshold = refusal_threshold

    def stream(self, question: Question, snapshot: IndexSnapshot) -> Iterator[Event]:
        answer = self.answer(question, condense_offline(question.text, question.history), snapshot)
        yield TextDelta(answer.text)
        yield Done(answer)

    def answer(self, question: Question, query: str, snapshot: IndexSnapshot, notice: str | None = None) -> Answer:
        """The extractive answer to `query` (the standalone form of the question), or a refusal."""
        scored = snapshot.evidence(query, question.where)
        refuse = unknown_names(query, snapshot.lexicon)
        evidence = [] if refuse else select_evidence(scored, self.refusal_threshold)
        shown = [ev.chunk.model_copy(update={"score": round(ev.score, 4)}) for ev in scored[: question.k]]
        kept, stale = still_in_files(snapshot.seeds_dir, [ev.chunk for ev in evidence])
        kept = with_continuations(kept, snapshot)
        notes = [n for n in (notice, fill("stale_index", files=", ".join(stale)) if stale else None) if n]
        base = Answer(question=question.text, query=query, text=fill("refusal"), refused=True, sources=shown,
                      notice=" ".join(notes) or None)
        if not kept:
            return base
        citations = [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]
        text = quoted_text([chunk for chunk, _ in kept])
        return base.model_copy(update={"text": text, "citations": citations, "refused": False})
