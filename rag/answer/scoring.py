"""The evidence score: how well a candidate sentence answers the question.

Candidates from hybrid retrieval are re-scored by combining meaning (cosine between the
question and the sentence) with coverage (how much of the question's rare vocabulary the
sentence and its neighbours contain, weighted by IDF). Coverage and the expected answer
type (`rag.answer.answer_types`) are what catch on-topic questions the articles cannot
answer: "How old is Medinsky?" matches Medinsky sentences in meaning, but none of them
states an age. The refusal threshold is calibrated on the gold questions (README).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.answer_types import answer_type
from rag.answer.lexicon import QUESTION_WORDS, Lexicon, coverage
from rag.models import Chunk

#: Weights of the evidence score, chosen by grid search on the gold set (README, "Refusal").
W_COSINE, W_SENTENCE, W_CONTEXT, W_TYPE = 0.3, 0.5, 0.1, 0.2

_NAME_IN_QUESTION = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]{2,}\b")


@dataclass(frozen=True)
class Evidence:
    """A candidate sentence with its evidence score."""

    chunk: Chunk
    score: float
    #: Whether the sentence holds the kind of answer the question asks for (a number, a name...).
    typed: bool = True


def unknown_names(question: str, lexicon: Lexicon) -> list[str]:
    """Capitalised names in the question that occur nowhere in the articles.

    A question about the Pope cannot be answered from articles that never mention him,
    however close the rest of it is to their topic.
    """
    found = []
    for name in _NAME_IN_QUESTION.findall(question.strip()):
        if name.lower() in QUESTION_WORDS or name.lower() in lexicon.stopwords:
            continue
        terms = lexicon.terms(name)
        if terms and not any(lexicon.seen(t) or lexicon.seen_prefix(t) for t in terms):
            found.append(name)
    return found


def score_candidates(
    question: str, candidates: Sequence[tuple[Chunk, float, float]], lexicon: Lexicon
) -> list[Evidence]:
    """Evidence scores for retrieved (chunk, fused score, cosine) candidates, best first."""
    q_terms = lexicon.question_terms(question)
    wanted = answer_type(question)
    scored = []
    for chunk, _fused, cosine in candidates:
        sentence_terms, context_terms = lexicon.chunk_terms(chunk)
        sentence = coverage(q_terms, sentence_terms, lexicon)
        context = coverage(q_terms, context_terms, lexicon)
        typed = wanted is None or bool(wanted(chunk.text))
        score = W_COSINE * cosine + W_SENTENCE * sentence + W_CONTEXT * context + W_TYPE * typed
        scored.append(Evidence(chunk, score, typed))
    scored.sort(key=lambda e: e.score, reverse=True)
    return scored
