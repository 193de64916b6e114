"""Copies of one story in the seeds folder, found at index time and folded into one article.

A newsroom's folder holds the same story more than once: saved under two names, kept as a
text file and as the PDF of the page, or syndicated by two outlets with a new headline, a
new date and a paragraph added. Indexed as they are, the copies fill the top results with
the same sentences and an answer cites the story twice. So every refresh compares the
articles' bodies (headline and date left out: a copy is often retitled and re-dated):

- an *exact* copy has the same body words (case, spacing and punctuation aside);
- a *near* copy shares at least `THRESHOLD` of its word 5-grams with the other article
  (Jaccard similarity of the two sets), and states no other figures: the numbers of one are all
  in the other. Two stories written from one template (results, earnings, weather) differ in
  little but their figures, and an update that corrects a figure is not the same story; both
  stay apart. Candidates come from MinHash LSH (datasketch), so
  the comparison does not grow with the square of the folder; each candidate pair is then
  measured exactly. `eval/duplicates.py` measured the threshold (docs/formats.md): 91-100% of
  copies renamed, converted, retitled, re-dated, trimmed, lightly edited or with a paragraph
  added reach 0.5; no two of 11,935 pairs of different stories reach 0.1.

Each group of copies keeps one *canonical* article, chosen so that the same folder always
gives the same choice: the earliest date (an undated article last), then the shortest
name, then the name. The others are searched no more (their sentences stay in the index,
flagged, so a later refresh can unfold them without embedding again), and a citation of
the canonical article lists them ("also in"). Folds are worked out afresh from the whole
folder at every refresh that changes it, so a removed or changed canonical file promotes
the next copy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from rag.index.parsing import ParsedArticle, clean_text, parse_article

#: Words per shingle: long enough that two different stories on one event share few of them
#: (the same names and places, rarely five words in a row), short enough that an edited word
#: changes only five shingles.
SHINGLE_WORDS = 5
#: Jaccard similarity of two bodies' shingle sets from which they are copies of one story.
THRESHOLD = 0.5
#: The LSH index looks for candidates well below the threshold, as its banding misses pairs near
#: its own threshold: at 0.3 (37 bands of 3 rows) it finds 99.3% of pairs at 0.5 and 3.6% at 0.1
#: (at 0.4, 32 bands of 4 rows: 87% and 0.3%), and every candidate is measured exactly anyway.
LSH_THRESHOLD = 0.3
#: MinHash permutations: the LSH's accuracy, at 128 x 4 bytes per article while indexing.
PERMUTATIONS = 128
#: Fixed, so a folder folds the same way on every machine and every run.
SEED = 20231
#: Bodies with fewer shingles than this fold only when they are exact copies: a few edited
#: words swing the similarity of a two-line brief too far for the threshold to mean anything.
MIN_SHINGLES = 20
#: Names the way of folding; stored with each index version, so a change refolds the index
#: (bump the version when the choice of copies or of the canonical article changes otherwise).
FOLD_KEY = f"v1-shingles{SHINGLE_WORDS}-jaccard{THRESHOLD:.2f}"
#: The way of folding stored when RAG_FOLD_DUPLICATES=off.
FOLD_OFF = "off"
#: Metadata of the sentences of a folded copy: the flag searches leave out, and the canonical article.
FOLDED = "folded"
COPY_OF = "copy_of"
#: The Chroma `where` clause of the sentences searched: those of every article but the folded copies.
NOT_FOLDED: dict[str, Any] = {FOLDED: {"$ne": True}}

_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
#: Odd 64-bit multiplier combining word hashes into a shingle hash (arithmetic modulo 2**64).
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Body:
    """What folding knows of one article: its name, date, exact-copy key and shingle hashes."""

    name: str
    date: str | None
    key: str
    shingles: np.ndarray = field(repr=False)
    #: The body's numbers ("18", "400" of 18,400): a near copy states no other figures.
    figures: frozenset[str] = frozenset()

    def agrees(self, other: Body) -> bool:
        """Whether one body's figures are all in the other's (a copy may trim or add, not change them)."""
        return self.figures <= other.figures or other.figures <= self.figures

    def preference(self) -> tuple[bool, str, int, str]:
        """Sort key of the canonical choice: earliest date (undated last), shortest name, name."""
        return (self.date is None, self.date or "", len(self.name), self.name)


@dataclass(frozen=True)
class Folds:
    """The copies found: each folded copy with the canonical article it is folded into."""

    copy_of: dict[str, str] = field(default_factory=dict)

    @cached_property
    def groups(self) -> dict[str, list[str]]:
        """Canonical article -> its folded copies, sorted."""
        found: dict[str, list[str]] = {}
        for copy, canonical in sorted(self.copy_of.items()):
            found.setdefault(canonical, []).append(copy)
        return found

    def also_in(self, source: str) -> tuple[str, ...]:
        """The other articles of `source`'s group (its canonical article first), empty for an article without copies."""
        canonical = self.copy_of.get(source, source)
        return tuple(name for name in [canonical, *self.groups.get(canonical, [])] if name != source)

    def summary(self) -> str:
        """'3 duplicate articles folded into 2', or '' when there are none."""
        copies, groups = len(self.copy_of), len(self.groups)
        if not copies:
            return ""
        return f"{copies} duplicate article{'s' if copies != 1 else ''} folded into {groups}"


