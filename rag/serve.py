"""An OpenAI-compatible HTTP API over the pipeline (`rag serve`), so any OpenAI client or chat
front end (Open WebUI, LibreChat, the `openai` package, langchain-openai, litellm, `llm`) can ask
the articles.

Only what such clients need: `GET /v1/models` (one model, `newsrag-<mode>`), `GET
/v1/models/{id}`, and `POST /v1/chat/completions`, streamed or not. The answer text keeps its
`[n]` markers; where it came from is told three ways (`rag.api.sources`); `usage` is counted
(`rag.api.responses`); parameters it cannot honour are refused by name (`rag.api.requests`).
docs/api.md is the reference.

A stream carries the final, verified answer text, never the model's raw tokens: grounding
renumbers, moves and drops the model's markers (and may fall back to the offline answer), so
raw tokens would show `[n]` numbers that do not match `citations`, and a stream cannot take
back what it sent. Offline answers come in one piece anyway, so offline nothing is lost.

A request body over `body_limit` bytes is refused (413) from its Content-Length header before
a byte of it is read: parsing 20 MB of JSON takes a second of the server's time, and no
question the pipeline accepts needs more than a small part of that.

Browsers on other origins are let in only from the origins RAG_API_CORS_ORIGINS names
(none by default): otherwise any web page could ask a server on the visitor's machine.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.api import tokens
from rag.api.errors import ApiError, error_response
from rag.api.requests import ChatRequest, split_messages
from rag.api.responses import chunks, completion, reply
from rag.api.sources import ArticleLinks
from rag.errors import QuestionError, RagError
from rag.llm.usage import metered
from rag.pipeline import Pipeline

#: Model ids start with this, so the model is recognisable in a client's model picker.
MODEL_PREFIX = "newsrag-"
#: Room in a request body: this many messages, each as long as a question may be. Clients such as
#: Open WebUI send the whole conversation (and a system prompt) with every question.
MESSAGES_ROOM = 100
#: Bytes one character can take in a JSON body ("\u00e9" is six).
JSON_BYTES_PER_CHAR = 6
#: Seconds a browser may cache a CORS preflight answer.
CORS_MAX_AGE = 600
#: Asked once at start (`warm`): a name, a country, a date and a number, so that most of what
#: answering loads on first use is loaded.
WARM_QUESTION = "How many people did President Smith of the United States meet in Paris on Monday, May 5?"


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
            return error_response(411, "Send the request body with a Content-Length header, not chunked.")
        length = headers.get("content-length", "0")
        if length.isdigit() and int(length) > self.limit:
            message = f"Request body too large: {int(length):,} bytes; the limit is {self.limit:,}."
            return error_response(413, message)
        return None


def build_app(pipeline: Pipeline, api_key: str | None = None) -> FastAPI:
    """The API over one shared pipeline. With `api_key`, every request needs `Authorization: Bearer <key>`.

    The endpoints are plain functions, so FastAPI runs them in its thread pool: an answer
    (seconds with an LLM) never blocks the event loop, and the thread-safe pipeline serves
    several questions at once.
    """
    settings = pipeline.settings
    model_id = MODEL_PREFIX + pipeline.mode
    model = {"id": model_id, "object": "model", "created": 0, "owned_by": "newsrag"}
    key = (api_key or "").strip().encode()
    links = ArticleLinks(settings.seeds_dir)
    tokens.load()

    async def check_key(request: Request) -> None:  # async: no thread pool hop for a header check
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if key and not (scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), key)):
            message = "Missing or wrong API key: send 'Authorization: Bearer <RAG_API_KEY>'."
            raise ApiError(401, message, code="invalid_api_key")

    app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(check_key)])
    app.add_middleware(BodyLimit, limit=body_limit(settings.max_question_chars))
    if settings.api_cors_origins:
        # Added last, so it runs first: a preflight is answered before the body limit or the key
        # (a browser sends no Authorization header with it).
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            max_age=CORS_MAX_AGE,
        )

    @app.exception_handler(ApiError)
    def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(QuestionError)
    def _question_error(request: Request, exc: QuestionError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(RagError)
    def _rag_error(request: Request, exc: RagError) -> JSONResponse:
        return error_response(503, str(exc), "server_error")

    @app.exception_handler(RequestValidationError)
    def _bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"Bad request body: {where or 'body'}: {first.get('msg', 'invalid')}."
        return error_response(400, message, param=where or None)

    @app.exception_handler(HTTPException)
    def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log (uvicorn logs it); the client gets one line.
        message = "Something went wrong on our side while answering; it has been logged."
        return error_response(500, message, "server_error")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [model]}

    @app.get("/v1/models/{name:path}")
    def one_model(name: str) -> dict[str, Any]:
        if name != model_id:
            message = f"The model '{name}' does not exist; this server has one model, '{model_id}'."
            raise ApiError(404, message, code="model_not_found", param="model")
        return model

    @app.post("/v1/chat/completions", response_model=None)
    def chat(body: ChatRequest) -> JSONResponse | StreamingResponse:
        body.check_supported()
        question, history = split_messages(body.messages)
        with metered() as model_usage:
            answer = pipeline.ask(question, history=history)
        found = reply(answer, body, links, settings.api_sources_list, model_usage)
        if body.stream:
            events = sent(list(chunks(found, model_id, body.usage_in_stream())))
            return StreamingResponse(events, media_type="text/event-stream")
        return JSONResponse(completion(found, model_id))

    return app


async def sent(events: list[str]) -> AsyncIterator[str]:
    """The stream's events, written out already: from an async iterator Starlette sends them from
    the event loop, where a plain one costs a thread pool hop per event."""
    for event in events:
        yield event


def warm(pipeline: Pipeline) -> None:
    """Answer one question before serving any, so that what answering loads on first use (country
    names, lemma tables…) is loaded once, now. Left to the first requests, each of a burst of
    concurrent ones loaded it again (the caches take no lock): under 20 clients on 2 cores, a
    quarter of the server's time in a 10-second load went there. With an LLM only the retrieval
    is warmed: a question to the model at every start would cost time and money."""
    with contextlib.suppress(RagError):  # an empty index still loads what answering needs
        if pipeline.llm is None:
            pipeline.ask(WARM_QUESTION)
        else:
            pipeline.retrieve(WARM_QUESTION)


def run(app: FastAPI, sockets: list[socket.socket]) -> None:
    """Serve `app` on the sockets `listen` bound until Ctrl+C, which is the normal way to stop it."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
