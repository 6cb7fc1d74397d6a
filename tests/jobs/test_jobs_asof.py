from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okrcore import OkrValueError
from okrcore.jobs.asof import parse_as_of, parse_step

NOW = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


def test_one_instant_date_and_now() -> None:
    assert parse_as_of("2026-02-15T12:00:00Z") == (datetime(2026, 2, 15, 12, tzinfo=UTC),)
    assert parse_as_of("2026-02-15") == (datetime(2026, 2, 15, tzinfo=UTC),)
    assert parse_as_of("2026-02-15T13:00:00+01:00") == (datetime(2026, 2, 15, 12, tzinfo=UTC),)
    assert parse_as_of(None, now=NOW) == (NOW,)
    assert parse_as_of("now", now=NOW) == (NOW,)


def test_every_monday_of_q1_2026() -> None:
    mondays = parse_as_of("2026-01-05/2026-03-30/P7D")
    assert len(mondays) == 13
    assert mondays[0] == datetime(2026, 1, 5, tzinfo=UTC)
    assert mondays[-1] == datetime(2026, 3, 30, tzinfo=UTC)
    assert all(m.weekday() == 0 for m in mondays)
    assert parse_as_of("2026-01-05/2026-03-30/P1W") == mondays


def test_lists_mix_series_and_drop_duplicates() -> None:
    got = parse_as_of("2026-01-31,2026-01-01/2026-01-03/P1D,2026-01-31")
    assert got == (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
                   datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC))


def test_steps() -> None:
    assert parse_step("PT6H") == timedelta(hours=6)
    assert parse_step("P1DT12H") == timedelta(days=1, hours=12)
    assert parse_step("p2w") == timedelta(weeks=2)


@pytest.mark.parametrize("text", ["P1M", "P", "PT", "P0D", "7D", "P1Y"])
def test_bad_steps_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(OkrValueError) as info:
        parse_step(text)
    assert info.value.field == "as_of"
    assert text in info.value.message


@pytest.mark.parametrize("text", ["2026-03-01/2026-01-01/P1D", "2026-01-01/P1D",
                                  "yesterday", "2026-01-01/2100-01-01/PT1S"])
def test_bad_series_name_the_field(text: str) -> None:
    with pytest.raises(OkrValueError) as info:
        parse_as_of(text)
    assert info.value.field == "as_of"


@given(st.integers(0, 400), st.integers(1, 72))
def test_series_is_inclusive_and_evenly_spaced(days: int, hours: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=days)
    got = parse_as_of(f"2026-01-01/{end.isoformat()}/PT{hours}H")
    assert got[0] == start
    assert all(b - a == timedelta(hours=hours) for a, b in itertools.pairwise(got))
    assert got[-1] <= end < got[-1] + timedelta(hours=hours)
