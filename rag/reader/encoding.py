"""How a (question, candidate sentence) pair becomes model input, and how a span comes back out.

Shared by training and answering, so the model reads at answer time exactly what it was
trained on: the question, then the candidate sentence, then its neighbours after a [SEP]
(the sentence before and after, which hold the topic or the name a pronoun stands for).
Only the sentence's own tokens may hold the answer span: a quote must state what the
answer line says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

#: Tokens per pair; longer neighbours are cut first, then the sentence's tail (no error).
MAX_TOKENS = 128
#: Tokens of the question kept (a longer question is cut, not refused).
MAX_QUESTION_TOKENS = 48
#: Longest answer span, in tokens.
MAX_SPAN_TOKENS = 24


@dataclass(frozen=True)
class PairTokenizer:
    """The MiniLM word-piece tokenizer twice: set to cut a pair's passage (never its question),
    and plain, to measure and cut the question first (a pair whose question alone is too long
    cannot be cut by the passage)."""

    pairs: Tokenizer
    plain: Tokenizer


def load_tokenizer(path: str) -> PairTokenizer:
    """The tokenizers for (question, passage) pairs, from the tokenizer file at `path`."""
    pairs = Tokenizer.from_file(path)
    pairs.no_padding()
    pairs.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    plain = Tokenizer.from_file(path)
    plain.no_padding()
    plain.no_truncation()
    return PairTokenizer(pairs, plain)


def passage(sentence: str, context: str) -> str:
    """The second segment: the sentence, then its neighbours (the context without the sentence)."""
    neighbours = " ".join(context.replace(sentence, " ", 1).split()) if context else ""
    return f"{sentence} [SEP] {neighbours}" if neighbours else sentence


def short_question(tokenizer: PairTokenizer, question: str) -> str:
    """`question`, cut after MAX_QUESTION_TOKENS tokens."""
    enc = tokenizer.plain.encode(question, add_special_tokens=False)
    if len(enc.ids) <= MAX_QUESTION_TOKENS:
        return question
    return question[: enc.offsets[MAX_QUESTION_TOKENS - 1][1]]


@dataclass(frozen=True)
class Batch:
    """Padded model input for pairs of one question, and where each sentence's tokens are."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    #: Per row: (first, last) token index of the sentence itself (inclusive); (0, -1) when cut away.
    sentence_tokens: list[tuple[int, int]]
    #: Per row: each token's character range in the sentence.
    offsets: list[list[tuple[int, int]]]

    def feeds(self) -> dict[str, np.ndarray]:
        return {
            "input_ids": self.input_ids,
            "attention_mask": self.attention_mask,
            "token_type_ids": self.token_type_ids,
        }


def encode(
    tokenizer: PairTokenizer, questions: Sequence[str], sentences: Sequence[str], contexts: Sequence[str]
) -> Batch:
    """Model input for row i = (questions[i], sentences[i] with contexts[i]), padded to the longest row."""
    pairs = [
        (short_question(tokenizer, q), passage(s, c)) for q, s, c in zip(questions, sentences, contexts, strict=True)
    ]
    encodings = tokenizer.pairs.encode_batch(pairs)
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    spans, offsets = [], []
    for row, (enc, sentence) in enumerate(zip(encodings, sentences, strict=True)):
        n = len(enc.ids)
        ids[row, :n], mask[row, :n], types[row, :n] = enc.ids, enc.attention_mask, enc.type_ids
        inside = [
            i
            for i, (seq, (_, end)) in enumerate(zip(enc.sequence_ids, enc.offsets, strict=True))
            if seq == 1 and end <= len(sentence) and enc.special_tokens_mask[i] == 0
        ]
        spans.append((inside[0], inside[-1]) if inside else (0, -1))
        offsets.append(list(enc.offsets))
    return Batch(ids, mask, types, spans, offsets)


def token_span(batch: Batch, row: int, chars: tuple[int, int]) -> tuple[int, int] | None:
    """The tokens of `row` covering the character range `chars` of its sentence, or None if cut away."""
    first, last = batch.sentence_tokens[row]
    start = end = None
    for i in range(first, last + 1):
        lo, hi = batch.offsets[row][i]
        if start is None and hi > chars[0]:
            start = i
        if lo < chars[1]:
            end = i
    if start is None or end is None or end < start:
        return None
    return start, end


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, first: int, last: int) -> tuple[int, int, float]:
    """(start, end, score) of the best span within tokens first..last, at most MAX_SPAN_TOKENS long.

    The score is the span's probability under the start and end distributions over the sentence.
    """
    if last < first:
        return first, last, 0.0
    starts = _softmax(start_logits[first : last + 1])
    ends = _softmax(end_logits[first : last + 1])
    joint = np.triu(np.outer(starts, ends))
    joint = np.tril(joint, MAX_SPAN_TOKENS - 1)
    s, e = np.unravel_index(int(np.argmax(joint)), joint.shape)
    return first + int(s), first + int(e), float(joint[s, e])


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max())
    return z / z.sum()


def span_chars(batch: Batch, row: int, start: int, end: int, sentence: str) -> tuple[int, int]:
    """Character range of tokens start..end in the sentence, widened to whole words."""
    lo, hi = batch.offsets[row][start][0], batch.offsets[row][end][1]
    while lo > 0 and (sentence[lo - 1].isalnum() or sentence[lo - 1] in "-'’"):
        lo -= 1
    while hi < len(sentence) and sentence[hi].isalnum():
        hi += 1
    return lo, hi
