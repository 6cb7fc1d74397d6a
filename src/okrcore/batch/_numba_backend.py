"""The numba backend of the batch pipeline: fused parallel kernels (the ``fast`` extra).

Every pass calls the kernels of :mod:`okrcore.batch._numba` through its wrapper API
(``_numba.load()`` and its kernels, :func:`~okrcore.batch._numba.kr_pass`,
:func:`~okrcore.batch._numba.logs_pass`, ...); the results are the numpy backend's, bit for
bit.  The objectives' front and a few rare rescues are shared with the numpy backend.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from okrcore.batch._blocks import F64, I8, I64, U8, B, _fill
from okrcore.batch._numpy_backend import objective_front, pinned_history
from okrcore.batch._numpy_rollup import _rollup_start, _Scenario
from okrcore.batch._people import _rescue_people, person_items
from okrcore.batch._result import BatchResult, _buffer, _n_people, _put
from okrcore.batch._vector import _clamp, _grade, _kr_pace, _worst
from okrcore.batch.backend import (
    Aggregates,
    Front,
    KeyResults,
    KrColumns,
    KrPost,
    Logs,
    Objectives,
    People,
    Pin,
    Pinned,
    Rollup,
    Run,
    Structure,
    Tail,
)
from okrcore.batch.frame import OrgFrame
from okrcore.codes import ERR_NOT_FINITE
from okrcore.formulas import MICROSECONDS_PER_DAY
from okrcore.policy import Policy


@attrs.define(eq=False)
class _Timeline:
    """Per key result: its objective's start, its due and its ambition (numba kernel).

    For the passes over key results alone: each field goes once its last pass is done.
    """

    obj_start: I64 | None
    due: I64 | None
    aspirational: B | None


@attrs.define(eq=False)
class _Previous:
    """Per key result: the previous state's value and clamped progress (for its rollup)."""

    value: F64 | None
    progress: F64 | None


@attrs.define(eq=False)
class _Gathered:
    """What :func:`_numba_aggregates` gathers besides the first bad key result."""

    fc_start: B
    history: B
    stale: I8
    worst: tuple[Any, Any, Any]


@attrs.define(eq=False)
class _Forest:
    """The alignment forest of the numba rollups (let go after the history)."""

    tree: _Tree | None


