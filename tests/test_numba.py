"""The numba kernels equal the numpy engine bit for bit (signed zeros included).

The reference is computed with the numpy engine's own helpers (``_raw_progress``, ``_clamp``,
``_range_status``, ``_expected``, ``_pace``, ``_worst``, ``_grade``, ``_group_sum``,
``_kr_part``), exactly as ``evaluate_frame`` combines them.  numba is an optional extra: without
it this module is skipped (the one allowed skip).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

import okrcore
from forecasts import forecast_documents, forecast_example
from okrcore import Document, PaceRule, Policy
from okrcore.batch import OrgFrame, _blocks, _numpy_krs, _numpy_rollup, engine, evaluate_frame
from okrcore.batch import _numba as kernels
from okrcore.batch import _numba_kr as kernel_bodies
from okrcore.batch.frame import NONE_INSTANT
from okrcore.evaluate import instant_us
from okrcore.policy import PaceRuleName
from strategies import documents
from test_batch import _changed_frame, corrupted

F64 = npt.NDArray[np.float64]
Array = npt.NDArray[Any]
RULES: tuple[PaceRuleName, ...] = ("ratio", "difference", "points")

# --- comparison -----------------------------------------------------------------------------


def assert_same(name: str, actual: Array, expected: Array) -> None:
    """Equal dtype, shape and values; floats bit for bit (any NaN equals any NaN)."""
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    if actual.dtype.kind == "f":
        assert np.array_equal(actual, expected, equal_nan=True), f"{name}: values differ"
        same_bits = actual.view(np.uint64) == expected.view(np.uint64)
        both_nan = np.isnan(actual) & np.isnan(expected)
        bad = np.flatnonzero(~(same_bits | both_nan))
        assert bad.shape[0] == 0, (
            f"{name}: bits differ at {bad[:5]}: {actual[bad[:5]]!r} vs {expected[bad[:5]]!r}")
    else:
        bad = np.flatnonzero(actual != expected)
        assert bad.shape[0] == 0, (
            f"{name}: differ at {bad[:5]}: {actual[bad[:5]]!r} vs {expected[bad[:5]]!r}")


# --- inputs of kr_pass ----------------------------------------------------------------------


@dataclass
class KrColumns:
    kind: npt.NDArray[np.uint8]
    start: F64
    target: F64
    explicit: F64
    log_has: Array  # bool or float64
    log_value: F64
    range_mode: npt.NDArray[np.uint8]
    red_low: F64
    yellow_low: F64
    yellow_high: F64
    red_high: F64
    obj_start_kr: npt.NDArray[np.int64]
    due_kr: npt.NDArray[np.int64]
    aspirational: npt.NDArray[np.bool_]

    @property
    def n(self) -> int:
        return int(self.start.shape[0])


OUTPUTS = (("value", np.float64), ("raw", np.float64), ("progress", np.float64),
           ("status", np.int8), ("expected", np.float64), ("pace", np.int8),
           ("colour", np.int8), ("score", np.float64), ("band", np.int8),
           ("success", np.bool_))

INTERESTING = [0.0, -0.0, 1.0, -1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8,
               0.4, 100.0, 1e308, -1e308, 5e-324, 1e-300, float("inf"), float("-inf")]
values_ = st.one_of(st.sampled_from(INTERESTING), st.integers(-20, 20).map(float),
                    st.floats(-1e3, 1e3), st.floats(width=64, allow_nan=False))
"""Values, many of them equal to one another (to land on breakpoints and targets)."""
maybe_values = st.one_of(st.just(float("nan")), values_)
limits = st.one_of(st.just(float("nan")), st.just(float("nan")), values_)
instants = st.one_of(st.just(NONE_INSTANT), st.integers(-10, 30),
                     st.sampled_from([2**62, -(2**62), 2**63 - 1, NONE_INSTANT + 1]),
                     st.integers(-(2**63) + 1, 2**63 - 1))
as_ofs = st.one_of(st.integers(-10, 30), st.sampled_from([0, 2**62, -(2**62)]),
                   st.integers(-(2**62), 2**62))


@st.composite
def kr_columns(draw: st.DrawFn, max_size: int = 40) -> KrColumns:
    n = draw(st.integers(0, max_size))

    def col(elements: st.SearchStrategy[Any], dtype: Any) -> Array:
        return np.asarray(draw(st.lists(elements, min_size=n, max_size=n)), dtype=dtype)

    log_has = col(st.booleans(), np.bool_)
    if draw(st.booleans()):
        log_has = log_has.astype(np.float64)
    return KrColumns(
        kind=col(st.integers(0, 4), np.uint8),
        start=col(values_, np.float64),
        target=col(values_, np.float64),
        explicit=col(maybe_values, np.float64),
        log_has=log_has,
        log_value=col(maybe_values, np.float64),
        range_mode=col(st.integers(0, 3), np.uint8),
        red_low=col(limits, np.float64),
        yellow_low=col(limits, np.float64),
        yellow_high=col(limits, np.float64),
        red_high=col(limits, np.float64),
        obj_start_kr=col(instants, np.int64),
        due_kr=col(instants, np.int64),
        aspirational=col(st.booleans(), np.bool_),
    )


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    rule = draw(st.sampled_from(RULES))
    if rule == "ratio":
        yellow = draw(st.sampled_from([0.75, 0.9, 0.95, 1.0, 0.0]))
        red = draw(st.sampled_from([0.5, 0.7, 0.75, 0.0])) if yellow else 0.0
        red = min(red, yellow)
    elif rule == "difference":
        yellow = draw(st.sampled_from([-0.2, -0.1, 0.0]))
        red = yellow - draw(st.sampled_from([0.0, 0.2, 0.25]))
    else:
        yellow = draw(st.sampled_from([0.0, 10.0, 25.0]))
        red = yellow + draw(st.sampled_from([0.0, 15.0, 25.0]))
    grade_yellow = draw(st.sampled_from([0.4, 0.3, 0.0]))
    return Policy(
        cap=draw(st.sampled_from([None, 1.0, 1.5])),
        pace=PaceRule(rule, yellow, red),
        aspirational_success=draw(st.sampled_from([0.65, 0.7, 1.0, 0.0])),
        strict_breakpoints=draw(st.booleans()),
        grade_yellow=grade_yellow,
        grade_green=max(grade_yellow, draw(st.sampled_from([0.7, 0.4, 1.0]))),
        tolerance=draw(st.sampled_from([1e-9, 0.0, 1e-3])),
    )


# --- the numpy engine's computation (evaluate_frame's key result section) -------------------


def numpy_reference(cols: KrColumns, as_of: int, policy: Policy) -> dict[str, Array]:
    n = cols.n
    frame = OrgFrame.from_columns(
        kr_objective=np.zeros(n, dtype=np.int64), kr_kind=cols.kind, kr_start=cols.start,
        kr_target=cols.target, kr_current=cols.explicit, kr_range_mode=cols.range_mode,
        kr_red_low=cols.red_low, kr_yellow_low=cols.yellow_low,
        kr_yellow_high=cols.yellow_high, kr_red_high=cols.red_high,
        obj_parent=np.array([-1], dtype=np.int64))
    strict = policy.strict_breakpoints
    explicit = np.where(np.isnan(frame.kr_current), frame.kr_start, frame.kr_current)
    value = np.where(cols.log_has, cols.log_value, explicit)
    with np.errstate(all="ignore"):
        raw = engine._raw_progress(frame, value, strict)
        progress = engine._clamp(raw, policy.cap)
        status = engine._range_status(frame, value, strict)
        expected = engine._expected(as_of, cols.obj_start_kr, cols.due_kr)
        pace = engine._kr_pace(cols.kind, value, progress, expected, cols.due_kr, as_of, policy)
        colour = engine._worst(pace, status)
        score, band, success = engine._grade(progress, cols.aspirational, policy)
    return {"value": value, "raw": raw, "progress": progress, "status": status,
            "expected": expected, "pace": pace, "colour": colour, "score": score,
            "band": band, "success": success}


def empty_outputs(n: int, fill: bool = False) -> dict[str, Array]:
    outs: dict[str, Array] = {}
    for name, dtype in OUTPUTS:
        out = np.empty(n, dtype=dtype)
        if fill:  # garbage that a correct kernel overwrites everywhere
            out[...] = np.array(True if dtype is np.bool_ else 7, dtype=dtype)
            if dtype is np.float64:
                out[...] = -0.0
        outs[name] = out
    return outs


def run_kernel(cols: KrColumns, as_of: int, policy: Policy,
               outs: dict[str, Array] | None = None) -> dict[str, Array]:
    outs = empty_outputs(cols.n) if outs is None else outs
    kernels.kr_pass(
        cols.kind, cols.start, cols.target, cols.explicit, cols.log_has, cols.log_value,
        cols.range_mode, cols.red_low, cols.yellow_low, cols.yellow_high, cols.red_high,
        cols.obj_start_kr, cols.due_kr, cols.aspirational, as_of,
        kernels.UNCAPPED if policy.cap is None else policy.cap, policy.strict_breakpoints,
        policy.tolerance, kernels.pace_rule_code(policy.pace), policy.pace.yellow,
        policy.pace.red, policy.grade_yellow, policy.grade_green, policy.aspirational_success,
        outs["value"], outs["raw"], outs["progress"], outs["status"], outs["expected"],
        outs["pace"], outs["colour"], outs["score"], outs["band"], outs["success"])
    return outs


def assert_all_same(actual: dict[str, Array], expected: dict[str, Array],
                    rows: Any = slice(None)) -> None:
    for name, _ in OUTPUTS:
        assert_same(name, actual[name][rows], expected[name][rows])


# --- kr_pass ----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(cols=kr_columns(), as_of=as_ofs, policy=policies())
def test_kr_pass_equals_numpy_engine(cols: KrColumns, as_of: int, policy: Policy) -> None:
    assert_all_same(run_kernel(cols, as_of, policy), numpy_reference(cols, as_of, policy))


@settings(max_examples=50)
@given(first=kr_columns(max_size=30), second=kr_columns(max_size=30), as_of=as_ofs,
       policy=policies(), other=policies())
def test_kr_pass_reuses_out_arrays(first: KrColumns, second: KrColumns, as_of: int,
                                   policy: Policy, other: Policy) -> None:
    n = max(first.n, second.n)
    # same length for both calls: pad the shorter one by repeating its first row (or a default)
    first, second = _resize(first, n), _resize(second, n)
    outs = empty_outputs(n, fill=True)
    assert_all_same(run_kernel(first, as_of, policy, outs), numpy_reference(first, as_of, policy))
    again = run_kernel(second, as_of + 1, other, outs)
    assert all(again[name] is outs[name] for name, _ in OUTPUTS)
    assert_all_same(again, numpy_reference(second, as_of + 1, other))


def _resize(cols: KrColumns, n: int) -> KrColumns:
    if cols.n == n:
        return cols
    fields: dict[str, Array] = {}
    for name, array in vars(cols).items():
        if cols.n:
            fields[name] = np.resize(array, n)
        else:
            fields[name] = np.zeros(n, dtype=array.dtype)
    return KrColumns(**fields)


@settings(max_examples=100)
@given(rule=st.sampled_from(RULES),
       thresholds=st.lists(st.floats(0, 1), min_size=2, max_size=2), due=st.integers(1, 10**6),
       data=st.data(), tol=st.sampled_from([0.0, 1e-9]),
       boundary=st.sampled_from(["worse", "better"]))
def test_kr_pass_pace_at_its_thresholds(rule: PaceRuleName, thresholds: list[float], due: int,
                                        data: st.DataObject, tol: float, boundary: str) -> None:
    """Progress exactly at (and one ulp around) each pace bound, expected and completion.

    Under both boundaries (SEMANTICS §11.4): on a bound the worse or the better colour.
    """
    a, b = sorted(thresholds)
    yellow, red = {"ratio": (b, a), "difference": (-a, -b), "points": (100 * a, 100 * b)}[rule]
    policy = Policy(pace=PaceRule(rule, yellow, red, boundary),  # type: ignore[arg-type]
                    tolerance=tol, cap=None)
    as_of = data.draw(st.integers(0, due))
    expected = engine._expected(as_of, np.zeros(1, np.int64), np.full(1, due, np.int64))
    bounds = [np.float64(1.0), expected[0]]
    for threshold in (yellow, red):
        bounds.append({"ratio": lambda e, t: t * e, "difference": lambda e, t: e + t,
                       "points": lambda e, t: e - t / 100.0}[rule](expected, threshold)[0])
    progress = np.array([np.nextafter(p, d) for p in bounds for d in (-np.inf, 0.0, np.inf)])
    progress = progress[progress > 0]
    n = progress.shape[0]
    nan = np.full(n, np.nan)
    cols = KrColumns(
        kind=np.zeros(n, np.uint8), start=np.zeros(n), target=np.ones(n), explicit=progress,
        log_has=np.zeros(n, bool), log_value=np.zeros(n), range_mode=np.zeros(n, np.uint8),
        red_low=nan, yellow_low=nan, yellow_high=nan, red_high=nan,
        obj_start_kr=np.zeros(n, np.int64), due_kr=np.full(n, due, np.int64),
        aspirational=np.zeros(n, bool))
    assert_all_same(run_kernel(cols, as_of, policy), numpy_reference(cols, as_of, policy))


def test_kr_pass_over_many_blocks() -> None:
    """Rows across several parallel blocks (and a ragged tail) with realistic values."""
    rng = np.random.default_rng(7)
    n = 3 * kernels.BLOCK_ROWS + 123

    def pick(values: list[float], size: int = n) -> F64:
        return np.asarray(rng.choice(np.asarray(values, dtype=np.float64), size=size))

    start = np.round(rng.normal(0, 50, n))
    start[rng.random(n) < 0.3] = 0.0
    target = np.where(rng.random(n) < 0.5, start + 100, start - 40)
    degenerate = rng.random(n) < 0.01
    target[degenerate] = start[degenerate]  # target == start: raw is inf or NaN
    explicit = start + (target - start) * pick([0.0, 0.25, 0.5, 0.6, 0.75, 0.8, 1.0, 1.2, -0.1])
    explicit[rng.random(n) < 0.1] = np.nan
    mode = rng.integers(0, 4, n).astype(np.uint8)
    limits = [np.where(rng.random(n) < 0.2, np.nan, target + offset)
              for offset in (-30.0, -10.0, 10.0, 30.0)]
    obj_start = np.where(rng.random(n) < 0.1, NONE_INSTANT, 0).astype(np.int64)
    due = np.where(rng.random(n) < 0.1, NONE_INSTANT, 100).astype(np.int64)
    cols = KrColumns(
        kind=rng.integers(0, 5, n).astype(np.uint8), start=start, target=target,
        explicit=explicit, log_has=rng.random(n) < 0.3, log_value=explicit[::-1].copy(),
        range_mode=mode, red_low=limits[0], yellow_low=limits[1], yellow_high=limits[2],
        red_high=limits[3], obj_start_kr=obj_start, due_kr=due,
        aspirational=rng.random(n) < 0.2)
    for policy in (Policy(), Policy.from_preset("viva", cap=None, strict_breakpoints=True),
                   Policy.from_preset("burningokr", cap=1.5)):
        for as_of in (-5, 0, 40, 80, 100, 150):
            assert_all_same(run_kernel(cols, as_of, policy), numpy_reference(cols, as_of, policy))


# --- the wiring: evaluate_frame's own results -------------------------------------------------


@settings(max_examples=60)
@given(doc=documents())
def test_kr_pass_reproduces_evaluate_frame(doc: Document) -> None:
    """From a frame's columns and its as-of check-ins, kr_pass gives evaluate_frame's results."""
    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    policy = doc.policy
    result = evaluate_frame(frame, as_of, policy)
    obj = frame.kr_objective
    obj_start_kr = frame.obj_start[obj]
    due_kr = np.where(frame.kr_due != NONE_INSTANT, frame.kr_due, frame.obj_due[obj])
    logs = _numpy_krs._numpy_logs(frame, as_of)
    cols = KrColumns(
        kind=frame.kr_kind, start=frame.kr_start, target=frame.kr_target,
        explicit=frame.kr_current, log_has=logs.has_entry,
        log_value=np.where(logs.has_entry, logs.value, 0.0), range_mode=frame.kr_range_mode,
        red_low=frame.kr_red_low, yellow_low=frame.kr_yellow_low,
        yellow_high=frame.kr_yellow_high, red_high=frame.kr_red_high,
        obj_start_kr=obj_start_kr, due_kr=due_kr,
        aspirational=frame.obj_ambition[obj] == 1)
    got = run_kernel(cols, as_of, policy)
    want: dict[str, Array] = {
            "value": result.kr_value, "raw": result.kr_raw, "progress": result.kr_progress,
            "status": result.kr_range_status, "expected": result.kr_expected,
            "pace": result.kr_pace_colour, "colour": result.kr_colour,
            "score": result.kr_grade_score, "band": result.kr_grade_band,
            "success": result.kr_grade_success}
    ok = result.kr_error == 0
    assert_all_same(got, want, ok)
    for name in ("value", "status", "expected"):  # independent of the error handling
        assert_same(name, got[name], want[name])


# --- group_sums -------------------------------------------------------------------------------


def numpy_group_sums(obj: npt.NDArray[np.int64], m: int, weight: F64, progress: F64,
                     value: F64, mask: npt.NDArray[np.bool_]) -> tuple[F64, F64, F64]:
    with np.errstate(all="ignore"):
        return (_blocks._group_sum(obj, weight, m),
                _blocks._group_sum(obj, weight * progress, m),
                _blocks._group_sum(obj, np.where(mask, value, 0.0), m))


def run_group_sums(obj: npt.NDArray[np.int64], m: int, weight: F64, progress: F64, value: F64,
                   mask: npt.NDArray[np.bool_],
                   outs: tuple[F64, F64, F64] | None = None) -> tuple[F64, F64, F64]:
    offsets = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(obj, minlength=m), out=offsets[1:])
    total, weighted, summed = outs or (np.empty(m), np.empty(m), np.empty(m))
    kernels.group_sums(obj, offsets, weight, progress, value, mask, total, weighted, summed)
    return total, weighted, summed


weights_ = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 2.0, 1e308]), st.floats(0, 10))
progresses = st.one_of(st.sampled_from([0.0, 1.0, 1.5, 0.1, 0.2, 0.7, float("inf")]),
                       st.floats(0, 2))


@settings(max_examples=200)
@given(sizes=st.lists(st.integers(0, 6), max_size=12), data=st.data())
def test_group_sums_equal_bincount(sizes: list[int], data: st.DataObject) -> None:
    m = len(sizes)
    obj = np.repeat(np.arange(m, dtype=np.int64), sizes)
    n = int(obj.shape[0])

    def col(elements: st.SearchStrategy[Any], dtype: Any) -> Array:
        return np.asarray(data.draw(st.lists(elements, min_size=n, max_size=n)), dtype=dtype)

    weight = col(weights_, np.float64)
    progress = col(progresses, np.float64)
    value = col(maybe_values, np.float64)
    mask = col(st.booleans(), np.bool_)
    got = run_group_sums(obj, m, weight, progress, value, mask)
    want = numpy_group_sums(obj, m, weight, progress, value, mask)
    for name, a, b in zip(("total", "weighted", "value"), got, want, strict=True):
        assert_same(name, a, b)
    # the same out arrays again, with other inputs: every entry is rewritten
    again = run_group_sums(obj, m, weight[::-1].copy(), progress, value, ~mask, outs=got)
    want = numpy_group_sums(obj, m, weight[::-1].copy(), progress, value, ~mask)
    for name, a, b in zip(("total", "weighted", "value"), again, want, strict=True):
        assert_same(name, a, b)


def test_group_sums_over_many_blocks() -> None:
    rng = np.random.default_rng(3)
    m = 2 * kernels.OBJ_BLOCK + 77
    sizes = rng.integers(0, 9, m)
    sizes[rng.random(m) < 0.05] = 200  # a few large objectives
    obj = np.repeat(np.arange(m, dtype=np.int64), sizes)
    n = int(obj.shape[0])
    weight = rng.choice(np.array([0.0, 0.5, 1.0, 2.0]), n)
    progress = rng.random(n) * 1.3
    value = rng.normal(0, 1e3, n)
    mask = rng.random(n) < 0.4
    got = run_group_sums(obj, m, weight, progress, value, mask)
    want = numpy_group_sums(obj, m, weight, progress, value, mask)
    for name, a, b in zip(("total", "weighted", "value"), got, want, strict=True):
        assert_same(name, a, b)


@settings(max_examples=60)
@given(doc=documents())
def test_group_sums_reproduce_kr_part(doc: Document) -> None:
    """The rollup's key result part (``_numpy_rollup._kr_part``) from group_sums, on a structure."""
    frame = OrgFrame.from_document(doc)
    result = evaluate_frame(frame, instant_us(doc.as_of), doc.policy)
    kr_ok = result.kr_error == 0
    structure = _numpy_rollup._structure(frame, kr_ok)
    obj = frame.kr_objective
    m = frame.n_obj
    value, progress = result.kr_value, result.kr_progress
    mask = structure.contributes & (structure.mode[obj] == 2)
    weighted, value_sum, _, _ = _numpy_rollup._kr_part(frame, structure, value, progress,
                                                doc.policy.cap)
    total = structure.weight_total
    assert total is not None
    got = run_group_sums(obj, m, frame.kr_weight, progress, value, mask)
    for name, a, b in zip(("total", "weighted", "value"), got, (total, weighted, value_sum),
                          strict=True):
        assert_same(name, a, b)


