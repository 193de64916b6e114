"""`rag eval`: gold-file validation, a full run with every output, and the checked-in gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.evaluation.gold import GoldError, load_gold

from conftest import GOLD, ROOT, SEEDS

GOOD = {"id": "x1", "question": "Who?", "answers": ["A"], "must_include": [["A"]],
        "sources": ["000_4ac1dad1d337df25.txt"], "answerable": True}


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_project_gold_file_is_valid_and_broad():
    items = load_gold(GOLD, SEEDS)
    assert len(items) >= 60
    assert sum(not i.answerable for i in items) >= 12
    assert sum(len(i.sources) > 1 for i in items) >= 10
    assert sum(bool(i.history) for i in items) >= 2


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([json.dumps(GOOD), "{not json"], r"gold.jsonl:2: not valid JSON"),
        ([json.dumps({k: v for k, v in GOOD.items() if k != "answerable"})], r":1: field 'answerable'"),
        ([json.dumps({**GOOD, "sources": ["nope.txt"]})], r":1: unknown source file 'nope.txt'"),
        ([json.dumps(GOOD), json.dumps(GOOD)], r":2: duplicate id 'x1'"),
        ([json.dumps({**GOOD, "sources": []})], r"needs at least one source"),
        (["[1, 2]"], r":1: expected a JSON object"),
        ([""], r"has no questions"),
    ],
)
def test_bad_gold_files_name_the_line(tmp_path, lines, message):
    with pytest.raises(GoldError, match=message):
        load_gold(write(tmp_path, *lines), SEEDS)


def run_eval(tmp_path: Path, index_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "rag.cli", "eval", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_bad_gold_file_writes_nothing(tmp_path, index_dir):
    out = tmp_path / "out"
    result = run_eval(tmp_path, index_dir, "--gold", str(write(tmp_path, "{bad")), "--out", str(out))
    assert result.returncode == 1 and "gold.jsonl:1: not valid JSON" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_full_eval_writes_every_output_passes_the_gate_and_compares(tmp_path, index_dir):
    out = tmp_path / "out"
    result = run_eval(tmp_path, index_dir, "--gold", str(GOLD), "--out", str(out),
                      "--check", str(ROOT / "eval" / "thresholds.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("summary.json", "questions.csv", "report.md", "metrics.png", "latency.png"):
        assert (out / name).stat().st_size > 100, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["questions"] == len(load_gold(GOLD, SEEDS))
    assert summary["rates"]["quotes_verified"]["value"] == 1.0
    assert "All 6 gated metrics within thresholds" in result.stdout
    assert not [p for p in out.iterdir() if p.name.startswith(".eval-")]

    old = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    old["rates"]["hit@1"]["value"] = 0.5
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    again = run_eval(tmp_path, index_dir, "--gold", str(GOLD), "--out", str(out), "--compare", str(tmp_path / "old.json"))
    assert again.returncode == 0
    hit_row = next(line for line in again.stdout.splitlines() if "hit@1" in line)
    assert "0.500" in hit_row and "+0.4" in hit_row


@pytest.mark.slow
def test_gate_fails_when_a_metric_drops(tmp_path, index_dir):
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"hit@1": {"min": 1.01}}), encoding="utf-8")
    result = run_eval(tmp_path, index_dir, "--gold", str(GOLD), "--out", str(tmp_path / "o"), "--check", str(strict))
    assert result.returncode == 1 and "Below threshold: hit@1" in result.stderr


def test_eval_runs_the_llm_path_and_the_judge(llm_pipeline, fake_llm, tmp_path):
    import re as _re

    from fake_llm import Reply

    from rag.evaluation.run import run_eval
    from rag.evaluation.report import write_outputs

    def respond(body):
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("You grade"):
            return Reply(text='{"correctness": 5, "faithful": true}')
        first = _re.search(r'<passage id="1"[^>]*>\n(.*?)\n</passage>', prompt, _re.S).group(1)
        return Reply(text=first.split(". ")[0].rstrip(".") + " [1].")

    fake_llm.script = [respond] * 50
    items = [i for i in load_gold(GOLD, SEEDS) if not i.history][:6]
    records, summary = run_eval(llm_pipeline(), items, k=5)
    assert summary["mode"] == "fake-model" and summary["judge"] == "fake-model"
    assert summary["rates"]["judge_correct"]["value"] == 1.0 and summary["rates"]["judge_correct"]["n"] == 6
    assert summary["rates"]["quotes_verified"]["value"] == 1.0
    assert all(r["mode"] == "fake-model" for r in records)
    assert (write_outputs(tmp_path / "o", summary, records)[0]).exists()


@pytest.mark.slow
def test_planted_key_appears_in_no_eval_output(tmp_path, index_dir):
    from conftest import PLANTED_KEY, free_port

    items = [json.dumps(json.loads(line)) for line in GOLD.read_text(encoding="utf-8").splitlines()[:4]]
    gold = write(tmp_path, *items)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT),
               OPENAI_API_KEY=PLANTED_KEY, OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--gold", str(gold), "--out", str(out)],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert PLANTED_KEY not in result.stdout + result.stderr
    for path in out.iterdir():
        assert PLANTED_KEY.encode() not in path.read_bytes(), path.name
    assert "connection refused" in (out / "questions.csv").read_text(encoding="utf-8")


def test_history_as_role_messages_is_accepted(tmp_path):
    line = {**GOOD, "history": [{"role": "user", "content": "Who led Russia's team?"},
                                {"role": "assistant", "content": "Medinsky."}]}
    item = load_gold(write(tmp_path, json.dumps(line)), SEEDS)[0]
    from rag.answer.followup import turns

    assert turns(item.history) == [("Who led Russia's team?", "Medinsky.")]
