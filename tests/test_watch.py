"""The watched seeds folder (`rag.watch`): what is dropped in, changed or removed there is answered
from (or no longer) after a background refresh, one refresh at a time, and nothing crashes it."""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import ROOT, SEEDS, clean_env, free_port, wait_for_http

LIGHTHOUSE = (
    "QUILLMERE, June 3. The mayor of Quillmere, Ottoline Brackenridge, opened the town's new lighthouse on Tuesday."
    "\n\nThe lighthouse replaces a tower that storms destroyed in 1987, the mayor said.\n"
)
QUESTION = "Who opened the new lighthouse in Quillmere?"
FERRY = "BRIMLOW, June 4. The ferry captain, Evander Pollock, sailed the new ferry to Brimlow on Wednesday.\n"
FERRY_QUESTION = "Who sailed the new ferry to Brimlow?"
REFUSED = "The articles do not say"
#: Answered by the one article the test folders start with.
KEPT_QUESTION = "Which Turkish minister did the Russian delegation meet?"
#: Quiet time of the watchers started here: long enough to group a burst of writes, short for a test.
QUIET = 0.2
#: Longest wait for a refresh's report: the first refresh in a test process loads the tagger.
REPORT_SECONDS = 60


@pytest.fixture
def pipeline(make_settings, tmp_path: Path):
    """A pipeline over a seeds folder of one article of our own, indexed."""
    from rag.pipeline import build_pipeline

    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEEDS / "000_4ac1dad1d337df25.txt", folder)
    built = build_pipeline(make_settings(seeds_dir=folder))
    built.index()
    return built


def watch(pipeline: Any, index: Any = None) -> tuple[Any, Any, queue.Queue[str]]:
    """A started watcher over `pipeline`'s folder (refreshing with `index`, else `pipeline.index`),
    its job and the queue of its reports, once it watches."""
    from rag.uploads import BackgroundIndex
    from rag.watch import FolderWatcher, refresh_job

    reports: queue.Queue[str] = queue.Queue()
    job = BackgroundIndex(index) if index else refresh_job(pipeline)
    watcher = FolderWatcher(pipeline, job, reports.put, quiet=QUIET).start()
    assert watcher.ready.wait(REPORT_SECONDS), "the watcher did not start"
    return watcher, job, reports


@pytest.fixture
def watched(pipeline) -> Iterator[tuple[Any, Any, queue.Queue[str]]]:
    started = watch(pipeline)
    yield started
    stop(started[0])


def stop(watcher: Any) -> None:
    watcher.stop()
    assert not watcher.running
    assert not [t for t in threading.enumerate() if t.name == "rag-watch"], "the watcher's thread is left"


def answer(pipeline: Any, question: str = QUESTION) -> Any:
    return pipeline.ask(question)


