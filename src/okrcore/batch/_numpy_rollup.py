"""The numpy backend's objective passes: structure, rollup levels (now, previous, forecast).

Split out of :mod:`okrcore.batch.engine` (issue 18).  One rollup scenario is a
:class:`_Scenario` record; :func:`_rollup` goes up the alignment forest level by level.
"""

from __future__ import annotations

import math
import typing
from typing import Any, Final, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from okrcore import formulas as F
from okrcore.batch._blocks import (
    F64,
    I64,
    U8,
    B,
    _block_groups,
    _fill,
    _first_of_runs,
    _group_blocks,
    _group_sum,
    _index_dtype,
    _map_blocks,
    _row_blocks,
    _sorted_group_count,
)
from okrcore.batch._result import BatchResult, _buffer
from okrcore.batch._vector import _clamp, _halve_overflows
from okrcore.batch.backend import Pin, Structure
from okrcore.batch.frame import OrgFrame
from okrcore.codes import (
    ERR_DEGENERATE_GOAL,
    ERR_DEPENDS_ON_INVALID,
    ERR_MIXED_DIRECTIONS,
    ERR_NO_CONTRIBUTING_METRIC,
    ERR_NO_SUM_UNIT,
    ERR_NOT_FINITE,
    KIND_METRIC,
    LOAD_OK,
    NONE_INSTANT,
    RULE_CHILDREN,
    RULE_EXPLICIT,
    RULE_MIXED,
    RULE_SAME_UNIT,
    RULE_SETTINGS,
)


class _Scenario(NamedTuple):
    """One rollup scenario: the key results' values and progress, and how it rolls up.

    ``errors`` (the evaluation "now": objective errors and references, set in place) or
    ``valid`` (the other scenarios: the objectives without an error); ``kid_has_fc`` and
    ``kid_now`` (the forecast scenario: key results with a forecast, and the objectives'
    progress now); ``pin`` (pinned objectives); ``fc_start`` (numba kernel: the objectives'
    starting forecast flags); ``delta`` (numpy kernel: the scenario's key result rows that
    differ from ``kr_value`` and ``kr_progress``, with their values and clamped progress).
    """

    kr_value: F64
    kr_progress: F64
    cap: float | None
    valid: B | None = None
    errors: tuple[U8, I64] | None = None
    kid_has_fc: B | None = None
    kid_now: F64 | None = None
    pin: Pin | None = None
    fc_start: B | None = None
    delta: tuple[Any, F64, F64] | None = None


class _Into(NamedTuple):
    """Where :func:`_rollup` writes: progress, raw progress, the summed part (or new)."""

    progress: F64 | None = None
    raw: F64 | None = None
    sums: tuple[F64, F64] | None = None


def _graph(frame: OrgFrame, out: BatchResult | None = None) -> tuple[I64, B, I64]:
    """Parent links, cycle membership and heights (children before parents).

    Returns ``parent`` (-1 none), ``in_cycle`` and ``height`` (0 for objectives without
    children; -1 for objectives on a cycle).  With ``out``, ``parent`` and ``in_cycle`` are
    its buffers ``obj_parent`` and ``obj_in_cycle``.
    """
    m = frame.n_obj
    parent = _buffer(out, "obj_parent", m)
    np.copyto(parent, frame.obj_parent)
    parent[frame.obj_load != LOAD_OK] = -1
    parent[parent < 0] = -1
    linked = parent >= 0
    # peel leaves: what remains is exactly the cycles (a functional graph)
    remaining_children = np.bincount(parent[linked], minlength=m) if m else np.zeros(0, np.int64)
    height = np.full(m, -1, dtype=np.int64)
    alive = _buffer(out, "obj_in_cycle", m)
    alive[:] = True
    level = 0
    frontier = np.flatnonzero(remaining_children == 0)
    # each step costs the size of its frontier (no pass over all m rows), so a chain of
    # objectives is peeled in linear time
    while frontier.shape[0]:
        height[frontier] = level
        alive[frontier] = False
        ups = parent[frontier]
        ups = ups[ups >= 0]
        if ups.shape[0] == 0:
            break
        np.subtract.at(remaining_children, ups, 1)
        ups = np.unique(ups)
        frontier = ups[(remaining_children[ups] == 0) & alive[ups]]
        level += 1
    in_cycle = alive
    # a node hanging below a cycle keeps its height (computed from its own children)
    return parent, in_cycle, height


