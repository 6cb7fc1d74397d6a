"""The batch pipeline: the passes of one evaluation, in order, over one backend.

:func:`evaluate` is what :func:`okrcore.batch.engine.evaluate_frame` runs: it takes a
:class:`~okrcore.batch.backend.Backend` picked once from the kernel's name
(:func:`backend_for`) and calls its passes in order (objective and key result errors, key
results, structure, aggregates, the three rollups, history, objective tail, people).  The
pipeline itself never asks which kernel runs: what differs between kernels is in the backends
(:mod:`okrcore.batch._numpy_backend`, :mod:`okrcore.batch._numba_backend`).

:func:`okrcore.batch.incremental.recompute` evaluates part of a frame with some objectives
:class:`Pinned` to their known results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from okrcore.batch._blocks import _THREADS, F64, I64, B, _default_threads
from okrcore.batch._numpy_backend import NumpyBackend
from okrcore.batch._people import person_items, person_rollup
from okrcore.batch._result import BatchResult, _check_out, _into, _n_people
from okrcore.batch.backend import Backend, Objectives, Pin, Pinned, Run
from okrcore.batch.frame import OrgFrame
from okrcore.codes import ERR_DEPENDS_ON_INVALID
from okrcore.policy import Policy

__all__ = [
    "KERNELS",
    "Backend",
    "Pinned",
    "backend_for",
    "check_threads",
    "evaluate",
    "people",
]

KERNELS: Final = ("numpy", "numba")
"""Kernels :func:`backend_for` (and :func:`~okrcore.batch.engine.evaluate_frame`) accept."""


def _numba_backend() -> Backend:
    """The numba backend, imported when first asked for (the numpy kernel does not need it)."""
    from okrcore.batch._numba_backend import NumbaBackend

    return NumbaBackend()


_BACKENDS: Final[dict[str, Callable[[], Backend]]] = {
    "numpy": NumpyBackend,
    "numba": _numba_backend,
}


def backend_for(kernel: str) -> Backend:
    """The backend of a kernel.

    Parameters
    ----------
    kernel : {"numpy", "numba"}
        The kernel's name (see :data:`KERNELS`).

    Returns
    -------
    Backend
        Its backend; the ``numba`` one raises ``ImportError`` naming the ``fast`` extra at its
        first pass when numba is not installed.

    Raises
    ------
    ValueError
        ``kernel must be one of numpy, numba; got …``.
    """
    if kernel not in _BACKENDS:
        raise ValueError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")
    return _BACKENDS[kernel]()


def check_threads(threads: int | None) -> None:
    """Refuse a ``threads`` argument that is neither ``None`` nor a positive integer.

    Parameters
    ----------
    threads : int or None
        The ``threads`` of :func:`evaluate_frame` and of the jobs that pass it on.

    Raises
    ------
    ValueError
        ``threads must be a positive integer; got …`` (``bool`` counts as not an integer).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer; got {threads!r}")


@contextlib.contextmanager
def _evaluation_threads(backend: Backend, threads: int | None) -> Iterator[None]:
    """The threads of one evaluation (``threads`` of :func:`evaluate`), checked."""
    check_threads(threads)
    token = _THREADS.set(_default_threads() if threads is None else threads)
    try:
        with backend.threads(threads):
            yield
    finally:
        _THREADS.reset(token)


def evaluate(frame: OrgFrame, as_of: int, policy: Policy, backend: Backend, *,
             pinned: Pinned | None = None, out: BatchResult | None = None,
             threads: int | None = None) -> BatchResult:
    r"""Evaluate every key result, objective and person of a frame with one backend.

    Parameters
    ----------
    frame : OrgFrame
        The organisation in columns (key result rows grouped by objective).
    as_of : int
        The instant of evaluation [µs since the Unix epoch].
    policy : Policy
        The evaluation policy.
    backend : Backend
        The passes' implementation, usually ``backend_for(kernel)``.
    pinned : Pinned, optional
        Objectives whose results are already known: they keep them and are never computed
        (an incremental update's unaffected children; see
        :func:`okrcore.batch.incremental.recompute`).
    out : BatchResult, optional
        Buffers to write the result into (checked; as for
        :func:`~okrcore.batch.engine.evaluate_frame`).
    threads : int, optional
        Threads of the evaluation (as for :func:`~okrcore.batch.engine.evaluate_frame`).

    Returns
    -------
    BatchResult
        Result columns; rows with an error carry its code in ``kr_error`` / ``obj_error``.

    Raises
    ------
    ValueError
        A bad ``threads`` or ``out``, or key result rows not grouped by objective.

    Notes
    -----
    The passes, in order: errors before evaluation and the alignment graph
    (``backend.front``); check-in logs, key result columns and their trend, staleness and
    forecast (``key_results``); the rollup structure; per objective aggregates over its key
    results; the forest; the rollups now, at the previous check-ins and forecast (level by
    level, children before parents: :math:`\sum w_i p_i / \sum w_i`, or
    :math:`(\sum c_i - S)/(T - S)` for a sum); history; the objective tail; people.
    """
    with _evaluation_threads(backend, threads):
        return _evaluate(Run(frame, as_of, policy, out), backend, pinned)


def _pins(pinned: Pinned | None) -> tuple[Pin | None, Pin | None, Pin | None]:
    """The pinned objectives of the rollups now, previous and forecast."""
    if pinned is None:
        return None, None, None
    return (Pin(pinned.mask, pinned.progress, None, pinned.error),
            Pin(pinned.mask, pinned.previous, None, None),
            Pin(pinned.mask, pinned.forecast, ~np.isnan(pinned.forecast), None))


