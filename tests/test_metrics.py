"""Metric functions on hand-made cases with known values."""

from __future__ import annotations

import math

import pytest

from rag.evaluation.metrics import (
    bootstrap_ci,
    citation_precision_recall,
    exact_match,
    file_ranks,
    hit_at,
    must_include,
    normalize,
    percentile,
    recall_at,
    reciprocal_rank,
    token_f1,
)
from rag.evaluation.run import check_thresholds, summarize


def test_normalize_squad_plus_unicode():
    assert normalize("The “Quick” — brown fox!") == "quick brown fox"
    assert normalize("ＡＢＣ’s") == "abc s"


def test_exact_match_and_f1_take_the_best_answer():
    assert exact_match("Vladimir Medinsky.", ["Medinsky", "vladimir medinsky"]) == 1.0
    assert exact_match("Medinsky led it", ["Medinsky"]) == 0.0
    assert token_f1("Vladimir Medinsky led", ["Medinsky"]) == pytest.approx(0.5)
    assert token_f1("anything", []) == 0.0
    assert token_f1("", ["x"]) == 0.0


def test_must_include_counts_groups_with_any_alternative():
    groups = [["Rubio"], ["Witkoff"], ["Kellogg", "Keith"]]
    assert must_include("Rubio and Witkoff came", groups) == pytest.approx(2 / 3)
    assert must_include("anything", []) == 1.0
    assert must_include("defence minister", [["defense minister", "defence minister"]]) == 1.0
    assert must_include("the 30-day ceasefire", [["30 day"]]) == 1.0
    assert must_include("minister", [["minis"]]) == 0.0


def test_ranks_are_over_distinct_files():
    ranked = ["a", "a", "b", "c"]
    assert file_ranks(ranked, ["c"]) == 3
    assert file_ranks(ranked, ["x"]) is None
    assert hit_at(3, 3) == 1.0 and hit_at(3, 1) == 0.0 and hit_at(None, 5) == 0.0
    assert reciprocal_rank(2, 5) == 0.5 and reciprocal_rank(6, 5) == 0.0
    assert recall_at(ranked, ["a", "c", "z"], 2) == pytest.approx(1 / 3)
    assert recall_at(ranked, [], 5) == 0.0


def test_citation_precision_recall_edge_cases():
    assert citation_precision_recall([], ["a"]) == (None, 0.0)
    assert citation_precision_recall(["a", "b"], ["a"]) == (0.5, 1.0)
    assert citation_precision_recall(["a"], []) == (0.0, None)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = [1.0] * 30 + [0.0] * 10
    low, high = bootstrap_ci(values, seed=1)
    assert (low, high) == bootstrap_ci(values, seed=1)
    assert low < 0.75 < high
    assert bootstrap_ci([1.0, 1.0]) == (1.0, 1.0)
    assert all(math.isnan(x) for x in bootstrap_ci([]))


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert math.isnan(percentile([], 50))


def record(answerable: bool, refused: bool, accurate: bool = False, citations: str = "") -> dict:
    return {
        "answerable": answerable,
        "refused": float(refused),
        "accurate": float(accurate),
        "correct_cited": float(accurate),
        "citations": citations,
        "hit1": 1.0,
        "hit3": 1.0,
        "hit5": 1.0,
        "rr5": 1.0,
        "recall5": 1.0,
        "em": 0.0,
        "f1": 0.0,
        "must_include": float(accurate),
        "cite_precision": 1.0 if citations else None,
        "cite_recall": 1.0 if answerable else None,
        "quotes_ok": 1.0 if citations else None,
        "unsupported": 0,
        "refusal_right": float(refused == (not answerable)),
        "retrieve_ms": 1.0,
        "ask_ms": 2.0,
        "passed": accurate if answerable else refused,
    }


def test_summary_separates_refusal_rates():
    records = [
        record(True, False, True, "[1] a"),
        record(True, True),
        record(False, True),
        record(False, False, citations="[1] b"),
    ]
    rates = summarize(records)["rates"]
    assert rates["false_refusal"]["value"] == 0.5 and rates["false_refusal"]["n"] == 2
    assert rates["unanswerable_refused"]["value"] == 0.5
    assert rates["refusal_accuracy"]["value"] == 0.5
    assert rates["answer_accuracy"]["value"] == 0.5
    assert rates["citation_precision"]["n"] == 2


def test_threshold_gate():
    summary = {"rates": {"hit@1": {"value": 0.8}, "false_refusal": {"value": 0.1}}}
    failures = check_thresholds(summary, {"hit@1": {"min": 0.9}, "false_refusal": {"max": 0.05}, "x": {"min": 0}})
    assert failures == ["hit@1 = 0.800 < 0.9", "false_refusal = 0.100 > 0.05", "x: no value"]
    assert check_thresholds(summary, {"hit@1": {"min": 0.5}}) == []


def test_risk_coverage_orders_by_confidence() -> None:
    from rag.evaluation.metrics import area_under_risk_coverage, risk_coverage

    curve = risk_coverage([0.9, 0.2, 0.8, 0.1], [True, False, True, True])
    assert curve == [(0.25, 0.0), (0.5, 0.0), (0.75, 1 / 3), (1.0, 0.25)]
    assert area_under_risk_coverage(curve) == pytest.approx((0 + 0 + 1 / 3 + 0.25) / 4)
    perfect = risk_coverage([0.9, 0.8, 0.1], [True, True, False])
    assert area_under_risk_coverage(perfect) < area_under_risk_coverage(
        risk_coverage([0.1, 0.8, 0.9], [True, True, False])
    )


def test_reliability_bins_and_expected_calibration_error() -> None:
    from rag.evaluation.metrics import reliability

    table, error = reliability([0.95, 0.95, 0.15, 0.15, 1.0], [True, False, False, False, True])
    assert [n for _, _, n in table] == [2, 3]
    low, high = table
    assert low[1] == 0.0 and high[1] == pytest.approx(2 / 3)
    assert error == pytest.approx(2 / 5 * 0.15 + 3 / 5 * abs((0.95 + 0.95 + 1.0) / 3 - 2 / 3))
    assert reliability([0.7, 0.7], [True, True])[1] == pytest.approx(0.3)


def test_the_line_threshold_reaches_the_precision_target_at_the_lowest_confidence() -> None:
    from rag.answer.calibration import Thresholds
    from rag.evaluation.calibrate import Point, choose_line

    def point(line: float | None, answerable: bool, right: bool, score: float = 0.5) -> Point:
        return Point("c", score, answerable, right, True, right, line, right)

    found = [point(0.95, True, True), point(0.9, True, True), point(0.8, True, True), point(0.7, False, False)]
    found += [point(0.6, True, False), point(0.3, True, True), point(None, True, False)]
    assert choose_line(found, Thresholds.both(0.2), target=0.9) == 0.8  # 0.7 would admit an unanswerable question
    # lines of questions refused by the evidence score are never given, so they do not count
    refused = [point(0.75, False, False, score=0.1)]
    assert choose_line(found[:3] + refused, Thresholds.both(0.2), target=0.9) == 0.75
    assert choose_line([point(0.9, True, False)], Thresholds.both(0.2), target=0.9) == 1.0
