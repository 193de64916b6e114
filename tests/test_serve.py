"""The OpenAI-compatible API as a client sees it: a real uvicorn server, the official `openai` client."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from api_server import offline_pipeline, running
from tokenizers import Tokenizer

from conftest import SEEDS, clean_env, free_port
from fake_llm import Reply, passage_with

KEY = "test-key-0123456789"
QUESTION = "Who headed the Russian delegation?"


@pytest.fixture(scope="module")
def served(index_dir: Path) -> Iterator[dict[str, str]]:
    """Two servers over one offline pipeline on the session index: open, and keyed with KEY."""
    from rag.serve import build_app

    pipeline = offline_pipeline(index_dir)
    with running(build_app(pipeline)) as open_url, running(build_app(pipeline, KEY)) as keyed_url:
        yield {"open": open_url, "keyed": keyed_url}


@pytest.fixture
def client(served: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(base_url=served["open"], api_key="unused", max_retries=0, timeout=60)


def ask(client: openai.OpenAI, *messages: dict[str, str], **kwargs: Any) -> Any:
    return client.chat.completions.create(model="newsrag-offline", messages=list(messages), **kwargs)


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def wordpiece_tokens(text: str) -> int:
    """Tokens of `text` by the shipped MiniLM tokenizer, read here on its own (no special tokens)."""
    tokenizer = Tokenizer.from_file(str(Path(__file__).parent.parent / "rag/index/data/minilm-tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return len(tokenizer.encode(text, add_special_tokens=False).ids)


def sources_block(answer: Any) -> str:
    """The sources list the API appends, written out here from the answer's citations."""
    lines: dict[str, str] = {}
    for c in sorted(answer.citations, key=lambda c: c.number):
        marker = f"[{c.number}]"
        rest = f" {c.title or c.source}" + (f", {c.date}" if c.date else "")
        lines[c.source] = lines[c.source].replace(" ", marker + " ", 1) if c.source in lines else marker + rest
    return "\n\nSources:\n" + "\n".join(lines.values())


def check_annotations(content: str, annotations: list[Any], citations: list[dict[str, Any]]) -> None:
    """Each url_citation points at an [n] marker of the content and names that citation's article."""
    by_number = {c["number"]: c for c in citations}
    assert annotations, "an answer with citations has annotations"
    for a in annotations:
        a = a if isinstance(a, dict) else a.model_dump()
        place = a["url_citation"]
        marker = content[place["start_index"] : place["end_index"]]
        cited = by_number[int(marker.strip("[]"))]
        assert a["type"] == "url_citation" and marker.startswith("[") and marker.endswith("]")
        assert place["url"] == cited["source"] and place["title"] == (cited["title"] or cited["source"])


