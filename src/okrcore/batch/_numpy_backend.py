"""The numpy backend of the batch pipeline: every pass on blocks of rows, with numpy.

The passes themselves live in :mod:`okrcore.batch._numpy_krs` (key results) and
:mod:`okrcore.batch._numpy_rollup` (objectives); this module holds the :class:`NumpyBackend`
that the pipeline calls, and the passes both backends share (the objectives' front).
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from typing import Any, Final

import attrs
import numpy as np

from okrcore.batch._blocks import (
    F64,
    I64,
    U8,
    B,
    _fill,
    _first_of_runs,
    _map_blocks,
    _row_blocks,
    _sorted_group_count,
)
from okrcore.batch._numpy_krs import (
    _numpy_key_results,
    _validate_key_results,
    _validate_objectives,
    _worst_ranges,
)
from okrcore.batch._numpy_rollup import (
    _Forest,
    _forest,
    _graph,
    _Into,
    _rollup,
    _Scenario,
    _structure,
)
from okrcore.batch._people import person_items, person_rollup
from okrcore.batch._result import _buffer, _n_people
from okrcore.batch._vector import _expected, _grade, _pace_colour, _trend
from okrcore.batch.backend import (
    Aggregates,
    Front,
    KeyResults,
    KrColumns,
    KrPost,
    Objectives,
    People,
    Pin,
    Pinned,
    Rollup,
    Run,
    Structure,
    Tail,
)
from okrcore.codes import (
    COLOUR_GREEN,
    COLOUR_NONE,
    COLOUR_RED,
    COLOUR_YELLOW,
    ERR_ALIGNMENT_CYCLE,
    ERR_DEPENDS_ON_INVALID,
    ERR_DUPLICATE_ID,
    ERR_LOAD,
    ERR_UNKNOWN_PARENT,
    RULE_CHILDREN,
    RULE_EMPTY,
    TREND_NONE,
)

_TAIL_COLUMNS: Final = (
    "obj_trend", "obj_stale", "obj_expected", "obj_computed_colour", "obj_colour",
    "obj_forecast_colour", "obj_grade_score", "obj_grade_band", "obj_grade_success", "obj_rule",
    "obj_previous", "obj_forecast_progress")
"""The objective columns of the numpy kernel's tail (written block by block)."""


def objective_front(run: Run) -> tuple[U8, I64, B, I64, B, I64]:
    """Objective errors before evaluation and the alignment graph (both backends).

    Returns the objectives' errors and error references, which objectives could not be read
    (``broken``: their key results depend on them), the parents, cycle membership and heights.
    """
    frame, out = run.frame, run.out
    m = frame.n_obj
    obj_error = _buffer(out, "obj_error", m)
    _fill(obj_error, 0)
    obj_ref = _buffer(out, "obj_error_ref", m)
    _fill(obj_ref, -1)
    obj_error[frame.obj_load == 1] = ERR_LOAD
    obj_field = (np.zeros(m, dtype=np.uint8) if frame.validated
                 else _validate_objectives(frame))
    obj_error[(obj_error == 0) & (obj_field != 0)] = obj_field[(obj_error == 0) & (obj_field != 0)]
    obj_error[frame.obj_load == 2] = ERR_DUPLICATE_ID
    broken = obj_error != 0  # could not be read: its key results depend on it
    unknown = (frame.obj_parent == -2) & ~broken
    obj_error[unknown] = ERR_UNKNOWN_PARENT
    # (height: each objective's height in the forest, -1 on a cycle)
    parent, in_cycle, height = _graph(frame, out)
    obj_error[in_cycle & (obj_error == 0)] = ERR_ALIGNMENT_CYCLE
    return obj_error, obj_ref, broken, parent, in_cycle, height


def pinned_history(history: B, pinned: Pinned | None) -> None:
    """Pinned objectives keep their history flag (in place; both backends)."""
    if pinned is not None:
        history[pinned.mask] = pinned.history[pinned.mask]


@attrs.define(eq=False)
class _Deltas:
    """The key result rows where the previous and forecast states differ from now.

    Each is rows (ascending), values and clamped progress; a rollup lets its own go.
    """

    previous: tuple[Any, F64, F64] | None
    forecast: tuple[Any, F64] | None  # rows and clamped progress (values: the forecast column)


