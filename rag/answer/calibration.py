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


#: The reader's confidence at which its span becomes the answer line, until `rag eval --calibrate`
#: (with RAG_READER=on) has stored the threshold of this reader model (with a warning in the log).
UNCALIBRATED_LINE = 0.5


def reader_key(model_sha256: str) -> str:
    """The reader's entry in `calibration.json`: per model file, as a retrained reader's
    confidences mean something else."""
    return f"reader:{model_sha256[:12]}"


@cache
def calibrated_line_threshold(model_sha256: str) -> float:
    """The stored answer-line threshold of this reader model."""
    table = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    key = reader_key(model_sha256)
    if key not in table:
        log.warning("no answer-line threshold for this reader: run `rag eval --corpus … --calibrate`, RAG_READER=on")
        return UNCALIBRATED_LINE
    return float(table[key]["line"])


def save_line_threshold(model_sha256: str, line: float, path: Path = CALIBRATION_FILE) -> None:
    """Store the reader's answer-line threshold, keeping the others."""
    _store(reader_key(model_sha256), {"line": line}, path)
    calibrated_line_threshold.cache_clear()


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
