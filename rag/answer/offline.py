"""The offline answerer: quote the sentences that answer, or refuse.

With no LLM, the honest answer is the article's own words. Candidates from hybrid
retrieval are re-scored by an evidence score that combines meaning (cosine between the
question and the sentence) with coverage (how much of the question's rare vocabulary the
sentence and its neighbours contain, weighted by IDF). Coverage and the expected answer
type (`rag.answer.answer_types`) are what catch on-topic questions the articles cannot answer:
"How old is Medinsky?" matches Medinsky sentences in meaning, but none of them states an
age. The refusal threshold is calibrated on the gold questions by `rag eval` (see README,
with figures on a held-out set), not guessed.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from rag.answer.answer_types import answer_type
from rag.models import Chunk
from rag.answer.vocabulary import NORMAL_FORMS

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
#: Weights of the evidence score, chosen by grid search on the gold set (README, "Refusal").
W_COSINE, W_SENTENCE, W_CONTEXT, W_TYPE = 0.3, 0.5, 0.1, 0.2
#: Further sentences are quoted when their score is this close to the best one.
RUNNER_UP_MARGIN = 0.12
MAX_SENTENCES = 3


#: Words that frame a question rather than carry its content.
QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how long many much old far time year day week "
    "name kind sort type".split()
)
_NAME_IN_QUESTION = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]{2,}\b")


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


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | {"did", "does", "say", "said", "according", "much", "many"}


class Lexicon:
    """Stemming and IDF over the indexed sentences."""

    def __init__(self, texts: Iterable[str]) -> None:
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._stem_lock = threading.Lock()  # PyStemmer objects are not thread-safe
        self._chunk_terms: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self.stopwords = _stopwords()
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            df.update(set(self.terms(text)))
        self._n = n
        self._idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        self._unseen = math.log((n + 1) / 0.5)

    def terms(self, text: str) -> list[str]:
        """Content-word stems of `text`."""
        words = [w.lower().replace("’", "'").removesuffix("'s") for w in _WORD.findall(text)]
        # "low-level" also counts as "low" and "level", so "lower-level officials" meets "level".
        words += [part for w in words if "-" in w for part in w.split("-")]
        words = [NORMAL_FORMS.get(w, w) for w in words if w not in self.stopwords]
        with self._stem_lock:
            return self._stemmer.stemWords(words)

    def chunk_terms(self, chunk: Chunk) -> tuple[frozenset[str], frozenset[str]]:
        """Stems of a chunk's sentence and of its context, computed once per chunk id."""
        cached = self._chunk_terms.get(chunk.id)
        if cached is None:
            sentence = frozenset(self.terms(chunk.text))
            cached = (sentence, sentence | frozenset(self.terms(chunk.context)))
            self._chunk_terms[chunk.id] = cached
        return cached

    def question_terms(self, question: str) -> list[str]:
        """Content stems of a question, without the words that frame it ("how long")."""
        kept = [w for w in _WORD.findall(question) if w.lower() not in QUESTION_WORDS]
        return sorted(set(self.terms(" ".join(kept))))

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen)

    def seen(self, term: str) -> bool:
        return term in self._idf

    def seen_prefix(self, term: str) -> bool:
        """True when some indexed term extends this one ("crimea" -> "crimean")."""
        return len(term) >= 4 and any(t.startswith(term) for t in self._idf)


@dataclass(frozen=True)
class Evidence:
    """A candidate sentence with its evidence score."""

    chunk: Chunk
    score: float
    #: Whether the sentence holds the kind of answer the question asks for (a number, a name...).
    typed: bool = True


def coverage(question_terms: Sequence[str], text_terms: Set[str], lexicon: Lexicon) -> float:
    """IDF-weighted share of the question's terms present in a text."""
    total = sum(lexicon.idf(t) for t in question_terms)
    if total == 0:
        return 0.0
    return sum(lexicon.idf(t) for t in question_terms if t in text_terms) / total


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


def select_evidence(
    scored: Sequence[Evidence], threshold: float, limit: int = MAX_SENTENCES
) -> list[Evidence]:
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


#: Openings that refer back to the sentence before ("She said the measures would target...").
_REFERS_BACK = re.compile(r"^(?:He|She|They|This|These|Those)\b")


def continues(following: Chunk) -> bool:
    """True when a sentence only makes sense with the one before it, so a quote should include it.

    "Von der Leyen said the EU was preparing a new sanctions package." is followed by "She
    said the measures would target the shadow fleet...": the answer is in the second.
    """
    return bool(_REFERS_BACK.match(following.text))


def join(first: Chunk, following: Chunk) -> Chunk:
    """One quote spanning two consecutive sentences of an article."""
    return first.model_copy(update={"end": following.end, "text": f"{first.text} {following.text}"})


def compose(quotes: Sequence[Chunk]) -> str:
    """The answer text: each quoted sentence followed by its [n] marker."""
    return " ".join(f"{chunk.text} [{i}]" for i, chunk in enumerate(quotes, 1))
