"""Fixtures: every store lives under tmp_path; no test sees the developer's .env or keys."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = ROOT / "eval" / "corpora" / "seeds" / "gold.jsonl"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


#: Variables no test inherits from the machine: the project's settings and the OpenAI client's.
SCRUBBED = ("RAG_", "OPENAI_")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess: this one without RAG_* and OPENAI_* variables, plus `extra`.

    Subprocesses see only the settings a test gives them, never the developer's keys or paths.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env.update(extra)
    return env


def wait_for_http(url: str, proc: subprocess.Popen[Any], timeout: float, what: str, log: Path | None = None) -> None:
    """Return once `url` answers; fail the test when `proc` exits first or `timeout` passes.

    A server that prints no reliable "ready" line can only be probed, so this polls. The
    failure message ends with the tail of `log` (the server's output), when given.
    """
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            problem = f"exited with code {proc.returncode}" if proc.poll() is not None else f"took over {timeout:.0f} s"
            proc.kill()
            output = log.read_text(encoding="utf-8", errors="replace")[-4000:] if log and log.exists() else ""
            pytest.fail(f"{what} {problem} before it answered at {url}\n{output}")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from defaults: no RAG_* or OPENAI_* from the machine, no .env."""
    for name in list(os.environ):
        if name.startswith(SCRUBBED):
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
    lines = [
        line
        for path in (GOLD, GOLD.with_name("holdout.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
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
        values = {
            "seeds_dir": SEEDS,
            "index_dir": index_dir,
            "_env_file": None,
            "openai_base_url": fake_llm.url,
            "openai_api_key": PLANTED_KEY,
            "llm_model": "fake-model",
            "llm_timeout": 5.0,
        }
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
    import sys

    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, 60, "chroma run")
    server = types.SimpleNamespace(port=port, proc=proc)
    yield server
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=20)