class NumbaBackend:
    """The passes as fused parallel numba kernels (one kernel per pass, mostly)."""

    name: Final = "numba"

    def __init__(self) -> None:
        from okrcore.batch import _numba

        _numba.load()  # (ImportError naming the ``fast`` extra without numba)

    def threads(self, threads: int | None) -> AbstractContextManager[None]:
        """Numba's parallel loops run on at most ``threads`` of its threads."""
        from okrcore.batch import _numba

        return _numba.threads_limited(threads)

    def front(self, run: Run) -> Front:
        """Objective errors and graph, then key result errors, timeline and ambition."""
        frame, out = run.frame, run.out
        n = frame.n_kr
        obj_error, obj_ref, broken, parent, in_cycle, height = objective_front(run)
        kr_ref = _buffer(out, "kr_error_ref", n)
        _fill(kr_ref, -1)
        kr_error, obj_start_kr, due_kr, aspirational = _numba_front(frame, broken, out)
        return Front(obj_error, obj_ref, parent, in_cycle, height, kr_error, kr_ref,
                     _Timeline(obj_start_kr, due_kr, aspirational))

    def key_results(self, run: Run, front: Front) -> KeyResults:
        """The logs kernel, the fused key result kernel, then the post kernel."""
        frame, as_of, policy, out = run.frame, run.as_of, run.policy, run.out
        n = frame.n_kr
        kr_error = front.kr_error
        tl: _Timeline = front.scratch
        assert tl.obj_start is not None and tl.due is not None and tl.aspirational is not None
        logs = _numba_logs(frame, as_of, tl.obj_start, tl.due, _buffer(out, "kr_last_at", n))
        value, raw, progress, status, expected, pace, colour, score, band, success = (
            _numba_kr_pass(frame, logs, tl.obj_start, tl.due, tl.aspirational, as_of, policy,
                           out))
        kr_error[(kr_error == 0) & ~np.isfinite(raw)] = ERR_NOT_FINITE
        bad = np.flatnonzero(kr_error != 0)
        if bad.shape[0]:
            # error rows are evaluated at raw 0 like the numpy path (their values are unused)
            raw[bad] = 0.0
            progress[bad] = _clamp(raw[bad], policy.cap)
            pace[bad] = _kr_pace(frame.kr_kind[bad], value[bad], progress[bad], expected[bad],
                                 tl.due[bad], as_of, policy)
            colour[bad] = _worst(pace[bad], status[bad])
            g_score, g_band, g_success = _grade(progress[bad], tl.aspirational[bad], policy)
            score[bad], band[bad], success[bad] = g_score, g_band, g_success
        # the due instants, ambitions and as-of check-in values were for the pass above alone
        tl.due = tl.aspirational = None
        logs = attrs.evolve(logs, value=np.zeros(0))
        post = _numba_post(frame, kr_error, value, raw, progress, status, logs, tl.obj_start,
                           as_of, policy, out)
        # the objectives' starts, the previous check-in values and the fitted forecasts were
        # for the passes over key results alone: let them go
        tl.obj_start = None
        logs = attrs.evolve(logs, previous=np.zeros(0), forecast=np.zeros(0))
        return KeyResults(
            logs,
            KrColumns(value, raw, progress, status, expected, pace, colour, score, band,
                      success),
            KrPost(*post[:7]), _Previous(*post[7:]))

    def structure(self, run: Run, kr_ok: B) -> Structure:
        """The rollup structure, one fused kernel over each objective's key results."""
        return _numba_structure(run.frame, kr_ok, run.out)

    def aggregates(self, run: Run, st: Structure, front: Front, krs: KeyResults) -> Aggregates:
        """First bad key result, forecast and history flags, staleness, worst ranges."""
        post = krs.post
        agg = _numba_aggregates(run.frame, st, front.kr_error, krs.logs, post.has_fc,
                                post.stale, krs.columns.status, post.fc_status)
        first_bad, fc_start, obj_hist, obj_stale, worst_hit, worst_hit_null, fc_worst = agg
        return Aggregates(first_bad, _Gathered(fc_start, obj_hist, obj_stale,
                                               (worst_hit, worst_hit_null, fc_worst)))

    def forest(self, run: Run, front: Front, st: Structure) -> _Forest:
        """The forest by height, children in CSR (:class:`_Tree`)."""
        return _Forest(_tree(front.parent, front.height))

    def rollup_now(self, run: Run, st: Structure, forest: _Forest, front: Front,
                   krs: KeyResults, pin: Pin | None) -> Rollup:
        """The fused rollup now; progress and raw then copied into the result buffers."""
        out, m = run.out, run.frame.n_obj
        assert forest.tree is not None
        kr = krs.columns
        obj_progress, obj_raw, value_sum, _, sum_progress = _rollup(
            run.frame, st, forest.tree,
            _Scenario(kr.value, kr.progress, run.policy.cap,
                      errors=(front.obj_error, front.obj_ref), pin=pin),
            sums_out=(_buffer(out, "obj_sum_value", m), _buffer(out, "obj_sum_progress", m)))
        ok = front.obj_error == 0
        obj_progress = _put(out, "obj_progress", np.where(ok, obj_progress, np.nan))
        obj_raw = _put(out, "obj_raw", np.where(ok, obj_raw, np.nan))
        return Rollup(obj_progress, obj_raw, value_sum, sum_progress, ok)

    def rollup_previous(self, run: Run, st: Structure, forest: _Forest, krs: KeyResults,
                        now: Rollup, pin: Pin | None) -> F64:
        """The fused rollup over the previous state's columns (then let go)."""
        previous: _Previous = krs.scratch
        assert forest.tree is not None
        assert previous.value is not None and previous.progress is not None
        prev_obj, _, _, _, _ = _rollup(
            run.frame, st, forest.tree,
            _Scenario(previous.value, previous.progress, run.policy.cap, valid=now.ok,
                      pin=pin))
        previous.value = previous.progress = None
        return prev_obj

    def rollup_forecast(self, run: Run, st: Structure, forest: _Forest, krs: KeyResults,
                        agg: Aggregates, now: Rollup, pin: Pin | None) -> tuple[F64, B]:
        """The fused rollup where the rows with a forecast take its value and progress."""
        assert forest.tree is not None
        kr, post = krs.columns, krs.post
        fc_obj_progress, _, _, fc_ok, _ = _rollup(
            run.frame, st, forest.tree,
            _Scenario(kr.value, kr.progress, run.policy.cap, valid=now.ok,
                      kid_has_fc=post.has_fc, kid_now=now.progress, pin=pin,
                      fc_start=agg.scratch.fc_start),
            # the rows with a forecast take its value and clamped progress
            override=(post.has_fc, post.fc_progress, post.fc_value))
        return fc_obj_progress, fc_ok

    def history(self, run: Run, st: Structure, forest: _Forest, krs: KeyResults,
                agg: Aggregates, kr_ok: B, child_counted: B, pinned: Pinned | None) -> B:
        """The gathered own histories, then the children's (one serial kernel)."""
        from okrcore.batch import _numba

        tree = forest.tree
        assert tree is not None
        obj_hist: B = agg.scratch.history
        pinned_history(obj_hist, pinned)
        _numba.load().history(tree.order, tree.child_offsets, tree.children, child_counted,
                              st.uses_children,
                              pinned.mask if pinned is not None else np.zeros(run.frame.n_obj,
                                                                              np.bool_),
                              obj_hist)
        forest.tree = None  # (the forest was for the rollups and the history alone)
        return obj_hist

    def objective_tail(self, run: Run, st: Structure, forest: _Forest, front: Front,
                       krs: KeyResults, agg: Aggregates, objs: Objectives) -> Tail:
        """The objective tail and each key result's ``contributes``, one kernel."""
        gathered: _Gathered = agg.scratch
        (trend, expected, colour, computed, fc_colour, score, band, success, rule,
         contributes) = _numba_tail(run.frame, st, objs.error, objs.progress, objs.previous,
                                    objs.fc_progress, objs.fc_ok, objs.history,
                                    gathered.worst, front.kr_error, run.as_of, run.policy,
                                    run.out)
        # _numba_tail masked the previous and forecast progress in place
        return Tail(trend=trend, stale=gathered.stale, expected=expected, colour=colour,
                    computed_colour=computed, fc_colour=fc_colour, score=score, band=band,
                    success=success, rule=rule, previous=objs.previous,
                    fc_progress=objs.fc_progress, kr_contributes=contributes)

    def people(self, run: Run, st: Structure, obj_error: U8, obj_progress: F64, kr_error: U8,
               kr_progress: F64) -> People:
        """One kernel over the people's items; overflowing sums redone exactly (rare)."""
        from okrcore.batch import _numba

        frame, out = run.frame, run.out
        assert st.offsets is not None
        n_people = _n_people(frame)
        outs = tuple(_buffer(out, name, n_people) for name in (
            "person_progress", "person_items", "person_error_ref", "person_seen"))
        _numba.load().people(st.offsets, frame.kr_owner_offsets, frame.kr_owner_ids,
                             frame.obj_owner, obj_error, np.ascontiguousarray(obj_progress),
                             kr_error, np.ascontiguousarray(kr_progress), frame.n_kr,
                             _numba.thread_count(), *outs)
        progress, items, ref, seen = outs
        if bool(np.any(np.isinf(progress))):
            # (rare) a sum of progress near 1e308 overflowed: redo those people exactly as
            # the numpy path does, from their items
            who, bad, prog, _ = person_items(frame, obj_error, obj_progress, kr_error,
                                             kr_progress)
            counted = ~bad & ~np.isnan(prog)
            _rescue_people(progress, progress, who[counted], prog[counted])
        return People(progress, items, ref, seen)


