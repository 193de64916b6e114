"""The `rag` command as a user runs it: real subprocesses, exit codes and output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEEDS, clean_env, free_port

pytestmark = pytest.mark.slow


def rag(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(index_dir: Path) -> dict[str, str]:
    return clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(SEEDS.parent))


def test_ask_prints_answer_then_numbered_sources(env, tmp_path):
    result = rag("ask", "Which Turkish minister did the Russian delegation meet?", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\nSources:\n")
    assert "Hakan Fidan" in answer and "[1]" in answer
    assert sources.startswith("[1] 000_4ac1dad1d337df25.txt, 2025-05-16")
    assert "“" in sources


def test_ask_json_is_the_answer_model(env, tmp_path):
    result = rag("ask", "--json", "How long did Friday's talks last?", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"text", "citations", "refused", "mode", "query"}
    citation = data["citations"][0]
    raw = (SEEDS / citation["source"]).read_text(encoding="utf-8")
    assert raw[citation["start"] : citation["end"]] == citation["quote"]


@pytest.mark.parametrize("question", ["", "   "])
def test_bad_question_exits_2_with_one_line(env, tmp_path, question):
    result = rag("ask", question, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: Please type a question about the articles."
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["ask", "Who met?"], ["index"]])
def test_a_missing_articles_folder_exits_2_naming_the_setting(env, tmp_path, command):
    missing = {"RAG_SEEDS_DIR": str(tmp_path / "no-such-folder"), "RAG_INDEX_DIR": str(tmp_path / "new-index")}
    result = rag(*command, env={**env, **missing}, cwd=tmp_path)
    assert result.returncode == 2
    assert "no-such-folder does not exist: set RAG_SEEDS_DIR" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    (tmp_path / "a-file.txt").write_text("not a folder", encoding="utf-8")
    result = rag(*command, env={**env, **missing, "RAG_SEEDS_DIR": str(tmp_path / "a-file.txt")}, cwd=tmp_path)
    assert result.returncode == 2 and "a-file.txt is a file, not a folder" in result.stderr


def test_a_damaged_or_unusable_index_folder_is_one_line_saying_what_to_do(env, tmp_path, index_dir):
    damaged = tmp_path / "damaged"
    shutil.copytree(index_dir, damaged)
    (damaged / "chroma.sqlite3").write_bytes(b"not a database at all" * 10)
    result = rag("ask", "Who met?", env={**env, "RAG_INDEX_DIR": str(damaged)}, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is damaged; delete that folder and run `rag index`" in result.stderr

    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    result = rag("ask", "Who met?", env={**env, "RAG_INDEX_DIR": str(a_file)}, cwd=tmp_path)
    assert result.returncode == 2 and "RAG_INDEX_DIR" in result.stderr and "Traceback" not in result.stderr


def test_bad_setting_exits_2_naming_the_variable(env, tmp_path):
    result = rag("ask", "Who?", env={**env, "RAG_TOP_K": "lots"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "RAG_TOP_K" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_index_summary_names_skipped_files_and_exits_0(env, tmp_path, seeds):
    (seeds / "empty.txt").write_text("", encoding="utf-8")
    (seeds / "photo.jpg").write_bytes(b"\xff\xd8\x00\x00")
    env = {**env, "RAG_SEEDS_DIR": str(seeds), "RAG_INDEX_DIR": str(tmp_path / "idx")}
    result = rag("index", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Indexed 5 files (5 new" in result.stdout
    assert re.search(r"in [\d.]+ s, [\d,]+ sentences/s \(", result.stdout), "the summary says the throughput"
    assert "Skipped empty.txt: empty" in result.stdout
    assert "Skipped photo.jpg: binary file" in result.stdout
    again = rag("index", env=env, cwd=tmp_path)
    assert "Index is up to date: 5 files" in again.stdout
    assert "Left out of the article bodies: 11 lines" in again.stdout and "--verbose" in again.stdout
    listed = rag("index", "--verbose", env=env, cwd=tmp_path)
    assert "Left out of 002_b62eaf8dc1d09b0d.txt (related articles): Related article:" in listed.stdout
    assert "Left out of 000_4ac1dad1d337df25.txt (heading): Kiev’s response" in listed.stdout
    assert "Nothing of" not in listed.stdout


@pytest.mark.parametrize(
    ("part", "code", "message"),
    [
        ("3/2", 2, "--part takes K/N with 1 <= K <= N"),
        ("half", 2, "--part takes K/N"),
        ("1/2", 2, "needs a Chroma server"),  # embedded mode: no server the machines could share
    ],
)
def test_index_part_refuses_bad_values_and_embedded_mode(env, tmp_path, part, code, message):
    result = rag("index", "--part", part, env=env, cwd=tmp_path)
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_index_of_a_folder_without_articles_says_so(env, tmp_path):
    empty = tmp_path / "news"
    empty.mkdir()
    (empty / ".DS_Store").write_bytes(b"\x00")
    result = rag("index", env={**env, "RAG_SEEDS_DIR": str(empty), "RAG_INDEX_DIR": str(tmp_path / "i")}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"No article files in {empty}: every question will be refused" in result.stdout


def test_index_names_a_file_of_which_nothing_is_left(env, tmp_path, seeds):
    (seeds / "captions.txt").write_text("Crews were out overnight (Jane Doe/AP)\nRelated article: Storms\n", "utf-8")
    env = {**env, "RAG_SEEDS_DIR": str(seeds), "RAG_INDEX_DIR": str(tmp_path / "idx")}
    result = rag("index", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Nothing of captions.txt was indexed: every line was left out" in result.stdout


def test_ask_with_no_network_at_all(env, tmp_path):
    """Offline-first: a whole ask works in a network namespace with no interfaces up."""
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare --net needs root here")
    result = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "rag.cli", "ask", "Who headed the Russian delegation?"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Medinsky" in result.stdout


@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--host", "192.168.1.10"], ["--host", "::"], ["--share"]])
def test_ui_open_to_other_machines_refuses_without_a_password(env, tmp_path, args):
    env = {**env, "RAG_INDEX_DIR": str(tmp_path / "never-built")}
    result = rag("ui", *args, env=env, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and "RAG_UI_PASSWORD" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "never-built").exists(), "it refused before building anything"


@pytest.mark.parametrize(
    ("args", "extra", "auth"),
    [
        (["--host", "0.0.0.0"], {"RAG_UI_PASSWORD": "pw"}, ("rag", "pw")),
        (["--host", "0.0.0.0"], {"RAG_UI_PASSWORD": "pw", "RAG_UI_USER": "ana"}, ("ana", "pw")),
        (["--host", "localhost"], {}, None),
        ([], {}, None),
        ([], {"RAG_UI_PASSWORD": "pw"}, ("rag", "pw")),
    ],
)
def test_ui_passes_the_password_to_gradio_auth(monkeypatch, args, extra, auth):
    """In-process with a stand-in for the Gradio app, so no server starts."""
    from click.testing import CliRunner

    import rag.cli

    launched = fake_launch(monkeypatch)
    result = CliRunner().invoke(rag.cli.main, ["ui", *args], env={"RAG_UI_PORT": str(free_port()), **extra})
    assert result.exit_code == 0, result.output
    assert len(launched) == 1 and launched[0].get("auth") == auth


def fake_launch(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """A stand-in for the Gradio app that records how `rag ui` launched it, so no server starts."""
    import types

    import rag.cli

    launched: list[dict] = []
    fake_app = types.ModuleType("ui.app")
    fake_app.launch = lambda pipeline, **kwargs: launched.append(kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ui.app", fake_app)
    monkeypatch.setattr(rag.cli, "_pipeline", lambda: types.SimpleNamespace(mode="offline"))
    return launched


def test_ui_address_comes_from_flags_then_settings_then_loopback_7860(monkeypatch):
    from click.testing import CliRunner

    import rag.cli

    launched = fake_launch(monkeypatch)
    flag, setting = free_port(), free_port()
    runs = [
        (["--port", str(flag)], {"RAG_UI_PORT": str(setting), "RAG_UI_HOST": "localhost"}),
        ([], {"RAG_UI_PORT": str(setting), "RAG_UI_HOST": "localhost"}),
        (["--host", "127.0.0.1"], {"RAG_UI_PORT": str(setting), "RAG_UI_HOST": "0.0.0.0"}),
    ]
    for args, env in runs:
        result = CliRunner().invoke(rag.cli.main, ["ui", *args], env=env)
        assert result.exit_code == 0, result.output
    assert [(x["host"], x["port"]) for x in launched] == [
        ("localhost", flag),
        ("localhost", setting),
        ("127.0.0.1", setting),
    ]
    assert "RAG_UI_PORT" in CliRunner().invoke(rag.cli.main, ["ui", "--help"]).output
    from rag.settings import Settings

    defaults = Settings.model_fields
    assert (defaults["ui_host"].default, defaults["ui_port"].default) == ("127.0.0.1", 7860)


def test_ui_on_a_port_in_use_or_a_bad_port_setting_says_how_to_choose_another(env, tmp_path):
    import socket

    env = {**env, "RAG_INDEX_DIR": str(tmp_path / "never-built")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = rag("ui", env={**env, "RAG_UI_PORT": str(port)}, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        f"Error: Port {port} is already in use on 127.0.0.1: stop what is using it, "
        "or choose another with --port, RAG_UI_PORT or `make run PORT=…`."
    )
    assert not (tmp_path / "never-built").exists(), "it refused before building anything"
    for bad in ("abc", "0", "70000"):
        result = rag("ui", env={**env, "RAG_UI_PORT": bad}, cwd=tmp_path)
        assert result.returncode == 2 and "RAG_UI_PORT" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_make_run_passes_port_and_host_to_rag_ui(tmp_path):
    """`make -n` prints the commands without running them (the install steps, if any, and the index)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    chosen = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "PORT=8123", "HOST=127.0.0.2"],
        cwd=SEEDS.parent,
        capture_output=True,
        text=True,
    )
    plain = subprocess.run(
        ["make", "--no-print-directory", "-n", "run"], cwd=SEEDS.parent, capture_output=True, text=True
    )
    assert chosen.returncode == 0 and plain.returncode == 0, chosen.stderr + plain.stderr
    assert chosen.stdout.splitlines()[-1] == ".venv/bin/rag ui --host 127.0.0.2 --port 8123"
    assert plain.stdout.splitlines()[-1].split() == [".venv/bin/rag", "ui"]
