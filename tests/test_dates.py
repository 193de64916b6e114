"""A broad question about a date is answered with the news of that date, not with sentences that mention it."""

from __future__ import annotations

import pytest

from rag.answer.dates import topic_dates


@pytest.mark.parametrize(
    ("topic", "span"),
    [
        ("9 February 2017", ("2017-02-09", "2017-02-09")),
        ("the news from 9th of February 2017", ("2017-02-09", "2017-02-09")),
        ("February 9, 2017", ("2017-02-09", "2017-02-09")),
        ("Feb. 2017", ("2017-02-01", "2017-02-28")),
        ("February 2016", ("2016-02-01", "2016-02-29")),
        ("stories in 2017", ("2017-01-01", "2017-12-31")),
        ("2017-02-09", ("2017-02-09", "2017-02-09")),
        ("30 February 2017", None),
        ("the 2017 budget", None),
        ("Istanbul on Friday", None),
        ("9 February", None),
    ],
)
def test_a_topic_that_is_only_a_date_gives_its_days(topic, span):
    assert topic_dates(topic) == span


def test_a_day_without_its_year_is_taken_in_the_latest_year_with_news_that_day():
    dates = ["2017-03-14", "2017-03-15", "2016-03-15", None, "2016-04-01"]
    assert topic_dates("15 March", dates) == ("2017-03-15", "2017-03-15")
    assert topic_dates("the news of April 1st", dates) == ("2016-04-01", "2016-04-01")
    assert topic_dates("2 June", dates) == ("2017-06-02", "2017-06-02")  # no news that day: refused later
    assert topic_dates("15 March") is None and topic_dates("May", dates) is None  # "May" is also a name


def test_what_happened_on_a_day_quotes_the_opening_sentences_of_that_days_articles(public_api):
    answer = public_api.ask("What happened on 16 May 2025?")
    assert not answer.refused and len(answer.citations) >= 3
    assert {c.date for c in answer.citations} == {"2025-05-16"}
    assert answer.text.startswith("- First direct talks between Russia and Ukraine")
    assert public_api.ask("What happened on 16 May?").citations == answer.citations
    month = public_api.ask("What happened in May 2025?")
    assert {c.date for c in month.citations} == {"2025-05-15", "2025-05-16"}
    # one opening sentence of each of the four dated seed articles (003 has no date), then a second one
    assert len({c.source for c in month.citations}) == 4 and "003_f4afef2fd7492f2d.txt" not in {
        c.source for c in month.citations
    }


def test_a_date_question_keeps_the_callers_filters_and_refuses_an_empty_day(public_api):
    narrowed = public_api.ask("What happened in May 2025?", date_from="2025-05-16")
    assert narrowed.citations and {c.date for c in narrowed.citations} == {"2025-05-16"}
    assert public_api.ask("What happened on 1 June 2025?").refused
    assert public_api.ask("Summarise the news from May 2025", date_to="2025-05-01").refused
