"""`make bench`: the figures the README quotes, measured in one run on this machine.

Ratios within one run are what to compare: the machine is shared and noisy. Writes
bench/results.md and bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from quickstart import quickstart  # noqa: E402

from rag.evaluation.gold import load_gold  # noqa: E402
from rag.evaluation.metrics import file_ranks, percentile  # noqa: E402
from rag.pipeline import build_pipeline  # noqa: E402
from rag.settings import load_settings  # noqa: E402

from conftest import clean_env  # noqa: E402

SEEDS = ROOT / "seeds"
GOLD = ROOT / "eval" / "corpora" / "seeds" / "gold.jsonl"
lines: list[str] = []
results: dict[str, object] = {}


def say(text: str = "") -> None:
    print(text, flush=True)
    lines.append(text)


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms"


def timed(fn, *args, **kwargs) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t) * 1000


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def pipeline_for(seeds: Path, index: Path, **extra: object):
    return build_pipeline(load_settings(seeds_dir=seeds, index_dir=index, _env_file=None, llm="off", **extra))


def warm_latency(pipeline, questions: list[str], rounds: int = 3) -> tuple[list[float], list[float]]:
    for q in questions[:5]:
        pipeline.ask(q)
    asks, retrieves = [], []
    for _ in range(rounds):
        for q in questions:
            retrieves.append(timed(pipeline.retrieve, q))
            asks.append(timed(pipeline.ask, q))
    return asks, retrieves


def cold_cli(index: Path, runs: int = 5) -> tuple[list[float], list[float]]:
    env = clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index), PYTHONPATH=str(ROOT))
    seconds, peaks = [], []
    for _ in range(runs):
        code = (
            "import resource,subprocess,sys,time;t=time.perf_counter();"
            f"r=subprocess.run([{str(ROOT / '.venv/bin/rag')!r},'ask','Who headed the Russian delegation?'],"
            "capture_output=True);"
            "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        assert out[2] == "0", "rag ask failed"
        seconds.append(float(out[0]))
        peaks.append(int(out[1]) / 1024)
    return seconds, peaks


def synthetic_corpus(folder: Path, articles: int, per_article: int = 10) -> None:
    """Articles of sentences drawn from the seeds, so the text is realistic news prose."""
    from rag.index.chunking import chunk_file
    from rag.index.ingest import scan_folder

    pool = [r.text for f in scan_folder(SEEDS).files for r in chunk_file(f)]
    rng = random.Random(articles)
    folder.mkdir(parents=True)
    for i in range(articles):
        body = " ".join(rng.choice(pool) for _ in range(per_article))
        (folder / f"synthetic_{i:05d}.txt").write_text(f" date 2025-05-{15 + i % 2} {body}\n", encoding="utf-8")


def scale_run(sizes: list[int], questions: list[str]) -> list[dict[str, float]]:
    rows = []
    for size in sizes:
        work = Path(tempfile.mkdtemp())
        synthetic_corpus(work / "seeds", size)
        import gc

        gc.collect()
        before = rss_mb()
        pipeline = pipeline_for(work / "seeds", work / "index")
        t = time.perf_counter()
        summary = pipeline.index()
        seconds = time.perf_counter() - t
        asks, _ = warm_latency(pipeline, questions, rounds=1)
        rows.append(
            {
                "articles": size,
                "chunks": summary.chunks,
                "index_s": seconds,
                "chunks_per_s": summary.chunks / seconds,
                "ask_p50": percentile(asks, 50),
                "ask_p95": percentile(asks, 95),
                "rss_mb": rss_mb(),
                "rss_growth_mb": rss_mb() - before,
            }
        )
        say(
            f"  {size:>5} articles, {summary.chunks:>6} sentences: index {seconds:.1f} s "
            f"({summary.chunks / seconds:.0f} chunks/s), ask {ms(asks)}, "
            f"memory +{rows[-1]['rss_growth_mb']:.0f} MB for this corpus's pipeline"
        )
        del pipeline
        shutil.rmtree(work, ignore_errors=True)
    return rows


def concurrent_load(pipeline, questions: list[str], threads: int = 20, each: int = 50) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        for i in range(each):
            value = timed(pipeline.ask, questions[(seed + i) % len(questions)])
            with lock:
                latencies.append(value)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(worker, range(threads)))
    return latencies


@dataclass
class Throughput:
    """One `rag serve --workers N` under load: {streamed: (answers/s, latencies ms, errors)}, the
    time to the first streamed token, resident memory (MB) of the parent and of each worker after
    the load, and CPU ms per answer of the server's processes and of the load generator."""

    workers: int
    loads: dict[bool, tuple[float, list[float], int]]
    first_tokens: list[float]
    parent_mb: float
    worker_mb: list[float]
    server_cpu_ms: float
    client_cpu_ms: float


