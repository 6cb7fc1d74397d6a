"""Documents whose forecasts reach the objectives' forecast rollups.

The conformance strategies draw check-in instants, timelines and the as-of instant independently
over years, so a forecast that makes an objective's forecast differ from its progress now is
rare there.  Here every objective shares one quarter, the as-of instant falls inside it, and the
check-ins fall between the quarter's start and the as-of instant: most key results with two or
more check-ins have a forecast, and the forecast state differs from now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from okrcore import CheckIn, Document, Metric, Objective, Policy

__all__ = ["QUARTER_DUE", "QUARTER_START", "forecast_documents", "forecast_example"]

QUARTER_START = datetime(2026, 1, 1, tzinfo=UTC)
QUARTER_DUE = datetime(2026, 3, 31, tzinfo=UTC)
DAYS = (QUARTER_DUE - QUARTER_START).days


@st.composite
def _metric(draw: st.DrawFn, ident: str, as_of_day: int) -> Metric:
    start = draw(st.sampled_from((0.0, 0.0, 50.0)))
    target = draw(st.sampled_from((100.0, 40.0, 10.0)))  # 10 from 50: a reduction
    days = draw(st.lists(st.integers(0, as_of_day), max_size=4))
    values = draw(st.lists(st.floats(0, 150, allow_nan=False), min_size=len(days),
                           max_size=len(days)))
    logged = draw(st.booleans()) or bool(days)
    return Metric(
        id=ident, target=target, start=start, unit="u",
        check_ins=tuple(CheckIn(QUARTER_START + timedelta(days=d, hours=h), v)
                        for h, (d, v) in enumerate(zip(days, values, strict=True)))
        if logged else None,
        weight=draw(st.sampled_from((1.0, 1.0, 2.0, 0.0))))


@st.composite
def forecast_documents(draw: st.DrawFn, max_objectives: int = 4) -> Document:
    """A document of up to ``max_objectives`` aligned objectives with forecasts (see above)."""
    as_of_day = draw(st.integers(1, DAYS))
    objectives: list[Objective] = []
    for i in range(draw(st.integers(1, max_objectives))):
        krs = [draw(_metric(f"k{i}_{j}", as_of_day)) for j in range(draw(st.integers(0, 3)))]
        objectives.append(Objective(
            id=f"o{i}", key_results=krs,
            parent=draw(st.none() | st.sampled_from([o.id for o in objectives]))
            if objectives else None,
            start=QUARTER_START,
            due=draw(st.sampled_from((QUARTER_DUE, QUARTER_DUE, None))),
            mode=draw(st.sampled_from(("auto", "mean", "sum"))),
            include_children=draw(st.booleans()),
            weight=draw(st.sampled_from((1.0, 1.0, 3.0, 0.0)))))
    return Document(as_of=QUARTER_START + timedelta(days=as_of_day, hours=12),
                    objectives=objectives, policy=Policy())


def forecast_example() -> Document:
    """A fixed document whose forecasts move a mean parent, a sum and a child rolled up.

    Forecasts at the due date, day 89 (least squares over the check-ins): ``kp`` 131.83 (progress
    capped at 1), ``ks1`` 178 and ``ks2`` 47 (the sum ``s``: 225 / 200, capped at 1), ``kc``
    92.9 (``c``: 0.929); ``kq`` has none and takes part with its progress now, 0.5.  The mean
    parent ``p`` with its children: (1 + 0.5 + 1 + 0.929) / 4 = 0.85725.
    """
    def logged(ident: str, *points: tuple[int, float], target: float = 100.0) -> Metric:
        return Metric(id=ident, target=target, unit="u", check_ins=tuple(
            CheckIn(QUARTER_START + timedelta(days=d), v) for d, v in points))

    parent = Objective(
        id="p", start=QUARTER_START, due=QUARTER_DUE, include_children=True, mode="mean",
        key_results=[logged("kp", (0, 0.0), (10, 10.0), (20, 30.0)),
                     Metric(id="kq", target=10.0, current=5.0, unit="u")])
    summed = Objective(
        id="s", parent="p", start=QUARTER_START, due=QUARTER_DUE, mode="sum",
        key_results=[logged("ks1", (0, 0.0), (10, 20.0)), logged("ks2", (5, 5.0), (15, 10.0))])
    child = Objective(
        id="c", parent="p", start=QUARTER_START, due=QUARTER_DUE,
        key_results=[logged("kc", (1, 0.0), (11, 12.0), (21, 21.0))])
    return Document(as_of=QUARTER_START + timedelta(days=25), objectives=[parent, summed, child],
                    policy=Policy())
