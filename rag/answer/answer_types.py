"""What kind of thing a question asks for, judged from its words.

"How old is Medinsky?" is on topic for every sentence that names Medinsky, but only a
sentence with an age in it answers it. Judging the expected answer from the question's
opening words lets the offline answerer refuse when no retrieved sentence holds that kind
of answer, instead of quoting the nearest sentence about the right person.
"""

from __future__ import annotations

import re

from rag.answer.spans import (
    AGENT,
    AMOUNT,
    COUNT,
    DISTANCE,
    DURATION,
    FIND_AGE,
    FIND_CLOCK,
    FIND_DATE,
    FIND_YEAR,
    MONEY,
    NAME,
    ORGANISATION,
    OWNER,
    PERSON,
    PLACE,
    SHARE,
    WHEN_TIME,
    AnswerType,
    count_mentioning,
    count_of,
    either,
    entity_of,
)

_ACCORDING_TO = re.compile(r"^according to [^,]+,\s*", re.I)
#: A word between "which/what" and the noun that says what is asked for, unless it is an auxiliary:
#: "What did French finance minister Michel Sapin say…?" asks what he said, not which minister.
_MODIFIER = (
    r"(?!(?:did|does|do|is|was|are|were|be|been|being|has|have|had|will|would|shall|should|can|could|may|might|"
    r"must)\b)\w+ "
)
_ASKS_AGE = re.compile(r"^how old\b", re.I)
_ASKS_MEASURE = re.compile(r"^how long\b", re.I)
_ASKS_COUNT = re.compile(r"^how many\b", re.I)
#: Amounts of money, shares and physical quantities: answered by MONEY, PERCENT or QUANTITY entities.
#: "How much did HNA pay per share?" is answered by money, not by "10 percent".
_ASKS_MONEY = re.compile(
    r"^how much (?:[\w’'-]+ ){0,6}?(?:pay|paid|cost|costs|spend|spent|charge|charged|earn|earned|fine|fined|"
    r"owe|owed)\b",
    re.I,
)
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
_ASKS_TIME = re.compile(r"^(when|since (what|when)|on (which|what) day)\b", re.I)
#: "In what year was the bridge built?" is answered by a year, not by "17 kilometers".
_ASKS_YEAR = re.compile(r"^(in |since )?(what|which) year\b", re.I)
#: "What is the name of the man who…", "Which minister…": a person and nothing else.
_ASKS_NAMED_PERSON = re.compile(
    r"^(what is|what's|what was|what were) the names? of (the |a |an )?([\w-]+ ){0,4}(who|whom|whose)\b|"
    rf"^(which|name the|what) ({_MODIFIER}){{0,3}}(official|officials|minister|ministers|leader|leaders|"
    r"adviser|advisers|senator|diplomats?|chiefs?|spokes\w+|envoys?|man|woman|men|women|player|judge|president|premier|"
    r"executive|director|chairman|chairwoman|mayor|governor|candidate|politician|MP|author|actor|singer)\b",
    re.I,
)
#: "What is the name of the PVV supporter Pechtold sued?": a name of any kind, new to the question.
_ASKS_NAME = re.compile(r"^(what is|what's|what was|what were|give) the names? of\b", re.I)
_NAMED_ROLE = re.compile(
    r"^(?:what is|what's|what was|what were) the names? of (?:the |a |an )?((?:[\w-]+ ){0,4}?"
    r"[\w-]+) (?:who|whom|whose)\b",
    re.I,
)


def role_noun(question: str) -> str | None:
    """The role a "what is the name of the … who" question describes: its noun and the names
    in it ("interpreter", "Economic Development Minister", "French president" of "former French
    president").

    The person must be named where that role is spoken of: "What is the name of the
    interpreter who worked for the delegation?" is not answered by the delegation's leader.
    ("Which officials…?" is left alone: news names officials without calling them that.)
    """
    named = _NAMED_ROLE.match(_ACCORDING_TO.sub("", question.strip()))
    if named is None:
        return None
    # the head noun and the names in the role must be said; "young", "30-year-old" need not be
    *modifiers, head = named.group(1).split()
    return " ".join([w for w in modifiers if w[:1].isupper()] + [head])


#: "What did Erdogan tell Zelensky…?": answered only by a sentence that reports speech.
_ASKS_STATEMENT = re.compile(
    r"^what (?:did|does|do|has|have|had|will|would) (?P<speaker>.+?) "
    r"(?:say|tell|write|claim|warn|announce|argue|add|stress|insist|accuse|call|describe)\b|"
    r"^how (?:did|does|do|has|have|had|will|would) (?P<describer>.+?) (?:describe|characteri[sz]e)\b",
    re.I,
)


