"""Optional numba kernels of the batch engine: fused, parallel, bit-identical to numpy.

numba is an optional extra (``pip install okrcore[fast]``): it is imported lazily by
:func:`load`, never when this module is imported, so okrcore works with numpy alone.

Public kernels (with argument checks):

* :func:`kr_pass`: the per key result pass (value, raw progress, clamp, range status,
  expected progress, pace colour, colour, grade) in one sweep over memory instead of some
  forty numpy temporaries;
* :func:`group_sums`: the per-objective sums of the key-result part of a rollup (Σw, Σwp, Σ
  value), i.e. ``np.bincount(objective, weights=...)``;
* :func:`logs_pass`: the check-in log pass.

The engine also calls internal kernels through :func:`load` (the attributes of
:class:`Kernels`): the key result front pass, the pass after ``kr_pass``, the rollup structure
and the per-objective aggregates, the rollup of one scenario, the history lift, the objective
tail and people.  The kernel bodies live in :mod:`okrcore.batch._numba_kr` (over key results)
and :mod:`okrcore.batch._numba_obj` (over objectives); those with many columns take records of
arrays (named tuples), which the :class:`Kernels` wrappers here build from the positional
arguments the engine passes.

One definition per rule: every element-wise rule the kernels apply (raw progress, clamp,
range status, expected progress, pace, grade, trend, staleness, ...) is a function of
:mod:`okrcore.batch.rules`, the same code the numpy kernel runs.  :func:`load` builds the
rules' numba instance (:func:`okrcore.batch.rules.instantiate` with the scalar operations of
:mod:`okrcore.batch._ops_numba`) and registers every rule and operation with
``register_jitable(inline="always")``, so they are inlined into the kernels at the numba IR
level: a call LLVM does not inline would stop the loop vectoriser (it once made ``kr_pass``
five times slower).

Equality: every result is the numpy engine's *bit for bit* (signed zeros included; NaNs are
NaN, their payload is not specified).  The kernels perform the same IEEE-754 double operations
in the same order as numpy (no ``fastmath``, so no reassociation and no fused multiply-add),
reproduce ``np.maximum`` / ``np.minimum`` exactly, and sum each group left to right starting
from ``0.0`` like ``np.bincount``.

The row loops run in parallel over blocks of rows (``prange``), each block sequentially with
unsigned indices (no negative-index wraparound checks).  Like numpy, :func:`kr_pass` computes
every alternative (plain, band and graded progress; every pace bound) and then selects, so its
loop has no data-dependent branch and LLVM vectorises it.  Compiled code is cached on disk
(``cache=True``, in ``__pycache__``), so only the first run on a machine pays the compile time.
numba's cache is keyed on the kernel's own source file, not on the rules it inlines:
:func:`load` deletes the kernels' cache files when the digest of the rules, operations and
kernel sources has changed since they were written.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from okrcore.batch import _numba_kr, _numba_obj, _ops_numba, _rules_numba, rules
from okrcore.batch._numba_kr import (
    BLOCK_ROWS,
    OBJ_BLOCK,
    FrontOut,
    KrColumns,
    KrFront,
    KrOut,
    KrPost,
    Params,
    PostOut,
)
from okrcore.batch._numba_obj import (
    KrPart,
    ObjState,
    ObjTail,
    StructIn,
    StructOut,
    TailOut,
    Tree,
)
from okrcore.codes import NONE_INSTANT
from okrcore.policy import PaceRule

__all__ = [
    "BLOCK_ROWS",
    "NONE_INSTANT",
    "OBJ_BLOCK",
    "PACE_RULE_CODES",
    "UNCAPPED",
    "Kernels",
    "available",
    "group_sums",
    "kr_pass",
    "load",
    "logs_pass",
    "pace_rule_code",
    "thread_count",
    "threads_limited",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]

UNCAPPED: Final = math.inf
"""The ``cap`` of :func:`kr_pass` for an uncapped policy (``Policy.cap is None``).

``min(low, inf)`` is ``low`` for every clamped value (never NaN), so +inf gives exactly the
numpy engine's uncapped progress."""
PACE_RULE_CODES: Final = rules.PACE_RULE_CODES
"""The ``pace_rule`` codes of :func:`kr_pass` (with the ``worse`` boundary)."""
_BETTER: Final = rules.PACE_BETTER

