"""The evidence score: how well a candidate sentence answers the question.

Candidates from hybrid retrieval are re-scored by combining meaning (cosine between the
question and the sentence) with coverage (how much of the question's rare vocabulary the
sentence and its neighbours contain, weighted by IDF). Coverage and the expected answer
type (`rag.answer.answer_types`) are what catch on-topic questions the articles cannot
answer: "How old is Medinsky?" matches Medinsky sentences in meaning, but none of them
states an age. The refusal threshold is calibrated on the gold questions (docs/evaluation.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.answer_types import counted_keys, expectation, role_noun, speaker
from rag.answer.lexicon import QUESTION_WORDS, WORD, Lexicon, coverage
from rag.answer.spans import ASKED_NAME, AnswerType, reports_speech
from rag.answer.vocabulary import countries, mark_countries
from rag.models import Chunk

#: Weights of the evidence score. W_TYPE and W_ARTICLE were chosen by a small grid on the gold
#: splits of all three corpora together (best balanced accuracy at <= 10% false refusals; docs/design.md).
W_COSINE, W_SENTENCE, W_CONTEXT, W_TYPE = 0.3, 0.5, 0.1, 0.4
#: Penalty for the share (IDF-weighted) of the question's names that the candidate's article
#: never mentions: "How many died in Dresden?" is not answered by an article about Malawi.
W_ARTICLE = 0.3

#: "What did he say…?" names its speaker in the history, not in the question.
_PERSONAL_PRONOUNS = frozenset(["he", "she", "him", "her", "it", "we", "you", "i"])
_NAME_IN_QUESTION = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]{2,}\b")


@dataclass(frozen=True)
class Evidence:
    """A candidate sentence with its evidence score."""

    chunk: Chunk
    score: float
    #: False when the sentence cannot hold the kind of answer asked for (a number, a date...).
    typed: bool = True
    #: Whether the sentence or its neighbours share any content word with the question.
    overlaps: bool = True


def unknown_names(question: str, lexicon: Lexicon) -> list[str]:
    """Capitalised names in the question that occur nowhere in the articles.

    A question about the Pope cannot be answered from articles that never mention him,
    however close the rest of it is to their topic.
    """
    found = []
    for name in _NAME_IN_QUESTION.findall(mark_countries(question).strip()):
        if name.lower() in QUESTION_WORDS or name.lower() in lexicon.stopwords:
            continue
        terms = lexicon.terms(name)
        if terms and not any(lexicon.seen(t) or lexicon.seen_prefix(t) for t in terms):
            found.append(name)
    return found


def question_names(question: str, lexicon: Lexicon) -> list[str]:
    """Stems of the capitalised words inside the question: the names it is about."""
    words = [w for w in _NAME_IN_QUESTION.findall(question.strip()) if w.lower() not in QUESTION_WORDS]
    return sorted(set(lexicon.terms(" ".join(words))))


def question_blanker(question: str, lexicon: Lexicon) -> Callable[[str], str]:
    """A function that blanks the question's own words in a sentence (same length, so offsets
    hold), so an answer must add something; made once per question, used on every candidate.

    "Who is the chief executive of the Commonwealth Bank?" is not answered by a sentence
    whose only capitalised name is "Commonwealth Bank"; "the name of the 30-year-old man"
    not by "a 30-year-old man". What a count question counts stays ("how many civilians"
    is answered by "12,000 civilians"). Words count as the question's when they share its
    stems after lemmas and country names are normalised ("Turkish" is the question's "Turkey").
    A name the question says is blanked with ASKED_NAME instead, so a longer form of it is no
    answer either ("Donald Trump" does not answer "Which judge blocked Trump's ban?"); the price
    is that a relative who shares the name is none either ("Ivanka Trump" for "Who is Trump's
    daughter?"). A possessive keeps its "'s", so "Trump's ban" still reads as a possessive.
    """
    keys = counted_keys(question)
    # the words that frame a question ("how old", "how long") are not what it says: "seven years old" answers
    asked = {w.lower() for w in WORD.findall(question)} - QUESTION_WORDS
    names = {w.lower() for w in _NAME_IN_QUESTION.findall(question.strip())}
    asked_terms = set(lexicon.question_terms(question))
    capitals = countries().capitals

    def is_asked(lower: str) -> bool:
        if lower in asked:
            return True
        if lower in capitals:  # "Riga" answers "In which city … Latvia?"
            return False
        terms = lexicon.word_terms(lower)
        return bool(terms) and all(t in asked_terms for t in terms)

    blanked: dict[str, str] = {}  # a word blanks the same way wherever it stands: decide each once

    def blank_word(word: str) -> str:
        lower = word.lower()
        if word.islower() and lower in lexicon.stopwords:
            return word  # "in", "of": they say nothing, and "met in Riga" needs its "in"
        if is_asked(lower) and not any(lower.startswith(k) for k in keys):
            core = len(word) - 2 if lower.endswith(("'s", "’s")) else len(word)
            said_name = word[:1].isupper() and lower[:core] in names
            return (ASKED_NAME if said_name else "_") * core + word[core:]
        return word

    def blank(match: re.Match[str]) -> str:
        word = match.group()
        if word not in blanked:
            blanked[word] = blank_word(word)
        return blanked[word]

    return lambda text: WORD.sub(blank, text)


def without_question_words(text: str, question: str, lexicon: Lexicon) -> str:
    """`text` with the question's own words blanked (see `question_blanker`)."""
    return question_blanker(question, lexicon)(text)


#: A sentence next to an on-topic one that holds the asked-for kind of answer is scored as
#: the on-topic one would be, less this much per sentence of distance (see `neighbour_evidence`).
NEIGHBOUR_DECAY = 0.1
#: How far from an on-topic sentence the answer may sit, in sentences.
NEIGHBOUR_REACH = 1

Neighbour = Callable[[Chunk, int], Chunk | None]


def score_candidates(
    question: str,
    candidates: Sequence[tuple[Chunk, float, float]],
    lexicon: Lexicon,
    neighbour: Neighbour | None = None,
) -> list[Evidence]:
    """Evidence scores for retrieved (chunk, fused score, cosine) candidates, best first.

    With `neighbour` (the sentence at an offset from a chunk in its article), sentences
    beside a candidate are read too: see `neighbour_evidence`.
    """
    q_terms = lexicon.question_terms(question)
    names = question_names(question, lexicon)
    preferred, required = expectation(question)
    blank = question_blanker(question, lexicon)
    role = role_noun(question)
    said_by = speaker(question)
    # a name by its last word ("Nunes said" names Devin Nunes), a description ("the spokesman") whole
    said_as = said_by.split()[-1] if said_by and said_by[:1].isupper() else said_by
    speaker_terms = [t for t in lexicon.terms(said_as or "") if t not in _PERSONAL_PRONOUNS]
    role_terms = lexicon.terms(role) if role else []
    scored: dict[str, Evidence] = {}
    for chunk, _fused, cosine in candidates:
        sentence_terms, context_terms = lexicon.chunk_terms(chunk)
        sentence = coverage(q_terms, sentence_terms, lexicon)
        context = coverage(q_terms, context_terms, lexicon)
        missing = 1.0 - coverage(names, lexicon.article_terms(chunk.source), lexicon) if names else 0.0
        new_text = blank(chunk.text)
        holds = preferred is None or bool(preferred(new_text, chunk.entities))
        base = W_COSINE * cosine + W_SENTENCE * sentence + W_CONTEXT * context - W_ARTICLE * missing
        typed = required is None or bool(required(new_text, chunk.entities))
        # a named person must be named where the asked-for role is spoken of (`role_noun`)
        typed = typed and all(t in context_terms for t in role_terms)
        # "What did X say?" is answered by a sentence that reports speech, with X in or beside it
        if said_by is not None:
            typed = typed and reports_speech(chunk.text) and all(t in sentence_terms for t in speaker_terms)
        found = [Evidence(chunk, base + W_TYPE * holds, typed, context > 0)]
        if preferred is not None and not holds and neighbour is not None:
            found += neighbour_evidence(blank, chunk, base, context > 0, neighbour, preferred, required)
        for ev in found:
            if ev.chunk.id not in scored or scored[ev.chunk.id].score < ev.score:
                scored[ev.chunk.id] = ev
    return sorted(scored.values(), key=lambda e: e.score, reverse=True)


def neighbour_evidence(
    blank: Callable[[str], str],
    chunk: Chunk,
    base: float,
    overlaps: bool,
    neighbour: Neighbour,
    preferred: AnswerType,
    required: AnswerType | None,
) -> list[Evidence]:
    """Sentences near an on-topic one that hold the asked-for kind of answer.

    News states the topic in one sentence and the fact in the next: "Fire has damaged part
    of St John the Divine cathedral." then "The blaze began in the gift shop…". The
    question's words match the first; the answer is in the second, so the second is quoted.
    """
    found = []
    for offset in range(-NEIGHBOUR_REACH, NEIGHBOUR_REACH + 1):
        near = neighbour(chunk, offset) if offset else None
        if near is None:
            continue
        text = blank(near.text)
        if preferred(text, near.entities) and (required is None or required(text, near.entities)):
            score = base + W_TYPE - NEIGHBOUR_DECAY * abs(offset)
            found.append(Evidence(near, score, True, overlaps))
    return found
