"""Which articles a question may be answered from: chosen files and a date range.

The filter is applied inside each store rather than after a wide search: Chroma gets a
`where` clause (`$in` on the file, `$gte`/`$lte` on the date stored as a YYYYMMDD number)
and BM25 scores only the allowed sentences, so a filtered question sees every matching
sentence however large the corpus is.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rag.errors import QuestionError
from rag.index.parsing import day_number

_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")


@dataclass(frozen=True)
class SearchFilter:
    """Limits on the articles searched; every part optional (None: no limit)."""

    sources: frozenset[str] | None = None
    date_from: str | None = None
    date_to: str | None = None

    @classmethod
    def of(
        cls, sources: Iterable[str] | None = None, date_from: str | None = None, date_to: str | None = None
    ) -> SearchFilter | None:
        """A filter, or None when nothing is limited (the fast unfiltered path); QuestionError for
        a date that is not YYYY-MM-DD or a source that is not a file name.

        One file name may be given as a string; no files (an empty list, as a chat with nothing
        ticked sends) means no limit, as in the chat.
        """
        names = [sources] if isinstance(sources, str) else sources
        if names is not None and not isinstance(names, Iterable):
            raise QuestionError(f"sources must be a list of article file names (got {sources!r}).")
        listed = list(names or [])
        if not all(isinstance(name, str) and name for name in listed):
            raise QuestionError(f"sources must be article file names (got {listed!r}).")
        chosen = frozenset(listed) or None
        for name, value in (("date_from", date_from), ("date_to", date_to)):
            _check_date(name, value)
        if date_from and date_to and date_from > date_to:
            raise QuestionError(f"date_from {date_from} is after date_to {date_to}: no article can be in that range.")
        if chosen is None and not date_from and not date_to:
            return None
        return cls(chosen, date_from or None, date_to or None)

    def where(self) -> dict[str, Any] | None:
        """The Chroma `where` clause for this filter."""
        clauses: list[dict[str, Any]] = []
        if self.sources is not None:
            clauses.append({"source": {"$in": sorted(self.sources)}})
        if self.date_from:
            clauses.append({"day": {"$gte": day_number(self.date_from)}})
        if self.date_to:
            clauses.append({"day": {"$lte": day_number(self.date_to)}})
        if self.date_to and not self.date_from:
            clauses.append({"day": {"$gt": 0}})  # undated articles are outside any date range
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def allows_article(self, source: str, date: str | None) -> bool:
        """The same test in Python, for the keyword side and the article list: whether the
        filter lets an article (its file and date) be searched."""
        if self.sources is not None and source not in self.sources:
            return False
        day = day_number(date)
        if self.date_from and day < day_number(self.date_from):
            return False
        return not (self.date_to and not 0 < day <= day_number(self.date_to))


def _check_date(name: str, value: object) -> None:
    """QuestionError unless `value` is empty or a real date written YYYY-MM-DD (the stored form)."""
    if value is None or value == "":
        return
    try:
        ok = isinstance(value, str) and bool(_ISO_DATE.fullmatch(value)) and bool(datetime.date.fromisoformat(value))
    except ValueError:
        ok = False
    if not ok:
        raise QuestionError(f"{name} must be a date written YYYY-MM-DD, such as 2025-05-16 (got {value!r}).")