def api_throughput(
    index: Path, questions: list[str], workers: int, clients: int = 20, seconds: float = 15.0, **settings: str
) -> Throughput:
    """Answers/s of a `rag serve --workers N` under `clients` concurrent `AsyncOpenAI` clients
    (offline), non-streamed and streamed; then the time to the first streamed token, one question
    at a time, through the official `openai` client.

    The server is its own process (its workers more), as in production, so the load generator
    here does not share its interpreter; both still share this machine's cores. The load starts
    once every worker has loaded (their line on stdout), so none starts with no connections.
    """
    import asyncio

    import httpx
    import psutil

    from conftest import free_port

    port = free_port()
    env = clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index), **settings)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "rag"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    ready = threading.Event()

    def watch_stdout() -> None:
        for line in server.stdout or ():
            if workers == 1 or "worker processes answering" in line:
                ready.set()

    threading.Thread(target=watch_stdout, daemon=True).start()
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            if ready.is_set():
                httpx.get(f"{url}/models", timeout=2)
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"rag serve --workers {workers} did not start")
        time.sleep(0.2)
    parent = psutil.Process(server.pid)
    processes = [parent, *(c for c in parent.children() if "spawn_main" in " ".join(c.cmdline()))]

    def cpu() -> tuple[float, float]:
        mine = psutil.Process().cpu_times()
        theirs = [p.cpu_times() for p in processes]
        return sum(t.user + t.system for t in theirs), mine.user + mine.system

    server_cpu, client_cpu = cpu()
    loads = {stream: asyncio.run(async_load(url, questions, clients, seconds, stream)) for stream in (False, True)}
    server_after, client_after = cpu()
    answers = sum(len(latencies) for _, latencies, _ in loads.values())
    memory = [p.memory_info().rss / 2**20 for p in processes]
    first_tokens = first_token_latency(url, questions)
    server.terminate()
    server.wait(timeout=60)
    return Throughput(
        workers,
        loads,
        first_tokens,
        memory[0],
        memory[1:],
        (server_after - server_cpu) * 1000 / answers,
        (client_after - client_cpu) * 1000 / answers,
    )