# --- interface ----------------------------------------------------------------------------------


def test_available_and_constants() -> None:
    assert kernels.available()
    assert kernels.load() is kernels.load()
    assert kernels.NONE_INSTANT == NONE_INSTANT == np.iinfo(np.int64).min
    assert kernels.UNCAPPED == np.inf  # noqa: SIM300


def test_bad_columns_are_rejected() -> None:
    nan = np.full(3, np.nan)
    cols = KrColumns(
        kind=np.zeros(3, np.uint8), start=np.zeros(3), target=np.ones(3), explicit=nan,
        log_has=np.zeros(3, bool), log_value=np.zeros(3), range_mode=np.zeros(3, np.uint8),
        red_low=nan, yellow_low=nan, yellow_high=nan, red_high=nan,
        obj_start_kr=np.zeros(3, np.int64), due_kr=np.ones(3, np.int64),
        aspirational=np.zeros(3, bool))
    run_kernel(cols, 0, Policy())
    with pytest.raises(TypeError, match="start"):
        run_kernel(KrColumns(**{**vars(cols), "start": np.zeros(3, np.float32)}), 0, Policy())
    with pytest.raises(ValueError, match="target"):
        run_kernel(KrColumns(**{**vars(cols), "target": np.zeros(4)}), 0, Policy())
    with pytest.raises(ValueError, match="contiguous"):
        run_kernel(KrColumns(**{**vars(cols), "red_low": np.zeros(6)[::2]}), 0, Policy())
    with pytest.raises(TypeError, match="out_status"):
        outs = empty_outputs(3)
        outs["status"] = np.zeros(3, np.int64)
        run_kernel(cols, 0, Policy(), outs)
    obj = np.zeros(3, np.int64)
    with pytest.raises(ValueError, match="offsets"):
        kernels.group_sums(obj, np.array([0, 2], np.int64), np.ones(3), np.ones(3), np.ones(3),
                           np.ones(3, bool), np.empty(1), np.empty(1), np.empty(1))


