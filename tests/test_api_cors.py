"""CORS for `rag serve`: off by default; RAG_API_CORS_ORIGINS lets the pages of the origins it
names call the API from a browser, tested with a real Chromium page on another 127.0.0.1 origin."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import offline_pipeline, running

KEY = "test-key-cors-0123"
CHROMIUM = Path("/usr/bin/chromium")
PAGE = b"<!doctype html><title>another origin</title><p>A page of another app.</p>"
#: What the page runs: a POST with the key and a JSON body, which makes the browser send a preflight.
FETCH = """async ([url, key]) => {
  try {
    const response = await fetch(url + "/chat/completions", {
      method: "POST",
      headers: {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
      body: JSON.stringify({messages: [{role: "user", content: "Who headed the Russian delegation?"}]}),
    });
    return {status: response.status, body: await response.json()};
  } catch (error) {
    return {blocked: String(error)};
  }
}"""


def test_cors_origins_setting_reads_a_comma_list_and_refuses_what_is_not_an_origin(monkeypatch):
    from rag.errors import SettingsError
    from rag.settings import load_settings

    monkeypatch.setenv("RAG_API_CORS_ORIGINS", " http://localhost:3000, https://chat.example.org ")
    assert load_settings(_env_file=None).api_cors_origins == ["http://localhost:3000", "https://chat.example.org"]
    monkeypatch.setenv("RAG_API_CORS_ORIGINS", "")
    assert load_settings(_env_file=None).api_cors_origins == []
    for bad in ("localhost:3000", "http://localhost:3000/", "https://chat.example.org/app"):
        monkeypatch.setenv("RAG_API_CORS_ORIGINS", f"http://ok.example,{bad}")
        with pytest.raises(SettingsError) as caught:
            load_settings(_env_file=None)
        assert str(caught.value).startswith(f"Bad setting (RAG_API_CORS_ORIGINS: Value error, {bad!r} is not a web")
        assert "http://localhost:3000" in str(caught.value)


def test_without_the_setting_a_preflight_gets_no_cors_headers(index_dir):
    from rag.serve import build_app

    with running(build_app(offline_pipeline(index_dir))) as url:
        preflight = httpx.options(
            f"{url}/chat/completions",
            headers={"Origin": "http://127.0.0.1:9", "Access-Control-Request-Method": "POST"},
        )
    assert preflight.status_code == 405 and "access-control-allow-origin" not in preflight.headers


@pytest.fixture(scope="module")
def pages() -> Iterator[list[str]]:
    """Two origins serving an HTML page: 127.0.0.1 on two ports."""

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Page) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_page_of_an_allowed_origin_is_answered_and_another_origin_is_blocked(index_dir, pages):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from rag.serve import build_app

    allowed, other = pages
    app = build_app(offline_pipeline(index_dir, api_cors_origins=[allowed]), KEY)
    with running(app) as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            found = {}
            for origin in (allowed, other):
                page = browser.new_page()
                page.goto(origin + "/")
                found[origin] = page.evaluate(FETCH, [url, KEY])
                page.close()
        finally:
            browser.close()
        preflight = httpx.options(
            f"{url}/chat/completions",
            headers={
                "Origin": allowed,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-stainless-os",
            },
        )
    answered = found[allowed]
    assert answered["status"] == 200, json.dumps(answered)
    assert "Medinsky" in answered["body"]["choices"][0]["message"]["content"]
    assert "Failed to fetch" in found[other]["blocked"], found[other]
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == allowed
    assert "x-stainless-os" in preflight.headers["access-control-allow-headers"].lower(), "the openai JS client's"
    assert preflight.headers["access-control-max-age"] == "600"
