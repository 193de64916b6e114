"""When a broad question is about a date rather than a subject: "What happened on 9 February 2017?".

Read as a subject, "9 February 2017" finds sentences that happen to contain "February" or
"2017", from any article. What a person means is the news of that day (or month, or year):
the articles dated then. The answer is their opening sentences, which in news state what
happened, in date order.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Sequence

#: Words around a date that say nothing about a subject: "the news from", "the stories of".
_GENERIC = re.compile(
    r"^(?:(?:the|all|any|today's)\s+)?(?:news|stories|articles|events|headlines|happenings)?\s*"
    r"(?:from|on|in|of|for|during|dated)?\s*(?P<date>.+?)\s*$",
    re.IGNORECASE,
)
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d$")
#: The date forms a question writes: "9 February 2017", "February 9, 2017", "February 2017", "2017", "2017-02-09".
_FORMS = [
    re.compile(rf"^{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}$"),
    re.compile(rf"^{_MONTH}\s+{_DAY},?\s+{_YEAR}$"),
    re.compile(rf"^{_MONTH},?\s+{_YEAR}$"),
    re.compile(rf"^{_YEAR}$"),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)$"),
]
#: A day without its year ("15 March", "March 15th"); a month alone is not taken ("May" is also a name).
_YEARLESS = [re.compile(rf"^{_DAY}\s+(?:of\s+)?{_MONTH}$"), re.compile(rf"^{_MONTH}\s+{_DAY}$")]


def topic_dates(topic: str, dates: Sequence[str | None] = ()) -> tuple[str, str] | None:
    """(first day, last day), as YYYY-MM-DD, when a broad question's topic is only a date,
    a month or a year ("the news from 9 February 2017", "March 2017"); None otherwise.

    A day written without its year ("What happened on 15 March?") is taken in the latest year
    of the articles' `dates` that has articles that day, else in their latest year.
    """
    generic = _GENERIC.match(topic.strip(" ?.!"))
    if generic is None:
        return None
    text = generic.group("date")
    for form in _FORMS:
        found = form.match(text)
        if found is not None:
            return _span(found.groupdict())
    years = sorted({int(day[:4]) for day in dates if day and _ISO_DAY.match(day)}, reverse=True)
    for form in _YEARLESS:
        found = form.match(text)
        if found is None or not years:
            continue
        spans = [span for year in years if (span := _span(found.groupdict() | {"year": str(year)}))]
        dated = [span for span in spans if any(day and span[0] <= day <= span[1] for day in dates)]
        chosen = dated or spans
        return chosen[0] if chosen else None
    return None


def _span(parts: dict[str, str | None]) -> tuple[str, str] | None:
    year = int(parts["year"] or 0)
    month_text = parts.get("month")
    month = None
    if month_text is not None:
        month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower())
        if month is None:
            return None
    try:
        if month is None:
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        elif parts.get("day") is None:
            first = datetime.date(year, month, 1)
            last = datetime.date(year, month, calendar.monthrange(year, month)[1])
        else:
            first = last = datetime.date(year, month, int(parts["day"] or 0))
    except ValueError:  # "30 February 2017"
        return None
    return first.isoformat(), last.isoformat()