def test_numba_is_imported_only_by_load() -> None:
    code = ("import sys, okrcore.batch._numba as k\n"
            "assert 'numba' not in sys.modules\n"
            "k.load()\n"
            "assert 'numba' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_numba_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "_kernels", None)
    monkeypatch.setitem(sys.modules, "numba", None)
    with pytest.raises(ImportError, match=r"pip install okrcore\[fast\]"):
        kernels.load()
    assert not kernels.available()


# --- the whole engine with the numba kernel equals the numpy kernel ------------------------------


def _same_columns(a: object, b: object) -> None:
    import attrs as _attrs

    from okrcore.batch import engine as _engine

    for field in _attrs.fields(_engine.BatchResult):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), field.name


def _numba_equals_numpy_and_scalar(doc: okrcore.Document) -> None:
    """Both kernels give the same columns, fresh and into ``out=``; numba's document is scalar's."""
    from okrcore.batch import to_evaluation

    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    numpy_result = evaluate_frame(frame, as_of, doc.policy)
    numba_result = evaluate_frame(frame, as_of, doc.policy, kernel="numba")
    _same_columns(numpy_result, numba_result)
    assert (to_evaluation(frame, numba_result).to_json()
            == okrcore.evaluate(doc).to_json())
    # out= buffers are reused and give the same result again (the forecast rollup then reads
    # the buffers' forecast columns)
    again = evaluate_frame(frame, as_of, doc.policy, kernel="numba", out=numba_result)
    assert again.kr_progress is numba_result.kr_progress
    _same_columns(numpy_result, again)


