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
from typing import Protocol

from rag.answer.vocabulary import mark_countries, normal_form
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
        n = 0
        for text in texts:
            n += 1
            df.update(set(self.terms(text)))
        self._set_statistics(n, df)
        self._article_terms: ArticleVocabulary = {
            source: frozenset(t for text in sentences for t in self.terms(text))
            for source, sentences in (articles or {}).items()
        }

    @classmethod
    def from_statistics(cls, sentences: int, df: Mapping[str, int], articles: ArticleVocabulary) -> Lexicon:
        """The lexicon of a corpus from its stored statistics (`rag.answer.version_files`), not its text.

        `sentences` and `df` (stem -> sentences holding it) give the same IDF as the texts would.
        """
        lexicon = cls.__new__(cls)
        lexicon._setup()
        lexicon._set_statistics(sentences, df)
        lexicon._article_terms = articles
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


def coverage(question_terms: Sequence[str], text_terms: Set[str], lexicon: Lexicon) -> float:
    """IDF-weighted share of the question's terms present in a text."""
    total = sum(lexicon.idf(t) for t in question_terms)
    if total == 0:
        return 0.0
    return sum(lexicon.idf(t) for t in question_terms if t in text_terms) / total
