"""Feedback lines: whole under concurrency, and exported as gold questions `rag eval` accepts."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag import feedback
from rag.evaluation.gold import load_gold
from rag.models import Answer, Citation

CITED = Citation(
    number=1, source="001_a39661892d0812d2.txt", quote="q", text="q", start=0, end=1, title="T", date="2025-05-16"
)


def record(answer_id: str = "a1", question: str = "Who led Russia's delegation?", **answer: object) -> dict:
    values: dict = {"question": question, "text": "Hakan Fidan [1].", "citations": [CITED], "index_version": "v3"}
    values.update(answer)
    return feedback.answer_record(Answer(**values), [["Earlier?", "Earlier answer."]], answer_id)


def test_a_line_has_everything_the_brief_names(tmp_path):
    path = tmp_path / "fb" / "feedback.jsonl"
    feedback.append(path, feedback.entry(record(), "down", "  Vladimir Medinsky  "))
    (line,) = feedback.read(path)
    assert set(line) >= {"time", "question", "history", "answer", "citations", "mode", "index_version", "rating"}
    assert line["correction"] == "Vladimir Medinsky" and line["rating"] == "down" and line["index_version"] == "v3"
    assert line["citations"][0]["source"] == "001_a39661892d0812d2.txt" and line["mode"] == "offline"
    assert line["history"] == [["Earlier?", "Earlier answer."]]
    with pytest.raises(ValueError):
        feedback.entry(record(), "meh")


def test_default_path_is_beside_the_index(make_settings, tmp_path):
    assert feedback.feedback_file(make_settings()) == tmp_path / "index" / "feedback.jsonl"
    assert feedback.feedback_file(make_settings(feedback_path=tmp_path / "f.jsonl")) == tmp_path / "f.jsonl"
    assert make_settings(feedback_path="  ").feedback_path is None


def test_concurrent_threads_never_interleave_lines(tmp_path):
    path = tmp_path / "feedback.jsonl"
    long_answer = "x" * 20_000  # bigger than a pipe buffer: a torn write would show

    def write(i: int) -> None:
        feedback.append(path, feedback.entry(record(f"id{i}", text=long_answer), "up"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(write, range(200)))
    raw = path.read_text(encoding="utf-8").splitlines()
    assert len(raw) == 200 and all(json.loads(line)["answer"] == long_answer for line in raw)
    assert sorted(json.loads(line)["answer_id"] for line in raw) == sorted(f"id{i}" for i in range(200))


def _write_many(path: str, start: int) -> None:
    for i in range(start, start + 50):
        feedback.append(Path(path), feedback.entry(record(f"p{i}"), "down", f"answer {i}"))


def test_concurrent_processes_never_interleave_lines(tmp_path):
    path = tmp_path / "feedback.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(path), n * 50)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert len(feedback.read(path)) == 200 == len(path.read_text(encoding="utf-8").splitlines())


def test_a_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "feedback.jsonl"
    feedback.append(path, feedback.entry(record(), "up"))
    with path.open("a", encoding="utf-8") as f:
        f.write('{"question": "cut sho')
    assert len(feedback.read(path)) == 1


@pytest.mark.parametrize(
    ("correction", "unanswerable"),
    [
        ("Vladimir Medinsky", False),
        ("not in the articles", True),
        ("The articles don't say how old he is", True),
        ("It should have refused", True),
        ("Nothing, notes are fine", False),
    ],
)
def test_not_in_articles(correction, unanswerable):
    assert feedback.not_in_articles(correction) is unanswerable


def test_export_writes_gold_lines_that_load_gold_accepts(tmp_path, seeds):
    path = tmp_path / "feedback.jsonl"
    lines = [
        feedback.entry(record("a1"), "down"),  # first the 👎 alone …
        feedback.entry(record("a1"), "down", "Vladimir Medinsky."),  # … then its correction: the last one counts
        feedback.entry(record("a2", "How old is Medinsky?", citations=[], refused=True), "down", "not in the articles"),
        feedback.entry(record("a3", "Who hosted the talks?", citations=[]), "down", "Turkey"),
        feedback.entry(record("a4", "Liked"), "up"),
        feedback.entry(record("a5", "Changed mind"), "down", "Paris"),
        feedback.entry(record("a5", "Changed mind"), "up"),
        feedback.entry(record("a6", "No correction"), "down"),
        feedback.entry(record("a7", "Who spoke last?"), "down", "It was someone the articles call by another name"),
    ]
    for line in lines:
        feedback.append(path, line)
    out = tmp_path / "gold" / "feedback-gold.jsonl"
    assert feedback.export(path, out, seeds) == (4, len(lines), 0)
    items = {item.id: item for item in load_gold(out, seeds)}
    first = items["feedback-a1"]
    assert first.answers == ["Vladimir Medinsky."] and first.must_include == [["Vladimir Medinsky"]]
    every = sorted(p.name for p in seeds.iterdir())
    assert first.sources == every and first.answerable and first.kind == "followup", "all five name Medinsky"
    assert first.history == [["Earlier?", "Earlier answer."]] and first.sources_known
    refusal = items["feedback-a2"]
    assert not refusal.answerable and refusal.answers == [] and refusal.sources == [] and refusal.sources_known
    assert items["feedback-a3"].sources == every
    unknown = items["feedback-a7"]
    assert unknown.answerable and unknown.sources == [] and not unknown.sources_known


def test_a_correction_is_scored_against_the_articles_that_hold_it_never_the_wrong_answers(tmp_path, seeds, monkeypatch):
    """The newcomer's case: 'Who led Ukraine's delegation?' answered "Medinsky" from 001 (which never
    mentions Umerov) and corrected to "Rustem Umerov". Exported with the cited file as its source, the
    eval scored that wrong answer's retrieval and citations perfect."""
    from rag.cli import main

    path = tmp_path / "feedback.jsonl"
    wrong = record("a1", "Who led Ukraine's delegation?", text="Medinsky [1].")
    feedback.append(path, feedback.entry(wrong, "down"))
    feedback.append(path, feedback.entry(wrong, "down", "Rustem Umerov"))
    unheard = record("a2", "Who translated for the delegations?", text="Fidan [1].")
    feedback.append(path, feedback.entry(unheard, "down", "Oksana Nobodyenko"))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    out = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out), "--feedback", str(path)])
    assert result.exit_code == 0, result.output
    umerov, nobody = load_gold(out, seeds)
    assert "Umerov" not in (seeds / CITED.source).read_text(encoding="utf-8")
    assert umerov.sources == [
        "000_4ac1dad1d337df25.txt",
        "002_b62eaf8dc1d09b0d.txt",
        "003_f4afef2fd7492f2d.txt",
        "004_ffb46453cc274d5e.txt",
    ]
    assert nobody.sources == [] and not nobody.sources_known and nobody.answers == ["Oksana Nobodyenko"]
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[1])["sources_known"] is False

    result = CliRunner().invoke(main, ["eval", "--gold", str(out), "--out", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    rates = json.loads((tmp_path / "eval" / "summary.json").read_text(encoding="utf-8"))["rates"]
    for name in ("hit@1", "hit@5", "mrr@5", "recall@5", "citation_recall", "correct_and_cited"):
        assert rates[name]["n"] == 1, f"{name}: the line with unknown sources is skipped"
    assert rates["must_include"]["n"] == 2 and rates["answer_accuracy"]["n"] == 2, "both answers are still scored"
    assert rates["must_include"]["value"] < 1.0, "nobody called Oksana Nobodyenko is in the articles"


def test_cli_export_then_eval_scores_the_lines(tmp_path, seeds, monkeypatch):
    from rag.cli import main

    path = tmp_path / "feedback.jsonl"
    feedback.append(path, feedback.entry(record("a1", "Who headed the Russian delegation?"), "down", "Medinsky"))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_FEEDBACK_PATH", str(path))
    out = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 gold questions" in result.output and "rag eval --gold" in result.output
    result = CliRunner().invoke(main, ["eval", "--gold", str(out), "--out", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text(encoding="utf-8"))
    assert summary["rates"]["must_include"]["value"] == 1.0


def test_cli_export_with_no_feedback_says_so(tmp_path, monkeypatch):
    from rag.cli import main

    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(tmp_path / "g.jsonl")])
    assert result.exit_code == 0 and "no 👎 with a correction yet" in result.output


FOREIGN = [
    '{"question": "Who?", "rating": "down", "correction": "X", "citations": [5]}',
    '{"question": "Who?", "rating": "down", "correction": "X", "citations": "abc"}',
    '{"question": "Who?", "rating": "down", "correction": "X", "history": "earlier"}',
    '{"question": "Who?", "rating": "down", "correction": 5}',
    '{"question": 5, "rating": "down", "correction": "X"}',
    '{"question": "Who?", "rating": "meh", "correction": "X"}',
    '["question", "rating"]',
    '{"question": "cut sho',
]


def test_cli_export_skips_and_counts_lines_of_another_shape(tmp_path, seeds, monkeypatch):
    """Lines written by hand or by another tool are skipped and counted; the good ratings around them are exported."""
    from rag.cli import main

    path = tmp_path / "feedback.jsonl"
    feedback.append(path, feedback.entry(record("a1", "Who headed the Russian delegation?"), "down", "Medinsky"))
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(FOREIGN) + "\n\n")
    feedback.append(path, feedback.entry(record("a2", "Who hosted the talks?"), "down", "Turkey"))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(seeds))
    out = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out), "--feedback", str(path)])
    assert result.exit_code == 0, result.output
    assert f"from 2 feedback lines in {path}, skipping {len(FOREIGN)} lines that are not ratings" in result.stdout
    assert [item.id for item in load_gold(out, seeds)] == ["feedback-a1", "feedback-a2"]


def test_cli_export_of_a_missing_feedback_file_is_an_error_and_leaves_out_alone(tmp_path, monkeypatch):
    from rag.cli import main

    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    out = tmp_path / "gold.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out), "--feedback", "nope.jsonl"])
    assert result.exit_code == 2 and result.stderr == "Error: --feedback nope.jsonl: no such file.\n"
    assert out.read_text(encoding="utf-8") == "kept\n"


def test_cli_export_under_a_file_is_refused(tmp_path, monkeypatch):
    from rag.cli import main

    path = tmp_path / "feedback.jsonl"
    feedback.append(path, feedback.entry(record("a1"), "down", "Medinsky"))
    (tmp_path / "somefile").write_text("", encoding="utf-8")
    out = tmp_path / "somefile" / "gold.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "--out", str(out), "--feedback", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: --out {out}: {tmp_path / 'somefile'} is a file, not a folder.\n"