@settings(max_examples=80, deadline=None)
@given(doc=documents())
def test_engine_with_numba_kernel_equals_numpy_kernel(doc: okrcore.Document) -> None:
    _numba_equals_numpy_and_scalar(doc)


@settings(max_examples=80, deadline=None)
@given(doc=forecast_documents())
def test_numba_kernel_equals_numpy_kernel_on_forecast_documents(doc: okrcore.Document) -> None:
    # (documents() almost never makes an objective's forecast differ from its progress now)
    _numba_equals_numpy_and_scalar(doc)


def test_numba_kernel_forecast_example() -> None:
    doc = forecast_example()
    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    numba_result = evaluate_frame(frame, as_of, doc.policy, kernel="numba")
    _same_columns(evaluate_frame(frame, as_of, doc.policy), numba_result)
    assert frame.obj_ids is not None
    forecast = dict(zip(frame.obj_ids, numba_result.obj_forecast_progress.tolist(),
                        strict=True))
    assert forecast["p"] == pytest.approx((1 + 0.5 + 1 + 0.929) / 4, rel=1e-12)
    assert np.all(numba_result.obj_forecast_progress > numba_result.obj_progress)


@settings(max_examples=80, deadline=None)
@given(data=corrupted())
def test_numba_kernel_on_documents_with_errors(data: dict[str, object]) -> None:
    from okrcore.batch import OrgFrame, evaluate_frame
    from okrcore.evaluate import instant_us

    doc = okrcore.Document.from_dict(json.loads(json.dumps(data)))
    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    _same_columns(evaluate_frame(frame, as_of, doc.policy),
                  evaluate_frame(frame, as_of, doc.policy, kernel="numba"))


