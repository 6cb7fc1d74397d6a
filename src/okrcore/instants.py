"""Instants: aware datetimes, integer microseconds since the epoch, and ISO 8601 text.

Every layer needs these: the model's validators, the scalar reference (:mod:`okrcore.evaluate`),
the interchange document (:mod:`okrcore.interchange`), the batch engine, the jobs and the
adapters.  They live here, below all of them, so that none has to import another for a clock
conversion.  :mod:`okrcore.evaluate` and :mod:`okrcore.interchange` re-export them under their
earlier names.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from okrcore import _checks as C
from okrcore import errors as E

__all__ = [
    "EPOCH",
    "instant_us",
    "isoformat",
    "isoformat_us",
    "parse_instant",
]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""The Unix epoch, the zero of integer instants."""

_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_INSTANT: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def instant_us(moment: datetime) -> int:
    """Return an aware datetime as integer microseconds since the Unix epoch (UTC)."""
    # exact integer arithmetic, about 3 times faster than ``// timedelta(microseconds=1)``
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def isoformat(moment: datetime) -> str:
    """Return an instant as ISO 8601 in UTC with a ``Z`` suffix."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def isoformat_us(instant: int) -> str:
    """Return an instant in integer microseconds since the epoch as ISO 8601 UTC (``Z``).

    An instant outside the years 1 to 9999 in UTC (a due of 9999-12-31T23:00-05:00) reads
    ``after 9999-12-31T23:59:59.999999Z`` or ``before 0001-01-01T00:00:00Z``.
    """
    try:
        return isoformat(EPOCH + timedelta(microseconds=instant))
    except OverflowError:
        return ("after 9999-12-31T23:59:59.999999Z" if instant > 0
                else "before 0001-01-01T00:00:00Z")


def parse_instant(text: object, field: str, end_of_day: bool = False) -> datetime:
    """Parse an ISO 8601 instant or date.

    Parameters
    ----------
    text : object
        ``"2026-02-15T09:30:00Z"``, ``"2026-02-15T09:30:00+01:00"`` or ``"2026-02-15"``.
        An instant without an offset is taken as UTC.
    field : str
        The field's name, for the error.
    end_of_day : bool
        For a date-only value: the end of that day (the next midnight, UTC) instead of its start.

    Returns
    -------
    datetime
        Timezone-aware.

    Raises
    ------
    OkrValueError
        ``invalid_value`` when the text is not a date or instant.
    """
    if not isinstance(text, str):
        raise E.OkrValueError(E.WRONG_TYPE, field,
                              f"{field} must be an ISO 8601 date or instant, got "
                              f"{C.shown(text)}", text)
    known = _PARSED.get((text, end_of_day))
    if known is not None:
        return known
    moment = _parse_instant(text, field, end_of_day)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[(text, end_of_day)] = moment
    return moment


_PARSED: dict[tuple[str, bool], datetime] = {}
"""Instants already parsed (a document repeats its starts, dues and check-in days): a
datetime is immutable, and only a text that parsed is kept (its errors name the field)."""
_PARSED_MAX: Final = 1 << 14


def _parse_instant(text: str, field: str, end_of_day: bool) -> datetime:
    if not (_DATE.match(text) or _INSTANT.match(text)):
        raise E.OkrValueError(E.INVALID_VALUE, field,
                              f"{field} is not an ISO 8601 date (YYYY-MM-DD) or instant "
                              f"(YYYY-MM-DDTHH:MM[:SS][offset]): {C.shown(text)}", text)
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(0), tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        moment.astimezone(UTC)  # year 1 at +05:00 is before the first instant Python has
    except ValueError:
        raise E.OkrValueError(E.INVALID_VALUE, field,
                              f"{field} is not an ISO 8601 date or instant: {C.shown(text)}",
                              text) from None
    except OverflowError:
        raise E.OkrValueError(E.OUT_OF_RANGE, field,
                              f"{field} {C.shown(text)} is outside the instants okrcore can "
                              "represent (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z; "
                              "a date-only due of 9999-12-31 would end after them)",
                              text) from None
    return moment

