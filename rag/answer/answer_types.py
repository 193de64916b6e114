"""What kind of thing a question asks for, and whether a sentence contains one.

"How old is Medinsky?" is on topic for every sentence that names Medinsky, but only a
sentence with an age in it answers it. Judging the expected answer from the question's
opening words lets the offline answerer refuse when no retrieved sentence holds that kind
of answer, instead of quoting the nearest sentence about the right person.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.lexicon import stopwords
from rag.answer.vocabulary import countries

#: Where in a text the asked-for thing is: (start, end) character offsets.
Span = tuple[int, int]
#: Finds the asked-for kind of thing in a text, or None.
AnswerType = Callable[[str], Span | None]

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
#: Month names as news writes them: "September", "Sept.", "Sep".
_MONTH = rf"(?:{_MONTHS}|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?)"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|tens"
)
# A quantity, not a year: "how many" is not answered by "in 2022".
_NUMBER_WORD = re.compile(rf"(?:{_NUMBER_WORDS}|half|third|quarter|fifth)", re.IGNORECASE)
_NUMBER = re.compile(rf"\b(?!(?:19|20)\d\d\b)\d|\b{_NUMBER_WORD.pattern}\b", re.IGNORECASE)
_QUANTITY = rf"(?:\d[\d,.]*|{_NUMBER_WORDS}|a few|several|an?)"
_UNITS = r"(?:second|minute|hour|day|week|month|year|kilomet(?:re|er)|km|mile|met(?:re|er))s?"
#: "less than two hours", "the 1,000-kilometre front", "a 30-day ceasefire".
_MEASURE = re.compile(rf"\b{_QUANTITY}[\s-]+{_UNITS}\b", re.IGNORECASE)
_TIME = re.compile(
    rf"\d|\b({_WEEKDAYS}|{_MONTHS}|spring|summer|autumn|winter|morning|afternoon|evening|night|"
    r"week|weekend|month|year|today|yesterday)\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b\d{1,2}(:\d\d)?\s*(a\.?m\b\.?|p\.?m\b\.?)|\b\d{1,2}:\d\d\b|\b(noon|midnight|o'clock)\b", re.I)
_DATE = re.compile(
    rf"\b{_MONTH} \d{{1,2}}\b(?:,? \d{{4}})?|\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}(?: \d{{4}})?|"
    r"\b\d{4}-\d\d-\d\d\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\bborn\b",
    re.IGNORECASE,
)
#: What a "when" question is answered by, most specific first: a date, a day or month, a year.
_WHEN = (
    _DATE,
    re.compile(rf"\b(?:{_WEEKDAYS}|{_MONTH})\b(?: \d{{4}})?", re.IGNORECASE),
    re.compile(r"\b(?:19|20)\d\d\b"),
    _TIME,
)
_AGE = re.compile(r"\b\d{1,3}(-year-old| years? old)\b|\baged? \d{1,3}\b|\bage of \d{1,3}\b", re.I)

_ACCORDING_TO = re.compile(r"^according to [^,]+,\s*", re.I)
_ASKS_AGE = re.compile(r"^how old\b", re.I)
_ASKS_MEASURE = re.compile(r"^how long\b", re.I)
_ASKS_COUNT = re.compile(r"^how many\b", re.I)
_ASKS_NUMBER = re.compile(
    r"^(how (much|far)|what (share|percentage|proportion))\b|"
    r"^what (is|was|are|were) (the )?([\w’']+['’]s )?(temperature|population|price|cost|exchange rate|"
    r"death toll|budget|salary|turnout|percentage)\b",
    re.I,
)
_ASKS_CLOCK = re.compile(r"^(at )?what time\b", re.I)
_ASKS_DATE = re.compile(r"^(on )?what date\b|\bdate of birth\b|\bbirthday\b|^when was .+ born\b", re.I)
_ASKS_TIME = re.compile(r"^(when|since (what|when)|in what year|what year|on (which|what) day)\b", re.I)
_ASKS_PERSON = re.compile(
    r"^(who|whom|whose)\b|^(what is|what's|what was) the name of (the |a |an )?([\w-]+ ){0,4}(who|whom|whose)\b|"
    r"^(which|name the|what) (\w+ ){0,3}(official|officials|minister|ministers|"
    r"leader|leaders|adviser|advisers|senator|diplomats?|chiefs?|spokes\w+|envoys?)\b",
    re.I,
)

_PARTICLES = r"(?:von|van|der|den|de|del|da|di|al|bin|le|la)"
_CAPITALISED_RUN = re.compile(rf"\b[A-Z][\w’'-]+(?: (?:{_PARTICLES} )*[A-Z][\w’'-]+)+")
#: A single surname as the speaker of a quote ("..., Rutte added.").
_SPEAKER = re.compile(
    r"[,”\"] (?:([A-Z][a-z]+) (?:said|added|says|noted|told|continued|wrote)|"
    r"(?:said|added|says) ([A-Z][a-z]+))\b"
)
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Sir)\.? [A-Z][a-z]+")
#: Capitalised words that make titles and institutions, not personal names.
_NOT_NAME_WORDS = (
    frozenset(
        [
            "President",
            "Presidential",
            "Prime",
            "Minister",
            "Ministry",
            "Foreign",
            "Defense",
            "Defence",
            "Deputy",
            "Secretary",
            "General",
            "Chancellor",
            "Senator",
            "Republican",
            "Democrat",
            "Office",
            "Council",
            "Union",
            "Commission",
            "Kremlin",
            "White",
            "House",
            "State",
            "Security",
            "National",
            "European",
            "Political",
            "Community",
            "Department",
            "Agency",
            "Intelligence",
            "Military",
            "Director",
            "Chief",
            "Staff",
            "Spokesman",
            "Spokeswoman",
            "Press",
            "Aide",
            "Adviser",
            "Leader",
            "Party",
            "Parliament",
            "Army",
            "Forces",
            "Air",
            "Force",
            "Base",
            "Summit",
            "Sea",
            "Fleet",
            "Guard",
            "United",
            "Nations",
            "States",
            "Kingdom",
            "Soviet",
            "Federal",
            "Service",
            "Pool",
            "Photo",
            "The",
            "A",
            "An",
            "In",
            "On",
            "At",
            "Of",
            "And",
            "For",
            "To",
            "By",
            "With",
            "From",
        ]
    )
    | frozenset(m.capitalize() for m in (_MONTHS + "|" + _WEEKDAYS).split("|"))
    | frozenset(w.capitalize() for w in countries().words)
)
_AUXILIARIES = frozenset(
    ["did", "do", "does", "were", "was", "are", "is", "have", "has", "had", "will", "would", "could", "can", "should"]
)
_WORDS = re.compile(r"[^\W_]+(?:[,.]\d+)*")
#: How far a counted noun may follow its number ("five civilians", "four lower-level officials").
_COUNT_REACH = 4
#: Words after which a number no longer counts the next noun ("30 days and the exchange").
_CLAUSE_BREAKS = frozenset(["and", "or", "but", "while", "as", "than"])
_FUNCTION_WORDS = frozenset(
    ["the", "a", "an", "of", "in", "on", "at", "to", "from", "for", "with", "by", "about", "their", "its", "his", "her"]
)
_YEAR = re.compile(r"(?:19|20)\d\d")


def person_span(text: str) -> Span | None:
    """Where a sentence names someone ("Hakan Fidan", "Mr Zelensky", "…, Rutte added"), or None."""
    for run in _CAPITALISED_RUN.finditer(text):
        words = [w.rstrip("’'s") if w.endswith(("’s", "'s")) else w for w in run.group().split()]
        names = [w for w in words if not _not_a_name(w)]
        if len(names) >= 2:
            return _name_part(text, run.start(), run.group())
    honorific = _HONORIFIC.search(text)
    if honorific:
        return honorific.span()
    for match in _SPEAKER.finditer(text):
        group = 1 if match.group(1) else 2
        if not _not_a_name(match.group(group)):
            return match.span(group)
    return None


def _not_a_name(word: str) -> bool:
    """Title, institution, month, country or function words, and acronyms, in a capitalised run."""
    return word in _NOT_NAME_WORDS or word.isupper() or word.lower() in stopwords()


def _name_part(text: str, start: int, run: str) -> Span:
    """The run from its first name word on ("Foreign Minister Hakan Fidan" -> "Hakan Fidan")."""
    offset = 0
    for word in run.split():
        if not _not_a_name(word):
            break
        offset += len(word) + 1
    end = start + len(run)
    if text[end - 2 : end] in ("'s", "’s"):
        end -= 2
    return start + offset, end


def names_a_person(text: str) -> bool:
    """True when a sentence contains something shaped like a personal name."""
    return person_span(text) is not None


def _counted(question: str) -> list[str]:
    """Word keys for what "how many" counts: its nouns and the verb that follows the auxiliary.

    "How many people were injured?" is answered by "29 injured" as well as "29 people"; in
    "How many drones did Russia launch?" the word after the auxiliary is a name, not a verb.
    """
    words = question.split()[2:]
    wanted: list[str] = []
    counting = True  # "how many prisoners of war": the noun before "of" is what is counted
    for i, word in enumerate(words):
        if word.lower() in _AUXILIARIES:
            wanted.extend(w for w in words[i + 1 : i + 2] if not w[:1].isupper())
            break
        if word.lower() == "of":
            counting = False
        elif counting:
            wanted.append(word)
    return [_key(w) for w in wanted if w.lower() not in _FUNCTION_WORDS and len(_key(w)) >= 3]


def counted_keys(question: str) -> list[str]:
    """Word keys of what a "how many" question counts (empty for other questions)."""
    question = _ACCORDING_TO.sub("", question.strip())
    return _counted(question) if _ASKS_COUNT.search(question) else []


def _key(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower()).removesuffix("s")[:5]


def _is_quantity(token: str) -> bool:
    return (token[0].isdigit() and not _YEAR.fullmatch(token)) or bool(_NUMBER_WORD.fullmatch(token))


def _count_of(keys: list[str]) -> AnswerType:
    def count_span(text: str) -> Span | None:
        tokens = list(_WORDS.finditer(text))
        for i, token in enumerate(tokens):
            if _is_quantity(token.group().lower()):
                for t in tokens[i + 1 : i + 1 + _COUNT_REACH]:
                    if t.group().lower() in _CLAUSE_BREAKS:
                        break
                    if any(t.group().lower().startswith(k) for k in keys):
                        return token.start(), t.end()
        return None

    return count_span


def _searcher(pattern: re.Pattern[str]) -> AnswerType:
    def search(text: str) -> Span | None:
        match = pattern.search(text)
        return match.span() if match else None

    return search


_FIND_AGE, _FIND_MEASURE, _FIND_NUMBER = _searcher(_AGE), _searcher(_MEASURE), _searcher(_NUMBER)
_FIND_CLOCK, _FIND_DATE = _searcher(_CLOCK), _searcher(_DATE)


def _find_time(text: str) -> Span | None:
    """The most specific time in a text: a date before a weekday or month, before a year."""
    for pattern in _WHEN:
        match = pattern.search(text)
        if match:
            return match.span()
    return None


def expectation(question: str) -> tuple[AnswerType | None, AnswerType | None]:
    """(preferred, required): the test that earns a sentence the answer-type bonus, and the
    test a sentence must pass to be quoted at all.

    Ages, dates, times and quantities are plain patterns and rule a sentence out when
    missing. The person detector (capitalised words) and the counted-noun check ("how many
    survivors" vs "37 people were rescued") miss often on unseen news, so they only lower
    the score; a count question still needs some quantity.
    """
    preferred = answer_type(question)
    if preferred is None or preferred is person_span:
        return preferred, None
    if _ASKS_COUNT.search(_ACCORDING_TO.sub("", question.strip())):
        return preferred, _FIND_NUMBER
    return preferred, preferred


def answer_type(question: str) -> AnswerType | None:
    """A test a sentence must pass to answer the question, judged from its opening words."""
    question = _ACCORDING_TO.sub("", question.strip())
    if _ASKS_AGE.search(question):
        return _FIND_AGE
    if _ASKS_MEASURE.search(question):
        return _FIND_MEASURE
    if _ASKS_COUNT.search(question):
        keys = _counted(question)
        return _count_of(keys) if keys else _FIND_NUMBER
    if _ASKS_NUMBER.search(question):
        return _FIND_NUMBER
    if _ASKS_CLOCK.search(question):
        return _FIND_CLOCK
    if _ASKS_DATE.search(question):
        return _FIND_DATE
    if _ASKS_TIME.search(question):
        return _find_time
    if _ASKS_PERSON.search(question):
        return person_span
    return None


def all_spans(test: AnswerType, text: str, limit: int = 8) -> list[Span]:
    """Every phrase `test` finds in a text, in order, each widened by `answer_phrase` (each found
    phrase is blanked and the test rerun, so "12,000" is one phrase, not five digits)."""
    found: list[Span] = []
    for _ in range(limit):
        found_at = test(text)
        if found_at is None or found_at[1] <= found_at[0]:
            break
        span = answer_phrase(text, found_at)
        found.append(span)
        text = text[: span[0]] + "_" * (span[1] - span[0]) + text[span[1] :]
    return sorted(found)


_TOKEN_END = re.compile(r"[^\s,;:!?()\"“”]*")
_UNIT_AFTER = re.compile(
    r"\s+(?:per ?cent|percent|%|(?:hundred|thousand|million|billion|trillion)s?|" + _UNITS + r"|[a-z]+-year-old)\b",
    re.IGNORECASE,
)


def answer_phrase(text: str, span: Span) -> Span:
    """The found span widened to whole words, with a unit that follows a number ("25 per cent")."""
    start, end = span
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in '("“‘':
        start -= 1
    token = _TOKEN_END.match(text, end)
    if token:
        end = token.end()
    unit = _UNIT_AFTER.match(text, end)
    if unit and any(ch.isdigit() for ch in text[start:end]):
        end = unit.end()
    while end > start and text[end - 1] in ".,;:’'\"”":
        end -= 1
    return start, end
