"""The numba kernels over objectives (plain Python until :func:`._numba.load` compiles them).

The rollup structure (:func:`_structure_impl`), the children CSR (:func:`_children_impl`), the
rollup of one scenario (:func:`_rollup_fused_impl`: each objective sums its key results and
then its children, level by level, parallel within a level), the per-objective aggregates over
key results (:func:`_obj_aggregates_impl`), the history lift (:func:`_history_impl`), the
objective tail (:func:`_obj_tail_impl`: trend, expected progress, colours, grade) and people
(:func:`_people_impl`).  Element-wise rules are those of :mod:`okrcore.batch.rules`, through
the global ``R`` (see :mod:`okrcore.batch._numba_kr`); the kernels with many columns take
records of arrays (named tuples).  The helpers that take arrays (:func:`_kr_sums_one`,
:func:`_rescaled_one`, :func:`_rollup_one`) are inlined into their kernel.  This module imports
no numba.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from okrcore.batch import rules
from okrcore.batch._numba_kr import (
    OBJ_BLOCK,
    Params,
    _block_rows,
    _n_blocks,
    _sums_of,
)
from okrcore.codes import (
    COLOUR_GREEN,
    COLOUR_NONE,
    COLOUR_RED,
    COLOUR_YELLOW,
    ERR_DEGENERATE_GOAL,
    ERR_DEPENDS_ON_INVALID,
    ERR_MIXED_DIRECTIONS,
    ERR_NO_CONTRIBUTING_METRIC,
    ERR_NO_SUM_UNIT,
    ERR_NOT_FINITE,
    KIND_METRIC,
    NONE_INSTANT,
    RULE_CHILDREN,
    RULE_EMPTY,
    RULE_EXPLICIT,
    RULE_MIXED,
    RULE_SAME_UNIT,
    RULE_SETTINGS,
    TREND_NONE,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]

_INT64_MIN: Final = int(np.iinfo(np.int64).min)
_NOW = 0
_PREVIOUS = 1
_FORECAST = 2

# numba.prange and the rules' numba instance once load() has run (see _numba_kr)
_prange: Any = range
R: ModuleType = rules


class StructIn(NamedTuple):
    """The inputs of the rollup structure (key result and objective columns)."""

    offsets: Any
    kind: Any
    range_mode: Any
    start: Any
    target: Any
    weight: Any
    unit: Any
    kr_ok: Any
    obj_mode: Any
    ps_unit: Any
    ps_auto: Any
    ps_start: Any
    ps_target: Any
    include_children: Any


class StructOut(NamedTuple):
    """The outputs of the rollup structure."""

    n_krs: Any
    mode: Any
    rule: Any
    uses_children: Any
    sum_unit: Any
    sum_error: Any
    sum_start: Any
    sum_target: Any
    target_auto: Any
    contributes: Any
    summed: Any


class Tree(NamedTuple):
    """The alignment forest of a rollup."""

    order: Any
    level_offsets: Any
    child_offsets: Any
    children: Any
    others: Any


class KrPart(NamedTuple):
    """The key result columns of a rollup (``over``: the scenario's replaced rows)."""

    kr_offsets: Any
    kr_weight: Any
    kr_progress: Any
    kr_value: Any
    over: Any
    over_progress: Any
    over_value: Any
    sum_mask: Any
    sum_start: Any
    sum_target: Any


class ObjState(NamedTuple):
    """The objective columns of a rollup (read and written)."""

    is_sum: Any
    uses: Any
    obj_weight: Any
    obj_due: Any
    pinned: Any
    obj_error: Any
    obj_ref: Any
    valid: Any
    kid_now: Any
    has_fc: Any
    progress: Any
    raw: Any
    value_sum: Any
    prog_sum: Any


class ObjTail(NamedTuple):
    """The inputs of the objective tail."""

    offsets: Any
    obj_error: Any
    progress: Any
    previous: Any
    fc_progress: Any
    fc_ok: Any
    history: Any
    has_krs: Any
    rule: Any
    start: Any
    due: Any
    manual_status: Any
    ambition: Any
    worst: Any
    worst_null: Any
    fc_worst: Any
    contributes: Any
    kr_weight: Any
    kr_error: Any


class TailOut(NamedTuple):
    """The outputs of the objective tail."""

    trend: Any
    expected: Any
    colour: Any
    computed: Any
    fc_colour: Any
    score: Any
    band: Any
    success: Any
    rule: Any
    kr_contributes: Any


def _direction(start: float, target: float) -> int:
    """Twin of ``np.sign(target - start).astype(np.int64)``.

    NaN gives the int64 minimum, as numpy's cast does on this platform (it then counts as a
    downward direction, as in numpy).
    """
    d = target - start
    return 1 if d > 0 else (-1 if d < 0 else (0 if d == 0 else _INT64_MIN))



def _kr_sums_one(o: int | np.uint64, krs: KrPart, cap: float
                 ) -> tuple[bool, float, float, float, float, float]:
    """The key result part of objective ``o``'s rollup (twin of ``engine._kr_part``).

    Whether it has key results, Σ weight, Σ weight·progress, the summed value, and the summed
    part's raw and clamped progress.  The rows where ``over`` is set take their progress and
    value from ``over_progress`` and ``over_value`` (the forecast scenario).
    """
    offsets = krs.kr_offsets
    total, weighted, summed = _sums_of(offsets, o, krs.kr_weight, krs.kr_progress,
                                       krs.kr_value, krs.sum_mask, krs.over, krs.over_progress,
                                       krs.over_value)
    start = krs.sum_start[o]
    target = krs.sum_target[o]
    raw = R.ratio_progress(summed, start, target)
    # a total beyond floating point: no finite progress (not_finite)
    finite = math.isfinite(summed) and math.isfinite(start) and math.isfinite(target)
    raw = raw if finite else np.nan
    has_krs = offsets[o + np.uint64(1)] > offsets[o]
    return has_krs, total, weighted, summed, raw, R.clamp(raw, cap)


def _structure_impl(c: StructIn, out: StructOut) -> None:
    # (records are unpacked outside the parallel loops: numba drops writes through them)
    (out_n_krs, out_mode, out_rule, out_uses_children, out_sum_unit, out_sum_error, out_sum_start,
     out_sum_target, out_target_auto, out_contributes, out_summed) = out
    m = out_n_krs.shape[0]
    for b in _prange(_n_blocks(m, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, m)
        for o in range(lo, hi):
            first = np.uint64(c.offsets[o])
            end = np.uint64(c.offsets[o + np.uint64(1)])
            count = np.int64(end - first)
            has_krs = count > 0
            unit_first = np.int64(c.unit[first]) if has_krs else np.int64(-1)
            dir_first = _direction(c.start[first], c.target[first]) if has_krs else 0
            all_plain = True
            same_unit = True
            same_dir = True
            wm_first = np.int64(-2)
            wm_differ = False
            for r in range(first, end):
                metric = c.kind[r] == KIND_METRIC
                all_plain &= metric & (c.range_mode[r] == 0)
                u = np.int64(c.unit[r])
                same_unit &= u == unit_first
                same_dir &= _direction(c.start[r], c.target[r]) == dir_first
                if metric and c.weight[r] > 0:
                    if wm_first == -2:
                        wm_first = u
                    elif u != wm_first:
                        wm_differ = True
            has_settings = c.ps_unit[o] >= 0
            explicit = c.obj_mode[o] != 0
            auto_same = has_krs & all_plain & same_unit & (unit_first >= 0) & same_dir
            mode = c.obj_mode[o] if explicit else (2 if has_settings | auto_same else 1)
            rule = RULE_EXPLICIT if explicit else (
                RULE_SETTINGS if has_settings else (
                    RULE_SAME_UNIT if auto_same else RULE_MIXED))
            if not has_krs:
                rule = RULE_CHILDREN
                mode = 1
            sum_unit = np.int64(c.ps_unit[o]) if has_settings else wm_first
            is_sum = (mode == 2) & has_krs
            error = 0
            if is_sum and not has_settings and (wm_first == -2 or wm_differ):
                error = ERR_NO_SUM_UNIT
            n_contrib = 0
            up = 0
            down = 0
            starts = 0.0
            targets = 0.0
            for r in range(first, end):
                weighted_metric = (c.kind[r] == KIND_METRIC) & (c.weight[r] > 0)
                contrib = weighted_metric & (np.int64(c.unit[r]) == sum_unit) & is_sum
                if contrib:
                    n_contrib += 1
                    direction = _direction(c.start[r], c.target[r])
                    up += 1 if direction > 0 else 0
                    down += 1 if direction < 0 else 0
                    starts += c.start[r]
                    targets += c.target[r]
                out_contributes[r] = (contrib if is_sum else c.weight[r] > 0) & c.kr_ok[r]
                out_summed[r] = contrib & c.kr_ok[r]
            if is_sum and error == 0 and n_contrib == 0:
                error = ERR_NO_CONTRIBUTING_METRIC
            if is_sum and error == 0 and up > 0 and down > 0:
                error = ERR_MIXED_DIRECTIONS
            sum_start = c.ps_start[o] if has_settings and not math.isnan(c.ps_start[o]) else starts
            target_auto = (not has_settings) | c.ps_auto[o]
            sum_target = targets if target_auto else c.ps_target[o]
            if is_sum and error == 0 and sum_target == sum_start:
                error = ERR_DEGENERATE_GOAL
            out_n_krs[o] = count
            out_mode[o] = mode
            out_rule[o] = rule
            out_uses_children[o] = (not has_krs) | c.include_children[o]
            out_sum_unit[o] = sum_unit
            out_sum_error[o] = error
            out_sum_start[o] = sum_start
            out_sum_target[o] = sum_target
            out_target_auto[o] = target_auto


def _rollup_fused_impl(tree: Tree, krs: KrPart, objs: ObjState, cap: float, n_kr: int,
                       scenario: int) -> None:
    """One rollup scenario: each objective's key result part and its tree step in one pass.

    Each objective of the tree sums its key results (:func:`_kr_sums_one`) just before it
    rolls up (:func:`_rollup_one`), level by level, children before parents, in parallel
    within a level; ``others`` (objectives on an alignment cycle, outside the tree) only get
    their sums.  The per-objective sums stay in registers: only the summed part's value and
    progress are written (``value_sum``, ``prog_sum``), in the evaluation "now" alone, where
    they are results.  The key results where ``over`` is set take their progress and value from
    ``over_progress`` and ``over_value`` (the forecast scenario; an empty ``over`` for none).
    """
    (progress, raw, obj_error, obj_ref, has_fc, value_sum, prog_sum) = (objs.progress, objs.raw,
     objs.obj_error, objs.obj_ref, objs.has_fc, objs.value_sum, objs.prog_sum)
    for level in range(tree.level_offsets.shape[0] - 1):
        first = np.uint64(tree.level_offsets[level])
        count = np.uint64(tree.level_offsets[level + 1]) - first
        # a level of one block runs in this thread: a parallel launch per level made a chain
        # of objectives (one per level) cost a thread hand-off per objective
        blocks = _n_blocks(count, OBJ_BLOCK)
        for b in _prange(blocks) if blocks > 1 else range(blocks):
            lo, hi = _block_rows(b, OBJ_BLOCK, count)
            for k in range(first + lo, first + hi):
                o = np.uint64(tree.order[k])
                has_krs, total, weighted, summed, raw_sum, progress_sum = _kr_sums_one(o, krs, cap)
                if scenario == _NOW:
                    value_sum[o] = summed
                    prog_sum[o] = progress_sum
                _rollup_one(o, tree, krs, objs, scenario, n_kr, has_krs, total, weighted,
                            raw_sum, progress_sum, progress, raw, obj_error, obj_ref, has_fc)
    count = np.uint64(tree.others.shape[0])
    for b in _prange(_n_blocks(count, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, count)
        for k in range(lo, hi):
            o = np.uint64(tree.others[k])
            _, _, _, summed, _, progress_sum = _kr_sums_one(o, krs, cap)
            value_sum[o] = summed
            prog_sum[o] = progress_sum


def _rescaled_one(o: int | np.uint64, tree: Tree, krs: KrPart, objs: ObjState,
                  scenario: int, has_krs: bool, summing: bool, prog_sum: float,
                  uses_children: bool) -> float:
    """Twin of ``okrcore.formulas.rescaled_mean`` over objective ``o``'s counted items.

    Own items (the summed part, or the key results in row order), then the counted children
    in row order; two passes: the binary exponents of the largest weight and progress, then
    the sums of the rescaled items.
    """
    replaced = krs.over.shape[0] > 0
    r_lo = np.uint64(krs.kr_offsets[o])
    r_hi = np.uint64(krs.kr_offsets[o + np.uint64(1)])
    c_lo = np.uint64(tree.child_offsets[o])
    c_hi = np.uint64(tree.child_offsets[o + np.uint64(1)]) if uses_children else c_lo
    e = 0
    q = 0
    seen = False  # any item yet (the first sets e)
    seen_q = False  # any positive objs.progress yet (the first sets q)
    infinite = False  # an infinite objs.progress: the mean is infinite
    for step in range(2):
        own_t = 0.0
        own_w = 0.0
        if has_krs and summing:
            if step == 0:
                e = math.frexp(1.0)[1]
                seen = True
                infinite = infinite or math.isinf(prog_sum)
                if prog_sum > 0:
                    q = math.frexp(prog_sum)[1]
                    seen_q = True
            else:
                ws = math.ldexp(1.0, -e)
                own_t += ws
                own_w += ws * math.ldexp(prog_sum, -q)
        elif has_krs:
            for r in range(r_lo, r_hi):
                w = krs.kr_weight[r]
                p = krs.over_progress[r] if replaced and krs.over[r] else krs.kr_progress[r]
                if not w > 0:
                    continue
                if step == 0:
                    fe = math.frexp(w)[1]
                    e = fe if not seen or fe > e else e
                    seen = True
                    infinite = infinite or math.isinf(p)
                    if p > 0:
                        fq = math.frexp(p)[1]
                        q = fq if not seen_q or fq > q else q
                        seen_q = True
                else:
                    ws = math.ldexp(w, -e)
                    own_t += ws
                    own_w += ws * math.ldexp(p, -q)
        kid_t = 0.0
        kid_w = 0.0
        for j in range(c_lo, c_hi):
            c = np.uint64(tree.children[j])
            ok = (objs.obj_error[c] == 0) if scenario == _NOW else objs.valid[c]
            p = objs.progress[c]
            if scenario == _FORECAST and not objs.has_fc[c]:
                p = objs.kid_now[c]
            w = objs.obj_weight[c]
            if not (ok and not math.isnan(p) and w > 0):
                continue
            if step == 0:
                fe = math.frexp(w)[1]
                e = fe if not seen or fe > e else e
                seen = True
                infinite = infinite or math.isinf(p)
                if p > 0:
                    fq = math.frexp(p)[1]
                    q = fq if not seen_q or fq > q else q
                    seen_q = True
            else:
                ws = math.ldexp(w, -e)
                kid_t += ws
                kid_w += ws * math.ldexp(p, -q)
        if step == 1:
            total = (0.0 + own_t) + kid_t
            weighted = (0.0 + own_w) + kid_w
            return math.inf if infinite else math.ldexp(weighted / total, q)
    return math.nan


def _rollup_one(o: int | np.uint64, tree: Tree, krs: KrPart, objs: ObjState, scenario: int,
                n_kr: int, has_krs: bool, total: float, weighted: float, raw_sum: float,
                prog_sum: float, progress: F64, raw: F64, obj_error: U8, obj_ref: I64,
                has_fc: B) -> None:
    """The rollup of objective ``o`` from its key result part (see ``engine._rollup``)."""
    nan = np.nan
    if objs.pinned[o]:
        return
    lo = np.uint64(tree.child_offsets[o])
    hi = np.uint64(tree.child_offsets[o + np.uint64(1)])
    uses_children = objs.uses[o]
    first_bad = np.int64(-1)  # the first child with an error (evaluation "now")
    ctot = 0.0
    cw = 0.0
    for j in range(lo, hi):
        c = np.uint64(tree.children[j])
        ok = (obj_error[c] == 0) if scenario == _NOW else objs.valid[c]
        if scenario == _NOW and not ok and first_bad < 0:
            first_bad = np.int64(c)
        p = progress[c]
        if scenario == _FORECAST:
            if not has_fc[c]:
                p = objs.kid_now[c]
            if (ok and not math.isnan(objs.kid_now[c]) and objs.obj_weight[c] > 0 and has_fc[c]
                    and uses_children):
                has_fc[o] = True
        if ok and not math.isnan(p) and objs.obj_weight[c] > 0:
            w = objs.obj_weight[c]
            ctot += w
            cw += w * p
    if first_bad >= 0 and uses_children and (
            obj_error[o] == 0 or obj_error[o] >= ERR_NO_CONTRIBUTING_METRIC):
        obj_error[o] = ERR_DEPENDS_ON_INVALID
        obj_ref[o] = first_bad + n_kr
    summing = objs.is_sum[o]
    own_total = (1.0 if summing else total) if has_krs else 0.0
    own_weighted = (1.0 * prog_sum if summing else weighted) if has_krs else 0.0
    plain_sum = summing & has_krs & ((not uses_children) | (hi == lo))
    mixed_total = own_total + (ctot if uses_children else 0.0)
    numerator = own_weighted + (cw if uses_children else 0.0)
    mixed = numerator / mixed_total
    # (a NaN numerator: an infinite progress of weight 0, which the scalar path skips)
    valid_o = (obj_error[o] == 0) if scenario == _NOW else objs.valid[o]
    if ((not plain_sum) and (math.isinf(mixed_total) or not math.isfinite(numerator))
            and valid_o):
        # weights or progress near 1e308 (rare): okrcore.formulas.rescaled_mean
        mixed = _rescaled_one(o, tree, krs, objs, scenario, has_krs, summing, prog_sum,
                              uses_children)
    null = (not plain_sum) & (mixed_total == 0)
    mean = nan if null else mixed
    result = prog_sum if plain_sum else mean
    result_raw = raw_sum if plain_sum else mean
    progress[o] = result
    raw[o] = result_raw
    beyond = ((not null) and not math.isfinite(result_raw)) or (
        summing and has_krs and math.isnan(raw_sum))  # (a sum's own raw, even in a mean)
    if scenario == _NOW and obj_error[o] == 0 and beyond:
        obj_error[o] = ERR_NOT_FINITE
    if scenario == _FORECAST:
        good = (objs.obj_due[o] != NONE_INSTANT) & math.isfinite(result) & objs.valid[o]
        has_fc[o] = has_fc[o] & good


def _children_impl(parent: I64, height: I64, out_offsets: I64, out_children: I64) -> None:
    """Children CSR of the alignment forest (a stable counting sort).

    The linked rows with a height (not on a cycle), grouped by parent, in row order.
    """
    m = parent.shape[0]
    for o in range(m + 1):
        out_offsets[o] = 0
    for c in range(m):
        p = parent[c]
        if p >= 0 and height[c] >= 0:
            out_offsets[p + 1] += 1
    for o in range(m):
        out_offsets[o + 1] += out_offsets[o]
    fill = out_offsets[:m].copy()
    for c in range(m):
        p = parent[c]
        if p >= 0 and height[c] >= 0:
            out_children[fill[p]] = c
            fill[p] += 1


def _obj_aggregates_impl(offsets: I64, kr_error: U8, contributes: B, has_entry: B,
                         has_fc: B, has_log: B, stale: I8, range_mode: U8, status: I8,
                         fc_status: I8, out_first_bad: I64, out_has_fc: B, out_history: B,
                         out_stale: I8, out_worst: I8, out_worst_null: I8,
                         out_fc_worst: I8) -> None:
    """Per objective, over its key results: what ``_evaluate`` gathers with scatters.

    The first bad row, the forecast and history flags, staleness and the worst range statuses.
    """
    m = out_first_bad.shape[0]
    for b in _prange(_n_blocks(m, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, m)
        for o in range(lo, hi):
            first_bad = np.int64(-1)
            any_fc = False
            history = False
            n_logged = 0
            n_stale = 0
            worst = COLOUR_NONE
            worst_null = COLOUR_NONE
            fc_worst = COLOUR_NONE
            for r in range(np.uint64(offsets[o]), np.uint64(offsets[o + np.uint64(1)])):
                ok = kr_error[r] == 0
                if not ok and first_bad < 0:
                    first_bad = np.int64(r)
                any_fc |= has_fc[r] & contributes[r]
                history |= contributes[r] & ok & has_entry[r]
                logged = has_log[r] & ok
                n_logged += 1 if logged else 0
                n_stale += 1 if logged and stale[r] == 1 else 0
                if range_mode[r] > 0 and ok:
                    hit = status[r]
                    worst = max(worst, hit)
                    worst_null = max(worst_null, hit if hit >= COLOUR_YELLOW else COLOUR_NONE)
                    fc_worst = max(fc_worst, fc_status[r])
            out_first_bad[o] = first_bad
            out_has_fc[o] = any_fc
            out_history[o] = history
            out_stale[o] = (1 if n_stale == n_logged else 0) if n_logged > 0 else -1
            out_worst[o] = worst
            out_worst_null[o] = worst_null
            out_fc_worst[o] = fc_worst


def _obj_tail_impl(c: ObjTail, par: Params, out: TailOut) -> None:
    """Per objective, after the rollups: what ``_evaluate`` computes with numpy on objectives.

    Trend, expected progress, pace and effective colours, forecast colour, grade and rule;
    ``previous`` and ``fc_progress`` are masked in place (NaN where the objective has an error
    or no forecast); and each key result's ``contributes`` flag.
    """
    c_previous, c_fc_progress = (c.previous, c.fc_progress)
    # (records are unpacked outside the parallel loops: numba drops writes through them)
    (out_trend, out_expected, out_colour, out_computed, out_fc_colour, out_score, out_band,
     out_success, out_rule, out_kr_contributes) = out
    m = c.obj_error.shape[0]
    nan = np.nan
    tol = par.tol
    for b in _prange(_n_blocks(m, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, m)
        for o in range(lo, hi):
            ok = c.obj_error[o] == 0
            p = c.progress[o]
            has_progress = not math.isnan(p)
            prev = c_previous[o]
            # trend, where there is a history and a previous value
            trend = R.trend(prev, p, tol)
            counted = ok & c.history[o] & has_progress & (not math.isnan(prev))
            out_trend[o] = trend if counted else TREND_NONE
            c_previous[o] = prev if ok else nan
            expected = R.expected_progress(par.as_of, c.start[o], c.due[o])
            out_expected[o] = expected
            # pace colour, computed colour (worst of pace and ranges), manual status
            pace = R.pace_colour(p if has_progress else 0.0, expected, tol, par.pace_rule,
                                 par.pace_yellow, par.pace_red)
            hit = np.int8(c.worst[o])
            # no timeline: no pace, the worst breakpoint colour alone (SEMANTICS §11.1)
            paced = hit if math.isnan(expected) else R.worst_colour(pace, hit)
            computed = paced if has_progress else np.int8(c.worst_null[o])
            out_computed[o] = computed
            status = c.manual_status[o]
            manual = COLOUR_RED if status >= 3 else (
                COLOUR_YELLOW if status >= 1 else COLOUR_GREEN)
            out_colour[o] = manual if status >= 0 else computed
            # forecast colour
            fok = c.fc_ok[o] & ok
            f = c_fc_progress[o]
            fpace = R.pace_colour(f if fok else 0.0, 1.0, tol, par.pace_rule, par.pace_yellow,
                                  par.pace_red)
            out_fc_colour[o] = R.worst_colour(fpace, np.int8(c.fc_worst[o])) if fok else (
                COLOUR_NONE)
            c_fc_progress[o] = f if fok else nan
            # grade, of the progress (0 where there is none)
            score, band, success = R.grade(p if has_progress else 0.0, c.ambition[o] == 1, tol,
                                           par.grade_yellow, par.grade_green,
                                           par.aspirational_success)
            out_score[o] = score
            out_band[o] = band
            out_success[o] = success
            out_rule[o] = c.rule[o] if c.has_krs[o] else (
                RULE_EMPTY if not has_progress else RULE_CHILDREN)
            for r in range(np.uint64(c.offsets[o]), np.uint64(c.offsets[o + np.uint64(1)])):
                flag = c.contributes[r] if ok else c.kr_weight[r] > 0
                out_kr_contributes[r] = flag & (c.kr_error[r] == 0)


def _history_impl(order: I64, child_offsets: I64, children: I64, child_counted: B, uses: B,
                  pinned: B, history: B) -> None:
    """Objective history flags lifted from counted children, children before parents."""
    for k in range(order.shape[0]):
        o = order[k]
        if pinned[o] or not uses[o]:
            continue
        for j in range(child_offsets[o], child_offsets[o + 1]):
            c = children[j]
            if child_counted[c] and history[c]:
                history[o] = True


def _people_impl(kr_offsets: I64, owner_offsets: I64, owner_ids: Any, obj_owner: Any,
                 obj_error: U8, obj_progress: F64, kr_error: U8, kr_progress: F64, n_kr: int,
                 parts: int, out_mean: F64, out_items: I64, out_first_bad: I64,
                 out_seen: B) -> None:
    """Per person: the mean progress of the counted items, summed in document order.

    Items: an objective, then its key results' owners other than the objective's owner.

    The people are split into ``parts`` ranges (one per thread); each thread walks every item
    in document order and keeps those of its range, so each person's sum keeps its order.  A
    person's running figures (items, Σ progress, first bad item, seen) sit side by side in one
    row of ``acc``, so that one cache miss fetches all of them: the random accesses to people,
    not the walk, are what this pass costs.
    """
    n_people = out_mean.shape[0]
    n_obj = obj_owner.shape[0]
    acc = np.zeros((n_people, 4))  # items (= Σ 1.0), Σ 1.0 * progress, first bad + 1, seen
    count = np.uint64(max(parts, 1))
    for t in _prange(count):
        lo = np.int64(np.uint64(n_people) * np.uint64(t) // count)
        hi = np.int64(np.uint64(n_people) * (np.uint64(t) + np.uint64(1)) // count)
        for o in range(np.uint64(n_obj)):
            owner = np.int64(obj_owner[o])
            if owner >= lo and owner < hi:
                acc[owner, 3] = 1.0
                p = obj_progress[o]
                if obj_error[o] != 0:
                    if acc[owner, 2] == 0.0:
                        acc[owner, 2] = np.float64(np.int64(o) + n_kr + 1)
                elif not math.isnan(p):
                    acc[owner, 0] += 1.0
                    acc[owner, 1] += 1.0 * p
            for r in range(np.uint64(kr_offsets[o]), np.uint64(kr_offsets[o + np.uint64(1)])):
                for j in range(np.uint64(owner_offsets[r]),
                               np.uint64(owner_offsets[r + np.uint64(1)])):
                    person = np.int64(owner_ids[j])
                    if person == owner or person < lo or person >= hi:
                        continue
                    acc[person, 3] = 1.0
                    p = kr_progress[r]
                    if kr_error[r] != 0:
                        if acc[person, 2] == 0.0:
                            acc[person, 2] = np.float64(np.int64(r) + 1)
                    elif not math.isnan(p):
                        acc[person, 0] += 1.0
                        acc[person, 1] += 1.0 * p
    for k in range(n_people):
        total = acc[k, 0]
        out_items[k] = np.int64(total)
        out_first_bad[k] = np.int64(acc[k, 2]) - 1
        out_seen[k] = acc[k, 3] != 0.0
        out_mean[k] = acc[k, 1] / total if total > 0 else np.nan