_MEMORY_CHECKS: Final = 1024
_MESSAGE: Final = "the numba kernel needs the 'fast' extra: pip install okrcore[fast]"
_KERNEL_MODULES: Final = (_numba_kr, _numba_obj)
_INLINED: Final = (_numba_obj._kr_sums_one, _numba_obj._rescaled_one, _numba_obj._rollup_one,
                   _numba_kr._sums_of, _numba_kr._field_error)
"""The helpers that take arrays: inlined into their kernels (numba IR inlining)."""
_HELPERS: Final = (_numba_kr._n_blocks, _numba_kr._block_rows, _numba_obj._direction)


def _params(as_of: int = 0, cap: float = UNCAPPED, strict: bool = False, tol: float = 0.0,
            pace_rule: int = 0, pace_yellow: float = 0.0, pace_red: float = 0.0,
            grade_yellow: float = 0.0, grade_green: float = 0.0,
            aspirational_success: float = 0.0, window: float = 0.0) -> Params:
    """The scalar record of the kernels, typed as numba compiles it (once per type)."""
    return Params(int(as_of), float(cap), bool(strict), float(tol), int(pace_rule),
                  float(pace_yellow), float(pace_red), float(grade_yellow), float(grade_green),
                  float(aspirational_success), float(window))


class Kernels(NamedTuple):
    """The compiled kernels (numba dispatchers, or wrappers that build their records).

    Each attribute takes the positional arguments the engine passes (columns, then scalars,
    then output columns, as documented at the kernel bodies).
    """

    kr_pass: Any
    group_sums: Any
    logs: Any
    csr_of_sorted: Any
    children: Any
    structure: Any
    kr_post: Any
    obj_aggregates: Any
    history: Any
    kr_front: Any
    people: Any
    obj_tail: Any
    rollup_fused: Any


