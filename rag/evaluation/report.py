"""Eval outputs: summary JSON, per-question CSV, Markdown report and PNG plots.

Files are written into a temporary folder and moved into place only when all of them
exist, so an interrupted run never leaves a summary that looks complete.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FILES = ("summary.json", "questions.csv", "report.md", "metrics.png", "latency.png")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown(summary: dict[str, Any], records: Sequence[dict[str, Any]]) -> str:
    """The human-readable report."""
    lines = [
        "# Evaluation report",
        "",
        f"{summary['questions']} questions ({summary['answerable']} answerable, "
        f"{summary['unanswerable']} unanswerable), k = {summary['k']}, mode: {summary['mode']}.",
        "",
        "| metric | value | 95% CI | n |",
        "|---|---|---|---|",
    ]
    for name, entry in summary["rates"].items():
        low, high = entry["ci95"]
        lines.append(f"| {name} | {_fmt(entry['value'])} | {_fmt(low)}–{_fmt(high)} | {entry['n']} |")
    lat = summary["latency"]
    lines += [
        "",
        f"Latency: retrieve p50 {lat['retrieve_ms']['p50']:.1f} ms, p95 {lat['retrieve_ms']['p95']:.1f} ms; "
        f"ask p50 {lat['ask_ms']['p50']:.1f} ms, p95 {lat['ask_ms']['p95']:.1f} ms.",
        f"Unsupported answer sentences: {summary['unsupported_sentences']}.",
        "",
        "## Failures",
        "",
    ]
    failures = [r for r in records if not r["passed"]]
    for r in failures:
        what = (
            "answered an unanswerable question"
            if not r["answerable"]
            else ("refused" if r["refused"] else "gold fact missing")
        )
        lines.append(f"- `{r['id']}` {r['question']} — {what}: {r['answer'][:160]}")
    if not failures:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def plot_metrics(summary: dict[str, Any], path: Path) -> None:
    """Horizontal bars of every rate with its bootstrap interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, e in summary["rates"].items() if e["value"] is not None]
    values = [summary["rates"][n]["value"] for n in names]
    lows = [v - summary["rates"][n]["ci95"][0] for n, v in zip(names, values, strict=False)]
    highs = [summary["rates"][n]["ci95"][1] - v for n, v in zip(names, values, strict=False)]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1))
    ax.barh(names, values, xerr=[lows, highs], color="#4c78a8", ecolor="#333", capsize=3)
    ax.set_xlim(0, 1.05)
    ax.invert_yaxis()
    ax.set_xlabel("rate (bars: bootstrap 95% CI)")
    ax.set_title(f"Gold-set metrics ({summary['mode']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(records: Sequence[dict[str, Any]], path: Path) -> None:
    """Histogram of retrieve and ask latencies."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for field, label in (("retrieve_ms", "retrieve"), ("ask_ms", "ask")):
        values = [r[field] for r in records if r[field] is not None]
        if values:
            ax.hist(values, bins=30, alpha=0.6, label=label)
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("questions")
    ax.legend()
    ax.set_title("Latency per question")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(out: Path, summary: dict[str, Any], records: Sequence[dict[str, Any]]) -> list[Path]:
    """Write every output file into `out`, all or nothing."""
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".eval-", dir=out))
    try:
        (staging / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        with (staging / "questions.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
        (staging / "report.md").write_text(markdown(summary, records), encoding="utf-8")
        plot_metrics(summary, staging / "metrics.png")
        plot_latency(records, staging / "latency.png")
        for name in FILES:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in FILES]
