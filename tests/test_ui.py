"""The web chat in a real browser (Playwright + Debian's Chromium) against a running `rag ui`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS, clean_env, free_port, wait_for_http

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "tests" / "screenshots"
pytestmark = pytest.mark.slow


def run_ui(env: dict[str, str], log: Path):
    """Start `rag ui` on a free loopback port; yields its URL, stops it afterwards."""
    port = free_port()
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
def app_url(index_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    env = clean_env(
        RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT), GRADIO_ANALYTICS_ENABLED="False"
    )
    yield from run_ui(env, tmp_path_factory.mktemp("ui") / "rag-ui.log")


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
    yield from open_page(browser, app_url, request)


def open_page(browser, app_url: str, request):
    """A fresh page on the chat; afterwards a screenshot, and no request may have left the app."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})  # where the issue 21 newcomer looked
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
    covered = page.evaluate(
        "() => { const r = document.querySelector('#chat .bubble-wrap').getBoundingClientRect(); "
        "return document.elementFromPoint(r.left + 30, r.top + 10).closest('.bubble-wrap') === null; }"
    )
    assert not covered, "nothing (such as the 'Chat' label) may cover the chat's first visible line"


def test_follow_up_uses_the_chat_history_and_shows_the_rewrite(page):
    ask(page, "How did Kaja Kallas describe Putin's behaviour?", "playing games")
    text = ask(page, "What is her job?", "foreign policy chief")
    assert "searched for:" in text and "Kallas" in text
    # The chat shows the start of the new answer (its question and answer line), not the bottom of its sources.
    page.wait_for_function(
        "() => { const wrap = document.querySelector('#chat .bubble-wrap'), box = wrap.getBoundingClientRect();"
        "const asked = [...wrap.querySelectorAll('.message-row.user-row')].pop().getBoundingClientRect();"
        "const line = [...wrap.querySelectorAll('.bot-row')].pop().querySelector('p').getBoundingClientRect();"
        "return wrap.scrollHeight > wrap.clientHeight + 100 && asked.top >= box.top && line.bottom <= box.bottom; }",
        timeout=5_000,
    )
    save_shot(page.screenshot(), "chat.png")


def test_unanswerable_question_gets_a_polite_refusal(page):
    text = ask(page, "How old is Vladimir Medinsky?", "The articles do not say")
    assert page.locator("#chat .sources:not(.closest)").count() == 0, "a refusal cites nothing"
    assert "Closest passages (they may not answer your question)" in text
    assert page.locator("#chat .closest mark").count() >= 1
    assert "Traceback" not in text


def test_errors_are_chat_messages_to_read_not_rate_and_a_long_question_is_echoed_short(page):
    text = ask(page, "   ", "Please type a question")
    assert "⚠" in text
    pasted = "Who said this? " + "The talks in Istanbul went on. " * 170 + "Who?"
    assert "is 5,289 characters long" in ask(page, pasted, "characters long")
    echo = page.locator("#chat .message-row.user-row").last.inner_text()
    assert len(echo) < 300 and echo.startswith("Who said this?") and echo.endswith("(5,289 characters)")
    assert page.locator("#chat button[aria-label='Copy message']:visible").count() >= 2
    assert page.locator("#chat button:is([aria-label='Like'], [aria-label='Dislike']):visible").count() == 0


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


# Adding articles and rating answers: a server of its own, over a private copy of the seeds.

LIGHTHOUSE = (
    "date 2025-06-03 Quillmere opens its new lighthouse\n\n"
    "QUILLMERE, June 3. The mayor of Quillmere, Ottoline Brackenridge, opened the town's new lighthouse on Tuesday."
    "\n\nThe lighthouse replaces a tower that storms destroyed in 1987, the mayor said.\n"
)
DOCS_SHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory):
    """`rag ui` on loopback (so uploads are on) over its own seeds copy, index and feedback file."""
    root = tmp_path_factory.mktemp("managed")
    shutil.copytree(SEEDS, root / "seeds")
    env = clean_env(
        RAG_SEEDS_DIR=str(root / "seeds"),
        RAG_INDEX_DIR=str(root / "index"),
        RAG_FEEDBACK_PATH=str(root / "feedback.jsonl"),
        PYTHONPATH=str(ROOT),
        GRADIO_ANALYTICS_ENABLED="False",
    )
    for url in run_ui(env, root / "rag-ui.log"):
        yield url, root, env


