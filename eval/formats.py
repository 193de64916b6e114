"""Make a copy of an eval corpus in which every article is in another format (docs/formats.md).

    .venv/bin/python eval/formats.py eval/corpora/news40 /tmp/formats csv
    .venv/bin/rag eval --corpus eval/corpora/news40 --corpus /tmp/formats/news40-csv --out /tmp/formats/out

Newsrooms keep their archive as PDFs, Word files, mail, feeds and exports as often as text.
Each article's headline, date and paragraphs (as `rag.index.parsing` reads the text file) are
written in the format, by the same writers the tests use (tests/format_files.py):

- pdf1, pdf2: one PDF per article, one or two columns, a running header and a page number
  on every page (reportlab);
- docx, eml: one Word file, one e-mail per article;
- mbox, rss, csv, jsonl, parquet, export: one file holding every article (a mailbox, an RSS feed, a CSV,
  a JSON Lines and a Parquet export, a "Document N of M" text export).

The gold questions are copied with their sources renamed (`a.txt` to `a.pdf`, or to
`articles.csv#N` for the N-th article of a file of many), so the same questions measure how
much of the answering survives reading the format instead of the text. FORMAT may be `all`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import format_files as ff  # noqa: E402

from rag.evaluation.corpora import copy_questions, load_corpus  # noqa: E402
from rag.index.parsing import clean_text, parse_article  # noqa: E402

#: Formats with one file per article: suffix and writer.
ONE_PER_FILE: dict[str, tuple[str, Callable[[Path, ff.Story], Path]]] = {
    "pdf1": (".pdf", lambda path, story: ff.pdf(path, [story], columns=1)),
    "pdf2": (".pdf", lambda path, story: ff.pdf(path, [story], columns=2)),
    "docx": (".docx", ff.docx),
    "eml": (".eml", ff.eml),
}
#: Formats with every article in one file: its name and writer.
ALL_IN_ONE: dict[str, tuple[str, Callable[[Path, Sequence[ff.Story]], Path]]] = {
    "mbox": ("articles.mbox", ff.mbox),
    "rss": ("articles.rss", ff.feed),
    "csv": ("articles.csv", ff.table),
    "jsonl": ("articles.jsonl", ff.json_lines),
    "parquet": ("articles.parquet", ff.parquet),
    "export": ("articles.txt", ff.export),
}
FORMATS = (*ONE_PER_FILE, *ALL_IN_ONE)
#: The date written for an article without one: every format needs a date field.
NO_DATE = "2000-01-01"


def stories(articles: Path) -> dict[str, ff.Story]:
    """Each article file (relative name) as (headline, date, paragraphs), as `rag index` reads it."""
    found = {}
    for path in sorted(p for p in articles.rglob("*") if p.is_file() and not p.name.startswith(".")):
        raw = path.read_text(encoding="utf-8")
        art = parse_article(raw)
        texts = [clean_text(raw[s:e]) for s, e in art.paragraphs]
        if texts:
            found[path.relative_to(articles).as_posix()] = (art.title or texts[0][:80], art.date or NO_DATE, texts)
    return found


def write(form: str, made: dict[str, ff.Story], folder: Path) -> dict[str, str]:
    """Write the articles in `form` into `folder`; returns the renaming of sources."""
    folder.mkdir(parents=True, exist_ok=True)
    if form in ONE_PER_FILE:
        suffix, one = ONE_PER_FILE[form]
        renamed = {}
        for name, story in made.items():
            target = folder / Path(name).with_suffix(suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            one(target, story)
            renamed[name] = Path(name).with_suffix(suffix).as_posix()
        return renamed
    file, many = ALL_IN_ONE[form]
    many(folder / file, list(made.values()))
    return {name: f"{file}#{n}" for n, name in enumerate(made, 1)}


def main(source: Path, target: Path, form: str) -> None:
    corpus = load_corpus(source)
    made = stories(corpus.articles)
    for chosen in FORMATS if form == "all" else (form,):
        out = target / f"{corpus.name}-{chosen}"
        copy_questions(corpus, write(chosen, made, out / "articles"), out)
        print(f"Wrote {len(made)} articles as {chosen} and the gold questions to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in (*FORMATS, "all"):
        sys.exit(f"usage: formats.py CORPUS_FOLDER TARGET_FOLDER {{{','.join(FORMATS)},all}}")
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
