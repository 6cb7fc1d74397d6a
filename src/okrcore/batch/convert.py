"""Batch result columns to the scalar path's :class:`~okrcore.results.Evaluation`.

``okrcore evaluate --engine batch`` prints the same document as ``--engine scalar``.

This is presentation only: every number comes from the batch columns; this module formats
them, builds explanations for the objectives asked for, and words the errors.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

import attrs
import numpy as np

from okrcore import errors as E
from okrcore import formulas as F
from okrcore.batch import engine as G
from okrcore.batch._lazy import ResultMap
from okrcore.batch.frame import (
    KIND_METRIC,
    KIND_NAMES,
    NONE_INSTANT,
    OrgFrame,
)
from okrcore.codes import (
    COLOUR_NAMES,
    MODE_AUTO,
    MODE_CODES,
    PACE_REASONS,
    RANGE_RULE_NAMES,
    RULE_NAMES,
    STATUS_CODES,
    TREND_NAMES,
)
from okrcore.evaluate import (
    CHILDREN_TOO,
    EPOCH,
    MANUAL_COLOURS,
    RULE_REASONS,
    colour_source,
    cycle_error,
    cycle_from,
    cycle_member_error,
    explicit_reason,
    isoformat,
    isoformat_us,
    pace_reason_source,
    sum_share,
)
from okrcore.evaluate import _mean_items as _scalar_mean_items
from okrcore.formulas import Colour
from okrcore.kinds import KINDS
from okrcore.results import (
    ColourSource,
    Evaluation,
    Explanation,
    Forecast,
    Grade,
    Item,
    KeyResultExplanation,
    KeyResultResult,
    ObjectiveResult,
    PersonItem,
    PersonResult,
)

__all__ = ["errors_of", "explain", "to_evaluation"]

_COLOURS: Final = COLOUR_NAMES
_TRENDS: Final = TREND_NAMES
_MODES: Final = {code: name for name, code in MODE_CODES.items() if code != MODE_AUTO}
_STATUSES: Final = tuple(STATUS_CODES)
_RULES: Final = RULE_NAMES


def _colour(code: int) -> Colour | None:
    return None if code < 0 else _COLOURS[code]


def _float(value: float) -> float | None:
    return None if value != value else float(value)  # NaN -> None


class _Rows:
    """The columns of a frame or result as Python lists, each converted once when first used.

    Reading a row of a list is several times cheaper than reading a numpy scalar (issue 19).
    """

    def __init__(self, source: object) -> None:
        self._source = source

    def __getattr__(self, name: str) -> list[Any]:
        values: list[Any] = getattr(self._source, name).tolist()
        setattr(self, name, values)
        return values


def _labels(frame: OrgFrame) -> tuple[list[str], list[str], list[str], list[str]]:
    kr_ids = list(frame.kr_ids) if frame.kr_ids is not None else [
        f"k{i}" for i in range(frame.n_kr)]
    obj_ids = list(frame.obj_ids) if frame.obj_ids is not None else [
        f"o{i}" for i in range(frame.n_obj)]
    n_people = int(max(int(frame.obj_owner.max(initial=-1)),
                       int(frame.kr_owner_ids.max(initial=-1))) + 1)
    people = list(frame.person_names) if frame.person_names is not None else [
        f"p{i}" for i in range(n_people)]
    units = list(frame.unit_names) if frame.unit_names is not None else [
        f"u{i}" for i in range(int(max(int(frame.kr_unit.max(initial=-1)),
                                       int(frame.obj_ps_unit.max(initial=-1))) + 1))]
    return kr_ids, obj_ids, people, units


class _Paths:
    def __init__(self, frame: OrgFrame) -> None:
        counts = np.bincount(frame.kr_objective, minlength=frame.n_obj)
        first = np.cumsum(counts) - counts
        self.position = (np.arange(frame.n_kr) - first[frame.kr_objective]).tolist()
        self.objective = frame.kr_objective.tolist()

    def obj(self, i: int) -> str:
        return f"objectives[{i}]"

    def kr(self, row: int) -> str:
        return f"objectives[{self.objective[row]}].key_results[{self.position[row]}]"


def _unit_name(units: list[str], code: int) -> str:
    return "" if code < 0 else units[code]


def _sum_error(frame: OrgFrame, result: G.BatchResult, i: int, units: list[str]
               ) -> tuple[str, str, str]:
    """(code, field, message) of a rollup error, worded as the scalar path words it."""
    code = int(result.obj_error[i])
    has_settings = int(frame.obj_ps_unit[i]) >= 0
    unit = _unit_name(units, int(result.obj_sum_unit[i]))
    field = "progress_settings.unit" if has_settings else "key_results"
    if code == G.ERR_NO_SUM_UNIT:
        rows = np.flatnonzero((frame.kr_objective == i) & (frame.kr_kind == 0)
                              & (frame.kr_weight > 0))
        found = sorted({_unit_name(units, int(frame.kr_unit[r])) for r in rows})
        return (E.NO_CONTRIBUTING_METRIC, "mode",
                "mode 'sum' without progress settings needs the metrics to share one unit; "
                f"found {found!r}")
    if code == G.ERR_NO_CONTRIBUTING_METRIC:
        return E.NO_CONTRIBUTING_METRIC, field, f"no metric key result with unit {unit!r} to sum"
    if code == G.ERR_MIXED_DIRECTIONS:
        return (E.MIXED_DIRECTIONS, field,
                f"the metrics summed in unit {unit!r} mix increases and reductions")
    target, start = float(result.obj_sum_target[i]), float(result.obj_sum_start[i])
    return (E.DEGENERATE_METRIC,
            "progress_settings.target" if has_settings else "key_results",
            f"the goal's target {target!r} equals its start {start!r}")


_FIELD_ERRORS: Final = {
    G.ERR_FIELD_NOT_FINITE: (E.NOT_FINITE, "a number is NaN or infinite"),
    G.ERR_FIELD_NEGATIVE_WEIGHT: (E.NEGATIVE_WEIGHT, "the weight is negative"),
    G.ERR_FIELD_DEGENERATE: (E.DEGENERATE_METRIC, "the target equals the start"),
    G.ERR_FIELD_BREAKPOINTS: (E.BREAKPOINTS_OUT_OF_ORDER,
                              "the breakpoints are not ordered red_low <= yellow_low <= target "
                              "<= yellow_high <= red_high"),
    G.ERR_FIELD_UNKNOWN_VALUE: (E.UNKNOWN_FIELD_VALUE, "a code is outside its vocabulary"),
    G.ERR_FIELD_OUT_OF_RANGE: (E.OUT_OF_RANGE, "a value is outside what the field accepts"),
    G.ERR_FIELD_TIMELINE: (E.INVALID_TIMELINE, "the due instant is not after the start"),
}


def _field_error(frame: OrgFrame, prefix: str, row: int, code: int, path: str) -> E.OkrError:
    """A field error of a frame built from columns, naming the row's values."""
    err, what = _FIELD_ERRORS[code]
    names = [f.name for f in attrs.fields(OrgFrame)
             if f.name.startswith(prefix) and isinstance(getattr(frame, f.name), np.ndarray)
             and getattr(frame, f.name).shape[0] == (frame.n_kr if prefix == "kr_"
                                                     else frame.n_obj)]
    shown = ", ".join(f"{name}={getattr(frame, name)[row].item()!r}" for name in names
                      if name not in ("kr_objective", "kr_load", "obj_load", "kr_has_log"))
    return E.OkrError(err, path, f"row {row}: {what} ({shown})")


