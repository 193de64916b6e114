"""Server mode: the same index and answers through a real `chroma run` server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import StoreUnavailableError
from rag.pipeline import build_pipeline

from conftest import ROOT, SEEDS, clean_env, free_port

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
    assert not local.exists(), "server mode must not write to the local index folder"


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
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{chroma_server.port}"):
        server.index()
