"""Feedback on answers, kept as JSON Lines, and turned into gold questions for `rag eval`.

People rate answers in the chat (👍/👎) and may type what was wrong or the right answer.
Each rating is one appended line: a whole line written under a file lock, so two chats
rating at once never interleave, and a reader skips a line cut short by a crash rather
than failing. A 👎 that carries a correction is a gold question someone has already
answered, so `rag feedback export` writes those as gold lines that `rag eval --gold` scores:

- `answers` and `must_include` are the correction, as typed (so type the answer itself,
  e.g. "Vladimir Medinsky", not a sentence about it);
- `sources` are the indexed articles whose text holds the correction (matched as
  `must_include` matches an answer). Never the files the rated answer cited: those are what
  a wrong answer quoted, and scoring against them rated the wrong answer's citations perfect.
  When no article holds it (a sentence rather than the answer itself, another spelling),
  `sources` is empty and `"sources_known": false` makes `rag eval` leave the line out of the
  retrieval and citation metrics, while it still scores the answer text;
- a correction saying the articles do not hold the answer ("not in the articles", "the
  articles don't say") makes the question unanswerable: the right reply is a refusal.

Several ratings of one answer (a 👎 and then its correction, or a change of mind) share an
`answer_id`; the export uses the last one. Lines the export cannot use (cut short by a crash,
or of another shape: written by hand or by another tool) are skipped and counted, never fatal:
one stray line should not stop a file of good ratings from being exported.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from rag.evaluation.metrics import normalize
from rag.models import Answer
from rag.settings import Settings

RATINGS = ("up", "down", "cleared")

_NOT_IN_ARTICLES = re.compile(
    r"\b(not (in|from) the (articles?|sources?|text)|(articles?|sources?) (do|does|did)(n't| not) (say|mention|tell|"
    r"contain|state)|not (mentioned|stated|said|answered)|no answer|cannot be answered|unanswerable|"
    r"should (have )?refuse[ds]?)\b",
    re.IGNORECASE,
)


def feedback_file(settings: Settings) -> Path:
    """Where feedback goes: RAG_FEEDBACK_PATH, else `feedback.jsonl` beside the index."""
    return settings.feedback_path or settings.index_dir / "feedback.jsonl"


def answer_record(answer: Answer, history: Sequence[Any], answer_id: str) -> dict[str, Any]:
    """What a rating needs to know about the answer it rates (kept in the chat's state)."""
    return {
        "answer_id": answer_id,
        "question": answer.question,
        "history": [list(turn) for turn in history],
        "answer": answer.text,
        "citations": [c.model_dump(exclude={"text"}) for c in answer.citations],
        "refused": answer.refused,
        "mode": answer.mode,
        "index_version": answer.index_version,
    }


def entry(record: dict[str, Any], rating: str, correction: str | None = None) -> dict[str, Any]:
    """One feedback line: the rated answer, the rating, the correction, and when."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
    text = (correction or "").strip() or None
    return {"time": datetime.now(UTC).isoformat(timespec="seconds"), **record, "rating": rating, "correction": text}


def append(path: Path, line: dict[str, Any]) -> None:
    """Append one line atomically with respect to other writers (threads and processes)."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    with FileLock(str(path) + ".lock", timeout=10), open(path, "ab") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


class Exported(NamedTuple):
    """What `export` did: gold lines written, rating lines read, other lines skipped."""

    written: int
    read: int
    skipped: int


def read(path: Path) -> list[dict[str, Any]]:
    """Every complete rating line; a torn or foreign line is skipped, not fatal."""
    return scan(path)[0]


def scan(path: Path) -> tuple[list[dict[str, Any]], int]:
    """(the rating lines, how many other non-blank lines were skipped), so the export can say it skipped some."""
    if not path.is_file():
        return [], 0
    lines, skipped = [], 0
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not raw.strip():
            continue
        line = _parse(raw)
        if is_rating(line):
            lines.append(line)
        else:
            skipped += 1
    return lines, skipped


def _parse(raw: str) -> Any:
    """The line's JSON, or None for a line cut short (which is then skipped like any foreign line)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None


def is_rating(line: Any) -> bool:
    """True when the fields the export reads have the types `entry` writes (a question, a rating,
    a correction or null, citations as objects, history as a list)."""
    return (
        isinstance(line, dict)
        and isinstance(line.get("question"), str)
        and bool(line["question"].strip())
        and line.get("rating") in RATINGS
        and isinstance(line.get("correction"), str | None)
        and isinstance(line.get("history"), list | None)
        and isinstance(line.get("citations"), list | None)
        and all(isinstance(c, dict) for c in line.get("citations") or [])
    )


def latest(lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last line for each rated answer, in the order the answers were first rated."""
    last: dict[str, dict[str, Any]] = {}
    for i, line in enumerate(lines):
        last[str(line.get("answer_id") or f"line-{i}")] = line
    return list(last.values())


def not_in_articles(correction: str) -> bool:
    """True when a correction says the right reply is a refusal."""
    return bool(_NOT_IN_ARTICLES.search(correction))


def indexed_texts(seeds_dir: Path) -> dict[str, str]:
    """Each article file `rag index` reads, with the text it indexes (the body paragraphs, cleaned),
    normalised as the eval normalises answers and padded with spaces for whole-word matching."""
    from rag.index.ingest import scan_folder
    from rag.index.lines import clean_text
    from rag.index.parsing import parse_article

    texts = {}
    for file in scan_folder(seeds_dir).files:
        body = " ".join(clean_text(file.raw[start:end]) for start, end in parse_article(file.raw).paragraphs)
        texts[file.name] = f" {normalize(body)} "
    return texts


def holding(texts: dict[str, str], answer: str) -> list[str]:
    """The articles whose text holds `answer` as whole words, in file order."""
    wanted = f" {normalize(answer)} "
    return sorted(name for name, text in texts.items() if wanted.strip() and wanted in text)


def gold_line(line: dict[str, Any], texts: dict[str, str], number: int = 0) -> dict[str, Any]:
    """The gold question for one 👎 with a correction; `texts` are `indexed_texts`. See the module
    docstring for the rules."""
    correction = str(line["correction"]).strip()
    history = line.get("history") or None
    answerable = not not_in_articles(correction)
    sources = holding(texts, correction) if answerable else []
    gold: dict[str, Any] = {
        "id": f"feedback-{line.get('answer_id') or number}",
        "question": line["question"],
        "answers": [correction] if answerable else [],
        "must_include": [[correction.rstrip(".")]] if answerable else [],
        "sources": sources,
        "answerable": answerable,
        "kind": "followup" if history else (None if answerable else "unanswerable"),
        "answer_type": None,
    }
    if answerable and not sources:
        gold["sources_known"] = False
    if history:
        gold["history"] = history
    return gold


def export(feedback: Path, out: Path, seeds_dir: Path) -> Exported:
    """Write the gold lines for the 👎 answers with a correction; say how many lines were read and skipped."""
    lines, skipped = scan(feedback)
    chosen = [line for line in latest(lines) if line.get("rating") == "down" and line.get("correction")]
    texts = indexed_texts(seeds_dir) if chosen else {}
    gold = [gold_line(line, texts, number) for number, line in enumerate(chosen, 1)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in gold), encoding="utf-8")
    tmp.replace(out)
    return Exported(len(gold), len(lines), skipped)