def _wrappers(jit: Any, options: dict[str, Any]) -> Kernels:
    """Compile the kernels (lazily, on first call) and wrap those that take records."""
    serial = {**options, "parallel": False}
    kr_pass_jit = jit(**options)(_numba_kr._kr_pass_impl)
    kr_post_jit = jit(**options)(_numba_kr._kr_post_impl)
    kr_front_jit = jit(**options)(_numba_kr._kr_front_impl)
    structure_jit = jit(**options)(_numba_obj._structure_impl)
    obj_tail_jit = jit(**options)(_numba_obj._obj_tail_impl)
    rollup_jit = jit(**options)(_numba_obj._rollup_fused_impl)

    def kr_pass_(*args: Any) -> None:
        cols, scalars, outs = args[:14], args[14:24], args[24:]
        (as_of, cap, strict, tol, pace_rule, pace_yellow, pace_red, grade_yellow, grade_green,
         aspirational_success) = scalars
        kr_pass_jit(KrColumns(*cols),
                    _params(as_of, cap, strict, tol, pace_rule, pace_yellow, pace_red,
                            grade_yellow, grade_green, aspirational_success),
                    KrOut(*outs))

    def kr_post(*args: Any) -> None:
        cols, scalars, outs = args[:20], args[20:28], args[28:]
        as_of, window, cap, strict, tol, pace_rule, pace_yellow, pace_red = scalars
        kr_post_jit(KrPost(*cols),
                    _params(as_of, cap, strict, tol, pace_rule, pace_yellow, pace_red,
                            window=window),
                    PostOut(*outs))

    def kr_front(kr_objective: Any, kr_load: Any, validate: bool, *args: Any) -> None:
        kr_front_jit(KrFront(kr_objective, kr_load, *args[:15]), bool(validate),
                     FrontOut(*args[15:]))

    def structure(*args: Any) -> None:
        structure_jit(StructIn(*args[:14]), StructOut(*args[14:]))

    def obj_tail(*args: Any) -> None:
        cols, scalars, outs = args[:19], args[19:27], args[27:]
        (as_of, tol, pace_rule, pace_yellow, pace_red, grade_yellow, grade_green,
         aspirational_success) = scalars
        obj_tail_jit(ObjTail(*cols),
                     _params(as_of, tol=tol, pace_rule=pace_rule, pace_yellow=pace_yellow,
                             pace_red=pace_red, grade_yellow=grade_yellow,
                             grade_green=grade_green,
                             aspirational_success=aspirational_success),
                     TailOut(*outs))

    def rollup_fused(order: Any, level_offsets: Any, child_offsets: Any, children: Any,
                     others: Any, kr_offsets: Any, kr_weight: Any, kr_progress: Any,
                     kr_value: Any, over: Any, over_progress: Any, over_value: Any,
                     sum_mask: Any, sum_start: Any, sum_target: Any, cap: float, n_kr: int,
                     is_sum: Any, uses: Any, obj_weight: Any, obj_due: Any, pinned: Any,
                     scenario: int, obj_error: Any, obj_ref: Any, valid: Any, kid_now: Any,
                     has_fc: Any, progress: Any, raw: Any, value_sum: Any,
                     prog_sum: Any) -> None:
        rollup_jit(Tree(order, level_offsets, child_offsets, children, others),
                   KrPart(kr_offsets, kr_weight, kr_progress, kr_value, over, over_progress,
                          over_value, sum_mask, sum_start, sum_target),
                   ObjState(is_sum, uses, obj_weight, obj_due, pinned, obj_error, obj_ref,
                            valid, kid_now, has_fc, progress, raw, value_sum, prog_sum),
                   float(cap), int(n_kr), int(scenario))

    wrappers: tuple[Any, ...] = ((kr_pass_, kr_pass_jit), (kr_post, kr_post_jit),
                                 (kr_front, kr_front_jit), (structure, structure_jit),
                                 (obj_tail, obj_tail_jit), (rollup_fused, rollup_jit))
    for wrapper, kernel in wrappers:
        wrapper.dispatcher = kernel  # the numba dispatcher behind the wrapper
    return Kernels(kr_pass=kr_pass_,
                   group_sums=jit(**options)(_numba_kr._group_sums_impl),
                   logs=jit(**options)(_numba_kr._logs_impl),
                   csr_of_sorted=jit(**options)(_numba_kr._csr_of_sorted_impl),
                   children=jit(**serial)(_numba_obj._children_impl),
                   structure=structure,
                   kr_post=kr_post,
                   obj_aggregates=jit(**options)(_numba_obj._obj_aggregates_impl),
                   history=jit(**serial)(_numba_obj._history_impl),
                   kr_front=kr_front,
                   people=jit(**options)(_numba_obj._people_impl),
                   obj_tail=obj_tail,
                   rollup_fused=rollup_fused)


_kernels: Kernels | None = None
_lock: Final = threading.Lock()
_STAMP: Final = "okrcore_rules.sha256"
"""The digest of the sources the cached kernels were compiled from (in ``__pycache__``)."""


def _drop_stale_cache() -> None:
    """Delete the kernels' on-disk cache when a module they inline has changed.

    numba keys a cached kernel on its own source file only, so an edit of the rules or the
    operations alone would keep running the old compiled rules.  The digest of every source
    the kernels are built from is kept beside the cache; when it differs, the kernel modules'
    cache files go.  Best effort: a read-only install keeps numba's own handling (and with
    ``NUMBA_CACHE_DIR`` set, the cache lives elsewhere).
    """
    modules = (rules, _ops_numba, _rules_numba, *_KERNEL_MODULES)
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    folder = Path(str(_numba_kr.__file__)).parent / "__pycache__"
    stamp = folder / _STAMP
    try:
        if stamp.read_text(encoding="ascii") == digest.hexdigest():
            return
    except OSError:
        pass
    try:
        for module in _KERNEL_MODULES:
            for path in folder.glob(f"{module.__name__.rsplit('.', 1)[1]}.*.nb[ic]"):
                path.unlink(missing_ok=True)
        folder.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest(), encoding="ascii")
    except OSError:
        pass


