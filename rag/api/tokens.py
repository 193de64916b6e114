"""Token counts for `usage` and `max_tokens`, with the tokenizer the project already ships.

Offline there is no language model whose tokens could be counted, so the API counts with the
embedding model's tokenizer: all-MiniLM-L6-v2's WordPiece (BERT's uncased 30,522-word
vocabulary), `rag/index/data/minilm-tokenizer.json`, without its [CLS]/[SEP] markers: a real
subword tokenizer (1.31 tokens a word on the seed articles) that needs no download. When an
LLM wrote the answer, `usage` is the model's own report instead (see `rag.llm.usage`).
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _tokenizer() -> Any:
    """The shipped tokenizer without the embedder's truncation and padding (checked by sha256)."""
    import hashlib
    from importlib import resources
    from pathlib import Path

    from tokenizers import Tokenizer

    from rag.errors import ModelFileError
    from rag.index.embedding import TOKENIZER_FILE, TOKENIZER_SHA256

    path = Path(str(resources.files("rag.index").joinpath("data").joinpath(TOKENIZER_FILE)))
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != TOKENIZER_SHA256:
        raise ModelFileError(f"The tokenizer file {path} is missing or changed; reinstall newsrag.")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def load() -> None:
    """Load the tokenizer now (at start-up), so the first request does not wait for it."""
    _tokenizer()


def count(texts: list[str]) -> int:
    """The number of tokens in all of `texts` together."""
    present = [t for t in texts if t]
    if not present:
        return 0
    return sum(len(e.ids) for e in _tokenizer().encode_batch(present, add_special_tokens=False))


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut after its first `limit` tokens, and whether it was cut.

    The cut falls at the end of the last token kept, in the original text (offsets), so the
    result is a prefix of `text`: its `[n]` markers and annotations stay where they were.
    """
    encoding = _tokenizer().encode(text, add_special_tokens=False)
    if len(encoding.ids) <= limit:
        return text, False
    if limit <= 0:
        return "", True
    return text[: encoding.offsets[limit - 1][1]], True