def test_unknown_kernel_is_refused() -> None:
    from okrcore.batch import OrgFrame, evaluate_frame, kernels_available

    assert kernels_available() == ("numpy", "numba")
    frame = OrgFrame.from_columns(kr_objective=[0], kr_kind=[0], kr_target=[1.0], obj_parent=[-1])
    with pytest.raises(ValueError, match="kernel must be one of numpy, numba"):
        evaluate_frame(frame, 0, kernel="cuda")


@settings(max_examples=40, deadline=None)
@given(doc=documents(), data=st.data())
def test_incremental_recompute_with_numba_equals_full_numpy(doc: Document,
                                                            data: st.DataObject) -> None:
    from okrcore.batch.incremental import recompute

    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    if frame.n_kr == 0:
        return
    before = evaluate_frame(frame, as_of, doc.policy, kernel="numba")
    rows = data.draw(st.lists(st.integers(0, frame.n_kr - 1), min_size=1, max_size=3))
    changed = _changed_frame(frame, rows, data.draw(st.sampled_from([0.0, 0.9, 1.7])))
    _same_columns(evaluate_frame(changed, as_of, doc.policy),
                  recompute(changed, before, rows, kernel="numba"))


_VALUES = [0.0, 1.0, -1.0, 2.5, 3.0, 10.0, -0.0, np.nan, np.inf, -np.inf]
_DAY = 86_400_000_000
_T0 = 1_767_225_600_000_000  # 2026-01-01 [µs]
_INSTANTS = [NONE_INSTANT, _T0, _T0 + 30 * _DAY, _T0 + 90 * _DAY]


