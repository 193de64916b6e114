"""Unit tests for reading a model's reply: citation styles, reasoning blocks, refusals, structure."""

from __future__ import annotations

import pytest

from rag.answer.lexicon import Lexicon
from rag.llm.answerer import is_refusal
from rag.llm.client import strip_reasoning, visible
from rag.llm.grounding import Passage, cited_numbers, ground, normalise_markers
from rag.models import Chunk

FIVE = [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("inside", "numbers"),
    [
        ("1", [1]),
        ("1, 2", [1, 2]),
        ("1,3;4", [1, 3, 4]),
        ("1-3", [1, 2, 3]),
        ("2–4", [2, 3, 4]),
        ("Passage 3", [3]),
        ("Passages 2 and 4", [2, 4]),
        ("Source #2 & Source 5", [2, 5]),
        ("3-1", [3, 1]),
        ("2, 2", [2]),
    ],
)
def test_cited_numbers(inside, numbers):
    assert cited_numbers(inside) == numbers


@pytest.mark.parametrize(
    ("reply", "normalised"),
    [
        ("Medinsky led it [1].", "Medinsky led it [1]."),
        ("Medinsky led it [1][2].", "Medinsky led it [1][2]."),
        ("Medinsky led it [1, 2].", "Medinsky led it [1][2]."),
        ("Medinsky led it [1-3].", "Medinsky led it [1][2][3]."),
        ("Medinsky led it [Passage 1].", "Medinsky led it [1]."),
        ("Medinsky led it [Passage 1, Passage 4].", "Medinsky led it [1][4]."),
        ("Medinsky led it [Source: 2].", "Medinsky led it [2]."),
        ("Medinsky led it [^2].", "Medinsky led it [2]."),
        ("Medinsky led it (1).", "Medinsky led it [1]."),
        ("Medinsky led it (1, 2), Umerov (3).", "Medinsky led it [1][2], Umerov [3]."),
        ("Medinsky led it (Passage 2) in Istanbul.", "Medinsky led it [2] in Istanbul."),
        ("Medinsky led it【1】.", "Medinsky led it[1]."),
        ("Medinsky led it 【1, 2】", "Medinsky led it [1][2]"),
        ("Medinsky led it. [1] Umerov led Ukraine's.[2]", "Medinsky led it[1]. Umerov led Ukraine's[2]."),
        ("- Medinsky (1)\n- Umerov (2)", "- Medinsky [1]\n- Umerov [2]"),
        ("Out of range stays a marker [9].", "Out of range stays a marker [9]."),
    ],
)
def test_every_citation_style_becomes_n_markers(reply, normalised):
    assert normalise_markers(reply, FIVE) == normalised


@pytest.mark.parametrize(
    "prose",
    [
        "The talks were the first since (2022).",
        "A (620-mile) front line.",
        "Russia listed (3) demands for the talks.",
        "There were (7).",  # no passage 7 among five
        "The 2022 talks [2022] failed.",
        "(1) Medinsky led the Russian team.",
        "Scores ranged (10-12) points.",
    ],
)
def test_numbers_in_prose_are_not_markers(prose):
    assert normalise_markers(prose, FIVE) == prose


THOUGHT = "<think>\nPassage 2 names him. I should cite [2].\n</think>\n\nMedinsky led the team [2]."


@pytest.mark.parametrize("cut", range(1, len(THOUGHT)))
def test_reasoning_is_hidden_wherever_the_stream_splits(cut):
    pieces = list(visible([THOUGHT[:cut], THOUGHT[cut:]]))
    assert "".join(pieces) == "\n\nMedinsky led the team [2]."
    assert not any("<" in p or "think" in p or "Passage 2 names" in p for p in pieces)


def test_reasoning_is_hidden_one_character_at_a_time():
    text = "<thinking>Let me see.</thinking>Medinsky led it [1]. <THINK>again</THINK>Umerov too [2]."
    assert "".join(visible(text)) == "Medinsky led it [1]. Umerov too [2]."


def test_unterminated_reasoning_shows_nothing():
    assert list(visible(["<think>\nThe user asks", " about Medinsky and the passages", " say"])) == []
    assert strip_reasoning("<think>\nThe user asks about Medinsky") == ""