def _rollup(frame: OrgFrame, st: Structure, tree: _Tree, sc: _Scenario,
            override: tuple[B, F64, F64] | None = None,
            sums_out: tuple[F64, F64] | None = None) -> tuple[F64, F64, F64, B, F64]:
    """One rollup scenario: the key result sums and the tree in one fused pass.

    Returns the objectives' progress, raw progress, summed value, forecast flags and summed
    progress.  ``override`` (per key result: a mask, a progress and a value) replaces the
    progress and value of the masked rows (the forecast state: its rows with a forecast);
    ``sums_out`` receives the summed part's value and progress (written in the evaluation
    "now" only).
    """
    from okrcore.batch import _numba

    m, n = frame.n_obj, frame.n_kr
    obj = frame.kr_objective
    kr_value, kr_progress, cap = sc.kr_value, sc.kr_progress, sc.cap
    errors, valid, kid_has_fc, kid_now = sc.errors, sc.valid, sc.kid_has_fc, sc.kid_now
    assert st.offsets is not None
    progress, raw, has_fc, pinned = _rollup_start(frame, st, sc)
    scenario = (0 if errors is not None else (2 if kid_has_fc is not None else 1))
    err, ref = errors if errors is not None else (np.zeros(m, np.uint8),
                                                  np.zeros(m, np.int64))
    value_sum, prog_sum = sums_out if sums_out is not None else (np.empty(m), np.empty(m))
    summed = st.summed if st.summed is not None else st.contributes & (st.mode[obj] == 2)
    over, over_progress, over_value = (override if override is not None else
                                       (np.zeros(0, np.bool_), np.zeros(0), np.zeros(0)))
    _numba.load().rollup_fused(
        tree.order, tree.level_offsets, tree.child_offsets, tree.children, tree.others,
        st.offsets, frame.kr_weight, np.ascontiguousarray(kr_progress),
        np.ascontiguousarray(kr_value), np.ascontiguousarray(over),
        np.ascontiguousarray(over_progress), np.ascontiguousarray(over_value), summed,
        st.sum_start, st.sum_target,
        _numba.UNCAPPED if cap is None else float(cap), n, st.mode == 2, st.uses_children,
        frame.obj_weight, frame.obj_due, pinned, scenario, err, ref,
        valid if valid is not None else np.ones(m, np.bool_),
        kid_now if kid_now is not None else progress, has_fc, progress, raw, value_sum,
        prog_sum)
    return progress, raw, value_sum, has_fc, prog_sum


