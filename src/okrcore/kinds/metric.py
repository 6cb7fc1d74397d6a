"""The metric kind: a numeric key result (increase, reduction or range).

Its model is :class:`okrcore.model.Metric` (with :class:`~okrcore.model.Range`); frame code
:data:`~okrcore.codes.KIND_METRIC`, its range mode in ``kr_range_mode``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any, ClassVar, Final

import numpy as np

from okrcore import _reading as R
from okrcore.codes import KIND_METRIC, RANGE_MODE_CODES
from okrcore.kinds._base import EncodedColumns, Kind, SqlParts, Tools
from okrcore.model import RANGE_MODES, CheckIn, Metric, Range

__all__ = ["KIND", "MetricKind"]

RANGE_FIELDS: Final = ("red_low", "yellow_low", "yellow_high", "red_high", "mode")
"""The fields of a metric's ``range`` object."""
_BOUNDS: Final = RANGE_FIELDS[:4]
_TARGET, _START, _CURRENT, _UNIT, _RANGE = map(attrgetter, (
    "target", "start", "current", "unit", "range"))
_NAN: Final = float("nan")


def _load_range(reader: R.Reader) -> Range | None:
    data = reader.get("range", R.object_)
    if data is None:
        return None
    sub = R.Reader(data, f"{reader.path}.range", reader.warnings)
    sub.warn_unknown(RANGE_FIELDS)
    fields = {k: sub.get(k, R.number) for k in _BOUNDS}
    mode = sub.get("mode", R.choice(*RANGE_MODES), default="band")
    reader.errors.extend(sub.errors)
    if sub.errors:
        return None
    built: Range | None = reader.build(Range, mode=mode, **fields)
    return built