def test_text_that_only_looks_like_a_tag_is_kept():
    assert "".join(visible(["a < b and c<", "d> is not <thinker>"])) == "a < b and c<d> is not <thinker>"


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        (THOUGHT, "\n\nMedinsky led the team [2]."),
        ("<think>x</think>A [1]. <think>y</think>B [2].", "A [1]. B [2]."),
        ("The user asks who led it.\n</think>\n\nMedinsky led it [1].", "\n\nMedinsky led it [1]."),
        ("Medinsky led it [1]. <think>unfinished", "Medinsky led it [1]. "),
        ("No reasoning here [1].", "No reasoning here [1]."),
    ],
)
def test_strip_reasoning(reply, answer):
    assert strip_reasoning(reply) == answer


@pytest.mark.parametrize(
    "reply",
    [
        "The provided passages do not contain information about Medinsky's age.",
        "The articles don't say how old Medinsky is.",
        "I cannot find Medinsky's age in the passages.",
        "There is no information about Medinsky's age in the provided passages.",
        "I'm sorry, but the context does not mention how old he is.",
        "None of the passages state Medinsky's age.",
        "Based on the passages, it is not possible to determine his age.",
        "The sources say nothing about his age.",
        "I'm sorry. The passages don't give his age.",
        "Medinsky's age is not mentioned in the articles. They say he led the delegation [1].",
        "NOT_IN_ARTICLES",
        "`NOT_IN_ARTICLES` (the passages only name him).",
    ],
)
def test_refusals_in_free_words_are_recognised(reply):
    assert is_refusal(reply, FIVE)


@pytest.mark.parametrize(
    "reply",
    [
        "Russia did not agree to a ceasefire [1].",
        "The articles say Zelensky would not travel to Istanbul [2].",
        "The passages say the talks did not produce a ceasefire (3).",
        "Medinsky did not say how old he is.",
        "Medinsky led the delegation [1]. The passages do not mention his age.",
        "No prisoners were exchanged, the articles report [2].",
    ],
)
def test_answers_with_negations_are_not_refusals(reply):
    assert not is_refusal(reply, FIVE)


def chunk(n: int, text: str) -> Chunk:
    return Chunk(id=f"c{n}", source="a.txt", text=text, start=n * 100, end=n * 100 + len(text))


SENTENCES = [
    chunk(1, "Vladimir Medinsky headed the Russian delegation."),
    chunk(2, "Defence minister Rustem Umerov led the Ukrainian team."),
    chunk(3, "The talks in Istanbul lasted under two hours."),
]
LEXICON = Lexicon([c.text for c in SENTENCES] + ["Weather was mild.", "Markets rose."])
PASSAGES = [Passage(n, c, (c,)) for n, c in enumerate(SENTENCES, 1)]


def test_ground_keeps_lists_and_line_breaks_with_markers_per_item():
    reply = (
        "Two men led the delegations:\n\n"
        "- Vladimir Medinsky headed the Russian delegation (1).\n"
        "- Rustem Umerov led the Ukrainian team [Passage 2]. He is defence minister [2]\n"
        "\n\n\n"
        "1. The talks lasted under two hours.[3]\n"
        "2. They were held on the Moon."
    )
    grounded = ground(reply, PASSAGES, LEXICON)
    assert grounded.text == (
        "Two men led the delegations:\n\n"
        "- Vladimir Medinsky headed the Russian delegation [1].\n"
        "- Rustem Umerov led the Ukrainian team [2]. He is defence minister [2]\n\n"
        "1. The talks lasted under two hours [3].\n"
        "2. They were held on the Moon."
    )
    assert [c.id for c in grounded.quotes] == ["c1", "c2", "c3"]
    assert grounded.unsupported == ["They were held on the Moon."]


def test_ground_renumbers_in_order_of_first_citation_and_drops_unknown_passages():
    grounded = ground("Umerov led the Ukrainian team [2, 7]. Medinsky headed the Russian one [1-2].", PASSAGES, LEXICON)
    assert grounded.text == "Umerov led the Ukrainian team [1]. Medinsky headed the Russian one [2]."
    assert [c.id for c in grounded.quotes] == ["c2", "c1"]