def api_figures(index: Path, questions: list[str]) -> dict[str, object]:
    """`rag serve` under load with 1 worker and with this machine's default side by side, each with
    the reader on and off (what the reader costs); their figures."""
    defaults = load_settings(_env_file=None)
    default_workers = defaults.serve_workers
    readers = (defaults.reader, "off" if defaults.reader == "on" else "on")
    per_core = load_settings(_env_file=None, reader="off").serve_workers  # the default without the reader
    runs = {
        (reader, n): api_throughput(index, questions, n, RAG_READER=reader)
        for reader in readers
        for n in dict.fromkeys((1, per_core))
    }
    for streamed in (False, True):
        for reader in readers:
            default = load_settings(_env_file=None, reader=reader).serve_workers
            side_by_side = "; ".join(
                f"{n} worker{'s' if n > 1 else ''}{' (its default)' if n == default else ''}: "
                f"{run.loads[streamed][0]:.1f} answers/s, {ms(run.loads[streamed][1])}, {run.loads[streamed][2]} errors"
                for (r, n), run in runs.items()
                if r == reader
            )
            say(
                f"- `rag serve --workers N`, 20 concurrent `AsyncOpenAI` clients for 15 s (offline, "
                f"{'streamed' if streamed else 'non-streamed'}, RAG_READER={reader}"
                f"{' (the default)' if reader == defaults.reader else ''}): {side_by_side}"
            )
    for (reader, n), run in runs.items():
        processes = (
            f"{n} workers of {', '.join(f'{mb:.0f}' for mb in run.worker_mb)} MB and {run.parent_mb:.0f} MB for "
            "the process that watches the folder"
            if n > 1
            else f"{run.parent_mb:.0f} MB in one process"
        )
        say(
            f"- `rag serve --workers {n}`, RAG_READER={reader}, after the load: {processes} (resident); CPU per "
            f"answer: server {run.server_cpu_ms:.1f} ms, load generator {run.client_cpu_ms:.1f} ms"
        )
    served = runs[defaults.reader, default_workers]
    say(
        f"- `rag serve` with the defaults ({default_workers} worker{'s' if default_workers > 1 else ''}, "
        f"RAG_READER={defaults.reader}), streamed, first "
        f"token ({len(served.first_tokens)} questions, `openai` client): {ms(served.first_tokens)}"
    )
    return {
        "api_workers": default_workers,
        "api_answers_per_s": served.loads[False][0],
        "api_p50": percentile(served.loads[False][1], 50),
        "api_errors": served.loads[False][2],
        "api_streamed_answers_per_s": served.loads[True][0],
        "api_streamed_p50": percentile(served.loads[True][1], 50),
        "api_streamed_errors": served.loads[True][2],
        "api_first_token_p50": percentile(served.first_tokens, 50),
        "api_runs": [
            {
                "reader": reader,
                "workers": n,
                "answers_per_s": run.loads[False][0],
                "streamed_answers_per_s": run.loads[True][0],
                "errors": run.loads[False][2] + run.loads[True][2],
                "parent_mb": run.parent_mb,
                "worker_mb": run.worker_mb,
                "server_cpu_ms_per_answer": run.server_cpu_ms,
                "client_cpu_ms_per_answer": run.client_cpu_ms,
            }
            for (reader, n), run in runs.items()
        ],
    }


async def async_load(
    url: str, questions: list[str], clients: int, seconds: float, stream: bool
) -> tuple[float, list[float], int]:
    """`clients` AsyncOpenAI clients asking in a loop for `seconds`: (answers/s, latencies in ms, errors).

    An answer counts when its whole reply has arrived (every chunk, when streamed) and it has text.
    """
    import asyncio

    from openai import AsyncOpenAI, OpenAIError

    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def client(seed: int) -> None:
        nonlocal errors
        async with AsyncOpenAI(base_url=url, api_key="unused", max_retries=0, timeout=30) as api:
            i = seed
            while time.monotonic() < stop:
                messages = [{"role": "user", "content": questions[i % len(questions)]}]
                t = time.perf_counter()
                try:
                    if stream:
                        text = ""
                        async for chunk in await api.chat.completions.create(
                            model="newsrag", messages=messages, stream=True
                        ):
                            if chunk.choices:
                                text += chunk.choices[0].delta.content or ""
                    else:
                        reply = await api.chat.completions.create(model="newsrag", messages=messages)
                        text = reply.choices[0].message.content or ""
                    ok = bool(text)
                except OpenAIError:
                    ok = False
                latencies.append((time.perf_counter() - t) * 1000)
                errors += not ok
                i += 1

    started = time.monotonic()
    await asyncio.gather(*(client(seed) for seed in range(clients)))
    return len(latencies) / (time.monotonic() - started), latencies, errors


