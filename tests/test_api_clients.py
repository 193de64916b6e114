"""`rag serve` through the clients people use, from their real packages: every client snippet of
docs/api.md is run against a keyed server (openai, langchain-openai, litellm, Simon Willison's
`llm`), streamed and not, and what each client ends up with is checked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import offline_pipeline, running

from conftest import ROOT, clean_env

pytestmark = pytest.mark.slow

KEY = "test-key-clients-0123"
DOC = ROOT / "docs" / "api.md"
#: How the snippets name the server and the key; the tests put the real ones in their place.
DOC_URL, DOC_KEY = "http://127.0.0.1:8000/v1", "your-rag-api-key"
DELEGATION = "Who headed the Russian delegation?"
TALKS = "How long did Friday's talks last?"


def snippet(name: str) -> str:
    """The fenced block after `<!-- snippet: name -->` in docs/api.md."""
    found = re.search(
        rf"<!-- snippet: {re.escape(name)} -->\n```\w*\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S
    )
    assert found, f"docs/api.md has no snippet {name!r}"
    return found.group(1)


@pytest.fixture(scope="module")
def url(index_dir: Path) -> Iterator[str]:
    from rag.serve import build_app

    with running(build_app(offline_pipeline(index_dir), KEY)) as base:
        yield base


@pytest.fixture(scope="module")
def expected(url: str) -> dict[str, dict[str, Any]]:
    """What the server answers each snippet question, asked over plain HTTP: what each client must show."""
    found = {}
    for question in (DELEGATION, TALKS):
        body = {"messages": [{"role": "user", "content": question}]}
        reply = httpx.post(f"{url}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}).json()
        found[question] = {**reply["choices"][0]["message"], "usage": reply["usage"]}
        assert "\n\nSources:\n[1]" in found[question]["content"]
    return found


def run_python(code: str, url: str) -> str:
    """Run a snippet in its own interpreter (as a user would) against `url`; its stdout."""
    code = code.replace(DOC_URL, url).replace(DOC_KEY, KEY)
    env = clean_env(LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_openai_snippet(url, expected):
    out = run_python(snippet("openai"), url)
    message = expected[DELEGATION]
    first = message["annotations"][0]["url_citation"]
    assert out.count(message["content"]) == 2, "non-streamed and streamed"
    assert f"start_index={first['start_index']}" in out and f"url='{first['url']}'" in out
    assert message["citations"][0]["quote"] + "\n" in out, "the quote from the citations field"
    total = message["usage"]["total_tokens"]
    assert f"\n{total}\n" in out and out.endswith(f"\ntokens: {total}\n"), "usage, and the usage chunk of the stream"


def test_langchain_snippet_shows_the_sources_list_and_usage(url, expected):
    out = run_python(snippet("langchain"), url)
    assert expected[DELEGATION]["content"] + "\n" in out and out.endswith(expected[TALKS]["content"])
    usage = expected[DELEGATION]["usage"]
    assert (
        f"'input_tokens': 6, 'output_tokens': {usage['completion_tokens']}, 'total_tokens': {usage['total_tokens']}"
        in out
    )


def test_litellm_snippet_keeps_annotations_and_usage(url, expected):
    out = run_python(snippet("litellm"), url)
    message = expected[DELEGATION]
    url_line = message["annotations"][0]["url_citation"]["url"]
    assert out == f"{message['content']}\n{url_line}\n{message['usage']['total_tokens']}\n{message['content']}"


def test_litellm_stream_keeps_annotations_and_the_usage_chunk(url, expected):
    code = f"""
import json, litellm
question = [{{"role": "user", "content": "Who headed the Russian delegation?"}}]
chunks = list(litellm.completion(model="openai/newsrag-offline", messages=question, stream=True,
    stream_options={{"include_usage": True}}, api_base={url!r}, api_key={KEY!r}))
built = litellm.stream_chunk_builder(chunks, messages=question)
message = built.choices[0].message
print(json.dumps({{"content": message.content, "annotations": message.annotations,
    "usage": built.usage.model_dump()}}))
"""
    found = json.loads(run_python(code, url).strip().splitlines()[-1])
    message = expected[DELEGATION]
    assert found["content"] == message["content"] and found["annotations"] == message["annotations"]
    assert {k: found["usage"][k] for k in message["usage"]} == message["usage"]


def run_llm(tmp_path: Path, yaml: str, url: str, *commands: str) -> list[subprocess.CompletedProcess[str]]:
    """Run `llm` commands (from the snippet, shell words) with its own folder holding `yaml`."""
    import shlex

    home = tmp_path / "llm"
    home.mkdir(exist_ok=True)
    (home / "extra-openai-models.yaml").write_text(yaml.replace(DOC_URL, url), encoding="utf-8")
    env = clean_env(LLM_USER_PATH=str(home), PYTHONWARNINGS="ignore")
    done = []
    for command in commands:
        words = shlex.split(command.replace(DOC_KEY, KEY))
        assert words[0] == "llm"
        words[0] = str(Path(sys.executable).parent / "llm")
        done.append(subprocess.run(words, env=env, capture_output=True, text=True, timeout=120))
    return done


def test_llm_snippet_streamed_and_not_and_its_logged_usage(tmp_path, url, expected):
    commands = snippet("llm-shell").splitlines()
    keyed, streamed, whole = run_llm(tmp_path, snippet("llm-yaml"), url, *commands)
    assert keyed.returncode == 0, keyed.stderr
    assert streamed.returncode == 0 and streamed.stdout == expected[DELEGATION]["content"] + "\n", streamed.stderr
    assert whole.returncode == 0 and whole.stdout == expected[TALKS]["content"] + "\n", whole.stderr
    (logged,) = run_llm(tmp_path, snippet("llm-yaml"), url, "llm logs -n 1 --json")
    record = json.loads(logged.stdout)[0]
    usage = expected[TALKS]["usage"]
    assert (record["input_tokens"], record["output_tokens"]) == (usage["prompt_tokens"], usage["completion_tokens"])
    assert usage["prompt_tokens"] == 9, "how / long / did / friday / ' / s / talks / last / ?"


def test_llm_without_api_key_name_sends_a_dummy_key_and_gets_401(tmp_path, url):
    yaml = "\n".join(line for line in snippet("llm-yaml").splitlines() if "api_key_name" not in line)
    (failed,) = run_llm(tmp_path, yaml, url, 'llm -m newsrag "Who headed the Russian delegation?"')
    assert failed.returncode != 0 and "401" in failed.stderr + failed.stdout