@attrs.define(eq=False)
class _Objectives:
    """The numpy backend's forest, and the tail's columns (written by the rollups first)."""

    forest: _Forest | None
    tail: dict[str, Any]


class NumpyBackend:
    """The passes with numpy, on blocks of :data:`~okrcore.batch._blocks.BLOCK_ROWS` rows.

    Blocks run on the evaluation's threads; each writes only its own rows.
    """

    name: Final = "numpy"

    def threads(self, threads: int | None) -> AbstractContextManager[None]:
        """No limit of its own: the blocks run on the evaluation's threads."""
        return contextlib.nullcontext()

    def front(self, run: Run) -> Front:
        """Objective and key result errors before evaluation, the graph."""
        frame, out = run.frame, run.out
        n = frame.n_kr
        obj_error, obj_ref, broken, parent, in_cycle, height = objective_front(run)
        kr_ref = _buffer(out, "kr_error_ref", n)
        _fill(kr_ref, -1)
        kr_error = _buffer(out, "kr_error", n)
        _fill(kr_error, 0)
        kr_error[frame.kr_load == 1] = ERR_LOAD
        kr_field = (np.zeros(n, dtype=np.uint8) if frame.validated
                    else _validate_key_results(frame))
        kr_error[(kr_error == 0) & (kr_field != 0)] = kr_field[(kr_error == 0) & (kr_field != 0)]
        kr_error[frame.kr_load == 2] = ERR_DUPLICATE_ID
        kr_error[(kr_error == 0) & broken[frame.kr_objective]] = ERR_DEPENDS_ON_INVALID
        # the objective's start and due of each key result are gathered block by block in
        # the one pass over key results, which also flags invalid_timeline
        return Front(obj_error, obj_ref, parent, in_cycle, height, kr_error, kr_ref)

    def key_results(self, run: Run, front: Front) -> KeyResults:
        """Logs, key result step and post step in one pass of blocks (see ``_numpy_krs``)."""
        logs, kr_columns, post = _numpy_key_results(run.frame, front.kr_error, run.as_of,
                                                    run.policy, run.out)
        columns = KrColumns(*kr_columns)
        del kr_columns
        # the rows where the previous / forecast states differ from now, with their values
        # and clamped progress (the previous check-in values never left their blocks)
        deltas = _Deltas(post[7:10], post[10:])
        kr_post = KrPost(*post[:7])
        del post  # (its scenario columns go as soon as their rollup is done)
        return KeyResults(logs, columns, kr_post, deltas)

    def structure(self, run: Run, kr_ok: B) -> Structure:
        """The rollup structure, in blocks of whole objectives."""
        return _structure(run.frame, kr_ok, run.out)

    def aggregates(self, run: Run, st: Structure, front: Front, krs: KeyResults) -> Aggregates:
        """The first key result with an error of each objective (the rest comes later)."""
        m = run.frame.n_obj
        first_bad = np.full(m, -1, dtype=np.int64)
        bad_rows = np.flatnonzero(front.kr_error != 0)
        if bad_rows.shape[0]:
            objs, idx = _first_of_runs(run.frame.kr_objective[bad_rows])
            first_bad[objs] = bad_rows[idx]
        return Aggregates(first_bad)

    def forest(self, run: Run, front: Front, st: Structure) -> _Objectives:
        """The forest's levels, and the tail's columns (written by the rollups first).

        The objective columns are written straight into the result's buffers.
        """
        m = run.frame.n_obj
        forest = _forest(front.parent, front.height, st)
        return _Objectives(forest, {name: _buffer(run.out, name, m) for name in _TAIL_COLUMNS})

    def rollup_now(self, run: Run, st: Structure, forest: _Objectives, front: Front,
                   krs: KeyResults, pin: Pin | None) -> Rollup:
        """The rollup now, straight into ``obj_progress``, ``obj_raw`` and the sums."""
        out, m = run.out, run.frame.n_obj
        assert forest.forest is not None
        kr = krs.columns
        obj_progress, obj_raw, value_sum, _, sum_progress = _rollup(
            run.frame, st, forest.forest,
            _Scenario(kr.value, kr.progress, run.policy.cap, errors=(front.obj_error,
                                                                     front.obj_ref), pin=pin),
            _Into(_buffer(out, "obj_progress", m), _buffer(out, "obj_raw", m),
                  (_buffer(out, "obj_sum_value", m), _buffer(out, "obj_sum_progress", m))))
        assert obj_raw is not None
        ok = front.obj_error == 0
        obj_progress[~ok] = np.nan
        obj_raw[~ok] = np.nan
        return Rollup(obj_progress, obj_raw, value_sum, sum_progress, ok)

    def rollup_previous(self, run: Run, st: Structure, forest: _Objectives, krs: KeyResults,
                        now: Rollup, pin: Pin | None) -> F64:
        """The previous state: the rows with a check-in replace their values (``delta``)."""
        deltas: _Deltas = krs.scratch
        assert forest.forest is not None
        kr = krs.columns
        prev_obj, _, _, _, _ = _rollup(
            run.frame, st, forest.forest,
            _Scenario(kr.value, kr.progress, run.policy.cap, valid=now.ok, pin=pin,
                      delta=deltas.previous),
            _Into(forest.tail["obj_previous"]))
        deltas.previous = None
        return prev_obj

    def rollup_forecast(self, run: Run, st: Structure, forest: _Objectives, krs: KeyResults,
                        agg: Aggregates, now: Rollup, pin: Pin | None) -> tuple[F64, B]:
        """The forecast state: the rows with a forecast replace their values (``delta``)."""
        deltas: _Deltas = krs.scratch
        assert forest.forest is not None
        kr, post = krs.columns, krs.post
        fc_delta = None
        if deltas.forecast is not None:
            fc_rows, fc_clamped = deltas.forecast
            fc_delta = (fc_rows, post.fc_value[fc_rows], fc_clamped)
            deltas.forecast = None
            del fc_rows, fc_clamped
        fc_obj_progress, _, _, fc_ok, _ = _rollup(
            run.frame, st, forest.forest,
            _Scenario(kr.value, kr.progress, run.policy.cap, valid=now.ok,
                      kid_has_fc=post.has_fc, kid_now=now.progress, pin=pin, delta=fc_delta),
            _Into(forest.tail["obj_forecast_progress"]))
        return fc_obj_progress, fc_ok

    def history(self, run: Run, st: Structure, forest: _Objectives, krs: KeyResults,
                agg: Aggregates, kr_ok: B, child_counted: B, pinned: Pinned | None) -> B:
        """Own counted check-ins, then the children's histories level by level."""
        frame = run.frame
        counted_kr = st.contributes & kr_ok
        obj_hist = _sorted_group_count(frame.kr_objective, frame.n_obj,
                                       counted_kr & krs.logs.has_entry) > 0
        pinned_history(obj_hist, pinned)
        assert forest.forest is not None
        parent = forest.forest.parent
        for _, kids, _ in forest.forest.levels[1:]:
            kids = kids[child_counted[kids] & st.uses_children[parent[kids]] & obj_hist[kids]]
            if pinned is not None:
                kids = kids[~pinned.mask[parent[kids]]]
            obj_hist[parent[kids]] = True
        forest.forest = None  # (the forest was for the rollups and the history alone)
        return obj_hist

    def objective_tail(self, run: Run, st: Structure, forest: _Objectives, front: Front,
                       krs: KeyResults, agg: Aggregates, objs: Objectives) -> Tail:
        """Every objective column, block by block of objectives, into the result columns."""
        return _tail(run, st, forest.tail, front, krs, objs)

    def people(self, run: Run, st: Structure, obj_error: U8, obj_progress: F64, kr_error: U8,
               kr_progress: F64) -> People:
        """The people's items in document order, then their means."""
        frame = run.frame
        who, bad, prog, ref = person_items(frame, obj_error, obj_progress, kr_error, kr_progress)
        return People(*person_rollup(who, bad, prog, ref, _n_people(frame)))


