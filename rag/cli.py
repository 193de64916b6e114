"""The `rag` command. Project errors become one line and an exit code here, nowhere else."""

from __future__ import annotations

import functools
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rag.errors import InputError, RagError, SettingsError
from rag.hosts import is_loopback, listen, listen_per_worker

if TYPE_CHECKING:
    from rag.evaluation.corpora import Corpus

#: Exit codes: 1 for a failure of the system, 2 for input the user can fix.
EXIT_FAILURE, EXIT_BAD_INPUT = 1, 2


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn project errors into one line on stderr and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except RagError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_FAILURE)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper


def _pipeline(build_index: bool = True):
    from rag import default_pipeline
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    if build_index:
        return default_pipeline()
    return build_pipeline(load_settings())


@click.group()
@click.version_option(package_name="newsrag")
def main() -> None:
    """Ask questions about the news articles in the seeds folder; answers cite their sources."""


def _rate(embedded: int, seconds: float) -> str:
    """The throughput suffix (", 93 sentences/s"), when enough was embedded for a rate to mean something."""
    return f", {embedded / seconds:,.0f} sentences/s" if embedded >= 100 and seconds > 0 else ""


def _part(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from rag.index.refresh import Part

    try:
        return Part.parse(value) if value is not None else None
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("-v", "--verbose", is_flag=True, help="List every line left out of the article bodies, with why.")
@click.option(
    "--part",
    callback=_part,
    metavar="K/N",
    help="Server mode, several machines: write this machine's share of the files into the next version without "
    "publishing it; a plain `rag index` publishes once every part has finished.",
)
@friendly
def index(verbose: bool, part: Any) -> None:
    """Build or refresh the index from the seeds folder."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rag.index.duplicates import Folds

    pipeline = _pipeline(build_index=False)
    console = Console(stderr=True)
    with Progress(
        TextColumn("Embedding sentences"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("embed", total=None, rate="")

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:,.0f} sentences/s" if speed else "")

        summary = pipeline.index(progress, part)
    where = pipeline.store.where
    if not summary.published:
        _part_summary(part, summary)
        return
    if summary.rebuilt_reason:
        click.echo(f"Rebuilt the index: {summary.rebuilt_reason}.")
    if not (summary.added or summary.changed or summary.unchanged):
        click.echo(
            f"No article files in {pipeline.settings.seeds_dir.resolve()}: every question will be refused. "
            "Put your news articles there as .txt or .md files, or set RAG_SEEDS_DIR to their folder."
        )
    elif not summary.modified:
        click.echo(f"Index is up to date: {len(summary.unchanged)} files, {summary.chunks} sentences ({where}).")
    else:
        click.echo(
            f"Indexed {len(summary.added) + len(summary.changed) + len(summary.unchanged)} files "
            f"({len(summary.added)} new, {len(summary.changed)} changed, {len(summary.unchanged)} unchanged, "
            f"{len(summary.removed)} removed): {summary.chunks} sentences, {summary.embedded} embedded, "
            f"in {summary.seconds:.1f} s{_rate(summary.embedded, summary.seconds)} ({where})."
        )
    if summary.folded:
        click.echo(
            f"{Folds(summary.folded).summary()}: copies of one story are searched once, and an answer "
            "cites one and lists the others as 'also in' (RAG_FOLD_DUPLICATES=off keeps them apart)."
        )
    for name, reason in summary.skipped:
        click.echo(f"Skipped {name}: {reason}")
    from rag.index.refresh import left_out

    dropped = left_out(pipeline.settings)
    lines = sum(len(article.dropped) for article in dropped.values())
    for name in (name for name, article in dropped.items() if not article.paragraphs):
        click.echo(f"Nothing of {name} was indexed: every line was left out as a caption, heading or credit.")
    if lines and not verbose:
        click.echo(
            f"Left out of the article bodies: {lines} lines (captions, headings…) in {len(dropped)} files; "
            "`rag index --verbose` lists them."
        )
    for name, article in dropped.items() if verbose else ():
        for why, text in article.dropped:
            click.echo(f"Left out of {name} ({why}): {text[:100]}")


def _part_summary(part: Any, summary: Any) -> None:
    if not summary.modified:
        click.echo(f"Part {part}: its {len(summary.unchanged)} files are in the live index already; nothing to write.")
        return
    click.echo(
        f"Part {part}: {len(summary.added)} new, {len(summary.changed)} changed and {len(summary.unchanged)} unchanged "
        f"files ({len(summary.resumed)} already there) written into {summary.collection}: {summary.embedded} sentences "
        f"embedded in {summary.seconds:.1f} s{_rate(summary.embedded, summary.seconds)}. Not published: run "
        "`rag index` once every part has finished."
    )


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
@click.option("-k", "--top-k", type=click.IntRange(1, 50), default=None, help="Sources to consider.")
@friendly
def ask(question: str, as_json: bool, top_k: int | None) -> None:
    """Answer QUESTION from the articles, with numbered sources."""
    answer = _pipeline().ask(question, k=top_k)
    if as_json:
        click.echo(answer.model_dump_json(indent=2, exclude={"sources"}))
        return
    click.echo(answer.text)
    if answer.confidence is not None:
        click.echo(f"\n({answer.confidence_label()})")
    if answer.notice:
        click.echo(f"\nNote: {answer.notice}")
    if answer.citations:
        click.echo("\nSources:")
    _print_sources(answer.citations)
    if answer.closest:
        click.echo("\nClosest passages (they may not answer your question):")
        _print_sources(answer.closest)


def _print_sources(citations: list[Any]) -> None:
    for c in citations:
        dated = f", {c.date}" if c.date else ""
        titled = f" — {c.title}" if c.title else ""
        click.echo(f"[{c.number}] {c.place}{dated}{titled}\n    “{c.text}”")
        if c.also_in:
            click.echo(f"    also in: {', '.join(c.also_in)}")


#: How a user of `rag ui` picks another port, named in the message for a port in use.
UI_PORT_CHOICES = "--port, RAG_UI_PORT or `make run PORT=…`"
#: Said at the start of `rag ui` and `rag serve` when they watch the seeds folder.
WATCHING = "Watching {folder} for articles added, changed or removed (RAG_WATCH=off turns this off)."


def _to_stderr(line: str) -> None:
    click.echo(line, err=True)


@main.command()
@click.option("--host", default=None, help="Address to bind.  [default: RAG_UI_HOST, else 127.0.0.1 (loopback)]")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port to listen on.  [default: RAG_UI_PORT, else 7860]"
)
@click.option("--share", is_flag=True, help="Ask Gradio for a public share link (off by default).")
@friendly
def ui(host: str | None, port: int | None, share: bool) -> None:
    """Start the web chat; on a non-loopback address or a share link it needs RAG_UI_PASSWORD."""
    import os

    from rag.settings import load_settings

    settings = load_settings()
    host = host or settings.ui_host
    port = port or settings.ui_port
    password = settings.ui_password.get_secret_value() if settings.ui_password else None
    if password is None and (share or not is_loopback(host)):
        where = "a public share link" if share else f"--host {host}"
        raise SettingsError(
            f"{where} would open the chat to other machines; set RAG_UI_PASSWORD to require a login "
            "(user RAG_UI_USER, default 'rag'), or use --host 127.0.0.1."
        )
    for sock in listen(host, port, UI_PORT_CHOICES):  # a port in use is one line now, before loading anything
        sock.close()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from ui.app import launch

    pipeline = _pipeline()
    login = {"auth": (settings.ui_user, password)} if password else {}
    click.echo(f"Web chat on http://{host}:{port} ({pipeline.mode} mode). Ctrl+C stops it.")
    if settings.watching:
        click.echo(WATCHING.format(folder=settings.seeds_dir))
    launch(pipeline, host=host, port=port, share=share, quiet=True, watch=settings.watching, report=_to_stderr, **login)


def _serving_pipeline(settings: Any, model_threads: int | None) -> Any:
    """`rag serve`'s pipeline (`build_pipeline`'s `model_threads`), the index built first if there is none."""
    from rag.errors import IndexNotReadyError
    from rag.pipeline import build_pipeline

    pipeline = build_pipeline(settings, model_threads)
    try:
        pipeline.store.active()
    except IndexNotReadyError:
        pipeline.index()
    return pipeline


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Processes answering requests, each with its own copy of the pipeline; this one watches the folder.  "
    "[default: RAG_API_WORKERS, else one per core, at most 2, with RAG_READER=off; 1 with the reader]",
)
@friendly
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models); RAG_API_KEY requires a bearer key."""

    from rag.settings import MAX_API_WORKERS, load_settings

    if workers is not None and workers > MAX_API_WORKERS:
        raise click.BadParameter(f"{workers} is more than {MAX_API_WORKERS} processes.", param_hint="'--workers'")
    settings = load_settings()
    api_key = settings.serve_api_key.get_secret_value() if settings.serve_api_key else None
    if api_key is None and not is_loopback(host):
        raise SettingsError(
            f"--host {host} would open the API to other machines; set RAG_API_KEY to require "
            "'Authorization: Bearer <key>', or use --host 127.0.0.1."
        )
    count = workers or settings.serve_workers
    if count > 1 and not sys.platform.startswith("linux"):
        raise SettingsError(
            f"{count} worker processes need Linux, which spreads connections between them; "
            "use --workers 1 (or RAG_API_WORKERS=1) here."
        )
    from rag.serve import MODEL_PREFIX, build_app, run, warm
    from rag.watch import refresh_job, watching

    # a port in use is one line now, before loading anything or saying "API on"
    groups = listen_per_worker(host, port, count) if count > 1 else [listen(host, port)]
    # one thread per model inference where this process answers: its questions run side by side
    pipeline = _serving_pipeline(settings, 1 if count == 1 else None)
    pipeline.snapshot()  # load the index now, so the first request does not wait for it
    keyed = "; key required" if api_key else ""
    processes = f"; {count} worker processes" if count > 1 else ""
    click.echo(
        f"OpenAI-compatible API on http://{host}:{port}/v1 (model {MODEL_PREFIX}{pipeline.mode}{keyed}{processes}). "
        "Ctrl+C stops it."
    )
    if settings.watching:
        click.echo(WATCHING.format(folder=settings.seeds_dir))
    if count == 1:
        app = build_app(pipeline, api_key)
        warm(pipeline)
        with watching(pipeline, refresh_job(pipeline), _to_stderr, settings.watching):
            run(app, groups[0])
        return
    from rag.workers import Workers

    answering = Workers(settings, api_key, groups, click.echo)

    def refreshed(line: str) -> None:  # the workers look for the new version before the line is read
        answering.refreshed()
        _to_stderr(line)

    with watching(pipeline, refresh_job(pipeline), refreshed, settings.watching):
        answering.run()


