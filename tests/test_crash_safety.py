"""Re-indexing that cannot lose the index: SIGKILL mid-refresh, and two refreshes at once."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag.pipeline import build_pipeline

from conftest import ROOT, clean_env

pytestmark = pytest.mark.slow


def big_article(seeds: Path, sentences: int) -> str:
    """A long new article built from the seed sentences, with a marker fact in it."""
    pool = [
        s.strip() + "."
        for f in sorted(seeds.glob("*.txt"))
        for s in f.read_text(encoding="utf-8").replace("\n", " ").split(". ")
        if len(s) > 40
    ]
    rng = random.Random(7)
    body = [f"Report {i}: {rng.choice(pool)}" for i in range(sentences)]
    body.insert(sentences // 2, "The zebra delegation arrived in Izmir on a purple ferry.")
    return "\n".join(body) + "\n"


#: `pipeline.index()` in a child process that stops once, after the first batch is written to the
#: new index version (lock held, version not yet published), says so on stdout, and waits for its
#: stdin: a line or EOF lets it finish. The test acts on that signal instead of guessing a delay.
PAUSED_REFRESH = """
import sys
from rag.pipeline import build_pipeline
from rag.settings import load_settings

paused = False

def progress(done, total):
    global paused
    if 0 < done < total and not paused:
        paused = True
        print(f"paused {done}/{total}", flush=True)
        sys.stdin.readline()

build_pipeline(load_settings()).index(progress)
print("finished", flush=True)
"""


def start_paused_refresh(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """A refresh stopped mid-way (see PAUSED_REFRESH); returns once it is paused."""
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_REFRESH],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("paused "):
        proc.kill()
        _, err = proc.communicate(timeout=30)
        pytest.fail(f"the refresh did not pause mid-way (stdout {line!r}): {err[-2000:]}")
    return proc


@pytest.fixture
def env(seeds: Path, tmp_path: Path) -> dict[str, str]:
    return clean_env(RAG_SEEDS_DIR=str(seeds), RAG_INDEX_DIR=str(tmp_path / "index"), PYTHONPATH=str(ROOT))


def segment_dirs(index: Path) -> set[str]:
    return {p.name for p in index.iterdir() if p.is_dir()} if index.exists() else set()


def test_sigkill_mid_refresh_keeps_the_old_index_answering(seeds, make_settings, env, tmp_path):
    settings = make_settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_pipeline(settings).index()
    before = build_pipeline(settings).ask("Which Turkish minister did the Russian delegation meet?")
    assert "Hakan Fidan" in before.text
    baseline = segment_dirs(settings.index_dir)

    (seeds / "zz_long.txt").write_text(big_article(seeds, 600), encoding="utf-8")
    proc = start_paused_refresh(env, tmp_path)
    assert segment_dirs(settings.index_dir) != baseline, "the paused refresh has written part of a new version"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    after = build_pipeline(settings)
    old = after.ask("Which Turkish minister did the Russian delegation meet?")
    assert old.text == before.text, "the previous index must still answer"
    assert after.ask("How did the zebra delegation travel to Izmir?").refused
    assert len(after.store.client.list_collections()) >= 3, "the killed refresh should have left a partial version"

    rerun = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr
    fresh = build_pipeline(settings)
    assert "purple ferry" in fresh.ask("How did the zebra delegation travel to Izmir?").text
    names = [c.name for c in fresh.store.client.list_collections()]
    assert sum(n.startswith("articles-v") for n in names) <= 2, f"stale versions were not dropped: {names}"


def test_two_refreshes_at_once_do_not_corrupt_the_index(seeds, make_settings, env, tmp_path):
    settings = make_settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_pipeline(settings).index()
    (seeds / "zz_long.txt").write_text(big_article(seeds, 600), encoding="utf-8")
    first = start_paused_refresh(env, tmp_path)  # holds the index lock while paused
    second = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    out, err = first.communicate("\n", timeout=600)
    assert first.returncode == 0 and out.strip() == "finished", err
    assert second.returncode == 1 and "Another `rag index` is refreshing this index" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert "purple ferry" in build_pipeline(settings).ask("How did the zebra delegation travel to Izmir?").text


def test_a_killed_refresh_resumes_without_embedding_its_finished_files_again(seeds, make_settings, env, tmp_path):
    """The rerun keeps the files the killed refresh wrote whole and embeds only the others."""
    settings = make_settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_pipeline(settings).index()
    for n in range(10):
        lines = [f"Bulletin {n} line {i}: the harbour of Port{n}ville counted {i + 3} boats." for i in range(40)]
        (seeds / f"bulletin_{n:02d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = start_paused_refresh(env, tmp_path)  # paused after the first batch of 256 sentences
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    pipeline = build_pipeline(settings)
    summary = pipeline.index()
    kept = [name for name in summary.resumed if name.startswith("bulletin_")]
    assert kept, "new files the killed refresh wrote whole are kept"
    assert set(summary.resumed) - set(kept) <= set(summary.unchanged), "and the unchanged files it had copied"
    assert summary.embedded == 40 * (10 - len(kept)), "only the unfinished files are embedded"
    assert summary.chunks == pipeline.store.active().count() == sum(pipeline.snapshot().sentence_counts().values())
    for n in (0, 9):
        answer = pipeline.ask(f"How many boats did the harbour of Port{n}ville count on line 7?")
        assert answer.citations and answer.citations[0].source == f"bulletin_{n:02d}.txt"
    names = [c.name for c in pipeline.store.client.list_collections()]
    assert sum(n.startswith("articles-v") for n in names) <= 2, f"stale versions were not dropped: {names}"
