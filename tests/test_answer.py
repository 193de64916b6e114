"""The evidence score's parts: answer types, names, coverage."""

from __future__ import annotations

import pytest

from rag.answer import Lexicon, _names_a_person, answer_type, coverage, unknown_names


@pytest.mark.parametrize(("text", "expected"), [
    ("On Thursday evening, the Russian delegation met with Turkish Foreign Minister Hakan Fidan.", True),
    ("Kremlin spokesman Dmitry Peskov said so.", True),
    ("Mr Medinsky is leading the team.", True),
    ("Russia's Foreign Ministry said that the officials were ready.", False),
    ("The European Union's foreign policy chief spoke.", False),
])
def test_person_names_are_told_from_titles_and_institutions(text, expected):
    assert _names_a_person(text) is expected


def test_answer_types_follow_the_question_words():
    assert answer_type("How many civilians died?")("more than 12,000 civilians")
    assert not answer_type("How many civilians died?")("the war since 2022")
    assert not answer_type("How old is Medinsky?")("Medinsky, 2022")
    assert answer_type("How old is he?")("the 54-year-old aide")
    assert answer_type("When did they meet?")("on Friday")
    assert answer_type("Who led the team?")("led by Vladimir Medinsky")
    assert answer_type("What did Lavrov say?") is None


def test_coverage_uses_demonyms_capitals_and_irregular_verbs():
    lexicon = Lexicon(["The Kiev government's team is led by Rustem Umerov.", "Other text about Moscow."])
    q = lexicon.question_terms("Who leads Ukraine's team?")
    assert "who" not in q
    assert coverage(q, set(lexicon.terms("The Kiev government's team is led by Rustem Umerov.")), lexicon) == 1.0
    assert unknown_names("What did the Pope say in Kiev?", lexicon) == ["Pope"]
    assert unknown_names("What did the Ukrainian team say?", lexicon) == []
