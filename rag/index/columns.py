"""Which columns of an export hold each article's headline, date, link and text.

Found by name (headline/title, published/date, link/url, body/text/content); the setting
RAG_EXPORT_COLUMNS names them when an export calls them something else. Its own module
because the settings check the setting with it, before any file is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Column names that hold each field, compared lower-cased with spaces and dashes as "_".
NAMES: dict[str, tuple[str, ...]] = {
    "text": ("body", "text", "content", "article", "story", "full_text", "article_text", "body_text", "maintext"),
    "title": ("headline", "title", "heading", "hed", "subject"),
    "date": (
        "published",
        "date",
        "pubdate",
        "published_at",
        "publish_date",
        "publication_date",
        "date_published",
        "datetime",
    ),
    "url": ("link", "url", "uri", "permalink", "source_url", "canonical_url"),
}
ROLES = tuple(NAMES)
SETTING = "RAG_EXPORT_COLUMNS"


@dataclass(frozen=True)
class Columns:
    """Column names chosen by RAG_EXPORT_COLUMNS, by role (title, date, url, text); others found by name."""

    chosen: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Columns:
        """Columns from "text=story,title=hed"; ValueError naming the expected form otherwise."""
        pairs = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            role, equals, column = (piece.strip() for piece in item.partition("="))
            if not equals or role.lower() not in NAMES or not column:
                raise ValueError(
                    f"{item!r} is not ROLE=COLUMN with ROLE one of {', '.join(ROLES)} (such as text=story,title=hed)"
                )
            pairs.append((role.lower(), column))
        return cls(tuple(pairs))

    def find(self, names: Iterable[str]) -> dict[str, str]:
        """role -> the column (as the file writes it) that holds it, for the roles found."""
        names = list(names)
        chosen = dict(self.chosen)
        by_key = {_key(name): name for name in reversed(names)}
        found = {}
        for role, candidates in NAMES.items():
            if role in chosen:
                if chosen[role] in names:
                    found[role] = chosen[role]
                elif _key(chosen[role]) in by_key:
                    found[role] = by_key[_key(chosen[role])]
                continue
            column = next((by_key[c] for c in candidates if c in by_key), None)
            if column is not None:
                found[role] = column
        return found


def _key(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())
