"""The pieces of `rag serve`'s OpenAI-compatible API that are not the app itself (`rag.serve`):
request checks, token counts, citations as OpenAI annotations, and the response objects."""
