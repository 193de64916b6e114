"""Server mode: the same index and answers through a real `chroma run` server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from rag.errors import StoreUnavailableError
from rag.index.refresh import Part
from rag.pipeline import build_pipeline

from conftest import ROOT, SEEDS, clean_env, free_port, wait_for_http

pytestmark = pytest.mark.slow
QUESTIONS = [
    "Which Turkish minister did the Russian delegation meet?",
    "How long did Friday's talks last?",
    "What did Kaja Kallas say about Putin?",
    "Who represented China at the Istanbul talks?",
]


def test_index_refresh_and_ask_against_a_chroma_server(seeds: Path, make_settings, chroma_server, tmp_path, pipeline):
    local = tmp_path / "must-stay-empty"
    server = build_pipeline(
        make_settings(seeds_dir=seeds, index_dir=local, chroma_host="127.0.0.1", chroma_port=chroma_server.port)
    )
    first = server.index()
    assert len(first.added) == 5 and server.store.where == f"127.0.0.1:{chroma_server.port}"
    for question in QUESTIONS:
        remote, embedded = server.ask(question), pipeline.ask(question)
        assert remote.text == embedded.text
        assert [(c.source, c.start, c.end) for c in remote.citations] == [
            (c.source, c.start, c.end) for c in embedded.citations
        ]

    (seeds / "005_extra.txt").write_text("The delegations agreed to swap 1,000 prisoners each.\n", encoding="utf-8")
    second = server.index()
    assert second.added == ["005_extra.txt"] and second.embedded < second.chunks
    assert server.ask("How many prisoners did the delegations agree to swap?").citations[0].source == "005_extra.txt"
    assert [p.name for p in local.iterdir()] == ["keyword-index"], "locally only the keyword files, no Chroma data"


def test_a_refresh_split_across_machines_is_published_once_by_a_plain_refresh(
    seeds: Path, make_settings, chroma_server, tmp_path, pipeline
):
    def machine(name: str):
        server = {"chroma_host": "127.0.0.1", "chroma_port": chroma_server.port}
        return build_pipeline(make_settings(seeds_dir=seeds, index_dir=tmp_path / name, **server))

    first, second, publisher = machine("a"), machine("b"), machine("c")
    done: dict[int, object] = {}

    def run_part_2() -> None:
        try:
            done[2] = second.index(part=Part(2, 2))
        except Exception as exc:  # reported by the assertion below
            done[2] = exc

    waiting = threading.Thread(target=run_part_2)
    waiting.start()  # part 2 first: it waits for part 1 to create the version
    time.sleep(1.5)
    done[1] = first.index(part=Part(1, 2))
    waiting.join(timeout=180)
    one, two = done[1], done[2]
    assert not isinstance(two, Exception), two
    assert one.collection == two.collection and not one.published and not two.published
    names = sorted(p.name for p in seeds.iterdir())
    assert sorted(one.added + two.added) == names and not set(one.added) & set(two.added)
    assert publisher.store.active_name() is None, "a part never publishes"

    final = publisher.index()
    assert final.published and final.collection == one.collection
    assert sorted(final.resumed) == names and final.embedded == 0, "the parts' sentences are not embedded again"
    for question in QUESTIONS[:2]:
        assert publisher.ask(question).text == pipeline.ask(question).text


def test_rag_index_part_says_it_did_not_publish_and_a_plain_rag_index_publishes(seeds: Path, chroma_server, tmp_path):
    server = {"RAG_SEEDS_DIR": str(seeds), "RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": str(chroma_server.port)}
    env = clean_env(**server, RAG_INDEX_DIR=str(tmp_path / "local"), RAG_LLM="off", PYTHONPATH=str(ROOT))
    part = _rag("index", "--part", "1/1", env=env)
    out, _ = part.communicate(timeout=300)
    assert part.returncode == 0, out
    assert "Part 1/1: 5 new" in out and "Not published: run `rag index`" in out
    publish = _rag("index", env=env)
    out, _ = publish.communicate(timeout=300)
    assert publish.returncode == 0, out
    assert "Indexed 5 files" in out and "0 embedded" in out


def _rag(*args: str, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[str]:
    out = log.open("w") if log else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True
    )


def _answer(url: str, question: str) -> tuple[str, list[tuple[str, int, int]]]:
    body = {"messages": [{"role": "user", "content": question}]}
    reply = httpx.post(f"{url}/chat/completions", json=body, timeout=60)
    message = reply.raise_for_status().json()["choices"][0]["message"]
    return message["content"], [(c["source"], c["start"], c["end"]) for c in message["citations"]]


def test_two_app_processes_on_one_chroma_server_answer_alike_and_follow_a_new_version(
    seeds: Path, chroma_server, tmp_path
):
    """Two `rag serve` processes, each with its own local folder (as on two machines), one `chroma run`.

    `rag index` runs as a third process with a folder of its own; the apps find the new version
    through the pointer in the server and build their keyword files from it, no shared disk.
    """
    server = {"RAG_SEEDS_DIR": str(seeds), "RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": str(chroma_server.port)}
    indexer = clean_env(**server, RAG_INDEX_DIR=str(tmp_path / "indexer"), RAG_LLM="off", PYTHONPATH=str(ROOT))
    assert _rag("index", env=indexer).wait(timeout=300) == 0
    apps, urls = [], []
    try:
        for n in (1, 2):
            port = free_port()
            env = clean_env(**server, RAG_INDEX_DIR=str(tmp_path / f"app{n}"), RAG_LLM="off", PYTHONPATH=str(ROOT))
            apps.append(_rag("serve", "--port", str(port), env=env, log=tmp_path / f"app{n}.log"))
            urls.append(f"http://127.0.0.1:{port}/v1")
        for proc, url, n in zip(apps, urls, (1, 2), strict=True):
            wait_for_http(f"{url}/models", proc, 120, f"rag serve {n}", tmp_path / f"app{n}.log")
        answers = [[_answer(url, question) for question in QUESTIONS] for url in urls]
        assert answers[0] == answers[1] and any(cited for _, cited in answers[0])

        question = "How many prisoners did the delegations agree to swap?"
        assert all(all(s != "005_extra.txt" for s, _, _ in _answer(url, question)[1]) for url in urls)
        (seeds / "005_extra.txt").write_text("The delegations agreed to swap 1,000 prisoners each.\n", encoding="utf-8")
        assert _rag("index", env=indexer).wait(timeout=300) == 0
        deadline = time.monotonic() + 60  # a generous bound on "within seconds": the apps check every 2 s
        waiting = set(urls)
        while waiting and time.monotonic() < deadline:
            waiting = {url for url in waiting if _answer(url, question)[1][:1] != [("005_extra.txt", 0, 52)]}
            time.sleep(0.5)
        assert not waiting, f"these apps still answer from the old version: {sorted(waiting)}"
    finally:
        for proc in apps:
            proc.terminate()
            proc.wait(timeout=20)
    for n in (1, 2):
        assert [p.name for p in (tmp_path / f"app{n}").iterdir()] == ["keyword-index"], "no copy of the Chroma data"


def test_server_down_is_one_clear_line_naming_host_and_port(tmp_path):
    port = free_port()
    env = clean_env(
        RAG_SEEDS_DIR=str(SEEDS), RAG_CHROMA_HOST="127.0.0.1", RAG_CHROMA_PORT=str(port), PYTHONPATH=str(ROOT)
    )
    for args in (["ask", "Who led the Russian delegation?"], ["index"]):
        result = subprocess.run(
            [sys.executable, "-m", "rag.cli", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "Traceback" not in result.stderr


def test_server_that_goes_away_mid_session_gives_a_clear_error(seeds, make_settings, chroma_server):
    server = build_pipeline(make_settings(seeds_dir=seeds, chroma_host="127.0.0.1", chroma_port=chroma_server.port))
    server.index()
    server.ask("Who led the Russian delegation?")
    chroma_server.proc.terminate()
    chroma_server.proc.wait(timeout=20)
    # first a question: its reads (retrieval, sentences) go to the collection directly, past the store
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{chroma_server.port}"):
        server.ask("How long did the talks last?")
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{chroma_server.port}"):
        server.retrieve("ceasefire")
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{chroma_server.port}"):
        server.index()


def test_a_new_version_from_another_machine_is_built_aside_while_the_old_one_answers(
    seeds, make_settings, chroma_server, tmp_path, monkeypatch
):
    """An app process that meets a version indexed elsewhere builds its keyword files in a thread;
    questions meanwhile get the version it has, not a wait for the build (18 s at 2,000 articles)."""
    common = {"seeds_dir": seeds, "chroma_host": "127.0.0.1", "chroma_port": chroma_server.port}
    indexer = build_pipeline(make_settings(index_dir=tmp_path / "indexer", **common))
    app = build_pipeline(make_settings(index_dir=tmp_path / "app", **common))
    indexer.index()
    old = app.ask("Who led the Russian delegation?").index_version
    (seeds / "extra.txt").write_text("Summit\n\nThe Zorblax summit opened in Oslo on Monday.\n", encoding="utf-8")
    new = indexer.index().collection
    started, release = threading.Event(), threading.Event()
    build = app.version_files.ensure

    def slow_build(*args, **kwargs):
        started.set()
        release.wait(30)
        return build(*args, **kwargs)

    monkeypatch.setattr(app.version_files, "ensure", slow_build)
    monkeypatch.setattr("rag.pipeline.POINTER_CHECK_SECONDS", 0.0)
    waiting = app.ask("Who led the Russian delegation?")
    assert started.wait(10) and waiting.index_version == old and not waiting.refused
    release.set()
    deadline = time.monotonic() + 30
    while app.ask("Where did the Zorblax summit open?").index_version != new:
        assert time.monotonic() < deadline, "the new version was never taken up"
        time.sleep(0.2)
    assert not app.ask("Where did the Zorblax summit open?").refused
