"""What any pair of refusal thresholds could give on each corpus: the ceiling of the offline answerer.

    RAG_INDEX_DIR=/tmp/idx .venv/bin/python eval/ceiling.py eval/corpora/seeds eval/corpora/abc-news-50 \
        eval/corpora/news100 eval/corpora/news40

A refusal threshold only gates the answer the scorer chose. So the share of answerable questions
answered correctly with no threshold at all is the most any threshold can give, and sweeping both
thresholds (questions asking for a kind of thing, and the others) over every question's score
shows the best trade-off between refusing unanswerable questions and refusing answerable ones,
chosen per corpus with hindsight. Where even that misses the targets, the refusal is not the
lever: the choice of sentence and the separation of the scores are. Prints a Markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.answer.calibration import Thresholds  # noqa: E402
from rag.evaluation import calibrate  # noqa: E402
from rag.evaluation.corpora import corpus_settings, load_corpus  # noqa: E402
from rag.evaluation.gold import load_gold  # noqa: E402
from rag.pipeline import build_pipeline  # noqa: E402
from rag.settings import load_settings  # noqa: E402

#: The targets of issue 11: most false refusals allowed, least unanswerable refused wanted.
MAX_FALSE_REFUSAL = 0.05
MIN_REFUSED = 0.80


def row(points: list[calibrate.Point]) -> list[str]:
    """Ceiling, best refusal within the false-refusal target, false refusals the refusal target costs, AUC."""

    def grid(typed: bool) -> list[float]:
        return [0.0, *sorted({round(p.score, 4) + 1e-4 for p in points if p.typed is typed and p.score >= 0})]

    swept = [calibrate.rates(points, Thresholds(a, b)) for a in grid(True) for b in grid(False)]
    ceiling = calibrate.rates(points, 0.0)
    within = [r for r in swept if r[2] <= MAX_FALSE_REFUSAL + 1e-9]
    best = max(within, key=lambda r: (r[1], r[0]), default=None)
    reaching = [r for r in swept if r[1] >= MIN_REFUSED]
    cheapest = min(reaching, key=lambda r: (r[2], -r[0]), default=None)
    return [
        f"{ceiling[0]:.2f} (false refusals {ceiling[2]:.2f})",
        "none" if best is None else f"{best[1]:.2f} (correct {best[0]:.2f})",
        "none" if cheapest is None else f"{cheapest[2]:.2f} (correct {cheapest[0]:.2f})",
        f"{calibrate.auc(points):.2f}",
    ]


def main(folders: list[str]) -> None:
    settings = load_settings()
    print(
        "| corpus / split | correct with no threshold | best unanswerable refused at false refusals "
        f"≤ {MAX_FALSE_REFUSAL} | false refusals to refuse ≥ {MIN_REFUSED} | AUC |"
    )
    print("|---|---|---|---|---|")
    for folder in folders:
        corpus = load_corpus(Path(folder))
        pipeline = build_pipeline(corpus_settings(settings, corpus))
        pipeline.index()
        for split in ("gold", "holdout"):
            if corpus.questions(split).is_file():
                items = load_gold(corpus.questions(split), corpus.articles)
                cells = row(calibrate.points(pipeline, items, corpus.name))
                print(f"| {corpus.name} / {split} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
