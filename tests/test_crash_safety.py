"""Re-indexing that cannot lose the index: SIGKILL mid-refresh, and two refreshes at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.pipeline import build_pipeline

from conftest import ROOT

pytestmark = pytest.mark.slow


def big_article(seeds: Path, sentences: int) -> str:
    """A long new article built from the seed sentences, with a marker fact in it."""
    pool = [s.strip() + "." for f in sorted(seeds.glob("*.txt"))
            for s in f.read_text(encoding="utf-8").replace("\n", " ").split(". ") if len(s) > 40]
    rng = random.Random(7)
    body = [f"Report {i}: {rng.choice(pool)}" for i in range(sentences)]
    body.insert(sentences // 2, "The zebra delegation arrived in Izmir on a purple ferry.")
    return "\n".join(body) + "\n"


def start_index(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "index"], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def env(seeds: Path, tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    clean.update(RAG_SEEDS_DIR=str(seeds), RAG_INDEX_DIR=str(tmp_path / "index"), PYTHONPATH=str(ROOT))
    return clean


def segment_dirs(index: Path) -> set[str]:
    return {p.name for p in index.iterdir() if p.is_dir()} if index.exists() else set()


def test_sigkill_mid_refresh_keeps_the_old_index_answering(seeds, make_settings, env, tmp_path):
    settings = make_settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_pipeline(settings).index()
    before = build_pipeline(settings).ask("Which Turkish minister did the Russian delegation meet?")
    assert "Hakan Fidan" in before.text
    baseline = segment_dirs(settings.index_dir)

    (seeds / "zz_long.txt").write_text(big_article(seeds, 3000), encoding="utf-8")
    proc = start_index(env, tmp_path)
    deadline = time.monotonic() + 120
    while segment_dirs(settings.index_dir) == baseline and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the refresh finished before it could be killed; make the article longer"

    after = build_pipeline(settings)
    old = after.ask("Which Turkish minister did the Russian delegation meet?")
    assert old.text == before.text, "the previous index must still answer"
    assert after.ask("How did the zebra delegation travel to Izmir?").refused
    assert len(after.store.client.list_collections()) >= 3, "the killed refresh should have left a partial version"

    rerun = subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    fresh = build_pipeline(settings)
    assert "purple ferry" in fresh.ask("How did the zebra delegation travel to Izmir?").text
    names = [c.name for c in fresh.store.client.list_collections()]
    assert sum(n.startswith("articles-v") for n in names) <= 2, f"stale versions were not dropped: {names}"


def test_two_refreshes_at_once_do_not_corrupt_the_index(seeds, make_settings, env, tmp_path):
    settings = make_settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_pipeline(settings).index()
    (seeds / "zz_long.txt").write_text(big_article(seeds, 2000), encoding="utf-8")
    baseline = segment_dirs(settings.index_dir)
    first = start_index(env, tmp_path)
    # A new segment is written only while the first run holds the lock. Probing the lock itself
    # (flock -n) would take it for a moment and could make the *first* run give up instead.
    deadline = time.monotonic() + 60
    while segment_dirs(settings.index_dir) == baseline and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the first refresh finished before the second started; make the article longer"
    second = subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 1 and "Another `rag index` is refreshing this index" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert "purple ferry" in build_pipeline(settings).ask("How did the zebra delegation travel to Izmir?").text