def _errors(frame: OrgFrame, result: G.BatchResult, kr_ids: list[str], obj_ids: list[str],
            people: list[str], units: list[str], paths: _Paths) -> list[E.OkrError]:
    out: list[E.OkrError] = []
    n = frame.n_kr
    parent = result.obj_parent.tolist()
    named: dict[int, int] = {}  # cycle member -> the member naming its cycle

    def ref_path(ref: int) -> str:
        return paths.obj(ref - n) if ref >= n else paths.kr(ref)

    for i in np.flatnonzero(result.obj_error).tolist():
        code = int(result.obj_error[i])
        p = paths.obj(i)
        ident = obj_ids[i]
        if code == G.ERR_LOAD:
            out.extend(frame.load_errors.get(f"o{i}", ()))
        elif code == G.ERR_DUPLICATE_ID:
            out.append(E.OkrError(E.DUPLICATE_ID, f"{p}.id",
                                  f"objective id {ident!r} is used more than once"))
        elif code == G.ERR_UNKNOWN_PARENT:
            name = frame.obj_parent_names[i] if frame.obj_parent_names is not None else None
            out.append(E.OkrError(E.UNKNOWN_PARENT, f"{p}.parent",
                                  f"parent {name!r} is not an objective of the document"))
        elif code == G.ERR_ALIGNMENT_CYCLE:
            # named once, at its first member in row order (objectives come in that order)
            if i in named:
                out.append(cycle_member_error(ident, p, paths.obj(named[i])))
            else:
                members = cycle_from(i, parent)
                named.update((j, i) for j in members)
                out.append(cycle_error([obj_ids[j] for j in members], p))
        elif code == G.ERR_DEPENDS_ON_INVALID:
            ref = int(result.obj_error_ref[i])
            if ref >= n:
                message = f"objective {ident!r} rolls up {ref_path(ref)}, which has an error"
            else:
                message = f"objective {ident!r} needs {ref_path(ref)}, which has an error"
            out.append(E.OkrError(E.DEPENDS_ON_INVALID, p, message))
        elif code == G.ERR_NOT_FINITE:
            out.append(E.OkrError(E.NOT_FINITE, p,
                                  f"objective {ident!r}: progress is not a finite number "
                                  "(the summed values overflow floating point)"))
        elif code >= G.ERR_FIELD_NOT_FINITE:
            out.append(_field_error(frame, "obj_", i, code, p))
        else:
            err_code, field, message = _sum_error(frame, result, i, units)
            out.append(E.OkrError(err_code, E.join_path(p, field), message))
    for row in np.flatnonzero(result.kr_error).tolist():
        code = int(result.kr_error[row])
        p = paths.kr(row)
        ident = kr_ids[row]
        i = paths.objective[row]
        if code == G.ERR_LOAD:
            out.extend(frame.load_errors.get(f"k{row}", ()))
        elif code == G.ERR_DUPLICATE_ID:
            out.append(E.OkrError(E.DUPLICATE_ID, f"{p}.id",
                                  f"key result id {ident!r} is used more than once"))
        elif code == G.ERR_DEPENDS_ON_INVALID:
            out.append(E.OkrError(E.DEPENDS_ON_INVALID, p,
                                  f"key result {ident!r} needs objective {paths.obj(i)}, "
                                  "which has an error"))
        elif code == G.ERR_INVALID_TIMELINE:
            due = EPOCH + timedelta(microseconds=int(frame.kr_due[row]))
            start = EPOCH + timedelta(microseconds=int(frame.obj_start[i]))
            out.append(E.OkrError(E.INVALID_TIMELINE, f"{p}.due",
                                  f"due {isoformat(due)} is not after the objective's start "
                                  f"{isoformat(start)}"))
        elif code == G.ERR_NOT_FINITE:
            out.append(E.OkrError(E.NOT_FINITE, p,
                                  f"key result {ident!r}: progress is not a finite number "
                                  "(the values overflow floating point)"))
        elif code >= G.ERR_FIELD_NOT_FINITE:
            out.append(_field_error(frame, "kr_", row, code, p))
    for person in np.flatnonzero(result.person_error_ref >= 0).tolist():
        name = people[person]
        ref = int(result.person_error_ref[person])
        out.append(E.OkrError(E.DEPENDS_ON_INVALID, f"people.{name}",
                              f"person {name!r} owns {ref_path(ref)}, which has an error"))
    return out