def _numba_front(frame: OrgFrame, broken: B, out: BatchResult | None = None
                 ) -> tuple[Any, ...]:
    """Per key result, before evaluation (numba): errors, objective start, due, ambition.

    The errors include the field validation of frames built from plain columns.
    """
    from okrcore.batch import _numba

    n = frame.n_kr
    outs = (_buffer(out, "kr_error", n), np.empty(n, np.int64), np.empty(n, np.int64),
            np.empty(n, np.bool_))
    _numba.load().kr_front(
        frame.kr_objective, frame.kr_load, not frame.validated, frame.kr_kind, frame.kr_start,
        frame.kr_target, frame.kr_current, frame.kr_weight, frame.kr_range_mode,
        frame.kr_red_low, frame.kr_yellow_low, frame.kr_yellow_high, frame.kr_red_high,
        frame.kr_due, np.ascontiguousarray(broken), frame.obj_start, frame.obj_due,
        frame.obj_ambition, *outs)
    return outs


def _numba_logs(frame: OrgFrame, as_of: int, obj_start_of_kr: I64, due_of_kr: I64,
                last_at: I64 | None = None) -> Logs:
    """The check-in logs at ``as_of`` (numba kernel), given each key result's timeline."""
    from okrcore.batch import _numba

    n = frame.n_kr
    offsets = np.empty(n + 1, dtype=np.int64)
    # log rows are sorted by key result: one sequential pass gives the CSR offsets
    if not _numba.load().csr_of_sorted(frame.log_kr, offsets):
        counts = np.bincount(frame.log_kr, minlength=n) if frame.log_kr.shape[0] else (
            np.zeros(n, dtype=np.int64))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Logs(*_numba.logs_pass(offsets, frame.log_at, frame.log_value, as_of,
                                   np.ascontiguousarray(obj_start_of_kr),
                                   np.ascontiguousarray(due_of_kr),
                                   float(MICROSECONDS_PER_DAY), last_at=last_at))


