"""Read a PDF with a text layer as one article: its paragraphs in reading order, its pages kept.

pypdfium2 (PDFium, Apache-2.0/BSD) reads the text: of the three libraries measured
(bench/pdf_readers.py, docs/formats.md) it found every sentence, in order, in one and two
columns, and was the fastest. PDFium gives the text as runs, each with its box on the page.
Runs on one line are joined; lines are joined into paragraphs until a gap wider than the
page's usual line spacing, a change of type size or a new column ends one (a sentence that
runs on into the next column or page stays whole). Running headers and footers (a line near
the top or bottom edge that recurs on most pages, numbers aside, or is set in smaller type
than the text) and page numbers are left out. Each paragraph becomes one line of the
extracted text, and the offset where each page starts is kept, so a quote is cited with its page.

A PDF that needs a password, that holds only scanned images, or that is damaged is refused
with the reason.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.index.extracted import ExtractedText, Extraction, Unreadable

#: Share of the page height, at the top and at the bottom, where running headers and footers sit.
EDGE = 0.07
#: A header or footer recurs on at least this share of the pages (of a file with two or more).
RECURRING = 0.5
#: A gap between lines wider than this many times the line spacing ends a paragraph.
PARAGRAPH_GAP = 1.3
#: Line spacing is at most this many times the type size: news paragraphs are short, so the
#: measured spacing alone may be mostly the gaps between paragraphs.
MAX_LEADING = 1.3
#: An edge line in type smaller than this share of the text's is a running header or footer,
#: even on a single page.
SMALL_TYPE = 0.85
_PAGE_NUMBER = re.compile(r"(?i)(?:page\s*)?[-–—\s]*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?[-–—\s]*")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "\xad": "", "\x02": ""})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
_SENTENCE_END = (".", "!", "?", '"', "”", "’", ")", ":")


@dataclass
class _Line:
    text: str
    left: float
    top: float
    bottom: float
    #: The type size of its first character, in points.
    size: float


def read_pdf(path: Path) -> Extraction:
    """The PDF as one article (see the module's docstring); Unreadable with the reason otherwise."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Unreadable("encrypted PDF (it needs a password; save an unprotected copy)") from None
        raise Unreadable(f"damaged or truncated PDF ({exc})") from None
    try:
        pages = [_page_lines(document[i]) for i in range(len(document))]
    except pypdfium2.PdfiumError as exc:
        raise Unreadable(f"damaged PDF ({exc})") from None
    finally:
        document.close()
    if not any(line.text for page in pages for line, _ in page):
        raise Unreadable("no text layer (a scanned PDF?); OCR is not supported")
    recurring = _running_lines(pages)
    small = SMALL_TYPE * _text_size(pages)
    kept = [
        [
            line
            for line, edge in page
            if not (edge and (_key(line.text) in recurring or line.size < small or _PAGE_NUMBER.fullmatch(line.text)))
        ]
        for page in pages
    ]
    text, starts = _paragraphs(kept)
    if not text.strip():
        raise Unreadable("no text besides headers and page numbers")
    return Extraction([ExtractedText(text, pages=starts)])


def _page_lines(page) -> list[tuple[_Line, bool]]:
    """The page's text lines in the order PDFium gives them, each marked True when at the top or bottom edge."""
    height = page.get_height()
    textpage = page.get_textpage()
    lines: list[_Line] = []
    try:
        for i in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(i)
            text = _CONTROL.sub("", textpage.get_text_bounded(left, bottom, right, top).translate(_LIGATURES))
            text = " ".join(text.split())
            if not text:
                continue
            last = lines[-1] if lines else None
            if last is not None and abs(last.top - top) < 0.5 * max(1.0, last.size) and left >= last.left:
                last.text += " " + text
                last.bottom = min(last.bottom, bottom)
            else:
                size = _type_size(textpage, (left, bottom, right, top), last.size if last else top - bottom)
                lines.append(_Line(text, left, top, bottom, size))
    finally:
        textpage.close()
    return [(line, line.top > height * (1 - EDGE) or line.bottom < height * EDGE) for line in lines]


def _type_size(textpage, box: tuple[float, float, float, float], otherwise: float) -> float:
    """The type size of a character near the start of a text box (`otherwise` when PDFium finds none there)."""
    import pypdfium2.raw as pdfium

    left, bottom, right, top = box
    for x in (left + 1, left + 4, (left + right) / 2):
        index = textpage.get_index(min(x, right), (top + bottom) / 2, 3, 3)
        if index is not None and index >= 0:
            size = pdfium.FPDFText_GetFontSize(textpage.raw, index)
            if size > 0:
                return float(size)
    return otherwise


def _text_size(pages: list[list[tuple[_Line, bool]]]) -> float:
    """The type size most of the text is set in (the median over characters, not lines)."""
    sizes = sorted((line.size, len(line.text)) for page in pages for line, _ in page)
    middle, seen = sum(count for _, count in sizes) / 2, 0
    for size, count in sizes:
        seen += count
        if seen >= middle:
            return size
    return 0.0


def _key(text: str) -> str:
    """A line with its numbers blanked: "Page 3 · The Gazette" and "Page 4 · The Gazette" recur."""
    return re.sub(r"\d+", "#", text.lower())


def _running_lines(pages: list[list[tuple[_Line, bool]]]) -> set[str]:
    """Edge lines that recur on most pages: running headers and footers."""
    if len(pages) < 2:
        return set()
    seen = Counter(key for page in pages for key in {_key(line.text) for line, edge in page if edge})
    return {key for key, count in seen.items() if count >= max(2, RECURRING * len(pages))}


def _leading(pages: list[list[_Line]]) -> Callable[[float], float]:
    """The line spacing of text in each type size: the lower quartile of the steps between lines of
    that size (steps inside paragraphs are the short ones), at most MAX_LEADING times the size,
    which is what a size with too few lines to measure gets."""
    steps: dict[float, list[float]] = {}
    for page in pages:
        for a, b in itertools.pairwise(page):
            if a.size == b.size and 0 < a.top - b.top < 3 * a.size:
                steps.setdefault(a.size, []).append(a.top - b.top)
    measured = {size: statistics.quantiles(found, n=4)[0] for size, found in steps.items() if len(found) >= 4}

    def leading(size: float) -> float:
        return min(measured.get(size, float("inf")), MAX_LEADING * size)

    return leading


def _paragraphs(pages: list[list[_Line]]) -> tuple[str, list[int]]:
    """The text, one paragraph a line with a blank line between, and the offset each page starts at."""
    leading = _leading(pages)
    paragraphs: list[str] = []
    starts: list[int] = []
    length = 0  # characters written before the paragraph being built
    current: list[str] = []
    previous: _Line | None = None

    def close() -> None:
        nonlocal length, current
        if current:
            paragraphs.append(" ".join(current))
            length += len(paragraphs[-1]) + 2
            current = []

    for page in pages:
        for n, line in enumerate(page):
            if previous is not None and current:
                if n == 0 or line.top > previous.top:  # a new page or column: a sentence may run on
                    if current[-1].endswith(_SENTENCE_END):
                        close()
                elif abs(line.size - previous.size) > 0.1 * max(
                    line.size, previous.size
                ) or previous.top - line.top > PARAGRAPH_GAP * leading(line.size):
                    close()
            if n == 0:
                starts.append(length + (len(" ".join(current)) + 1 if current else 0))
            if current and current[-1].endswith("-") and line.text[:1].islower():
                current[-1] = current[-1] + line.text  # a word broken at the line's end
            else:
                current.append(line.text)
            previous = line
        if not page:
            starts.append(length + (len(" ".join(current)) + 1 if current else 0))
    close()
    text = "\n\n".join(paragraphs)
    return text, [min(start, len(text)) for start in starts]
