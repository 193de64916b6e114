"""Choose the offline refusal thresholds on every gold corpus together.

A threshold only gates: below it the offline answerer refuses, above it the answer is the
same whatever the threshold. So one run per question at threshold 0 gives, for every
threshold, which answerable questions would still be answered correctly and which
unanswerable ones refused. For each kind of question (asking for a kind of thing, or not;
see `rag.answer.calibration`) the chosen threshold maximises the balanced accuracy (the
mean of the answerable-correct and unanswerable-refused rates, averaged over corpora so a
large corpus does not outvote a small one) among the thresholds that add at most
MAX_ADDED_FALSE_REFUSAL false refusals. The result is stored per embedding model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer.answer_types import answer_type
from rag.answer.calibration import Thresholds
from rag.answer.followup import condense_offline
from rag.answer.offline import OfflineAnswerer
from rag.answer.protocol import Question
from rag.evaluation.gold import GoldItem
from rag.evaluation.metrics import must_include
from rag.pipeline import Pipeline

#: Most answerable questions a threshold may refuse on top of those refused anyway (no
#: sentence of the asked-for kind, or a name the articles never mention), pooled over corpora:
#: a wrong refusal still shows the closest passages, but a person asked something answerable.
MAX_ADDED_FALSE_REFUSAL = 0.05


#: With the reader: the answer-line threshold is the lowest confidence at which the lines given
#: are right this often (issue #20's answer-line precision), in the mean over the gold splits.
TARGET_PRECISION = 0.90


@dataclass(frozen=True)
class Point:
    """One question: the score the refusal decision sees, and whether answering it is right."""

    corpus: str
    score: float
    answerable: bool
    correct: bool
    typed: bool
    #: The gold answer is in the text or quotes shown (what passages that may answer must achieve).
    visible: bool = False
    #: With the reader: its confidence in the answer line it would write (None: it found none),
    #: and whether that line holds the gold answer.
    line: float | None = None
    line_correct: bool = False


def points(pipeline: Pipeline, items: Sequence[GoldItem], corpus: str) -> list[Point]:
    """Each non-broad question's decision score and correctness, answered at threshold 0."""
    answerer = OfflineAnswerer(Thresholds.both(0.0), pipeline.offline.reader, 0.0)
    snapshot = pipeline.snapshot()
    found = []
    for item in items:
        if item.broad:
            continue
        query = condense_offline(item.question, item.history)
        answer = answerer.answer(Question(item.question, item.history, None, pipeline.settings.top_k), query, snapshot)
        correct = (
            not answer.refused
            and must_include(answer.text, item.must_include) == 1.0
            and bool(answer.citations)
            and answer.citations[0].source in item.sources
        )
        shown = " ".join(c.text for c in answer.citations)
        visible = item.answerable and must_include(shown, item.must_include) == 1.0
        claim = answer.claim
        line = answer.confidence if claim is not None else None
        line_correct = item.answerable and claim is not None and must_include(claim, item.must_include) == 1.0
        score = answerer.decision_score(query, snapshot)
        typed = answer_type(query) is not None
        found.append(Point(corpus, score, item.answerable, correct, typed, visible, line, line_correct))
    return found


def line_precision(found: Sequence[Point], thresholds: Thresholds, line: float) -> float:
    """Share of the answer lines given at these thresholds that are right (a line answering an
    unanswerable question is wrong); 1.0 when none is given."""
    given = [p for p in found if p.line is not None and p.line >= line and p.score >= _threshold(p, thresholds)]
    return sum(p.line_correct for p in given) / len(given) if given else 1.0


def choose_line(found: Sequence[Point], thresholds: Thresholds, target: float = TARGET_PRECISION) -> float:
    """The reader's answer-line threshold: the lowest confidence whose lines, under the refusal
    `thresholds`, reach `target` precision in the mean over corpora (1.0 when none does)."""
    corpora = sorted({p.corpus for p in found})
    grid = sorted({round(p.line, 4) for p in found if p.line is not None} | {1.0})

    def mean_precision(t: float) -> float:
        return sum(line_precision([p for p in found if p.corpus == c], thresholds, t) for c in corpora) / max(
            1, len(corpora)
        )

    return next((t for t in grid if mean_precision(t) >= target), 1.0)