def _evaluate(run: Run, backend: Backend, pinned: Pinned | None) -> BatchResult:
    """The passes of :func:`evaluate`, in order (threads already set)."""
    frame, out = run.frame, run.out
    if out is not None:
        _check_out(out, frame)

    # --- errors before evaluation, graph; key results -------------------------------------
    front = backend.front(run)
    krs = backend.key_results(run, front)
    obj_error, obj_ref, kr_error = front.obj_error, front.obj_ref, front.kr_error
    kr = krs.columns

    # --- objectives ------------------------------------------------------------------------
    kr_ok = kr_error == 0
    st = backend.structure(run, kr_ok)
    agg = backend.aggregates(run, st, front, krs)
    first_bad = agg.first_bad
    needs_bad_kr = (obj_error == 0) & (first_bad >= 0)
    obj_error[needs_bad_kr] = ERR_DEPENDS_ON_INVALID
    obj_ref[needs_bad_kr] = first_bad[needs_bad_kr]
    agg = attrs.evolve(agg, first_bad=np.zeros(0, np.int64))
    del first_bad, needs_bad_kr
    has_krs = st.n_krs > 0
    sum_err = (obj_error == 0) & (st.mode == 2) & has_krs & (st.sum_error != 0)
    obj_error[sum_err] = st.sum_error[sum_err]
    del sum_err, has_krs
    forest = backend.forest(run, front, st)
    pin_now, pin_prev, pin_fc = _pins(pinned)
    now = backend.rollup_now(run, st, forest, front, krs, pin_now)
    ok = now.ok
    has_progress = ~np.isnan(now.progress)
    prev_obj = backend.rollup_previous(run, st, forest, krs, now, pin_prev)
    fc_obj_progress, fc_ok = backend.rollup_forecast(run, st, forest, krs, agg, now, pin_fc)
    fc_ok &= ok
    # the rows counted in sums were for the rollups alone
    st = attrs.evolve(st, summed_rows=None, summed_obj=None, summed=None)

    # history: only through what the rollup counts
    child_counted = ok & has_progress & (frame.obj_weight > 0)
    obj_hist = backend.history(run, st, forest, krs, agg, kr_ok, child_counted, pinned)
    del child_counted
    tail = backend.objective_tail(
        run, st, forest, front, krs, agg,
        Objectives(kr_ok, obj_error, ok, now.progress, has_progress, prev_obj, fc_obj_progress,
                   fc_ok, obj_hist))
    del forest, agg, prev_obj, fc_obj_progress

    # --- people ----------------------------------------------------------------------------
    who = backend.people(run, st, obj_error, now.progress, kr_error, kr.progress)

    post = krs.post
    return _into(out, BatchResult(
        as_of=run.as_of,
        policy=run.policy,
        kr_error=kr_error,
        kr_error_ref=front.kr_ref,
        kr_value=kr.value,
        kr_raw=kr.raw,
        kr_progress=kr.progress,
        kr_expected=kr.expected,
        kr_colour=kr.colour,
        kr_pace_colour=kr.pace,
        kr_range_status=kr.status,
        kr_contributes=tail.kr_contributes,
        kr_trend=post.trend,
        kr_stale=post.stale,
        kr_last_at=krs.logs.last_at,
        kr_forecast_value=post.fc_value,
        kr_forecast_progress=post.fc_progress,
        kr_forecast_colour=post.fc_colour,
        kr_grade_score=kr.score,
        kr_grade_band=kr.band,
        kr_grade_success=kr.success,
        obj_error=obj_error,
        obj_error_ref=obj_ref,
        obj_mode=st.mode,
        obj_rule=tail.rule,
        obj_progress=now.progress,
        obj_raw=now.raw,
        obj_expected=tail.expected,
        obj_colour=tail.colour,
        obj_computed_colour=tail.computed_colour,
        obj_trend=tail.trend,
        obj_stale=tail.stale,
        obj_forecast_progress=tail.fc_progress,
        obj_forecast_colour=tail.fc_colour,
        obj_grade_score=tail.score,
        obj_grade_band=tail.band,
        obj_grade_success=tail.success,
        obj_sum_unit=st.sum_unit,
        obj_sum_target=st.sum_target,
        obj_sum_start=st.sum_start,
        obj_sum_value=now.value_sum,
        obj_sum_progress=now.sum_progress,
        obj_previous=tail.previous,
        obj_has_history=obj_hist,
        obj_parent=front.parent,
        obj_in_cycle=front.in_cycle,
        person_progress=who.progress,
        person_items=who.items,
        person_error_ref=who.error_ref,
        person_seen=who.seen,
    ))


def people(frame: OrgFrame, obj_error: npt.NDArray[np.uint8], obj_progress: F64,
           kr_error: npt.NDArray[np.uint8], kr_progress: F64) -> tuple[F64, I64, I64, B]:
    r"""People's progress from the objectives' and key results' results (numpy).

    Parameters
    ----------
    frame : OrgFrame
        The organisation (its owners).
    obj_error, obj_progress : ndarray
        Per objective: error code (0 none) and progress (NaN = null).
    kr_error, kr_progress : ndarray
        Per key result: error code and clamped progress.

    Returns
    -------
    progress, items, error_ref, seen : ndarray
        Per person, as in :class:`~okrcore.batch.engine.BatchResult`'s ``person_*`` columns.

    Notes
    -----
    :math:`\bar p = \sum_i p_i / \sum_i 1` over each person's items (objectives owned, key
    results owned on someone else's objective) without error and with a progress, in
    document order (:func:`~okrcore.batch.engine.person_rollup`).
    """
    who, bad, prog, ref = person_items(frame, obj_error, obj_progress, kr_error, kr_progress)
    return person_rollup(who, bad, prog, ref, _n_people(frame))