@main.command("eval")
@click.option(
    "--gold",
    "gold_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Gold questions, JSON Lines, about the configured seeds folder.",
)
@click.option(
    "--corpus",
    "corpus_dirs",
    type=click.Path(path_type=Path, file_okay=False),
    multiple=True,
    help="A gold corpus folder (articles + gold.jsonl + holdout.jsonl); repeat to compare corpora.",
)
@click.option(
    "--split",
    type=click.Choice(["gold", "holdout", "all"]),
    default="all",
    show_default=True,
    help="Which questions of each corpus to score.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("eval/out"),
    show_default=True,
    help="Folder for the report files.",
)
@click.option("--k", type=click.IntRange(1, 50), default=5, show_default=True, help="Sources per question.")
@click.option(
    "--compare",
    "compare_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="An earlier summary.json to print deltas against (with --gold).",
)
@click.option(
    "--check",
    "check_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Thresholds JSON; exit 1 when a gated metric falls outside it.",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Choose thresholds on the corpora's gold questions: the refusal thresholds for the embedding model "
    "(RAG_READER=off), or the reader's answer-line threshold for its model file (RAG_READER=on).",
)
@friendly
def eval_command(
    gold_path: Path | None,
    corpus_dirs: tuple[Path, ...],
    split: str,
    out: Path,
    k: int,
    compare_path: Path | None,
    check_path: Path | None,
    calibrate: bool,
) -> None:
    """Score the system against gold answers and write a report to --out.

    Every file and folder given is checked before anything is indexed or asked, so a mistake
    in one is one line now rather than a traceback after minutes of evaluating.
    """
    from rag.evaluation.corpora import load_corpus
    from rag.evaluation.inputs import read_summary, read_thresholds
    from rag.evaluation.run import RATES

    if bool(gold_path) == bool(corpus_dirs):
        raise click.UsageError("Give either --gold FILE or one or more --corpus DIR.")
    if calibrate and not corpus_dirs:
        raise click.UsageError("--calibrate needs one or more --corpus DIR.")
    if compare_path and not gold_path:
        raise click.UsageError("--compare works with --gold FILE (one summary to compare against).")
    metrics = [name for name, _, _ in RATES]
    thresholds = read_thresholds(check_path, bool(corpus_dirs), metrics) if check_path else None
    old = read_summary(compare_path) if compare_path else None
    corpora = [load_corpus(d) for d in corpus_dirs]
    ungated = [c.name for c in corpora if thresholds is not None and c.name not in thresholds]
    if ungated:
        gated = ", ".join(thresholds or {}) or "none"
        raise InputError(f"--check {check_path}: no thresholds for {', '.join(ungated)} (it has {gated}).")
    _prepare_out(out)
    if calibrate:
        _calibrate(corpora, out)
    if gold_path:
        from rag.settings import load_settings

        summary = _eval_one(load_settings(), gold_path, out, k, old)
        failures = _gate(summary, thresholds) if thresholds is not None else []
    else:
        failures = _eval_corpora(corpora, split, out, k, thresholds)
    for failure in failures:
        click.echo(f"Below threshold: {failure}", err=True)
    if failures:
        sys.exit(EXIT_FAILURE)
    if thresholds is not None:
        click.echo(f"All gated metrics within thresholds ({check_path}).")


