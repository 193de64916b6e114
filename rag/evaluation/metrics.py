"""Metric functions for the eval: pure, small, tested on hand-made cases."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """SQuAD normalisation, plus NFKC and Unicode punctuation (curly quotes, dashes)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if (ch in string.punctuation or unicodedata.category(ch).startswith("P")) else ch for ch in text)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer."""
    pred = normalize(prediction)
    return float(any(pred == normalize(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD token F1, the maximum over the gold answers (0.0 when there are none)."""
    pred = normalize(prediction).split()
    best = 0.0
    for answer in answers:
        gold = normalize(answer).split()
        common = sum((Counter(pred) & Counter(gold)).values())
        if not pred or not gold or common == 0:
            continue
        precision, recall = common / len(pred), common / len(gold)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def must_include(prediction: str, groups: Sequence[Sequence[str]]) -> float:
    """Share of groups with at least one alternative in the prediction (1.0 if no groups)."""
    if not groups:
        return 1.0
    pred = f" {normalize(prediction)} "
    hits = sum(any(f" {normalize(alt)} " in pred for alt in group) for group in groups)
    return hits / len(groups)


def file_ranks(ranked_sources: Sequence[str], gold: Sequence[str]) -> int | None:
    """1-based rank of the first gold file among distinct retrieved files, or None."""
    seen: list[str] = []
    for source in ranked_sources:
        if source not in seen:
            seen.append(source)
    for rank, source in enumerate(seen, 1):
        if source in gold:
            return rank
    return None


def hit_at(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None, k: int) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def recall_at(ranked_sources: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Share of gold files among the first k distinct retrieved files."""
    if not gold:
        return 0.0
    distinct: list[str] = []
    for source in ranked_sources:
        if source not in distinct:
            distinct.append(source)
    return len(set(distinct[:k]) & set(gold)) / len(set(gold))


def citation_precision_recall(cited: Sequence[str], gold: Sequence[str]) -> tuple[float | None, float | None]:
    """Precision and recall of cited files against gold files; None where undefined.

    Precision is undefined without citations; recall counts a question as fully recalled
    when it cites at least one gold file (several articles often report the same fact,
    and one verified source answers the question).
    """
    cited_set, gold_set = set(cited), set(gold)
    precision = len(cited_set & gold_set) / len(cited_set) if cited_set else None
    recall = (1.0 if cited_set & gold_set else 0.0) if gold_set else None
    return precision, recall


def bootstrap_ci(values: Sequence[float], seed: int = 0, rounds: int = 1000) -> tuple[float, float]:
    """Seeded percentile-bootstrap 95% interval of the mean.

    Resampled as one array: an eval computes hundreds of these, and a Python loop of
    `rounds` x n draws each took 30 s of a 220 s eval over the four corpora.
    """
    if not values:
        return (float("nan"), float("nan"))
    data = np.asarray(values, dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(data), size=(rounds, len(data)))
    samples = np.sort(data[draws].mean(axis=1))
    return float(samples[int(0.025 * rounds)]), float(samples[min(rounds - 1, int(0.975 * rounds))])


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def risk_coverage(confidences: Sequence[float], correct: Sequence[bool]) -> list[tuple[float, float]]:
    """(coverage, risk) when only the k most confident answers are given, for k = 1..n.

    Risk is the share of the given answers that are wrong (an answer to an unanswerable
    question is wrong); coverage the share of questions answered.
    """
    order = sorted(range(len(confidences)), key=lambda i: -confidences[i])
    curve, wrong = [], 0
    for k, i in enumerate(order, 1):
        wrong += not correct[i]
        curve.append((k / len(order), wrong / k))
    return curve


def area_under_risk_coverage(curve: Sequence[tuple[float, float]]) -> float:
    """AURC: the mean risk over coverage levels (lower is better; 0 for a perfect ranking of right answers)."""
    return sum(risk for _, risk in curve) / len(curve) if curve else float("nan")


def reliability(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> tuple[list[tuple[float, float, int]], float]:
    """(mean confidence, accuracy, count) per equal-width confidence bin, and the expected calibration error."""
    table: list[tuple[float, float, int]] = []
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidences) if low <= c < high or (b == bins - 1 and c == 1.0)]
        if not members:
            continue
        conf = sum(confidences[i] for i in members) / len(members)
        acc = sum(bool(correct[i]) for i in members) / len(members)
        table.append((conf, acc, len(members)))
        error += len(members) / len(confidences) * abs(conf - acc)
    return table, error
