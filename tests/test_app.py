"""The chat's controls, below the browser: filters and the answer handler's error paths."""

from __future__ import annotations

from ui.app import _filter, respond, show_article


def allowed(pipeline, *controls):
    return [a.source for a in pipeline.articles(_filter(*controls))]


def test_article_and_date_filters(pipeline):
    assert _filter([], "any", "any") is None
    assert allowed(pipeline, ["001_a39661892d0812d2.txt"], "any", "any") == ["001_a39661892d0812d2.txt"]
    assert allowed(pipeline, [], "2025-05-16", "any") == ["000_4ac1dad1d337df25.txt", "001_a39661892d0812d2.txt"]
    to_16 = allowed(pipeline, [], "any", "2025-05-16")
    assert "002_b62eaf8dc1d09b0d.txt" in to_16 and "003_f4afef2fd7492f2d.txt" not in to_16, "undated articles drop out"
    assert allowed(pipeline, ["002_b62eaf8dc1d09b0d.txt"], "2025-05-16", "any") == []


def last(generator):
    *_, final = generator
    return final


def test_respond_streams_into_the_chat_and_keeps_history(pipeline):
    _, chat, turns, citations, _ = last(
        respond(pipeline, "How long did Friday's talks last?", [], [], [], "any", "any", 5)
    )
    assert chat[0] == {"role": "user", "content": "How long did Friday's talks last?"}
    assert "two hours" in chat[1]["content"] and '<ol class="sources">' in chat[1]["content"]
    assert turns[0][0] == "How long did Friday's talks last?" and citations
    assert '<mark id="cited-quote">' in show_article(pipeline, citations, 0)
    assert show_article(pipeline, citations, 99) == ""


def test_respond_turns_errors_into_chat_messages(pipeline):
    _, chat, *_ = last(respond(pipeline, "", [], [], [], "any", "any", 5))
    assert chat[-1]["content"] == "⚠ Please type a question about the articles."
    _, chat, *_ = last(
        respond(pipeline, "Who led the talks?", [], [], ["002_b62eaf8dc1d09b0d.txt"], "2025-05-16", "any", 5)
    )
    assert "No article matches the chosen filters" in chat[-1]["content"]


def test_search_limited_to_one_article_cites_only_it(pipeline):
    _, chat, _, citations, _ = last(
        respond(pipeline, "Who headed the Russian delegation?", [], [], ["001_a39661892d0812d2.txt"], "any", "any", 5)
    )
    assert citations and {c["source"] for c in citations} == {"001_a39661892d0812d2.txt"}
    assert "Vladimir Medinsky" in chat[-1]["content"]