def load() -> Kernels:
    """Import numba and return the kernels (once; later calls return the same object).

    Raises
    ------
    ImportError
        When numba is not installed (or cannot be imported).
    """
    global _kernels
    with _lock:
        if _kernels is None:
            try:
                import numba
                from numba.extending import register_jitable
            except ImportError as exc:
                raise ImportError(_MESSAGE) from exc
            def inline(function: Any) -> None:
                # (a new decorator each time: register_jitable pops ``inline`` from its
                # keyword arguments, so a reused one inlines only its first function)
                register_jitable(inline="always")(function)

            # One definition per rule: the rules' own code objects, bound to the numba
            # operations (okrcore.batch._rules_numba).  The operations and the rules that call
            # no other rule are small functions, which LLVM inlines; the rules that call rules
            # are inlined at the numba IR level, or LLVM keeps them as calls, which stops the
            # kernels' loop vectoriser (kr_pass was 2-5x slower).  (Inlining every rule at
            # the IR level vectorises too but compiles several times slower.)
            for op in _ops_numba.OPS:
                register_jitable(op)
            names = {rule.__name__ for rule in rules.RULES}
            for rule in rules.RULES:
                clone = getattr(_rules_numba, rule.__name__)
                if names & set(rule.__code__.co_names):
                    inline(clone)
                else:
                    register_jitable(clone)
            helpers: tuple[Any, ...] = _HELPERS
            for helper in helpers:
                register_jitable(helper)
            # The helpers that take arrays are inlined into their kernels (numba IR inlining):
            # a call would pass every array by value and count its references, once per
            # objective, which made the rollup several times slower than its memory traffic.
            inlined: tuple[Any, ...] = _INLINED
            for helper in inlined:
                inline(helper)
            # kr_pass reads 14 columns and writes 10: LLVM's loop vectoriser gives up on the
            # run-time alias checks this needs (default limit 128) unless the limit is raised.
            # A process-wide LLVM option; it changes no result, only which loops vectorise.
            llvm = importlib.import_module("llvmlite.binding")
            llvm.set_option("okrcore", f"-vectorize-memory-check-threshold={_MEMORY_CHECKS}")
            for module in _KERNEL_MODULES:
                setattr(module, "_prange", numba.prange)  # noqa: B010 (read by numba)
                setattr(module, "R", _rules_numba)  # noqa: B010
            # The GIL is kept (no ``nogil``): concurrent calls from several Python threads
            # then run one after the other, which every numba threading layer supports.
            options: dict[str, Any] = {
                "parallel": True, "cache": True, "error_model": "numpy", "boundscheck": False,
                "fastmath": False,
            }
            _drop_stale_cache()
            _kernels = _wrappers(numba.njit, options)
        return _kernels


def thread_count() -> int:
    """The threads the parallel kernels run on (``numba.get_num_threads()``)."""
    load()
    import numba

    return int(numba.get_num_threads())


@contextlib.contextmanager
def threads_limited(threads: int | None) -> Iterator[None]:
    """Run the kernels called inside on at most ``threads`` threads (``None``: unchanged).

    numba's thread count is per calling thread; the previous count is restored on exit.  It
    cannot exceed the threads numba launched (``NUMBA_NUM_THREADS``), so larger values are
    capped there.
    """
    if threads is None:
        yield
        return
    load()
    import numba

    config: Any = numba.config  # (its settings are module attributes made at import)
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, int(config.NUMBA_NUM_THREADS))))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def available() -> bool:
    """Whether the numba kernels can be used (numba is installed and imports)."""
    try:
        load()
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------------------
# public entry points
# ------------------------------------------------------------------------------------------


def _check(name: str, array: Any, n: int, dtypes: tuple[Any, ...]) -> None:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(array).__name__}")
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{name} must be one-dimensional with {n} rows, got {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be contiguous")
    if array.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype {' or '.join(map(str, dtypes))}, "
                        f"got {array.dtype}")


_F: Final = (np.dtype(np.float64),)
_I: Final = (np.dtype(np.int64),)
_U: Final = (np.dtype(np.uint8),)
_S: Final = (np.dtype(np.int8),)
_BOOL: Final = (np.dtype(np.bool_),)