def explain(frame: OrgFrame, result: G.BatchResult, rows: Iterable[int]) -> dict[int, Explanation]:
    """Explanations for chosen objective rows (valid ones), as the scalar path gives them.

    Parameters
    ----------
    frame : OrgFrame
        The frame that was evaluated.
    result : BatchResult
        Its result columns.
    rows : iterable of int
        Objective rows to explain.

    Returns
    -------
    dict of int to Explanation
        Rows with an error are left out.
    """
    kr_ids, obj_ids, _, units = _labels(frame)
    explainer = _Explainer(frame, result, kr_ids, obj_ids, units)
    out: dict[int, Explanation] = {}
    for i in rows:
        made = explainer.row(i)
        if made is not None:
            out[i] = made
    return out


class _Explainer:
    """Objective explanations row by row; what every row needs is computed once."""

    def __init__(self, frame: OrgFrame, result: G.BatchResult, kr_ids: list[str],
                 obj_ids: list[str], units: list[str]) -> None:
        self.frame, self.result = frame, result
        self.kr_ids, self.obj_ids, self.units = kr_ids, obj_ids, units
        counts = np.bincount(frame.kr_objective, minlength=frame.n_obj)
        self.first = (np.cumsum(counts) - counts).tolist()
        self.counts = counts.tolist()
        self.res, self.frm = _Rows(result), _Rows(frame)  # rows of lists, not numpy scalars
        self.children = _children(result.obj_parent)
        self.ranged = _range_rows(frame)

    def row(self, i: int) -> Explanation | None:
        """Objective row ``i``'s explanation; ``None`` when it has an error."""
        frame, result, res, frm = self.frame, self.result, self.res, self.frm
        kr_ids, obj_ids, units = self.kr_ids, self.obj_ids, self.units
        if res.obj_error[i] != 0:
            return None
        count = self.counts[i]
        krs = range(self.first[i], self.first[i] + count)
        uses_children = count == 0 or bool(frm.obj_include_children[i])
        kids = self.children.get(i, []) if uses_children else []
        kids = [c for c in kids if not res.obj_in_cycle[c]]
        child_entries = [(obj_ids[c], float(frm.obj_weight[c]),
                          _float(res.obj_progress[c])) for c in kids]
        expected = _float(res.obj_expected[i])
        colour = _colour_source(frame, result, i, kr_ids, self.ranged.get(i, []))
        progress = _float(res.obj_progress[i])
        if count == 0:
            items = _mean_items([], child_entries)
            rule = "empty" if progress is None else "children"
            return Explanation("mean", rule, RULE_REASONS[rule], tuple(items),
                               expected=expected, colour=colour)
        mode = _MODES[int(res.obj_mode[i])]
        rule_code = int(res.obj_rule[i])
        rule = _RULES[rule_code]
        reason = (explicit_reason(mode) if rule_code == G.RULE_EXPLICIT
                  else RULE_REASONS[rule])
        if frm.obj_include_children[i]:
            reason += CHILDREN_TOO
        else:
            child_entries = []
        if mode == "sum":
            value = float(res.obj_sum_value[i])
            kr_items = []
            for r in krs:
                contributes = bool(res.kr_contributes[r])
                v = float(res.kr_value[r])
                kr_items.append(Item(
                    "key_result", kr_ids[r], float(frm.kr_weight[r]),
                    float(res.kr_progress[r]),
                    sum_share(v, value) if contributes else None,
                    v if int(frm.kr_kind[r]) == 0 else None, contributes))
            if child_entries:
                sum_progress = float(res.obj_sum_progress[i])
                kr_items += _mean_items([("sum", None, 1.0, sum_progress)], child_entries)
            return Explanation(
                mode, rule, reason, tuple(kr_items), _unit_name(units, int(res.obj_sum_unit[i])),
                float(res.obj_sum_target[i]), float(res.obj_sum_start[i]), value,
                "auto" if _target_is_auto(frame, i) else "fixed", expected, colour)
        entries: list[_Entry] = [("key_result", kr_ids[r], float(frm.kr_weight[r]),
                                  float(res.kr_progress[r])) for r in krs]
        items = _mean_items_grouped(entries, [("objective", c, w, p)
                                              for c, w, p in child_entries])
        return Explanation(mode, rule, reason, tuple(items), expected=expected, colour=colour)


