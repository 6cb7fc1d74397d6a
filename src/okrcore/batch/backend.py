"""The backend interface of the batch pipeline, and the records that travel between its passes.

:func:`okrcore.batch.pipeline.evaluate` runs the passes of one evaluation in order; a
:class:`Backend` computes each pass.  There are two backends, ``numpy``
(:class:`okrcore.batch._numpy_backend.NumpyBackend`) and ``numba``
(:class:`okrcore.batch._numba_backend.NumbaBackend`); both give the same results bit for bit.

A pass takes the evaluation (:class:`Run`) and the records of the passes before it, and returns
its own record.  Columns that are also result columns are written into ``run.out``'s buffers
when given.  What only one backend needs between two of its passes (the numba kernel's
per key result timeline, the numpy kernel's rows that differ between rollup scenarios...)
travels in the records' ``scratch`` fields, opaque to the pipeline; a backend lets a scratch
column go (sets its field to ``None``) as soon as its last pass has used it, which keeps the
peak memory low.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

import attrs
import numpy as np
import numpy.typing as npt

from okrcore.batch._blocks import F64, I8, I64, U8, B
from okrcore.batch._result import BatchResult
from okrcore.batch.frame import OrgFrame
from okrcore.policy import Policy

__all__ = [
    "Aggregates",
    "Backend",
    "Front",
    "KeyResults",
    "KrColumns",
    "KrPost",
    "Logs",
    "Objectives",
    "People",
    "Pin",
    "Pinned",
    "Rollup",
    "Run",
    "Structure",
    "Tail",
]


@attrs.frozen(eq=False)
class Run:
    """One evaluation: the frame, the instant, the policy and the ``out=`` buffers."""

    frame: OrgFrame
    as_of: int
    policy: Policy
    out: BatchResult | None = None


@attrs.frozen(eq=False)
class Pinned:
    """Objectives whose results are already known (children outside an incremental update).

    Every column has one row per objective of the frame evaluated; rows where ``mask`` is set
    keep these results (error code, progress, previous progress, forecast progress with NaN
    for none, has a history) and are never computed.
    """

    mask: B
    error: npt.NDArray[np.uint8]
    progress: F64
    previous: F64
    forecast: F64
    history: B


class Pin(NamedTuple):
    """The pinned objectives of one rollup scenario (now, previous or forecast)."""

    mask: B
    progress: F64
    forecast: B | None
    error: U8 | None


@attrs.frozen(eq=False)
class Front:
    """Errors before evaluation, the alignment graph, and the key results' errors.

    ``kr_error`` gains ``invalid_timeline`` and ``not_finite`` in the key result pass, and
    ``obj_error`` the rollup's errors (in place).  ``height`` is each objective's height in the
    alignment forest (-1 on a cycle).
    """

    obj_error: U8
    obj_ref: I64
    parent: I64
    in_cycle: B
    height: I64
    kr_error: U8
    kr_ref: I64
    scratch: Any = None


@attrs.frozen(eq=False)
class Logs:
    """Per key result: the as-of value, the previous value, the last instant, the forecast."""

    has_entry: B
    value: F64
    has_previous: B
    previous: F64
    last_at: I64
    forecast: F64


@attrs.frozen(eq=False)
class KrColumns:
    """The key result columns: value, raw and clamped progress, status, pace, colour, grade."""

    value: F64
    raw: F64
    progress: F64
    status: I8
    expected: F64
    pace: I8
    colour: I8
    score: F64
    band: I8
    success: B


@attrs.frozen(eq=False)
class KrPost:
    """After the key result columns: trend, staleness and the forecast of every key result."""

    trend: I8
    stale: I8
    fc_value: F64
    fc_progress: F64
    fc_status: I8
    fc_colour: I8
    has_fc: B


@attrs.frozen(eq=False)
class KeyResults:
    """The key result pass: check-in logs, key result columns and post columns.

    ``scratch`` holds what the backend's rollups of the previous and forecast states need
    from it.
    """

    logs: Logs
    columns: KrColumns
    post: KrPost
    scratch: Any = None


@attrs.frozen(eq=False)
class Structure:
    """What the rollup of each objective is, decided from structure alone."""

    n_krs: I64
    mode: npt.NDArray[np.uint8]  # 1 mean, 2 sum
    rule: npt.NDArray[np.uint8]
    uses_children: B
    sum_unit: npt.NDArray[np.int32]
    contributes: B  # per KR: counted in its objective's rollup (weight > 0; in sum: the unit)
    sum_error: npt.NDArray[np.uint8]
    sum_start: F64
    sum_target: F64
    target_auto: B
    offsets: I64 | None = None  # CSR of the key result rows of each objective (numba kernel)
    summed: B | None = None  # per KR: counted in its objective's sum (numba kernel)
    # numpy kernel: per objective the sum of its key results' weights (the same in every
    # scenario), and the rows counted in sums with their objectives
    weight_total: F64 | None = None
    summed_rows: I64 | None = None
    summed_obj: I64 | None = None


@attrs.frozen(eq=False)
class Aggregates:
    """Per objective, over its key results: the first with an error (-1 none), and more.

    ``scratch``: what else the backend gathered in the same pass (the numba kernel gathers
    the forecast and history flags, staleness and worst range statuses here).
    """

    first_bad: I64
    scratch: Any = None


@attrs.frozen(eq=False)
class Rollup:
    """The objectives now: progress and raw progress (NaN on errors), the summed part.

    ``ok``: the objectives without an error after the rollup.
    """

    progress: F64
    raw: F64
    value_sum: F64
    sum_progress: F64
    ok: B


@attrs.frozen(eq=False)
class Objectives:
    """What the objective tail needs from the rollups and the history."""

    kr_ok: B
    error: U8
    ok: B
    progress: F64
    has_progress: B
    previous: F64
    fc_progress: F64
    fc_ok: B
    history: B


@attrs.frozen(eq=False)
class Tail:
    """The objective columns after the rollups, and each key result's ``contributes``."""

    trend: I8
    stale: I8
    expected: F64
    colour: I8
    computed_colour: I8
    fc_colour: I8
    score: F64
    band: I8
    success: B
    rule: U8
    previous: F64
    fc_progress: F64
    kr_contributes: B


