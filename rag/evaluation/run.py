"""Score the system against gold answers, through the same `Pipeline.ask` as every user.

Per-question records are plain dicts so they go straight into the CSV; the summary holds
each rate with its seeded bootstrap 95% interval.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rag.citations import verify
from rag.evaluation.gold import GoldItem
from rag.evaluation.metrics import (
    area_under_risk_coverage,
    bootstrap_ci,
    citation_precision_recall,
    exact_match,
    file_ranks,
    hit_at,
    must_include,
    percentile,
    recall_at,
    reciprocal_rank,
    reliability,
    risk_coverage,
    token_f1,
)
from rag.index.chunking import split_sentences
from rag.index.refresh import Progress
from rag.pipeline import Pipeline

#: Rates reported with intervals: (summary name, record field, which questions it is over).
RATES: list[tuple[str, str, str]] = [
    ("hit@1", "hit1", "answerable"),
    ("hit@3", "hit3", "answerable"),
    ("hit@5", "hit5", "answerable"),
    ("mrr@5", "rr5", "answerable"),
    ("recall@5", "recall5", "answerable"),
    ("exact_match", "em", "answerable"),
    ("token_f1", "f1", "answerable"),
    ("must_include", "must_include", "answerable"),
    ("answer_accuracy", "accurate", "answerable"),
    ("correct_and_cited", "correct_cited", "answerable"),
    ("answer_first", "answer_first", "typed"),
    ("citation_precision", "cite_precision", "cited"),
    ("citation_recall", "cite_recall", "answerable"),
    ("quotes_verified", "quotes_ok", "cited"),
    ("paraphrase_correct_and_cited", "correct_cited", "paraphrase"),
    ("broad_correct", "accurate", "broad"),
    ("broad_refused", "refused", "broad"),
    ("unanswerable_refused", "refused", "unanswerable"),
    ("false_refusal", "refused", "answerable"),
    ("refusal_accuracy", "refusal_right", "all"),
    ("answer_line_precision", "line_correct", "lined"),
    ("answer_lines", "line_given", "answerable"),
    ("misleading", "misleading", "factual"),
    ("answer_visible", "visible", "answerable"),
    ("unanswerable_not_asserted", "not_asserted", "unanswerable"),
    ("passages_outcome", "passages", "factual"),
    ("judge_correct", "judge_correct", "judged"),
    ("judge_faithful", "judge_faithful", "judged"),
]
#: Record fields scored against the gold sources: none (skipped) for a question whose sources are unknown.
SOURCE_FIELDS = ("hit1", "hit3", "hit5", "rr5", "recall5", "correct_cited", "cite_precision", "cite_recall")
#: An answer passes the judge at this correctness score or above (1-5 scale).
JUDGE_PASS = 4


def evaluate_item(pipeline: Pipeline, item: GoldItem, k: int) -> dict[str, Any]:
    """Ask one gold question and score the answer."""
    t0 = time.perf_counter()
    chunks = pipeline.retrieve(item.question, k=k) if not item.history else []
    t1 = time.perf_counter()
    answer = pipeline.ask(item.question, history=item.history, k=k)
    t2 = time.perf_counter()
    if item.history:
        chunks = answer.sources
    ranked = [c.source for c in chunks]
    rank = file_ranks(ranked, item.sources)
    cited = [c.source for c in answer.citations]
    precision, recall = citation_precision_recall(cited, item.sources)
    verified = [verify(c, pipeline.seeds_dir) for c in answer.citations]
    text = "" if answer.refused else answer.text
    included = must_include(text, item.must_include) if item.answerable else 0.0
    accurate = float(item.answerable and not answer.refused and included == 1.0)
    first_ok = bool(answer.citations) and answer.citations[0].source in item.sources
    claim = answer.claim
    asserted = answer.outcome == "answer"
    stated = asserted and item.answerable and must_include(claim or first_paragraph(text), item.must_include) == 1.0
    shown = " ".join([text, *(c.text for c in answer.citations), *(c.text for c in answer.closest)])
    record = {
        "id": item.id,
        "question": item.question,
        "answerable": item.answerable,
        "kind": item.kind or "",
        "answer": answer.text,
        "refused": float(answer.refused),
        "mode": answer.mode,
        "query": answer.query,
        "citations": "; ".join(
            f"[{c.number}] {c.source}{f' ({c.where})' if c.where else ''}@{c.start}-{c.end}" for c in answer.citations
        ),
        "retrieved": "; ".join(dict.fromkeys(ranked)),
        "hit1": hit_at(rank, 1),
        "hit3": hit_at(rank, 3),
        "hit5": hit_at(rank, 5),
        "rr5": reciprocal_rank(rank, 5),
        "recall5": recall_at(ranked, item.sources, 5),
        "em": exact_match(text, item.answers) if item.answers else None,
        "f1": token_f1(text, item.answers) if item.answers else None,
        "must_include": included,
        "accurate": accurate,
        "correct_cited": float(accurate and first_ok),
        "answer_first": answer_first(item, text) if item.answerable and item.answer_type and not item.broad else None,
        "cite_precision": precision,
        "cite_recall": recall,
        "quotes_ok": (sum(verified) / len(verified)) if verified else None,
        "unsupported": len(answer.unsupported),
        "refusal_right": float(answer.refused == (not item.answerable)),
        "retrieve_ms": (t1 - t0) * 1000 if not item.history else None,
        "ask_ms": (t2 - t1) * 1000,
        "notice": answer.notice or "",
        "quotes": " | ".join(f"[{c.number}] {c.text}" for c in answer.citations),
        "passed": bool(accurate) if item.answerable else bool(answer.refused),
        "outcome": answer.outcome,
        "confidence": answer.confidence if answer.confidence is not None else top_score(answer),
        "claim": claim or "",
        "line_given": float(claim is not None) if item.answerable else None,
        "line_correct": float(stated) if claim is not None else None,
        "misleading": float(asserted and not stated) if not item.broad else None,
        "visible": float(must_include(shown, item.must_include) == 1.0) if item.answerable else None,
        "not_asserted": float(not asserted),
        "passages": float(answer.outcome == "passages") if not item.broad else None,
        "correct_if_asserted": float(stated),
        "judge_correct": None,
        "judge_faithful": None,
    }
    if not item.sources_known:
        record.update(dict.fromkeys(SOURCE_FIELDS))
    return record


def first_paragraph(text: str) -> str:
    """What an answer asserts when it has no answer line: its first paragraph (the first quote, in bold)."""
    return text.split("\n\n", 1)[0]


def top_score(answer: Any) -> float:
    """The confidence of an answer without the reader's: the evidence score of its best source."""
    return float(answer.sources[0].score) if answer.sources else 0.0


