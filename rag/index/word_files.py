"""Read a Word (.docx) file as one article: its paragraphs and table cells in document order.

python-docx reads the document body (headers, footers and comments are not the story). Each
paragraph becomes one line of the extracted text, which `rag.index.lines` sorts into headline,
date and body as it does a text file's lines. A .docx is a zip file: one whose parts would
unpack to far more than any article (a zip bomb) is refused before it is opened.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from rag.index.extracted import ExtractedText, Extraction, Unreadable

#: Most bytes a .docx may unpack to: a long article with its styles is a few megabytes.
MAX_UNPACKED = 100_000_000
#: Most a part may grow when unpacked; XML compresses well, but not a thousandfold.
MAX_RATIO = 200


def check_zip(path: Path) -> None:
    """Unreadable for a damaged zip file or one that would unpack to far more than it holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(f"damaged or truncated Word file ({exc})") from None
    unpacked = sum(part.file_size for part in parts)
    packed = sum(part.compress_size for part in parts)
    if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(packed, 1000):
        raise Unreadable(f"refused: it would unpack to {unpacked:,} bytes from {packed:,} (a zip bomb?)")


def read_docx(path: Path) -> Extraction:
    """The document as one article (see the module's docstring); Unreadable with the reason otherwise."""
    check_zip(path)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
        lines = list(_blocks(document))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise Unreadable(f"damaged Word file ({exc.__class__.__name__}: {exc})") from None
    except SyntaxError as exc:  # lxml's XMLSyntaxError
        raise Unreadable(f"damaged Word file (bad XML: {exc})") from None
    text = "\n\n".join(line for line in lines if line)
    if not text.strip():
        raise Unreadable("no text in the document")
    return Extraction([ExtractedText(text)])


def _blocks(document) -> list[str]:
    """Paragraph and table-cell texts in document order, each on one line."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    found: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            found.append(" ".join(block.text.split()))
        elif isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    found.extend(" ".join(p.text.split()) for p in cell.paragraphs)
    return found
