"""The evidence score's parts: answer types, names, coverage."""

from __future__ import annotations

import pytest

from rag.answer.answer_types import answer_type
from rag.answer.lexicon import Lexicon, coverage
from rag.answer.offline import continues
from rag.answer.scoring import unknown_names, without_question_words
from rag.answer.spans import all_spans
from rag.index.entities import find_entities
from rag.models import Chunk


def found(question: str, text: str) -> list[str]:
    """What the question's answer type finds in a text (its real named entities, the question's
    own words blanked as the scorer does)."""
    test = answer_type(question)
    assert test is not None, question
    [entities] = find_entities([text])
    blanked = without_question_words(text, question, Lexicon([text]))
    return [text[slice(*span)] for span in all_spans(test, blanked, entities)]


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("Who met Xi?", "Biden met Xi in Bali.", ["Biden"]),
        ("Who chaired it?", "On Thursday evening, they met Foreign Minister Hakan Fidan.", ["Hakan Fidan"]),
        ("Which official spoke?", "Russia's Foreign Ministry said that the officials were ready.", []),
        ("Who cut jobs?", "Apple Inc said it would cut 1,000 jobs.", ["Apple Inc"]),
        ("Whose bid was rejected?", "Officials rejected John Smith's bid and chose Mary Jones.", ["John Smith's"]),
        ("Who was chosen?", "Officials rejected John Smith's bid and chose Mary Jones.", ["Mary Jones"]),
        ("Who is the chief executive of the Commonwealth Bank?", "Australia's Commonwealth Bank cut 1,000 jobs.", []),
        ("In which city did they meet?", "The delegations met in Istanbul on Friday.", ["Istanbul"]),
        ("In which city did he meet Latvia's president?", "He met Latvia's president in Riga.", ["Riga"]),
        ("How much will the plan cost?", "The plan will cost $750 million over 12 March 2024.", ["$750 million"]),
        ("How much will the plan cost?", "David Hudak, 41, was arrested.", []),
        ("How long did the talks last?", "Friday's talks lasted a fortnight.", ["a fortnight"]),
        ("How long did the talks last?", "The talks were held on Friday.", []),
        ("How long did the talks last?", "They met for a second time on Friday.", []),
        ("When was the ban lifted?", "The ban was lifted on 12 March 2024.", ["12 March 2024"]),
        ("What is the name of the supporter Pechtold sued?", "Pechtold sued John Smith, a supporter.", ["John Smith"]),
        ("What is the name of the supporter Pechtold sued?", "Pechtold sued a supporter last year.", []),
        ("Which British company designed the bridge?", "Siemens designed the bridge in 1873.", ["Siemens"]),
        ("Which judge blocked Trump's travel ban?", "A judge blocked President Donald Trump's travel ban.", []),
        ("Who did Trump meet?", "Donald Trump met Shinzo Abe in Florida.", ["Shinzo Abe"]),
        ("In what year was the bridge built?", "It snakes 17 kilometers from the bridge, built in 1873.", ["1873"]),
        ("In what year was the bridge built?", "It snakes 17 kilometers from the bridge.", []),
        ("How much did HNA pay per share?", "HNA keeps its stake below 10 percent.", []),
        ("How much did HNA pay per share?", "HNA paid $25 a share.", ["$25"]),
        ("How much oil did Saudi Arabia sell?", "Saudi Arabia sold 10 million barrels of oil.", ["10 million barrels"]),
        ("In what year was the bridge built?", "The bridge was built in the 1890s.", ["the 1890s"]),
    ],
)
def test_answer_types_read_named_entities_not_capital_letters(question, text, expected):
    assert found(question, text) == expected


def test_a_place_the_tagger_misses_is_still_found_after_its_preposition():
    from rag.answer.answer_types import answer_type

    test = answer_type("Where did the delegates meet?")
    assert test is not None
    assert test("The delegates met in Zorbuvia on Friday.", ()) == [(21, 29)]
    assert test("The delegates met in May.", ()) == []


def test_a_count_needs_what_is_counted_somewhere_in_the_sentence():
    from rag.answer.answer_types import expectation

    _, required = expectation("How many journalists were officially accredited?")
    assert required is not None
    assert not required("Mr Putin also appointed four lower-level officials.", ())
    assert required("Some 400 journalists from 30 countries came.", ())
    assert required("Organisers said 400 had been accredited.", ())


def test_a_what_did_they_say_question_names_its_speaker():
    from rag.answer.answer_types import speaker
    from rag.answer.spans import reports_speech

    assert speaker("What did Igor Kostyukov say about the talks?") == "Igor Kostyukov"
    assert speaker("What did House Intelligence chairman Devin Nunes say about it?") == "Devin Nunes"
    assert speaker("How did opposition negotiator Nasr al-Hariri describe Moscow's stance?") == "Nasr al-Hariri"
    assert speaker("What did Medvedev, Russia's former president, say?") == "Medvedev"
    assert speaker("What did Martin Luther King Jr. say?") == "Martin Luther King"
    assert speaker("What did the spokesman say?") == "the spokesman"
    assert speaker("How did police tell the twins apart?") is None
    assert speaker("What did Erdogan tell Zelensky?") == "Erdogan"
    assert speaker("What did the talks achieve?") is None
    assert reports_speech("“We are ready,” Medinsky told reporters.")
    assert not reports_speech("Joining Medinsky in Istanbul are two deputy ministers.")


