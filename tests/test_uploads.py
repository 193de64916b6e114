"""Adding articles from the chat: hostile names and files are refused, nothing lands outside the seeds folder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from rag.index.ingest import MAX_FILE_BYTES, scan_folder
from rag.uploads import MAX_FILES, BackgroundIndex, describe, remove_article, safe_name, save_uploads

ARTICLE = "Quillmere, June 3. The mayor, Ottoline Brackenridge, opened the new lighthouse on Tuesday.\n"


def snapshot_tree(root: Path) -> set[str]:
    """Every path under `root` (the whole sandbox), to prove nothing was written elsewhere."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture
def sandbox(tmp_path: Path):
    """A seeds folder inside a sandbox, and a separate folder holding the 'uploaded' files."""
    seeds = tmp_path / "box" / "seeds"
    seeds.mkdir(parents=True)
    incoming = tmp_path / "incoming"
    incoming.mkdir()

    def upload(content: bytes | str = ARTICLE, name: str = "up.bin") -> Path:
        path = incoming / f"{len(list(incoming.iterdir()))}-{name}"
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return seeds, upload


@pytest.mark.parametrize(
    ("original", "stored"),
    [
        ("article.txt", "article.txt"),
        ("../../x.txt", "x.txt"),
        ("..\\..\\windows\\x.TXT", "x.txt"),
        ("/etc/passwd", None),
        ("/etc/passwd.txt", "passwd.txt"),
        (".bashrc.txt", "bashrc.txt"),
        ("a\x00b.txt", "a_b.txt"),
        ("line\nbreak\r\t.txt", "line_break.txt"),
        ("café – résumé.md", "cafe_resume.md"),
        ("notes.md", "notes.md"),
        ("Saved Page.HTML", "Saved_Page.html"),
        ("story.htm", "story.htm"),
        ("x.txt.exe", None),
        ("..txt", None),
        ("....", None),
        ("", None),
        ("a" * 500 + ".txt", "a" * 80 + ".txt"),
    ],
)
def test_safe_name_keeps_a_plain_base_name_or_refuses(original, stored):
    assert safe_name(original) == stored
    if stored:
        assert "/" not in stored and "\\" not in stored and not stored.startswith(".")


def test_good_upload_is_saved_in_the_seeds_folder_and_indexable(sandbox):
    seeds, upload = sandbox
    report = save_uploads(seeds, [("lighthouse.txt", upload())])
    assert report.saved == ["lighthouse.txt"] and report.refused == []
    assert (seeds / "lighthouse.txt").read_text(encoding="utf-8") == ARTICLE
    assert [f.name for f in scan_folder(seeds).files] == ["lighthouse.txt"], "rag index takes what the chat took"
    assert report.lines == ["Added lighthouse.txt."]


def test_hostile_names_never_write_outside_the_seeds_folder(sandbox, tmp_path):
    seeds, upload = sandbox
    before = snapshot_tree(tmp_path / "box")
    names = ["../../x.txt", "/etc/passwd", "..\\evil.txt", "a\x00b.txt", "ctl\x1b[31m.txt", "/tmp/../../root.txt"]
    report = save_uploads(seeds, [(n, upload()) for n in names])
    added = snapshot_tree(tmp_path / "box") - before
    assert added == {f"seeds/{name}" for name in report.saved}, "only new files directly in seeds/"
    assert report.refused[0][0] == "/etc/passwd" and "must end in .txt, .md, .html, .htm" in report.refused[0][1]
    assert "a_b.txt" in report.saved and "ctl_31m.txt" in report.saved
    assert not Path("/etc/passwd.txt").exists() and not (tmp_path / "x.txt").exists()
    assert any("\\x00" in line for line in report.lines), "control characters are shown, not echoed raw"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("Déjà vu, en français.".encode("latin-1"), "not UTF-8 text"),
        (b"", "empty"),
        (b"  \n\t\n", "empty"),
    ],
)
def test_files_rag_index_would_skip_are_refused_with_its_reason(sandbox, content, reason):
    seeds, upload = sandbox
    report = save_uploads(seeds, [("looks-fine.txt", upload(content))])
    assert report.saved == [] and reason in report.refused[0][1]
    assert list(seeds.iterdir()) == []


