"""OpenAI (or compatible) embeddings, for users who prefer them to the packaged model.

Switching models changes every vector, so the index records the model name and
`rag index` rebuilds it rather than mixing vectors from two models.
"""

from __future__ import annotations

import numpy as np

from rag.errors import RagError
from rag.index.embedding import ArrayEmbedding
from rag.settings import Settings


class OpenAIEmbedder(ArrayEmbedding):
    """Unit-length vectors from `/v1/embeddings` of the configured endpoint."""

    embed_batch_size = 64

    def __init__(self, settings: Settings) -> None:
        import openai

        self.model_name = f"openai:{settings.openai_embedding_model}"

        if settings.openai_api_key is None and settings.openai_base_url is None:
            raise RagError("RAG_EMBEDDING=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL) to be set.")
        self._model = settings.openai_embedding_model
        self._client = openai.OpenAI(
            api_key=settings.api_key(), base_url=settings.openai_base_url, timeout=settings.llm_timeout
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        import openai

        out = []
        for i in range(0, len(texts), self.embed_batch_size):
            try:
                reply = self._client.embeddings.create(model=self._model, input=texts[i : i + self.embed_batch_size])
            except openai.OpenAIError as exc:
                raise RagError(f"The embedding endpoint failed ({exc.__class__.__name__}).") from None
            out.append(np.array([d.embedding for d in reply.data], dtype=np.float32))
        vectors = np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
