"""Gold corpora: a folder of articles with its gold and held-out questions, scored side by side.

The five seed articles are the demo, not the product: every change to the answerer is
measured on corpora it was not shaped on. A corpus folder holds `gold.jsonl` (questions
that may be looked at while tuning), `holdout.jsonl` (questions that are not) and
`articles/`, or a `corpus.json` naming another articles folder (`{"articles": "…"}`).
Each corpus gets its own index next to the configured one, built incrementally.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.settings import Settings

SPLITS = ("gold", "holdout")
#: Rows of the side-by-side table: the figures the issues set targets for.
OVERVIEW = (
    "hit@1",
    "correct_and_cited",
    "paraphrase_correct_and_cited",
    "unanswerable_refused",
    "false_refusal",
    "broad_correct",
    "quotes_verified",
    "answer_first",
)


@dataclass(frozen=True)
class Corpus:
    """One gold corpus."""

    name: str
    folder: Path
    articles: Path

    def questions(self, split: str) -> Path:
        return self.folder / f"{split}.jsonl"


def copy_questions(corpus: Corpus, renamed: dict[str, str], target: Path) -> None:
    """Write the corpus's gold and held-out questions into `target`, their sources renamed as in
    `renamed` (for the corpus rendered into another format by eval/web_pages.py and eval/formats.py)."""
    for split in ("gold", "holdout"):
        questions = corpus.questions(split)
        if not questions.is_file():
            continue
        lines = []
        for line in questions.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                item["sources"] = [renamed.get(s, s) for s in item.get("sources", [])]
                lines.append(json.dumps(item, ensure_ascii=False))
        (target / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_corpus(folder: Path) -> Corpus:
    """The corpus in `folder`; InputError (the folder is the user's to fix) when it has no articles or gold file."""
    articles = (folder / _config(folder / "corpus.json").get("articles", "articles")).resolve()
    if not articles.is_dir():
        raise InputError(f"Corpus {folder} has no articles folder ({articles}).")
    if not (folder / "gold.jsonl").is_file():
        raise InputError(f"Corpus {folder} has no gold.jsonl.")
    return Corpus(folder.resolve().name, folder, articles)


def _config(path: Path) -> dict[str, Any]:
    """The corpus.json settings ({} without the file), checked here so a hand-edited file of another
    shape is one line naming it rather than an AttributeError."""
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"Cannot read {path}: {exc}") from None
    if not isinstance(config, dict) or not isinstance(config.get("articles", ""), str):
        raise InputError(f'{path} must be a JSON object such as {{"articles": "<folder of articles>"}}.')
    return config


def corpus_settings(settings: Settings, corpus: Corpus) -> Settings:
    """The settings with the corpus's articles and an index of its own (folder or collection)."""
    return settings.model_copy(
        update={
            "seeds_dir": corpus.articles,
            "index_dir": settings.index_dir / f"eval-{corpus.name}",
            "collection": f"{settings.collection}-eval-{corpus.name}"[:41],
        }
    )


def overview_rows(summaries: dict[str, dict[str, Any]], names: Sequence[str] = OVERVIEW) -> list[list[str]]:
    """[metric, value per column…] for the side-by-side table; n/a where a set has no such question."""
    rows = []
    for name in names:
        row = [name]
        for summary in summaries.values():
            entry = summary["rates"].get(name, {})
            value = entry.get("value")
            row.append("n/a" if value is None else f"{value:.3f} ({entry['n']})")
        rows.append(row)
    return rows


def overview_markdown(summaries: dict[str, dict[str, Any]]) -> str:
    """The side-by-side table as Markdown (columns: corpus/split; cells: value (n))."""
    header = ["metric", *summaries]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in overview_rows(summaries)]
    return "\n".join(lines) + "\n"