def _numba_kr_pass(frame: OrgFrame, logs: Logs, obj_start_kr: I64, due_kr: I64,
                   aspirational: B, as_of: int, policy: Policy, out: BatchResult | None
                   ) -> tuple[F64, F64, F64, I8, F64, I8, I8, F64, I8, B]:
    """The fused per key result pass (see :mod:`okrcore.batch._numba`)."""
    from okrcore.batch import _numba

    n = frame.n_kr
    bufs = tuple(_buffer(out, name, n) for name in (
        "kr_value", "kr_raw", "kr_progress", "kr_range_status", "kr_expected",
        "kr_pace_colour", "kr_colour", "kr_grade_score", "kr_grade_band", "kr_grade_success"))
    _numba.kr_pass(
        frame.kr_kind, frame.kr_start, frame.kr_target, frame.kr_current, logs.has_entry,
        logs.value, frame.kr_range_mode, frame.kr_red_low, frame.kr_yellow_low,
        frame.kr_yellow_high, frame.kr_red_high, obj_start_kr, due_kr, aspirational, as_of,
        _numba.UNCAPPED if policy.cap is None else float(policy.cap),
        policy.strict_breakpoints, policy.tolerance, _numba.pace_rule_code(policy.pace),
        float(policy.pace.yellow), float(policy.pace.red), float(policy.grade_yellow),
        float(policy.grade_green), float(policy.aspirational_success), *bufs)
    value, raw, progress, status, expected, pace, colour, score, band, success = bufs
    return value, raw, progress, status, expected, pace, colour, score, band, success


def _numba_post(frame: OrgFrame, kr_error: npt.NDArray[np.uint8], value: F64, raw: F64,
                progress: F64, status: I8, logs: Logs, obj_start_kr: I64, as_of: int,
                policy: Policy, out: BatchResult | None = None) -> tuple[Any, ...]:
    """Trend, staleness, forecast and the previous state's rollup inputs, fused (numba).

    With ``out``, the result columns among them are written into its buffers.
    """
    from okrcore.batch import _numba

    n = frame.n_kr
    outs = (_buffer(out, "kr_trend", n), _buffer(out, "kr_stale", n),
            _buffer(out, "kr_forecast_value", n), _buffer(out, "kr_forecast_progress", n),
            np.empty(n, np.int8), _buffer(out, "kr_forecast_colour", n), np.empty(n, np.bool_),
            np.empty(n), np.empty(n))
    _numba.load().kr_post(
        kr_error, frame.kr_kind, frame.kr_start, frame.kr_target, frame.kr_range_mode,
        frame.kr_red_low, frame.kr_yellow_low, frame.kr_yellow_high, frame.kr_red_high, value,
        raw, progress, status, frame.kr_has_log, logs.has_entry, logs.has_previous,
        logs.previous, logs.last_at, logs.forecast, np.ascontiguousarray(obj_start_kr),
        as_of, float(policy.stale_days * MICROSECONDS_PER_DAY),
        _numba.UNCAPPED if policy.cap is None else float(policy.cap),
        policy.strict_breakpoints, policy.tolerance, _numba.pace_rule_code(policy.pace),
        float(policy.pace.yellow), float(policy.pace.red), *outs)
    return outs


def _numba_structure(frame: OrgFrame, kr_ok: B, out: BatchResult | None = None
                     ) -> Structure:
    """:func:`_structure` as one fused kernel over each objective's key result rows."""
    from okrcore.batch import _numba

    kernels = _numba.load()
    m = frame.n_obj
    offsets = np.empty(m + 1, dtype=np.int64)
    if not kernels.csr_of_sorted(frame.kr_objective, offsets):
        raise ValueError("key result rows must be grouped by objective (sort by kr_objective)")
    st = Structure(
        n_krs=np.empty(m, np.int64), mode=_buffer(out, "obj_mode", m),
        rule=np.empty(m, np.uint8), uses_children=np.empty(m, np.bool_),
        sum_unit=_buffer(out, "obj_sum_unit", m), contributes=np.empty(frame.n_kr, np.bool_),
        sum_error=np.empty(m, np.uint8), sum_start=_buffer(out, "obj_sum_start", m),
        sum_target=_buffer(out, "obj_sum_target", m), target_auto=np.empty(m, np.bool_),
        offsets=offsets, summed=np.empty(frame.n_kr, np.bool_))
    kernels.structure(
        offsets, frame.kr_kind, frame.kr_range_mode, frame.kr_start, frame.kr_target,
        frame.kr_weight, frame.kr_unit, np.ascontiguousarray(kr_ok), frame.obj_mode,
        frame.obj_ps_unit, frame.obj_ps_auto, frame.obj_ps_start, frame.obj_ps_target,
        frame.obj_include_children, st.n_krs, st.mode, st.rule, st.uses_children, st.sum_unit,
        st.sum_error, st.sum_start, st.sum_target, st.target_auto, st.contributes, st.summed)
    return st


