"""Load: twenty threads through one pipeline for a thousand questions, every answer checked,
and memory flat across them (one workload for both: each costs about a minute of CPU)."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import SEEDS

pytestmark = pytest.mark.slow

#: Questions with a fact every correct answer contains (from eval/gold.jsonl).
CASES = [
    ("Which Turkish minister did the Russians see on Thursday evening?", "Fidan"),
    ("How long did Friday's talks last?", "two hours"),
    ("According to the UN, how many Ukrainian civilians have died in the war?", "12,000"),
    ("How did Kaja Kallas describe Putin's behaviour?", "playing games"),
    ("Who heads Ukraine's presidential office?", "Yermak"),
]
#: Questions asked beside them to vary the work: a refusal, an emoji, a long question (each
#: third one with a number appended, so no two are the same text).
OTHERS = ["Who represented China at the talks?", "🙂", "x" * 1500]
THREADS, EACH = 20, 50


def ask_and_check(pipeline, n: int) -> list[str]:
    """Ask question number `n` of the workload; the problems with its answer, if it has a fact to hold."""
    if n % 4 == 3:
        other = OTHERS[(n // 4) % len(OTHERS)]
        pipeline.ask(other + (f" {n}" if n % 3 == 0 else ""))
        return []
    question, fact = CASES[n % len(CASES)]
    answer = pipeline.ask(question)
    raw_ok = all((SEEDS / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote for c in answer.citations)
    if fact not in answer.text or not answer.citations or not raw_ok:
        return [f"{question!r}: {answer.text[:80]!r}"]
    return []


def test_twenty_threads_a_thousand_questions_all_correct_and_cited_with_memory_flat(pipeline):
    import psutil

    process = psutil.Process()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        warm_up = [p for batch in pool.map(lambda n: ask_and_check(pipeline, n), range(100)) for p in batch]
        assert warm_up == []
        gc.collect()
        warm = process.memory_info().rss

        def worker(seed: int) -> list[str]:
            return [p for i in range(EACH) for p in ask_and_check(pipeline, seed * EACH + i)]

        problems = [p for batch in pool.map(worker, range(THREADS)) for p in batch]
    gc.collect()
    grown = process.memory_info().rss
    assert problems == []
    assert grown <= warm * 1.10, f"RSS {warm / 2**20:.0f} MB -> {grown / 2**20:.0f} MB over {THREADS * EACH} questions"
