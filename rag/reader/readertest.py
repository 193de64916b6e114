"""Reader-test figures: how well candidates are ranked, answerability told and answers found.

On the held-out articles of the reader data (`rag.reader.examples.split_articles`), over the
top CANDIDATES sentences our retrieval gives each question:
- P@1: the best-scored candidate is an evidence sentence (questions with one among the candidates);
- answerability AUC: the best candidate's score separates answerable from unanswerable questions;
- span exact match and F1 (SQuAD): the answer line against the annotators' answer, counting a
  question with no answer line as 0; with the line's precision (EM and F1 where a line is given).
And, as the offline answer uses the reader (`rag.answer.reading`): the evidence score's answer
with the reader's line, at several line thresholds: how many answerable questions get a line,
how often it is right (it holds the annotators' answer, as `rag eval` checks), and how many
unanswerable questions get one.
`python -m rag.reader.readertest --examples test.jsonl --index DIR --data DIR --reader DIR` prints
the evidence score with the word-statistics line and the reader, side by side.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer.reading import TRIM
from rag.evaluation.metrics import exact_match, must_include, token_f1
from rag.models import Answer
from rag.reader.examples import CANDIDATES, Candidate, Example
from rag.reader.model import Reader

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

#: The reader ranks the evidence score's best this many candidates (the design before the line-only use).
READ = 8
#: Answer-line thresholds at which the line figures are shown.
LINE_THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9)

#: A scorer gives, for one example, a score per candidate and the answer line (None: no line).
Scorer = Callable[[Example], tuple[list[float], str | None]]


def auc(yes: Sequence[float], no: Sequence[float]) -> float:
    """Chance that a positive outscores a negative (ties count half)."""
    if not yes or not no:
        return float("nan")
    wins = sum((a > b) + 0.5 * (a == b) for a in yes for b in no)
    return wins / (len(yes) * len(no))


def figures(examples: Sequence[Example], scorer: Scorer) -> dict[str, float]:
    """The reader-test figures of one scorer."""
    top1: list[float] = []
    yes: list[float] = []
    no: list[float] = []
    em: list[float] = []
    f1: list[float] = []
    line_em: list[float] = []
    line_f1: list[float] = []
    lines = 0
    for ex in examples:
        if ex.question.kind == "broad":
            continue
        scores, line = scorer(ex)
        ranked: list[Candidate] = [c for c in ex.candidates if c.rank >= 0]
        best = max(range(len(ranked)), key=lambda i: scores[i], default=None)
        (yes if ex.question.answerable else no).append(scores[best] if best is not None else -1.0)
        if not ex.question.answerable:
            continue
        if any(c.label == 1 for c in ranked):
            top1.append(float(best is not None and ranked[best].label == 1))
        gold = [ex.question.answer or ""]
        em.append(exact_match(line, gold) if line else 0.0)
        f1.append(token_f1(line, gold) if line else 0.0)
        if line:
            lines += 1
            line_em.append(em[-1])
            line_f1.append(f1[-1])
    return {
        "questions": len(yes) + len(no),
        "p_at_1": mean(top1),
        "answerability_auc": round(auc(yes, no), 3),
        "span_em": mean(em),
        "span_f1": mean(f1),
        "answer_lines": round(lines / max(1, len(em)), 3),
        "line_em": mean(line_em),
        "line_f1": mean(line_f1),
    }


def mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 3) if values else float("nan")


def evidence_scorer(pipeline: Pipeline) -> Scorer:
    """Today's offline answerer with the reader off: the evidence score, and the bold line it writes."""

    def score(ex: Example) -> tuple[list[float], str | None]:
        answer = pipeline.ask(ex.question.question, history=[list(h) for h in ex.question.history])
        return [c.score for c in ex.candidates if c.rank >= 0], answer_line(answer)

    return score


def answer_line(answer: Answer) -> str | None:
    """The bold answer line of an answer, None when it states none."""
    return answer.claim