def test_a_dropped_article_is_answered_after_the_refresh_and_a_removed_ones_answers_go(pipeline, watched):
    watcher, _, reports = watched
    assert REFUSED in answer(pipeline).text
    (pipeline.seeds_dir / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    line = reports.get(timeout=REPORT_SECONDS)
    assert line.startswith("The seeds folder changed (lighthouse.txt added). Index updated (1 added, 0 changed"), line
    found = answer(pipeline)
    assert "Brackenridge" in found.text and [c.source for c in found.citations] == ["lighthouse.txt"]
    assert watcher.message() == line, "the chat's line says the same"

    (pipeline.seeds_dir / "lighthouse.txt").unlink()
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(lighthouse.txt removed). Index updated (0 added, 0 changed, 1 removed)" in line, line
    gone = answer(pipeline)
    assert REFUSED in gone.text and gone.citations == []


def settled(watcher: Any) -> int:
    """The watcher's count of changes noticed and refreshes ended, once it had the time to notice more."""
    time.sleep(QUIET * 4)
    return watcher.changes


def test_many_quick_writes_make_one_refresh_of_the_last_version(pipeline, watched):
    watcher, job, reports = watched
    path = pipeline.seeds_dir / "lighthouse.txt"
    for n in range(1, 31):  # a slow writer: more than the quiet time in all, never quiet that long
        path.write_text(f"Draft {n}.\n\n{LIGHTHOUSE if n == 30 else ''}", encoding="utf-8")
        time.sleep(QUIET / 10)
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(lighthouse.txt added). Index updated (1 added" in line, line
    assert settled(watcher) == 2 and job.status().runs == 1, "one change noticed, one refresh"
    assert "Brackenridge" in answer(pipeline).text


def test_a_change_during_a_refresh_waits_for_it_and_no_refresh_overlaps_another(pipeline):
    entered, release, lock = threading.Event(), threading.Event(), threading.Lock()
    active, most = [0], [0]

    def index(progress: Any) -> Any:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        entered.set()
        release.wait(REPORT_SECONDS)
        try:
            return pipeline.index(progress)
        finally:
            with lock:
                active[0] -= 1

    watcher, job, reports = watch(pipeline, index)
    try:
        (pipeline.seeds_dir / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        assert entered.wait(REPORT_SECONDS)
        (pipeline.seeds_dir / "ferry.txt").write_text(FERRY, encoding="utf-8")  # while the refresh runs
        assert REFUSED in answer(pipeline).text, "questions are answered meanwhile, from the published version"
        release.set()
        assert "lighthouse.txt added" in reports.get(timeout=REPORT_SECONDS)
        (pipeline.seeds_dir / "last.txt").write_text("LASTVILLE. Nothing else happened.\n", encoding="utf-8")
        while "last.txt added" not in (line := reports.get(timeout=REPORT_SECONDS)):
            assert "ferry.txt added" in line  # a second refresh for the ferry, if the first missed it
    finally:
        release.set()
        stop(watcher)
    assert most[0] == 1, "two refreshes ran at once"
    assert "Brackenridge" in answer(pipeline).text and "Pollock" in answer(pipeline, FERRY_QUESTION).text
    assert not job.status().running


def test_leaving_finishes_the_refresh_in_progress_and_says_how_it_ended(pipeline):
    from rag.uploads import BackgroundIndex
    from rag.watch import watching

    entered, release, said = threading.Event(), threading.Event(), []

    def index(progress: Any) -> Any:
        entered.set()
        release.wait(REPORT_SECONDS)
        return pipeline.index(progress)

    def report(line: str) -> None:
        said.append(line)
        if line.startswith("Finishing"):  # the way out has begun: let the refresh go on
            release.set()

    job = BackgroundIndex(index)
    with watching(pipeline, job, report) as watcher:
        assert watcher is not None and watcher.ready.wait(REPORT_SECONDS)
        (pipeline.seeds_dir / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        assert entered.wait(REPORT_SECONDS)
    assert not job.status().running and "rag-watch" not in [t.name for t in threading.enumerate()]
    assert said[0] == "Finishing the index refresh in progress (Ctrl+C again leaves it for the next start)…"
    assert said[1].startswith("Index updated (1 added") and len(said) == 2, said
    assert "Brackenridge" in answer(pipeline).text


def test_a_vanished_or_half_written_file_does_not_stop_the_watcher(pipeline, watched):
    watcher, _, reports = watched
    flash = pipeline.seeds_dir / "flash.txt"
    flash.write_text("Gone at once.\n", encoding="utf-8")
    flash.unlink()
    draft = pipeline.seeds_dir / "lighthouse.txt"
    first, rest = LIGHTHOUSE.split("\n\n", 1)
    with draft.open("w", encoding="utf-8") as out:  # the first paragraph, flushed, the writer not done
        out.write(first + "\n\n")
        out.flush()
        line = reports.get(timeout=REPORT_SECONDS)
        assert "lighthouse.txt added" in line and "flash.txt" not in line, line
        out.write(rest)
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(lighthouse.txt changed). Index updated (0 added, 1 changed" in line, line
    assert "Brackenridge" in answer(pipeline).text
    assert watcher.running


def test_an_export_of_many_articles_is_indexed_and_removed_as_one_file(pipeline, watched):
    watcher, _, reports = watched
    export = pipeline.seeds_dir / "wire.csv"
    export.write_text(
        "headline,published,body\n"
        f'Quillmere opens its lighthouse,2025-06-03,"{LIGHTHOUSE.strip()}"\n'
        f'Brimlow gets a ferry,2025-06-04,"{FERRY.strip()}"\n',
        encoding="utf-8",
    )
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(wire.csv added). Index updated (2 added" in line, line
    assert settled(watcher) == 2, "its articles (wire.csv#1, wire.csv#2) are the file's: nothing left to refresh"
    assert [c.source for c in answer(pipeline, FERRY_QUESTION).citations] == ["wire.csv#2"]
    export.unlink()
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(wire.csv removed). Index updated (0 added, 0 changed, 2 removed)" in line, line
    assert REFUSED in answer(pipeline, FERRY_QUESTION).text


def test_a_vanished_folder_is_reported_and_watched_again_when_it_is_back(pipeline, watched):
    watcher, _, reports = watched
    kept = pipeline.seeds_dir.parent / "kept"
    pipeline.seeds_dir.rename(kept)
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(000_4ac1dad1d337df25.txt removed). ⚠ The index was not updated: The articles folder" in line, line
    assert "does not exist" in line, line
    (kept / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    kept.rename(pipeline.seeds_dir)
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(lighthouse.txt added). Index updated (1 added, 0 changed, 0 removed)" in line, line
    assert "Brackenridge" in answer(pipeline).text and "Hakan Fidan" in answer(pipeline, KEPT_QUESTION).text
    assert watcher.running


def test_the_chats_own_upload_is_refreshed_once_and_keeps_its_line(pipeline, watched):
    from rag.uploads import save_uploads

    watcher, job, _ = watched
    incoming = pipeline.settings.index_dir.parent / "upload" / "lighthouse.txt"
    incoming.parent.mkdir()
    incoming.write_text(LIGHTHOUSE, encoding="utf-8")
    assert save_uploads(pipeline.seeds_dir, [("lighthouse.txt", incoming)]).saved == ["lighthouse.txt"]
    job.request()  # what the chat does after an upload
    deadline = time.monotonic() + REPORT_SECONDS
    while job.status().running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert settled(watcher) == 0, "the watcher saw the file, and that the upload's refresh took it in"
    status = job.status()
    assert status.runs == 1 and status.message.startswith("Index updated (1 added"), status


def test_what_changed_while_nothing_watched_is_indexed_at_start(pipeline):
    (pipeline.seeds_dir / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    (pipeline.seeds_dir / "000_4ac1dad1d337df25.txt").unlink()
    watcher, _, reports = watch(pipeline)
    try:
        line = reports.get(timeout=REPORT_SECONDS)
    finally:
        stop(watcher)
    assert "(000_4ac1dad1d337df25.txt removed, lighthouse.txt added)" in line, line
    assert "Brackenridge" in answer(pipeline).text


def test_hidden_files_such_as_uploads_being_written_or_an_index_in_the_folder_are_not_articles(make_settings, tmp_path):
    from rag.pipeline import build_pipeline

    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEEDS / "000_4ac1dad1d337df25.txt", folder)
    inside = build_pipeline(make_settings(seeds_dir=folder, index_dir=folder / ".index"))
    inside.index()
    watcher, job, reports = watch(inside)
    try:
        (folder / ".upload-1234.tmp").write_text(LIGHTHOUSE, encoding="utf-8")
        (folder / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        assert reports.get(timeout=REPORT_SECONDS).startswith("The seeds folder changed (lighthouse.txt added).")
        assert settled(watcher) == 2, "the refresh wrote into .index: no change of an article"
    finally:
        stop(watcher)
    assert job.status().runs == 1


def test_rag_watch_is_auto_on_or_off_and_any_other_value_fails_at_start(make_settings):
    from rag.errors import SettingsError

    server = {"chroma_host": "127.0.0.1"}
    assert make_settings().watching and make_settings(watch="on").watching
    assert not make_settings(watch="off").watching
    assert not make_settings(**server).watching, "with a Chroma server, rag index is the one writer"
    assert make_settings(watch="on", **server).watching
    with pytest.raises(SettingsError, match=r"RAG_WATCH: Input should be 'auto', 'on' or 'off'"):
        make_settings(watch="sometimes")


def test_a_refresh_waits_for_another_process_refreshing_the_same_index(pipeline, watched):
    from rag.index.store import IndexLock

    _, job, reports = watched
    with IndexLock(pipeline.settings):  # as `rag index`, or the other of `rag ui` and `rag serve`, would
        (pipeline.seeds_dir / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        deadline = time.monotonic() + REPORT_SECONDS
        while not job.status().running and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(QUIET)  # the refresh tries the lock meanwhile
        assert job.status().running and reports.empty()
    line = reports.get(timeout=REPORT_SECONDS)
    assert "(lighthouse.txt added). Index updated (1 added" in line, line


@pytest.mark.parametrize("setting", ["auto", "on", "off"])
def test_rag_serve_watches_only_when_on_and_leaves_no_watcher_behind(pipeline, monkeypatch, setting):
    """In-process, with the HTTP server replaced by a look at the threads while it would serve."""
    from click.testing import CliRunner

    import rag.cli
    import rag.serve

    seen: list[list[str]] = []

    def run(app: Any, sockets: list[Any]) -> None:
        seen.append([t.name for t in threading.enumerate()])
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(rag.cli, "_serving_pipeline", lambda settings, threads: pipeline)
    monkeypatch.setattr(rag.serve, "run", run)
    env = {"RAG_SEEDS_DIR": str(pipeline.seeds_dir), "RAG_INDEX_DIR": str(pipeline.settings.index_dir)}
    args = ["serve", "--port", str(free_port()), "--workers", "1"]  # the app in this process, where `run` is replaced
    result = CliRunner().invoke(rag.cli.main, args, env={**env, "RAG_WATCH": setting})
    assert result.exit_code == 0, result.output
    assert ("rag-watch" in seen[0]) == (setting != "off")
    assert ("Watching" in result.output) == (setting != "off")
    assert "rag-watch" not in [t.name for t in threading.enumerate()]
    bad = CliRunner().invoke(rag.cli.main, ["serve"], env={**env, "RAG_WATCH": "yes"})
    assert bad.exit_code == 2 and "RAG_WATCH" in bad.output


def lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def next_line(found: queue.Queue[str], wanted: str, seen: list[str]) -> str:
    """The next line holding `wanted`; the lines passed on the way go to `seen`."""
    while True:
        try:
            line = found.get(timeout=REPORT_SECONDS)
        except queue.Empty:
            pytest.fail(f"no line with {wanted!r} after {REPORT_SECONDS} s; got:\n{''.join(seen)}")
        seen.append(line)
        if wanted in line:
            return line


@pytest.mark.slow
def test_rag_serve_answers_from_a_dropped_article_and_stops_cleanly_on_ctrl_c(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEEDS / "000_4ac1dad1d337df25.txt", folder)
    port = free_port()
    env = clean_env(
        RAG_SEEDS_DIR=str(folder), RAG_INDEX_DIR=str(tmp_path / "index"), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    readers = [
        threading.Thread(target=lines, args=(s, q), daemon=True) for s, q in ((proc.stdout, out), (proc.stderr, err))
    ]
    for reader in readers:
        reader.start()
    said: list[str] = []
    url = f"http://127.0.0.1:{port}/v1/chat/completions"

    def ask(question: str) -> str:
        body = {"model": "newsrag-offline", "messages": [{"role": "user", "content": question}]}
        return httpx.post(url, json=body, timeout=60).json()["choices"][0]["message"]["content"]

    try:
        next_line(out, f"Watching {folder}", said)
        wait_for_http(f"http://127.0.0.1:{port}/v1/models", proc, 60, "rag serve")
        assert REFUSED in ask(QUESTION)
        stop, kept = threading.Event(), []

        def keep_asking() -> None:  # while the refresh runs: every answer from the published version
            while not stop.is_set():
                try:
                    kept.append(ask(KEPT_QUESTION))
                except Exception as exc:  # a failure is a result to report, not a crash of the thread
                    kept.append(f"{exc.__class__.__name__}: {exc}")

        asker = threading.Thread(target=keep_asking, daemon=True)
        asker.start()
        try:
            (folder / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
            next_line(err, "(lighthouse.txt added). Index updated (1 added", said)
        finally:
            stop.set()
            asker.join(60)
        wrong = [answer[:200] for answer in kept if "Hakan Fidan" not in answer]
        assert kept and wrong == [], f"answers failed while the index was refreshed: {wrong[:3]}"
        assert "Brackenridge" in ask(QUESTION)
        (folder / "lighthouse.txt").unlink()
        next_line(err, "(lighthouse.txt removed). Index updated", said)
        assert REFUSED in ask(QUESTION)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        for reader in readers:
            reader.join(10)
    rest = "".join(said) + "".join(err.queue)
    assert code == 0 and "Traceback" not in rest, rest
