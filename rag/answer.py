"""The offline answerer: quote the sentences that answer, or refuse.

With no LLM, the honest answer is the article's own words. Candidates from hybrid
retrieval are re-scored by an evidence score that combines meaning (cosine between the
question and the sentence) with coverage (how much of the question's rare vocabulary the
sentence and its neighbours contain, weighted by IDF). Coverage is what catches on-topic
questions the articles cannot answer: "How old is Medinsky?" matches Medinsky sentences
in meaning, but nothing in them covers "old". The refusal threshold is calibrated on the
gold questions by `rag eval` (see README), not guessed.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass

from rag.models import Chunk

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
#: Weights of the evidence score, chosen by grid search on the gold set (README, "Calibration").
W_COSINE, W_SENTENCE, W_CONTEXT, W_TYPE = 0.3, 0.5, 0.1, 0.2
#: Further sentences are quoted when their score is this close to the best one.
RUNNER_UP_MARGIN = 0.12
MAX_SENTENCES = 3


#: News text names a country and its people interchangeably ("Ukraine's team" and "the
#: Ukrainian delegation"); mapping demonyms to the country lets coverage see that.
DEMONYMS = {
    "ukrainian": "ukraine", "ukrainians": "ukraine", "russian": "russia", "russians": "russia",
    "turkish": "turkey", "turks": "turkey", "american": "us", "americans": "us", "u.s": "us",
    "united": "united", "british": "britain", "french": "france", "german": "germany",
    "germans": "germany", "chinese": "china", "european": "europe", "europeans": "europe",
    "polish": "poland", "italian": "italy", "indian": "india", "israeli": "israel",
    "iranian": "iran", "japanese": "japan", "qatari": "qatar", "saudi": "saudi",
    # Capitals stand for their countries in news prose ("the Kiev government", "Moscow's team").
    "moscow": "russia", "kyiv": "ukraine", "kiev": "ukraine", "washington": "us",
}
#: Irregular past forms the stemmer leaves alone ("met" would never match "meet").
IRREGULAR = {
    "met": "meet", "led": "lead", "held": "hold", "sent": "send", "told": "tell", "said": "say",
    "took": "take", "taken": "take", "went": "go", "gone": "go", "came": "come", "began": "begin",
    "begun": "begin", "spoke": "speak", "spoken": "speak", "made": "make", "gave": "give",
    "given": "give", "saw": "see", "seen": "see", "left": "leave", "brought": "bring",
    "thought": "think", "sought": "seek", "fought": "fight", "won": "win", "lost": "lose",
    "chose": "choose", "chosen": "choose", "flew": "fly", "flown": "fly", "rode": "ride",
    "kept": "keep", "meant": "mean", "stood": "stand", "struck": "strike", "wrote": "write",
    "written": "write", "knew": "know", "known": "know", "grew": "grow", "broke": "break",
    "broken": "break", "fell": "fall", "fallen": "fall", "paid": "pay", "ran": "run", "sat": "sit",
    "drew": "draw", "drawn": "draw", "heard": "hear", "felt": "feel", "found": "find", "got": "get",
    "rose": "rise", "risen": "rise", "shook": "shake", "became": "become", "threw": "throw",
}
#: Words that frame a question rather than carry its content.
QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how long many much old far time year day week "
    "name kind sort type".split()
)
# A quantity, not a year: "how many" is not answered by "in 2022".
_NUMBER = re.compile(
    r"\b(?!(?:19|20)\d\d\b)\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|half|third|quarter|fifth)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\d|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    r"april|may|june|july|august|september|october|november|december|spring|summer|autumn|"
    r"winter|morning|afternoon|evening|night|week|weekend|month|year|today|yesterday)\b",
    re.IGNORECASE,
)
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w’'-]+(?: [A-Z][\w’'-]+)+")
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Sir)\.? [A-Z][a-z]+")
#: Capitalised words that make titles and institutions, not personal names.
_NOT_NAME_WORDS = frozenset(
    "President Presidential Prime Minister Ministry Foreign Defense Defence Deputy Secretary General "
    "Chancellor Senator Republican Democrat Office Council Union Commission Kremlin White House State "
    "Security National European Political Community Department Agency Intelligence Military Director "
    "Chief Staff Spokesman Spokeswoman Press Aide Adviser Leader Party Parliament Army Forces Air Force "
    "Base Summit Sea Fleet Guard United Nations States Kingdom Soviet Federal Service Pool Photo "
    "The A An In On At Of And For To By With From Friday Thursday Wednesday Tuesday Monday Saturday Sunday "
    "January February March April May June July August September October November December".split()
) | frozenset(w.capitalize() for w in DEMONYMS) | frozenset(v.capitalize() for v in DEMONYMS.values())


def _names_a_person(text: str) -> bool:
    """True when a sentence contains something shaped like a personal name ("Hakan Fidan")."""
    if _HONORIFIC.search(text):
        return True
    for run in _CAPITALISED_RUN.findall(text):
        words = [w.rstrip("’'s") if w.endswith(("’s", "'s")) else w for w in run.split()]
        names = [w for w in words if w not in _NOT_NAME_WORDS and not w.isupper()]
        if len(names) >= 2:
            return True
    return False

_AGE = re.compile(r"\b\d{1,3}(-year-old| years? old)\b|\baged? \d{1,3}\b|\bage of \d{1,3}\b", re.I)
_ASKS_AGE = re.compile(r"^how old\b", re.I)
_ASKS_NUMBER = re.compile(r"^(how (many|much|long|old|far)|what (share|percentage|proportion))\b", re.I)
_ASKS_TIME = re.compile(
    r"^(when|what time|at what time|since (what|when)|in what year|what year|on (which|what) day)\b", re.I
)
_ASKS_PERSON = re.compile(
    r"^(who|whom|whose)\b|^(which|name the|what) (\w+ ){0,3}(official|officials|minister|ministers|"
    r"leader|leaders|adviser|advisers|senator|diplomats?|chiefs?|spokes\w+|envoys?)\b",
    re.I,
)


AnswerType = Callable[[str], object]


def answer_type(question: str) -> AnswerType | None:
    """A test a sentence must pass to answer the question, judged from its opening words."""
    if _ASKS_AGE.search(question):
        return _AGE.search
    if _ASKS_NUMBER.search(question):
        return _NUMBER.search
    if _ASKS_TIME.search(question):
        return _TIME.search
    if _ASKS_PERSON.search(question):
        return _names_a_person
    return None


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
        words = [IRREGULAR.get(w, DEMONYMS.get(w, w)) for w in words if w not in self.stopwords]
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
        typed = 1.0 if wanted is None or wanted(chunk.text) else 0.0
        score = W_COSINE * cosine + W_SENTENCE * sentence + W_CONTEXT * context + W_TYPE * typed
        scored.append(Evidence(chunk, score))
    scored.sort(key=lambda e: e.score, reverse=True)
    return scored


def select_evidence(
    scored: Sequence[Evidence], threshold: float, limit: int = MAX_SENTENCES
) -> list[Evidence]:
    """The sentences to quote: the best one, plus close runners-up; empty means refuse."""
    if not scored or scored[0].score < threshold:
        return []
    chosen = [scored[0]]
    for ev in scored[1:]:
        if len(chosen) == limit or ev.score < scored[0].score - RUNNER_UP_MARGIN:
            break
        if all(ev.chunk.text != c.chunk.text for c in chosen):
            chosen.append(ev)
    return chosen


def compose(quotes: Sequence[Chunk]) -> str:
    """The answer text: each quoted sentence followed by its [n] marker."""
    return " ".join(f"{chunk.text} [{i}]" for i, chunk in enumerate(quotes, 1))
