"""`rag serve`'s app on a real uvicorn server in a thread, for tests that talk to it over HTTP."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import SCRUBBED, SEEDS, free_port


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yield the /v1 base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def offline_pipeline(index_dir: Path, **settings: Any) -> Any:
    """An offline pipeline over `index_dir` with `settings`, whatever the caller's environment says."""
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith(SCRUBBED)]:
            mp.delenv(name)
        return build_pipeline(
            load_settings(**{"seeds_dir": SEEDS, "index_dir": index_dir, "_env_file": None, **settings})
        )
