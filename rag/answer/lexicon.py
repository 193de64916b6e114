"""Word statistics of one index version: stems, stopwords and IDF over its sentences.

Both answerers need them: the offline scorer to weigh which of the question's words a
sentence holds, the LLM grounding to find the sentence behind a cited passage.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from functools import cache
from typing import Any, Protocol

from rag.answer.vocabulary import mark_countries, normal_form, word_lemmas
from rag.models import Chunk

WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")

#: Words that frame a question rather than carry its content.
QUESTION_WORDS = frozenset(
    [
        "who",
        "whom",
        "whose",
        "what",
        "which",
        "when",
        "where",
        "why",
        "how",
        "long",
        "many",
        "much",
        "old",
        "far",
        "time",
        "year",
        "day",
        "week",
        "name",
        "kind",
        "sort",
        "type",
    ]
)


@cache
def stopwords() -> frozenset[str]:
    """Function words: never content, never a name (bm25s's English list, plus a few)."""
    from bm25s.stopwords import STOPWORDS_EN

    # bm25s's list omits common quantifiers and determiners ("all", "any", "each"…).
    determiners = [
        "all",
        "any",
        "some",
        "each",
        "every",
        "both",
        "other",
        "such",
        "more",
        "most",
        "own",
        "same",
        "few",
        "nor",
        "only",
        "very",
    ]
    return frozenset(STOPWORDS_EN) | {"did", "does", "say", "said", "according", "much", "many", *determiners}


#: Chunks whose stems a lexicon keeps (the candidates of recent questions), so a long-lived
#: process does not end up holding the stems of the whole corpus.
CHUNK_CACHE = 20_000


class ArticleVocabulary(Protocol):
    """source -> the article's content stems; a dict, or a reader of files on disk."""

    def get(self, source: str, default: frozenset[str], /) -> frozenset[str]: ...


class Lexicon:
    """Stemming and IDF over the indexed sentences."""

    def __init__(self, texts: Iterable[str], articles: Mapping[str, Iterable[str]] | None = None) -> None:
        """IDF over `texts`; `articles` (source -> its sentences) gives each article's vocabulary."""
        self._setup()
        df: Counter[str] = Counter()
        forms = Spellings()
        n = 0
        for text in texts:
            n += 1
            df.update(set(self.terms(text)))
            forms.add(text)
        self._set_statistics(n, df)
        spellings = forms.table()
        self.names: Mapping[str, str] = spellings["names"]
        self.words: Sequence[str] = spellings["words"]
        self._article_terms: ArticleVocabulary = {
            source: frozenset(t for text in sentences for t in self.terms(text))
            for source, sentences in (articles or {}).items()
        }

    @classmethod
    def from_statistics(
        cls, sentences: int, df: Mapping[str, int], articles: ArticleVocabulary, spellings: Mapping[str, Any]
    ) -> Lexicon:
        """The lexicon of a corpus from its stored statistics (`rag.answer.version_files`), not its text.

        `sentences` and `df` (stem -> sentences holding it) give the same IDF as the texts would;
        `spellings` is `Spellings.table` of the same sentences.
        """
        lexicon = cls.__new__(cls)
        lexicon._setup()
        lexicon._set_statistics(sentences, df)
        lexicon._article_terms = articles
        lexicon.names = spellings["names"]
        lexicon.words = spellings["words"]
        return lexicon

    def _setup(self) -> None:
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._stem_lock = threading.Lock()  # PyStemmer objects are not thread-safe
        self._chunk_terms: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._word_terms: dict[str, tuple[str, ...]] = {}
        self.stopwords = stopwords()

    def _set_statistics(self, n: int, df: Mapping[str, int]) -> None:
        self._idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        self._unseen = math.log((n + 1) / 0.5)
        self._sorted_terms = sorted(self._idf)

    def article_terms(self, source: str) -> frozenset[str]:
        """Every content stem of one article (empty for an unknown source)."""
        return self._article_terms.get(source, frozenset())

    def terms(self, text: str) -> list[str]:
        """Content-word stems of `text`."""
        words = [w.lower().replace("’", "'").removesuffix("'s") for w in WORD.findall(mark_countries(text))]
        # "low-level" also counts as "low" and "level", so "lower-level officials" meets "level".
        words += [part for w in words if "-" in w for part in w.split("-")]
        words = [normal_form(w) for w in words if w not in self.stopwords]
        with self._stem_lock:
            return list(self._stemmer.stemWords(words))

    def word_terms(self, word: str) -> tuple[str, ...]:
        """`terms` of one word, cached: the scorer blanks candidate sentences word by word."""
        cached = self._word_terms.get(word)
        if cached is None:
            cached = tuple(self.terms(word))
            if len(self._word_terms) >= CHUNK_CACHE:
                self._word_terms.clear()
            self._word_terms[word] = cached
        return cached

    def chunk_terms(self, chunk: Chunk) -> tuple[frozenset[str], frozenset[str]]:
        """Stems of a chunk's sentence and of its context, computed once per chunk id."""
        cached = self._chunk_terms.get(chunk.id)
        if cached is None:
            sentence = frozenset(self.terms(chunk.text))
            cached = (sentence, sentence | frozenset(self.terms(chunk.context)))
            if len(self._chunk_terms) >= CHUNK_CACHE:
                self._chunk_terms.clear()
            self._chunk_terms[chunk.id] = cached
        return cached

    def question_terms(self, question: str) -> list[str]:
        """Content stems of a question, without the words that frame it ("how long")."""
        kept = [w for w in WORD.findall(question) if w.lower() not in QUESTION_WORDS and len(w) > 1]
        return sorted(set(self.terms(" ".join(kept))))

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen)

    def seen(self, term: str) -> bool:
        return term in self._idf

    def seen_prefix(self, term: str) -> bool:
        """True when some indexed term extends this one ("crimea" -> "crimean")."""
        if len(term) < 4:
            return False
        at = bisect.bisect_left(self._sorted_terms, term)
        return at < len(self._sorted_terms) and self._sorted_terms[at].startswith(term)


