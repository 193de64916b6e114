"""An OpenAI-compatible HTTP API over the pipeline (`rag serve`), so any OpenAI client or chat
front end (Open WebUI, LibreChat, the `openai` package) can ask the articles.

Only what such clients need: `GET /v1/models` (one model, `newsrag-<mode>`) and
`POST /v1/chat/completions`, streamed or not. The answer text keeps its `[n]` markers; the
verified citations ride along in an extra `citations` field of the message (of the final
chunk's delta when streamed), which clients that do not know the field ignore.

A stream carries the final, verified answer text, never the model's raw tokens: grounding
renumbers, moves and drops the model's markers (and may fall back to the offline answer), so
raw tokens would show `[n]` numbers that do not match `citations`, and a stream cannot take
back what it sent. Offline answers come in one piece anyway, so offline nothing is lost.

A request body over `body_limit` bytes is refused (413) from its Content-Length header before
a byte of it is read: parsing 20 MB of JSON takes a second of the server's time, and no
question the pipeline accepts needs more than a small part of that.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.errors import QuestionError, RagError
from rag.models import Answer
from rag.pipeline import Pipeline
from rag.prompts import fill

#: Model ids start with this, so the model is recognisable in a client's model picker.
MODEL_PREFIX = "newsrag-"
#: Room in a request body: this many messages, each as long as a question may be. Clients such as
#: Open WebUI send the whole conversation (and a system prompt) with every question.
MESSAGES_ROOM = 100
#: Bytes one character can take in a JSON body ("\u00e9" is six).
JSON_BYTES_PER_CHAR = 6


class Message(BaseModel):
    """One chat message; content is a string or OpenAI's list of parts (only text parts count)."""

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields we use; the rest (temperature, max_tokens, …) are accepted and ignored."""

    model: str = ""
    messages: list[Message]
    stream: bool = False


class ApiError(Exception):
    """An error answered as OpenAI's error object, which every OpenAI client knows how to show."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


def _error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


def body_limit(max_question_chars: int) -> int:
    """The largest request body accepted: generous room for a long conversation, far below what
    would take the server noticeable time to parse (1.2 MB at the default 2,000 characters)."""
    return max_question_chars * JSON_BYTES_PER_CHAR * MESSAGES_ROOM


class BodyLimit:
    """ASGI middleware refusing a body over `limit` from its headers, before it is read.

    A chunked body (no Content-Length) could not be refused that way, so it gets 411: every
    OpenAI client sends the length.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(Headers(scope=scope)) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal(scope, receive, send)

    def refusal(self, headers: Headers) -> JSONResponse | None:
        """The error answer for a body that is too large or of unknown length; None for the rest."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return _error(411, "Send the request body with a Content-Length header, not chunked.")
        length = headers.get("content-length", "0")
        if length.isdigit() and int(length) > self.limit:
            message = f"Request body too large: {int(length):,} bytes; the limit is {self.limit:,}."
            return _error(413, message)
        return None


def split_messages(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """The last user message is the question; the user and assistant messages before it are the
    history, as the role/content dicts the pipeline accepts (system messages are ignored: the
    answer comes from the articles, not from the client's instructions)."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise QuestionError(fill("no_user_message"))
    last = users[-1]
    history = [{"role": m.role, "content": m.text()} for m in messages[:last] if m.role in ("user", "assistant")]
    return messages[last].text(), history


def extras(answer: Answer) -> dict[str, Any]:
    """What an answer has beyond its text: citations always, nearest passages on a refusal, a notice."""
    found: dict[str, Any] = {"citations": [c.model_dump() for c in answer.citations], "refused": answer.refused}
    if answer.closest:
        found["closest"] = [c.model_dump() for c in answer.closest]
    if answer.notice:
        found["notice"] = answer.notice
    return found


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A `chat.completion` object holding the whole answer."""
    message = {"role": "assistant", "content": answer.text, **extras(answer)}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


def chunks(answer: Answer, model: str) -> Iterator[str]:
    """Server-sent events: the text as a content delta, then citations in the final chunk, then [DONE]."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time())}
    deltas = [({"role": "assistant", "content": answer.text}, None), (extras(answer), "stop")]
    for delta, finish in deltas:
        chunk = {**head, "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def build_app(pipeline: Pipeline, api_key: str | None = None) -> FastAPI:
    """The API over one shared pipeline. With `api_key`, every request needs `Authorization: Bearer <key>`.

    The endpoints are plain functions, so FastAPI runs them in its thread pool: an answer
    (seconds with an LLM) never blocks the event loop, and the thread-safe pipeline serves
    several questions at once.
    """
    model_id = MODEL_PREFIX + pipeline.mode
    key = (api_key or "").strip().encode()

    def check_key(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if key and not (scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), key)):
            message = "Missing or wrong API key: send 'Authorization: Bearer <RAG_API_KEY>'."
            raise ApiError(401, message, code="invalid_api_key")

    app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(check_key)])
    app.add_middleware(BodyLimit, limit=body_limit(pipeline.settings.max_question_chars))

    @app.exception_handler(ApiError)
    def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.kind, exc.code)

    @app.exception_handler(QuestionError)
    def _question_error(request: Request, exc: QuestionError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(RagError)
    def _rag_error(request: Request, exc: RagError) -> JSONResponse:
        return _error(503, str(exc), "server_error")

    @app.exception_handler(RequestValidationError)
    def _bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return _error(400, f"Bad request body: {where or 'body'}: {first.get('msg', 'invalid')}.")

    @app.exception_handler(HTTPException)
    def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log (uvicorn logs it); the client gets one line.
        return _error(500, "Something went wrong on our side while answering; it has been logged.", "server_error")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "newsrag"}]}

    @app.post("/v1/chat/completions", response_model=None)
    def chat(body: ChatRequest) -> JSONResponse | StreamingResponse:
        question, history = split_messages(body.messages)
        answer = pipeline.ask(question, history=history)
        if body.stream:
            return StreamingResponse(chunks(answer, model_id), media_type="text/event-stream")
        return JSONResponse(completion(answer, model_id))

    return app


def run(app: FastAPI, sockets: list[socket.socket]) -> None:
    """Serve `app` on the sockets `listen` bound until Ctrl+C, which is the normal way to stop it."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