def reader_scorer(reader: Reader, limit: int) -> Scorer:
    """The reader over the evidence score's best `limit` candidates (the rest keep their order below
    them): its probabilities, and the span of its best sentence."""

    def score(ex: Example) -> tuple[list[float], str | None]:
        ranked = [c for c in ex.candidates if c.rank >= 0]
        read = ranked[:limit]
        readings = reader.read(ex.query, [c.text for c in read], [c.context for c in read])
        if not readings:
            return [-1.0 - i for i in range(len(ranked))], None
        best = max(range(len(readings)), key=lambda i: readings[i].answers)
        span = readings[best].span
        line = read[best].text[span[0] : span[1]].strip(TRIM) if span else None
        return [r.answers for r in readings] + [-1.0 - i for i in range(len(ranked) - len(read))], line or None

    return score


def line_figures(pipeline: Pipeline, examples: Sequence[Example]) -> dict[str, dict[str, float]]:
    """The evidence score's answers with the reader's line (`pipeline` at line threshold 0), by threshold
    (the word-statistics line, with no confidence, counts as sure)."""
    found: list[tuple[bool, float, bool]] = []  # (answerable, confidence of the line or -1, line right)
    for ex in examples:
        if ex.question.kind == "broad":
            continue
        answer = pipeline.ask(ex.question.question, history=[list(h) for h in ex.question.history])
        confidence = -1.0 if answer.claim is None else 1.0 if answer.confidence is None else answer.confidence
        right = bool(answer.claim) and must_include(answer.claim or "", [[ex.question.answer or ""]]) == 1.0
        found.append((ex.question.answerable, confidence, ex.question.answerable and right))
    table = {}
    answerable = [f for f in found if f[0]]
    unanswerable = [f for f in found if not f[0]]
    for t in LINE_THRESHOLDS:
        given = [f for f in found if f[1] >= t]
        table[f"line at confidence >= {t}"] = {
            "answer_lines": mean([float(f[1] >= t) for f in answerable]),
            "line_precision": mean([float(f[2]) for f in given]),
            "unanswerable_with_a_line": mean([float(f[1] >= t) for f in unanswerable]),
        }
    return table


def main(argv: Sequence[str] | None = None) -> None:
    from rag.answer.offline import OfflineAnswerer
    from rag.pipeline import Pipeline, build_pipeline
    from rag.settings import load_settings

    parser = argparse.ArgumentParser(description="Reader-test figures")
    parser.add_argument("--examples", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--reader", type=Path, help="folder of a reader model to score beside the evidence score")
    args = parser.parse_args(argv)
    examples = [Example.from_json(line) for line in args.examples.read_text(encoding="utf-8").splitlines()]
    overrides = {"seeds_dir": args.data / "articles", "index_dir": args.index, "llm": "off", "reader": "off"}
    settings = load_settings(**overrides, _env_file=None)
    pipeline = build_pipeline(settings)
    table: dict[str, object] = {"evidence score, word-statistics line": figures(examples, evidence_scorer(pipeline))}
    table["summaries"] = summary_recall(pipeline, examples)
    if args.reader is not None:
        reader = Reader(args.reader)
        reading = Pipeline(
            pipeline.settings,
            pipeline.store,
            pipeline.embedder,
            OfflineAnswerer(pipeline.offline.thresholds, reader, 0.0),
        )
        table["evidence score, reader's line"] = figures(examples, evidence_scorer(reading))
        table["reader's line by threshold"] = line_figures(reading, examples)
        for limit in sorted({READ, CANDIDATES}):
            table[f"reader ranking the best {limit}"] = figures(examples, reader_scorer(reader, limit))
    print(json.dumps(table, indent=1))


def summary_recall(pipeline: Pipeline, examples: Sequence[Example]) -> dict[str, float]:
    """Broad questions: the share of their evidence (central) sentences the summary quotes."""
    shares = []
    for ex in examples:
        if ex.question.kind != "broad" or not ex.question.evidence:
            continue
        answer = pipeline.ask(ex.question.question)
        quoted = " ".join(c.text for c in answer.citations if c.source == ex.question.article)
        shares.append(sum(sentence in quoted for sentence in ex.question.evidence) / len(ex.question.evidence))
    return {"broad_questions": len(shares), "evidence_quoted": mean(shares)}


if __name__ == "__main__":
    main()
