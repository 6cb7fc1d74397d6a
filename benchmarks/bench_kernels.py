"""Micro benchmark of the fused numba kernels against the numpy engine's equivalent steps.

On one synthetic organisation (``benchmarks/synthetic.py``) of ``--n`` key results, it times:

* numpy, key results: what ``evaluate_frame`` does from the as-of values to the grade (value,
  ``_raw_progress``, ``_clamp``, ``_range_status``, ``_expected``, ``_pace``, ``_worst``,
  ``_grade``), with the engine's own helpers;
* numpy, group sums: the three ``np.bincount`` sums of ``_kr_part`` (Σw, Σwp, Σ value);
* numba: :func:`okrcore.batch._numba.kr_pass` and :func:`~okrcore.batch._numba.group_sums`,
  writing into freshly allocated output arrays (as the engine does) and into reused ones;
* a STREAM-style triad ``a = b + s * c`` (memory bandwidth, for scale).

Preparing the inputs (the frame, the as-of check-ins, the rollup structure) is not timed.
Times are wall times (``time.perf_counter``), the median of ``--repeat`` runs after one
warm-up run (which for numba includes compiling or loading the on-disk cache, reported
separately).  "GB/s" is the bytes a step must move at the least (its input and output
columns, each read or written once) divided by its time: numpy moves much more (its
temporaries), so the figure measures how close each path gets to a single sweep.  The results
of both paths are checked to be equal bit for bit.

Run:  python benchmarks/bench_kernels.py [--n 10000000] [--repeat 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from synthetic import AS_OF_US, synthetic_columns

from okrcore import Policy
from okrcore.batch import OrgFrame, _blocks, _numpy_krs, _numpy_rollup, engine
from okrcore.batch import _numba as kernels
from okrcore.batch.frame import NONE_INSTANT

Array = npt.NDArray[Any]
F64 = npt.NDArray[np.float64]

KR_OUTPUTS = (("value", np.float64), ("raw", np.float64), ("progress", np.float64),
              ("status", np.int8), ("expected", np.float64), ("pace", np.int8),
              ("colour", np.int8), ("score", np.float64), ("band", np.int8),
              ("success", np.bool_))
SUM_OUTPUTS = ("total", "weighted", "value")


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first call, median of ``repeat`` later calls) [s]."""
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def same_bits(a: Array, b: Array) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return bool(np.all((a.view(np.uint64) == b.view(np.uint64)) | (np.isnan(a) & np.isnan(b))))
    return bool(np.array_equal(a, b))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=10_000_000, help="key results")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    repeat: int = args.repeat

    # --- inputs (not timed) -------------------------------------------------------------------
    start = time.perf_counter()
    frame = OrgFrame.from_columns(**synthetic_columns(args.n, args.seed))
    as_of = AS_OF_US
    policy = Policy()
    obj = frame.kr_objective
    obj_start_kr = frame.obj_start[obj]
    due_kr = np.where(frame.kr_due != NONE_INSTANT, frame.kr_due, frame.obj_due[obj])
    logs = _numpy_krs._numpy_logs(frame, as_of)
    log_value = np.where(logs.has_entry, logs.value, 0.0)
    aspirational = frame.obj_ambition[obj] == 1
    structure = _numpy_rollup._structure(frame, np.ones(frame.n_kr, dtype=bool))
    sum_mask = structure.contributes & (structure.mode[obj] == 2)
    m = frame.n_obj
    offsets = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(obj, minlength=m), out=offsets[1:])
    print(f"{args.n:,} key results, {m:,} objectives; inputs prepared in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    kr_inputs: list[Array] = [
        frame.kr_kind, frame.kr_start, frame.kr_target, frame.kr_current, logs.has_entry,
        log_value, frame.kr_range_mode, frame.kr_red_low, frame.kr_yellow_low,
        frame.kr_yellow_high, frame.kr_red_high, obj_start_kr, due_kr, aspirational]
    cap = kernels.UNCAPPED if policy.cap is None else policy.cap
    scalars = (as_of, cap, policy.strict_breakpoints, policy.tolerance,
               kernels.pace_rule_code(policy.pace), policy.pace.yellow, policy.pace.red,
               policy.grade_yellow, policy.grade_green, policy.aspirational_success)

    # --- the two paths --------------------------------------------------------------------------
    numpy_out: dict[str, Array] = {}

    def numpy_kr() -> None:
        strict = policy.strict_breakpoints
        explicit = np.where(np.isnan(frame.kr_current), frame.kr_start, frame.kr_current)
        value = np.where(logs.has_entry, logs.value, explicit)
        with np.errstate(all="ignore"):
            raw = engine._raw_progress(frame, value, strict)
        progress = engine._clamp(raw, policy.cap)
        status = engine._range_status(frame, value, strict)
        expected = engine._expected(as_of, obj_start_kr, due_kr)
        pace = engine._kr_pace(frame.kr_kind, value, progress, expected, due_kr, as_of, policy)
        colour = engine._worst(pace, status)
        score, band, success = engine._grade(progress, aspirational, policy)
        numpy_out.update(value=value, raw=raw, progress=progress, status=status,
                         expected=expected, pace=pace, colour=colour, score=score, band=band,
                         success=success)

    def numpy_sums() -> None:
        w = frame.kr_weight
        progress, value = numpy_out["progress"], numpy_out["value"]
        numpy_out.update(
            total=_blocks._group_sum(obj, w, m),
            weighted=_blocks._group_sum(obj, w * progress, m),
            value_sum=_blocks._group_sum(obj, np.where(sum_mask, value, 0.0), m))

    numba_out: dict[str, Array] = {}

    def kr_outputs() -> list[Array]:
        return [np.empty(args.n, dtype=dtype) for _, dtype in KR_OUTPUTS]

    def sum_outputs() -> list[Array]:
        return [np.empty(m) for _ in SUM_OUTPUTS]

    reused_kr, reused_sums = kr_outputs(), sum_outputs()

    def numba_kr(outs: list[Array] | None = None) -> None:
        outs = kr_outputs() if outs is None else outs
        kr_pass: Any = kernels.kr_pass  # positional columns, scalars, outputs
        kr_pass(*kr_inputs, *scalars, *outs)
        numba_out.update(zip((name for name, _ in KR_OUTPUTS), outs, strict=True))

    def numba_sums(outs: list[Array] | None = None) -> None:
        outs = sum_outputs() if outs is None else outs
        kernels.group_sums(obj, offsets, frame.kr_weight, numba_out["progress"],
                           numba_out["value"], sum_mask, *outs)
        numba_out.update(total=outs[0], weighted=outs[1], value_sum=outs[2])

    # --- bytes each step must move ---------------------------------------------------------------
    kr_bytes = (sum(int(a.nbytes) for a in kr_inputs)
                + sum(args.n * np.dtype(dtype).itemsize for _, dtype in KR_OUTPUTS))
    sum_bytes = (int(offsets.nbytes) + 3 * 8 * args.n + int(sum_mask.nbytes) + 3 * 8 * m)

    # --- STREAM-style triad (bandwidth reference) -----------------------------------------------
    b_arr, c_arr, a_arr = np.ones(args.n), np.ones(args.n), np.empty(args.n)

    def triad() -> None:
        np.multiply(c_arr, 3.0, out=a_arr)
        np.add(a_arr, b_arr, out=a_arr)

    rows: list[dict[str, Any]] = []

    def record(name: str, run: Callable[[], object], nbytes: int) -> float:
        first, median = timed(run, repeat)
        rows.append({"step": name, "ms": 1e3 * median, "first_ms": 1e3 * first,
                     "bytes": nbytes, "gb_per_s": nbytes / median / 1e9})
        return median

    t_np_kr = record("numpy: key results", numpy_kr, kr_bytes)
    t_np_sums = record("numpy: group sums (3 bincounts)", numpy_sums, sum_bytes)
    t_nb_kr = record("numba: kr_pass", numba_kr, kr_bytes)
    t_nb_sums = record("numba: group_sums", numba_sums, sum_bytes)
    record("numba: kr_pass (reused out)", lambda: numba_kr(reused_kr), kr_bytes)
    record("numba: group_sums (reused out)", lambda: numba_sums(reused_sums), sum_bytes)
    record("triad a = b + 3c (numpy, 2 passes)", triad, 5 * 8 * args.n)

    numpy_kr()
    numpy_sums()
    numba_kr()
    numba_sums()
    equal = {name: same_bits(numba_out[name], numpy_out[name]) for name in numba_out}

    import numba

    numba_api: Any = numba
    info = {
        "n_kr": args.n, "n_obj": m, "repeat": repeat, "python": platform.python_version(),
        "numpy": np.__version__, "numba": numba.__version__, "cpus": os.cpu_count(),
        "numba_threads": numba.get_num_threads(), "threading_layer": numba_api.threading_layer(),
        "machine": platform.machine(), "rows": rows, "bit_identical": equal,
        "speedup_kr": t_np_kr / t_nb_kr, "speedup_sums": t_np_sums / t_nb_sums,
        "speedup_total": (t_np_kr + t_np_sums) / (t_nb_kr + t_nb_sums),
    }
    print(f"\n{args.n:,} KRs, {m:,} objectives; numba {numba.__version__} with "
          f"{info['numba_threads']} threads ({info['threading_layer']}); "
          f"median of {repeat}\n")
    print(f"{'step':<38} {'ms':>9} {'first ms':>10} {'MB moved':>9} {'GB/s':>6}")
    for row in rows:
        print(f"{row['step']:<38} {row['ms']:>9.1f} {row['first_ms']:>10.1f} "
              f"{row['bytes'] / 1e6:>9.0f} {row['gb_per_s']:>6.2f}")
    print(f"\nspeed-up: key results {info['speedup_kr']:.1f}x, group sums "
          f"{info['speedup_sums']:.1f}x, both {info['speedup_total']:.1f}x")
    print("bit-identical: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in equal.items()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(info, handle, indent=2)
    return 0 if all(equal.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