def _target_is_auto(frame: OrgFrame, i: int) -> bool:
    return int(frame.obj_ps_unit[i]) < 0 or bool(frame.obj_ps_auto[i])


_Entry = tuple[str, str | None, float, float | None]


def _mean_items(own: Sequence[_Entry], children: Sequence[tuple[str, float, float | None]]
                ) -> list[Item]:
    return _mean_items_grouped(own, [("objective", c, w, p) for c, w, p in children])


def _mean_items_grouped(*groups: Sequence[_Entry]) -> list[Item]:
    """The items of a mean with their shares: the scalar path's own function, reused."""
    return _scalar_mean_items(*groups)[1]


def _children(parent: np.ndarray[Any, Any]) -> dict[int, list[int]]:
    """Objective row -> the rows whose parent it is, ascending (``flatnonzero(parent == i)``)."""
    kids = np.flatnonzero(parent >= 0)
    order = kids[np.argsort(parent[kids], kind="stable")]
    out: dict[int, list[int]] = {}
    for child, of in zip(order.tolist(), parent[order].tolist(), strict=True):
        out.setdefault(of, []).append(child)
    return out


def _range_rows(frame: OrgFrame) -> dict[int, list[int]]:
    """Objective row -> its range key results' rows, ascending."""
    rows = np.flatnonzero(frame.kr_range_mode > 0)
    out: dict[int, list[int]] = {}
    for row, of in zip(rows.tolist(), frame.kr_objective[rows].tolist(), strict=True):
        out.setdefault(of, []).append(row)
    return out