@attrs.frozen(eq=False)
class People:
    """Per person: mean progress, counted items, the first item with an error, owns any."""

    progress: F64
    items: I64
    error_ref: I64
    seen: B


class Backend(Protocol):
    """The passes of a batch evaluation, as one kernel computes them.

    :func:`okrcore.batch.pipeline.evaluate` calls them in this order: :meth:`front`,
    :meth:`key_results`, :meth:`structure`, :meth:`aggregates`, :meth:`forest`,
    :meth:`rollup_now`, :meth:`rollup_previous`, :meth:`rollup_forecast`, :meth:`history`,
    :meth:`objective_tail`, :meth:`people`.  Every method returns the same values in every
    backend, bit for bit (``tests/test_golden.py``).
    """

    @property
    def name(self) -> str:
        """The kernel's name (``evaluate_frame(kernel=...)``)."""
        ...

    def threads(self, threads: int | None) -> AbstractContextManager[None]:
        """The backend's own thread limit around one evaluation (``None``: its default)."""
        ...

    def front(self, run: Run) -> Front:
        """Field errors of objectives and key results, the alignment graph and its cycles."""
        ...

    def key_results(self, run: Run, front: Front) -> KeyResults:
        """The check-in logs, the key result columns and trend, staleness and forecasts."""
        ...

    def structure(self, run: Run, kr_ok: B) -> Structure:
        """The rollup structure of every objective (mode, rule, sum unit and goal)."""
        ...

    def aggregates(self, run: Run, st: Structure, front: Front, krs: KeyResults) -> Aggregates:
        """Per objective, over its key results (at least the first with an error)."""
        ...

    def forest(self, run: Run, front: Front, st: Structure) -> Any:
        """What every rollup scenario needs from the alignment forest (computed once)."""
        ...

    def rollup_now(self, run: Run, st: Structure, forest: Any, front: Front,
                   krs: KeyResults, pin: Pin | None) -> Rollup:
        """Objective progress now, level by level; sets the rollup's errors in ``front``."""
        ...

    def rollup_previous(self, run: Run, st: Structure, forest: Any, krs: KeyResults,
                        now: Rollup, pin: Pin | None) -> F64:
        """Objective progress at the previous check-ins (NaN = null)."""
        ...

    def rollup_forecast(self, run: Run, st: Structure, forest: Any, krs: KeyResults,
                        agg: Aggregates, now: Rollup, pin: Pin | None) -> tuple[F64, B]:
        """Objective progress forecast at the due instant, and which objectives have one."""
        ...

    def history(self, run: Run, st: Structure, forest: Any, krs: KeyResults,
                agg: Aggregates, kr_ok: B, child_counted: B, pinned: Pinned | None) -> B:
        """Per objective: whether any counted key result or child has a check-in."""
        ...

    def objective_tail(self, run: Run, st: Structure, forest: Any, front: Front,
                       krs: KeyResults, agg: Aggregates, objs: Objectives) -> Tail:
        """Trend, staleness, expected progress, colours, grade and rule of every objective."""
        ...

    def people(self, run: Run, st: Structure, obj_error: U8, obj_progress: F64,
               kr_error: U8, kr_progress: F64) -> People:
        """Per person: the mean progress of their items."""
        ...
