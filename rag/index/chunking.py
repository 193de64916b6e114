"""Sentence-level chunks with exact offsets into the raw article.

A sentence is the unit a person can check, so it is the unit we embed, retrieve and quote.
Each chunk also carries its neighbouring sentences as context for answering (the
sentence-window idea PrivateGPT uses), while the quote stays one verifiable sentence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rag.index.entities import encode, find_entities
from rag.index.ingest import SourceFile
from rag.index.parsing import ParsedArticle, clean_text, parse_article

# A sentence ends at . ! ? (with closing quotes or brackets) before whitespace and
# something that can start a sentence.
_BOUNDARY = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "sen",
        "gen",
        "gov",
        "rep",
        "jr",
        "sr",
        "prof",
        "lt",
        "col",
        "capt",
        "sgt",
        "no",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    ]
)
#: A "sentence" that only says who spoke, left over when a quotation ends with a full stop:
#: '"We will leave." Brexit Secretary David Davis said.' It belongs to the quotation.
_ATTRIBUTION = re.compile(
    r"(?:[A-Z][\w.'’-]*\s+){1,6}(?:said|says|added|adds|told (?:[\w’'-]+\s*){1,4}|wrote|writes|asked)\.|"
    r"(?:said|says|added|adds|wrote|asked)(?:\s+[A-Z][\w.'’-]*){1,6}\."
)
#: Neighbouring sentences on each side included in a chunk's answering context.
WINDOW = 1
#: A "sentence" longer than this (a file with no full stops) is cut at spaces into pieces of at most
#: this many characters: a quote must stay readable, and the embedder reads only 256 tokens anyway.
MAX_SENTENCE_CHARS = 1000


@dataclass(frozen=True)
class ChunkRecord:
    """A sentence ready to embed and store."""

    id: str
    source: str
    text: str
    start: int
    end: int
    context: str
    position: int
    title: str | None
    date: str | None
    file_sha: str
    #: Named entities of `text`, encoded (see `rag.index.entities`).
    entities: str = ""


def _is_abbreviation(paragraph: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and not paragraph[word_start - 1].isspace():
        word_start -= 1
    # the word after any glued punctuation: "Rep" of "(CNN)Rep.", "Sen" of 'Gorsuch,"?Sen.'
    token = re.split(r"[^\w.'’]", paragraph[word_start:dot])[-1].lower()
    if token in _ABBREVIATIONS:
        return True
    # Initials and acronyms written with dots: "U.S", "J", "E.U".
    return re.fullmatch(r"(?:[a-z]\.)*[a-z]", token) is not None


def split_sentences(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence ranges inside raw[start:end], trimmed of surrounding whitespace."""
    paragraph = raw[start:end]
    spans: list[tuple[int, int]] = []
    begin = 0
    for match in _BOUNDARY.finditer(paragraph):
        first_dot = match.start()
        if paragraph[first_dot] == "." and _is_abbreviation(paragraph, first_dot):
            continue
        spans.append((begin, match.end()))
        begin = match.end()
    spans.append((begin, len(paragraph)))
    result: list[tuple[int, int]] = []
    for s, e in spans:
        chunk = paragraph[s:e]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk.rstrip())
        if trail > lead and re.search(r"\w", chunk):
            if result and _ATTRIBUTION.fullmatch(chunk.strip()):
                result[-1] = (result[-1][0], start + s + trail)  # '"…deal." Brexit Secretary David Davis said.'
            else:
                result.append((start + s + lead, start + s + trail))
    return result


def sentences(raw: str, article: ParsedArticle) -> list[tuple[int, int]]:
    """All body sentences of an article, in reading order."""
    return [
        piece for s, e in article.paragraphs for span in split_sentences(raw, s, e) for piece in _capped(raw, *span)
    ]


def _capped(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """raw[start:end] in pieces of at most MAX_SENTENCE_CHARS, cut at spaces where there are any."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = raw.rfind(" ", start + 1, start + MAX_SENTENCE_CHARS + 1)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        pieces.append((start, start + len(raw[start:cut].rstrip())))
        start = cut
        while start < end and raw[start].isspace():
            start += 1
    return [*pieces, (start, end)] if start < end else pieces


def chunk_file(file: SourceFile) -> list[ChunkRecord]:
    """Parse one article and cut it into sentence chunks with stable content-hash ids."""
    article = parse_article(file.raw)
    spans = sentences(file.raw, article)
    texts = [clean_text(file.raw[s:e]) for s, e in spans]
    entities = find_entities(texts)
    seen: dict[str, int] = {}
    records = []
    for i, ((s, e), text) in enumerate(zip(spans, texts, strict=True)):
        digest = hashlib.sha256(f"{file.name}\x00{text}".encode()).hexdigest()[:20]
        seen[digest] = seen.get(digest, -1) + 1
        context = " ".join(texts[max(0, i - WINDOW) : i + WINDOW + 1])
        records.append(
            ChunkRecord(
                id=f"{digest}-{seen[digest]}",
                source=file.name,
                text=text,
                start=s,
                end=e,
                context=context,
                position=i,
                title=article.title,
                date=article.date,
                file_sha=file.sha256,
                entities=encode(entities[i]),
            )
        )
    return records
