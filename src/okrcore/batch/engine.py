"""The vectorised batch engine: every rule of the scalar reference, over whole columns.

:func:`evaluate_frame` computes, for every key result, objective and person of an
:class:`~okrcore.batch.frame.OrgFrame`, what :func:`okrcore.evaluate` computes for one document,
with numpy and no Python loop per key result.  The results are equal to the scalar path's
element by element: the same floating-point operations in the same order (per-group sums are
left-to-right scatter-adds, exactly like the scalar path's running sums).

This module is the public face: :func:`evaluate_frame` picks the backend of its ``kernel``
once and runs :func:`okrcore.batch.pipeline.evaluate`; the passes live in the backends
(:mod:`okrcore.batch.backend`).  The result and code names are re-exported here.
"""

from __future__ import annotations

from okrcore.batch._blocks import BLOCK_ROWS as BLOCK_ROWS
from okrcore.batch._people import person_items as person_items
from okrcore.batch._people import person_rollup as person_rollup
from okrcore.batch._result import BatchResult as BatchResult
from okrcore.batch._vector import (
    RANGE_LIMITS as RANGE_LIMITS,
)
from okrcore.batch._vector import (
    _approx_le as _approx_le,
)
from okrcore.batch._vector import (
    _clamp as _clamp,
)
from okrcore.batch._vector import (
    _expected as _expected,
)
from okrcore.batch._vector import (
    _grade as _grade,
)
from okrcore.batch._vector import (
    _graded as _graded,
)
from okrcore.batch._vector import (
    _halve_overflows as _halve_overflows,
)
from okrcore.batch._vector import (
    _hits_high as _hits_high,
)
from okrcore.batch._vector import (
    _hits_low as _hits_low,
)
from okrcore.batch._vector import (
    _kr_pace as _kr_pace,
)
from okrcore.batch._vector import (
    _pace as _pace,
)
from okrcore.batch._vector import (
    _pace_colour as _pace_colour,
)
from okrcore.batch._vector import (
    _pace_conditions as _pace_conditions,
)
from okrcore.batch._vector import (
    _range_limit as _range_limit,
)
from okrcore.batch._vector import (
    _range_status as _range_status,
)
from okrcore.batch._vector import (
    _raw_progress as _raw_progress,
)
from okrcore.batch._vector import (
    _row_index as _row_index,
)
from okrcore.batch._vector import (
    _safe_div as _safe_div,
)
from okrcore.batch._vector import (
    _trend as _trend,
)
from okrcore.batch._vector import (
    _worst as _worst,
)
from okrcore.batch.frame import OrgFrame
from okrcore.batch.pipeline import KERNELS as KERNELS
from okrcore.batch.pipeline import backend_for, evaluate
from okrcore.batch.pipeline import check_threads as check_threads
from okrcore.codes import (  # re-exported: defined once in okrcore.codes
    COLOUR_GREEN as COLOUR_GREEN,
)
from okrcore.codes import (
    COLOUR_NONE as COLOUR_NONE,
)
from okrcore.codes import (
    COLOUR_RED as COLOUR_RED,
)
from okrcore.codes import (
    COLOUR_YELLOW as COLOUR_YELLOW,
)
from okrcore.codes import (
    ERR_ALIGNMENT_CYCLE as ERR_ALIGNMENT_CYCLE,
)
from okrcore.codes import (
    ERR_DEGENERATE_GOAL as ERR_DEGENERATE_GOAL,
)
from okrcore.codes import (
    ERR_DEPENDS_ON_INVALID as ERR_DEPENDS_ON_INVALID,
)
from okrcore.codes import (
    ERR_DUPLICATE_ID as ERR_DUPLICATE_ID,
)
from okrcore.codes import (
    ERR_FIELD_BREAKPOINTS as ERR_FIELD_BREAKPOINTS,
)
from okrcore.codes import (
    ERR_FIELD_DEGENERATE as ERR_FIELD_DEGENERATE,
)
from okrcore.codes import (
    ERR_FIELD_NEGATIVE_WEIGHT as ERR_FIELD_NEGATIVE_WEIGHT,
)
from okrcore.codes import (
    ERR_FIELD_NOT_FINITE as ERR_FIELD_NOT_FINITE,
)
from okrcore.codes import (
    ERR_FIELD_OUT_OF_RANGE as ERR_FIELD_OUT_OF_RANGE,
)
from okrcore.codes import (
    ERR_FIELD_TIMELINE as ERR_FIELD_TIMELINE,
)
from okrcore.codes import (
    ERR_FIELD_UNKNOWN_VALUE as ERR_FIELD_UNKNOWN_VALUE,
)
from okrcore.codes import (
    ERR_INVALID_TIMELINE as ERR_INVALID_TIMELINE,
)
from okrcore.codes import (
    ERR_LOAD as ERR_LOAD,
)
from okrcore.codes import (
    ERR_MIXED_DIRECTIONS as ERR_MIXED_DIRECTIONS,
)
from okrcore.codes import (
    ERR_NO_CONTRIBUTING_METRIC as ERR_NO_CONTRIBUTING_METRIC,
)
from okrcore.codes import (
    ERR_NO_SUM_UNIT as ERR_NO_SUM_UNIT,
)
from okrcore.codes import (
    ERR_NONE as ERR_NONE,
)
from okrcore.codes import (
    ERR_NOT_FINITE as ERR_NOT_FINITE,
)
from okrcore.codes import (
    ERR_UNKNOWN_PARENT as ERR_UNKNOWN_PARENT,
)
from okrcore.codes import (
    KIND_BINARY as KIND_BINARY,
)
from okrcore.codes import (
    KIND_CHECKPOINTS as KIND_CHECKPOINTS,
)
from okrcore.codes import (
    KIND_METRIC as KIND_METRIC,
)
from okrcore.codes import (
    KIND_MILESTONE as KIND_MILESTONE,
)
from okrcore.codes import (
    KIND_STAGED as KIND_STAGED,
)
from okrcore.codes import (
    LOAD_OK as LOAD_OK,
)
from okrcore.codes import (
    NONE_INSTANT as NONE_INSTANT,
)
from okrcore.codes import (
    RULE_CHILDREN as RULE_CHILDREN,
)
from okrcore.codes import (
    RULE_EMPTY as RULE_EMPTY,
)
from okrcore.codes import (
    RULE_EXPLICIT as RULE_EXPLICIT,
)
from okrcore.codes import (
    RULE_MIXED as RULE_MIXED,
)
from okrcore.codes import (
    RULE_SAME_UNIT as RULE_SAME_UNIT,
)
from okrcore.codes import (
    RULE_SETTINGS as RULE_SETTINGS,
)
from okrcore.codes import (
    TREND_NONE as TREND_NONE,
)
from okrcore.codes import (
    TREND_PROGRESSED as TREND_PROGRESSED,
)
from okrcore.codes import (
    TREND_REGRESSED as TREND_REGRESSED,
)
from okrcore.codes import (
    TREND_STALLED as TREND_STALLED,
)
from okrcore.policy import Policy

