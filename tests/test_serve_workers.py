"""`rag serve --workers N` (rag/workers.py): several processes answer, one of them writes the index.

Which worker answered is read from the operating system, not from the server: the worker
process holding the connection's socket (psutil), so the API carries nothing for debugging.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import psutil
import pytest
from click.testing import CliRunner

from conftest import ROOT, SEEDS, clean_env, free_port

LIGHTHOUSE = (
    "QUILLMERE, June 3. The mayor of Quillmere, Ottoline Brackenridge, opened the town's new lighthouse on Tuesday."
    "\n\nThe lighthouse replaces a tower that storms destroyed in 1987, the mayor said.\n"
)
QUESTION = "Who opened the new lighthouse in Quillmere?"
REFUSED = "The articles do not say"
#: Answered by the one article the test folder starts with.
KEPT_QUESTION = "Which Turkish minister did the Russian delegation meet?"
#: Longest wait for a line of the server: loading three pipelines on a busy 2-core machine.
LINE_SECONDS = 180


class Server:
    """A `rag serve` subprocess in its own process group (as a terminal runs it), its output in queues."""

    def __init__(self, port: int, env: dict[str, str], *args: str) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(port), *args],
            env={**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.said: list[str] = []
        self.readers = [
            threading.Thread(target=_lines, args=(stream, into), daemon=True)
            for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for reader in self.readers:
            reader.start()

    def line(self, wanted: str, stream: str = "out") -> str:
        """The next line of stdout (or stderr) holding `wanted`; fails the test after LINE_SECONDS."""
        found = self.out if stream == "out" else self.err
        deadline = time.monotonic() + LINE_SECONDS
        while time.monotonic() < deadline:
            try:
                line = found.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.said.append(line)
            if wanted in line:
                return line
        pytest.fail(f"no line with {wanted!r}; the server said:\n{self.rest()}")

    def rest(self) -> str:
        """Everything the server said, once it has ended (or so far)."""
        for reader in self.readers:
            reader.join(0 if self.proc.poll() is None else 10)
        return "".join(self.said) + "".join(self.out.queue) + "".join(self.err.queue)

    def stop(self, signum: int = signal.SIGTERM, group: bool = False) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signum) if group else self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise


def _lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def connect(port: int) -> http.client.HTTPConnection:
    """A kept-alive connection, answered once, so that a worker has accepted it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/v1/models")
    assert conn.getresponse().read()
    return conn


def ask(conn: http.client.HTTPConnection, question: str) -> str:
    body = json.dumps({"messages": [{"role": "user", "content": question}]})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    reply = conn.getresponse()
    content = json.loads(reply.read())
    assert reply.status == 200, content
    return content["choices"][0]["message"]["content"]


def owner(conn: http.client.HTTPConnection, pids: list[int]) -> int | None:
    """The process among `pids` holding the server's end of `conn`."""
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    for pid in pids:
        for c in psutil.Process(pid).net_connections(kind="tcp"):
            if c.raddr and c.raddr.port == client_port and c.laddr.port == conn.port:
                return pid
    return None


def one_per_worker(port: int, pids: list[int]) -> dict[int, http.client.HTTPConnection]:
    """A connection held by each worker: new connections until every worker holds one (the
    kernel spreads them by the client's port, so twenty are plenty)."""
    held: dict[int, http.client.HTTPConnection] = {}
    for _ in range(20):
        conn = connect(port)
        pid = owner(conn, pids)
        assert pid is not None, "a connection held by no worker"
        if pid in held:
            conn.close()
        else:
            held[pid] = conn
        if len(held) == len(pids):
            return held
    pytest.fail(f"20 connections, all held by {sorted(held)} of workers {pids}")


def workers(server: Server) -> list[int]:
    """The server's worker processes, as the system lists them (multiprocessing's spawned interpreters)."""
    children = psutil.Process(server.proc.pid).children()
    return [c.pid for c in children if "spawn_main" in " ".join(c.cmdline())]


def worker_pids(line: str) -> list[int]:
    found = re.search(r"\(pids ([\d, ]+); peak memory ([\d, ]+) MB\)", line)
    assert found, line
    assert all(int(mb) > 50 for mb in found.group(2).split(", ")), "each worker holds a pipeline"
    return [int(pid) for pid in found.group(1).split(", ")]