def test_answer_is_rag_ask_with_its_citations_annotations_sources_and_usage(client, public_api):
    expected = public_api.ask(QUESTION)
    response = ask(client, user(QUESTION))
    message = response.choices[0].message
    assert response.model == "newsrag-offline" and response.choices[0].finish_reason == "stop"
    assert message.role == "assistant" and "[1]" in message.content
    assert message.content == expected.text + sources_block(expected)
    assert re.search(r"\n\nSources:\n\[1\](\[\d+\])* [^\n]+\Z", message.content)
    assert message.citations == [c.model_dump(mode="json") for c in expected.citations] and message.refused is False
    assert (message.outcome, message.confidence) == (expected.outcome, expected.confidence)
    assert message.outcome in ("answer", "passages")
    for c in message.citations:
        assert (SEEDS / c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["quote"]
    check_annotations(message.content, message.annotations, message.citations)
    markers = re.findall(r"\[\d+\]", expected.text)
    assert len(message.annotations) == len(markers), "one annotation per marker in the answer, none in the list"
    assert wordpiece_tokens(QUESTION) == 6, "who / headed / the / russian / delegation / ?"
    assert response.usage.prompt_tokens == 6
    assert response.usage.completion_tokens == wordpiece_tokens(message.content) > len(message.content.split())
    assert response.usage.total_tokens == 6 + response.usage.completion_tokens


def test_stream_joins_to_the_content_with_annotations_first_and_citations_last(client, public_api, served):
    question = "How long did Friday's talks last?"
    expected = public_api.ask(question)
    whole = ask(client, user(question)).choices[0].message
    chunks = list(ask(client, user(question), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.content
    assert whole.content == expected.text + sources_block(expected)
    assert chunks[0].choices[0].delta.model_extra["annotations"] == [a.model_dump() for a in whole.annotations]
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop" and last.delta.citations == [
        c.model_dump(mode="json") for c in expected.citations
    ]
    assert expected.citations and all("citations" not in (c.choices[0].delta.model_extra or {}) for c in chunks[:-1])
    assert all(c.usage is None for c in chunks), "usage only when the request asks for it"
    raw = httpx.post(f"{served['open']}/chat/completions", json={"messages": [user(question)], "stream": True})
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.text.endswith("data: [DONE]\n\n") and raw.text.startswith("data: {")


def test_stream_with_include_usage_ends_with_a_usage_chunk(client):
    chunks = list(ask(client, user(QUESTION), stream=True, stream_options={"include_usage": True}))
    *answer, last = chunks
    content = "".join(c.choices[0].delta.content or "" for c in answer)
    assert last.choices == [] and all(c.usage is None for c in answer)
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (6, wordpiece_tokens(content))
    assert last.usage.total_tokens == 6 + wordpiece_tokens(content)


@pytest.mark.parametrize("stream", [False, True])
def test_sources_list_is_left_off_on_request(client, public_api, stream):
    expected = public_api.ask(QUESTION)
    response = ask(client, user(QUESTION), stream=stream, extra_body={"sources_list": False})
    if stream:
        content = "".join(c.choices[0].delta.content or "" for c in response)
    else:
        content = response.choices[0].message.content
        assert response.usage.completion_tokens == wordpiece_tokens(expected.text)
    assert content == expected.text


def test_sources_list_setting_off_and_on_again_by_request(index_dir, public_api):
    from rag.serve import build_app

    expected = public_api.ask(QUESTION)
    with running(build_app(offline_pipeline(index_dir, api_sources_list=False))) as url:
        quiet = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        assert ask(quiet, user(QUESTION)).choices[0].message.content == expected.text
        listed = ask(quiet, user(QUESTION), extra_body={"sources_list": True}).choices[0].message.content
    assert listed == expected.text + sources_block(expected)


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_a_token_limit_cuts_the_answer_with_finish_reason_length(client, public_api, param):
    full = ask(client, user(QUESTION)).choices[0].message.content
    through_first_marker = full[: full.index("[1]") + 3]
    limit = wordpiece_tokens(through_first_marker)
    response = ask(client, user(QUESTION), **{param: limit})
    message = response.choices[0].message
    assert response.choices[0].finish_reason == "length" and len(full) > len(message.content)
    assert message.content == through_first_marker, "cut after the last token within the limit"
    assert response.usage.completion_tokens == limit
    assert [c["number"] for c in message.citations] == [1], "only the citations whose marker is left"
    check_annotations(message.content, message.annotations, message.citations)
    assert len(message.annotations) == 1
    chunks = list(ask(client, user(QUESTION), stream=True, **{param: limit}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == message.content
    assert chunks[-1].choices[0].finish_reason == "length"
    shorter = ask(client, user(QUESTION), **{param: limit - 1}).choices[0].message
    assert through_first_marker.startswith(shorter.content) and shorter.citations == [] and shorter.annotations == []


def test_a_limit_the_answer_fits_in_is_a_normal_stop(client):
    whole = ask(client, user(QUESTION))
    response = ask(client, user(QUESTION), max_tokens=whole.usage.completion_tokens)
    assert response.choices[0].finish_reason == "stop"
    assert response.choices[0].message.content == whole.choices[0].message.content


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}, "tools"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tool_choice": {"type": "function", "function": {"name": "f"}}}, "tool_choice"),
        ({"functions": [{"name": "f", "parameters": {"type": "object"}}]}, "functions"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}},
            "response_format",
        ),
        ({"max_tokens": 0}, "max_tokens"),
        ({"n": 0}, "n"),
    ],
    ids=["n", "tools", "tool-choice", "named-tool", "functions", "json-object", "json-schema", "max-tokens-0", "n-0"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_what_cannot_be_honoured_is_a_400_naming_the_parameter(client, fields, param, stream):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, user(QUESTION), stream=stream, extra_body=fields)
    assert caught.value.status_code == 400
    assert caught.value.body["param"] == param and caught.value.body["type"] == "invalid_request_error"
    assert param in caught.value.body["message"]


def test_parse_with_a_pydantic_model_fails_at_once_with_the_parameter_named(client):
    from pydantic import BaseModel

    class Delegation(BaseModel):
        head: str

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.parse(model="newsrag-offline", messages=[user(QUESTION)], response_format=Delegation)
    assert caught.value.body["param"] == "response_format"