def answer_first(item: GoldItem, text: str) -> float:
    """1.0 when the answer's first sentence already holds the gold fact (typed questions)."""
    if not text:
        return 0.0
    spans = split_sentences(text, 0, len(text))
    first = text[spans[0][0] : spans[0][1]] if spans else text
    return float(must_include(first, item.must_include) == 1.0)


def judge(llm: Any, item: GoldItem, record: dict[str, Any], answer_quotes: str) -> dict[str, Any]:
    """Ask the configured LLM to grade one answered question (correctness 1-5, faithfulness)."""
    import json as _json

    from rag.errors import LLMUnavailableError
    from rag.prompts import fill

    prompt = fill(
        "judge",
        question=item.question,
        gold="; ".join(item.answers) or "(none)",
        quotes=answer_quotes or "(none)",
        answer=record["answer"],
    )
    try:
        reply = llm.complete([("user", prompt)], llm.deadline())
        data = _json.loads(reply[reply.index("{") : reply.rindex("}") + 1])
        score = int(data["correctness"])
        return {"judge_correct": float(score >= JUDGE_PASS), "judge_faithful": float(bool(data["faithful"]))}
    except (LLMUnavailableError, ValueError, KeyError, TypeError):
        return {"judge_correct": None, "judge_faithful": None}


def _subset(records: Sequence[dict[str, Any]], which: str) -> list[dict[str, Any]]:
    """The questions a rate is over; broad (summary) questions have their own rows."""
    if which == "answerable":
        return [r for r in records if r["answerable"] and r.get("kind") != "broad"]
    if which in ("broad", "paraphrase"):
        return [r for r in records if r.get("kind") == which]
    if which == "unanswerable":
        return [r for r in records if not r["answerable"]]
    if which == "typed":
        return [r for r in records if r.get("answer_first") is not None]
    if which == "lined":
        return [r for r in records if r.get("line_correct") is not None]
    if which == "factual":
        return [r for r in records if r.get("kind") != "broad"]
    if which == "cited":
        return [r for r in records if r["citations"]]
    if which == "judged":
        return [r for r in records if r.get("judge_correct") is not None]
    return list(records)


