"""Which PDF library reads newspaper PDFs best: pypdfium2, pypdf and pdfminer.six, measured.

`python bench/pdf_readers.py` writes one- and two-column PDFs with running headers and page
numbers (reportlab, tests/format_files.py), reads them with each library and prints, per
library and layout: the share of the story's sentences found whole in the text (whitespace
aside), the share found in reading order, the running headers and page numbers left in the
text, and the time per page. The last row is what `rag index` reads (rag/index/pdf_files.py). The libraries are the
dev extra's (`make install-dev`); only the chosen one is a dependency of the package.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import format_files  # noqa: E402

_WORDS = [
    "harbour",
    "council",
    "ferry",
    "storm",
    "tide",
    "minister",
    "budget",
    "vote",
    "coast",
    "fishermen",
    "port",
    "crane",
    "union",
    "strike",
    "contract",
    "winter",
    "bridge",
    "repair",
    "grant",
    "school",
    "nurses",
    "hospital",
    "trains",
    "delay",
    "weather",
    "flood",
    "record",
]


def stories(count: int, seed: int = 7) -> list[format_files.Story]:
    """Articles of made-up sentences, each sentence unique so that it can be found in the text."""
    rng = random.Random(seed)
    made = []
    for n in range(count):
        paragraphs = []
        for p in range(8):
            sentences = [
                f"Report {n}-{p}-{s} says the " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 22))) + "."
                for s in range(rng.randint(2, 5))
            ]
            paragraphs.append(" ".join(sentences))
        made.append((f"Storm report number {n}", f"2024-03-{n % 27 + 1:02d}", paragraphs))
    return made


def _pdfium(path: Path) -> list[str]:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def _pypdf(path: Path) -> list[str]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(str(path)).pages]


def _pdfminer(path: Path) -> list[str]:
    from pdfminer.high_level import extract_text

    return extract_text(str(path)).split("\f")


def _rag(path: Path) -> list[str]:
    """What `rag index` reads: pypdfium2's text boxes joined into paragraphs, headers and page numbers left out."""
    from rag.index.pdf_files import read_pdf

    return [str(read_pdf(path).articles[0])]


READERS: dict[str, Callable[[Path], list[str]]] = {
    "pypdfium2": _pdfium,
    "pypdf": _pypdf,
    "pdfminer.six": _pdfminer,
    "rag (pdf_files.py)": _rag,
}


def furniture(pages: list[str]) -> int:
    """Running headers and page numbers left in the text."""
    lines = [line.strip() for page in pages for line in page.splitlines()]
    return sum(format_files.HEADER in line for line in lines) + sum(line.isdigit() for line in lines)


def score(pages: list[str], made: list[format_files.Story]) -> tuple[float, float]:
    """(share of sentences found whole, share found in reading order: the longest run in order)."""
    text = " ".join(" ".join(pages).split())
    wanted = [s + "." if not s.endswith(".") else s for _, _, ps in made for p in ps for s in p.split(". ")]
    places = [text.find(" ".join(s.split())) for s in wanted]
    found = [p for p in places if p >= 0]
    longest: list[int] = []  # patience sorting: the longest increasing run of positions
    import bisect

    for place in found:
        i = bisect.bisect_left(longest, place)
        longest[i : i + 1] = [place]
    return len(found) / len(wanted), len(longest) / len(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=12, help="articles per PDF (each starts a page)")
    parser.add_argument("--repeat", type=int, default=3, help="reads per library and layout; the fastest counts")
    args = parser.parse_args()
    made = stories(args.articles)
    print("| library | layout | sentences found | in reading order | headers and page numbers left | ms per page |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for columns in (1, 2):
            path = format_files.pdf(Path(folder) / f"{columns}.pdf", made, columns=columns)
            for name, read in READERS.items():
                best = float("inf")
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    pages = read(path)
                    best = min(best, time.perf_counter() - started)
                found, ordered = score(pages, made)
                layout = f"{columns} column{'s' if columns > 1 else ''}"
                pages_read = len(format_files.pdf_pages(path))
                per_page = 1000 * best / pages_read
                row = f"| {name} | {layout} | {found:.3f} | {ordered:.3f} | {furniture(pages)} | {per_page:.1f} |"
                print(row)


if __name__ == "__main__":
    main()