def first_token_latency(url: str, questions: list[str]) -> list[float]:
    """Milliseconds from sending a streamed request to its first content token (`openai` client)."""
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="unused")
    found = []
    for question in questions:
        t = time.perf_counter()
        stream = client.chat.completions.create(
            model="newsrag", messages=[{"role": "user", "content": question}], stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                found.append((time.perf_counter() - t) * 1000)
                break
        stream.close()
    return found


def upload_to_answer(work: Path) -> float:
    """Seconds from saving an uploaded article to `ask` answering from it: what the chat's
    upload does (`save_uploads`, then a refresh), over the five seed articles."""
    from rag.uploads import save_uploads

    seeds = work / "seeds-upload"
    shutil.copytree(SEEDS, seeds)
    pipeline = pipeline_for(seeds, work / "index-upload")
    pipeline.index()
    upload = work / "upload.txt"
    upload.write_text("Harbour pilots in Valletta agreed on Monday to a 48-hour strike.\n", encoding="utf-8")
    t = time.perf_counter()
    save_uploads(seeds, [("valletta-strike.txt", upload)])
    pipeline.index()
    answer = pipeline.ask("How long will the Valletta harbour pilots strike?")
    seconds = time.perf_counter() - t
    if answer.refused or answer.citations[0].source != "valletta-strike.txt":
        raise RuntimeError(f"the uploaded article did not answer: {answer.text}")
    return seconds


def llm_overhead(index: Path, questions: list[str]) -> list[float]:
    from fake_llm import FakeLLM, Reply

    server = FakeLLM()
    server.script = [lambda body: Reply(text="Medinsky led the Russian delegation [1].")] * 10_000
    pipeline = build_pipeline(
        load_settings(seeds_dir=SEEDS, index_dir=index, _env_file=None, openai_base_url=server.url, llm_model="bench")
    )
    for q in questions[:5]:
        pipeline.ask(q)
    values = [timed(pipeline.ask, q) for q in questions * 2]
    server.close()
    return values


def browser_latency(index: Path, questions: list[str]) -> tuple[list[float], list[float]] | None:
    if not Path("/usr/bin/chromium").exists():
        return None
    from playwright.sync_api import sync_playwright

    from conftest import free_port, wait_for_http

    port = free_port()
    env = clean_env(RAG_SEEDS_DIR=str(SEEDS), RAG_INDEX_DIR=str(index), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc, 60, "rag ui")
        loads, firsts = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for question in questions[:10]:
                page = browser.new_page()
                t = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#question textarea")
                loads.append((time.perf_counter() - t) * 1000)
                page.fill("#question textarea", question)
                t = time.perf_counter()
                page.press("#question textarea", "Enter")
                page.wait_for_function(
                    "() => { const m = document.querySelectorAll('#chat .message'); "
                    "return m.length >= 2 && m[m.length - 1].innerText.trim().length > 1; }"
                )
                firsts.append((time.perf_counter() - t) * 1000)
                page.close()
            browser.close()
        return loads, firsts
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200,2000", help="synthetic corpus sizes (articles)")
    parser.add_argument(
        "--api-only", action="store_true", help="only `rag serve` under load, 1 worker and the default; writes no file"
    )
    args = parser.parse_args()
    gold = load_gold(GOLD, SEEDS)
    answerable = [(g.question, g.sources) for g in gold if g.answerable and not g.history]
    questions = [g.question for g in gold if not g.history]
    work = Path(tempfile.mkdtemp())
    if args.api_only:
        pipeline_for(SEEDS, work / "index").index()
        api_figures(work / "index", questions)
        shutil.rmtree(work, ignore_errors=True)
        return
    say(f"# Benchmarks ({os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')})")
    say()
    say("Reproduce with `make bench`. Figures from one run; compare ratios, not absolutes.")
    say()

    t = time.perf_counter()
    pipeline = pipeline_for(SEEDS, work / "index")
    summary = pipeline.index()
    build = time.perf_counter() - t
    say(f"- Index build (5 seed articles, {summary.chunks} sentences, model load included): {build:.2f} s")
    asks, retrieves = warm_latency(pipeline, questions)
    say(f"- Warm `ask` ({len(asks)} calls): {ms(asks)}")
    say(f"- Warm `retrieve`: {ms(retrieves)}")
    seconds, peaks = cold_cli(work / "index")
    say(
        f"- Cold `rag ask` whole process (median of {len(seconds)}): {statistics.median(seconds):.2f} s, "
        f"peak RSS {statistics.median(peaks):.0f} MB"
    )
    load = concurrent_load(pipeline, questions)
    say(f"- 20 threads x 50 `ask` at once: {ms(load)}")
    api = api_figures(work / "index", questions)
    uploaded = upload_to_answer(work)
    say(f"- Upload an article to the 5 seeds, refresh, answer from it: {uploaded:.2f} s")
    overhead = llm_overhead(work / "index", questions)
    say(
        f"- LLM path with an instant local OpenAI-compatible server (retrieval, prompt, HTTP on loopback, "
        f"citation mapping): {ms(overhead)}"
    )
    ui = browser_latency(work / "index", questions)
    if ui:
        say(f"- Web chat in Chromium: page load {ms(ui[0])}; first answer text after Enter {ms(ui[1])}")
    results.update(
        build_s=build,
        ask_p50=percentile(asks, 50),
        ask_p95=percentile(asks, 95),
        retrieve_p50=percentile(retrieves, 50),
        retrieve_p95=percentile(retrieves, 95),
        cold_s=statistics.median(seconds),
        cold_rss_mb=statistics.median(peaks),
        load_p50=percentile(load, 50),
        load_p95=percentile(load, 95),
        **api,
        upload_to_answer_s=uploaded,
        llm_p50=percentile(overhead, 50),
        llm_p95=percentile(overhead, 95),
    )
    if ui:
        results.update(ui_load_p50=percentile(ui[0], 50), ui_first_text_p50=percentile(ui[1], 50))

    say()
    say("## Against the llama-index quickstart (same corpus, questions and embedding model)")
    ours_hit1 = ours_mrr = 0.0
    for question, sources in answerable:
        rank = file_ranks([c.source for c in pipeline.retrieve(question, k=5)], sources)
        ours_hit1 += rank == 1
        ours_mrr += 1 / rank if rank else 0
    ours_hit1 /= len(answerable)
    ours_mrr /= len(answerable)
    found = quickstart(SEEDS, {"gold": answerable})
    qs = {"hit1": found["gold_hit1"], "mrr5": found["gold_mrr5"], "p50_ms": found["gold_p50_ms"]}
    qs["build_s"] = found["build_s"]
    say(f"- file hit@1: ours {ours_hit1:.3f}, quickstart {qs['hit1']:.3f} (ratio {ours_hit1 / qs['hit1']:.2f}x)")
    say(f"- file MRR@5: ours {ours_mrr:.3f}, quickstart {qs['mrr5']:.3f} (ratio {ours_mrr / qs['mrr5']:.2f}x)")
    say(
        f"- retrieval p50: ours {percentile(retrieves, 50):.1f} ms, quickstart {qs['p50_ms']:.1f} ms "
        f"(ratio {percentile(retrieves, 50) / qs['p50_ms']:.2f}x); "
        f"index build ours {build:.2f} s, quickstart {qs['build_s']:.2f} s"
    )
    results["quickstart"] = qs
    results.update(ours_hit1=ours_hit1, ours_mrr5=ours_mrr)

    say()
    say("## Scale (synthetic articles of 10 seed sentences each)")
    results["scale"] = scale_run([int(s) for s in args.sizes.split(",")], questions[:30])
    shutil.rmtree(work, ignore_errors=True)

    out = ROOT / "bench"
    (out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwrote {out / 'results.md'} and {out / 'results.json'}")


if __name__ == "__main__":
    main()