def _structure(frame: OrgFrame, kr_ok: B, out: BatchResult | None = None) -> Structure:
    """The rollup structure of every objective (see :class:`Structure`).

    With ``out``, the columns that are also result columns (``mode``, ``sum_unit``,
    ``sum_start``, ``sum_target``) are its buffers ``obj_mode``, ``obj_sum_unit``, ...
    """
    m = frame.n_obj
    obj = frame.kr_objective
    grouped = bool(np.all(obj[1:] >= obj[:-1])) if obj.shape[0] > 1 else True
    if not grouped:
        raise ValueError("key result rows must be grouped by objective (sort by kr_objective)")
    # per key result work in blocks of whole objectives (no objective is cut, so every
    # per-objective sum adds the same rows in the same order as over the whole column);
    # objectives without key results keep the starting values
    blocks = _group_blocks(obj)
    n_krs = np.zeros(m, dtype=np.int64)
    all_plain = np.ones(m, dtype=bool)
    same_unit = np.ones(m, dtype=bool)
    same_dir = np.ones(m, dtype=bool)
    wm_first_unit = np.full(m, -2, dtype=np.int32)
    wm_units_differ = np.zeros(m, dtype=bool)
    unit_first = np.full(m, -1, dtype=np.int32)  # the unit of each objective's first row
    weight_total = np.zeros(m)
    direction = np.empty(obj.shape[0], dtype=np.int8)

    def first_pass(lo: int, hi: int) -> None:
        # (each block has whole objectives: it writes only its own rows and objectives)
        rows = slice(lo, hi)
        local, first_obj, objs = _block_groups(obj, lo, hi)
        n_krs[objs] = np.bincount(local)
        weight_total[objs] = np.bincount(local, weights=frame.kr_weight[rows])
        # direction: the sign of target - start as int8; NaN is its own code, counted as
        # down (as numpy's int64 cast of a NaN sign, the int64 minimum, is)
        with np.errstate(over="ignore"):  # (an overflow keeps its sign)
            span = frame.kr_target[rows] - frame.kr_start[rows]
        d = direction[rows]
        np.subtract((span > 0).view(np.int8), (span < 0).view(np.int8), out=d)
        d[np.isnan(span)] = -128
        metric = frame.kr_kind[rows] == KIND_METRIC
        plain = all_plain[objs]
        plain[local[~(metric & (frame.kr_range_mode[rows] == 0))]] = False
        all_plain[objs] = plain
        # "every row of a group equals its first row" is "no two neighbours in a group differ"
        same_group = local[1:] == local[:-1]
        unit = frame.kr_unit[rows]
        runs, idx = _first_of_runs(local)
        unit_first[runs + first_obj] = unit[idx]
        for result, column in ((same_unit, unit), (same_dir, d)):
            same = result[objs]
            same[local[1:][same_group & (column[1:] != column[:-1])]] = False
            result[objs] = same
        # the unit of a sum: the one unit of the weighted metrics
        wm = np.flatnonzero(metric & (frame.kr_weight[rows] > 0))
        wm_obj, wm_unit = local[wm], unit[wm]
        if wm.shape[0]:
            runs, idx = _first_of_runs(wm_obj)
            wm_first_unit[runs + first_obj] = wm_unit[idx]
            wm_units_differ[wm_obj[1:][(wm_obj[1:] == wm_obj[:-1])
                                       & (wm_unit[1:] != wm_unit[:-1])] + first_obj] = True

    _map_blocks(first_pass, blocks)
    has_krs = n_krs > 0
    has_settings = frame.obj_ps_unit >= 0
    explicit = frame.obj_mode != 0
    auto_same = has_krs & all_plain & same_unit & (unit_first >= 0) & same_dir
    # mode: explicit, else sum with settings or one unit, else mean; mean without key results
    mode = _buffer(out, "obj_mode", m)
    np.copyto(mode, np.where(has_settings | auto_same, np.uint8(2), np.uint8(1)))
    np.copyto(mode, frame.obj_mode, where=explicit)
    mode[~has_krs] = 1
    # the rule, the first that applies: explicit, settings, same unit, mixed; children alone
    rule = np.full(m, RULE_MIXED, dtype=np.uint8)
    rule[auto_same] = RULE_SAME_UNIT
    rule[has_settings] = RULE_SETTINGS
    rule[explicit] = RULE_EXPLICIT
    rule[~has_krs] = RULE_CHILDREN
    uses_children = ~has_krs | frame.obj_include_children
    # the unit of a sum: the settings' unit, else the one unit of the weighted metrics
    sum_unit = _buffer(out, "obj_sum_unit", m)
    np.copyto(sum_unit, wm_first_unit)
    np.copyto(sum_unit, frame.obj_ps_unit, where=has_settings)
    sum_error = np.zeros(m, dtype=np.uint8)
    is_sum = (mode == 2) & has_krs
    no_unit = is_sum & ~has_settings & ((wm_first_unit == -2) | wm_units_differ)
    sum_error[no_unit] = ERR_NO_SUM_UNIT
    # the rows that count in a sum: weighted metrics of the sum's unit; sums from 0.0 over
    # them in row order (the rows left out would add 0.0, which changes no such sum: it is
    # never -0.0)
    n_contrib = np.zeros(m, dtype=np.int32)
    up = np.zeros(m, dtype=np.int32)
    down = np.zeros(m, dtype=np.int32)
    # (the sums of the rows counted; settings override them below)
    starts = _buffer(out, "obj_sum_start", m)
    targets = _buffer(out, "obj_sum_target", m)
    starts[:] = 0.0
    targets[:] = 0.0
    contributes = np.empty(obj.shape[0], dtype=bool)

    def second_pass(lo: int, hi: int) -> I64:
        rows = slice(lo, hi)
        local, first_obj, objs = _block_groups(obj, lo, hi)
        weight_ok = frame.kr_weight[rows] > 0
        wm = np.flatnonzero((frame.kr_kind[rows] == KIND_METRIC) & weight_ok)
        wm_obj = local[wm] + first_obj
        picked = (frame.kr_unit[rows][wm] == sum_unit[wm_obj]) & is_sum[wm_obj]
        cs, cs_obj = wm[picked], local[wm[picked]]
        k = objs.stop - objs.start
        n_contrib[objs] = np.bincount(cs_obj, minlength=k)
        cs_dir = direction[rows][cs]
        up[objs] = np.bincount(cs_obj[cs_dir > 0], minlength=k)
        down[objs] = np.bincount(cs_obj[cs_dir < 0], minlength=k)
        starts[objs] = np.bincount(cs_obj, weights=frame.kr_start[rows][cs], minlength=k)
        targets[objs] = np.bincount(cs_obj, weights=frame.kr_target[rows][cs], minlength=k)
        c = contributes[rows]
        np.logical_and(weight_ok, ~is_sum[objs][local], out=c)
        c[cs] = True
        c &= kr_ok[rows]
        return np.asarray(cs[kr_ok[rows][cs]] + lo)

    summed_rows = _map_blocks(second_pass, blocks)
    sum_error[is_sum & (sum_error == 0) & (n_contrib == 0)] = ERR_NO_CONTRIBUTING_METRIC
    sum_error[is_sum & (sum_error == 0) & (up > 0) & (down > 0)] = ERR_MIXED_DIRECTIONS
    sum_start = starts
    np.copyto(sum_start, frame.obj_ps_start,
              where=has_settings & ~np.isnan(frame.obj_ps_start))
    target_auto = ~has_settings | frame.obj_ps_auto
    sum_target = targets
    np.copyto(sum_target, frame.obj_ps_target, where=~target_auto)
    sum_error[is_sum & (sum_error == 0) & (sum_target == sum_start)] = ERR_DEGENERATE_GOAL
    # the rows counted in sums and their objectives, held through all three rollups
    summed = (np.concatenate(summed_rows) if summed_rows else np.zeros(0, np.int64)).astype(
        _index_dtype(obj.shape[0]), copy=False)
    del summed_rows
    summed_obj = obj[summed].astype(_index_dtype(m), copy=False)
    return Structure(n_krs, mode, rule, uses_children, sum_unit, contributes, sum_error,
                      sum_start, sum_target, target_auto, weight_total=weight_total,
                      summed_rows=summed, summed_obj=summed_obj)