def _tail(run: Run, st: Structure, tail: dict[str, Any], front: Front, krs: KeyResults,
          objs: Objectives) -> Tail:
    """The objective tail of :class:`NumpyBackend` (see :meth:`~NumpyBackend.objective_tail`).

    The aggregates over key results first, then every objective column block by block of
    objectives (each step is per objective), straight into the result columns.
    """
    frame, as_of, policy, out = run.frame, run.as_of, run.policy, run.out
    tol = policy.tolerance
    n, m = frame.n_kr, frame.n_obj
    obj = frame.kr_objective
    status, post = krs.columns.status, krs.post
    kr_ok = objs.kr_ok
    ok, obj_hist, has_progress = objs.ok, objs.history, objs.has_progress
    prev_obj, obj_progress = objs.previous, objs.progress
    fc_ok, fc_obj_progress = objs.fc_ok, objs.fc_progress
    has_krs = st.n_krs > 0
    logged = frame.kr_has_log & kr_ok
    n_logged = _sorted_group_count(obj, m, logged)
    n_stale = _sorted_group_count(obj, m, logged & (post.stale == 1))
    del logged
    worst_hit, worst_hit_null, fc_worst = _worst_ranges(frame, kr_ok, status, post.has_fc,
                                                        post.fc_status)
    manual = np.array([COLOUR_GREEN, COLOUR_YELLOW, COLOUR_YELLOW, COLOUR_RED], dtype=np.int8)

    def tail_block(lo: int, hi: int) -> None:
        rows = slice(lo, hi)
        o_ok, o_hist, o_has = ok[rows], obj_hist[rows], has_progress[rows]
        o_prev, o_progress = prev_obj[rows], obj_progress[rows]
        tail["obj_trend"][rows] = np.where(o_ok & o_hist & o_has & ~np.isnan(o_prev),
                                           _trend(o_prev, o_progress, tol), TREND_NONE)
        logged_here, stale_here = n_logged[rows], n_stale[rows]
        tail["obj_stale"][rows] = np.where(logged_here > 0,
                                           (stale_here == logged_here).astype(np.int8), -1)
        expected = _expected(as_of, frame.obj_start[rows], frame.obj_due[rows])
        tail["obj_expected"][rows] = expected
        no_timeline = np.isnan(expected)
        opace = _pace_colour(np.where(o_has, o_progress, 0.0),
                             np.where(no_timeline, 0.0, expected), policy)
        opace = np.where(o_has, opace, COLOUR_NONE).astype(np.int8)
        # no timeline: no pace, the worst breakpoint colour alone (SEMANTICS §11.1)
        paced = np.where(no_timeline, worst_hit[rows], np.maximum(opace, worst_hit[rows]))
        computed = np.where(o_has, paced, worst_hit_null[rows]).astype(np.int8)
        tail["obj_computed_colour"][rows] = computed
        status_here = frame.obj_status[rows]
        tail["obj_colour"][rows] = np.where(status_here >= 0,
                                            manual[np.clip(status_here, 0, 3)], computed)
        o_fc_ok, o_fc = fc_ok[rows], fc_obj_progress[rows]
        fpace = _pace_colour(np.where(o_fc_ok, o_fc, 0.0), np.ones(hi - lo), policy)
        tail["obj_forecast_colour"][rows] = np.where(o_fc_ok,
                                                     np.maximum(fpace, fc_worst[rows]),
                                                     COLOUR_NONE)
        score, band, success = _grade(np.where(o_has, o_progress, 0.0),
                                      frame.obj_ambition[rows] == 1, policy)
        tail["obj_grade_score"][rows] = score
        tail["obj_grade_band"][rows] = band
        tail["obj_grade_success"][rows] = success
        tail["obj_rule"][rows] = np.where(has_krs[rows], st.rule[rows],
                                          np.where(np.isnan(o_progress), RULE_EMPTY,
                                                   RULE_CHILDREN))
        tail["obj_previous"][rows] = np.where(o_ok, o_prev, np.nan)
        tail["obj_forecast_progress"][rows] = np.where(o_fc_ok, o_fc, np.nan)

    _map_blocks(tail_block, _row_blocks(m))
    kr_contributes = _buffer(out, "kr_contributes", n)

    def contributes_block(lo: int, hi: int) -> None:
        rows = slice(lo, hi)
        np.logical_and(np.where(ok[obj[rows]], st.contributes[rows],
                                frame.kr_weight[rows] > 0),
                       kr_ok[rows], out=kr_contributes[rows])

    _map_blocks(contributes_block, _row_blocks(n))
    return Tail(trend=tail["obj_trend"], stale=tail["obj_stale"],
                expected=tail["obj_expected"], colour=tail["obj_colour"],
                computed_colour=tail["obj_computed_colour"],
                fc_colour=tail["obj_forecast_colour"], score=tail["obj_grade_score"],
                band=tail["obj_grade_band"], success=tail["obj_grade_success"],
                rule=tail["obj_rule"], previous=tail["obj_previous"],
                fc_progress=tail["obj_forecast_progress"], kr_contributes=kr_contributes)