def _colour_source(frame: OrgFrame, result: G.BatchResult, i: int, kr_ids: list[str],
                   rows: list[int] | None = None) -> ColourSource:
    """What set objective ``i``'s colour: the scalar path's own rule, fed with batch values.

    ``rows``: the objective's range key results' rows (default: looked up).
    """
    status = int(frame.obj_status[i])
    if status >= 0:
        return ColourSource("manual", _STATUSES[status])
    if rows is None:
        rows = np.flatnonzero((frame.kr_objective == i) & (frame.kr_range_mode > 0)).tolist()
    statuses = [(kr_ids[r], _colour(int(result.kr_range_status[r]))) for r in rows]
    return colour_source(_float(result.obj_progress[i]), _float(result.obj_expected[i]),
                         statuses, result.policy)[1]


_KR_RULES: Final = {code: rule for kind in KINDS.values() for code, rule in kind.rules.items()}
_TOTALS: Final = frozenset().union(*(kind.totals for kind in KINDS.values()))
_DONE_OR_NOT: Final = frozenset().union(*(kind.done_or_not for kind in KINDS.values()))
_RANGE_RULES: Final = RANGE_RULE_NAMES
_PACE_REASONS: Final = PACE_REASONS
"""The reason codes of the batch pace twin (``okrcore.batch.engine._pace``), by name."""


