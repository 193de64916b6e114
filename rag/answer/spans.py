"""Where a sentence holds a kind of thing: a person, a place, an amount, a date, a count.

The tests here read a sentence's text and its named entities (found at index time,
`rag.index.entities`) and return where the thing is; `rag.answer.answer_types` picks the
test a question needs. A test runs on the sentence with the question's own words blanked
(`rag.answer.scoring.without_question_words`), so it finds only what the question did not say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

#: What a name the question already says is blanked with (`rag.answer.scoring.question_blanker`).
ASKED_NAME = "="
#: Where in a text the asked-for thing is: (start, end) character offsets.
Span = tuple[int, int]
#: Named entities of a text: (start, end, OntoNotes label), as `rag.index.entities` finds them.
Entities = Sequence[tuple[int, int, str]]
#: Where a text (with its entities) holds the asked-for kind of thing; empty when nowhere.
AnswerType = Callable[[str, Entities], list[Span]]

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
_UNITS = (
    r"(?:second|minute|hour|day|week|fortnight|month|year|decade|centur(?:y|ie)|"
    r"kilomet(?:re|er)|km|mile|met(?:re|er))s?"
)
#: "less than two hours", "the 1,000-kilometre front", "a 30-day ceasefire".
_MEASURE = re.compile(rf"\b{_QUANTITY}[\s-]+{_UNITS}\b(?!\s+time)", re.IGNORECASE)  # not "a second time"
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
#: An age in words: "seven", "twenty-five".
_SPELLED_AGE = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|seven|eight|nine))?|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen)"
)
_AGE = re.compile(
    rf"\b(?:\d{{1,3}}|{_SPELLED_AGE})(?:-year-old| years? old)\b|\baged? \d{{1,3}}\b|\bage of \d{{1,3}}\b", re.I
)
#: News gives an age between commas after a name: "Larry Nassar, 53, pleaded guilty" (the name
#: may be blanked as the question's own, `ASKED_NAME`).
_AGE_AFTER_NAME = re.compile(rf"(?:\b[A-Z][\w'’-]+|{ASKED_NAME}+), (\d{{1,3}}),")

_REPORTS_SPEECH = re.compile(
    r"\b(?:said|says|say|saying|told|tells|tell|added|adds|stated|states|noted|warned|warns|stressed|"
    r"declared|insisted|argued|claimed|claims|announced|wrote|writes|accused|accuses|described|called|calls|"
    r"according to|urged|urges|asked|replied|quoted)\b|[\"“”]",
    re.I,
)
_WORDS = re.compile(r"[^\W_]+(?:[,.]\d+)*")
#: How far a counted noun may follow its number ("five civilians", "four lower-level officials").
_COUNT_REACH = 4
#: Words after which a number no longer counts the next noun ("30 days and the exchange").
_CLAUSE_BREAKS = frozenset(["and", "or", "but", "while", "as", "than"])
_YEAR = re.compile(r"(?:19|20)\d\d")


def reports_speech(text: str) -> bool:
    """True when a sentence reports what someone said (a speech verb or a quotation)."""
    return bool(_REPORTS_SPEECH.search(text))


def _is_quantity(token: str) -> bool:
    return (token[0].isdigit() and not _YEAR.fullmatch(token)) or bool(_NUMBER_WORD.fullmatch(token))


def count_of(keys: list[str]) -> AnswerType:
    def count_spans(text: str, entities: Entities = ()) -> list[Span]:
        tokens = list(_WORDS.finditer(text))
        found = []
        for i, token in enumerate(tokens):
            if _is_quantity(token.group().lower()):
                for t in tokens[i + 1 : i + 1 + _COUNT_REACH]:
                    if t.group().lower() in _CLAUSE_BREAKS:
                        break
                    if any(t.group().lower().startswith(k) for k in keys):
                        found.append((token.start(), t.end()))
                        break
        return found

    return count_spans


def count_mentioning(keys: list[str]) -> AnswerType:
    """Numbers in a text that mentions what is counted or what happened to it, anywhere in it.

    Looser than `count_of`, which wants the noun right after the number ("the death toll rose
    to 12 as more bodies of miners were found" answers "how many miners died"), but "How many
    journalists were accredited?" is not answered by a sentence about "four officials".
    """

    def find(text: str, entities: Entities = ()) -> list[Span]:
        words = [w.lower() for w in _WORDS.findall(text)]
        if keys and not any(w.startswith(k) for w in words for k in keys):
            return []
        return COUNT(text, entities)

    return find


def searcher(*patterns: re.Pattern[str]) -> AnswerType:
    """Matches of the first pattern that matches at all (patterns go from most to least specific)."""

    def search(text: str, entities: Entities = ()) -> list[Span]:
        for pattern in patterns:
            found = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
            if found:
                return found
        return []

    return search


def _unasked(text: str, start: int, end: int) -> bool:
    """True when the entity says something the question did not, once the question's own words
    are blanked (`rag.answer.scoring.without_question_words`): one of its names or figures is
    left ("Xinhua" of "Xinhua news agency" answers "Which news agency…?"), or, for an entity
    without names or figures ("last week"), most of its letters are. "Commonwealth Bank" does
    not answer "Who is the chief executive of the Commonwealth Bank?", nor "Donald Trump" (with
    "Trump" blanked as a name the question says) "Which judge blocked Trump's ban?"."""
    if ASKED_NAME in text[start:end]:
        return False
    if any(w[:1].isupper() or any(ch.isdigit() for ch in w) for w in text[start:end].split()):
        return True
    letters = [ch for ch in text[start:end] if ch.isalnum() or ch == "_"]
    return sum(ch != "_" for ch in letters) * 2 > len(letters)


_POSSESSIVE = re.compile(r"['’]s?\b")


def _is_possessive(text: str, start: int, end: int) -> bool:
    """True for "Ridgeway's", whether the tagger's span stops before the "'s" or takes it in."""
    return bool(_POSSESSIVE.match(text, end)) or text[start:end].endswith(("'s", "’s"))


def entity_of(*labels: str, possessive: bool | None = True, shaped: re.Pattern[str] | None = None) -> AnswerType:
    """A test for named entities with one of `labels` (OntoNotes, `rag.index.entities`); only
    the first label that occurs counts: "Who…?" wants a PERSON before an ORG.

    With `possessive=False`, "Australia's" in "Australia's Commonwealth Bank" is passed over:
    a possessive modifies the noun after it and is not itself the one who acted; with
    `possessive=None` only possessives count ("Whose bid…?" is answered by "Ridgeway's bid"). With `shaped`,
    the entity's text must match it ("two hours" is a duration, "Friday" is not).
    """

    def find(text: str, entities: Entities = ()) -> list[Span]:
        for label in labels:
            found = [
                (start, end)
                for start, end, kind in entities
                if kind == label
                and _unasked(text, start, end)
                and (possessive is True or (possessive is None) == _is_possessive(text, start, end))
                and (shaped is None or shaped.search(text[start:end]))
            ]
            if found:
                return found
        return []

    return find


def either(*tests: AnswerType) -> AnswerType:
    """What the first test that finds anything finds."""

    def find(text: str, entities: Entities = ()) -> list[Span]:
        for test in tests:
            found = test(text, entities)
            if found:
                return found
        return []

    return find


_DURATION_SHAPE = re.compile(
    rf"\b(?:{_QUANTITY}|a few|several|many)\b.*\b{_UNITS}\b|\b(?:fortnight|decades?|centur(?:y|ies)|overnight)\b",
    re.IGNORECASE,
)
_FRACTION = re.compile(r"\b(?:half|third|quarter|fifth|tenth)s?\b|\d[\d.,]*\s*(?:%|per ?cent\b|percent\b)", re.I)


def _age_after_name(text: str, entities: Entities = ()) -> list[Span]:
    return [m.span(1) for m in _AGE_AFTER_NAME.finditer(text)]


FIND_NUMBER, FIND_DATE = searcher(_NUMBER), searcher(_DATE)
FIND_AGE = either(searcher(_AGE), _age_after_name)
FIND_MEASURE, FIND_CLOCK = searcher(_MEASURE), searcher(_CLOCK)
PERSON = entity_of("PERSON", possessive=False)
AGENT = entity_of("PERSON", "ORG", "NORP", "GPE", possessive=False)
OWNER = either(entity_of("PERSON", "ORG", "NORP", "GPE", possessive=None), AGENT)
#: A place the tagger missed: a capitalised name after "in", "at", "near"… ("met in Riga"),
#: not a month or weekday ("in May").
_AFTER_PREPOSITION = re.compile(
    rf"\b(?i:in|at|near|outside|from|to)\s+(?!(?i:{_MONTHS}|{_WEEKDAYS})\b)([A-Z][a-z]+(?:[\s-][A-Z][a-z]+)*)\b"
)


def _named_after_preposition(text: str, entities: Entities = ()) -> list[Span]:
    return [m.span(1) for m in _AFTER_PREPOSITION.finditer(text)]


PLACE = either(entity_of("GPE", "LOC", "FAC", possessive=False), _named_after_preposition)
_YEAR_SHAPE = re.compile(r"\b(?:1[5-9]|20)\d\d(?:['’]?s)?\b")
#: A year the tagger missed, where a preposition makes it a time ("built in 1873", "since the
#: 1990s"); a bare "1500 workers" is a count.
_YEAR_AFTER = re.compile(
    r"\b(?i:in|since|by|from|until|during|of|before|after)\s+(?:the\s+)?(" + _YEAR_SHAPE.pattern + ")"
)


def _year_after_preposition(text: str, entities: Entities = ()) -> list[Span]:
    return [m.span(1) for m in _YEAR_AFTER.finditer(text)]


#: What "In what year…?" is answered by: a date holding a year or a decade.
FIND_YEAR = either(entity_of("DATE", shaped=_YEAR_SHAPE), _year_after_preposition)
#: What "What is the name of…?" is answered by: a proper name of any kind.
NAME = entity_of(
    "PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", possessive=False
)
ORGANISATION = entity_of("ORG", possessive=False)
AMOUNT = entity_of("MONEY", "PERCENT", "QUANTITY")
MONEY = entity_of("MONEY")
SHARE = either(entity_of("PERCENT"), searcher(_FRACTION), entity_of("MONEY"))
DURATION = either(FIND_MEASURE, entity_of("DATE", "TIME", shaped=_DURATION_SHAPE))
DISTANCE = either(entity_of("QUANTITY"), FIND_MEASURE)
COUNT = either(FIND_NUMBER, entity_of("CARDINAL", "QUANTITY", "MONEY"))
#: The most specific time in a text: a date before a weekday or month, before a year, before
#: whatever else the tagger calls a date or time ("last week", "overnight").
WHEN_TIME = either(searcher(*_WHEN), entity_of("DATE", "TIME"))


def all_spans(test: AnswerType, text: str, entities: Entities = ()) -> list[Span]:
    """Every phrase `test` finds in a text, in order, each widened by `answer_phrase` ("12,000"
    is one phrase, not a phrase per digit group)."""
    return sorted({answer_phrase(text, span) for span in test(text, entities)})


#: Where a phrase's last word ends: "2:1" (a score) and "10:30" (a time) are one word.
_TOKEN_END = re.compile(r"(?:[^\s,;:!?()\"“”]|:(?=\d))*")
_UNIT_AFTER = re.compile(
    r"\s+(?:per ?cent|percent|%|(?:hundred|thousand|million|billion|trillion)s?|" + _UNITS + r"|[a-z]+-year-old)\b",
    re.IGNORECASE,
)


#: A number just before a span that opens with "million", "hundred"… ("six million Jews").
_COUNT_BEFORE = re.compile(rf"\b(?:\d[\d,.]*|{_NUMBER_WORDS}|a|an)\s+\Z", re.IGNORECASE)
_MULTIPLIER = re.compile(r"(?:hundred|thousand|million|billion|trillion)s?\b", re.IGNORECASE)


def answer_phrase(text: str, span: Span) -> Span:
    """The found span widened to whole words, with a unit that follows a number ("25 per cent")."""
    start, end = span
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in '("“‘)]':
        start -= 1
    closing = text.find(")", start, end)
    if closing != -1 and "(" not in text[start:closing]:  # "(CNN)Malaysian": the tagger's span
        start = closing + 1
    counted = _COUNT_BEFORE.search(text, 0, start)
    if counted and _MULTIPLIER.match(text, start):  # "six million", not "million": the count is whole
        start = counted.start()
    token = _TOKEN_END.match(text, end)
    if token:
        end = token.end()
    unit = _UNIT_AFTER.match(text, end)
    if unit and any(ch.isdigit() for ch in text[start:end]):
        end = unit.end()
    while end > start and text[end - 1] in ".,;:’'\"”":
        end -= 1
    return start, end