def words(raw: str, article: ParsedArticle) -> list[str]:
    """The body's words, case-folded, as parsing reads the article (headline, date and left-out lines not included)."""
    return _WORD.findall(" ".join(clean_text(raw[s:e]) for s, e in article.paragraphs).casefold())


class _WordHashes:
    """A stable 64-bit hash per word (Python's own `hash` changes between processes), remembered per run."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}

    def __call__(self, tokens: list[str]) -> np.ndarray:
        known = self._known
        for token in tokens:
            if token not in known:
                known[token] = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        return np.fromiter((known[t] for t in tokens), dtype=np.uint64, count=len(tokens))


def shingle_hashes(word_hashes: np.ndarray) -> np.ndarray:
    """The sorted, distinct hashes of every run of SHINGLE_WORDS words (one for a shorter body)."""
    if len(word_hashes) == 0:
        return word_hashes
    count = max(1, len(word_hashes) - SHINGLE_WORDS + 1)
    combined = np.zeros(count, dtype=np.uint64)
    for offset in range(min(SHINGLE_WORDS, len(word_hashes))):
        combined = combined * _MULTIPLIER + word_hashes[offset : offset + count]
    return np.unique(combined)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of distinct hashes."""
    if not len(a) or not len(b):
        return 0.0
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / (len(a) + len(b) - shared)


def bodies(articles: Iterable[tuple[str, str]]) -> Iterator[Body]:
    """A `Body` per (name, raw text) with any words in its body."""
    hashes = _WordHashes()
    for name, raw in articles:
        article = parse_article(raw)
        tokens = words(raw, article)
        if not tokens:
            continue
        key = hashlib.blake2b(" ".join(tokens).encode(), digest_size=16).hexdigest()
        figures = frozenset(token for token in tokens if _DIGIT.search(token))
        yield Body(name, article.date, key, shingle_hashes(hashes(tokens)), figures)


def find_folds(found: Iterable[Body], threshold: float = THRESHOLD) -> Folds:
    """Group copies: exact copies by their key, near copies by the shingles' Jaccard similarity.

    Articles are taken in the order of preference; each one not yet folded becomes the
    canonical article of the unfolded articles similar to it. A copy is therefore always
    similar to its canonical article itself, never only through a chain of copies.
    """
    from datasketch import MinHash, MinHashLSH

    ordered = sorted(found, key=Body.preference)
    exact: dict[str, list[Body]] = {}
    for body in ordered:
        exact.setdefault(body.key, []).append(body)
    firsts = [group[0] for group in exact.values()]  # in preference order, as dicts keep insertion order
    rank = {body.name: i for i, body in enumerate(firsts)}
    by_name = {body.name: body for body in firsts}
    lsh = MinHashLSH(threshold=min(threshold, LSH_THRESHOLD), num_perm=PERMUTATIONS)
    sketches: dict[str, Any] = {}
    # 32-bit values are enough to find candidates, and hash about three times faster than 64-bit ones
    blank = MinHash(num_perm=PERMUTATIONS, seed=SEED, hashfunc=int, scheme="affine32")
    for body in firsts:
        if len(body.shingles) >= MIN_SHINGLES:
            sketch = blank.copy()
            sketch.update_batch((body.shingles >> np.uint64(32)).astype(np.uint32))
            sketches[body.name] = sketch
            lsh.insert(body.name, sketch)
    canonical_of: dict[str, str] = {}
    for body in firsts:
        if body.name in canonical_of:
            continue
        canonical_of[body.name] = body.name
        if body.name not in sketches:
            continue
        for name in sorted(lsh.query(sketches[body.name]), key=rank.__getitem__):
            other = by_name[name]
            if name not in canonical_of and body.agrees(other) and jaccard(body.shingles, other.shingles) >= threshold:
                canonical_of[name] = body.name
    return Folds(
        {
            body.name: canonical_of[group[0].name]
            for group in exact.values()
            for body in group
            if body.name != canonical_of[group[0].name]
        }
    )


def fold_articles(articles: Iterable[tuple[str, str]], threshold: float = THRESHOLD) -> Folds:
    """The folds of these (name, raw text) articles."""
    return find_folds(bodies(articles), threshold)


def folded_copies(collection: Any, page: int = 5000) -> dict[str, str]:
    """Copy -> canonical article, as stored in an index version (read from each copy's first sentence)."""
    found: dict[str, str] = {}
    offset = 0
    while True:
        got = collection.get(
            where={"$and": [{FOLDED: True}, {"position": 0}]}, include=["metadatas"], limit=page, offset=offset
        )
        for meta in got["metadatas"]:
            found[meta["source"]] = meta[COPY_OF]
        if len(got["ids"]) < page:
            return found
        offset += page