@st.composite
def raw_columns(draw: st.DrawFn) -> dict[str, Any]:
    """Plain columns with bad values anywhere (not validated on the way in)."""
    m = draw(st.integers(1, 6))
    n = draw(st.integers(0, 16))

    def floats(k: int, values: list[float] = _VALUES) -> Array:
        return np.array(draw(st.lists(st.sampled_from(values), min_size=k, max_size=k)),
                        dtype=np.float64)

    def ints(k: int, low: int, high: int) -> list[int]:
        return draw(st.lists(st.integers(low, high), min_size=k, max_size=k))

    def instants(k: int) -> Array:
        return np.array(draw(st.lists(st.sampled_from(_INSTANTS), min_size=k, max_size=k)),
                        dtype=np.int64)

    n_log = draw(st.integers(0, 2 * n)) if n else 0
    owners = ints(n, 0, 2)
    return {
        "kr_objective": sorted(ints(n, 0, m - 1)), "kr_kind": ints(n, 0, 5),
        "kr_start": floats(n), "kr_target": floats(n), "kr_current": floats(n),
        "kr_weight": floats(n, [0.0, 1.0, 2.0, -1.0, np.nan]), "kr_unit": ints(n, -1, 1),
        "kr_range_mode": ints(n, 0, 4), "kr_red_low": floats(n), "kr_yellow_low": floats(n),
        "kr_yellow_high": floats(n), "kr_red_high": floats(n), "kr_due": instants(n),
        "log_kr": ints(n_log, 0, n - 1) if n else [],
        "log_at": [_T0 + d * _DAY for d in ints(n_log, -5, 60)],
        "log_value": floats(n_log), "kr_owner_offsets": np.concatenate(
            [[0], np.cumsum([1 if k else 0 for k in owners])]).astype(np.int64),
        "kr_owner_ids": [k for k in owners if k],
        "obj_parent": ints(m, -2, m - 1), "obj_weight": floats(m, [0.0, 1.0, 2.0, -1.0]),
        "obj_start": instants(m), "obj_due": instants(m), "obj_mode": ints(m, 0, 3),
        "obj_ambition": ints(m, 0, 2), "obj_status": ints(m, -2, 4),
        "obj_include_children": draw(st.lists(st.booleans(), min_size=m, max_size=m)),
        "obj_owner": ints(m, -1, 2), "obj_ps_unit": ints(m, -1, 1),
        "obj_ps_target": floats(m), "obj_ps_auto": draw(st.lists(st.booleans(), min_size=m,
                                                                 max_size=m)),
        "obj_ps_start": floats(m),
    }