def test_a_named_person_question_names_its_role():
    from rag.answer.answer_types import role_noun

    assert role_noun("What is the name of the interpreter who worked for them?") == "interpreter"
    assert role_noun("What is the name of the 30-year-old man who was shot?") == "man"
    assert (
        role_noun("What is the name of the Economic Development Minister who spoke?") == "Economic Development Minister"
    )
    assert role_noun("What is the name of the young man who was shot?") == "man"
    assert role_noun("Which officials came to Istanbul?") is None
    assert role_noun("Who met Xi?") is None


def test_answer_types_follow_the_question_words():
    assert found("How many civilians died?", "more than 12,000 civilians")
    assert not found("How many civilians died?", "the war since 2022")
    assert not found("How old is Medinsky?", "Medinsky, 2022")
    assert found("How old is he?", "the 54-year-old aide")
    assert found("How old was King Louis XV?", "Louis XV, who was seven years old during the visit")
    assert found("How old is she?", "a twenty-five-year-old nurse")
    assert found("How old is Larry Nassar?", "Larry Nassar, 53, pleaded guilty") == ["53"]
    # a count is whole: "six million", not "million"
    assert found("How many Jews were killed?", "The Nazis killed six million Jews") == ["six million Jews"]
    assert not found("How old is he?", "In March, 2017, he pleaded guilty")
    assert found("When did they meet?", "on Friday")
    assert found("Who led the team?", "The team was led by Vladimir Medinsky.")
    assert answer_type("What did Lavrov say?") is None
    # an auxiliary verb is not part of the noun phrase: this asks what he said, not which minister
    assert answer_type("What did French finance minister Michel Sapin say about farmers?") is None
    assert answer_type("What did the company say?") is None
    assert answer_type("Which finance minister spoke?") is not None
    assert answer_type("What must the minister do?") is None
    # "Who is X?" asks who X is (a spokeswoman for…), not for another name in the sentence
    assert answer_type("Who is Svetlana Petrenko?") is None and answer_type("Who was Abu Nidal") is None
    assert answer_type("Who is Trump's daughter?") is not None


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How long did the meeting go on?", "talks that lasted less than two hours", True),
        ("How long did the meeting go on?", "the first talks between the two parties since 2022", False),
        ("How long is the front line?", "the roughly 1,000-kilometre (620-mile) front line", True),
        ("How many prisoners were exchanged?", "a ceasefire for 30 days and the exchange of all prisoners", False),
        ("How many prisoners were exchanged?", "they exchanged 390 prisoners each", True),
        ("How many people were injured?", "five civilians were killed and 29 injured", True),
        ("How many days of ceasefire?", "an unconditional 30-day ceasefire", True),
        ("According to the UN, how many civilians died?", "more than 12,000 Ukrainian civilians", True),
        ("At what time did they sit down?", "from 10 a.m. on Friday", True),
        ("At what time did they sit down?", "on Friday in Istanbul", False),
        ("What is Umerov's date of birth?", "Umerov said on May 15 that", True),
        ("What is Umerov's date of birth?", "Defense Minister Rustem Umerov", False),
        ("What was the rouble's exchange rate?", "the rouble weakened", False),
    ],
)
def test_answer_types_need_the_kind_of_answer_asked_for(question, sentence, expected):
    assert bool(found(question, sentence)) is expected


def test_coverage_uses_countries_capitals_and_lemmas():
    """Country names, demonyms and capitals (countryinfo) meet; inflections meet by lemma (lemminflect)."""
    lexicon = Lexicon(["The Kyiv government's team is led by Rustem Umerov.", "Other text about Moscow."])
    q = lexicon.question_terms("Who leads Ukraine's team?")
    assert "who" not in q
    assert coverage(q, set(lexicon.terms("The Kyiv government's team is led by Rustem Umerov.")), lexicon) == 1.0
    assert unknown_names("What did the Pope say in Kyiv?", lexicon) == ["Pope"]
    assert unknown_names("What did the Ukrainian team say?", lexicon) == []
    assert lexicon.terms("Australians fled") == lexicon.terms("Australia flees")
    assert lexicon.terms("the U.S. and Sri Lanka's envoys") == lexicon.terms("the United States and Sri Lanka envoy")
    assert lexicon.terms("women met children") == lexicon.terms("woman meets child")


def test_unknown_names_see_multi_word_countries():
    lexicon = Lexicon(["Sri Lanka lifted the ban."])
    assert unknown_names("When did Sri Lanka lift the ban?", lexicon) == []
    assert unknown_names("When did Narnia lift the ban?", lexicon) == ["Narnia"]