def _calibrate(corpora: list[Corpus], out: Path) -> None:
    """Pick the thresholds on every corpus's gold split together, store them, plot the trade-off."""
    from rag.answer.calibration import CALIBRATION_FILE, save, save_line_threshold
    from rag.evaluation import calibrate
    from rag.evaluation.corpora import corpus_settings
    from rag.evaluation.gold import load_gold
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    settings = load_settings()
    found: list[calibrate.Point] = []
    model_id, reader, thresholds = "", None, None
    for corpus in corpora:
        pipeline = build_pipeline(corpus_settings(settings, corpus))
        pipeline.index()
        model_id, offline = pipeline.embedder.model_name, pipeline.offline
        reader, thresholds = offline.reader, offline.thresholds
        found += calibrate.points(pipeline, load_gold(corpus.questions("gold"), corpus.articles), corpus.name)
    out.mkdir(parents=True, exist_ok=True)
    # the reader writes the line under the refusal thresholds already stored
    if reader is not None and thresholds is not None:
        chosen = thresholds
        line = calibrate.choose_line(found, chosen)
        save_line_threshold(reader.sha256, line)
        click.echo(f"Answer-line threshold for this reader: confidence {line}; stored in {CALIBRATION_FILE}.")
    else:
        chosen = calibrate.choose(found)
        save(model_id, chosen)
        click.echo(
            f"Refusal thresholds for {model_id}: {chosen.typed} (questions asking for a kind of thing), "
            f"{chosen.untyped} (others); stored in {CALIBRATION_FILE}."
        )
    calibrate.plot(found, chosen, out / "calibration.png")
    click.echo(f"Trade-off plot in {out / 'calibration.png'}.")
    for name in sorted({p.corpus for p in found}):
        subset = [p for p in found if p.corpus == name]
        correct, refused, false_refusal = calibrate.rates(subset, chosen)
        click.echo(
            f"  {name}: answerable correct {correct:.3f}, unanswerable refused {refused:.3f}, "
            f"false refusals {false_refusal:.3f}, separation (AUC) {calibrate.auc(subset):.3f}"
        )


