"""The `rag` command. Project errors become one line and an exit code here, nowhere else."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from rag.errors import QuestionError, RagError, SettingsError

#: Exit codes: 1 for a failure of the system, 2 for input the user can fix.
EXIT_FAILURE, EXIT_BAD_INPUT = 1, 2


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn project errors into one line on stderr and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (QuestionError, SettingsError) as exc:
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


@main.command()
@friendly
def index() -> None:
    """Build or refresh the index from the seeds folder."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    pipeline = _pipeline(build_index=False)
    console = Console(stderr=True)
    with Progress(
        TextColumn("Embedding sentences"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("embed", total=None)
        summary = pipeline.index(lambda done, total: bar.update(task, completed=done, total=total))
    where = pipeline.store.where
    if summary.rebuilt_reason:
        click.echo(f"Rebuilt the index: {summary.rebuilt_reason}.")
    if not summary.modified:
        click.echo(f"Index is up to date: {len(summary.unchanged)} files, {summary.chunks} sentences ({where}).")
    else:
        click.echo(
            f"Indexed {len(summary.added) + len(summary.changed) + len(summary.unchanged)} files "
            f"({len(summary.added)} new, {len(summary.changed)} changed, {len(summary.unchanged)} unchanged, "
            f"{len(summary.removed)} removed): {summary.chunks} sentences, {summary.embedded} embedded, "
            f"in {summary.seconds:.1f} s ({where})."
        )
    for name, reason in summary.skipped:
        click.echo(f"Skipped {name}: {reason}")


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
    if answer.notice:
        click.echo(f"\nNote: {answer.notice}")
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        dated = f", {c.date}" if c.date else ""
        titled = f" — {c.title}" if c.title else ""
        click.echo(f"[{c.number}] {c.source}{dated}{titled}\n    “{c.text}”")


if __name__ == "__main__":
    main()