@pytest.mark.slow
def test_two_workers_both_answer_both_follow_a_refresh_a_dead_one_is_replaced_and_sigterm_ends_all(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEEDS / "000_4ac1dad1d337df25.txt", folder)
    port = free_port()
    server = Server(port, clean_env(RAG_SEEDS_DIR=str(folder), RAG_INDEX_DIR=str(tmp_path / "index")), "--workers", "2")
    try:
        assert "; 2 worker processes)" in server.line("OpenAI-compatible API on")
        pids = worker_pids(server.line("2 worker processes answering"))
        assert sorted(workers(server)) == sorted(pids)
        held = one_per_worker(port, pids)
        for conn in held.values():
            assert REFUSED in ask(conn, QUESTION)

        stop, kept = threading.Event(), []

        def keep_asking(conn: http.client.HTTPConnection) -> None:
            """Ask all along, so that each worker has just looked at the index when the refresh ends."""
            while not stop.is_set():
                try:
                    kept.append(ask(conn, KEPT_QUESTION))
                except Exception as exc:  # a failure is a result to report, not a crash of the thread
                    kept.append(f"{exc.__class__.__name__}: {exc}")

        askers = [threading.Thread(target=keep_asking, args=(conn,), daemon=True) for conn in held.values()]
        for asker in askers:
            asker.start()
        try:
            (folder / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
            server.line("(lighthouse.txt added). Index updated (1 added", "err")
        finally:
            stop.set()
            for asker in askers:
                asker.join(60)
        wrong = [answer[:200] for answer in kept if "Hakan Fidan" not in answer]
        assert kept and wrong == [], f"answers failed while the index was refreshed: {wrong[:3]}"
        for pid, conn in held.items():  # at once, not POINTER_CHECK_SECONDS later
            assert "Brackenridge" in ask(conn, QUESTION), f"worker {pid} answered from the old version"
        assert sorted(workers(server)) == sorted(pids), "no worker died of the refresh"

        os.kill(pids[0], signal.SIGKILL)
        server.line(f"Worker process {pids[0]} ended (stopped by signal 9); starting another.")
        for _ in range(6):  # whichever worker the kernel gives them to, the replacement included
            assert "Brackenridge" in ask(connect(port), QUESTION)
        last = workers(server)
        assert len(last) == 2 and pids[1] in last
    finally:
        code = server.stop(signal.SIGTERM)
    rest = server.rest()
    assert code == 0 and "Traceback" not in rest, rest
    assert not [pid for pid in pids + last if psutil.pid_exists(pid)], "a worker outlived the server"
    leaked = re.findall(r"(\d+) leaked semaphore", rest)  # the resource tracker counts them at the end
    assert leaked in ([], ["1"]), "a worker other than the killed one ended without its exit handlers"


@pytest.mark.slow
def test_ctrl_c_while_the_workers_load_stops_them_all_without_a_traceback(index_dir):
    """Ctrl+C in a terminal signals the whole process group, workers still loading included."""
    env = clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index_dir), RAG_WATCH="off")
    server = Server(free_port(), env, "--workers", "2")
    try:
        server.line("OpenAI-compatible API on")
        deadline = time.monotonic() + LINE_SECONDS
        while len(loading := workers(server)) < 2:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
        time.sleep(0.5)  # importing, loading the pipeline
    finally:
        code = server.stop(signal.SIGINT, group=True)
    rest = server.rest()
    assert code == 0 and "Traceback" not in rest and "answering" not in rest, rest
    assert "leaked" not in rest, "a worker ended without its exit handlers (the resource tracker says so)"
    assert not [pid for pid in loading if psutil.pid_exists(pid)], "a worker outlived the server"


def _serve(env: dict[str, str], *args: str) -> Any:
    import rag.cli

    return CliRunner().invoke(rag.cli.main, ["serve", *args], env=env)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "33"])
def test_a_bad_rag_api_workers_stops_serve_at_start_with_one_line(tmp_path, value):
    env = {"RAG_SEEDS_DIR": str(SEEDS), "RAG_INDEX_DIR": str(tmp_path / "never-built"), "RAG_API_WORKERS": value}
    result = _serve(env, "--port", str(free_port()))
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: Bad setting (RAG_API_WORKERS: Value error, '{value}' is not a number")
    assert "from 1 to 32, such as 2, or leave it empty for the default" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "never-built").exists(), "it stopped before loading anything"


@pytest.mark.parametrize(("value", "problem"), [("0", "0 is not in the range x>=1"), ("33", "33 is more than 32")])
def test_a_bad_workers_option_is_a_usage_error(tmp_path, value, problem):
    env = {"RAG_SEEDS_DIR": str(SEEDS), "RAG_INDEX_DIR": str(tmp_path / "never-built")}
    result = _serve(env, "--workers", value)
    assert result.exit_code == 2 and "Invalid value for '--workers'" in result.output and problem in result.output
    assert not (tmp_path / "never-built").exists()


def test_the_workers_default_to_one_per_core_at_most_two_without_the_reader_and_the_setting_wins(make_settings):
    cores = len(os.sched_getaffinity(0))
    assert make_settings(reader="off").serve_workers == min(cores, 2)
    assert make_settings(reader="off", api_workers="").serve_workers == min(cores, 2)
    assert make_settings(reader="on").serve_workers == 1, "the reader's inference uses every core from one process"
    assert make_settings(reader="on", api_workers=" 3 ").serve_workers == 3
    assert make_settings(reader="off", api_workers=1).serve_workers == 1


def test_a_port_another_serve_with_workers_holds_is_in_use_in_one_line(tmp_path):
    """Workers share the port through SO_REUSEPORT; another process doing the same must not slip in beside them."""
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"RAG_SEEDS_DIR": str(SEEDS), "RAG_INDEX_DIR": str(tmp_path / "never-built")}
        result = _serve(env, "--port", str(port), "--workers", "2")
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Error: Port {port} is already in use on 127.0.0.1: stop what is using it, or choose another with --port.\n"
    )
    assert not (tmp_path / "never-built").exists()
