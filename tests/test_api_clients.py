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

import pytest
from api_server import offline_pipeline, running

from conftest import ROOT, clean_env

pytestmark = pytest.mark.slow

KEY = "test-key-clients-0123"
DOC = ROOT / "docs" / "api.md"
#: How the snippets name the server and the key; the tests put the real ones in their place.
DOC_URL, DOC_KEY = "http://127.0.0.1:8000/v1", "your-rag-api-key"
SOURCES = "\n\nSources:\n[1][2] 004_ffb46453cc274d5e.txt, 2025-05-15"


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


def run_python(code: str, url: str) -> str:
    """Run a snippet in its own interpreter (as a user would) against `url`; its stdout."""
    code = code.replace(DOC_URL, url).replace(DOC_KEY, KEY)
    env = clean_env(LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_openai_snippet(url):
    out = run_python(snippet("openai"), url)
    assert "Medinsky" in out and SOURCES in out
    assert "start_index=9" in out and "url='004_ffb46453cc274d5e.txt'" in out
    assert "Vladimir Medinsky" in out, "the quote from the citations field"
    assert re.search(r"^\d+$", out, re.M), "usage.total_tokens"
    assert re.search(r"\ntokens: \d+$", out), "the usage chunk of the stream"


def test_langchain_snippet_shows_the_sources_list_and_usage(url):
    out = run_python(snippet("langchain"), url)
    assert SOURCES in out and "\n\nSources:\n[1] 003_f4afef2fd7492f2d.txt" in out, "invoked, then streamed"
    assert re.search(r"'input_tokens': 6, 'output_tokens': \d+", out)


def test_litellm_snippet_keeps_annotations_and_usage(url):
    out = run_python(snippet("litellm"), url)
    assert out.count(SOURCES) == 2, "non-streamed and streamed"
    after = out.split(SOURCES, 1)[1].splitlines()
    assert after[1:3] == ["004_ffb46453cc274d5e.txt", after[2]] and after[2].isdigit(), "annotation url, usage"


def test_litellm_stream_keeps_annotations_and_the_usage_chunk(url):
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
    content = found["content"]
    assert content.endswith(SOURCES)
    markers = [content[a["url_citation"]["start_index"] : a["url_citation"]["end_index"]] for a in found["annotations"]]
    assert markers and set(markers) <= {"[1]", "[2]"}
    assert found["usage"]["prompt_tokens"] == 6 and found["usage"]["completion_tokens"] > len(content.split())


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


def test_llm_snippet_streamed_and_not_and_its_logged_usage(tmp_path, url):
    commands = snippet("llm-shell").splitlines()
    keyed, streamed, whole = run_llm(tmp_path, snippet("llm-yaml"), url, *commands)
    assert keyed.returncode == 0, keyed.stderr
    assert streamed.returncode == 0 and streamed.stdout.rstrip("\n").endswith(SOURCES), streamed.stderr
    assert whole.returncode == 0 and "\n\nSources:\n[1] 003_f4afef2fd7492f2d.txt" in whole.stdout, whole.stderr
    (logged,) = run_llm(tmp_path, snippet("llm-yaml"), url, "llm logs -n 1 --json")
    record = json.loads(logged.stdout)[0]
    assert record["input_tokens"] == 9 and record["output_tokens"] > 10, "how long did friday ' s talks last ?"


def test_llm_without_api_key_name_sends_a_dummy_key_and_gets_401(tmp_path, url):
    yaml = "\n".join(line for line in snippet("llm-yaml").splitlines() if "api_key_name" not in line)
    (failed,) = run_llm(tmp_path, yaml, url, 'llm -m newsrag "Who headed the Russian delegation?"')
    assert failed.returncode != 0 and "401" in failed.stderr + failed.stdout