def _numba_aggregates(frame: OrgFrame, st: Structure, kr_error: npt.NDArray[np.uint8],
                      logs: Logs, has_fc: B, stale: I8, status: I8, fc_status: I8
                      ) -> tuple[Any, ...]:
    """Per objective, in one pass over its key results (numba).

    The first bad key result, forecast and history flags, staleness, worst range statuses.
    """
    from okrcore.batch import _numba

    m = frame.n_obj
    offsets = st.offsets
    assert offsets is not None
    outs = (np.empty(m, np.int64), np.empty(m, np.bool_), np.empty(m, np.bool_),
            np.empty(m, np.int8), np.empty(m, np.int8), np.empty(m, np.int8),
            np.empty(m, np.int8))
    _numba.load().obj_aggregates(offsets, kr_error, st.contributes, logs.has_entry, has_fc,
                                 frame.kr_has_log, stale, frame.kr_range_mode, status,
                                 fc_status, *outs)
    return outs


def _numba_tail(frame: OrgFrame, st: Structure, obj_error: npt.NDArray[np.uint8],
                obj_progress: F64, prev_obj: F64, fc_obj_progress: F64, fc_ok: B, obj_hist: B,
                worst: tuple[Any, Any, Any], kr_error: npt.NDArray[np.uint8], as_of: int,
                policy: Policy, out: BatchResult | None = None) -> tuple[Any, ...]:
    """The objective tail and each key result's ``contributes``, in one kernel (numba).

    Trend, expected progress, colours, forecast colour, grade and rule of every objective;
    ``prev_obj`` and ``fc_obj_progress`` are masked in place.
    """
    from okrcore.batch import _numba

    m = frame.n_obj
    assert st.offsets is not None
    outs = tuple(_buffer(out, name, frame.n_kr if name.startswith("kr_") else m) for name in (
        "obj_trend", "obj_expected", "obj_colour", "obj_computed_colour", "obj_forecast_colour",
        "obj_grade_score", "obj_grade_band", "obj_grade_success", "obj_rule", "kr_contributes"))
    trend, expected, colour, computed, fc_colour, score, band, success, rule, contributes = outs
    _numba.load().obj_tail(
        st.offsets, obj_error, np.ascontiguousarray(obj_progress), prev_obj, fc_obj_progress,
        fc_ok, obj_hist, st.n_krs > 0, st.rule, frame.obj_start, frame.obj_due,
        frame.obj_status, frame.obj_ambition, *worst, st.contributes, frame.kr_weight,
        kr_error, as_of, policy.tolerance, _numba.pace_rule_code(policy.pace),
        float(policy.pace.yellow), float(policy.pace.red), float(policy.grade_yellow),
        float(policy.grade_green), float(policy.aspirational_success), *outs)
    return (trend, expected, colour, computed, fc_colour, score, band, success, rule,
            contributes)


@attrs.frozen(eq=False)
class _Tree:
    """The alignment forest for the numba rollup kernel."""

    order: I64  # objectives with a height, by height (children before parents), row order
    level_offsets: I64  # the objectives of height h are order[level_offsets[h]:...[h + 1]]
    child_offsets: I64  # CSR: the children of o are children[child_offsets[o]:...[o + 1]]
    children: I64  # in row order within each parent
    others: I64  # the objectives without a height (on an alignment cycle), row order


def _tree(parent: I64, height: I64) -> _Tree:
    from okrcore.batch import _numba

    m = parent.shape[0]
    max_h = int(height.max()) if m else -1
    # the rows of each height in row order, by one stable sort (not one pass per height)
    by_height = np.argsort(height, kind="stable")
    # where each height 0..max_h starts, and the end (cycles, height -1, come first: left out)
    bounds = np.searchsorted(height[by_height], np.arange(0, max_h + 2))
    order = by_height[bounds[0]:]
    level_offsets = (bounds - bounds[0]).astype(np.int64)
    count = int(np.count_nonzero((parent >= 0) & (height >= 0)))
    offsets = np.empty(m + 1, dtype=np.int64)
    children = np.empty(count, dtype=np.int64)
    _numba.load().children(parent, height, offsets, children)
    return _Tree(order.astype(np.int64, copy=False), level_offsets, offsets, children,
                 np.flatnonzero(height < 0))

