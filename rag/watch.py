"""Watching the seeds folder: articles added, changed or removed there are indexed without `rag index`.

`rag ui` and `rag serve` start a `FolderWatcher` (RAG_WATCH=off leaves it out). It waits until the
folder has been quiet for QUIET_SECONDS, so a copy of many files or an editor's several writes
make one refresh, not one each, and then asks the `BackgroundIndex` the chat's uploads use for a
refresh: one process never runs two refreshes at once, and questions are answered from the
published version while one runs.

Before asking, it lets a refresh in progress end and compares the changed files with the live
index. The chat's uploads and removals, and a `rag index` run by hand, refresh by themselves; a
second, empty refresh after them would only replace their "Index updated (1 added…)" line by "no
change". Anything it cannot compare (a file that vanished or cannot be read, a symbolic link)
counts as changed, so the refresh reads the folder as `rag index` does and names what it skips.
A file still being written when the refresh reads it is read again after its last write, which
is a change of its own. On start it compares the whole folder once, so what changed while
nothing watched is indexed too.

Two processes watching one index (`rag ui` and `rag serve` side by side) notice the same change;
the refresh of `refresh_job` waits for the other's to end instead of failing on its lock, and then
finds little or nothing left to do. With a Chroma server, `rag index` is the one writer
(docs/server-mode.md), so RAG_WATCH=auto, the default, watches only the embedded store.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IndexLockedError
from rag.index.extracted import split_name
from rag.prompts import fill
from rag.uploads import BackgroundIndex, IndexStatus

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

log = logging.getLogger(__name__)

#: Seconds without any change in the folder before a refresh is asked for.
QUIET_SECONDS = 0.5
#: Longest wait for quiet: a folder that never stops changing is still indexed this often.
LONGEST_SECONDS = 10.0
#: Pause before watching again after the folder vanished or the system's watch failed.
RETRY_SECONDS = 2.0
#: How often a wait for the refresh checks on it (and on a request to stop).
POLL_SECONDS = 0.05
#: Names listed when describing a change; the rest are counted.
NAMES_SHOWN = 3
#: How often a refresh waiting for another process's refresh tries again.
LOCK_RETRY_SECONDS = 0.5
#: Longest such wait; then the refresh fails with the lock's message.
LOCK_WAIT_SECONDS = 3600.0


def refresh_job(pipeline: Pipeline) -> BackgroundIndex:
    """The background refresh of `rag ui` and `rag serve`: `pipeline.index`, which waits while another
    process (the other command, a `rag index`) refreshes the same index instead of failing at once."""

    def index(progress: Callable[[int, int], None]) -> object:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                return pipeline.index(progress)
            except IndexLockedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_RETRY_SECONDS)

    return BackgroundIndex(index)


class FolderWatcher:
    """One thread that watches `pipeline.seeds_dir` and refreshes the index through `job`.

    `report` is called with one line per finished refresh (the terminal of `rag serve` and
    `rag ui`). `changes` counts what the page polls for: it grows when a change is noticed and
    when its refresh ends.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        job: BackgroundIndex,
        report: Callable[[str], None] | None = None,
        quiet: float = QUIET_SECONDS,
        longest: float = LONGEST_SECONDS,
    ) -> None:
        settings = pipeline.settings
        self.pipeline = pipeline
        self.job = job
        self.report = report
        self.quiet = quiet
        self.longest = longest
        self.root = settings.seeds_dir.resolve()
        feedback = settings.feedback_path or settings.index_dir / "feedback.jsonl"
        #: Written by this process itself: an index or feedback file inside the seeds folder is no article.
        self._own = [settings.index_dir.resolve(), feedback.resolve()]
        #: Set once the folder is watched and compared with the index.
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._noticed = ""
        self._busy = False
        self._result = ""
        self._missing_told = False
        self.changes = 0

    def start(self) -> FolderWatcher:
        self._thread = threading.Thread(target=self._run, name="rag-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching and wait for the thread (a refresh it asked for goes on in `job`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the folder watcher did not stop within %.0f s", timeout)

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def message(self, status: IndexStatus | None = None) -> str:
        """The last change noticed and its refresh (in progress, or how it ended); "" before any."""
        with self._lock:
            noticed, busy, result = self._noticed, self._busy, self._result
        if not noticed:
            return ""
        current = status or self.job.status()
        return fill("folder_changed", changes=noticed, status=current.message if busy else result)

    @property
    def running(self) -> bool:
        """True while the watching thread lives: started and not stopped (a failing watch retries)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def busy(self) -> bool:
        """True from a change noticed until its refresh ends."""
        with self._lock:
            return self._busy

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self._watch()
                failing = False
            except Exception as exc:  # the folder vanished or the system's watch failed: try again, no traceback
                if not failing:
                    log.warning("Cannot watch %s (%s); trying again every %.0f s.", self.root, exc, RETRY_SECONDS)
                failing = True
            if not self._stop.is_set() and not self.root.is_dir():
                self._handle({self.root})  # moved or deleted: its refresh fails saying so; watched again once back
            self._stop.wait(RETRY_SECONDS)

    def _watch(self) -> None:
        """Collect changes until the folder is quiet (or LONGEST_SECONDS passed), then handle them;
        returns when asked to stop or when the folder itself is gone."""
        import watchfiles

        pending: set[Path] = {self.root}  # on start: the whole folder, against the index
        since = time.monotonic()
        for found in watchfiles.watch(
            self.root,
            watch_filter=self._wanted,
            step=50,
            debounce=int(self.longest * 1000),
            rust_timeout=max(1, int(self.quiet * 1000)),
            yield_on_timeout=True,
            stop_event=self._stop,
            raise_interrupt=False,
        ):
            if found:
                if not pending:
                    since = time.monotonic()
                pending.update(Path(path) for _, path in found)
                if time.monotonic() - since < self.longest:
                    continue
            if pending:
                self._handle(pending)
                pending = set()
            self.ready.set()
            if not self.root.is_dir():
                return

    def _wanted(self, change: object, path: str) -> bool:
        """Changes that may concern an article: not hidden (as the index scan), not this process's own files."""
        where = Path(path)
        try:
            parts = where.relative_to(self.root).parts
        except ValueError:
            return True
        return not any(part.startswith(".") for part in parts) and not self._is_own(where)

    def _is_own(self, path: Path) -> bool:
        return any(path == own or own in path.parents for own in self._own)

    def _handle(self, paths: set[Path]) -> None:
        """Refresh when the changed paths differ from the live index; wait for that refresh to end.
        A missing folder is reported once, not at every try to watch it again."""
        if not self._wait(lambda s: not s.running):
            return
        missing = not self.root.is_dir()
        if missing and self._missing_told:
            return
        self._missing_told = missing
        found = self._compare(paths)
        if not found:
            return
        with self._lock:
            self._noticed, self._busy = describe_changes(found), True
            self.changes += 1
        runs = self.job.status().runs
        self.job.request()
        finished = self._wait(lambda s: s.runs > runs and not s.running)
        with self._lock:
            self._busy = False
            self._result = self.job.status().message
            self.changes += 1
        if finished and self.report is not None:
            self.report(self.message())

    def _wait(self, done: Callable[[IndexStatus], bool]) -> bool:
        """Wait until `done(job status)`; False when asked to stop first."""
        while not done(self.job.status()):
            if self._stop.wait(POLL_SECONDS):
                return False
        return True

    def _compare(self, paths: Iterable[Path]) -> dict[str, str]:
        """{file name: "added" | "changed" | "removed"} for files at or under `paths` whose content
        differs from what the live index holds for them."""
        indexed = self._indexed()
        found: dict[str, str] = {}
        for path in paths:
            try:
                rel = "" if path == self.root else path.relative_to(self.root).as_posix()
            except ValueError:
                continue
            if indexed is None:
                found[rel or "the folder"] = "changed"
                continue
            now = self._on_disk(path, rel)
            before = {n: sha for n, sha in indexed.items() if not rel or n == rel or n.startswith(rel + "/")}
            for name in sorted(set(now) | set(before)):
                if name not in before:
                    found[name] = "added"
                elif name not in now:
                    found[name] = "removed"
                elif now[name] is None or now[name] != before[name]:
                    found[name] = "changed"
        return found

    def _indexed(self) -> dict[str, str] | None:
        """{file name: content key} of the live version; None when it cannot be read (everything counts
        as changed). A file of many articles (an export, a mailbox) is indexed as FILE#1, FILE#2…, each
        under the file's key; "?" stands for keys that differ, which no file's hash equals."""
        store = self.pipeline.store
        try:
            with store.reading():
                articles = store.complete_files(store.active())
        except Exception as exc:  # no index yet, a server away: the refresh says what is wrong
            log.info("cannot read the index to compare the folder with (%s)", exc)
            return None
        files: dict[str, str] = {}
        for name, key in articles.items():
            file = split_name(name)[0]
            files[file] = key if files.get(file, key) == key else "?"
        return files

    def _on_disk(self, path: Path, rel: str) -> dict[str, str | None]:
        """{file name: sha256 of its bytes, None when it cannot be read} at or under `path`."""
        if path.is_symlink():
            return {rel: None}
        if path.is_dir():
            found: dict[str, str | None] = {}
            for inner in _files(path):
                if not self._is_own(inner):
                    found.update(self._on_disk(inner, inner.relative_to(self.root).as_posix()))
            return found
        if not path.exists():
            return {}
        return {rel: _sha256(path)}


