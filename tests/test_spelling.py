"""A name typed with a slip is matched to the articles' spelling instead of refusing the question."""

from __future__ import annotations

import pytest

from rag.answer.lexicon import Lexicon
from rag.answer.spelling import closest_name, corrected

TEXTS = [
    "The talks began as Volodymyr Zelensky arrived in Ankara.",
    "Officials from Germany and the NATO alliance watched as Mr Medinsky spoke.",
    "The minister met Mr Lavrov and Mr Lavrova in Paris.",
    "Hunan province remained on alert as the government sent helicopters.",
    "The government said the helicopters would stay; government officials agreed.",
]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon(TEXTS)


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Zelenksy", "Zelensky"),  # two letters swapped: one edit
        ("Germny", "Germany"),  # a letter dropped
        ("Medinskyy", "Medinsky"),  # a letter added
        ("Zelenzkyi", "Zelensky"),  # a long name may be two edits away
        ("Zeleski", None),  # a short word two edits away is another name, not a slip
        ("Lavrovv", None),  # as close to Lavrov as to Lavrova: no guess
        ("Pope", None),  # nothing close
        ("Nto", None),  # too short to correct
        ("Hnuan", "Hunan"),  # a name that only ever opens a sentence is still a name
        ("Govenrment", "Government"),  # a long word the question capitalises inside a name
        ("Heliocpters", "Helicopters"),  # two letters swapped in a long word
        ("Hleicoptres", None),  # long words get one edit, not two
        ("Offcials", None),  # "officials" is used once: not kept among the long words
    ],
)
def test_a_misspelt_name_is_matched_only_when_one_name_is_clearly_meant(lexicon, typed, name):
    assert closest_name(typed, lexicon) == name


def test_corrected_replaces_each_unknown_name_and_says_what_it_changed(lexicon):
    question, fixes = corrected("What did Zelenksy tell Germny's envoy?", lexicon)
    assert question == "What did Zelensky tell Germany's envoy?"
    assert fixes == [("Zelenksy", "Zelensky"), ("Germny", "Germany")]
    assert corrected("What did Zelensky say?", lexicon) == ("What did Zelensky say?", [])


def test_a_question_with_a_misspelt_name_is_answered_and_says_so(public_api):
    answer = public_api.ask("Who led the Rusian delegation?")
    assert not answer.refused and answer.text.startswith("Vladimir Medinsky [1].")
    assert answer.query == "Who led the Russian delegation?"
    assert answer.notice == "No article mentions “Rusian”; searched for “Russian” instead."
    assert public_api.ask("What did the Pope say about the talks?").refused