def test_what_changes_nothing_is_accepted(client):
    response = ask(
        client,
        user(QUESTION),
        n=1,
        tool_choice="none",
        response_format={"type": "text"},
        temperature=0.3,
        seed=7,
    )
    assert "Medinsky" in response.choices[0].message.content and response.choices[0].finish_reason == "stop"


def test_one_model_is_retrieved_by_its_id_and_others_are_404(client, served):
    assert client.models.retrieve("newsrag-offline").model_dump() == {
        "id": "newsrag-offline",
        "object": "model",
        "created": 0,
        "owned_by": "newsrag",
    }
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-4o")
    assert caught.value.body["code"] == "model_not_found" and "newsrag-offline" in caught.value.body["message"]
    assert httpx.get(f"{served['keyed']}/models/newsrag-offline").status_code == 401


def test_follow_up_is_answered_from_the_history(client):
    first = ask(client, user("Who is Kaja Kallas?")).choices[0].message.content
    # the sources list goes back too; read as part of the answer, "Sources" became a name to look for
    assert "\n\nSources:\n[1]" in first
    alone = ask(client, user("What is her job?")).choices[0].message
    follow_up = (
        ask(
            client,
            {"role": "system", "content": "You are a helpful assistant."},
            user("Who is Kaja Kallas?"),
            {"role": "assistant", "content": first},
            user("What is her job?"),
        )
        .choices[0]
        .message
    )
    assert alone.refused, "without the history the question names nobody"
    assert "foreign policy chief" in follow_up.content and follow_up.citations


def test_refusal_is_an_ordinary_assistant_message(client):
    response = ask(client, user("Who is the Pope?"))
    message = response.choices[0].message
    assert response.choices[0].finish_reason == "stop" and message.role == "assistant"
    assert message.content.startswith("The articles do not say") and "[" not in message.content
    assert message.refused is True and message.citations == [] and message.outcome == "refusal"


def test_models_lists_one_recognisable_model(client):
    assert [m.id for m in client.models.list()] == ["newsrag-offline"]


NO_USER_MESSAGE = (
    'The request has no message with the role "user"; send the question as '
    '{"role": "user", "content": "…"} (system messages are ignored).'
)


