"""`rag serve --workers N`: N processes answer the API; the one that started them stays the index's only writer.

A warm offline answer is about 20 ms of mostly pure-Python work (evidence scoring, the Chroma
query, the question's embedding), so one process answers about as fast as one core runs
Python, however many threads it has. More cores need more processes.

The parent binds the port (`rag.hosts.listen_per_worker`: a port in use is one line before
anything loads), loads and checks the index, watches the seeds folder and runs every refresh.
It then starts N workers ("spawn": fresh interpreters, no copy of its threads or Chroma handles).
Each builds its own pipeline over the same index, only reads it, and serves the API with uvicorn
on its own sockets of the port; Linux spreads the connections between them.

After each refresh the parent sends the workers REFRESHED, and each looks for the new version
at its next question (`Pipeline.recheck`), so an article is answered by every worker once the
refresh line is printed, not up to POINTER_CHECK_SECONDS later. (The keyword files of a version,
a cache beside the index, are written by the parent before it publishes the version.)

SIGINT (Ctrl+C) or SIGTERM stops the parent, which stops the workers with SIGTERM: uvicorn
finishes the requests in progress. Workers start with SIGINT and REFRESHED ignored, until they
serve and until they have a pipeline to recheck: a Ctrl+C in the terminal (which signals the
whole process group) never interrupts a worker halfway through loading with a traceback, and a
refresh never kills one that is still loading. A worker that dies while serving is replaced; one
that cannot start stops `rag serve` with its error.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.settings import Settings

#: Sent by the parent after each refresh it ran: look for a new index version.
REFRESHED = signal.SIGUSR1
#: How often the parent looks at its workers and at a request to stop.
POLL_SECONDS = 0.1
#: Longest wait for a worker to finish its requests after SIGTERM; then it is killed.
STOP_SECONDS = 60.0
#: Exit status of a worker that could not start; it has sent its error to the parent.
CANNOT_START = 3


class Workers:
    """The worker processes of one `rag serve`, on `groups` (one list of sockets per worker).

    `say` gets one line when every worker is ready (with its memory) and one per worker replaced.
    """

    def __init__(
        self, settings: Settings, api_key: str | None, groups: list[list[socket.socket]], say: Callable[[str], None]
    ) -> None:
        self.settings = settings
        self.api_key = api_key
        self.groups = groups
        self.say = say
        self._spawn = multiprocessing.get_context("spawn")
        self._processes: list[Any] = []
        self._inboxes: list[Connection] = []
        self._ready: dict[int, float] = {}
        self._asked: list[int] = []

    @property
    def pids(self) -> list[int]:
        """The workers' process ids, in start order."""
        return [p.pid for p in self._processes]

    def refreshed(self) -> None:
        """Tell every running worker that a new index version was published (any thread may call this)."""
        for process in list(self._processes):
            if process is not None and process.exitcode is None and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, REFRESHED)

    def run(self) -> None:
        """Start the workers and keep them running until SIGINT or SIGTERM; then stop them all.

        RagError, after stopping the others, when a worker cannot start.
        """
        previous = {sig: signal.signal(sig, self._ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for slot in range(len(self.groups)):
                self._processes.append(None)
                self._inboxes.append(self._start(slot))
            told = False
            while not self._asked:
                self._read_inboxes()
                if not told and len(self._ready) == len(self.groups):
                    self.say(self._ready_line())
                    told = True
                self._replace_ended()
                time.sleep(POLL_SECONDS)
        finally:
            self._stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _ask_to_stop(self, signum: int, frame: Any) -> None:
        self._asked.append(signum)

    def _start(self, slot: int) -> Connection:
        """Start the worker of `slot`; the end of the pipe it reports on."""
        inbox, outbox = self._spawn.Pipe(duplex=False)
        process = self._spawn.Process(
            target=work,
            args=(self.settings, self.api_key, self.groups[slot], outbox),
            name=f"rag-serve-worker-{slot + 1}",
            daemon=True,
        )
        with _ignoring(signal.SIGINT, REFRESHED):  # inherited through exec, unlike a handler
            process.start()
        outbox.close()
        self._processes[slot] = process
        return inbox

    def _read_inboxes(self) -> None:
        for slot, inbox in enumerate(self._inboxes):
            with contextlib.suppress(EOFError, OSError):
                while inbox.poll():
                    kind, value = inbox.recv()
                    if kind == "failed":
                        raise RagError(value)
                    self._ready[self._processes[slot].pid] = value

    def _replace_ended(self) -> None:
        """Start a new worker for one that ended while serving; RagError for one that ended loading."""
        for slot, process in enumerate(self._processes):
            if self._asked or process.is_alive():
                continue
            self._read_inboxes()  # its error, if it sent one before it ended
            how = _ended(process.exitcode)
            if process.pid not in self._ready:
                raise RagError(
                    f"A worker process of `rag serve` ended while it loaded ({how}); "
                    "its messages are above. Try `--workers 1`."
                )
            self.say(f"Worker process {process.pid} ended ({how}); starting another.")
            self._inboxes[slot] = self._start(slot)

    def _ready_line(self) -> str:
        mine = _peak_rss_mb()
        each = ", ".join(f"{mb:.0f}" for mb in self._ready.values())
        return (
            f"{len(self._ready)} worker processes answering (pids {', '.join(str(p) for p in self.pids)}; "
            f"peak memory {each} MB); the parent process: {mine:.0f} MB."
        )

    def _stop(self) -> None:
        """SIGTERM to every worker, then wait for all of them (killing one that takes too long)."""
        for process in self._processes:
            if process is not None and process.exitcode is None:
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in self._processes:
            if process is None:
                continue
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                process.kill()
                process.join()


def work(settings: Settings, api_key: str | None, sockets: list[socket.socket], outbox: Connection) -> None:
    """A worker process: its own pipeline over the index, read only, then the API on `sockets`."""
    signal.signal(signal.SIGTERM, _leave)
    from rag.pipeline import build_pipeline
    from rag.serve import build_app, run, warm

    try:
        pipeline = build_pipeline(settings, model_threads=1)  # its questions run side by side already
        signal.signal(REFRESHED, lambda signum, frame: pipeline.recheck())
        pipeline.snapshot()
        app = build_app(pipeline, api_key)
        warm(pipeline)
    except RagError as exc:
        outbox.send(("failed", str(exc)))
        sys.exit(CANNOT_START)
    outbox.send(("ready", _peak_rss_mb()))
    outbox.close()
    run(app, sockets)


def _leave(signum: int, frame: Any) -> None:
    """SIGTERM in a worker, while it loads or once uvicorn has finished the requests in progress
    (uvicorn sends it again then): end like a normal exit, so that multiprocessing's finalizers
    run. Killed by the signal instead, the worker would leave its semaphores (bm25s' progress
    bars make one) to the resource tracker, which warns about them as `rag serve` ends."""
    raise SystemExit(0)


@contextlib.contextmanager
def _ignoring(*signals: int) -> Iterator[None]:
    """Ignore `signals` inside the block (only in the main thread, where handlers are set)."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        return f"stopped by signal {-code}"
    return f"exit code {code}"
