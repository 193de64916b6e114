"""Measure the folding of copies (docs/formats.md): the threshold that folds edited copies of a story
and never two different stories, and a corpus with copies added for `rag eval`.

    .venv/bin/python eval/duplicates.py
    .venv/bin/python eval/duplicates.py --write /tmp/dups
    .venv/bin/rag eval --split gold --corpus eval/corpora/news40 --corpus /tmp/dups/news40-copies --out /tmp/dups/out
    .venv/bin/python eval/duplicates.py --cited /tmp/dups/out

Positives: every article of the eval corpora (eval/corpora/*/articles) copied with each kind
of edit a newsroom's folder shows: the same file under another name; the PDF and the Word
file of the same story (read back by `rag index`'s readers); retitled and re-dated; a
paragraph added (an outlet's own context: 60 words of another story); the last 20%
of the words cut; a copy-edit changing 5%, 10% or 20% of the words; and a syndicated copy
(retitled, re-dated, a byline and a paragraph added, 3% of the words edited).
Negatives: every pair of two different articles, among them the five seed articles (reports
of one day's talks in Istanbul by different outlets) and the stories two corpora share.

For each threshold it prints the share of each kind of copy whose body's 5-word shingles
have at least that Jaccard similarity with the original's, and how many pairs of different
articles would fold; then it folds every article and copy at `THRESHOLD` with
`rag.index.duplicates` itself (MinHash LSH and all) and prints precision and recall of the
folds. `--write` adds copies of 20% of each corpus's articles (later dates and longer names,
so the originals stay canonical) and copies its questions, for `rag eval` to show the same
hit@1 with and without the copies; `--cited` counts the answers that cite two copies of one story.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import format_files as ff  # noqa: E402

from rag.evaluation.corpora import copy_questions, load_corpus  # noqa: E402
from rag.index.columns import Columns  # noqa: E402
from rag.index.duplicates import THRESHOLD, Body, bodies, find_folds, jaccard  # noqa: E402
from rag.index.ingest import MAX_FILE_BYTES, read_file  # noqa: E402
from rag.index.parsing import clean_text, parse_article  # noqa: E402

CORPORA = ("news40", "news100", "abc-news-50")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Words a copy-edit puts in place of a word it changes.
EDIT_WORDS = ("reportedly", "officials", "the", "new", "local", "said", "on", "Tuesday", "also", "its")
#: Words of the paragraph an outlet adds to a copy (taken from another story).
EXTRA_WORDS = 60
#: The kind of "copy" that is another story: the same text with other figures (a template's, or a correction).
APART = "figures changed"
#: Kinds of copy written by --write, in turn.
WRITTEN = ("exact", "retitled", "paragraph added", "syndicated")

#: (headline, ISO date, paragraphs), as tests/format_files.py writes them
Story = ff.Story


def story_of(raw: str) -> Story:
    """An article as `rag index` reads it: headline, date and body paragraphs."""
    art = parse_article(raw)
    paragraphs = [clean_text(raw[s:e]) for s, e in art.paragraphs]
    return (art.title or paragraphs[0][:80], art.date or "", paragraphs)


def as_text(story: Story) -> str:
    """A text file of the story (no date line for an undated one: a made-up date would change which is canonical)."""
    headline, date, paragraphs = story
    return f"{headline}\n{date}\n\n".replace("\n\n\n", "\n\n") + "\n\n".join(paragraphs) + "\n"


def later(date: str, days: int) -> str:
    import datetime

    return (datetime.date.fromisoformat(date) + datetime.timedelta(days=days)).isoformat() if date else date


def trimmed(paragraphs: list[str], keep: float) -> list[str]:
    """The paragraphs cut at `keep` of their words, as a wire story is cut from the end to fit."""
    left = round(keep * sum(len(p.split()) for p in paragraphs))
    out = []
    for paragraph in paragraphs:
        words = paragraph.split()[:left]
        if words:
            out.append(" ".join(words))
        left -= len(words)
    return out


def edited(paragraphs: list[str], share: float, rng: random.Random) -> list[str]:
    """Paragraphs with about `share` of the words replaced, dropped or doubled with another word."""
    out = []
    for paragraph in paragraphs:
        tokens = []
        for word in paragraph.split():
            if rng.random() >= share:
                tokens.append(word)
                continue
            kind = rng.randrange(3)
            if kind == 0:
                tokens.append(rng.choice(EDIT_WORDS))
            elif kind == 1:
                tokens.extend([word, rng.choice(EDIT_WORDS)])
        out.append(" ".join(tokens))
    return out


def copies(story: Story, other: Story, rng: random.Random) -> dict[str, Story]:
    """Edited copies of `story` by kind; `other` lends the paragraph an outlet adds."""
    headline, date, paragraphs = story
    extra = " ".join(" ".join(other[2]).split()[:EXTRA_WORDS])
    return {
        "retitled": (f"{headline.upper()} - Wire", later(date, 2), paragraphs),
        "paragraph added": (headline, date, [*paragraphs, extra]),
        "last 20% cut": (headline, date, trimmed(list(paragraphs), 0.8)),
        "copy-edit 5%": (headline, date, edited(list(paragraphs), 0.05, rng)),
        "copy-edit 10%": (headline, date, edited(list(paragraphs), 0.10, rng)),
        "copy-edit 20%": (headline, date, edited(list(paragraphs), 0.20, rng)),
        "figures changed": (headline, date, [re.sub(r"\d+", lambda m: str(int(m.group()) + 1), p) for p in paragraphs]),
        "syndicated": (
            f"Syndicated: {headline}",
            later(date, 1),
            [f"By Staff, The Harbour Gazette. {paragraphs[0]}", *edited(list(paragraphs[1:]), 0.03, rng), extra],
        ),
    }


def read_back(path: Path) -> str:
    """The text `rag index` reads from a file of another format."""
    outcome = read_file(path, path.name, MAX_FILE_BYTES, Columns(), None)
    assert not isinstance(outcome, str), outcome
    return outcome[0][0].raw


def formats(story: Story, folder: Path, stem: str) -> dict[str, str]:
    """The story as a PDF and a Word file, read back as `rag index` reads them."""
    return {
        "pdf": read_back(ff.pdf(folder / f"{stem}.pdf", [story])),
        "docx": read_back(ff.docx(folder / f"{stem}.docx", story)),
    }


def originals(limit: int | None) -> dict[str, str]:
    """Every eval article and seed article: name -> raw text."""
    found = {}
    for corpus in CORPORA:
        paths = sorted((ROOT / "eval" / "corpora" / corpus / "articles").glob("*.txt"))
        for path in paths[:limit]:
            found[f"{corpus}/{path.name}"] = path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        found[f"seeds/{path.name}"] = path.read_text(encoding="utf-8")
    return found


def measure(limit: int | None, formats_every: int) -> None:
    rng = random.Random(23)
    raws = originals(limit)
    names = list(raws)
    made: dict[str, dict[str, str]] = {}  # kind -> copy name -> raw
    origin: dict[str, str] = {}  # copy name -> original
    with tempfile.TemporaryDirectory() as scratch:
        for i, name in enumerate(names):
            story = story_of(raws[name])
            other = story_of(raws[names[(i + len(names) // 2) % len(names)]])
            kinds = {"exact": raws[name], **{k: as_text(s) for k, s in copies(story, other, rng).items()}}
            if i % formats_every == 0:
                kinds.update(formats(story, Path(scratch), f"a{i}"))
            if not any(ch.isdigit() for p in story[2] for ch in p):
                del kinds["figures changed"]  # no figure to change: it would be an exact copy
            for kind, raw in kinds.items():
                copy = f"{name}~{kind}"
                made.setdefault(kind, {})[copy] = raw
                origin[copy] = name
    started = time.perf_counter()
    found = {b.name: b for b in bodies([*raws.items(), *((n, r) for kind in made.values() for n, r in kind.items())])}
    shingled = time.perf_counter() - started
    similarity = {kind: [jaccard(found[origin[c]].shingles, found[c].shingles) for c in made[kind]] for kind in made}
    pairs = sorted(
        ((jaccard(found[a].shingles, found[b].shingles), a, b) for a, b in itertools.combinations(names, 2)),
        reverse=True,
    )
    print(f"{len(names)} articles, {len(origin)} copies, {len(pairs)} pairs of different articles\n")
    print("| copy | copies | Jaccard min / median | " + " | ".join(f">= {t}" for t in THRESHOLDS) + " |")
    print("|---|---|---|" + "---|" * len(THRESHOLDS))
    for kind, values in similarity.items():
        ordered = sorted(values)
        shares = " | ".join(f"{sum(v >= t for v in values) / len(values):.2f}" for t in THRESHOLDS)
        print(f"| {kind} | {len(values)} | {ordered[0]:.2f} / {ordered[len(ordered) // 2]:.2f} | {shares} |")
    folded = " | ".join(str(sum(j >= t for j, _, _ in pairs)) for t in THRESHOLDS)
    print(f"| different articles (pairs folded) | {len(pairs)} | max {pairs[0][0]:.3f} | {folded} |")
    print("\nMost similar pairs of different articles:")
    for value, a, b in pairs[:5]:
        print(f"  {value:.3f}  {a}  {b}")
    fold_all(found, origin, shingled)


def fold_all(found: dict[str, Body], origin: dict[str, str], shingled: float) -> None:
    """Fold everything with rag.index.duplicates at THRESHOLD: precision and recall of the folds."""
    started = time.perf_counter()
    folds = find_folds(found.values())
    seconds = time.perf_counter() - started

    def story(name: str) -> str:
        return origin.get(name, name)

    def canonical(name: str) -> str:
        return folds.copy_of.get(name, name)

    def kind(name: str) -> str:
        return name.rsplit("~", 1)[1] if name in origin else ""

    # a copy whose figures changed is another story (a template's, or a correction): folding it is wrong
    wrong = [
        (copy, into)
        for copy, into in folds.copy_of.items()
        if story(copy) != story(into) or APART in (kind(copy), kind(into))
    ]
    together: dict[str, list[bool]] = {}
    for copy, name in origin.items():
        together.setdefault(kind(copy), []).append(canonical(copy) == canonical(name))
    copies = [hit for name, hits in together.items() if name != APART for hit in hits]
    recall = sum(copies) / len(copies)
    precision = 1 - len(wrong) / max(1, len(folds.copy_of))
    print(
        f"\nFolded at Jaccard >= {THRESHOLD} by rag.index.duplicates: {len(folds.copy_of)} copies into "
        f"{len(folds.groups)} articles; precision {precision:.3f}, recall {recall:.3f} ({len(wrong)} folds of "
        f"two different stories); {shingled:.2f} s to parse and shingle {len(found)} articles, {seconds:.2f} s "
        "to fold them"
    )
    for kind, hits in together.items():
        print(f"  {kind}: {sum(hits)}/{len(hits)} folded with their original")
    for copy, into in wrong[:5]:
        print(f"  wrong: {copy} into {into}")


def write(target: Path, share: float = 0.2) -> None:
    """Each corpus with copies of `share` of its articles added (kinds in turn), and its questions."""
    rng = random.Random(23)
    for corpus_name in CORPORA:
        corpus = load_corpus(ROOT / "eval" / "corpora" / corpus_name)
        out = target / f"{corpus_name}-copies"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(corpus.articles, out / "articles")
        paths = sorted(corpus.articles.glob("*.txt"))
        chosen = rng.sample(paths, round(share * len(paths)))
        for i, path in enumerate(sorted(chosen)):
            raw = path.read_text(encoding="utf-8")
            kind = WRITTEN[i % len(WRITTEN)]
            story = story_of(raw)
            other = story_of(paths[(paths.index(path) + 1) % len(paths)].read_text(encoding="utf-8"))
            made: dict[str, Callable[[], str]] = {
                "exact": lambda raw=raw: raw,
                "retitled": lambda s=story, o=other: as_text(copies(s, o, rng)["retitled"]),
                "paragraph added": lambda s=story, o=other: as_text(copies(s, o, rng)["paragraph added"]),
                "syndicated": lambda s=story, o=other: as_text(copies(s, o, rng)["syndicated"]),
            }
            (out / "articles" / f"{path.stem}-{kind.replace(' ', '-')}-copy.txt").write_text(made[kind](), "utf-8")
        copy_questions(corpus, {}, out)
        print(f"Wrote {corpus_name} with {len(chosen)} copies added ({', '.join(WRITTEN)} in turn) to {out}")


def cited_twice(out: Path) -> None:
    """Count the answers of `rag eval` runs under `out` that cite two copies of one story (two files whose
    names differ only by --write's '-KIND-copy' ending)."""
    import csv
    import re

    copy = re.compile(r"-(?:" + "|".join(k.replace(" ", "-") for k in WRITTEN) + r")-copy(?=\.txt$)")
    for path in sorted(out.rglob("questions.csv")):
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        twice = 0
        for row in rows:
            files = {m.group(1) for m in re.finditer(r"\] (\S+?)@", row.get("citations", ""))}
            stories = {copy.sub("", name) for name in files}
            twice += len(stories) < len(files)
        print(f"{path.parent.relative_to(out)}: {twice} of {len(rows)} answers cite two copies of one story")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="Write each corpus with 20%% copies added into this folder.")
    parser.add_argument("--cited", type=Path, help="Count answers citing two copies in `rag eval --out` folders.")
    parser.add_argument("--limit", type=int, default=None, help="Articles per corpus (default: all).")
    parser.add_argument("--formats-every", type=int, default=5, help="Render every N-th article as PDF and DOCX.")
    args = parser.parse_args()
    if args.write:
        write(args.write)
    elif args.cited:
        cited_twice(args.cited)
    else:
        measure(args.limit, args.formats_every)


if __name__ == "__main__":
    main()