def kr_pass(
        kind: U8, start: F64, target: F64, explicit: F64, log_has: B | F64, log_value: F64,
        range_mode: U8, red_low: F64, yellow_low: F64, yellow_high: F64, red_high: F64,
        obj_start_kr: I64, due_kr: I64, aspirational: B, as_of: int, cap: float, strict: bool,
        tol: float, pace_rule: int, pace_yellow: float, pace_red: float, grade_yellow: float,
        grade_green: float, aspirational_success: float, out_value: F64, out_raw: F64,
        out_progress: F64, out_status: I8, out_expected: F64, out_pace: I8, out_colour: I8,
        out_score: F64, out_band: I8, out_success: B) -> None:
    """The per key result pass of ``evaluate_frame``, fused: write every ``out_*`` row.

    Parameters
    ----------
    kind : uint8 array
        Kind codes.  Raw progress does not depend on the kind (a milestone is
        ``(done - 0) / (total - 0)``, exactly like ``_raw_progress``); the pace of binary and
        simple milestones does (against their due, SEMANTICS §11.2).
    start, target : float64 arrays
        [unit].
    explicit : float64 array
        The explicit current value (``kr_current``); NaN = not given (the start is used).
    log_has : bool or float64 array
        Whether the key result has a check-in at or before ``as_of`` (non-zero = yes).
    log_value : float64 array
        The value of the latest kept check-in; ignored where ``log_has`` is false.
    range_mode : uint8 array
        0 none, 1 band, 2 graded, 3 linear.
    red_low, yellow_low, yellow_high, red_high : float64 arrays
        Breakpoints; NaN = absent.
    obj_start_kr, due_kr : int64 arrays
        The objective's start and the key result's due [µs]; :data:`NONE_INSTANT` = absent.
    aspirational : bool array
        Whether the key result's objective is aspirational.
    as_of : int
        [µs].
    cap : float
        ``Policy.cap``; :data:`UNCAPPED` (``math.inf``) for ``None``.
    strict, tol : bool, float
        ``Policy.strict_breakpoints``, ``Policy.tolerance``.
    pace_rule, pace_yellow, pace_red : int, float, float
        ``pace_rule_code(policy.pace)``, ``policy.pace.yellow``, ``policy.pace.red``.
    grade_yellow, grade_green, aspirational_success : float
        The policy's grade band limits and aspirational success threshold.
    out_value, out_raw, out_progress, out_expected, out_score : float64 arrays
        Written: value, raw progress, clamped progress, expected progress (NaN without a
        timeline), grade score.
    out_status, out_pace, out_colour, out_band : int8 arrays
        Written: range status (-1 without a range), pace colour, colour = worst of the two,
        grade band (0 green, 1 yellow, 2 red).
    out_success : bool array
        Written: grade success.

    Notes
    -----
    Raw progress is computed faithfully on every row, non-finite results included; the
    engine marks those rows ``not_finite`` (and rows with any other error), sets their raw
    progress to 0 and recomputes what depends on it.
    """
    n = int(start.shape[0]) if isinstance(start, np.ndarray) else -1
    for name, array, dtypes in (
            ("kind", kind, _U), ("start", start, _F), ("target", target, _F),
            ("explicit", explicit, _F), ("log_has", log_has, _BOOL + _F),
            ("log_value", log_value, _F), ("range_mode", range_mode, _U),
            ("red_low", red_low, _F), ("yellow_low", yellow_low, _F),
            ("yellow_high", yellow_high, _F), ("red_high", red_high, _F),
            ("obj_start_kr", obj_start_kr, _I), ("due_kr", due_kr, _I),
            ("aspirational", aspirational, _BOOL), ("out_value", out_value, _F),
            ("out_raw", out_raw, _F), ("out_progress", out_progress, _F),
            ("out_status", out_status, _S), ("out_expected", out_expected, _F),
            ("out_pace", out_pace, _S), ("out_colour", out_colour, _S),
            ("out_score", out_score, _F), ("out_band", out_band, _S),
            ("out_success", out_success, _BOOL)):
        _check(name, array, n, dtypes)
    if pace_rule not in range(2 * _BETTER):
        raise ValueError(f"pace_rule must be a pace_rule_code (0 to 5), got {pace_rule!r}")
    load().kr_pass(
        kind, start, target, explicit, log_has, log_value, range_mode, red_low, yellow_low,
        yellow_high, red_high, obj_start_kr, due_kr, aspirational, int(as_of), float(cap),
        bool(strict), float(tol), int(pace_rule), float(pace_yellow), float(pace_red),
        float(grade_yellow), float(grade_green), float(aspirational_success), out_value,
        out_raw, out_progress, out_status, out_expected, out_pace, out_colour, out_score,
        out_band, out_success)