@pytest.fixture
def managed_page(browser, managed, request):
    yield from open_page(browser, managed[0], request)


def save_shot(image: bytes, name: str) -> None:
    for folder in (SHOTS, DOCS_SHOTS):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(image)


def keep_asking(url: str, stop: threading.Event, seen: list[tuple[str, str, str]]) -> None:
    """Ask questions the original articles answer until `stop`; every answer must stay right."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    items = list(QUESTIONS.items())
    while not stop.is_set():
        question, expected = items[len(seen) % len(items)]
        try:
            content = str(client.predict(question, [], [], "any", "any", 5, api_name="/ask")[1][-1]["content"])
        except Exception as exc:  # a failure is a result to report, not a crash of the thread
            content = f"{exc.__class__.__name__}: {exc}"
        seen.append((question, expected, content))


@pytest.mark.browser
def test_upload_an_article_then_ask_what_only_it_says_while_old_answers_keep_working(managed_page, managed):
    page, (url, root, _) = managed_page, managed
    question = "Who opened the new lighthouse in Quillmere?"
    assert "The articles do not say" in ask(page, question, "The articles do not say")
    page.click("#manage button.label-wrap")
    page.wait_for_selector("#upload input[type=file]", state="attached")
    stop, seen = threading.Event(), []
    asker = threading.Thread(target=keep_asking, args=(url, stop, seen), daemon=True)
    asker.start()
    try:
        started = time.monotonic()
        page.set_input_files(
            "#upload input[type=file]",
            files=[
                {"name": "lighthouse.txt", "mimeType": "text/plain", "buffer": LIGHTHOUSE.encode("utf-8")},
                {"name": "photo.txt", "mimeType": "text/plain", "buffer": b"\x89PNG\r\n\x1a\n\x00\x00IHDR"},
            ],
        )
        page.wait_for_function(
            "document.querySelector('#index-status')?.innerText.includes('Index updated')", timeout=10_000
        )
        text = ask(page, question, "Brackenridge")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        asker.join(30)
    print(f"upload to answered: {elapsed:.2f} s; {len(seen)} other answers meanwhile")
    assert elapsed < 10, f"the uploaded article answered only after {elapsed:.1f} s"
    assert "lighthouse.txt" in text
    assert (root / "seeds" / "lighthouse.txt").read_text(encoding="utf-8") == LIGHTHOUSE
    assert not (root / "seeds" / "photo.txt").exists()
    status = page.inner_text("#upload-status")
    assert "Added lighthouse.txt." in status and "Refused photo.txt: binary file." in status
    wrong = [(q, content[:200]) for q, expected, content in seen if expected not in content]
    assert seen and wrong == [], f"answers failed while the index was refreshed: {wrong[:3]}"
    page.wait_for_function("document.querySelector('#article-list')?.innerText.includes('lighthouse.txt')")
    listed = page.inner_text("#article-list")
    assert "Quillmere opens its new lighthouse" in listed
    assert "“Ukrainian and Russian officials met in Istanbul on…” (no headline: first words)" in listed
    page.locator("#manage").scroll_into_view_if_needed()
    save_shot(page.locator("#manage").screenshot(), "upload.png")

    choice, panel = page.locator("#remove-choice").bounding_box(), page.locator("#manage").bounding_box()
    assert choice and panel and choice["width"] > 0.8 * panel["width"], "the article's name must be readable"
    page.click("#remove-choice input")
    page.locator("ul[role='listbox'] li", has_text="Quillmere").first.click()
    page.click("#remove")
    page.wait_for_selector("#remove-question code")
    asked = page.inner_text("#remove-question")
    assert "Delete lighthouse.txt, “Quillmere opens its new lighthouse”" in asked, asked
    save_shot(page.locator("#manage").screenshot(), "remove.png")
    page.click("#remove-no")
    page.wait_for_selector("#remove-question", state="hidden")
    assert (root / "seeds" / "lighthouse.txt").exists(), "cancelled: the file stays"
    page.click("#remove")
    page.click("#remove-yes")
    page.wait_for_function("document.querySelector('#index-status')?.innerText.includes('1 removed')", timeout=10_000)
    assert not (root / "seeds" / "lighthouse.txt").exists()
    ask(page, question, "The articles do not say")

    page.reload()  # a page opened later shows the lists as they are, not the last refresh's news
    page.wait_for_selector("#question textarea")
    page.click("#manage button.label-wrap")
    page.wait_for_function("!document.querySelector('#article-list')?.innerText.includes('lighthouse')")
    page.wait_for_timeout(1500)  # the page's load event has run by now
    assert page.inner_text("#index-status").strip() == ""


FERRY = "BRIMLOW, June 4. The ferry captain, Evander Pollock, sailed the new ferry to Brimlow on Wednesday.\n"


@pytest.mark.browser
def test_an_article_dropped_into_the_folder_is_answered_within_10_s_and_the_page_says_so(managed_page, managed):
    page, (_, root, _) = managed_page, managed
    question = "Who sailed the new ferry to Brimlow?"
    assert "The articles do not say" in ask(page, question, "The articles do not say")
    before = page.inner_text("#header")
    dropped = root / "seeds" / "ferry.txt"
    try:
        started = time.monotonic()
        dropped.write_text(FERRY, encoding="utf-8")
        page.wait_for_function(
            "document.querySelector('#folder-status')?.innerText.includes('Index updated')", timeout=10_000
        )
        text = ask(page, question, "Pollock")
        elapsed = time.monotonic() - started
        print(f"dropped to answered: {elapsed:.2f} s")
        assert elapsed < 10, f"the dropped article answered only after {elapsed:.1f} s"
        assert "ferry.txt" in text
        line = page.inner_text("#folder-status")
        assert "The seeds folder changed (ferry.txt added). Index updated (1 added, 0 changed, 0 removed)" in line
        page.wait_for_function("([h]) => document.querySelector('#header')?.innerText !== h", arg=[before])
        save_shot(page.screenshot(clip={"x": 0, "y": 0, "width": 1366, "height": 140}), "watched.png")
    finally:
        dropped.unlink(missing_ok=True)
    page.wait_for_function(
        "document.querySelector('#folder-status')?.innerText.includes('ferry.txt removed). Index updated')",
        timeout=10_000,
    )
    assert page.inner_text("#header") == before
    ask(page, question, "The articles do not say")


@pytest.mark.browser
def test_thumbs_down_with_a_correction_becomes_a_gold_question(managed_page, managed, tmp_path):
    page, (_, root, env) = managed_page, managed
    question = "Who led Ukraine's delegation?"
    ask(page, question, "")  # offline, it answered "Medinsky" from 001, which never names Umerov (issue 21)
    page.locator("#chat button[aria-label='Dislike']").last.click()
    page.wait_for_selector("#feedback-box #correction textarea")
    page.fill("#correction textarea", "Rustem Umerov")
    box = page.locator("#chat").bounding_box()
    below = page.locator("#feedback-box").first.bounding_box()  # Gradio repeats a Group's id inside it
    assert box and below
    clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": below["y"] + below["height"] - box["y"]}
    save_shot(page.screenshot(clip=clip), "feedback.png")
    page.click("#send-feedback")
    page.wait_for_function("document.querySelector('#feedback-status')?.innerText.includes('Saved your correction')")
    lines = [json.loads(line) for line in (root / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(x["rating"], x["correction"]) for x in lines[-2:]] == [
        ("down", None),
        ("down", "Rustem Umerov"),
    ]
    assert lines[-1]["index_version"] and lines[-1]["citations"] and lines[-1]["mode"] == "offline"
    out = tmp_path / "feedback-gold.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "feedback", "export", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    from rag.evaluation.gold import load_gold

    (item,) = [i for i in load_gold(out, root / "seeds") if i.question == question]
    assert item.answers == ["Rustem Umerov"] and item.must_include == [["Rustem Umerov"]] and item.answerable
    naming = sorted(p.name for p in (root / "seeds").iterdir() if "Rustem Umerov" in p.read_text(encoding="utf-8"))
    assert item.sources == naming and "001_a39661892d0812d2.txt" not in naming, "the articles that name him"