def _bad_question_message(pipeline_question: str) -> str:
    from rag import QuestionError
    from rag.answer.protocol import clean_question

    with pytest.raises(QuestionError) as caught:
        clean_question(pipeline_question, 2000)
    return str(caught.value)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("messages", "asked"),
    [
        ([user("")], ""),
        ([user("   \n ")], " "),
        ([user("word " * 500)], "word " * 500),
        ([{"role": "system", "content": "Answer briefly."}], None),
    ],
    ids=["empty", "blank", "too-long", "no-user-message"],
)
def test_bad_question_is_400_with_an_openai_error(client, messages, asked, stream):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, *messages, stream=stream)
    error = caught.value
    assert error.status_code == 400
    expected = _bad_question_message(asked) if asked is not None else NO_USER_MESSAGE
    assert error.body == {
        "message": expected,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_malformed_body_is_400_not_a_traceback(served):
    response = httpx.post(f"{served['open']}/chat/completions", json={"messages": "Who?"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error" and "Traceback" not in response.text


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", f"Basic {KEY}", "Bearer"])
def test_key_is_required_when_configured(served, header):
    headers = {"Authorization": header} if header else {}
    for response in (
        httpx.get(f"{served['keyed']}/models", headers=headers),
        httpx.post(f"{served['keyed']}/chat/completions", headers=headers, json={"messages": [user(QUESTION)]}),
    ):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_right_key_is_answered_and_wrong_key_is_an_authentication_error(served):
    good = openai.OpenAI(base_url=served["keyed"], api_key=KEY, max_retries=0)
    assert "Medinsky" in ask(good, user(QUESTION)).choices[0].message.content
    with pytest.raises(openai.AuthenticationError):
        ask(openai.OpenAI(base_url=served["keyed"], api_key="wrong", max_retries=0), user(QUESTION))


def test_llm_stream_carries_the_grounded_text_whose_markers_match_the_citations(llm_pipeline, fake_llm):
    """The model's raw markers ([n] of its passages, out-of-range ones) are renumbered by grounding;
    the stream must carry the renumbered text, not the tokens as they came."""
    from rag.serve import build_app

    fake_llm.script = [
        lambda body: Reply(
            text=f"Medinsky led the Russian delegation [{passage_with(body, 'Medinsky')}][9][0].", chunk_words=1
        )
    ]
    with running(build_app(llm_pipeline())) as url:
        chunks = list(ask(openai.OpenAI(base_url=url, api_key="x", max_retries=0), user(QUESTION), stream=True))
    assert chunks[-1].model == "newsrag-fake-model"
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert content.startswith("Medinsky led the Russian delegation [1].\n\nSources:\n[1] ")
    citations = chunks[-1].choices[0].delta.citations
    assert [c["number"] for c in citations] == [1] and "Medinsky" in citations[0]["quote"]


ARTICLE_WITH_URL = """---
title: Harbour pilots in Valletta call a strike
date: 2025-05-19
url: https://news.example.org/2025/05/valletta-pilots-strike
---
Harbour pilots in Valletta agreed on Monday to a 48-hour strike over pay.

The strike will stop cruise ships from entering the Grand Harbour, the pilots' union said.
"""


def test_an_article_with_a_url_is_cited_by_its_url_and_listed_by_its_headline(tmp_path):
    import shutil

    from rag.serve import build_app

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "valletta.md").write_text(ARTICLE_WITH_URL, encoding="utf-8")
    pipeline = offline_pipeline(tmp_path / "index", seeds_dir=seeds)
    pipeline.index()
    with running(build_app(pipeline)) as url:
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        message = ask(client, user("How long will the Valletta harbour pilots strike?")).choices[0].message
    assert message.citations and {c["source"] for c in message.citations} == {"valletta.md"}
    assert {a.url_citation.url for a in message.annotations} == {
        "https://news.example.org/2025/05/valletta-pilots-strike"
    }
    assert {a.url_citation.title for a in message.annotations} == {"Harbour pilots in Valletta call a strike"}
    assert message.content.endswith("\n\nSources:\n[1] Harbour pilots in Valletta call a strike, 2025-05-19")


def medinsky(usage: tuple[int, int] | None = (321, 12), **reply: Any) -> Any:
    return lambda body: Reply(
        text=f"Medinsky led the Russian delegation [{passage_with(body, 'Medinsky')}].", usage=usage, **reply
    )


def test_llm_answer_passes_on_the_models_own_usage(llm_pipeline, fake_llm):
    from rag.serve import build_app

    fake_llm.script = [medinsky(), medinsky()]
    with running(build_app(llm_pipeline())) as url:
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        whole = ask(client, user(QUESTION))
        chunks = list(ask(client, user(QUESTION), stream=True, stream_options={"include_usage": True}))
    assert whole.choices[0].message.content.startswith("Medinsky led the Russian delegation [1].")
    assert (whole.usage.prompt_tokens, whole.usage.completion_tokens, whole.usage.total_tokens) == (321, 12, 333)
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 333
    assert [r["body"]["stream_options"] for r in fake_llm.requests] == [{"include_usage": True}] * 2


def test_llm_usage_of_a_follow_up_adds_the_condensing_call(llm_pipeline, fake_llm):
    from rag.serve import build_app

    fake_llm.script = [lambda body: Reply(text=QUESTION, usage=(40, 8)), medinsky()]
    history = [user("Was Russia at the talks?"), {"role": "assistant", "content": "Yes [1]."}, user("Who led it?")]
    with running(build_app(llm_pipeline())) as url:
        response = ask(openai.OpenAI(base_url=url, api_key="x", max_retries=0), *history)
    assert len(fake_llm.requests) == 2 and "Medinsky" in response.choices[0].message.content
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (361, 20)


def test_llm_server_without_usage_is_counted_and_one_refusing_stream_options_is_asked_again(llm_pipeline, fake_llm):
    from rag.serve import build_app

    fake_llm.script = [medinsky(refuses_stream_options=True), medinsky(usage=None), medinsky(usage=None)]
    with running(build_app(llm_pipeline())) as url:
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        first, second = ask(client, user(QUESTION)), ask(client, user(QUESTION))
    for response in (first, second):
        message = response.choices[0].message
        assert message.content.startswith("Medinsky led the Russian delegation [1].") and "notice" not in (
            message.model_extra or {}
        )
        assert response.usage.prompt_tokens == 6
        assert response.usage.completion_tokens == wordpiece_tokens(message.content)
    assert ["stream_options" in r["body"] for r in fake_llm.requests] == [True, False, False]


@pytest.mark.slow
def test_a_slow_answer_does_not_block_other_requests(llm_pipeline, fake_llm):
    from rag.serve import build_app

    fake_llm.script = [lambda body: Reply(hang=2.0, text=f"Medinsky [{passage_with(body, 'Medinsky')}].")]
    with running(build_app(llm_pipeline())) as url:
        slow = threading.Thread(
            target=httpx.post,
            args=(f"{url}/chat/completions",),
            kwargs={"json": {"messages": [user(QUESTION)]}, "timeout": 30},
        )
        slow.start()
        while not fake_llm.requests:
            time.sleep(0.02)
        started = time.monotonic()
        assert httpx.get(f"{url}/models").status_code == 200
        assert time.monotonic() - started < 1.0, "the event loop waited for the answer"
        assert slow.is_alive()
        slow.join(30)


def _serve(port: int, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_rag_serve_requires_the_key_from_rag_api_key(index_dir, tmp_path):
    port = free_port()
    env = clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), RAG_API_KEY=KEY)
    proc = _serve(port, env)
    url = f"http://127.0.0.1:{port}/v1/models"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {KEY}"}))
                break
            except urllib.error.URLError as exc:
                if isinstance(exc, urllib.error.HTTPError) or proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"rag serve did not answer: {exc}\n{proc.communicate()[0]}")
                time.sleep(0.2)
        assert httpx.get(url).status_code == 401
        models = httpx.get(url, headers={"Authorization": f"Bearer {KEY}"}).json()
        assert [m["id"] for m in models["data"]] == ["newsrag-offline"]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}/v1" in output and "key required" in output and KEY not in output