def _kr_part(frame: OrgFrame, st: Structure, value: F64, progress: F64, cap: float | None,
             delta: tuple[Any, F64, F64] | None = None,
             sums_out: tuple[F64, F64] | None = None) -> tuple[F64, F64, F64, F64]:
    """Per objective: Σ w·p of its key results, the sum-mode value, raw and clamped progress.

    ``delta`` (a scenario: ascending rows, int32 or int64, with their values and clamped
    progress) replaces those rows' value and progress; the columns themselves are left as they
    are.  Blocks of whole objectives (numpy kernel): each objective's rows are added in row
    order from 0.0, as one ``np.bincount`` over every row would add them.  ``sums_out`` (two
    columns per objective) receives the sum-mode value and clamped progress.
    """
    m = frame.n_obj
    obj = frame.kr_objective
    w = frame.kr_weight
    summed_rows, summed_obj = st.summed_rows, st.summed_obj
    # objectives without key results (no block reaches them) keep 0.0
    weighted = np.zeros(m)
    if sums_out is None:
        value_sum = np.zeros(m)
    else:
        value_sum = sums_out[0]
        _fill(value_sum, 0.0)
    d_rows, d_value, d_prog = delta if delta is not None else (None, None, None)
    # (the numpy backend's structure: the rows counted in sums, with their objectives)
    assert summed_rows is not None and summed_obj is not None

    def block(lo: int, hi: int) -> None:
        g = obj[lo:hi]
        first = int(g[0])
        k = int(g[-1]) + 1 - first
        p, v = progress[lo:hi], value[lo:hi]
        if d_rows is not None and d_value is not None and d_prog is not None:
            a, b = np.searchsorted(d_rows, (lo, hi))
            at = d_rows[a:b] - lo
            p, v = p.copy(), v.copy()
            p[at] = d_prog[a:b]
            v[at] = d_value[a:b]
        with np.errstate(over="ignore", invalid="ignore"):  # rescued by the rollup (1e308)
            weighted[first:first + k] = np.bincount(g - first, weights=w[lo:hi] * p,
                                                    minlength=k)
        # the rows left out of a sum would add 0.0, which changes no such sum (never -0.0)
        a, b = np.searchsorted(summed_rows, (lo, hi))
        value_sum[first:first + k] = np.bincount(summed_obj[a:b] - first,
                                                 weights=v[summed_rows[a:b] - lo], minlength=k)

    _map_blocks(block, _group_blocks(obj))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        raw_sum = np.subtract(value_sum, st.sum_start)
        span = st.sum_target - st.sum_start
        _halve_overflows(raw_sum, span, value_sum, st.sum_start, st.sum_target)
        raw_sum /= span
        # a total beyond floating point: no finite progress (not_finite)
        raw_sum[~(np.isfinite(value_sum) & np.isfinite(st.sum_start)
                  & np.isfinite(st.sum_target))] = np.nan
    return weighted, value_sum, raw_sum, _clamp(raw_sum, cap,
                                                None if sums_out is None else sums_out[1])