class _KrExplainer:
    """The inputs of each valid key result's progress and colour, as the scalar path gives them.

    The pace reasons and the range limits hit come from the batch twins of
    :func:`~okrcore.formulas.pace_colour` and :func:`~okrcore.formulas.range_limit`, for every
    valid row at once; :meth:`row` puts one row's together.
    """

    def __init__(self, frame: OrgFrame, result: G.BatchResult, units: list[str]) -> None:
        self.frame, self.result, self.units = frame, result, units
        policy = self.policy = result.policy
        rows = np.flatnonzero(result.kr_error == 0)
        self.position = np.full(frame.n_kr, -1, np.int64)
        self.position[rows] = np.arange(rows.shape[0])
        self.reasons = G._pace(result.kr_progress[rows], result.kr_expected[rows],
                               policy)[1].tolist()
        self.limits = G._range_limit(frame, result.kr_value[rows], policy.strict_breakpoints,
                                     rows).tolist()
        self.paces = [pace_reason_source(why, policy) for why in _PACE_REASONS]
        self.no_timeline = pace_reason_source("no_timeline", policy)
        self.done = (result.kr_value[rows] != 0.0).tolist()
        due_us = frame.kr_due[rows]
        self.due_us = np.where(due_us == NONE_INSTANT, frame.obj_due[frame.kr_objective[rows]],
                               due_us).tolist()
        self.dues: dict[int, str | None] = {NONE_INSTANT: None}
        self.timeline = (~np.isnan(result.kr_expected[rows])).tolist()
        self.frm = _Rows(frame)

    def row(self, row: int) -> KeyResultExplanation:
        """Valid key result row ``row``'s explanation."""
        j = int(self.position[row])
        frm, policy = self.frm, self.policy
        kind, mode = frm.kr_kind[row], frm.kr_range_mode[row]
        start, target = frm.kr_start[row], frm.kr_target[row]
        due_at = self.due_us[j]
        due = self.dues.get(due_at)
        if due is None and due_at != NONE_INSTANT:
            due = self.dues[due_at] = isoformat_us(due_at)
        if kind in _DONE_OR_NOT:  # done-or-not: paced against its due (§11.2)
            why = F.due_colour(self.done[j], self.result.as_of,
                               None if due_at == NONE_INSTANT else due_at)
            pace = pace_reason_source(why[1], policy)
        else:
            pace = self.paces[self.reasons[j]] if self.timeline[j] else self.no_timeline
        if kind == KIND_METRIC:
            bounds = None
            if mode:
                bounds = (_float(frm.kr_red_low[row]), _float(frm.kr_yellow_low[row]),
                          _float(frm.kr_yellow_high[row]), _float(frm.kr_red_high[row]))
            limit = self.limits[j]
            return KeyResultExplanation(
                _RANGE_RULES[mode], _unit_name(self.units, frm.kr_unit[row]), start, target,
                None, bounds, None if limit < 0 else G.RANGE_LIMITS[limit], due, pace)
        total = target if kind in _TOTALS else None
        return KeyResultExplanation(_KR_RULES[kind], total=total, due=due, pace=pace)


def _error_paths(frame: OrgFrame, result: G.BatchResult, kr_ids: list[str], obj_ids: list[str],
                 objectives: Mapping[str, ObjectiveResult],
                 key_results: Mapping[str, KeyResultResult]) -> dict[tuple[str, str], str]:
    """``(type, id) -> path`` of the items without a result, as the scalar path lists them."""
    out: dict[tuple[str, str], str] = {}
    bad_obj = result.obj_error != 0
    bad_kr = result.kr_error != 0
    if not bad_obj.any() and not bad_kr.any():
        return out
    paths = _Paths(frame)
    counts = np.bincount(frame.kr_objective, minlength=frame.n_obj)
    first = (np.cumsum(counts) - counts).tolist()
    counts_l = counts.tolist()
    for i in range(frame.n_obj):
        ident = obj_ids[i]
        if bad_obj[i] and ident and ident not in objectives:
            out.setdefault(("objective", ident), paths.obj(i))
        for row in range(first[i], first[i] + counts_l[i]):
            kid = kr_ids[row]
            if bad_kr[row] and kid and kid not in key_results:
                out.setdefault(("key_result", kid), paths.kr(row))
    return out


def to_evaluation(frame: OrgFrame, result: G.BatchResult, *, lazy: bool = False
                  ) -> Evaluation:
    """Build the :class:`~okrcore.results.Evaluation` of a batch result (with explanations).

    The scalar path and this function produce equal documents for the same input.

    Parameters
    ----------
    frame : OrgFrame
        The frame that was evaluated.
    result : BatchResult
        Its result columns.
    lazy : bool
        ``False`` (default): ``objectives``, ``key_results`` and ``people`` are plain dicts
        of result objects.  ``True``: they are read-only mappings with the same keys in the
        same order, each making its result object when it is first read (equal to the one
        the dict would hold); the errors are made at once.  Only for columns that are not
        changed afterwards (the mappings read them when an item is read).
    """
    build = _Build(frame, result)
    kr_ids, obj_ids, people = build.kr_ids, build.obj_ids, build.people
    kr_rows = _keyed(kr_ids, result.kr_error == 0)
    obj_rows = _keyed(obj_ids, result.obj_error == 0)
    person_rows = _keyed(people, result.person_seen & (result.person_error_ref < 0))
    objectives: Mapping[str, ObjectiveResult]
    key_results: Mapping[str, KeyResultResult]
    people_out: Mapping[str, PersonResult]
    if lazy:
        key_results = ResultMap(kr_rows, build.key_result)
        objectives = ResultMap(obj_rows, build.objective)
        people_out = ResultMap(person_rows, build.person)
    else:
        key_results = {key: build.key_result(row) for key, row in kr_rows.items()}
        objectives = {key: build.objective(i) for key, i in obj_rows.items()}
        people_out = {key: build.person(p) for key, p in person_rows.items()}
    errors = _errors(frame, result, kr_ids, obj_ids, people, build.units, _Paths(frame))
    as_of = isoformat(EPOCH + timedelta(microseconds=result.as_of))
    return Evaluation(
        as_of=as_of,
        policy=result.policy,
        objectives=objectives,
        key_results=key_results,
        people=people_out,
        errors=tuple(sorted(errors, key=E.error_sort_key)),
        error_paths=_error_paths(frame, result, kr_ids, obj_ids, objectives, key_results),
    )


