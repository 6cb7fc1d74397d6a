"""``--as-of``: one instant, a list, or a series ``START/END/STEP`` for history backfills."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from okrcore import errors as E
from okrcore.interchange import parse_instant

__all__ = ["MAX_INSTANTS", "parse_as_of", "parse_step"]

MAX_INSTANTS: Final = 100_000
"""A series longer than this is refused (a mistyped step)."""

_STEP: Final = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")


def parse_step(text: str) -> timedelta:
    """An ISO 8601 duration in weeks, days, hours, minutes and seconds.

    ``P7D``, ``P1W``, ``PT12H``, ``P1DT6H``; months and years are refused because they have
    no fixed length.

    Raises
    ------
    okrcore.OkrValueError
        ``as_of`` field error naming the text when it is not such a duration or is zero.
    """
    match = _STEP.match(text.strip().upper())
    if match is None or text.strip().upper() in ("P", "PT"):
        raise E.OkrValueError(E.WRONG_TYPE, "as_of", f"step {text!r} is not an ISO 8601 duration "
                              "of weeks, days, hours, minutes or seconds (e.g. P7D, PT6H)", text)
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    step = timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"],
                     seconds=parts["s"])
    if step <= timedelta(0):
        raise E.OkrValueError(E.OUT_OF_RANGE, "as_of", f"step {text!r} must be positive", text)
    return step


def _instant(text: str, now: datetime) -> datetime:
    if text.strip().lower() == "now":
        return now
    return parse_instant(text.strip(), "as_of")


def parse_as_of(text: str | None, now: datetime | None = None) -> tuple[datetime, ...]:
    """The instants of ``--as-of``, in the order given (a series ascending).

    Parameters
    ----------
    text : str or None
        ``None`` or ``now``: the current instant.  One instant: ``2026-02-15T12:00:00Z`` (a
        date alone is the start of that day, UTC).  A list: ``2026-01-31,2026-02-28``.  A
        series: ``START/END/STEP``, every instant from START to END inclusive, STEP an ISO 8601
        duration (``2026-01-05/2026-03-30/P7D``: every Monday of Q1 2026).  Items of a list may
        themselves be series.
    now : datetime, optional
        The current instant (default: the clock, UTC).

    Returns
    -------
    tuple of datetime
        Aware instants, duplicates removed (first occurrence kept).

    Raises
    ------
    okrcore.OkrValueError
        With field ``as_of`` and the offending text.
    """
    now = now or datetime.now(UTC)
    if text is None or not text.strip():
        return (now,)
    out: list[datetime] = []
    for item in text.split(","):
        pieces = item.split("/")
        if len(pieces) == 1:
            out.append(_instant(pieces[0], now))
            continue
        if len(pieces) != 3:
            raise E.OkrValueError(E.WRONG_TYPE, "as_of", f"{item!r} is not START/END/STEP", item)
        start, end, step = _instant(pieces[0], now), _instant(pieces[1], now), parse_step(
            pieces[2])
        if end < start:
            raise E.OkrValueError(E.OUT_OF_RANGE, "as_of",
                                  f"series {item!r} ends before it starts", item)
        if (end - start) // step >= MAX_INSTANTS:
            raise E.OkrValueError(E.OUT_OF_RANGE, "as_of",
                                  f"series {item!r} has more than {MAX_INSTANTS} instants", item)
        moment = start
        while moment <= end:
            out.append(moment)
            moment += step
    seen: set[datetime] = set()
    unique = []
    for moment in out:
        if moment not in seen:
            seen.add(moment)
            unique.append(moment)
    return tuple(unique)
