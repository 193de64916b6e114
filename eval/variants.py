"""Copy an eval corpus with its questions typed the way people type in a chat box.

    .venv/bin/python eval/variants.py typo eval/corpora/news40 /tmp/variants/news40-typo
    .venv/bin/rag eval --corpus /tmp/variants/news40-typo --split gold --out /tmp/variants/out

`typo`: in each question that names someone or something the articles also name (a capitalised
word after the first, of five letters or more), the longest such name has two letters in its
middle swapped ("Zelensky" -> "Zelesnky"); questions without one are left out. `lower`: every
question in lower case, without its closing question mark. The articles are the corpus's own
(the copy's corpus.json points at them); the answers, sources and kinds are unchanged, so `rag
eval` on the copy measures what the way of typing costs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.evaluation.corpora import load_corpus  # noqa: E402
from rag.index.ingest import scan_folder  # noqa: E402

_NAME = re.compile(r"(?<!^)\b[A-Z][a-z]{4,}\b")


def swapped(word: str) -> str:
    """The word with the two letters around its middle swapped (the commonest typing slip)."""
    middle = len(word) // 2
    return word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :]


def with_typo(question: str, known: set[str]) -> str | None:
    names = [n for n in _NAME.findall(question) if n.lower() in known and swapped(n) != n]
    if not names:
        return None
    name = max(names, key=len)
    return re.sub(rf"\b{name}\b", swapped(name), question, count=1)


def lower(question: str) -> str:
    return question.lower().rstrip("?").strip()


def main(kind: str, source: Path, target: Path) -> None:
    corpus = load_corpus(source)
    known = {w.lower() for f in scan_folder(corpus.articles).files for w in re.findall(r"\b[A-Z][a-z]+\b", f.raw)}
    target.mkdir(parents=True, exist_ok=True)
    (target / "corpus.json").write_text(json.dumps({"articles": str(corpus.articles)}), encoding="utf-8")
    for split in ("gold", "holdout"):
        if not corpus.questions(split).is_file():
            continue
        kept = []
        for line in corpus.questions(split).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            changed = with_typo(item["question"], known) if kind == "typo" else lower(item["question"])
            if changed is not None:
                kept.append(json.dumps(item | {"question": changed}, ensure_ascii=False))
        (target / f"{split}.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
        print(f"{target.name}/{split}: {len(kept)} questions")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("typo", "lower"):
        sys.exit("usage: variants.py typo|lower CORPUS_FOLDER TARGET_FOLDER")
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
