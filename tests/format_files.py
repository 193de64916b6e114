"""Small article files in every format `rag index` reads, written for tests and the PDF measurement.

Each writer takes the articles as (headline, date, paragraphs) and a path, so a test knows
the exact sentences a quote must match. PDFs are laid out by reportlab as a newspaper prints
them: a running header and a page number on every page, one or two columns.
"""

from __future__ import annotations

import csv
import json
import mailbox
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

#: (headline, ISO date, paragraphs)
Story = tuple[str, str, Sequence[str]]

HEADER = "The Harbour Gazette · Regional news"


def pdf(path: Path, stories: Sequence[Story], columns: int = 1, header: str = HEADER) -> Path:
    """A text PDF of `stories`, each from a new page, `columns` columns, header and page number on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph

    styles = getSampleStyleSheet()
    width, height = A4
    margin, gap = 50.0, 18.0
    column = (width - 2 * margin - gap * (columns - 1)) / columns
    frames = [
        Frame(margin + i * (column + gap), margin, column, height - 2 * margin - 20, id=f"c{i}") for i in range(columns)
    ]

    def running(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(margin, height - margin + 4, header)
        canvas.drawCentredString(width / 2, margin - 24, str(doc.page))
        canvas.restoreState()

    doc = BaseDocTemplate(str(path), pagesize=A4, pageTemplates=[PageTemplate("page", frames, onPage=running)])
    flow: list = []
    for i, (headline, date, paragraphs) in enumerate(stories):
        if i:
            flow.append(PageBreak())
        flow.append(Paragraph(escape(headline), styles["Heading1"]))
        flow.append(Paragraph(escape(date), styles["Normal"]))
        flow.extend(Paragraph(escape(p), styles["BodyText"]) for p in paragraphs)
    doc.build(flow)
    return path


def pdf_pages(path: Path) -> list[int]:
    """The page numbers of a PDF (1, 2, …), read with pypdfium2."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return list(range(1, len(document) + 1))
    finally:
        document.close()


def image_only_pdf(path: Path) -> Path:
    """A PDF whose page is a picture, as a scanner writes it: no text layer."""
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path))
    page.rect(100, 500, 300, 200, fill=1)
    page.save()
    return path


def encrypted_pdf(path: Path, stories: Sequence[Story]) -> Path:
    """A PDF that needs a password to open."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path), encrypt=StandardEncryption("secret", "owner-secret"))
    page.drawString(72, 720, stories[0][2][0][:80])
    page.save()
    return path


def docx(path: Path, story: Story) -> Path:
    """A Word file: the headline as a heading, a date line, the paragraphs."""
    import docx as python_docx

    document = python_docx.Document()
    document.core_properties.title = story[0]
    document.add_heading(story[0], level=1)
    document.add_paragraph(story[1])
    for paragraph in story[2]:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


def _message(story: Story, sender: str = "desk@gazette.example") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "reader@example.org"
    message["Subject"] = story[0]
    message["Date"] = format_datetime(datetime.fromisoformat(story[1]).replace(hour=9, tzinfo=UTC))
    message.set_content("\n\n".join(story[2]) + "\n")
    return message


def eml(path: Path, story: Story) -> Path:
    """One e-mail, its subject the headline and its body the story."""
    path.write_bytes(bytes(_message(story)))
    return path


def html_eml(path: Path, story: Story) -> Path:
    """A newsletter e-mail with only an HTML part: a menu, the story's paragraphs, a footer."""
    message = _message(story)
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in story[2])
    message.set_content(
        f"<html><body><nav><a href='/'>Home</a> <a href='/sub'>Subscribe</a></nav><h1>{escape(story[0])}</h1>"
        f"{paragraphs}<footer><p>Unsubscribe from this list.</p></footer></body></html>",
        subtype="html",
    )
    path.write_bytes(bytes(message))
    return path


def mbox(path: Path, stories: Sequence[Story]) -> Path:
    """A mailbox holding one message per story."""
    box = mailbox.mbox(str(path))
    for story in stories:
        box.add(_message(story))
    box.flush()
    box.close()
    return path


def feed(path: Path, stories: Sequence[Story], atom: bool = False) -> Path:
    """An RSS 2.0 (or Atom) file with one item per story, the story as its description."""
    if atom:
        entries = "".join(
            f"<entry><title>{escape(h)}</title><link href='https://gazette.example/{i}'/>"
            f"<updated>{d}T09:00:00Z</updated><id>urn:{i}</id>"
            f"<content type='html'>{escape(''.join(f'<p>{escape(p)}</p>' for p in ps))}</content></entry>"
            for i, (h, d, ps) in enumerate(stories)
        )
        text = f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Gazette</title>{entries}</feed>"
    else:
        items = "".join(
            f"<item><title>{escape(h)}</title><link>https://gazette.example/{i}</link>"
            f"<pubDate>{format_datetime(datetime.fromisoformat(d).replace(tzinfo=UTC))}</pubDate>"
            f"<description>{escape(''.join(f'<p>{escape(p)}</p>' for p in ps))}</description></item>"
            for i, (h, d, ps) in enumerate(stories)
        )
        channel = f"<channel><title>Gazette</title>{items}</channel>"
        text = f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'>{channel}</rss>"
    path.write_text(text, encoding="utf-8")
    return path


def table(
    path: Path, stories: Sequence[Story], header: Sequence[str] = ("headline", "published", "url", "body")
) -> Path:
    """A CSV (or, for a .tsv path, tab-separated) export with one row per story."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t" if path.suffix == ".tsv" else ",")
        writer.writerow(header)
        for i, (h, d, ps) in enumerate(stories):
            writer.writerow([h, d, f"https://gazette.example/{i}", "\n\n".join(ps)])
    return path


def json_lines(path: Path, stories: Sequence[Story]) -> Path:
    """A JSON Lines export with one object per story."""
    with path.open("w", encoding="utf-8") as out:
        for i, (h, d, ps) in enumerate(stories):
            out.write(
                json.dumps({"title": h, "date": d, "link": f"https://gazette.example/{i}", "text": "\n\n".join(ps)})
            )
            out.write("\n")
    return path


def parquet(path: Path, stories: Sequence[Story], text_column: str = "body", text_type: str = "string") -> Path:
    """A Parquet export as a data team writes one: typed timestamps, and a column no article needs.

    `text_type` "list" writes each story as a list of paragraphs, a shape the reader refuses.
    """
    import pyarrow
    import pyarrow.parquet

    texts = [list(ps) if text_type == "list" else "\n\n".join(ps) for _, _, ps in stories]
    table = pyarrow.table(
        {
            "headline": [h for h, _, _ in stories],
            "published": pyarrow.array([datetime.fromisoformat(d) for _, d, _ in stories], pyarrow.timestamp("s")),
            "url": [f"https://gazette.example/{i}" for i in range(len(stories))],
            text_column: texts,
            "thumbnail": [b"\x89PNG" + bytes(64)] * len(stories),
        }
    )
    pyarrow.parquet.write_table(table, path, row_group_size=2)
    return path


def export(path: Path, stories: Sequence[Story]) -> Path:
    """A news database export: "Document N of M" before each story and "End of Document" after."""
    parts = []
    for i, (h, d, ps) in enumerate(stories, 1):
        parts.append(f"Document {i} of {len(stories)}\n\n{h}\n\nThe Harbour Gazette\n{d}\n\n" + "\n\n".join(ps))
        parts.append("\nEnd of Document\n\n")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