class _Level(NamedTuple):
    """One height of the alignment forest, for the numpy kernel's rollups.

    Row indices are int32 when every objective row fits (they are held through all three
    rollups).
    """

    rows: npt.NDArray[Any]  # the objectives of this height (row order)
    kids: npt.NDArray[Any]  # the objectives whose parent is at this height
    up: npt.NDArray[Any]  # per kid: its parent's position among ``rows``


def _levels(parent: I64, height: I64) -> list[_Level]:
    """Per height: its rows, the rows whose parent is at it, and where each parent is.

    What every rollup scenario needs from the forest alone, computed once per evaluation.
    """
    m = parent.shape[0]
    index = _index_dtype(m)
    kids = np.flatnonzero(parent >= 0).astype(index)
    kid_level = height[parent[kids]]
    max_height = int(height.max()) if m else -1
    level_of = np.empty(m, dtype=index)  # a row's position in its level
    levels = []
    # rows and kids of each height in row order, by one stable sort each (not one pass over
    # all rows per height: a chain of objectives has as many heights as rows)
    heights = np.arange(max_height + 2)
    by_height = np.argsort(height, kind="stable")
    row_bounds = np.searchsorted(height[by_height], heights)
    by_kid_level = np.argsort(kid_level, kind="stable")
    kid_bounds = np.searchsorted(kid_level[by_kid_level], heights)
    for level in range(max_height + 1):
        rows = by_height[row_bounds[level]:row_bounds[level + 1]].astype(index)
        level_kids = (kids[by_kid_level[kid_bounds[level]:kid_bounds[level + 1]]] if level
                      else np.zeros(0, dtype=index))
        level_of[rows] = np.arange(rows.shape[0], dtype=index)
        levels.append(_Level(rows, level_kids, level_of[parent[level_kids]]))
    return levels