def test_hyphenated_parts_share_terms():
    lexicon = Lexicon(["four lower-level officials"])
    assert {"low", "level"} <= set(lexicon.terms("a low-level delegation"))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("She said the measures would target the shadow fleet.", True),
        ("Those talks, attended by Macron and Merkel, failed.", True),
        ("His proposal to Mr Putin came after a flurry of manoeuvring.", False),
        ("Theatre props were mentioned.", False),
    ],
)
def test_only_sentences_that_refer_back_continue_a_quote(sentence, expected):
    chunk = Chunk(id="x", source="a.txt", text=sentence, start=0, end=len(sentence))
    assert continues(chunk) is expected


def test_when_prefers_a_date_to_a_bare_year_word():
    text = "Sri Lanka's government will lift a four-year ban on Tamil Tiger rebels on Sept. 6, paving the way."
    assert found("When will Sri Lanka lift its ban?", text) == ["Sept. 6"]


def test_the_leading_phrase_is_the_match_nearest_the_question_words():
    from rag.answer.offline import leading_phrase

    text = "AMP has shelved a $400 million plan to buy back shares and will raise $750 million in fresh capital."
    [entities] = find_entities([text])
    chunk = Chunk(id="x", source="a.txt", text=text, start=0, end=len(text), entities=tuple(entities))
    lexicon = Lexicon([text])
    assert leading_phrase("How much fresh capital will AMP raise?", chunk, lexicon) == "$750 million"


def test_the_leading_phrase_is_the_name_the_question_words_surround():
    from rag.answer.offline import leading_phrase

    text = (
        "Mr Hockey said the Government was not embarrassed by the Tampa issue, which began when the "
        "captain of the cargo ship rescued 400 people, and Tampa Captain Arne Rinnan became a hero."
    )
    [entities] = find_entities([text])
    chunk = Chunk(id="x", source="a.txt", text=text, start=0, end=len(text), entities=tuple(entities))
    assert (
        leading_phrase("Who was the captain of the Tampa?", chunk, Lexicon([text, "Mr Hockey said."])) == "Arne Rinnan"
    )


def test_the_closest_answer_is_the_one_the_question_words_surround():
    from rag.answer.offline import closest_answer

    lexicon = Lexicon(["Tampa Captain Arne Rinnan", "Hockey said", "the captain of the ship"])
    text = "Hockey said the ship's captain rescued them and Tampa Captain Arne Rinnan was praised."
    hockey, rinnan = (0, 6), (text.index("Arne"), text.index(" was"))
    terms = lexicon.question_terms("Who was the Tampa captain?")
    assert closest_answer([hockey, rinnan], text, terms, lexicon) == rinnan
    assert closest_answer([rinnan, hockey], text, terms, lexicon) == rinnan
    # a span opening on "$" still counts the word just before it ("raise $750 million")
    amounts = "AMP shelved $400 million of plans and will raise $750 million."
    spans = [(amounts.index("$400"), amounts.index(" of")), (amounts.index("$750"), len(amounts) - 1)]
    words = Lexicon([amounts]).question_terms("How much will AMP raise?")
    assert closest_answer(spans, amounts, words, Lexicon([amounts])) == spans[1]


@pytest.mark.parametrize(
    ("question", "broad"),
    [
        ("Summarise the talks", True),
        ("What was Turkey's role in all this?", True),
        ("What role is the United States playing in the talks?", True),
        ("What is the United States saying about Robert Mugabe?", True),
        ("What are the Democrats' views?", True),
        ("What was the response time?", False),
        ("What is the position of the talks?", False),
        ("Who headed the delegation?", False),
    ],
)
def test_questions_about_someones_part_in_the_story_are_broad(question, broad):
    from rag.answer.offline import summary_topic

    assert (summary_topic(question) is not None) is broad


def test_a_summary_reads_the_articles_that_tell_the_story():
    from rag.answer.offline import about_the_story
    from rag.answer.scoring import Evidence

    def ev(source: str, position: int, score: float, overlaps: bool = True) -> Evidence:
        chunk = Chunk(id=f"{source}{position}", source=source, text="t", start=0, end=1, position=position)
        return Evidence(chunk, score, True, overlaps)

    story, other, close = ev("bill.txt", 0, 0.9), ev("mp.txt", 3, 0.6), ev("bill2.txt", 1, 0.8)
    chosen = about_the_story([story, close, other, ev("bill.txt", 5, 0.4), ev("x.txt", 0, 0.95, overlaps=False)])
    assert [e.chunk.id for e in chosen] == ["bill.txt0", "bill2.txt1", "bill.txt5"]
    assert about_the_story([ev("x.txt", 0, 0.9, overlaps=False)]) == []


def test_the_leading_phrase_never_starts_inside_a_dateline():
    from rag.answer.offline import leading_phrase

    text = "(CNN)Malaysian police have arrested a man over the killing."
    [entities] = find_entities([text])
    chunk = Chunk(id="x", source="a.txt", text=text, start=0, end=len(text), entities=tuple(entities))
    phrase = leading_phrase("Who did the police arrest?", chunk, Lexicon([text]))
    assert phrase is None or ")" not in phrase
