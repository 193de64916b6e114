"""Ground an LLM's answer: map its [n] markers to exact, verifiable source sentences.

The model cites passages (a sentence with its neighbours); a person needs the sentence.
For each cited passage we quote the sentence that shares the most of the answer
sentence's content words, so the quote is exact source text with offsets that verify.
Markers pointing at no passage are dropped; answer sentences left without support are
listed in `Answer.unsupported` so the interfaces can flag them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.lexicon import Lexicon, coverage
from rag.index.chunking import split_sentences
from rag.models import Chunk
from rag.prompts import fill

_MARKERS = re.compile(r"\s*(\[\d{1,3}\])+")
_ONE = re.compile(r"\[(\d{1,3})\]")
#: Least share of an answer sentence's content words a quote must contain to support it.
MIN_SUPPORT = 0.2


@dataclass(frozen=True)
class Passage:
    """What the model sees as [number]: a retrieved sentence with its neighbours."""

    number: int
    hit: Chunk
    sentences: tuple[Chunk, ...]

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.sentences)


def render_passages(passages: Sequence[Passage]) -> str:
    """The passages block of the prompt, each tagged as data with its article's metadata."""
    return "\n\n".join(
        fill(
            "passage",
            number=p.number,
            source=p.hit.source,
            title=(p.hit.title or "untitled").replace('"', "'"),
            date=p.hit.date or "unknown",
            text=p.text.replace("</passage>", "</ passage>"),
        )
        for p in passages
    )


@dataclass
class Grounded:
    """An answer text with renumbered markers and what its citations point at."""

    text: str
    quotes: list[Chunk]
    unsupported: list[str]


def ground(reply: str, passages: Sequence[Passage], lexicon: Lexicon) -> Grounded:
    """Keep supported markers, renumber them 1..m, and find the quote behind each."""
    by_number = {p.number: p for p in passages}
    quotes: list[Chunk] = []
    pieces: list[str] = []
    unsupported: list[str] = []
    for start, end in split_sentences(reply, 0, len(reply)):
        sentence = reply[start:end]
        claim = _MARKERS.sub("", sentence).strip()
        numbers: list[int] = []
        terms = lexicon.terms(claim)
        for n in dict.fromkeys(int(m) for m in _ONE.findall(sentence)):
            passage = by_number.get(n)
            if passage is None:
                continue
            best, support = _best_quote(terms, passage, lexicon)
            if support < MIN_SUPPORT:
                continue
            if best not in quotes:
                quotes.append(best)
            numbers.append(quotes.index(best) + 1)
        if not numbers and terms:
            unsupported.append(claim)
        marks = "".join(f"[{n}]" for n in dict.fromkeys(numbers))
        pieces.append(_place(claim, marks))
    return Grounded(text=" ".join(p for p in pieces if p), quotes=quotes, unsupported=unsupported)


def _best_quote(terms: list[str], passage: Passage, lexicon: Lexicon) -> tuple[Chunk, float]:
    scored = [(coverage(terms, set(lexicon.terms(c.text)), lexicon), c) for c in passage.sentences]
    support, best = max(scored, key=lambda sc: sc[0])
    return best, support


def _place(claim: str, marks: str) -> str:
    """Put markers before the sentence's final punctuation: "… Medinsky [1]."."""
    if not marks:
        return claim
    if claim and claim[-1] in ".!?":
        return f"{claim[:-1].rstrip()} {marks}{claim[-1]}"
    return f"{claim} {marks}"