def _threshold(point: Point, thresholds: Thresholds | float) -> float:
    if isinstance(thresholds, Thresholds):
        return thresholds.typed if point.typed else thresholds.untyped
    return thresholds


def rates(found: Sequence[Point], thresholds: Thresholds | float) -> tuple[float, float, float]:
    """(answerable correct, unanswerable refused, answerable falsely refused)."""
    answerable = [p for p in found if p.answerable]
    unanswerable = [p for p in found if not p.answerable]
    correct = sum(p.correct and p.score >= _threshold(p, thresholds) for p in answerable)
    refused = sum(p.score < _threshold(p, thresholds) for p in unanswerable)
    false_refusal = sum(p.score < _threshold(p, thresholds) for p in answerable)
    return (
        correct / max(1, len(answerable)),
        refused / max(1, len(unanswerable)),
        false_refusal / max(1, len(answerable)),
    )


def balanced(found: Sequence[Point], thresholds: Thresholds | float) -> float:
    """Mean over corpora of the balanced accuracy."""
    corpora = sorted({p.corpus for p in found})
    total = 0.0
    for corpus in corpora:
        correct, refused, _ = rates([p for p in found if p.corpus == corpus], thresholds)
        total += (correct + refused) / 2
    return total / max(1, len(corpora))


def choose_one(found: Sequence[Point], max_added: float = MAX_ADDED_FALSE_REFUSAL) -> float:
    """The best balanced accuracy among thresholds adding at most `max_added` false refusals.

    Among equally good thresholds the highest wins: a refusal shows the closest passages, so
    leaning towards refusing costs little, and it keeps off-topic questions from being answered.
    """
    scores = sorted({round(p.score, 4) for p in found if p.score >= 0})
    candidates = [0.0] + [round((a + b) / 2, 4) for a, b in itertools.pairwise(scores)]
    floor = rates(found, 0.0)[2]
    allowed = [t for t in candidates if rates(found, t)[2] - floor <= max_added + 1e-9]
    return max(allowed, key=lambda t: (balanced(found, t), t))


def choose(found: Sequence[Point], max_added: float = MAX_ADDED_FALSE_REFUSAL) -> Thresholds:
    """One threshold per kind of question."""
    typed = [p for p in found if p.typed]
    untyped = [p for p in found if not p.typed]
    return Thresholds(choose_one(typed, max_added), choose_one(untyped, max_added))


def auc(found: Sequence[Point]) -> float:
    """Chance that an answerable question outscores an unanswerable one (0.5: no separation)."""
    yes = [p.score for p in found if p.answerable]
    no = [p.score for p in found if not p.answerable]
    if not yes or not no:
        return float("nan")
    wins = sum((a > b) + 0.5 * (a == b) for a in yes for b in no)
    return wins / (len(yes) * len(no))


def plot(found: Sequence[Point], chosen: Thresholds, path: Path) -> None:
    """Unanswerable refused against false refusals as each threshold moves, per corpus and kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    for ax, typed, value in ((axes[0], True, chosen.typed), (axes[1], False, chosen.untyped)):
        kind = [p for p in found if p.typed is typed]
        grid = sorted({p.score for p in kind} | {0.0, value})
        for corpus in [*sorted({p.corpus for p in kind}), "all"]:
            subset = [p for p in kind if corpus in ("all", p.corpus)]
            curve = [rates(subset, t) for t in grid]
            (line,) = ax.plot(
                [c[2] for c in curve], [c[1] for c in curve], label=corpus, lw=2 if corpus == "all" else 1
            )
            _, refused, false_refusal = rates(subset, value)
            ax.plot([false_refusal], [refused], "o", color="black" if corpus == "all" else line.get_color())
        ax.set_title(f"{'asks for a kind of thing' if typed else 'other questions'}: threshold {value:.3f}")
        ax.set_xlabel("answerable questions refused (false refusal)")
    axes[0].set_ylabel("unanswerable questions refused")
    axes[1].legend(fontsize=8)
    fig.suptitle("Refusal thresholds (dots: chosen)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
