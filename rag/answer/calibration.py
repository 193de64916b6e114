"""The refusal thresholds calibrated per embedding model, shipped with the package.

Evidence scores include a cosine, whose scale depends on the embedding model, so a
threshold chosen for one model means nothing for another. Questions that ask for a kind of
thing (a person, a number, a date) and questions that do not are scored on different
footing (only the first can earn the answer-type term), so each class has its own
threshold. `rag eval --calibrate` writes `calibration.json` beside this module; models
never calibrated get the MiniLM values with a warning in the log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from rag.answer.answer_types import answer_type
from rag.models import Outcome

log = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
DEFAULT_MODEL = "all-MiniLM-L6-v2-onnx-int8"


@dataclass(frozen=True)
class Thresholds:
    """Evidence scores below which the offline answerer refuses, by kind of question."""

    typed: float
    untyped: float

    @classmethod
    def both(cls, value: float) -> Thresholds:
        return cls(value, value)

    def for_question(self, question: str) -> float:
        return self.typed if answer_type(question) is not None else self.untyped


@dataclass(frozen=True)
class ReaderThresholds:
    """The reader's confidences at which an answer states a claim, and below which it refuses."""

    answer: float
    passages: float

    def outcome(self, confidence: float) -> Outcome:
        if confidence >= self.answer:
            return "answer"
        return "passages" if confidence >= self.passages else "refusal"


#: The key of the reader's thresholds in `calibration.json` (its probabilities do not depend on the embedder).
READER_KEY = "reader"


#: Used until `rag eval --calibrate` has stored the reader's own (with a warning in the log).
UNCALIBRATED_READER = ReaderThresholds(0.5, 0.2)


@cache
def calibrated_reader_thresholds() -> ReaderThresholds:
    """The stored reader thresholds."""
    table = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    if READER_KEY not in table:
        log.warning("reader thresholds not calibrated: run `rag eval --corpus … --calibrate` with RAG_READER=on")
        return UNCALIBRATED_READER
    return ReaderThresholds(**table[READER_KEY])


def save_reader(thresholds: ReaderThresholds, path: Path = CALIBRATION_FILE) -> None:
    """Store the reader's thresholds, keeping the others."""
    _store(READER_KEY, asdict(thresholds), path)
    calibrated_reader_thresholds.cache_clear()


def _store(key: str, value: dict[str, float], path: Path) -> None:
    table = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    table[key] = value
    path.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@cache
def calibrated_thresholds(model_id: str) -> Thresholds:
    """The stored thresholds for `model_id`."""
    table = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    if model_id not in table:
        log.warning("no refusal threshold calibrated for %s; using %s's", model_id, DEFAULT_MODEL)
        model_id = DEFAULT_MODEL
    return Thresholds(**table[model_id])


def save(model_id: str, thresholds: Thresholds, path: Path = CALIBRATION_FILE) -> None:
    """Store the thresholds for one model, keeping the others."""
    _store(model_id, asdict(thresholds), path)
    calibrated_thresholds.cache_clear()
