"""The web chat in a real browser (Playwright + Debian's Chromium) against a running `rag ui`."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS, clean_env, free_port, wait_for_http

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "tests" / "screenshots"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_url(index_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    env = clean_env(
        RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT), GRADIO_ANALYTICS_ENABLED="False"
    )
    log = tmp_path_factory.mktemp("ui") / "rag-ui.log"
    with log.open("w") as out:  # a file, not a pipe nobody drains while the tests run
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "ui", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}/"
    wait_for_http(url, proc, 90, "rag ui", log)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url, request):
    context = browser.new_context(viewport={"width": 1300, "height": 950})
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((app_url.rstrip("/"), "data:", "blob:")) else None,
    )
    page.goto(app_url)
    page.wait_for_selector("#question textarea")
    yield page
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert outside == [], f"the page fetched assets from outside: {outside[:3]}"


def ask(page, question: str, expect: str) -> str:
    """Type, press Enter, and wait until the new answer is complete and contains `expect`."""
    before = page.locator("#chat .message").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        "([n, e]) => { const m = document.querySelectorAll('#chat .message'); if (m.length < n + 2) return false; "
        "const last = m[m.length - 1]; return last.innerText.includes(e) && "
        "(last.querySelector('.meta') !== null || last.innerText.includes('⚠')); }",
        arg=[before, expect],
        timeout=30_000,
    )
    messages = page.locator("#chat .message")
    return messages.nth(messages.count() - 1).inner_text()


def test_question_with_enter_shows_answer_cited_file_and_mode(page):
    assert "offline: quoted from the articles" in page.inner_text("#header")
    text = ask(page, "Which Turkish minister did the Russian delegation meet?", "Hakan Fidan")
    page.wait_for_selector("#chat .sources")
    assert "000_4ac1dad1d337df25.txt" in page.inner_text("#chat .sources")
    assert "2025-05-16" in text and "offline: quoted from the articles" in text
    assert page.locator("#chat .sources mark").count() >= 1


def test_follow_up_uses_the_chat_history_and_shows_the_rewrite(page):
    ask(page, "How did Kaja Kallas describe Putin's behaviour?", "playing games")
    text = ask(page, "What is her job?", "foreign policy chief")
    assert "searched for:" in text and "Kallas" in text


def test_unanswerable_question_gets_a_polite_refusal(page):
    text = ask(page, "How old is Vladimir Medinsky?", "The articles do not say")
    assert page.locator("#chat .sources:not(.closest)").count() == 0, "a refusal cites nothing"
    assert "Closest passages (they may not answer your question)" in text
    assert page.locator("#chat .closest mark").count() >= 1
    assert "Traceback" not in text


def test_blank_question_is_a_chat_message_not_an_error_page(page):
    text = ask(page, "   ", "Please type a question")
    assert "⚠" in text


def test_open_a_cited_article_with_the_quote_highlighted(page):
    ask(page, "How long did Friday's talks last?", "two hours")
    page.click("#picker input")
    page.locator("ul[role='listbox'] li").first.click()
    page.wait_for_selector("#article mark#cited-quote")
    assert "two hours" in page.inner_text("#article mark#cited-quote")
    assert len(page.inner_text("#article .article-body")) > 2000


def test_clear_chat_empties_the_conversation(page):
    ask(page, "Who is the Kremlin spokesman?", "Peskov")
    page.click("#clear")
    page.wait_for_function("document.querySelectorAll('#chat .message').length === 0")


QUESTIONS = {
    "Which Turkish minister did the Russian delegation meet on Thursday evening?": "Fidan",
    "How long did Friday's talks last?": "two hours",
    "How many Ukrainian civilians have been killed, according to the UN?": "12,000",
    "Which NATO chief said Putin made a mistake?": "Rutte",
    "What did Kaja Kallas say about Putin?": "playing games",
    "Where did Putin and Zelensky meet in 2019?": "Paris",
    "Which town's atrocities are mentioned?": "Bucha",
    "Who heads Ukraine's presidential office?": "Yermak",
    "What will the EU's new sanctions package target?": "shadow fleet",
    "Which news agency reported Medinsky's remarks?": "Xinhua",
}


def test_ten_chats_at_once_each_get_their_own_answer(app_url):
    from gradio_client import Client

    def one(item):
        question, expected = item
        client = Client(app_url, verbose=False)
        result = client.predict(question, [], [], "any", "any", 5, api_name="/ask")
        return question, expected, result[1][-1]["content"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, QUESTIONS.items()))
    for question, expected, content in results:
        text = content if isinstance(content, str) else str(content)
        assert expected in text, question


@pytest.mark.parametrize(
    "path",
    [
        "gradio_api/file=../../../../etc/passwd",
        "gradio_api/file=/etc/passwd",
        "file=/etc/passwd",
        "gradio_api/file=seeds/../pyproject.toml",
        "gradio_api/file=" + str(SEEDS / "000_4ac1dad1d337df25.txt"),
    ],
)
def test_no_file_outside_the_app_is_served(app_url, path):
    try:
        with urllib.request.urlopen(app_url + path, timeout=10) as reply:
            body = reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        assert exc.code in (403, 404, 400)
        return
    assert "root:" not in body and "[project]" not in body and "TASS" not in body
