"""The trained reader at answer time: int8 ONNX on onnxruntime, no torch.

`Reader.read` scores a question's candidate sentences in one batch: the probability that
each one answers the question, and the best answer span inside it. `make train-reader` writes
the model file into `rag/reader/data/` (how: `MODEL_CARD.md` there), and it is checked against
the sha256 in `reader.json` at load, so a swapped or truncated file fails at start, not as
quietly wrong answers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from rag.errors import ModelFileError
from rag.index.embedding import TOKENIZER_FILE, TOKENIZER_SHA256, sha256_of
from rag.reader.encoding import best_span, encode, load_tokenizer, span_chars

READER_DIR = Path(str(resources.files("rag.reader").joinpath("data")))
MODEL_FILE = "reader-int8.onnx"
CARD_FILE = "reader.json"
#: Token index of [CLS]: the null span, where the reader points when a sentence does not answer.
NULL = 0
TOKENIZER_PATH = Path(str(resources.files("rag.index").joinpath("data").joinpath(TOKENIZER_FILE)))


@dataclass(frozen=True)
class Reading:
    """The reader's view of one candidate sentence."""

    #: How sure the reader is that the sentence answers: the sigmoid of how far the best span's
    #: logits outscore the null span's ([CLS]). Monotone, not calibrated: `rag eval --calibrate`
    #: turns it into outcomes.
    answers: float
    #: Character range of the answer inside the sentence (None when the sentence was cut away).
    span: tuple[int, int] | None
    #: Probability of that span among the sentence's spans.
    span_score: float


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


class Reader:
    """Scores (question, sentence) pairs; one instance serves every thread (onnxruntime sessions are)."""

    def __init__(self, folder: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime

        folder = folder or READER_DIR
        model, card = folder / MODEL_FILE, folder / CARD_FILE
        if not model.is_file() or not card.is_file():
            missing = model if not model.is_file() else card
            raise ModelFileError(
                f"The reader model file {missing} is missing: train one with `make train-reader` "
                "(docs/reader.md), or set RAG_READER=off to answer with the evidence score alone."
            )
        try:
            expected = json.loads(card.read_text(encoding="utf-8"))["sha256"]
        except (ValueError, KeyError) as exc:
            raise ModelFileError(
                f"{card} is not the reader's card ({exc}): train the reader again with `make train-reader`, "
                "or set RAG_READER=off."
            ) from None
        actual = sha256_of(model)
        if actual != expected:
            raise ModelFileError(
                f"{model} has sha256 {actual[:12]}…, expected {expected[:12]}… in {card.name}: train the reader "
                "again with `make train-reader`, or set RAG_READER=off."
            )
        if sha256_of(TOKENIZER_PATH) != TOKENIZER_SHA256:
            raise ModelFileError(f"{TOKENIZER_PATH} is not the tokenizer we ship: reinstall with `make install`.")
        #: Names this model's calibrated answer-line threshold (`rag.answer.calibration`).
        self.sha256 = actual
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own classes for a file it cannot read
            raise ModelFileError(
                f"{model} cannot be loaded ({type(exc).__name__}): train it again with "
                "`make train-reader`, or set RAG_READER=off."
            ) from None
        outputs = {o.name for o in self._session.get_outputs()}
        if not {"start_logits", "end_logits"} <= outputs:
            raise ModelFileError(
                f"{model} gives {sorted(outputs)}, not the start and end logits this version reads: "
                "train it again with `make train-reader`, or set RAG_READER=off."
            )
        self._tokenizer = load_tokenizer(str(TOKENIZER_PATH))

    def read(self, question: str, sentences: Sequence[str], contexts: Sequence[str]) -> list[Reading]:
        """One `Reading` per sentence, in order."""
        if not sentences:
            return []
        batch = encode(self._tokenizer, [question] * len(sentences), sentences, contexts)
        start, end = self._session.run(["start_logits", "end_logits"], batch.feeds())
        start, end = start.astype(np.float64), end.astype(np.float64)
        readings = []
        for row, sentence in enumerate(sentences):
            first, last = batch.sentence_tokens[row]
            if last < first:
                readings.append(Reading(0.0, None, 0.0))
                continue
            s, e, score = best_span(start[row], end[row], first, last)
            margin = start[row, s] + end[row, e] - start[row, NULL] - end[row, NULL]
            readings.append(Reading(float(_sigmoid(np.asarray(margin))), span_chars(batch, row, s, e, sentence), score))
        return readings