def _files(folder: Path) -> Iterator[Path]:
    """Entries under `folder` the index scan reads: hidden ones left out, symbolic links not followed."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            yield from _files(entry)
        else:
            yield entry


def _sha256(path: Path) -> str | None:
    try:
        with path.open("rb") as data:
            return hashlib.file_digest(data, "sha256").hexdigest()
    except OSError:  # vanished, unreadable, not a regular file: the refresh says which
        return None


def describe_changes(found: dict[str, str]) -> str:
    """'lighthouse.txt added', or 'a.txt added, b.txt removed, c.txt changed and 4 more'."""
    items = [f"{name} {what}" for name, what in sorted(found.items())]
    shown = ", ".join(items[:NAMES_SHOWN])
    rest = len(items) - NAMES_SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


@contextmanager
def watching(
    pipeline: Pipeline, job: BackgroundIndex, report: Callable[[str], None], enabled: bool = True
) -> Iterator[FolderWatcher | None]:
    """Watch the seeds folder while the block runs (None inside when not `enabled`).

    On the way out the watcher stops, then a refresh still running is waited for (Ctrl+C again
    leaves it, and the next refresh resumes it), so the process ends with no thread writing the index.
    """
    watcher = FolderWatcher(pipeline, job, report).start() if enabled else None
    try:
        yield watcher
    finally:
        if watcher is not None:
            watcher.stop()
        if job.status().running:
            report("Finishing the index refresh in progress (Ctrl+C again leaves it for the next start)…")
            while job.status().running:
                time.sleep(POLL_SECONDS)
            report(job.status().message)