class MetricKind(Kind):
    """The hooks of the metric kind."""

    name: ClassVar[str] = "metric"
    model: ClassVar[type] = Metric
    code: ClassVar[int] = KIND_METRIC
    codes: ClassVar[tuple[int, ...]] = (KIND_METRIC,)
    rules: ClassVar[Mapping[int, str]] = {}
    uses_start: ClassVar[bool] = True
    capability: ClassVar[str | None] = None
    fields: ClassVar[tuple[str, ...]] = ("target", "start", "current", "unit", "range",
                                          "check_ins")

    def load(self, reader: R.Reader, path: str) -> dict[str, Any]:
        """The metric kind's :meth:`~okrcore.kinds.Kind.load`."""
        return {
            "target": reader.get("target", R.number, required=True),
            "start": reader.get("start", R.number, default=0),
            "current": reader.get("current", R.number),
            "unit": reader.get("unit", R.text, default=""),
            "range": _load_range(reader),
            "check_ins": R.load_check_ins(reader, "value"),
        }

    def dump(self, kr: Metric) -> dict[str, Any]:
        """The metric kind's :meth:`~okrcore.kinds.Kind.dump`."""
        out: dict[str, Any] = {"unit": kr.unit, "start": kr.start, "target": kr.target}
        if kr.current is not None:
            out["current"] = kr.current
        if kr.range is not None:
            r = kr.range
            out["range"] = {"red_low": r.red_low, "yellow_low": r.yellow_low,
                            "yellow_high": r.yellow_high, "red_high": r.red_high,
                            "mode": r.mode}
        return out

    def check_in_key(self, kr: Metric) -> str:
        """The metric kind's :meth:`~okrcore.kinds.Kind.check_in_key`."""
        return "value"

    def encode_many(self, krs: Sequence[Metric]) -> EncodedColumns:
        """The metric kind's :meth:`~okrcore.kinds.Kind.encode_many`."""
        out = EncodedColumns.blank(len(krs), KIND_METRIC)
        out.target = np.array(list(map(_TARGET, krs)), np.float64)
        out.start = np.array(list(map(_START, krs)), np.float64)
        out.current = np.array(list(map(_CURRENT, krs)), np.float64)  # None -> NaN
        out.units = list(map(_UNIT, krs))
        ranges = list(map(_RANGE, krs))
        rows = [j for j, r in enumerate(ranges) if r is not None]
        if rows:
            ranged = [ranges[j] for j in rows]
            out.range_mode[rows] = [RANGE_MODE_CODES[r.mode] for r in ranged]
            for name in _BOUNDS:  # None -> NaN
                getattr(out, name)[rows] = np.array(list(map(attrgetter(name), ranged)),
                                                    np.float64)
        return out

    def to_row(self, kr: Metric) -> dict[str, Any]:
        """The metric kind's :meth:`~okrcore.kinds.Kind.to_row`."""
        row: dict[str, Any] = {"start": float(kr.start), "target": float(kr.target),
                               "current": kr.current, "unit": kr.unit}
        if kr.range is not None:
            r = kr.range
            row.update(range_mode=r.mode, red_low=r.red_low, yellow_low=r.yellow_low,
                       yellow_high=r.yellow_high, red_high=r.red_high)
        return row

    def from_row(self, row: Mapping[str, Any], history: Sequence[tuple[int, float]] | None,
                 checkpoints: Sequence[tuple[str, bool]] | None,
                 common: dict[str, Any]) -> Metric:
        """The metric kind's :meth:`~okrcore.kinds.Kind.from_row`."""
        entries = None if history is None else [
            CheckIn(at=R.at_us(at), value=value) for at, value in history]
        target: Any = row.get("target")
        mode = row.get("range_mode")
        bounds = None if mode is None else Range(
            red_low=row.get("red_low"), yellow_low=row.get("yellow_low"),
            yellow_high=row.get("yellow_high"), red_high=row.get("red_high"), mode=mode)
        return Metric(target=target, start=row.get("start", 0.0),
                      current=row.get("current"), unit=row.get("unit") or "",
                      range=bounds, check_ins=entries, **common)

    def sql(self, parts: SqlParts) -> list[tuple[str, str]]:
        """The metric kind's :meth:`~okrcore.kinds.Kind.sql`."""
        c, value = parts.column, parts.value
        lt, gt = ("<", ">") if parts.strict else ("<=", ">=")
        red = (f"(({c('red_low')} IS NOT NULL AND {value} {lt} {c('red_low')}) OR "
               f"({c('red_high')} IS NOT NULL AND {value} {gt} {c('red_high')}))")
        band = f"(CASE WHEN {red} THEN 0.0 ELSE 1.0 END)"
        high_yellow = f"COALESCE({c('yellow_high')}, {c('target')})"
        low_yellow = f"COALESCE({c('yellow_low')}, {c('target')})"

        def unit(x: str) -> str:
            return f"(CASE WHEN {x} > 1.0 THEN 1.0 WHEN {x} > 0.0 THEN {x} ELSE 0.0 END)"

        red_high, red_low = c("red_high"), c("red_low")
        above = unit(f"(({red_high} - {value}) / NULLIF({red_high} - {high_yellow}, 0.0))")
        below = unit(f"(({value} - {red_low}) / NULLIF({low_yellow} - {red_low}, 0.0))")
        graded = (
            f"(CASE WHEN {red_high} IS NOT NULL AND {value} > {high_yellow} THEN "
            f"(CASE WHEN {value} >= {red_high} THEN 0.0 ELSE {above} END) "
            f"WHEN {red_low} IS NOT NULL AND {value} < {low_yellow} THEN "
            f"(CASE WHEN {value} <= {red_low} THEN 0.0 ELSE {below} END) "
            f"ELSE 1.0 END)"
        )
        linear = f"(({value} - {c('start')}) / NULLIF({c('target')} - {c('start')}, 0.0))"
        return [(f"{c('kind')} = 'metric'",
                 f"(CASE "
                 f"WHEN {c('range_mode')} = 'band' THEN {band} "
                 f"WHEN {c('range_mode')} = 'graded' THEN {graded} "
                 f"ELSE {linear} END)")]

    def strategy(self, tools: Tools, ident: str, capabilities: frozenset[str],
                 due_after: Any = None, **options: Any) -> Any:
        """The metric kind's :meth:`~okrcore.kinds.Kind.strategy`."""
        st, caps = tools.st, capabilities
        unit: str | None = options.get("unit")
        with_range: bool | None = options.get("with_range")

        @st.composite  # type: ignore[untyped-decorator]
        def metrics(draw: Any) -> Metric:
            start = draw(tools.numbers)
            ranged = (draw(st.booleans()) if with_range is None else with_range) and (
                "ranges" in caps)
            target = draw(tools.numbers)
            if "reductions" not in caps and target < start:
                start, target = target, start
            bounds = draw(ranges(tools, float(target))) if ranged else None
            if target == start and (bounds is None or bounds.mode == "linear"):
                sign = draw(st.sampled_from((1, -1) if "reductions" in caps else (1,)))
                target = start + sign * draw(st.integers(1, 1000))
                bounds = draw(ranges(tools, float(target))) if ranged else None
            history = tools.history(draw, tools.numbers, caps)
            current = None if history is not None else draw(st.none() | tools.numbers)
            return Metric(
                id=ident, target=target, start=start, current=current,
                unit=draw(st.sampled_from(UNITS)) if unit is None else unit,
                range=bounds, check_ins=history, weight=draw(tools.weights),
                owners=draw(tools.owners) if "people" in caps else (),
                due=tools.due(draw, due_after), name=draw(tools.names))

        return metrics()


UNITS: Final = ("", "USD", "calls", "deals")
"""Units drawn for metrics ("" is no unit)."""


def ranges(tools: Tools, target: float) -> Any:
    """A strategy of breakpoints ordered around ``target``, each one optional."""
    st = tools.st

    @st.composite  # type: ignore[untyped-decorator]
    def draw_range(draw: Any) -> Range:
        """The metric kind's :meth:`~okrcore.kinds.Kind.draw_range`."""
        below = sorted(draw(st.lists(st.floats(0, 1e4), min_size=2, max_size=2)))
        above = sorted(draw(st.lists(st.floats(0, 1e4), min_size=2, max_size=2)))
        present = draw(st.lists(st.booleans(), min_size=4, max_size=4))
        values = [target - below[1], target - below[0], target + above[0], target + above[1]]
        red_low, yellow_low, yellow_high, red_high = (
            v if keep else None for v, keep in zip(values, present, strict=True))
        return Range(red_low=red_low, yellow_low=yellow_low, yellow_high=yellow_high,
                     red_high=red_high, mode=draw(st.sampled_from(RANGE_MODES)))

    return draw_range()


KIND: Final = MetricKind()
"""The metric kind, as registered in :data:`okrcore.kinds.KINDS`."""