def test_a_50_mb_file_is_refused_without_being_read(sandbox):
    seeds, upload = sandbox
    big = upload(b"")
    with big.open("r+b") as f:
        f.truncate(50_000_000)  # sparse: no 50 MB written to the test disk
    report = save_uploads(seeds, [("big.txt", big)])
    assert report.saved == [] and "too large" in report.refused[0][1]
    assert f"{MAX_FILE_BYTES:,}" in report.refused[0][1]
    assert list(seeds.iterdir()) == []


def test_a_thousand_files_at_once_are_refused_as_a_batch(sandbox):
    seeds, upload = sandbox
    one = upload()
    report = save_uploads(seeds, [(f"a{i}.txt", one) for i in range(1000)])
    assert report.saved == [] and report.lines == [
        f"Refused 1,000 files: too many files in one upload (at most {MAX_FILES}); add them in batches."
    ]
    assert list(seeds.iterdir()) == []


def test_an_existing_name_is_never_overwritten(sandbox):
    seeds, upload = sandbox
    (seeds / "a.txt").write_text("Original text.\n", encoding="utf-8")
    same = save_uploads(seeds, [("a.txt", upload("Original text.\n"))])
    assert same.saved == [] and "already in the folder as a.txt" in same.refused[0][1]
    other = save_uploads(seeds, [("a.txt", upload()), ("a.txt", upload("Third text.\n"))])
    assert other.saved == ["a-2.txt", "a-3.txt"]
    assert other.lines[0] == "Added a-2.txt (a.txt already exists with different text)."
    assert (seeds / "a.txt").read_text(encoding="utf-8") == "Original text.\n"
    assert [p.name for p in seeds.iterdir() if p.name.startswith(".")] == [], "no temporary file left behind"


def test_a_symlink_in_the_way_is_not_followed(sandbox, tmp_path):
    seeds, upload = sandbox
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (seeds / "a.txt").symlink_to(victim)
    report = save_uploads(seeds, [("a.txt", upload())])
    assert report.saved == ["a-2.txt"] and victim.read_text(encoding="utf-8") == "keep me"


def test_remove_deletes_only_indexed_files_inside_the_folder(sandbox, tmp_path):
    seeds, _ = sandbox
    (seeds / "a.txt").write_text(ARTICLE, encoding="utf-8")
    outside = tmp_path / "box" / "secret.txt"
    outside.write_text("x", encoding="utf-8")
    assert remove_article(seeds, "../secret.txt", ["a.txt"]) == "../secret.txt is not an indexed article."
    assert remove_article(seeds, "../secret.txt", ["../secret.txt"]).endswith("is not a file in the seeds folder.")
    assert outside.exists()
    assert remove_article(seeds, "a.txt", ["a.txt"]) == "Removed a.txt."
    assert not (seeds / "a.txt").exists()


class FakeSummary:
    added, changed, removed, skipped = ["n.txt"], [], [], [("junk.bin", "binary file")]
    modified, chunks, seconds = True, 42, 0.5


def test_background_index_reports_progress_and_coalesces_requests():
    gate, calls = threading.Event(), []

    def index(progress):
        calls.append(1)
        progress(1, 2)
        gate.wait(5)
        return FakeSummary()

    job = BackgroundIndex(index)
    job.request()
    deadline = time.monotonic() + 5
    while job.status().done != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.status().running and "embedded 1 of 2" in job.status().message
    job.request()
    job.request()  # two requests while running: exactly one more run
    gate.set()
    while job.status().running and time.monotonic() < deadline:
        time.sleep(0.01)
    status = job.status()
    assert len(calls) == 2 and status.runs == 1 and not status.running
    assert status.message == describe(FakeSummary())
    assert "1 added" in status.message and "Skipped junk.bin: binary file" in status.message


def test_background_index_failure_is_a_message():
    def index(progress):
        raise RuntimeError("disk full")

    job = BackgroundIndex(index)
    job.request()
    deadline = time.monotonic() + 5
    while job.status().running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.status().message == "⚠ The index was not updated: disk full"