def summarize(records: Sequence[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Every rate with its n and bootstrap interval, plus latency percentiles."""
    rates = {}
    for name, field, which in RATES:
        values = [float(r[field]) for r in _subset(records, which) if r.get(field) is not None]
        mean = sum(values) / len(values) if values else None
        low, high = bootstrap_ci(values, seed=seed) if values else (None, None)
        rates[name] = {"value": mean, "ci95": [low, high], "n": len(values)}
    latency = {}
    for field in ("retrieve_ms", "ask_ms"):
        values = [r[field] for r in records if r[field] is not None]
        latency[field] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
    return {
        "questions": len(records),
        "answerable": len(_subset(records, "answerable")),
        "broad": len(_subset(records, "broad")),
        "unanswerable": len(_subset(records, "unanswerable")),
        "unsupported_sentences": sum(r["unsupported"] for r in records),
        "rates": rates,
        "latency": latency,
        "passed": sum(r["passed"] for r in records),
    }


def run_eval(
    pipeline: Pipeline, items: Sequence[GoldItem], k: int = 5, progress: Progress | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Evaluate every gold item (after one warm-up question) and summarise.

    With an LLM configured, the same model grades each answered question.
    """
    judge_llm = pipeline.llm
    pipeline.ask(items[0].question)
    records = []
    for i, item in enumerate(items, 1):
        record = evaluate_item(pipeline, item, k)
        if judge_llm is not None and item.answerable and not record["refused"]:
            record.update(judge(judge_llm, item, record, record["quotes"]))
        records.append(record)
        if progress:
            progress(i, len(items))
    summary = summarize(records)
    summary["by_kind"] = by_kind(records)
    if judge_llm is None:
        summary["selective"] = selective(pipeline, items)
    summary["k"] = k
    summary["mode"] = pipeline.mode
    summary["judge"] = judge_llm.model if judge_llm is not None else None
    return records, summary


#: Rates reported per kind of question (`by_kind`).
KIND_RATES = ("answer_line_precision", "answer_lines", "misleading", "answer_visible", "correct_and_cited")


def by_kind(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The answer-quality rates for each kind of question the gold file names ('' when it names none)."""
    table = {}
    for kind in sorted({r.get("kind") or "" for r in records}):
        rates = summarize([r for r in records if (r.get("kind") or "") == kind])["rates"]
        table[kind or "(no kind)"] = {name: rates[name] for name in KIND_RATES}
    return table


def selective(pipeline: Pipeline, items: Sequence[GoldItem]) -> dict[str, Any]:
    """Risk against coverage as the confidence threshold moves, and the calibration of the confidence.

    Every non-broad question is answered once more with no threshold (`calibrate.points`): what
    the answer would be if it were given, and its confidence. ECE is reported only for the
    reader's confidence, a probability; the evidence score is not one.
    """
    from rag.evaluation.calibrate import points

    found = points(pipeline, items, "")
    probability = pipeline.offline.reader is not None
    if probability:  # the reader's confidence in its answer line, and whether the line is right
        confidences = [p.line or 0.0 for p in found]
        right = [p.line_correct for p in found]
    else:
        confidences = [p.score for p in found]
        right = [p.correct and p.answerable for p in found]
    curve = risk_coverage(confidences, right)
    table, error = reliability([min(1.0, max(0.0, c)) for c in confidences], right)
    return {
        "aurc": area_under_risk_coverage(curve),
        "curve": [[round(c, 4), round(r, 4)] for c, r in curve],
        "ece": error if probability else None,
        "reliability": [[round(c, 4), round(a, 4), n] for c, a, n in table] if probability else [],
        "n": len(found),
    }


def check_thresholds(summary: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Messages for every gated rate outside its bound (empty when the gate passes)."""
    failures = []
    for name, bound in thresholds.items():
        value = summary["rates"].get(name, {}).get("value")
        if value is None:
            failures.append(f"{name}: no value")
        elif "min" in bound and value < bound["min"]:
            failures.append(f"{name} = {value:.3f} < {bound['min']}")
        elif "max" in bound and value > bound["max"]:
            failures.append(f"{name} = {value:.3f} > {bound['max']}")
    return failures


def compare(summary: dict[str, Any], old: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(rate, old value, new value) for every rate in both summaries."""
    rows = []
    for name, entry in summary["rates"].items():
        before = old.get("rates", {}).get(name, {}).get("value")
        rows.append((name, before, entry["value"]))
    return rows
