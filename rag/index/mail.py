"""Read e-mail as articles: an .eml file is one, an .mbox mailbox holds one per message.

Newsletters and wire alerts arrive by mail. The subject is the headline, the Date header the
date, and the body (its plain-text part, else its HTML part read as a page) the story, with
lines wrapped by the mailer joined back into paragraphs. The standard library's `email` and
`mailbox` read them; a mailbox is read message by message, never whole.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from rag.index.extracted import ExtractedText, Extraction, Unreadable
from rag.index.html_pages import html_paragraphs
from rag.index.lines import URL_LINE, clean_text

#: Header lines that open a message file (an .eml without the extension is still found by them).
_HEADER = re.compile(rb"(?im)^(from|to|subject|date|message-id|mime-version|received|return-path):[ \t]")
_SEPARATOR = re.compile(r"\n\s*\n")


def looks_like_email(head: bytes) -> bool:
    """True for bytes that open with mail headers: From, Subject and Date among the first lines."""
    block = head.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    found = {m.group(1).lower() for m in _HEADER.finditer(block)}
    return {b"from", b"subject", b"date"} <= found and block[:1].isalpha()


def looks_like_mbox(head: bytes) -> bool:
    """True for a mailbox: a "From " separator line, then a message's headers."""
    return head.startswith(b"From ") and looks_like_email(head.split(b"\n", 1)[-1])


def _parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, _class=EmailMessage, policy=email.policy.default)


def read_eml(path: Path) -> Extraction:
    """One message file as one article."""
    message = _parse(path.read_bytes())
    article = _article(message, None)
    if article is None:
        raise Unreadable("no text in the message")
    return Extraction([article])


def read_mbox(path: Path) -> Extraction:
    """A mailbox, one article per message with text, read as they are taken; messages without text are noted."""
    extraction = Extraction(many=True)
    extraction.articles = _mailbox_articles(path, extraction.notes)
    return extraction


def _mailbox_articles(path: Path, notes: list[tuple[str, str]]) -> Iterator[ExtractedText]:
    found_any = False
    for number, message in _messages(path):
        where = f"message {number}"
        article = _article(message, where)
        if article is None:
            notes.append((where, "no text in the message"))
        else:
            found_any = True
            yield article
    if not found_any:
        raise Unreadable("no message with text in the mailbox")


def _messages(path: Path) -> Iterator[tuple[int, EmailMessage]]:
    """The mailbox's messages, one at a time (mailbox indexes where each starts, then reads one)."""
    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.iterkeys(), 1):
            yield number, _parse(box.get_bytes(key))
    finally:
        box.close()


def _article(message: EmailMessage, where: str | None) -> ExtractedText | None:
    """The message as an article, or None when it has no text."""
    paragraphs = _body(message)
    if not paragraphs:
        return None
    subject = clean_text(str(message.get("subject", "") or "")) or None
    try:
        sent = parsedate_to_datetime(str(message.get("date", "")))
        date = sent.date().isoformat()
    except (TypeError, ValueError, IndexError):
        date = None
    links = [p for p in paragraphs if URL_LINE.fullmatch(p)]
    return ExtractedText(
        "\n\n".join(paragraphs), headline=subject, published=date, link=links[0] if links else None, where=where
    )


def _body(message: EmailMessage) -> list[str]:
    """The story's paragraphs: the plain-text part (lines rejoined), else the HTML part's paragraphs."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return []
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or wrong charset: read it as UTF-8, marking bad bytes
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        return html_paragraphs(content)
    return [" ".join(block.split()) for block in _SEPARATOR.split(content.replace("\r\n", "\n")) if block.strip()]
