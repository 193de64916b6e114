"""What kind of thing a question asks for, and whether a sentence contains one.

"How old is Medinsky?" is on topic for every sentence that names Medinsky, but only a
sentence with an age in it answers it. Judging the expected answer from the question's
opening words lets the offline answerer refuse when no retrieved sentence holds that kind
of answer, instead of quoting the nearest sentence about the right person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

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
_AGE = re.compile(r"\b\d{1,3}(-year-old| years? old)\b|\baged? \d{1,3}\b|\bage of \d{1,3}\b", re.I)

_ACCORDING_TO = re.compile(r"^according to [^,]+,\s*", re.I)
_ASKS_AGE = re.compile(r"^how old\b", re.I)
_ASKS_MEASURE = re.compile(r"^how long\b", re.I)
_ASKS_COUNT = re.compile(r"^how many\b", re.I)
#: Amounts of money, shares and physical quantities: answered by MONEY, PERCENT or QUANTITY entities.
_ASKS_AMOUNT = re.compile(
    r"^how much\b|"
    r"^what (is|was|are|were) (the )?([\w’']+['’]s )?(price|cost|value|budget|salary|fine|bill)\b|\bworth\b",
    re.I,
)
_ASKS_SHARE = re.compile(r"^what (share|percentage|proportion|fraction)\b", re.I)
_ASKS_DISTANCE = re.compile(r"^how (far|high|deep|tall|big|large|heavy)\b", re.I)
#: Figures that are plain numbers ("the death toll", "the turnout", "the population").
_ASKS_NUMBER = re.compile(
    r"^what (is|was|are|were) (the )?([\w’']+['’]s )?(temperature|population|exchange rate|death toll|turnout|"
    r"number|score|rate|figure|total)\b",
    re.I,
)
_ASKS_CLOCK = re.compile(r"^(at )?what time\b", re.I)
_ASKS_DATE = re.compile(r"^(on )?what date\b|\bdate of birth\b|\bbirthday\b|^when was .+ born\b", re.I)
_ASKS_TIME = re.compile(r"^(when|since (what|when)|in what year|what year|on (which|what) day)\b", re.I)
#: "What is the name of the man who…", "Which minister…": a person and nothing else.
_ASKS_NAMED_PERSON = re.compile(
    r"^(what is|what's|what was|what were) the names? of (the |a |an )?([\w-]+ ){0,4}(who|whom|whose)\b|"
    r"^(which|name the|what) (\w+ ){0,3}(official|officials|minister|ministers|leader|leaders|adviser|advisers|"
    r"senator|diplomats?|chiefs?|spokes\w+|envoys?|man|woman|men|women|player|judge|president|premier|"
    r"executive|director|chairman|chairwoman|mayor|governor|candidate|politician|MP|author|actor|singer)\b",
    re.I,
)
_NAMED_ROLE = re.compile(
    r"^(?:what is|what's|what was|what were) the names? of (?:the |a |an )?(?:[\w-]+ ){0,4}?"
    r"([\w-]+) (?:who|whom|whose)\b",
    re.I,
)


def role_noun(question: str) -> str | None:
    """The role a "what is the name of the … who" question describes ("interpreter").

    The person must be named where that role is spoken of: "What is the name of the
    interpreter who worked for the delegation?" is not answered by the delegation's leader.
    ("Which officials…?" is left alone: news names officials without calling them that.)
    """
    named = _NAMED_ROLE.match(_ACCORDING_TO.sub("", question.strip()))
    return named.group(1) if named else None


#: "What did Erdogan tell Zelensky…?": answered only by a sentence that reports speech.
_ASKS_STATEMENT = re.compile(
    r"^what (?:did|does|do|has|have|had|will|would) (?P<speaker>.+?) "
    r"(?:say|tell|write|claim|warn|announce|argue|add|stress|insist|accuse|call)\b",
    re.I,
)
_REPORTS_SPEECH = re.compile(
    r"\b(?:said|says|say|saying|told|tells|tell|added|adds|stated|states|noted|warned|warns|stressed|"
    r"declared|insisted|argued|claimed|claims|announced|wrote|writes|accused|accuses|described|called|calls|"
    r"according to|urged|urges|asked|replied|quoted)\b|[\"“”]",
    re.I,
)


def speaker(question: str) -> str | None:
    """Who a "What did X say/tell/claim…?" question is about ("Igor Kostyukov"), or None."""
    match = _ASKS_STATEMENT.search(_ACCORDING_TO.sub("", question.strip()))
    return match.group("speaker") if match else None


def reports_speech(text: str) -> bool:
    """True when a sentence reports what someone said (a speech verb or a quotation)."""
    return bool(_REPORTS_SPEECH.search(text))


#: "Who…": a person as a rule, but groups, organisations and countries act in the news too.
_ASKS_AGENT = re.compile(r"^(who|whom)\b", re.I)
_ASKS_OWNER = re.compile(r"^whose\b", re.I)
#: Which place: the category nouns of the OntoNotes GPE/LOC/FAC labels.
_ASKS_NAMED_PLACE = re.compile(
    r"^(in |to |from |at )?(which|what) (\w+ ){0,2}(city|cities|country|countries|town|state|province|region|"
    r"capital|island|nation|village|suburb|district|port|continent)\b",
    re.I,
)
_ASKS_PLACE = re.compile(r"^(where|from where)\b", re.I)
#: Which organisation: the category nouns of the OntoNotes ORG label.
_ASKS_ORGANISATION = re.compile(
    r"^(which|what) (\w+ ){0,2}(organi[sz]ation|company|companies|firm|group|party|agency|bank|newspaper|"
    r"broadcaster|network|airline|club|team|union|university|court|ministry|department|body)\b",
    re.I,
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
            verbs = [w for w in words[i + 1 :] if not w.lower().endswith("ly")][:1]  # "were officially accredited"
            wanted.extend(w for w in verbs if not w[:1].isupper())
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


def _count_mentioning(keys: list[str]) -> AnswerType:
    """Numbers in a text that mentions what is counted or what happened to it, anywhere in it.

    Looser than `_count_of`, which wants the noun right after the number ("the death toll rose
    to 12 as more bodies of miners were found" answers "how many miners died"), but "How many
    journalists were accredited?" is not answered by a sentence about "four officials".
    """

    def find(text: str, entities: Entities = ()) -> list[Span]:
        words = [w.lower() for w in _WORDS.findall(text)]
        if keys and not any(w.startswith(k) for w in words for k in keys):
            return []
        return _COUNT(text, entities)

    return find


def _searcher(*patterns: re.Pattern[str]) -> AnswerType:
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
    not answer "Who is the chief executive of the Commonwealth Bank?"."""
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

_FIND_AGE, _FIND_NUMBER, _FIND_DATE = _searcher(_AGE), _searcher(_NUMBER), _searcher(_DATE)
_FIND_MEASURE, _FIND_CLOCK = _searcher(_MEASURE), _searcher(_CLOCK)
_PERSON = entity_of("PERSON", possessive=False)
_AGENT = entity_of("PERSON", "ORG", "NORP", "GPE", possessive=False)
_OWNER = either(entity_of("PERSON", "ORG", "NORP", "GPE", possessive=None), _AGENT)
#: A place the tagger missed: a capitalised name after "in", "at", "near"… ("met in Riga"),
#: not a month or weekday ("in May").
_AFTER_PREPOSITION = re.compile(
    rf"\b(?i:in|at|near|outside|from|to)\s+(?!(?i:{_MONTHS}|{_WEEKDAYS})\b)([A-Z][a-z]+(?:[\s-][A-Z][a-z]+)*)\b"
)


def _named_after_preposition(text: str, entities: Entities = ()) -> list[Span]:
    return [m.span(1) for m in _AFTER_PREPOSITION.finditer(text)]


_PLACE = either(entity_of("GPE", "LOC", "FAC", possessive=False), _named_after_preposition)
_ORGANISATION = entity_of("ORG", possessive=False)
_AMOUNT = entity_of("MONEY", "PERCENT", "QUANTITY")
_SHARE = either(entity_of("PERCENT"), _searcher(_FRACTION), entity_of("MONEY"))
_DURATION = either(_FIND_MEASURE, entity_of("DATE", "TIME", shaped=_DURATION_SHAPE))
_DISTANCE = either(entity_of("QUANTITY"), _FIND_MEASURE)
_COUNT = either(_FIND_NUMBER, entity_of("CARDINAL", "QUANTITY", "MONEY"))
#: The most specific time in a text: a date before a weekday or month, before a year, before
#: whatever else the tagger calls a date or time ("last week", "overnight").
_WHEN_TIME = either(_searcher(*_WHEN), entity_of("DATE", "TIME"))


#: Question shapes whose expected kind of answer is only a preference: "Who attacked the
#: convoy?" is answered by "gunmen", "Where did the blaze begin?" by "in the gift shop", and
#: "How many survivors?" by "37 people were rescued", none of them the entity or counted noun.
#: Everything else (ages, dates, amounts, named people, places and organisations) is required.
def expectation(question: str) -> tuple[AnswerType | None, AnswerType | None]:
    """(preferred, required): the test that earns a sentence the answer-type bonus, and the
    test a sentence must pass to be quoted at all."""
    question = _ACCORDING_TO.sub("", question.strip())
    preferred = answer_type(question)
    if preferred is None:
        return None, None
    if _ASKS_COUNT.search(question):
        return preferred, _count_mentioning(_counted(question))
    if _ASKS_PLACE.search(question) or _ASKS_AGENT.search(question) or _ASKS_OWNER.search(question):
        return preferred, None
    return preferred, preferred


def answer_type(question: str) -> AnswerType | None:
    """The kind of thing a question asks for, judged from its opening words, as a test of a
    sentence (its text and named entities)."""
    question = _ACCORDING_TO.sub("", question.strip())
    shapes: list[tuple[re.Pattern[str], AnswerType]] = [
        (_ASKS_AGE, _FIND_AGE),
        (_ASKS_MEASURE, _DURATION),
        (_ASKS_DISTANCE, _DISTANCE),
        (_ASKS_SHARE, _SHARE),
        (_ASKS_AMOUNT, _AMOUNT),
        (_ASKS_NUMBER, _COUNT),
        (_ASKS_CLOCK, either(_FIND_CLOCK, entity_of("TIME"))),
        (_ASKS_DATE, _FIND_DATE),
        (_ASKS_TIME, _WHEN_TIME),
        (_ASKS_NAMED_PERSON, _PERSON),
        (_ASKS_NAMED_PLACE, _PLACE),
        (_ASKS_ORGANISATION, _ORGANISATION),
        (_ASKS_OWNER, _OWNER),
        (_ASKS_AGENT, _AGENT),
        (_ASKS_PLACE, _PLACE),
    ]
    if _ASKS_COUNT.search(question):
        keys = _counted(question)
        return _count_of(keys) if keys else _COUNT
    for pattern, test in shapes:
        if pattern.search(question):
            return test
    return None


def all_spans(test: AnswerType, text: str, entities: Entities = ()) -> list[Span]:
    """Every phrase `test` finds in a text, in order, each widened by `answer_phrase` ("12,000"
    is one phrase, not a phrase per digit group)."""
    return sorted({answer_phrase(text, span) for span in test(text, entities)})


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