def _gate(summary: dict[str, Any], thresholds: dict[str, Any], label: str = "") -> list[str]:
    from rag.evaluation.run import check_thresholds

    return [f"{label}{failure}" for failure in check_thresholds(summary, thresholds)]


def _eval_corpora(corpora: list[Corpus], split: str, out: Path, k: int, thresholds: dict[str, Any] | None) -> list[str]:
    """Score each corpus (gold and/or held-out), print them side by side, gate the gold splits."""
    from rich.console import Console
    from rich.table import Table

    from rag.evaluation.corpora import SPLITS, corpus_settings, overview_markdown, overview_rows
    from rag.settings import load_settings

    settings = load_settings()
    summaries: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for corpus in corpora:
        scoped = corpus_settings(settings, corpus)
        for name in SPLITS if split == "all" else (split,):
            path = corpus.questions(name)
            if not path.is_file():
                continue
            click.echo(f"{corpus.name} / {name}:")
            summary = _eval_one(scoped, path, out / corpus.name / name, k, None)
            summaries[f"{corpus.name}/{name}"] = summary
            if thresholds is not None and name == "gold":  # every corpus has its gate (eval_command)
                failures += _gate(summary, thresholds[corpus.name], f"{corpus.name}: ")
    table = Table(title="Side by side: value (questions)")
    for column in ("metric", *summaries):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in overview_rows(summaries):
        table.add_row(*row)
    Console().print(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "overview.md").write_text(overview_markdown(summaries), encoding="utf-8")
    click.echo(f"wrote {out / 'overview.md'}")
    return failures