@settings(max_examples=150, deadline=None)
@given(columns=raw_columns())
def test_numba_kernel_on_bad_plain_columns(columns: dict[str, Any]) -> None:
    frame = OrgFrame.from_columns(**columns)
    as_of = _T0 + 45 * _DAY
    for policy in (Policy(), Policy(cap=None, strict_breakpoints=True)):
        with np.errstate(all="ignore"):
            expected = evaluate_frame(frame, as_of, policy)
        _same_columns(expected, evaluate_frame(frame, as_of, policy, kernel="numba"))


def test_threads_limit_the_numba_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """``evaluate_frame(kernel="numba", threads=k)`` runs its kernels on k of numba's threads
    and restores numba's count afterwards; the result is the same bits."""
    import numba

    doc = okrcore.loads(json.dumps({
        "okrcore": 1, "as_of": "2026-02-15T00:00:00Z",
        "objectives": [{"id": "a", "key_results": [
            {"id": "k1", "kind": "metric", "start": 0, "target": 10, "current": 4},
            {"id": "k2", "kind": "metric", "start": 0, "target": 4, "current": 3}]}]}))
    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    before = numba.get_num_threads()
    seen: list[int] = []
    loaded = kernels.load()
    real = loaded.kr_pass

    def spy(*args: Any) -> Any:
        seen.append(numba.get_num_threads())
        return real(*args)

    monkeypatch.setattr(kernels, "_kernels", loaded._replace(kr_pass=spy))
    one = evaluate_frame(frame, as_of, kernel="numba", threads=1)
    many = evaluate_frame(frame, as_of, kernel="numba", threads=10_000)  # capped
    default = evaluate_frame(frame, as_of, kernel="numba")
    config: Any = numba.config
    assert seen == [1, int(config.NUMBA_NUM_THREADS), before]
    assert numba.get_num_threads() == before
    for result in (one, many, default):
        assert result.obj_progress.tolist() == [(0.4 + 0.75) / 2]
    with pytest.raises(ValueError, match=r"threads must be a positive integer; got 0"):
        evaluate_frame(frame, as_of, kernel="numba", threads=0)
    assert numba.get_num_threads() == before


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.integers(0, 12), max_size=60).map(sorted), m=st.integers(0, 14),
       block=st.sampled_from([1, 3, 1 << 14]), shuffle=st.booleans(), data=st.data())
