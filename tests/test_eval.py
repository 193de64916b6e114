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

CORPORA = ("seeds", "abc-news-50", "news100", "news40")
GOOD = {
    "id": "x1",
    "question": "Who?",
    "answers": ["A"],
    "must_include": [["A"]],
    "sources": ["000_4ac1dad1d337df25.txt"],
    "answerable": True,
}


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("split", ["gold", "holdout"])
@pytest.mark.parametrize("corpus", CORPORA)
def test_every_corpus_gold_file_is_valid(corpus, split):
    from rag.evaluation.corpora import load_corpus

    found = load_corpus(ROOT / "eval" / "corpora" / corpus)
    items = load_gold(found.questions(split), found.articles)
    # news40's held-out split drew one broad question of eight (a seeded shuffle, not re-drawn)
    assert sum(not i.answerable for i in items) >= 4 and sum(i.broad for i in items) >= (3 if split == "gold" else 1)


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


def run_eval(cwd: Path, index_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", "eval", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory):
    """One shared run of `rag eval` over every corpus's gold split, gated by the checked-in thresholds (CI's gate)."""
    tmp = tmp_path_factory.mktemp("eval")
    out = tmp / "out"
    corpora = [arg for name in CORPORA for arg in ("--corpus", str(ROOT / "eval" / "corpora" / name))]
    result = run_eval(
        tmp,
        tmp / "index",
        *corpora,
        "--split",
        "gold",
        "--out",
        str(out),
        "--check",
        str(ROOT / "eval" / "thresholds.json"),
    )
    return result, out


@pytest.mark.slow
def test_bad_gold_file_writes_nothing(tmp_path, index_dir):
    out = tmp_path / "out"
    result = run_eval(tmp_path, index_dir, "--gold", str(write(tmp_path, "{bad")), "--out", str(out))
    assert result.returncode == 2, "a gold file is input the user can fix"
    assert result.stderr.startswith(f"Error: {tmp_path / 'gold.jsonl'}:1: not valid JSON")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def refused_up_front(result: subprocess.CompletedProcess[str], tmp_path: Path, start: str) -> None:
    """One line, exit 2, and nothing indexed or written: the mistake was found before the eval ran."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"Error: {start}") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "never-built").exists() and not (tmp_path / "out").exists()


PER_CORPUS = json.loads((ROOT / "eval" / "thresholds.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("corpus", "option", "content", "message"),
    [
        (False, "--check", {"hit@1": 5}, '\'hit@1\' holds a number instead of {"min": …, "max": …}'),
        (False, "--check", [{"hit@1": {"min": 0.5}}], "a list instead of an object of metrics"),
        (False, "--check", {"hit@1": {"min": True}}, "'hit@1' min is true/false, not a number"),
        (False, "--check", {"hit@1": {"least": 0.5}}, "'hit@1' holds an object with other keys than min and max"),
        (False, "--check", {"hitt@1": {"min": 0.5}}, "'hitt@1' is not a metric (known: hit@1, hit@3,"),
        (True, "--check", {"hit@1": {"min": 0.5}}, "corpus 'hit@1': 'min' holds a number"),
        (True, "--check", [], "a list instead of an object of corpora"),
        (False, "--compare", {"rates": 5}, 'expected {"rates": {"<metric>": {"value": <number or null>'),
        (False, "--compare", [], 'expected {"rates": {"<metric>": {"value": <number or null>'),
        (False, "--compare", {"rates": {"hit@1": {"value": "high"}}}, 'expected {"rates": {"<metric>"'),
    ],
)
def test_check_and_compare_files_of_the_wrong_shape_are_refused_before_the_eval(
    tmp_path, corpus, option, content, message
):
    (tmp_path / "file.json").write_text(json.dumps(content), encoding="utf-8")
    gold = write(tmp_path, json.dumps(GOOD))
    given = ["--corpus", str(ROOT / "eval" / "corpora" / "seeds")] if corpus else ["--gold", str(gold)]
    args = [*given, option, str(tmp_path / "file.json"), "--out", str(tmp_path / "out")]
    result = run_eval(tmp_path, tmp_path / "never-built", *args)
    refused_up_front(result, tmp_path, f"{option} {tmp_path / 'file.json'}: {message}")


@pytest.mark.parametrize(
    ("corpus", "hint"),
    [(False, "; it looks like a per-corpus file, for --corpus."), (True, "; it looks like a file for --gold.")],
)
def test_a_thresholds_file_for_the_other_option_says_so(tmp_path, corpus, hint):
    """eval/thresholds.json is per corpus: given with --gold it used to gate nothing and fail every metric."""
    content = PER_CORPUS if not corpus else PER_CORPUS["seeds"]
    (tmp_path / "gate.json").write_text(json.dumps(content), encoding="utf-8")
    gold = write(tmp_path, json.dumps(GOOD))
    given = ["--corpus", str(ROOT / "eval" / "corpora" / "seeds")] if corpus else ["--gold", str(gold)]
    result = run_eval(tmp_path, tmp_path / "never-built", *given, "--check", str(tmp_path / "gate.json"))
    refused_up_front(result, tmp_path, f"--check {tmp_path / 'gate.json'}: ")
    assert result.stderr.strip().endswith(hint)


def test_compare_with_corpora_is_refused(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({"rates": {}}), encoding="utf-8")
    corpus = str(ROOT / "eval" / "corpora" / "seeds")
    result = run_eval(tmp_path, tmp_path / "never-built", "--corpus", corpus, "--compare", str(tmp_path / "old.json"))
    assert result.returncode == 2 and "--compare works with --gold FILE" in result.stderr
    assert not (tmp_path / "never-built").exists()


@pytest.mark.parametrize("config", [[], {"articles": 5}, "articles"])
def test_a_corpus_json_of_another_shape_is_one_line_naming_it(tmp_path, config):
    folder = tmp_path / "corpus"
    (folder / "articles").mkdir(parents=True)
    (folder / "corpus.json").write_text(json.dumps(config), encoding="utf-8")
    write(folder, json.dumps(GOOD))
    result = run_eval(tmp_path, tmp_path / "never-built", "--corpus", str(folder), "--out", str(tmp_path / "out"))
    refused_up_front(result, tmp_path, f"{folder / 'corpus.json'} must be a JSON object such as ")


def test_out_under_a_file_is_refused_before_the_eval(tmp_path):
    (tmp_path / "somefile").write_text("", encoding="utf-8")
    gold = write(tmp_path, json.dumps(GOOD))
    result = run_eval(tmp_path, tmp_path / "never-built", "--gold", str(gold), "--out", "somefile/o")
    refused_up_front(result, tmp_path, "--out somefile/o: somefile is a file, not a folder.")


def test_out_that_cannot_be_created_is_refused_before_the_eval(tmp_path):
    """/proc takes no new folders, not even from root, so this fails as a read-only disk would."""
    gold = write(tmp_path, json.dumps(GOOD))
    result = run_eval(tmp_path, tmp_path / "never-built", "--gold", str(gold), "--out", "/proc/newsrag-out/o")
    message = "--out /proc/newsrag-out/o: cannot create the folder (No such file or directory)."
    refused_up_front(result, tmp_path, message)


def test_a_thresholds_file_without_a_corpus_is_refused_before_the_eval(tmp_path):
    """It used to run the whole eval and then report "no thresholds in the --check file"."""
    other = {name: gate for name, gate in PER_CORPUS.items() if name != "seeds"}
    (tmp_path / "gate.json").write_text(json.dumps(other), encoding="utf-8")
    corpus = str(ROOT / "eval" / "corpora" / "seeds")
    args = ["--corpus", corpus, "--check", str(tmp_path / "gate.json"), "--out", str(tmp_path / "out")]
    result = run_eval(tmp_path, tmp_path / "never-built", *args)
    refused_up_front(result, tmp_path, f"--check {tmp_path / 'gate.json'}: no thresholds for seeds (it has ")
    assert "abc-news-50" in result.stderr


def test_either_gold_or_corpus_is_required(tmp_path, index_dir):
    result = run_eval(tmp_path, index_dir, "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "either --gold FILE or one or more --corpus DIR" in result.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first to run builds corpus_run: four corpora indexed and answered
def test_corpus_eval_writes_every_output_and_passes_the_gate(corpus_run):
    result, out = corpus_run
    assert result.returncode == 0, result.stdout + result.stderr
    folder = out / "seeds" / "gold"
    for name in ("summary.json", "questions.csv", "report.md", "metrics.png", "latency.png"):
        assert (folder / name).stat().st_size > 100, name
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    items = load_gold(GOLD, SEEDS)
    assert summary["questions"] == len(items) and summary["broad"] == sum(i.broad for i in items) >= 10
    assert summary["rates"]["quotes_verified"]["value"] == 1.0
    assert "All gated metrics within thresholds" in result.stdout
    assert not [p for p in folder.iterdir() if p.name.startswith(".eval-")]
    overview = (out / "overview.md").read_text(encoding="utf-8")
    assert overview.startswith("| metric | seeds/gold | abc-news-50/gold | news100/gold | news40/gold |")
    assert "| broad_correct |" in overview


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first to run builds corpus_run: four corpora indexed and answered
def test_gate_fails_when_a_metric_drops(corpus_run, tmp_path):
    from rag.evaluation.run import check_thresholds

    _, out = corpus_run
    summary = json.loads((out / "seeds" / "gold" / "summary.json").read_text(encoding="utf-8"))
    assert check_thresholds(summary, {"hit@1": {"min": 1.01}}) == [
        f"hit@1 = {summary['rates']['hit@1']['value']:.3f} < 1.01"
    ]
    assert check_thresholds(summary, {"no_such_rate": {"min": 0.5}}) == ["no_such_rate: no value"]


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first to run builds corpus_run: four corpora indexed and answered
def test_single_gold_file_compares_with_an_earlier_run(corpus_run, tmp_path, index_dir):
    _, out = corpus_run
    old = json.loads((out / "seeds" / "gold" / "summary.json").read_text(encoding="utf-8"))
    old["rates"]["hit@1"]["value"] = 0.5
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    items = [line for line in GOLD.read_text(encoding="utf-8").splitlines() if '"history"' not in line][:5]
    again = run_eval(
        tmp_path,
        index_dir,
        "--gold",
        str(write(tmp_path, *items)),
        "--out",
        str(tmp_path / "o"),
        "--compare",
        str(tmp_path / "old.json"),
    )
    assert again.returncode == 0, again.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    delta = summary["rates"]["hit@1"]["value"] - 0.5
    hit_row = next(line for line in again.stdout.splitlines() if "hit@1" in line)
    assert "0.500" in hit_row and f"{delta:+.3f}" in hit_row


def test_metrics_a_gold_file_cannot_support_are_not_zero():
    from rag.evaluation.run import summarize

    record = {
        "answerable": True,
        "kind": "",
        "em": None,
        "f1": None,
        "citations": "",
        "refused": 0.0,
        "unsupported": 0,
        "retrieve_ms": 1.0,
        "ask_ms": 1.0,
        "passed": True,
    }
    rates = summarize(
        [
            {
                **record,
                **{
                    f: 1.0
                    for f in (
                        "hit1",
                        "hit3",
                        "hit5",
                        "rr5",
                        "recall5",
                        "must_include",
                        "accurate",
                        "correct_cited",
                        "cite_recall",
                        "refusal_right",
                    )
                },
                "cite_precision": None,
                "quotes_ok": None,
                "judge_correct": None,
                "judge_faithful": None,
            }
        ]
    )["rates"]
    assert rates["exact_match"]["value"] is None and rates["token_f1"]["value"] is None
    assert rates["broad_correct"]["value"] is None and rates["hit@1"]["value"] == 1.0


def test_eval_runs_the_llm_path_and_the_judge(llm_pipeline, fake_llm, tmp_path):
    import re as _re

    from rag.evaluation.report import write_outputs
    from rag.evaluation.run import run_eval

    from fake_llm import Reply

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
    env.update(
        RAG_SEEDS_DIR=str(SEEDS),
        RAG_INDEX_DIR=str(index_dir),
        PYTHONPATH=str(ROOT),
        OPENAI_API_KEY=PLANTED_KEY,
        OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "eval", "--gold", str(gold), "--out", str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert PLANTED_KEY not in result.stdout + result.stderr
    for path in out.iterdir():
        assert PLANTED_KEY.encode() not in path.read_bytes(), path.name
    assert "connection refused" in (out / "questions.csv").read_text(encoding="utf-8")


def test_history_as_role_messages_is_accepted(tmp_path):
    line = {
        **GOOD,
        "history": [
            {"role": "user", "content": "Who led Russia's team?"},
            {"role": "assistant", "content": "Medinsky."},
        ],
    }
    item = load_gold(write(tmp_path, json.dumps(line)), SEEDS)[0]
    from rag.answer.followup import turns

    assert turns(item.history) == [("Who led Russia's team?", "Medinsky.")]