def _eval_one(settings: Any, gold_path: Path, out: Path, k: int, old: dict[str, Any] | None) -> dict[str, Any]:
    """Index (incrementally) and score one gold file; print its table and write its report."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from rag.evaluation.gold import load_gold
    from rag.evaluation.report import write_outputs
    from rag.evaluation.run import compare, run_eval
    from rag.pipeline import build_pipeline

    pipeline = build_pipeline(settings)
    pipeline.index()  # incremental: a no-op when the folder has not changed since the last run
    items = load_gold(gold_path, pipeline.seeds_dir)
    console = Console()
    with Progress(TextColumn("Evaluating"), BarColumn(), MofNCompleteColumn(), console=console, transient=True) as bar:
        task = bar.add_task("eval", total=len(items))
        records, summary = run_eval(pipeline, items, k, lambda done, _: bar.update(task, completed=done))
    table = Table(title=f"{len(items)} questions, mode {summary['mode']}")
    for column in ("metric", "value", "95% CI", "n") + (("before", "delta") if old else ()):
        table.add_column(column, justify="left" if column == "metric" else "right")
    before = {name: value for name, value, _ in compare(summary, old)} if old else {}
    for name, entry in summary["rates"].items():
        value = entry["value"]
        row = [name, _num(value), f"{_num(entry['ci95'][0])}–{_num(entry['ci95'][1])}", str(entry["n"])]
        if old:
            prior = before.get(name)
            delta = None if value is None or prior is None else value - prior
            row += [_num(prior), "—" if delta is None else f"{delta:+.3f}"]
        table.add_row(*row)
    console.print(table)
    lat = summary["latency"]
    console.print(
        f"retrieve p50 {lat['retrieve_ms']['p50']:.1f} ms p95 {lat['retrieve_ms']['p95']:.1f} ms; "
        f"ask p50 {lat['ask_ms']['p50']:.1f} ms p95 {lat['ask_ms']['p95']:.1f} ms"
    )
    for path in write_outputs(out, summary, records):
        console.print(f"wrote {path}")
    return summary


@main.group()
def feedback() -> None:
    """The chat's 👍/👎 feedback (RAG_FEEDBACK_PATH, default feedback.jsonl in the index folder)."""


@feedback.command("export")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Gold file to write.")
@click.option(
    "--feedback",
    "feedback_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Feedback file to read (default: the configured one).",
)
@friendly
def feedback_export(out: Path, feedback_path: Path | None) -> None:
    """Write the 👎 answers that carry a correction as gold questions for `rag eval --gold OUT`.

    A --feedback file that does not exist is a typo, not "no feedback yet", so it is an error
    and OUT is left as it was; the configured file may not exist yet (nobody has rated).
    """
    from rag.evaluation.gold import load_gold
    from rag.feedback import export, feedback_file
    from rag.settings import load_settings

    if feedback_path is not None and not feedback_path.is_file():
        raise InputError(f"--feedback {feedback_path}: no such file.")
    _check_out(out)
    settings = load_settings()
    source = feedback_path or feedback_file(settings)
    done = export(source, out, settings.seeds_dir)
    if done.written:
        load_gold(out, settings.seeds_dir)  # the file must be one `rag eval --gold` accepts
    message = f"Wrote {done.written} gold questions to {out} from {done.read} feedback lines in {source}"
    if done.skipped:
        message += f", skipping {done.skipped} lines that are not ratings (cut short or of another shape)"
    click.echo(
        message + (f"; score them with `rag eval --gold {out}`." if done.written else " (no 👎 with a correction yet).")
    )


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _check_out(path: Path) -> None:
    """Fail before the work, not after it, when `path` cannot be created because a folder above it is a file."""
    blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise InputError(f"--out {path}: {blocking} is a file, not a folder.")


def _prepare_out(path: Path) -> None:
    """Fail now, not after the work, when the report folder cannot be made (a file above it, no
    permission, a read-only disk): the folders it needs are made and removed again, so a later
    input error still leaves nothing behind."""
    _check_out(path)
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot create the folder ({exc.strerror or exc}).") from None
    if missing:
        shutil.rmtree(missing[-1], ignore_errors=True)


if __name__ == "__main__":
    main()