#: A run of capitalised words, with the lower-case particles of names ("Nasr al-Hariri", "de Gaulle");
#: a closing "Jr"/"Sr" is not part of the name a sentence repeats.
_NAME_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:al|de|van|von|bin|der|la|le)[-\s])?[A-Z][\w’'-]*)*")
_SUFFIX = re.compile(r"\s+(?:Jr|Sr)\Z")


def speaker(question: str) -> str | None:
    """Who a "What did X say/tell/claim…?" or "How did X describe…?" question is about: the last
    name in the phrase ("Devin Nunes" of "House Intelligence chairman Devin Nunes", "Medvedev"
    of "Medvedev, Russia's former president"), or the phrase when it names nobody ("the spokesman")."""
    match = _ASKS_STATEMENT.search(_ACCORDING_TO.sub("", question.strip()))
    if match is None:
        return None
    phrase = match.group("speaker") or match.group("describer")
    runs = [_SUFFIX.sub("", run) for run in _NAME_RUN.findall(phrase) if not run.endswith(("'s", "’s"))]
    return runs[-1] if runs else phrase


#: "Who is Svetlana Petrenko?" asks who she is (a spokeswoman for…), not for another name.
_ASKS_WHO_NAME_IS = re.compile(r"^(?i:who|what) (?i:is|was|are|were) (?:[A-Z][\w’'.-]*\s*){1,5}\??$")
#: "Who…": a person as a rule, but groups, organisations and countries act in the news too.
_ASKS_AGENT = re.compile(r"^(who|whom)\b", re.I)
_ASKS_OWNER = re.compile(r"^whose\b", re.I)
#: Which place: the category nouns of the OntoNotes GPE/LOC/FAC labels.
_ASKS_NAMED_PLACE = re.compile(
    rf"^(in |to |from |at )?(which|what) ({_MODIFIER}){{0,2}}(city|cities|country|countries|town|state|province|region|"
    r"capital|island|nation|village|suburb|district|port|continent)\b",
    re.I,
)
_ASKS_PLACE = re.compile(r"^(where|from where)\b", re.I)
#: Which organisation: the category nouns of the OntoNotes ORG label.
_ASKS_ORGANISATION = re.compile(
    rf"^(which|what) ({_MODIFIER}){{0,2}}(organi[sz]ation|company|companies|firm|group|party|agency|bank|newspaper|"
    r"broadcaster|network|airline|club|team|union|university|court|ministry|department|body)\b",
    re.I,
)

_AUXILIARIES = frozenset(
    ["did", "do", "does", "were", "was", "are", "is", "have", "has", "had", "will", "would", "could", "can", "should"]
)
_FUNCTION_WORDS = frozenset(
    ["the", "a", "an", "of", "in", "on", "at", "to", "from", "for", "with", "by", "about", "their", "its", "his", "her"]
)


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
        return preferred, count_mentioning(_counted(question))
    if _ASKS_PLACE.search(question) or _ASKS_AGENT.search(question) or _ASKS_OWNER.search(question):
        return preferred, None
    return preferred, preferred


def answer_type(question: str) -> AnswerType | None:
    """The kind of thing a question asks for, judged from its opening words, as a test of a
    sentence (its text and named entities)."""
    question = _ACCORDING_TO.sub("", question.strip())
    if _ASKS_WHO_NAME_IS.match(question):
        return None
    shapes: list[tuple[re.Pattern[str], AnswerType]] = [
        (_ASKS_AGE, FIND_AGE),
        (_ASKS_MEASURE, DURATION),
        (_ASKS_DISTANCE, DISTANCE),
        (_ASKS_SHARE, SHARE),
        (_ASKS_MONEY, MONEY),
        (_ASKS_AMOUNT, AMOUNT),
        (_ASKS_NUMBER, COUNT),
        (_ASKS_CLOCK, either(FIND_CLOCK, entity_of("TIME"))),
        (_ASKS_DATE, FIND_DATE),
        (_ASKS_YEAR, FIND_YEAR),
        (_ASKS_TIME, WHEN_TIME),
        (_ASKS_NAMED_PERSON, PERSON),
        (_ASKS_NAME, NAME),
        (_ASKS_NAMED_PLACE, PLACE),
        (_ASKS_ORGANISATION, ORGANISATION),
        (_ASKS_OWNER, OWNER),
        (_ASKS_AGENT, AGENT),
        (_ASKS_PLACE, PLACE),
    ]
    if _ASKS_COUNT.search(question):
        keys = _counted(question)
        return count_of(keys) if keys else COUNT
    for pattern, test in shapes:
        if pattern.search(question):
            return test
    return None
