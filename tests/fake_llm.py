"""A scripted OpenAI-compatible server on 127.0.0.1, so the real `openai` client runs over HTTP.

Each request takes the next step of the script; a step is a function of the request body
returning a `Reply`. Requests (headers and bodies) are recorded for assertions.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server does with one request."""

    text: str = ""
    status: int = 200
    hang: float = 0.0
    garbage: bool = False
    chunk_words: int = 2
    #: Stream slices of this many characters instead of words (tags then split across deltas);
    #: a number at least the text's length sends the whole reply in one delta.
    chunk_chars: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    #: (prompt_tokens, completion_tokens) sent in a last chunk when the request asks for
    #: `stream_options.include_usage`; None: the server reports no usage.
    usage: tuple[int, int] | None = (321, 12)
    #: Answer 400 to a request that has `stream_options`, as a strict server might.
    refuses_stream_options: bool = False


Step = Callable[[dict[str, Any]], Reply]


def say(text: str) -> Step:
    return lambda body: Reply(text=text)


def passages_with(body: dict[str, Any], needle: str) -> list[int]:
    """The numbers of the passages in the prompt that contain `needle`, in order."""
    prompt = body["messages"][-1]["content"]
    found = re.findall(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', prompt, re.S)
    return [int(number) for number, text in found if needle in text]


def passage_with(body: dict[str, Any], needle: str) -> int:
    """The number of the first passage in the prompt that contains `needle`."""
    numbers = passages_with(body, needle)
    if not numbers:
        raise AssertionError(f"no passage contains {needle!r}")
    return numbers[0]


def send_json(
    handler: BaseHTTPRequestHandler, data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(data).encode()
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


class FakeLLM:
    def __init__(self) -> None:
        self.script: list[Step] = []
        self.requests: list[dict[str, Any]] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path.endswith("/embeddings"):
                    server.embeddings(self, body)
                    return
                step = server.script.pop(0) if server.script else say("NOT_IN_ARTICLES")
                server.respond(self, body, step(body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        # A short poll interval: shutdown() waits up to one interval, once per test.
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def respond(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], reply: Reply) -> None:
        if reply.hang:
            self.stop.wait(reply.hang)
        if reply.refuses_stream_options and "stream_options" in body:
            send_json(handler, {"error": {"message": "unknown field stream_options", "type": "invalid_request"}}, 400)
            return
        if reply.status != 200:
            send_json(
                handler, {"error": {"message": "scripted failure", "type": "server_error"}}, reply.status, reply.headers
            )
            return
        if reply.garbage:
            payload = b"{this is not json"
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream" if body.get("stream") else "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(b"data: {not json\n\n" if body.get("stream") else payload)
            return
        if body.get("stream"):
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.send_header("Connection", "close")
            handler.end_headers()
            for delta in self._deltas(reply):
                handler.wfile.write(self._chunk({"content": delta}, None))
                handler.wfile.flush()
            handler.wfile.write(self._chunk({}, "stop"))
            if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
                handler.wfile.write(self._usage_chunk(*reply.usage))
            handler.wfile.write(b"data: [DONE]\n\n")
            handler.wfile.flush()
            handler.close_connection = True
            return
        send_json(
            handler,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    @staticmethod
    def _deltas(reply: Reply) -> list[str]:
        """The reply cut into streamed pieces that join back to exactly `reply.text`."""
        if reply.chunk_chars:
            size = reply.chunk_chars
            return [reply.text[i : i + size] for i in range(0, len(reply.text), size)]
        words = reply.text.split(" ")
        pieces = [" ".join(words[i : i + reply.chunk_words]) for i in range(0, len(words), reply.chunk_words)]
        return [piece if i == 0 else " " + piece for i, piece in enumerate(pieces)]

    @staticmethod
    def embeddings(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        """Deterministic 16-dimensional vectors from word hashes (similar words, similar vectors)."""
        import hashlib

        data = []
        for i, text in enumerate(body["input"]):
            vector = [0.0] * 16
            for word in text.lower().split():
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 16] += 1.0
            data.append({"object": "embedding", "index": i, "embedding": vector})
        send_json(
            handler,
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )

    @staticmethod
    def _chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        data = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(data)}\n\n".encode()

    @staticmethod
    def _usage_chunk(prompt: int, completion: int) -> bytes:
        data = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "fake",
            "choices": [],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }
        return f"data: {json.dumps(data)}\n\n".encode()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