def pace_rule_code(rule: PaceRule) -> int:
    """The ``pace_rule`` code of a pace rule for the kernels: its rule and its boundary."""
    return rules.pace_rule_code(rule)


def group_sums(kr_objective: I64, offsets: I64, weight: F64, progress: F64, value: F64,
               sum_mask: B, out_total: F64, out_weighted: F64, out_value: F64) -> None:
    """Per objective: Σ weight, Σ weight·progress and Σ (value where ``sum_mask``), in row order.

    Parameters
    ----------
    kr_objective : int64 array
        The objective of each key result row (rows grouped by objective).  Accepted for the
        interface; the kernel walks ``offsets``, which must be its CSR index.
    offsets : int64 array
        ``m + 1`` entries: the key result rows of objective ``o`` are
        ``offsets[o]:offsets[o + 1]``.
    weight, progress, value : float64 arrays
        Per key result.
    sum_mask : bool array
        Per key result: whether its value counts in its objective's sum.
    out_total, out_weighted, out_value : float64 arrays
        ``m`` entries, written.

    Notes
    -----
    Each sum starts at ``0.0`` and adds its rows left to right (``value`` rows outside the
    mask add ``0.0``), which is exactly ``np.bincount(kr_objective, weights=...)``.
    Objectives are summed in parallel, each one sequentially.
    """
    n = int(weight.shape[0]) if isinstance(weight, np.ndarray) else -1
    m = int(out_total.shape[0]) if isinstance(out_total, np.ndarray) else -1
    for name, array, length, dtypes in (
            ("kr_objective", kr_objective, n, _I), ("offsets", offsets, m + 1, _I),
            ("weight", weight, n, _F), ("progress", progress, n, _F), ("value", value, n, _F),
            ("sum_mask", sum_mask, n, _BOOL), ("out_total", out_total, m, _F),
            ("out_weighted", out_weighted, m, _F), ("out_value", out_value, m, _F)):
        _check(name, array, length, dtypes)
    if int(offsets[0]) != 0 or int(offsets[-1]) != n:
        raise ValueError(f"offsets must run from 0 to {n}")
    load().group_sums(offsets, weight, progress, value, sum_mask, out_total, out_weighted,
                      out_value)


def logs_pass(offsets: I64, log_at: I64, log_value: F64, as_of: int, obj_start_kr: I64,
              due_kr: I64, day: float, *, last_at: I64 | None = None
              ) -> tuple[B, F64, B, F64, I64, F64]:
    """The check-in log pass of ``evaluate_frame`` (``engine._numpy_logs``), fused per key result.

    Parameters
    ----------
    offsets : int64 array
        CSR start of each key result's log rows (``n + 1`` entries); rows sorted by instant.
    log_at, log_value : arrays
        The log [µs], [unit].
    as_of : int
        [µs].
    obj_start_kr, due_kr : int64 arrays
        The objective's start (the forecast period) and the due instant [µs] per key result.
    day : float
        Microseconds per day.
    last_at : int64 array, optional
        Where to write the last instants (``n`` entries); default a new array.

    Returns
    -------
    has_entry, value, has_previous, previous, last_at, forecast : arrays
        As ``engine._numpy_logs``: the as-of value, the previous kept value, the last instant
        and the least-squares value at due, bit for bit.
    """
    n = obj_start_kr.shape[0]
    _check("offsets", offsets, n + 1, _I)
    _check("log_at", log_at, log_at.shape[0], _I)
    _check("log_value", log_value, log_at.shape[0], _F)
    _check("due_kr", due_kr, n, _I)
    if last_at is None:
        last_at = np.empty(n, np.int64)
    _check("last_at", last_at, n, _I)
    outs = (np.empty(n, np.bool_), np.empty(n), np.empty(n, np.bool_), np.empty(n), last_at,
            np.empty(n))
    load().logs(offsets, log_at, log_value, int(as_of), obj_start_kr, due_kr, NONE_INSTANT,
                float(day), *outs)
    return outs