@attrs.frozen(eq=False)
class _Forest:
    """What the numpy kernel's rollups need from the forest and the structure alone.

    The same in every scenario (now, previous, forecast): computed once per evaluation.
    """

    parent: I64  # per objective: its parent (-1 none)
    levels: list[_Level]
    own_total: F64  # per objective: its own key results' weight (1.0 for a sum, 0.0 if none)
    plain_sum: B  # per objective: a sum whose progress is just the sum (no aligned child in it)
    sum_rows: I64  # the objectives that sum their own key results


def _forest(parent: I64, height: I64, st: Structure) -> _Forest:
    """:func:`_levels` and the per objective constants of the rollups (numpy kernel)."""
    levels = _levels(parent, height)
    # the objectives rolled up (height >= 0) that have an aligned child: a child of such an
    # objective is never on a cycle, so these are the parents of the levels' children
    has_children = np.zeros(parent.shape[0], dtype=bool)
    for level in levels:
        has_children[level.rows[level.up]] = True  # the kids' parents
    has_krs = st.n_krs > 0
    summing = (st.mode == 2) & has_krs
    assert st.weight_total is not None
    own_total = np.where(has_krs, np.where(summing, 1.0, st.weight_total), 0.0)
    # a sum with include_children but no aligned child is just the sum (raw as is)
    plain_sum = summing & (~st.uses_children | ~has_children)
    return _Forest(parent, levels, own_total, plain_sum, np.flatnonzero(summing))


