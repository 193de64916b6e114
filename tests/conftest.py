"""Fixtures: every store lives under tmp_path; no test sees the developer's .env or keys."""

from __future__ import annotations

import json
import os
import shutil
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = ROOT / "eval" / "corpora" / "seeds" / "gold.jsonl"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from defaults: no RAG_* or OPENAI_* from the machine, no .env."""
    for name in list(os.environ):
        if name.startswith(("RAG_", "OPENAI_")):
            monkeypatch.delenv(name)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the five articles that a test may change."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings with the index under tmp_path and no .env file."""
    from rag.settings import load_settings

    def make(**overrides: object):
        values = {"seeds_dir": SEEDS, "index_dir": tmp_path / "index", "_env_file": None}
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index over the real seeds, built once for the read-only tests."""
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    path = tmp_path_factory.mktemp("index")
    build_pipeline(load_settings(seeds_dir=SEEDS, index_dir=path, _env_file=None)).index()
    return path


@pytest.fixture
def pipeline(index_dir: Path):
    """A pipeline over the shared session index (do not refresh it in tests)."""
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    return build_pipeline(load_settings(seeds_dir=SEEDS, index_dir=index_dir, _env_file=None))


@pytest.fixture
def public_api(index_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """The `rag` module with its default pipeline pointed at the session index."""
    import rag

    monkeypatch.setenv("RAG_SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    rag.default_pipeline.cache_clear()
    yield rag
    rag.default_pipeline.cache_clear()


@pytest.fixture(scope="session")
def gold() -> list[dict]:
    """The gold and held-out questions together: every question we wrote by reading the articles."""
    lines = [line for path in (GOLD, GOLD.with_name("holdout.jsonl")) for line in path.read_text(encoding="utf-8").splitlines()]
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def fake_llm():
    """A scripted OpenAI-compatible server on a free loopback port."""
    from fake_llm import FakeLLM

    server = FakeLLM()
    yield server
    server.close()


PLANTED_KEY = "sk-planted-SECRET-0123456789abcdef"


@pytest.fixture
def llm_pipeline(index_dir: Path, fake_llm):
    """A pipeline whose LLM is the fake server, with a planted key that must never leak."""
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    def make(**overrides: object):
        values = {"seeds_dir": SEEDS, "index_dir": index_dir, "_env_file": None,
                  "openai_base_url": fake_llm.url, "openai_api_key": PLANTED_KEY,
                  "llm_model": "fake-model", "llm_timeout": 5.0}
        values.update(overrides)
        return build_pipeline(load_settings(**values))

    return make


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    """A real `chroma run` server on a free loopback port, data under tmp_path."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.2)
    server = types.SimpleNamespace(port=port, proc=proc)
    yield server
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=20)
