"""Names typed with a slip ("Zelenksy", "Germny") are matched to the way the articles write them.

A capitalised word the articles never use makes the offline answerer refuse ("a question about
the Pope cannot be answered from articles that never mention him"), so a typo in a name used to
cost the whole answer. Before that check, each such word is compared with the names the articles
do write (`rag.answer.lexicon.Spellings`), by optimal string alignment distance (rapidfuzz): one
edit (a letter added, dropped, changed, or two swapped) for names of up to seven letters, two
for longer ones; failing a name, with their long words, one edit away. A unique closest match
replaces the word, and the answer says so; a word with no close match, or two equally close,
stays and is refused as before.
"""

from __future__ import annotations

import re

from rag.answer.lexicon import Lexicon
from rag.answer.scoring import unknown_names

#: Names shorter than this are not corrected: "Lia" is one edit from too many names.
MIN_LETTERS = 4
#: Names at least this long may be two edits away.
LONG_NAME = 8


def closest_name(word: str, lexicon: Lexicon) -> str | None:
    """The articles' form of the name `word` misspells, when exactly one is closest and close
    enough; else a long word of theirs one edit away ("Govenrment" in "the Federal Govenrment")."""
    if len(word) < MIN_LETTERS:
        return None
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    typed = word.lower()
    limit = 2 if len(word) >= LONG_NAME else 1
    found = process.extract(typed, lexicon.names.keys(), scorer=OSA.distance, score_cutoff=limit, limit=2)
    if found:
        return None if len(found) == 2 and found[1][1] == found[0][1] else lexicon.names[found[0][0]]
    found = process.extract(typed, lexicon.words, scorer=OSA.distance, score_cutoff=1, limit=2)
    if len(found) != 1:
        return None
    return found[0][0][:1].upper() + found[0][0][1:] if word[:1].isupper() else found[0][0]


def corrected(question: str, lexicon: Lexicon) -> tuple[str, list[tuple[str, str]]]:
    """The question with its misspelt names replaced, and each (as typed, as the articles write it)."""
    fixes = [(word, name) for word in unknown_names(question, lexicon) if (name := closest_name(word, lexicon))]
    for word, name in fixes:
        question = re.sub(rf"\b{re.escape(word)}\b", name, question)
    return question, fixes
