"""The chat's controls, below the browser: filters, the answer handler's error paths, feedback, articles."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import gradio as gr
import pytest

from rag.feedback import feedback_file
from ui.app import Articles, _filter, build_app, can_manage, rate, respond, send_correction, show_article


def allowed(pipeline, *controls):
    return [a.source for a in pipeline.articles(_filter(*controls))]


def test_article_and_date_filters(pipeline):
    assert _filter([], "any", "any") is None
    assert allowed(pipeline, ["001_a39661892d0812d2.txt"], "any", "any") == ["001_a39661892d0812d2.txt"]
    assert allowed(pipeline, [], "2025-05-16", "any") == ["000_4ac1dad1d337df25.txt", "001_a39661892d0812d2.txt"]
    to_16 = allowed(pipeline, [], "any", "2025-05-16")
    assert "002_b62eaf8dc1d09b0d.txt" in to_16 and "003_f4afef2fd7492f2d.txt" not in to_16, "undated articles drop out"
    assert allowed(pipeline, ["002_b62eaf8dc1d09b0d.txt"], "2025-05-16", "any") == []


def last(generator):
    *_, final = generator
    return final


def test_respond_streams_into_the_chat_and_keeps_history(pipeline):
    _, chat, turns, citations, _, records = last(
        respond(pipeline, "How long did Friday's talks last?", [], [], [], "any", "any", 5)
    )
    assert chat[0] == {"role": "user", "content": "How long did Friday's talks last?"}
    assert "two hours" in chat[1]["content"] and '<ol class="sources">' in chat[1]["content"]
    assert turns[0][0] == "How long did Friday's talks last?" and citations
    assert '<mark id="cited-quote">' in show_article(pipeline, citations, 0)
    assert show_article(pipeline, citations, 99) == ""
    assert list(records) == ["1"] and records["1"]["index_version"] and records["1"]["history"] == []


def test_respond_turns_errors_into_chat_messages(pipeline):
    _, chat, *_ = last(respond(pipeline, "", [], [], [], "any", "any", 5))
    assert chat[-1]["content"] == '<p class="chat-error">⚠ Please type a question about the articles.</p>'
    _, chat, *_ = last(
        respond(pipeline, "Who led the talks?", [], [], ["002_b62eaf8dc1d09b0d.txt"], "2025-05-16", "any", 5)
    )
    assert "No article matches the chosen filters" in chat[-1]["content"] and "chat-error" in chat[-1]["content"]
    pasted = "Who said this? " + "The talks in Istanbul went on. " * 170 + "Who?"
    _, chat, turns, _, _, records = last(respond(pipeline, pasted, [], [], [], "any", "any", 5))
    echo = chat[-2]["content"]
    assert len(pasted) > 5000 and len(echo) <= 300 and echo.startswith("Who said this? The talks")
    assert echo.endswith(f"… ({len(pasted):,} characters)")
    assert f"is {len(pasted):,} characters long" in chat[-1]["content"]
    assert records == {} and turns == [], "an error is not an answer to rate or to follow up"


def test_search_limited_to_one_article_cites_only_it(pipeline):
    _, chat, _, citations, _, _ = last(
        respond(pipeline, "Who headed the Russian delegation?", [], [], ["001_a39661892d0812d2.txt"], "any", "any", 5)
    )
    assert citations and {c["source"] for c in citations} == {"001_a39661892d0812d2.txt"}
    assert "Vladimir Medinsky" in chat[-1]["content"]


def test_a_dislike_and_its_correction_are_two_lines_for_one_answer(make_settings, index_dir, tmp_path):
    from rag.pipeline import build_pipeline

    pipeline = build_pipeline(make_settings(index_dir=index_dir, feedback_path=tmp_path / "fb.jsonl"))
    *_, records = last(respond(pipeline, "Who headed the Russian delegation?", [], [], [], "any", "any", 5))
    assert rate(pipeline, records, 0, False) == (None, False, "There is no answer to rate in that message.")
    key, show, _ = rate(pipeline, records, 1, False)
    assert (key, show) == ("1", True)
    assert send_correction(pipeline, records, key, "Vladimir Medinsky")[0] == ""
    assert rate(pipeline, records, [1, 0], True)[1:] == (False, "Thanks for the feedback.")
    lines = [json.loads(line) for line in (tmp_path / "fb.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(x["rating"], x["correction"]) for x in lines] == [
        ("down", None),
        ("down", "Vladimir Medinsky"),
        ("up", None),
    ]
    assert len({x["answer_id"] for x in lines}) == 1 and lines[0]["question"] == "Who headed the Russian delegation?"
    assert feedback_file(pipeline.settings) == tmp_path / "fb.jsonl"


def test_feedback_that_cannot_be_saved_is_a_message_not_a_crash(make_settings, index_dir, tmp_path):
    from rag.pipeline import build_pipeline

    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")  # the feedback file's folder would have to be this file
    pipeline = build_pipeline(make_settings(index_dir=index_dir, feedback_path=blocked / "fb.jsonl"))
    *_, records = last(respond(pipeline, "Who headed the Russian delegation?", [], [], [], "any", "any", 5))
    key, show, status = rate(pipeline, records, 1, False)
    assert (key, show) == (None, False) and status.startswith("Could not save the feedback")
    assert "RAG_FEEDBACK_PATH" in status
    text, status = send_correction(pipeline, records, "1", "Vladimir Medinsky")
    assert text == "Vladimir Medinsky" and status.startswith("Could not save the feedback"), "the typed text is kept"


@pytest.mark.parametrize(
    ("host", "share", "auth", "allowed"),
    [
        ("127.0.0.1", False, False, True),
        ("localhost", False, False, True),
        ("::1", False, False, True),
        ("0.0.0.0", False, False, False),
        ("192.168.1.5", False, False, False),
        ("127.0.0.1", True, False, False),
        ("0.0.0.0", False, True, True),
        ("127.0.0.1", True, True, True),
    ],
)
def test_articles_are_managed_only_on_loopback_or_behind_a_login(host, share, auth, allowed):
    assert can_manage(host, share, auth) is allowed


def _ids(app: gr.Blocks) -> set[str]:
    return {getattr(block, "elem_id", None) for block in app.blocks.values()} - {None}


def test_upload_controls_exist_only_when_managing(pipeline):
    assert {"upload", "remove", "manage-off"} & _ids(build_app(pipeline)) == {"manage-off"}
    assert {"upload", "remove", "article-list"} <= _ids(build_app(pipeline, manage=True))


def wait_idle(panel: Articles, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while panel.job.status().running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not panel.job.status().running


def test_upload_then_remove_refreshes_the_index_in_the_background(make_settings, seeds, tmp_path):
    from rag.pipeline import build_pipeline

    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    pipeline.index()
    panel = Articles(pipeline)
    incoming = tmp_path / "gradio-upload" / "lighthouse.txt"
    incoming.parent.mkdir()
    incoming.write_text(
        "date 2025-06-03 QUILLMERE. The mayor of Quillmere, Ottoline Brackenridge, opened the new lighthouse.\n",
        encoding="utf-8",
    )
    status, cleared, _ = panel.upload([str(incoming)])
    assert "Added lighthouse.txt." in status and cleared is None and not incoming.exists()
    wait_idle(panel)
    shown, _, heading, listing, *_ = panel.tick([])
    assert "Index updated (1 added" in shown and "cite 6 articles" in heading
    assert (  # no headline in the file: its first words, marked as such, then the file
        "“QUILLMERE. The mayor of Quillmere, Ottoline Brackenridge, opened…”</strong> "
        '<span class="meta">(no headline: first words)</span><br><span class="meta">2025-06-03 · 2 sentences · '
        "<code>lighthouse.txt</code>" in listing
    )
    labels = dict((source, label) for label, source in panel.tick([])[4]["choices"])
    assert (
        labels["lighthouse.txt"] == "“QUILLMERE. The mayor of Quillmere, Ottoline Brackenridge, opened…” "
        "(no headline: first words, 2025-06-03)"
    )
    assert labels["003_f4afef2fd7492f2d.txt"].startswith("“Ukrainian and Russian officials met in Istanbul on…”")
    assert "Brackenridge" in pipeline.ask("Who opened the new lighthouse in Quillmere?").text
    box, question, awaiting, status = panel.confirm_remove("lighthouse.txt")
    assert box.visible and awaiting == "lighthouse.txt" and status == "" and (seeds / "lighthouse.txt").exists()
    assert "Delete <code>lighthouse.txt</code>, “QUILLMERE. The mayor" in question
    for unknown in (None, "", "../pyproject.toml"):
        box, question, awaiting, status = panel.confirm_remove(unknown)
        assert not box.visible and awaiting is None and "Choose an article to remove." in status
    assert "Removed lighthouse.txt." in panel.remove("lighthouse.txt")[0]
    wait_idle(panel)
    assert "1 removed" in panel.tick([])[0] and not (seeds / "lighthouse.txt").exists()
    reloaded = panel.opened([])
    assert reloaded[0] == "" and "cite 5 articles" in reloaded[2], "a page opened later: lists, no old news"
    assert "not an indexed article" in panel.remove("../pyproject.toml")[0]
    shutil.rmtree(tmp_path / "gradio-upload")
    assert Path(seeds).is_dir()


def test_the_folder_watchers_line_reaches_the_page_and_a_page_opened_later_shows_no_old_news(make_settings, tmp_path):
    import queue

    from rag.pipeline import build_pipeline
    from rag.watch import FolderWatcher, refresh_job

    from conftest import SEEDS

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS / "000_4ac1dad1d337df25.txt", seeds)
    pipeline = build_pipeline(make_settings(seeds_dir=seeds))
    pipeline.index()
    job, reports = refresh_job(pipeline), queue.Queue()
    watcher = FolderWatcher(pipeline, job, reports.put, quiet=0.2).start()
    try:
        assert watcher.ready.wait(60)
        panel = Articles(pipeline, job, watcher)
        assert panel.noticed(0) == (0, gr.update()), "no change: the page's progress timer is left alone"
        assert panel.tick([])[-1] == gr.update(value="", visible=False), "no line, and no gap, before any news"
        (seeds / "lighthouse.txt").write_text("QUILLMERE. Ottoline Brackenridge opened the lighthouse.\n", "utf-8")
        reports.get(timeout=60)
        seen, timer = panel.noticed(0)
        assert seen == watcher.changes == 2 and timer.active, "news: the page starts its progress timer"
        assert panel.noticed(seen) == (seen, gr.update())
        _, _, heading, *_, line = panel.tick([])
        assert "cite 2 articles" in heading and line["visible"]
        assert "The seeds folder changed (lighthouse.txt added). Index updated (1 added" in line["value"]
        assert panel.opened([])[-1] == gr.update(value="", visible=False), "a page opened later: no old news"
    finally:
        watcher.stop()


def test_examples_are_the_demos_for_the_demo_corpus_and_made_from_the_users_news_otherwise(tmp_path, monkeypatch):
    from rag.models import Chunk
    from ui.app import EXAMPLES, examples

    articles = [
        Chunk(id="a", source="a.html", text="x", start=0, end=1, title="Ferry capsizes", date="2024-03-12"),
        Chunk(id="b", source="b.txt", text="y", start=0, end=1, title=None, date="2024-03-09"),
    ]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").mkdir()
    assert examples(Path("seeds"), articles) == EXAMPLES
    assert examples(tmp_path / "news", articles) == [
        "What happened on 12 March 2024?",
        "Give me an overview of Ferry capsizes",
    ]
    assert examples(tmp_path / "news", [articles[1].model_copy(update={"date": None})]) == []