def _keyed(labels: list[str], shown: np.ndarray[Any, Any]) -> dict[str, int]:
    """Label -> row of the rows shown, in row order (a repeated label: its last row)."""
    rows = np.flatnonzero(shown).tolist()
    return dict(zip([labels[r] for r in rows], rows, strict=True))


class _Build:
    """Result objects of a batch result row by row; what every row needs is made once."""

    def __init__(self, frame: OrgFrame, result: G.BatchResult) -> None:
        self.frame, self.result = frame, result
        self.kr_ids, self.obj_ids, self.people, self.units = _labels(frame)
        self.res, self.frm = _Rows(result), _Rows(frame)  # rows of lists, not numpy scalars

    @functools.cached_property
    def _owners(self) -> tuple[list[int], list[int]]:
        return self.frame.kr_owner_offsets.tolist(), self.frame.kr_owner_ids.tolist()

    @functools.cached_property
    def _kr_explainer(self) -> _KrExplainer:
        return _KrExplainer(self.frame, self.result, self.units)

    @functools.cached_property
    def _explainer(self) -> _Explainer:
        return _Explainer(self.frame, self.result, self.kr_ids, self.obj_ids, self.units)

    @functools.cached_property
    def _person_items(self) -> dict[int, list[PersonItem]]:
        return _person_items(self.frame, self.result, self.kr_ids, self.obj_ids)

    def key_result(self, row: int) -> KeyResultResult:
        """Valid key result row ``row``'s result."""
        res, frm = self.res, self.frm
        i = frm.kr_objective[row]
        kind = frm.kr_kind[row]
        value = res.kr_value[row]
        current: float | bool = bool(value) if kind in _DONE_OR_NOT else value
        offsets, owner_ids = self._owners
        people = self.people
        owners = tuple(people[p] for p in owner_ids[offsets[row]:offsets[row + 1]])
        last = res.kr_last_at[row]
        fc = None
        if res.kr_forecast_value[row] == res.kr_forecast_value[row]:
            fc_colour = _colour(res.kr_forecast_colour[row])
            assert fc_colour is not None
            fc = Forecast(res.kr_forecast_value[row], res.kr_forecast_progress[row], fc_colour)
        trend = res.kr_trend[row]
        stale = res.kr_stale[row]
        band = _colour(res.kr_grade_band[row])
        assert band is not None
        explanation = self._kr_explainer.row(row)
        assert explanation.pace is not None
        return KeyResultResult(
            id=self.kr_ids[row],
            objective=self.obj_ids[i],
            kind=KIND_NAMES[kind],
            owners=owners,
            current=current,
            raw_progress=res.kr_raw[row],
            progress=res.kr_progress[row],
            expected=_float(res.kr_expected[row]),
            colour=_colour(res.kr_colour[row]),
            pace_colour=_colour(res.kr_pace_colour[row]),
            pace_reason=explanation.pace.reason,
            range_status=_colour(res.kr_range_status[row]),
            weight=frm.kr_weight[row],
            contributes=bool(res.kr_contributes[row]),
            trend=None if trend < 0 else _TRENDS[trend],
            stale=None if stale < 0 else bool(stale),
            last_check_in=None if last == NONE_INSTANT else isoformat(
                EPOCH + timedelta(microseconds=last)),
            forecast=fc,
            grade=Grade(res.kr_grade_score[row], band, bool(res.kr_grade_success[row])),
            explanation=explanation,
        )

    def objective(self, i: int) -> ObjectiveResult:
        """Valid objective row ``i``'s result."""
        res, frm = self.res, self.frm
        progress = _float(res.obj_progress[i])
        status = frm.obj_status[i]
        manual = None if status < 0 else _STATUSES[status]
        fc = None
        if res.obj_forecast_progress[i] == res.obj_forecast_progress[i]:
            fc_colour = _colour(res.obj_forecast_colour[i])
            assert fc_colour is not None
            fc = Forecast(None, res.obj_forecast_progress[i], fc_colour)
        trend = res.obj_trend[i]
        stale = res.obj_stale[i]
        grade = None
        if progress is not None:
            band = _colour(res.obj_grade_band[i])
            assert band is not None
            grade = Grade(res.obj_grade_score[i], band, bool(res.obj_grade_success[i]))
        owner = frm.obj_owner[i]
        parent_names = self.frame.obj_parent_names
        if parent_names is not None:
            parent = parent_names[i]
        else:
            p = frm.obj_parent[i]
            parent = self.obj_ids[p] if p >= 0 else None
        explanation = self._explainer.row(i)
        assert explanation is not None
        return ObjectiveResult(
            id=self.obj_ids[i],
            owner=None if owner < 0 else self.people[owner],
            parent=parent,
            progress=progress,
            raw_progress=_float(res.obj_raw[i]),
            expected=_float(res.obj_expected[i]),
            colour=MANUAL_COLOURS[manual] if manual else _colour(res.obj_colour[i]),
            computed_colour=_colour(res.obj_computed_colour[i]),
            manual_status=manual,
            mode=explanation.mode,
            trend=None if trend < 0 else _TRENDS[trend],
            stale=None if stale < 0 else bool(stale),
            forecast=fc,
            grade=grade,
            explanation=explanation,
        )

    def person(self, p: int) -> PersonResult:
        """Person ``p``'s result (one seen, without an error)."""
        return PersonResult(self.people[p], _float(self.res.person_progress[p]),
                            tuple(self._person_items.get(p, ())))


