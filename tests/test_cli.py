"""The `rag` command as a user runs it: real subprocesses, exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEEDS

pytestmark = pytest.mark.slow


def rag(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(index_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    clean.update(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(SEEDS.parent))
    return clean


def test_ask_prints_answer_then_numbered_sources(env, tmp_path):
    result = rag("ask", "Which Turkish minister did the Russian delegation meet?", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\nSources:\n")
    assert "Hakan Fidan" in answer and "[1]" in answer
    assert sources.startswith("[1] 000_4ac1dad1d337df25.txt, 2025-05-16")
    assert "“" in sources


def test_ask_json_is_the_answer_model(env, tmp_path):
    result = rag("ask", "--json", "How long did Friday's talks last?", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"text", "citations", "refused", "mode", "query"}
    citation = data["citations"][0]
    raw = (SEEDS / citation["source"]).read_text(encoding="utf-8")
    assert raw[citation["start"] : citation["end"]] == citation["quote"]


@pytest.mark.parametrize("question", ["", "   "])
def test_bad_question_exits_2_with_one_line(env, tmp_path, question):
    result = rag("ask", question, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: Please type a question about the articles."
    assert "Traceback" not in result.stderr


def test_bad_setting_exits_2_naming_the_variable(env, tmp_path):
    result = rag("ask", "Who?", env={**env, "RAG_TOP_K": "lots"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "RAG_TOP_K" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_index_summary_names_skipped_files_and_exits_0(env, tmp_path, seeds):
    (seeds / "empty.txt").write_text("", encoding="utf-8")
    (seeds / "photo.jpg").write_bytes(b"\xff\xd8\x00\x00")
    env = {**env, "RAG_SEEDS_DIR": str(seeds), "RAG_INDEX_DIR": str(tmp_path / "idx")}
    result = rag("index", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Indexed 5 files (5 new" in result.stdout
    assert "Skipped empty.txt: empty" in result.stdout
    assert "Skipped photo.jpg: binary file" in result.stdout
    again = rag("index", env=env, cwd=tmp_path)
    assert "Index is up to date: 5 files" in again.stdout


def test_ask_with_no_network_at_all(env, tmp_path):
    """Offline-first: a whole ask works in a network namespace with no interfaces up."""
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare --net needs root here")
    result = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "rag.cli", "ask", "Who headed the Russian delegation?"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Medinsky" in result.stdout
