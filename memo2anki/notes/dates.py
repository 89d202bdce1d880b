"""Which notes' dates a run keeps: ``--since``, ``--until`` and ``--last N`` (before an exam,
only the last two weeks). A note's date is the SPEC's: its file name, else its frontmatter."""

from __future__ import annotations

import datetime as dt
import re

from memo2anki.model import DateRange, Diagnostic

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> dt.date:
    """A date typed as ``YYYY-MM-DD`` in the digits 0-9; ValueError naming the form otherwise
    (``fromisoformat`` alone would also take a week date, ``2025-W15-1``)."""
    try:
        if not _DATE.fullmatch(text.strip()):
            raise ValueError
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD") from None


def date_range(
    since: dt.date | None,
    until: dt.date | None,
    last: int | None,
    today: dt.date | None = None,
) -> DateRange:
    """The range ``--since``/``--until``/``--last N`` name. ``last`` is N days ending at
    ``until`` (else today), both ends included: ``--last 1`` is that day alone. ValueError
    for a range that cannot be meant (``--last`` with ``--since``, an end before its start,
    ``--last 0``)."""
    if last is not None:
        if since is not None:
            raise ValueError("--last counts back from --until or today; give it or --since")
        if last < 1:
            raise ValueError(f"--last {last}: give a number of days, 1 or more")
        end = until or today or dt.date.today()
        try:
            since = end - dt.timedelta(days=last - 1)
        except OverflowError:  # before the year 1, or more days than a timedelta holds
            since = dt.date.min
        until = until or end
    if since is not None and until is not None and since > until:
        raise ValueError(f"--since {since} is after --until {until}: nothing is in between")
    return DateRange(since, until)


def undated_left_out(notes: list[str], dates: DateRange) -> Diagnostic:
    """The one warning for every note whose cards a date range left out for want of a date;
    it names the first such note, so a click opens it."""
    others = len(notes) - 1
    more = f" (and those of {others} more undated note{'s' * (others != 1)})" if others else ""
    message = (
        f"no date, so its cards{more} are left out: a date range ({dates.describe()}) keeps "
        "dated notes only; a note's date comes from its file name (YYYY-MM-DD) or its "
        "frontmatter date"
    )
    return Diagnostic(notes[0], None, message)