__all__ = [
    "COLOUR_GREEN",
    "COLOUR_NONE",
    "COLOUR_RED",
    "COLOUR_YELLOW",
    "ERR_ALIGNMENT_CYCLE",
    "ERR_DEGENERATE_GOAL",
    "ERR_DEPENDS_ON_INVALID",
    "ERR_DUPLICATE_ID",
    "ERR_INVALID_TIMELINE",
    "ERR_LOAD",
    "ERR_MIXED_DIRECTIONS",
    "ERR_NONE",
    "ERR_NOT_FINITE",
    "ERR_NO_CONTRIBUTING_METRIC",
    "ERR_NO_SUM_UNIT",
    "ERR_UNKNOWN_PARENT",
    "KERNELS",
    "RULE_CHILDREN",
    "RULE_EMPTY",
    "RULE_EXPLICIT",
    "RULE_MIXED",
    "RULE_SAME_UNIT",
    "RULE_SETTINGS",
    "TREND_NONE",
    "TREND_PROGRESSED",
    "TREND_REGRESSED",
    "TREND_STALLED",
    "BatchResult",
    "check_threads",
    "evaluate_frame",
    "kernels_available",
    "person_items",
    "person_rollup",
]


def kernels_available() -> tuple[str, ...]:
    """The kernels that can run here: ``numpy`` always, ``numba`` with the ``fast`` extra."""
    from okrcore.batch import _numba

    return ("numpy", "numba") if _numba.available() else ("numpy",)


def evaluate_frame(frame: OrgFrame, as_of: int, policy: Policy | None = None, *,
                   kernel: str = "numpy", out: BatchResult | None = None,
                   threads: int | None = None) -> BatchResult:
    r"""Evaluate every key result, objective and person of a frame at ``as_of``.

    Parameters
    ----------
    frame : OrgFrame
        The organisation in columns (key result rows grouped by objective).
    as_of : int
        The instant of evaluation [µs since the Unix epoch].
    policy : Policy, optional
        Default: the ``betterworks`` preset.
    kernel : {"numpy", "numba"}
        ``numba`` runs the per key result pass and the per objective sums as fused parallel
        kernels (the ``fast`` extra); the results are identical.
    out : BatchResult, optional
        Buffers to write the result into, usually a previous result of a frame of the same
        shape: every column must have this frame's row count and the dtype of a fresh
        result, be contiguous and writeable and share no memory with another
        column or with the frame's columns, else ``ValueError`` names the column.  Both
        kernels write their per key result passes straight into it and copy the other
        columns; the returned result holds ``out``'s arrays, so a job that evaluates again
        and again allocates its result columns only once.  If the evaluation raises, the
        buffers' contents are undefined.
    threads : int, optional
        Threads of the evaluation (default: the CPUs this process may use).  The numpy
        kernel runs its blocks of rows on them (1: all in the calling thread); the numba
        kernel runs its parallel loops on at most this many of numba's threads (capped at
        ``NUMBA_NUM_THREADS``; default: numba's current count).  Blocks write disjoint rows,
        so the result does not depend on it.  A caller that already runs evaluations in
        parallel (a Dask worker, a process pool) passes 1, or its share of the cores.

    Returns
    -------
    BatchResult
        Result columns; rows with an error carry its code in ``kr_error`` / ``obj_error``.

    Notes
    -----
    The same rules as :func:`okrcore.evaluate` (``docs/spec.rst``), vectorised: key result
    progress :math:`\min(\max((c-s)/(t-s), 0), \text{cap})` and its range variants; objective
    rollups by per-objective scatter-adds (:math:`\sum w_i p_i / \sum w_i`, or
    :math:`(\sum c_i - S)/(T - S)`), level by level up the alignment tree; people as the
    equal-weight mean of their items.
    """
    return evaluate(frame, as_of, policy or Policy(), backend_for(kernel), out=out,
                    threads=threads)