class Spellings:
    """How the articles spell things, for matching a misspelt word of a question (`rag.answer.spelling`).

    `names`: the words the articles capitalise, in their usual form ("zelensky" -> "Zelensky",
    "nato" -> "NATO"): those capitalised inside sentences more often than not, and those that
    open sentences and are no dictionary word ("Hunan province remained…"). `words`: the other
    long words they use more than once ("government", "helicopters"), which a question
    capitalises inside a name ("the Federal Government", "Russian Helicopters").
    """

    #: Words shorter than this are not kept as `words`: "macro" must not stand in for "Macron".
    WORD_LETTERS = 7

    def __init__(self) -> None:
        self._capitalised: Counter[str] = Counter()
        self._opening: Counter[str] = Counter()
        self._lower: Counter[str] = Counter()

    def add(self, sentence: str) -> None:
        for i, match in enumerate(WORD.finditer(sentence)):
            word = match.group().replace("’", "'").removesuffix("'s")
            if word.islower():
                self._lower[word] += 1
            elif word[:1].isupper():
                (self._opening if i == 0 else self._capitalised)[word] += 1

    def table(self) -> dict[str, Any]:
        """{"names": {lower-case name: usual form}, "words": [lower-case long words]}, as stored."""
        usual: dict[str, tuple[int, str]] = {}
        totals: Counter[str] = Counter()
        for form, count in self._capitalised.items():
            key = form.lower()
            totals[key] += count
            if count > usual.get(key, (0, ""))[0]:
                usual[key] = (count, form)
        names = {key: form for key, (_, form) in usual.items() if totals[key] > self._lower.get(key, 0)}
        for form in self._opening:
            key = form.lower()
            if key not in names and not self._lower.get(key) and not word_lemmas(key):
                names[key] = form
        words = sorted(
            word
            for word, count in self._lower.items()
            if count > 1 and len(word) >= self.WORD_LETTERS and word not in names
        )
        return {"names": names, "words": words}


def coverage(question_terms: Sequence[str], text_terms: Set[str], lexicon: Lexicon) -> float:
    """IDF-weighted share of the question's terms present in a text."""
    total = sum(lexicon.idf(t) for t in question_terms)
    if total == 0:
        return 0.0
    return sum(lexicon.idf(t) for t in question_terms if t in text_terms) / total