@pytest.mark.slow
def test_rag_serve_refuses_a_public_address_without_a_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "serve", "--host", "0.0.0.0"],
        env=clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(tmp_path / "never-built")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: --host 0.0.0.0 would open the API") and "RAG_API_KEY" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "never-built").exists(), "it refused before building anything"


def _raw_post(url: str, headers: str) -> tuple[int, dict[str, Any]]:
    """POST only the headers (no body) and read the answer: a server that waited for the body would time out."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}\r\n".encode()
        )
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.decode().partition("\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize("max_question_chars", [2000, 100])
def test_a_body_over_the_limit_is_413_before_it_is_read(index_dir, max_question_chars):
    """The limit follows RAG_MAX_QUESTION_CHARS; a body of exactly the limit is still answered."""
    from rag.pipeline import build_pipeline
    from rag.serve import body_limit, build_app
    from rag.settings import load_settings

    limit = body_limit(max_question_chars)
    assert 1_000_000 <= body_limit(2000) <= 5_000_000, "room for a long conversation, far from 20 MB"
    settings = load_settings(
        seeds_dir=SEEDS, index_dir=index_dir, max_question_chars=max_question_chars, _env_file=None
    )
    with running(build_app(build_pipeline(settings))) as url:
        status, body = _raw_post(url, f"Content-Type: application/json\r\nContent-Length: {limit + 1}\r\n")
        assert status == 413
        assert body == {
            "error": {
                "message": f"Request body too large: {limit + 1:,} bytes; the limit is {limit:,}.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
        padding = {"role": "system", "content": ""}
        request = {"messages": [padding, user(QUESTION)]}
        padding["content"] = "x" * (limit - len(json.dumps(request)))
        content = json.dumps(request).encode()
        assert len(content) == limit
        answered = httpx.post(f"{url}/chat/completions", content=content, headers={"Content-Type": "application/json"})
        assert answered.status_code == 200 and "Medinsky" in answered.json()["choices"][0]["message"]["content"]


def test_a_chunked_body_is_refused_with_411(served):
    status, body = _raw_post(served["open"], "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
    assert status == 411 and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"] == "Send the request body with a Content-Length header, not chunked."


@pytest.mark.slow
@pytest.mark.parametrize("problem", ["port in use", "host unknown"])
def test_rag_serve_that_cannot_listen_says_why_in_one_line(tmp_path, problem):
    """Before: "API on …" was printed, then uvicorn's ERROR, and exit 3 (or 0 for the host)."""
    env = clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(tmp_path / "never-built"), RAG_API_KEY=KEY)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        host = "127.0.0.1" if problem == "port in use" else "no-such-host.invalid"
        result = subprocess.run(
            [sys.executable, "-m", "rag.cli", "serve", "--host", host, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    expected = {
        "port in use": f"Error: Port {port} is already in use on 127.0.0.1: stop what is using it, or choose another "
        "with --port.",
        "host unknown": "Error: Cannot resolve --host no-such-host.invalid (",
    }[problem]
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith(expected) and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "never-built").exists(), "it stopped before loading the index"
