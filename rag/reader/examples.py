"""Reading examples: each question of a reader-data folder with the candidates our retrieval gives it.

The reader learns and is tested on what it will see at answer time: the top candidates of the
project's own retrieval and evidence score over the whole archive (all 600 stories, not only
the question's article), each labelled by whether it is one of the annotators' evidence
sentences and, if so, where the answer lies in it.

A positive is an evidence sentence that states the answer (of a two-sentence question's
evidence, the one holding the answer; the other is left out), or for a broad question any
of its central sentences. Labels we cannot trust are left out, not guessed:
- an answerable question's candidate from another article that contains the answer's words
  may answer it too (two outlets tell one story), so it is neither positive nor negative;
- an unanswerable question was checked against its own article only (the data's README), so
  its candidates from other articles are left out; those of its own article are negatives.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer.followup import condense_offline
from rag.answer.spelling import corrected
from rag.errors import InputError
from rag.models import Chunk

if TYPE_CHECKING:
    from rag.answer.snapshot import IndexSnapshot

#: Share of the articles with questions held out as reader-test (split by article, never by question).
TEST_SHARE = 0.2
SPLIT_SEED = 20261203
#: Candidates per question: what the offline answerer re-ranks (`rag.answer.snapshot.CANDIDATES`).
CANDIDATES = 20


@dataclass(frozen=True)
class Question:
    """One line of a reader-data `qa/*.jsonl` file."""

    id: str
    article: str
    question: str
    answerable: bool
    answer: str | None
    evidence: tuple[str, ...]
    kind: str
    history: tuple[tuple[str, str], ...] = ()


@dataclass
class Candidate:
    """A retrieved sentence for a question, with its label (None: left out of training)."""

    source: str
    position: int
    text: str
    context: str
    rank: int
    score: float
    label: int | None
    #: Character range of the answer inside `text`, when this sentence states it.
    span: tuple[int, int] | None = None


@dataclass
class Example:
    """A question, the query the answerer searches with, and its candidates."""

    question: Question
    query: str
    candidates: list[Candidate] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "question": asdict(self.question),
                "query": self.query,
                "candidates": [asdict(c) for c in self.candidates],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, line: str) -> Example:
        data = json.loads(line)
        q = data["question"]
        question = Question(**{**q, "evidence": tuple(q["evidence"]), "history": tuple(tuple(h) for h in q["history"])})
        cands = [Candidate(**{**c, "span": tuple(c["span"]) if c["span"] else None}) for c in data["candidates"]]
        return cls(question, data["query"], cands)


def check_files(data_dir: Path) -> list[Path]:
    """The question files of `data_dir`, after the data's own checker accepts them (InputError naming the line)."""
    files = sorted((data_dir / "qa").glob("*.jsonl"))
    if not files:
        raise InputError(f"No question files in {data_dir / 'qa'}: point RAG_READER_DATA at a reader-data folder.")
    run = subprocess.run(
        [sys.executable, str(data_dir / "check_qa.py"), *map(str, files)], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        first = next((ln for ln in run.stdout.splitlines() if ln.startswith("error")), run.stdout.strip())
        raise InputError(f"check_qa.py refused the reader data: {first.removeprefix('error ')}")
    return files


def load_questions(files: Iterable[Path]) -> list[Question]:
    """Every question of the checked files, in file order."""
    found = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                found.append(
                    Question(
                        q["id"],
                        q["article"],
                        q["question"],
                        q["answerable"],
                        q["answer"],
                        tuple(q["evidence"]),
                        q["kind"],
                        tuple(tuple(h) for h in q["history"]),
                    )
                )
    return found


def split_articles(questions: Sequence[Question]) -> tuple[set[str], set[str]]:
    """(train, test) article names: a seeded shuffle of the articles with questions, TEST_SHARE held out."""
    articles = sorted({q.article for q in questions})
    random.Random(SPLIT_SEED).shuffle(articles)
    cut = round(len(articles) * TEST_SHARE)
    return set(articles[cut:]), set(articles[:cut])


def data_hash(files: Iterable[Path]) -> str:
    """sha256 over the question files' bytes, for the model card."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def evidence_ranges(raw: str, evidence: Sequence[str]) -> list[tuple[int, int]]:
    """Where each evidence sentence sits in the article's text."""
    ranges = []
    for sentence in evidence:
        at = raw.find(sentence)
        if at >= 0:
            ranges.append((at, at + len(sentence)))
    return ranges


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def label(
    question: Question, source: str, start: int, end: int, text: str, ranges: Sequence[tuple[int, int]]
) -> tuple[int | None, tuple[int, int] | None]:
    """(label, answer span in `text`) of one candidate; label None when it cannot be trusted."""
    own = source == question.article
    if not question.answerable:
        return (0, None) if own else (None, None)
    answer = question.answer or ""
    if not own:
        return (None, None) if answer and answer.lower() in text.lower() else (0, None)
    covered = sum(overlap((start, end), r) for r in ranges)
    if covered < 0.5 * max(1, end - start):
        return (None, None) if answer and answer in text else (0, None)
    if not answer:  # a broad question: every evidence sentence is central to the story
        return 1, None
    at = text.find(answer)
    # of a two-sentence question's evidence, the sentence that states the answer is the one that answers
    return (1, (at, at + len(answer))) if at >= 0 else (None, None)


def article_sentences(snapshot: IndexSnapshot, source: str) -> list[Chunk]:
    """Every indexed sentence of one article, in order."""
    found: list[Chunk] = []
    while (chunk := snapshot.sentence(source, len(found))) is not None:
        found.append(chunk)
    return found


def build_example(question: Question, snapshot: IndexSnapshot, raw: str, add_missed: bool) -> Example:
    """The candidates our retrieval gives `question`, labelled; with `add_missed`, the evidence sentences
    of a question retrieval gave none of are added (rank -1), so training sees a positive for it."""
    query = condense_offline(question.question, [list(h) for h in question.history])
    query, _ = corrected(query, snapshot.lexicon)
    ranges = evidence_ranges(raw, question.evidence)
    example = Example(question, query)

    def add(chunk: Chunk, rank: int, score: float) -> int | None:
        lab, span = label(question, chunk.source, chunk.start, chunk.end, chunk.text, ranges)
        example.candidates.append(
            Candidate(chunk.source, chunk.position, chunk.text, chunk.context, rank, round(score, 4), lab, span)
        )
        return lab

    for rank, ev in enumerate(snapshot.evidence(query, n=CANDIDATES)):
        add(ev.chunk, rank, ev.score)
    if add_missed and question.answerable and not any(c.label == 1 for c in example.candidates):
        seen = {(c.source, c.position) for c in example.candidates}
        for chunk in article_sentences(snapshot, question.article):
            if (chunk.source, chunk.position) not in seen and label(
                question, chunk.source, chunk.start, chunk.end, chunk.text, ranges
            )[0] == 1:
                add(chunk, -1, 0.0)
    return example


def main(argv: Sequence[str] | None = None) -> None:
    """Write train.jsonl and test.jsonl: every question with its labelled candidates, split by article."""
    import argparse

    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--data", type=Path, required=True, help="reader-data folder (articles/, qa/, check_qa.py)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the index and the example files")
    args = parser.parse_args(argv)
    files = check_files(args.data)
    questions = load_questions(files)
    train, test = split_articles(questions)
    settings = load_settings(
        seeds_dir=args.data / "articles", index_dir=args.out / "index", llm="off", reader="off", _env_file=None
    )
    pipeline = build_pipeline(settings)
    pipeline.index()
    snapshot = pipeline.snapshot()
    raws = {}
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        (args.out / "train.jsonl").open("w", encoding="utf-8") as tr,
        (args.out / "test.jsonl").open("w", encoding="utf-8") as te,
    ):
        for q in questions:
            if q.article not in raws:
                raws[q.article] = (args.data / "articles" / q.article).read_text(encoding="utf-8")
            in_train = q.article in train
            example = build_example(q, snapshot, raws[q.article], add_missed=in_train)
            (tr if in_train else te).write(example.to_json() + "\n")
    (args.out / "split.json").write_text(
        json.dumps({"train": sorted(train), "test": sorted(test), "data_sha256": data_hash(files)}, indent=1) + "\n"
    )
    print(f"{len(questions)} questions; {len(train)} train articles, {len(test)} test articles -> {args.out}")


if __name__ == "__main__":
    main()