def _rollup(frame: OrgFrame, st: Structure, forest: _Forest, sc: _Scenario,
            into: _Into | None = None) -> tuple[F64, F64 | None, F64, B, F64]:
    """Objective progress (NaN = null), raw and summed value, forecast flags, summed part.

    Level by level up the alignment tree (children before parents).  With ``sc.errors`` (the
    evaluation "now"), invalid children make the objectives that roll them up
    ``depends_on_invalid`` and overflowing results become ``not_finite``, in the scalar
    path's order.  With ``sc.kid_has_fc`` (the forecast scenario), children without a
    forecast take part with their progress now (``sc.kid_now``), and the returned flags say
    which objectives have a forecast.

    ``sc.delta`` gives the scenario's key result rows that differ from ``sc.kr_value`` and
    ``sc.kr_progress`` (see :func:`_kr_part`); progress is written into ``into.progress``
    when given, raw progress into ``into.raw`` when given (raw is computed only in the
    evaluation "now" or when asked for).  ``into.sums`` receives the summed part's value and
    progress.
    """
    kr_value, kr_progress, cap = sc.kr_value, sc.kr_progress, sc.cap
    valid, errors, kid_has_fc, kid_now = sc.valid, sc.errors, sc.kid_has_fc, sc.kid_now
    delta = sc.delta
    progress_out, raw_out, sums_out = into if into is not None else _Into()
    m = frame.n_obj
    n = frame.n_kr
    parent = forest.parent
    # the own part of every objective: Σ w·p of its key results, or a sum's progress
    own_weighted, value_sum, raw_sum, prog_sum = _kr_part(frame, st, kr_value, kr_progress,
                                                          cap, delta, sums_out)
    own_weighted[forest.sum_rows] = prog_sum[forest.sum_rows]
    own_total, plain_sum = forest.own_total, forest.plain_sum
    want_raw = errors is not None or raw_out is not None
    progress, raw, has_fc, pinned = _rollup_start(frame, st, sc, progress_out,
                                                  raw_out if want_raw else np.zeros(0))
    for level_rows, kids, up in forest.levels:
        if errors is not None and kids.shape[0]:
            obj_error, obj_ref = errors
            bad_kids = kids[obj_error[kids] != 0]
            if bad_kids.shape[0]:
                ups, first = np.unique(parent[bad_kids], return_index=True)
                open_ = (obj_error[ups] == 0) | (obj_error[ups] >= ERR_NO_CONTRIBUTING_METRIC)
                hit = ups[open_ & st.uses_children[ups] & ~pinned[ups]]
                ref = np.full(m, -1, dtype=np.int64)
                ref[ups] = bad_kids[first] + n
                obj_error[hit] = ERR_DEPENDS_ON_INVALID
                obj_ref[hit] = ref[hit]
        k = level_rows.shape[0]
        if k <= _THIN_ROWS and kids.shape[0] <= _THIN_KIDS:
            # a thin level (a chain of objectives has one row per level): the same operations
            # on Python floats, without the fixed cost of some forty numpy calls
            _thin_level(_ThinPass(frame, st, sc, own_total, own_weighted, plain_sum, prog_sum,
                                  raw_sum, progress, raw, want_raw, pinned, has_fc),
                        level_rows, kids, up)
            continue
        if kids.shape[0]:
            assert errors is not None or valid is not None
            # (whether each kid is valid, computed at the kids only: not a pass over every row
            # per level)
            ok_kid: B = ((errors[0][kids] == 0) if errors is not None
                         else typing.cast(B, valid)[kids])
            if kid_has_fc is not None and kid_now is not None:
                counted_now = (ok_kid & ~np.isnan(kid_now[kids])
                               & (frame.obj_weight[kids] > 0))
                lift = kids[counted_now & has_fc[kids] & st.uses_children[parent[kids]]]
                lift = lift[~pinned[parent[lift]]]
                # (has_fc is read at the kids below, written at their parents: another level)
                has_fc[parent[lift]] = True
            # each child's counted weight, progress and weight x progress, block by block
            wk, kp, wkp = (np.empty(kids.shape[0]), np.empty(kids.shape[0]),
                           np.empty(kids.shape[0]))

            def kid_block(lo: int, hi: int, kids: Any = kids, ok_kid: B = ok_kid,
                          wk: F64 = wk, kp: F64 = kp, wkp: F64 = wkp) -> None:
                these = kids[lo:hi]
                p = progress[these]
                if kid_has_fc is not None and kid_now is not None:
                    p = np.where(has_fc[these], p, kid_now[these])
                w = frame.obj_weight[these]
                counted = ok_kid[lo:hi] & ~np.isnan(p) & (w > 0)
                block_w = np.where(counted, w, 0.0)
                wk[lo:hi] = block_w
                kp[lo:hi] = np.where(counted, p, 0.0)
                with np.errstate(over="ignore", invalid="ignore"):  # rescued by level_block
                    wkp[lo:hi] = block_w * kp[lo:hi]

            _map_blocks(kid_block, _row_blocks(kids.shape[0]))
            # per parent, its children in row order (the parents are this level's rows)
            ctot_level = _group_sum(up, wk, k)
            cw_level = _group_sum(up, wkp, k)
            del wkp
            level_kids: tuple[Any, F64, F64] | None = (up, wk, kp)
        else:
            ctot_level = cw_level = np.zeros(k)
            level_kids = None

        def level_block(lo: int, hi: int, level_rows: Any = level_rows,
                        ctot_level: F64 = ctot_level, cw_level: F64 = cw_level,
                        level_kids: tuple[Any, F64, F64] | None = level_kids) -> None:
            block = slice(lo, hi)
            keep = ~pinned[level_rows[block]]
            rows = level_rows[block][keep]
            uses = st.uses_children[rows]
            plain = plain_sum[rows]
            mixed_total = own_total[rows] + np.where(uses, ctot_level[block][keep], 0.0)
            numerator = own_weighted[rows] + np.where(uses, cw_level[block][keep], 0.0)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                mixed = numerator / mixed_total
            # (a NaN numerator: an infinite progress of weight 0, which the scalar path skips)
            rescue = ~plain & (np.isinf(mixed_total) | ~np.isfinite(numerator))
            rescue &= (errors[0][rows] == 0) if errors is not None else (
                valid[rows] if valid is not None else True)
            for at in np.flatnonzero(rescue).tolist():
                # weights or progress near 1e308 (rare): the scalar path's rescaled mean
                mixed[at] = _rescaled_mean(
                    frame, st, int(rows[at]), kr_progress, delta, prog_sum,
                    level_kids if bool(uses[at]) else None,
                    lo + int(np.flatnonzero(keep)[at]))
            null = ~plain & (mixed_total == 0)
            mean = np.where(null, np.nan, mixed)
            level_progress = np.where(plain, prog_sum[rows], mean)
            progress[rows] = level_progress
            if want_raw:
                level_raw = np.where(plain, raw_sum[rows], mean)
                raw[rows] = level_raw
            if errors is not None:
                obj_error = errors[0]
                # (a sum with children hides its raw progress inside the mean: its own)
                beyond = ~np.isfinite(level_raw) & ~null
                beyond |= (st.mode[rows] == 2) & (st.n_krs[rows] > 0) & np.isnan(raw_sum[rows])
                overflow = rows[(obj_error[rows] == 0) & beyond]
                obj_error[overflow] = ERR_NOT_FINITE
            if kid_has_fc is not None:
                # (a projected progress beyond floating point is no forecast)
                good = (frame.obj_due[rows] != NONE_INSTANT) & np.isfinite(level_progress)
                if valid is not None:
                    good &= valid[rows]
                has_fc[rows] &= good

        _map_blocks(level_block, _row_blocks(k))

    return progress, raw if want_raw else None, value_sum, has_fc, prog_sum


