"""Load: many threads through one pipeline, and memory over a thousand questions."""

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


def test_twenty_threads_fifty_questions_each_all_correct_and_cited(pipeline):
    pipeline.ask(CASES[0][0])

    def worker(seed: int) -> list[str]:
        problems = []
        for i in range(50):
            question, fact = CASES[(seed + i) % len(CASES)]
            answer = pipeline.ask(question)
            raw_ok = all(
                (SEEDS / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote for c in answer.citations
            )
            if fact not in answer.text or not answer.citations or not raw_ok:
                problems.append(f"{question!r}: {answer.text[:80]!r}")
        return problems

    with ThreadPoolExecutor(max_workers=20) as pool:
        problems = [p for batch in pool.map(worker, range(20)) for p in batch]
    assert problems == []


def test_memory_grows_less_than_ten_percent_over_a_thousand_questions(pipeline):
    import psutil

    process = psutil.Process()
    questions = [q for q, _ in CASES] + ["Who represented China at the talks?", "🙂", "x" * 1500]
    for i in range(100):
        pipeline.ask(questions[i % len(questions)])
    gc.collect()
    warm = process.memory_info().rss
    for i in range(1000):
        pipeline.ask(questions[i % len(questions)] + (" " + str(i) if i % 3 == 0 else ""))
    gc.collect()
    grown = process.memory_info().rss
    assert grown <= warm * 1.10, f"RSS {warm / 2**20:.0f} MB -> {grown / 2**20:.0f} MB"