def test_csr_of_sorted_equals_searchsorted(keys: list[int], m: int, block: int, shuffle: bool,
                                           data: st.DataObject) -> None:
    """The parallel CSR offsets: each key's first row, or False when a key is out of range or
    the keys are not sorted (blocks of 1 and 3 rows put block edges inside runs of a key)."""
    if shuffle:
        keys = data.draw(st.permutations(keys))
    array = np.array(keys, dtype=np.int64)
    offsets = np.full(m + 1, -7, dtype=np.int64)
    compiled = kernels.load().csr_of_sorted.py_func
    with pytest.MonkeyPatch.context() as patch:
        # the pure-Python function over small blocks (its jitted twin: the block size is
        # compiled in); the jitted one over the default blocks below
        patch.setattr(kernel_bodies, "BLOCK_ROWS", block)
        patch.setattr(kernel_bodies, "_prange", range)
        python_offsets = offsets.copy()
        python_ok = compiled(array, python_offsets)
    ok = kernels.load().csr_of_sorted(array, offsets)
    valid = keys == sorted(keys) and all(0 <= k < m for k in keys)
    assert ok == valid == python_ok
    if valid:
        expected = np.searchsorted(array, np.arange(m + 1), side="left")
        assert offsets.tolist() == python_offsets.tolist() == expected.tolist()