_THIN_ROWS: Final = 4
"""A level of at most this many objectives ..."""


_THIN_KIDS: Final = 16
"""... and children is rolled up on Python floats by :func:`_thin_level`."""


class _ThinPass(NamedTuple):
    """What :func:`_thin_level` reads and writes of one scenario of :func:`_rollup`."""

    frame: OrgFrame
    st: Structure
    sc: _Scenario
    own_total: F64
    own_weighted: F64
    plain_sum: B
    prog_sum: F64
    raw_sum: F64
    progress: F64
    raw: F64
    want_raw: bool
    pinned: B
    has_fc: B


def _thin_level(tp: _ThinPass, level_rows: Any, kids: Any, up: Any) -> None:
    """One thin level of :func:`_rollup` (numpy kernel) on Python floats.

    The operations of the level's numpy code, value by value and in the same order (IEEE
    doubles either way): each parent's children summed from 0.0 in row order, then the
    objective's own part plus the children, the mean, the rescue of overflowing sums, the
    ``not_finite`` errors and the forecast flags.
    """
    (frame, st, sc, own_total, own_weighted, plain_sum, prog_sum, raw_sum, progress, raw,
     want_raw, pinned, has_fc) = tp
    kr_progress, delta, errors, valid = sc.kr_progress, sc.delta, sc.errors, sc.valid
    kid_has_fc, kid_now = sc.kid_has_fc, sc.kid_now

    def ok(c: int) -> bool:
        if errors is not None:
            return bool(errors[0][c] == 0)
        assert valid is not None
        return bool(valid[c])

    forecast = kid_has_fc is not None and kid_now is not None
    k = len(level_rows)
    ctot = [0.0] * k
    cw = [0.0] * k
    wk: list[float] = []
    kp: list[float] = []
    kid_list = kids.tolist()
    up_list = up.tolist()
    rows = level_rows.tolist()
    parent = {c: rows[u] for c, u in zip(kid_list, up_list, strict=True)}
    if forecast and kid_list:
        assert kid_now is not None
        lift = [c for c in kid_list
                if ok(c) and not math.isnan(kid_now[c]) and frame.obj_weight[c] > 0
                and has_fc[c] and st.uses_children[parent[c]] and not pinned[parent[c]]]
        for c in lift:  # (read at the kids, written at their parents: another level)
            has_fc[parent[c]] = True
    for c, u in zip(kid_list, up_list, strict=True):
        p = float(progress[c])
        if forecast and not has_fc[c]:
            assert kid_now is not None
            p = float(kid_now[c])
        w = float(frame.obj_weight[c])
        counted = ok(c) and not math.isnan(p) and w > 0
        bw = w if counted else 0.0
        pk = p if counted else 0.0
        wk.append(bw)
        kp.append(pk)
        ctot[u] += bw
        cw[u] += bw * pk
    level_kids = (up, np.asarray(wk), np.asarray(kp)) if kid_list else None
    for at, o in enumerate(rows):
        if pinned[o]:
            continue
        uses = bool(st.uses_children[o])
        plain = bool(plain_sum[o])
        mixed_total = float(own_total[o]) + (ctot[at] if uses else 0.0)
        numerator = float(own_weighted[o]) + (cw[at] if uses else 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mixed = float(np.float64(numerator) / np.float64(mixed_total))
        valid_o = bool(errors[0][o] == 0) if errors is not None else (
            bool(valid[o]) if valid is not None else True)
        if not plain and (math.isinf(mixed_total) or not math.isfinite(numerator)) and valid_o:
            mixed = _rescaled_mean(frame, st, o, kr_progress, delta, prog_sum,
                                   level_kids if uses else None, at)
        null = not plain and mixed_total == 0
        mean = math.nan if null else mixed
        level_progress = float(prog_sum[o]) if plain else mean
        progress[o] = level_progress
        if want_raw:
            level_raw = float(raw_sum[o]) if plain else mean
            raw[o] = level_raw
            beyond = (not null and not math.isfinite(level_raw)) or (
                st.mode[o] == 2 and st.n_krs[o] > 0 and math.isnan(raw_sum[o]))
            if errors is not None and errors[0][o] == 0 and beyond:
                errors[0][o] = ERR_NOT_FINITE
        if kid_has_fc is not None:
            good = frame.obj_due[o] != NONE_INSTANT and math.isfinite(level_progress)
            if valid is not None:
                good = good and bool(valid[o])
            has_fc[o] = bool(has_fc[o]) and good


def _rescaled_mean(frame: OrgFrame, st: Structure, o: int, kr_progress: F64,
                   delta: tuple[Any, F64, F64] | None, prog_sum: F64,
                   level_kids: tuple[Any, F64, F64] | None, position: int) -> float:
    """Objective ``o``'s mean by :func:`okrcore.formulas.rescaled_mean` (numpy kernel).

    For the rare objective whose plain sums overflow: its own items (key results in row order,
    or its summed part), then its counted children in row order (``level_kids``: per child of
    the level its parent's position, counted weight and progress; ``position`` is ``o``'s).
    """
    own: list[tuple[float, float]] = []
    lo, hi = np.searchsorted(frame.kr_objective, (o, o + 1)).tolist()
    if st.mode[o] == 2 and hi > lo:
        own.append((1.0, float(prog_sum[o])))
    else:
        p = kr_progress[lo:hi].copy()
        if delta is not None:
            d_rows, _, d_prog = delta
            a, b = np.searchsorted(d_rows, (lo, hi))
            p[d_rows[a:b] - lo] = d_prog[a:b]
        own = [(w, v) for w, v in zip(frame.kr_weight[lo:hi].tolist(), p.tolist(), strict=True)
               if w > 0]
    kids: list[tuple[float, float]] = []
    if level_kids is not None:
        up, wk, kp = level_kids
        at = np.flatnonzero(up == position)
        kids = [(w, v) for w, v in zip(wk[at].tolist(), kp[at].tolist(), strict=True) if w > 0]
    return F.rescaled_mean([own, kids])[0]


def _rollup_start(frame: OrgFrame, st: Structure, sc: _Scenario, progress: F64 | None = None,
                  raw: F64 | None = None) -> tuple[F64, F64, B, B]:
    """The rollup's starting columns: progress and raw (NaN), forecast flags, pinned rows.

    ``progress`` and ``raw`` are filled when given (else new).
    """
    m, obj = frame.n_obj, frame.kr_objective
    errors, kid_has_fc, pin, fc_start = sc.errors, sc.kid_has_fc, sc.pin, sc.fc_start
    for column in (progress, raw):
        if column is not None:
            _fill(column, np.nan)
    progress = np.full(m, np.nan) if progress is None else progress
    raw = np.full(m, np.nan) if raw is None else raw
    has_fc = np.zeros(m, dtype=bool)
    if fc_start is not None:
        has_fc = fc_start
    elif kid_has_fc is not None:
        has_fc = _sorted_group_count(obj, m, _counted_forecasts(st, kid_has_fc)) > 0
    pinned = np.zeros(m, dtype=bool)
    if pin is not None:
        # objectives whose results are known (incremental recompute): fixed, never computed
        pinned, pin_progress, pin_fc, pin_error = pin
        progress[pinned] = pin_progress[pinned]
        if pin_fc is not None:
            has_fc[pinned] = pin_fc[pinned]
        if errors is not None and pin_error is not None:
            errors[0][pinned] = pin_error[pinned]
    return progress, raw, has_fc, pinned


def _counted_forecasts(st: Structure, kr_has_fc: B) -> B:
    """Key results that have a forecast and count in their objective's rollup."""
    return np.asarray(kr_has_fc & st.contributes)

