"""Normal forms that let different wordings of one fact meet, from maintained data.

- Inflections: lemminflect's lemma tables ("met" -> meet, "women" -> woman, "fled" ->
  flee), which the Snowball stemmer alone leaves apart.
- Countries: countryinfo's data for every country (name, alternative names, demonym,
  capital), so "Ukraine's team", "the Ukrainian delegation" and "Kyiv said" all carry one
  token, as news prose uses them interchangeably. Capitals are included because news uses
  them as metonyms ("Moscow's team"); a capital that is also another place's name
  ("Victoria") then meets its country too, a rare false match accepted for the coverage.
"""

from __future__ import annotations

import importlib.abc
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

#: Tokens countries are normalised to (never an English word): "isoukr", "isousa".
_PREFIX = "iso"
_LATIN = re.compile(r"^[A-Za-z][A-Za-z .'-]*$")


@dataclass(frozen=True)
class Countries:
    """Every way of naming a country that countryinfo knows, mapped to one token."""

    words: dict[str, str]  # lower-case single word -> token ("ukrainian" -> "isoukr")
    phrases: dict[str, str]  # lower-case multi-word name -> token ("united states" -> "isousa")
    codes: dict[str, str]  # upper-case code, matched case-sensitively ("US", "U.S." -> "isousa")
    capitals: frozenset[str] = frozenset()  # lower-case capital cities ("riga"): a place within the country

    def pattern(self, table: dict[str, str], flags: int) -> re.Pattern[str] | None:
        if not table:
            return None
        ordered = sorted(table, key=len, reverse=True)
        names = "|".join(re.escape(p) for p in ordered)
        return re.compile(r"(?<![\w.])(" + names + r")(?:['’]s)?(?!\w)", flags)


def _names(data: dict[str, object]) -> list[str]:
    names: list[object] = [data.get("name"), data.get("demonym")]
    alternatives = data.get("altSpellings")
    if isinstance(alternatives, list):
        names += alternatives
    capital = data.get("capital")
    if isinstance(capital, str) and capital:
        names += [capital, capital.split(" ")[0]]
    demonym = data.get("demonym")
    if isinstance(demonym, str) and demonym and not demonym.endswith(("ese", "ss", "s")):
        names.append(f"{demonym}s")  # "Ukrainians"
    return [n for n in names if isinstance(n, str) and _LATIN.match(n)]


@cache
def countries() -> Countries:
    """The country tables, read once from countryinfo's package data."""
    words: dict[str, str] = {}
    phrases: dict[str, str] = {}
    codes: dict[str, str] = {}
    capitals: set[str] = set()
    for entry in (resources.files("countryinfo") / "data").iterdir():
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text(encoding="utf-8"))
        iso = (data.get("ISO") or {}).get("alpha3")
        if not iso:
            continue
        token = f"{_PREFIX}{iso.lower()}"
        if isinstance(data.get("capital"), str) and data["capital"]:
            capitals.add(data["capital"].lower())
        for name in _names(data):
            if name.isupper() and len(name) <= 3:
                codes.setdefault(name, token)
                codes.setdefault(".".join(name) + ".", token)
            elif " " in name or "." in name:
                phrases.setdefault(name.lower(), token)
            else:
                words.setdefault(name.lower(), token)
    return Countries(words, phrases, codes, frozenset(capitals))


@cache
def _patterns() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    table = countries()
    return table.pattern(table.phrases, re.IGNORECASE), table.pattern(table.codes, 0)


def mark_countries(text: str) -> str:
    """Multi-word country names and upper-case codes ("United States", "U.S.") as one token each."""
    table = countries()
    phrase, code = _patterns()
    if phrase is not None:
        text = phrase.sub(lambda m: f" {table.phrases[m.group(1).lower()]} ", text)
    if code is not None:
        text = code.sub(lambda m: f" {table.codes[m.group(1)]} ", text)
    return text


_LEMMAS_LOADING = threading.Lock()


@cache
def _lemmas() -> Callable[[str], dict[str, tuple[str, ...]]]:
    """lemminflect's lookup, its tables loaded once.

    lemminflect reads its gzip tables on the first call without a lock, so twenty threads
    answering their first questions at once each read them (seconds apiece on two cores).
    On import it also hooks itself into spaCy whenever spaCy can be imported, which would
    add spaCy's 0.7 s import to every cold `rag ask` (spaCy is installed for indexing); the
    hook is never used here, so spaCy is hidden from that import unless it is loaded already.
    """
    with _LEMMAS_LOADING:
        hide = _HideSpacy() if "spacy" not in sys.modules else None
        if hide is not None:
            sys.meta_path.insert(0, hide)
        try:
            from lemminflect import getAllLemmas
        finally:
            if hide is not None:
                sys.meta_path.remove(hide)
        getAllLemmas("loaded")
    return getAllLemmas


class _HideSpacy(importlib.abc.MetaPathFinder):
    """Makes `import spacy` fail in the thread that installed it (see `_lemmas`); other
    threads (an upload being indexed in the chat) import spaCy as usual."""

    def __init__(self) -> None:
        self.owner = threading.get_ident()

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "spacy" and threading.get_ident() == self.owner:
            raise ModuleNotFoundError("spaCy is not needed for lemmas")
        return None


def word_lemmas(word: str) -> dict[str, tuple[str, ...]]:
    """A lower-case word's lemmas by part of speech ({} for a word lemminflect does not know)."""
    return _lemmas()(word)


@lru_cache(maxsize=100_000)
def normal_form(word: str) -> str:
    """A lower-case word's normal form: its country token, else its lemma, else itself."""
    token = countries().words.get(word)
    if token is not None:
        return token
    lemmas = _lemmas()(word)
    for pos in ("VERB", "NOUN", "ADJ"):
        if pos in lemmas:
            return str(lemmas[pos][0])
    return word
