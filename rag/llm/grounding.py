"""Ground an LLM's answer: map its citation markers to exact, verifiable source sentences.

Models cite in many styles ([1, 2], [Passage 1], (1), 【1】, a marker after the full stop…);
all of them are first rewritten to the project's `[n]` form, so one grounding rule serves
every model. The model cites passages (a sentence with its neighbours); a person needs the
sentence. For each cited passage we quote the sentence that shares the most of the answer
sentence's content words, so the quote is exact source text with offsets that verify.
Markers pointing at no passage are dropped; answer sentences left without support are
listed in `Answer.unsupported` so the interfaces can flag them (a lead-in ending in a
colon, "The delegations were:", is not a claim). Line breaks and Markdown list items are
kept, with markers placed per sentence inside each item.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rag.answer.lexicon import Lexicon, coverage
from rag.index.chunking import split_sentences
from rag.models import Chunk
from rag.prompts import fill

_MARKERS = re.compile(r"\s*(\[\d{1,3}\])+")
_ONE = re.compile(r"\[(\d{1,3})\]")
#: Least share of an answer sentence's content words a quote must contain to support it.
MIN_SUPPORT = 0.2
#: Widest range ("[1-50]") expanded into single markers; k is at most 50.
MAX_RANGE = 50

# One citation: numbers and ranges, each optionally labelled ("Passage 2"), joined by , ; & and.
_LABEL = r"(?:(?:passages?|sources?|documents?|docs?|articles?|refs?)\s*[#:]?\s*)"
_SPEC = rf"{_LABEL}?\d{{1,3}}(?:\s*[-–—]\s*\d{{1,3}})?"
_LIST = rf"{_SPEC}(?:\s*(?:[,;&]|and)\s*{_SPEC})*"
_CITATION = re.compile(rf"\[\^?\s*({_LIST})\s*\]|【\s*({_LIST})\s*】|\(\s*({_LIST})\s*\)", re.IGNORECASE)
# Where a bare "(2)" can be a marker: before punctuation, a line end or another marker.
_MARKER_PLACE = re.compile(r"[ \t]*(?:[.,;:!?\n]|$|[\[(【])")
# Markers written after a sentence's final punctuation ("… Medinsky. [1]") move before it.
_AFTER_STOP = re.compile(r"([.!?][\"”’')]*)[ \t]*((?:\[\d{1,3}\][ \t]*)+)(?=\s|$)")
# A Markdown list bullet, numbered item or heading at the start of a line (kept as written).
_LINE_PREFIX = re.compile(r"\s*(?:[-*+•]|\d{1,2}[.)]|\(\d{1,2}\)|#{1,6})\s+")


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


def cited_numbers(spec: str) -> list[int]:
    """The passage numbers in a marker's inside: "1, 3" -> [1, 3]; "Passages 2-4" -> [2, 3, 4]."""
    numbers: list[int] = []
    for low, high in re.findall(r"(\d{1,3})(?:\s*[-–—]\s*(\d{1,3}))?", spec):
        first, last = int(low), int(high or low)
        numbers += range(first, last + 1) if 0 <= last - first < MAX_RANGE else [first, last]
    return list(dict.fromkeys(numbers))


def normalise_markers(reply: str, numbers: Collection[int]) -> str:
    """The reply with every citation style rewritten as `[n]` markers before the final stop.

    A bracketed marker is always a citation (one naming no passage is dropped later). A
    parenthesised one such as "(2)" is taken for a citation only when it is labelled
    ("(Passage 2)") or sits before punctuation or a line end and names passages that exist,
    so "(2022)", "(620-mile)" or "(3) ways" in prose stay as written.
    """

    def rewrite(match: re.Match[str]) -> str:
        bracketed, fullwidth, parenthesised = match.groups()
        spec = bracketed or fullwidth or parenthesised
        cited = cited_numbers(spec)
        if parenthesised and not re.match(_LABEL, spec, re.IGNORECASE):
            in_place = _MARKER_PLACE.match(reply, match.end()) is not None
            if not in_place or not set(cited) <= set(numbers):
                return match.group(0)
        return "".join(f"[{n}]" for n in cited)

    text = _CITATION.sub(rewrite, reply)
    return _AFTER_STOP.sub(lambda m: f"{m.group(2).strip()}{m.group(1)}", text)


@dataclass
class Grounded:
    """An answer text with renumbered markers and what its citations point at."""

    text: str
    quotes: list[Chunk]
    unsupported: list[str]


def ground(reply: str, passages: Sequence[Passage], lexicon: Lexicon) -> Grounded:
    """Keep supported markers, renumber them 1..m, and find the quote behind each.

    The reply is grounded line by line so that paragraphs and list items keep their shape.
    """
    by_number = {p.number: p for p in passages}
    grounded = Grounded(text="", quotes=[], unsupported=[])
    lines: list[str] = []
    for line in normalise_markers(reply, by_number).splitlines():
        prefix = _LINE_PREFIX.match(line)
        head = prefix.group(0).rstrip() + " " if prefix else ""
        body = line[prefix.end() :] if prefix else line
        pieces = [
            _ground_sentence(body[s:e], by_number, lexicon, grounded) for s, e in split_sentences(body, 0, len(body))
        ]
        text = " ".join(p for p in pieces if p)
        if text:
            lines.append(head + text)
        elif lines and lines[-1]:
            lines.append("")  # a paragraph break, kept once
    grounded.text = "\n".join(lines).strip()
    return grounded


def _ground_sentence(sentence: str, by_number: dict[int, Passage], lexicon: Lexicon, into: Grounded) -> str:
    """The sentence with its supported markers, renumbered in order of first citation."""
    claim = _MARKERS.sub("", sentence).strip()
    terms = lexicon.terms(claim)
    numbers: list[int] = []
    for n in dict.fromkeys(int(m) for m in _ONE.findall(sentence)):
        passage = by_number.get(n)
        if passage is None:
            continue
        best, support = _best_quote(terms, passage, lexicon)
        if support < MIN_SUPPORT:
            continue
        if best not in into.quotes:
            into.quotes.append(best)
        numbers.append(into.quotes.index(best) + 1)
    if not numbers and terms and not claim.rstrip("*_ ").endswith(":"):
        into.unsupported.append(claim)
    return _place(claim, "".join(f"[{n}]" for n in dict.fromkeys(numbers)))


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