def _person_items(frame: OrgFrame, result: G.BatchResult, kr_ids: list[str],
                  obj_ids: list[str]) -> dict[int, list[PersonItem]]:
    out: dict[int, list[PersonItem]] = {}
    owners = frame.kr_owner_ids.tolist()
    offsets = frame.kr_owner_offsets.tolist()
    counts = np.bincount(frame.kr_objective, minlength=frame.n_obj)
    first = (np.cumsum(counts) - counts).tolist()
    counts_l = counts.tolist()
    for i in range(frame.n_obj):
        owner = int(frame.obj_owner[i])
        if owner >= 0 and result.obj_error[i] == 0 and not np.isnan(result.obj_progress[i]):
            out.setdefault(owner, []).append(
                PersonItem("objective", obj_ids[i], float(result.obj_progress[i])))
        for row in range(first[i], first[i] + counts_l[i]):
            if result.kr_error[row] != 0:
                continue
            for person in owners[offsets[row]:offsets[row + 1]]:
                if person == owner:
                    continue
                out.setdefault(person, []).append(
                    PersonItem("key_result", kr_ids[row], float(result.kr_progress[row])))
    return out


def errors_of(frame: OrgFrame, result: G.BatchResult) -> list[E.OkrError]:
    """The errors of a batch result, worded as :func:`to_evaluation` words them (unsorted).

    Cheaper than a whole :func:`to_evaluation` for jobs that only report errors: the work is
    one pass over the labels plus one step per row with an error.
    """
    kr_ids, obj_ids, people, units = _labels(frame)
    return _errors(frame, result, kr_ids, obj_ids, people, units, _Paths(frame))
