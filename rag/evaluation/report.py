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
#: Written when the summary has a `selective` part (offline answers: risk-coverage and calibration).
SELECTIVE_FILES = ("risk_coverage.png", "reliability.png")


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
    ]
    lines += kind_lines(summary) + selective_lines(summary) + ["", "## Failures", ""]
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


def kind_lines(summary: dict[str, Any]) -> list[str]:
    """The answer-quality rates by kind of question, as a Markdown table."""
    kinds = summary.get("by_kind") or {}
    if not kinds:
        return []
    names = list(next(iter(kinds.values())))
    lines = ["", "## By kind of question", "", "| kind | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for kind, rates in kinds.items():
        cells = [f"{_fmt(rates[n]['value'])} ({rates[n]['n']})" for n in names]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return lines


def selective_lines(summary: dict[str, Any]) -> list[str]:
    """The risk-coverage area and the calibration error, when measured."""
    part = summary.get("selective")
    if not part:
        return []
    ece = "—" if part["ece"] is None else f"{part['ece']:.3f}"
    return [
        "",
        f"Risk–coverage (every question answered with no threshold, most confident first): area {part['aurc']:.3f} "
        f"(lower is better; risk_coverage.png). Expected calibration error of the shown confidence: {ece} "
        "(reliability.png).",
    ]


def plot_risk_coverage(summary: dict[str, Any], path: Path) -> None:
    """Share of wrong answers among the most confident ones, against the share answered."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = summary["selective"]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    if part["curve"]:
        ax.plot([c for c, _ in part["curve"]], [r for _, r in part["curve"]], color="#4c78a8")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("coverage (questions answered, most confident first)")
    ax.set_ylabel("risk (answers that are wrong)")
    ax.set_title(f"Risk–coverage ({summary['mode']}), area {part['aurc']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(summary: dict[str, Any], path: Path) -> None:
    """Accuracy against the shown confidence, per confidence bin (the diagonal is perfect calibration)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = summary["selective"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", color="#999")
    if part["reliability"]:
        ax.plot([c for c, _, _ in part["reliability"]], [a for _, a, _ in part["reliability"]], "o-", color="#e45756")
        ax.set_title(f"Reliability, ECE {part['ece']:.3f}")
    else:
        ax.set_title("Reliability: no probability to calibrate (reader off)")
    ax.set_xlabel("confidence shown")
    ax.set_ylabel("answers right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
        names: tuple[str, ...] = FILES
        if summary.get("selective"):
            plot_risk_coverage(summary, staging / "risk_coverage.png")
            plot_reliability(summary, staging / "reliability.png")
            names = FILES + SELECTIVE_FILES
        for name in names:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in names]
