"""Benchmark of the vectorised batch engine against the scalar path, Polars, DuckDB and numpy.

One run measures, on the same synthetic organisations (``benchmarks/synthetic.py``):

* okrcore batch: ``evaluate_frame`` on an ``OrgFrame`` (numpy kernel, and the numba kernel
  when ``kernels_available()`` lists it);
* the numba kernel's KR + rollup pass alone (``kr_pass`` and ``rollup_fused`` of the
  evaluation "now", replayed on the engine's own arrays with reused output buffers), the
  figure the bandwidth target is judged on;
* the scalar path: ``okrcore.evaluate`` on the interchange document of ``--scalar-size`` KRs,
  extrapolated linearly to each size;
* baselines of a small part of the work (KR progress of a plain metric, the weighted mean per
  objective, the sums of current and target per objective and unit) in Polars (lazy), DuckDB
  (SQL over Arrow) and careful numpy;
* a STREAM-style triad (memory bandwidth), from which a lower bound on the time of each
  engine is derived (bytes it must move / bandwidth);
* the peak memory of each engine beyond its input columns.

The driver generates each organisation once and writes its columns to ``.npy`` files; every
engine then runs in a fresh interpreter of its own (``--child``) that loads them, so that
neither the timings nor the memory figures of one engine are disturbed by another's heap.
Times are wall times (``time.perf_counter``), the median of ``--repeat`` runs after one
warm-up run at full size (the run whose peak memory is measured), each started with the
previous run's result released; building the inputs
(``OrgFrame.from_columns``, the DataFrame, the Arrow registration, loading the document) is
not timed.  See ``benchmarks/README.md``.

Run:  python benchmarks/bench_batch.py [--sizes 1000000 10000000] [--repeat 3] [--json out.json]
      [--malloc default|keep]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from synthetic import AS_OF_US, N_UNITS, synthetic_columns, synthetic_document

import okrcore

Columns = dict[str, npt.NDArray[Any]]
Run = Callable[[], object]
FloatArray = npt.NDArray[np.float64]

# Engine names, in table order.
OKRCORE: Final = "okrcore batch (numpy)"
OKRCORE_NUMBA: Final = "okrcore batch (numba)"
NUMBA_PASS: Final = "okrcore numba KR+rollup pass"
REUSED: Final = {OKRCORE: "okrcore numpy, out= reused", OKRCORE_NUMBA: "okrcore numba, out= reused"}
SCALAR: Final = "okrcore scalar (extrapolated)"
POLARS: Final = "polars (lazy)"
DUCKDB: Final = "duckdb (SQL)"
NUMPY: Final = "numpy (careful)"
CHILD_NAMES: Final = {OKRCORE: "okrcore", OKRCORE_NUMBA: "okrcore-numba", POLARS: "polars",
                      DUCKDB: "duckdb", NUMPY: "numpy"}
BASELINES: Final = (POLARS, DUCKDB, NUMPY)

TRIAD_BYTES_PER_ELEMENT: Final = 24  # read b and c, write a (STREAM convention)
TRIAD_SCALAR: Final = 3.0
TRIAD_BLOCK: Final = 1 << 15  # 32 Ki elements = 256 KiB per array: stays in L2
# Minimal outputs the engine must write (the result fields of SEMANTICS §9), in bytes:
KR_OUTPUT_BYTES: Final = 8 + 8 + 8 + 1  # progress, raw_progress, current (f64), colour (u8)
OBJ_OUTPUT_BYTES: Final = 8 + 8 + 8 + 3  # progress, raw_progress, expected, 2 colours + mode
PERSON_OUTPUT_BYTES: Final = 8  # progress
# The baselines read start, target, current, weight (f64), objective (i64), unit (i32) ...
BASELINE_INPUT_BYTES: Final = 8 * 4 + 8 + 4
# ... and write progress per KR, a mean per objective, two sums per (objective, unit) group.
BASELINE_KR_OUTPUT_BYTES: Final = 8
MIB: Final = 1 << 20
# --malloc keep: glibc's malloc keeps what is freed (no mmap per large array, no trimming), so
# that memory freed by one step is reused by the next instead of being returned and faulted in
# again; set for every engine's process alike (Polars and DuckDB bring their own allocators).
KEEP_FREED_MEMORY: Final = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(10**11)}


# --- helpers ----------------------------------------------------------------------------------


def timed(run: Run, repeat: int, warmup: int = 1) -> tuple[float, list[float], object]:
    """Median wall time of ``repeat`` runs after ``warmup`` runs; also the last result.

    Every run starts with the previous run's result released, as the first run does (else
    each run but the first would hold two results at its peak).
    """
    result: object = None
    for _ in range(warmup):
        result = None
        result = run()
    times = []
    for _ in range(repeat):
        result = None
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), times, result


def current_rss() -> int:
    """Resident set size of this process now [bytes]."""
    with open("/proc/self/statm") as handle:
        resident_pages = int(handle.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """Peak resident set size of this process's memory [bytes].

    ``VmHWM`` of ``/proc/self/status``, which :func:`reset_peak_rss` resets.  ``ru_maxrss`` is
    the same figure except in a child started by fork + exec: there it also carries the peak of
    the parent's memory image it replaced, which would charge the benchmark driver's own peak
    (the triad arrays, the 10^7 columns) to the engine measured in the child.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux ``clear_refs`` 5); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def version_of(package: str) -> str | None:
    """Installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def count_threads(engine: str) -> int | None:
    """How many threads an engine uses (None when unknown or not installed)."""
    try:
        if engine == POLARS:
            import polars as pl

            return pl.thread_pool_size()
        if engine == DUCKDB:
            import duckdb

            row = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()
            return None if row is None else int(row[0])
        if engine == OKRCORE_NUMBA:
            import numba

            return int(numba.get_num_threads())
    except ImportError:
        return None
    if engine in (NUMPY, SCALAR):
        return 1
    return None


# --- okrcore batch ----------------------------------------------------------------------------


def okrcore_kernels() -> tuple[str, ...] | None:
    """The kernels of okrcore.batch, or None when the batch engine is not available.

    ``kernels_available()`` is optional: an engine without it has the numpy kernel only.
    """
    try:
        import okrcore.batch
    except ImportError:
        return None
    except Exception as exc:  # an engine mid-edit must not stop the baselines
        print(f"okrcore batch: import failed: {exc!r}", file=sys.stderr)
        return None
    listing: Callable[[], Sequence[str]] | None = getattr(
        okrcore.batch, "kernels_available", None)
    return ("numpy",) if listing is None else tuple(str(k) for k in listing())


def prepare_okrcore(cols: Columns, kernel: str | None = None) -> Run:
    """Build the OrgFrame (not timed); the returned callable evaluates it.

    ``evaluate_frame`` is called through ``Callable[..., object]`` on purpose: the engine's
    signature is still moving, and the harness must type-check before and after ``kernel=``
    lands.
    """
    from okrcore.batch import OrgFrame, evaluate_frame

    frame = OrgFrame.from_columns(**cols)
    policy = okrcore.Policy()
    evaluate: Callable[..., object] = evaluate_frame
    options: dict[str, Any] = {"as_of": AS_OF_US, "policy": policy}
    if kernel is not None:
        options["kernel"] = kernel

    def run() -> object:
        return evaluate(frame, **options)

    return run


def result_arrays(result: object) -> dict[str, npt.NDArray[Any]]:
    """The numpy arrays an okrcore batch result holds, by attribute (or key) name."""
    if isinstance(result, dict):
        items = list(result.items())
    else:
        items = [(name, getattr(result, name, None)) for name in dir(result)
                 if not name.startswith("_")]
    return {str(name): value for name, value in items if isinstance(value, np.ndarray)}


def kr_progress_of(result: object) -> FloatArray | None:
    """The per-KR progress array of an okrcore batch result, if it exposes one we recognise."""
    for name in ("kr_progress", "progress"):
        found = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if isinstance(found, np.ndarray):
            return found.astype(np.float64, copy=False)
    return None


# --- baselines --------------------------------------------------------------------------------


def prepare_numpy(cols: Columns) -> Run:
    """Careful numpy: ufuncs with ``out=``, ``np.bincount`` for the group sums."""
    start, target, current = cols["kr_start"], cols["kr_target"], cols["kr_current"]
    weight, objective, unit = cols["kr_weight"], cols["kr_objective"], cols["kr_unit"]
    n, n_obj = start.size, cols["obj_parent"].size
    slots = N_UNITS + 1  # unit -1 (none) .. N_UNITS - 1

    def run() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        value = np.empty(n)
        progress = np.empty(n)
        scratch = np.empty(n)
        missing = np.isnan(current)
        np.copyto(value, current)
        np.copyto(value, start, where=missing)
        np.subtract(value, start, out=progress)
        np.subtract(target, start, out=scratch)
        np.divide(progress, scratch, out=progress)
        np.clip(progress, 0.0, 1.0, out=progress)
        np.multiply(weight, progress, out=scratch)
        weights = np.bincount(objective, weights=weight, minlength=n_obj)
        weighted = np.bincount(objective, weights=scratch, minlength=n_obj)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.divide(weighted, weights, out=weighted)
        mean[weights == 0] = np.nan
        key = objective * slots
        key += unit
        key += 1
        value_sum = np.bincount(key, weights=value, minlength=n_obj * slots)
        target_sum = np.bincount(key, weights=target, minlength=n_obj * slots)
        return (progress, np.asarray(mean, dtype=np.float64),
                np.asarray(value_sum, dtype=np.float64).reshape(n_obj, slots),
                np.asarray(target_sum, dtype=np.float64).reshape(n_obj, slots))

    return run


def _baseline_frame(cols: Columns) -> dict[str, npt.NDArray[Any]]:
    return {"objective": cols["kr_objective"], "unit": cols["kr_unit"],
            "start": cols["kr_start"], "target": cols["kr_target"],
            "current": cols["kr_current"], "weight": cols["kr_weight"]}


def prepare_polars(cols: Columns) -> Run:
    """Idiomatic Polars lazy expressions on a DataFrame built from the columns (not timed)."""
    import polars as pl

    frame = pl.DataFrame(_baseline_frame(cols))

    def run() -> list[pl.DataFrame]:
        start = pl.col("start")
        value = pl.col("current").fill_nan(start)
        progress = ((value - start) / (pl.col("target") - start)).clip(0.0, 1.0)
        krs = frame.lazy().with_columns(value=value, progress=progress)
        per_kr = krs.select("progress")
        per_objective = krs.group_by("objective").agg(
            mean=(pl.col("weight") * pl.col("progress")).sum() / pl.col("weight").sum())
        per_unit = krs.group_by("objective", "unit").agg(
            pl.col("value").sum(), pl.col("target").sum())
        return pl.collect_all([per_kr, per_objective, per_unit])

    return run


DUCKDB_VALUES: Final = """
    SELECT objective, unit, start, target, weight,
           CASE WHEN isnan(current) THEN start ELSE current END AS value
    FROM kr"""
DUCKDB_PROGRESS: Final = "greatest(0.0, least(1.0, (value - start) / (target - start)))"
DUCKDB_QUERIES: Final = (
    f"SELECT {DUCKDB_PROGRESS} AS progress FROM ({DUCKDB_VALUES})",
    f"""SELECT objective, sum(weight * progress) / sum(weight) AS mean
        FROM (SELECT objective, weight, {DUCKDB_PROGRESS} AS progress FROM ({DUCKDB_VALUES}))
        GROUP BY objective""",
    f"""SELECT objective, unit, sum(value) AS value, sum(target) AS target
        FROM ({DUCKDB_VALUES}) GROUP BY objective, unit""",
)


def prepare_duckdb(cols: Columns) -> Run:
    """The same in SQL over the columns registered as an Arrow table (zero copy, not timed)."""
    import duckdb
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    connection = duckdb.connect()
    connection.register("kr", pa.table(_baseline_frame(cols)))

    def run() -> list[Any]:
        return [connection.sql(query).to_arrow_table() for query in DUCKDB_QUERIES]

    return run


PREPARE: Final[dict[str, Callable[[Columns], Run]]] = {
    OKRCORE: prepare_okrcore,
    OKRCORE_NUMBA: lambda cols: prepare_okrcore(cols, kernel="numba"),
    POLARS: prepare_polars,
    DUCKDB: prepare_duckdb,
    NUMPY: prepare_numpy,
}


def canonical(engine: str, result: Any, n_obj: int
              ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """A baseline's result as dense numpy arrays (progress, mean, value sums, target sums)."""
    if engine == NUMPY:
        progress, mean, value_sum, target_sum = result
        return progress, mean, value_sum, target_sum
    tables: list[dict[str, npt.NDArray[Any]]]
    if engine == POLARS:
        tables = [{name: frame[name].to_numpy() for name in frame.columns} for frame in result]
    else:
        tables = [{name: table.column(name).to_numpy() for name in table.column_names}
                  for table in result]
    slots = N_UNITS + 1
    mean = np.full(n_obj, np.nan)
    mean[tables[1]["objective"]] = tables[1]["mean"]
    value_sum = np.zeros((n_obj, slots))
    target_sum = np.zeros((n_obj, slots))
    where = (tables[2]["objective"], tables[2]["unit"] + 1)
    value_sum[where] = tables[2]["value"]
    target_sum[where] = tables[2]["target"]
    return tables[0]["progress"], mean, value_sum, target_sum


def check_result(engine: str, result: object, cols: Columns) -> dict[str, Any]:
    """Facts about a result, checked against the numpy baseline where they overlap."""
    facts: dict[str, Any] = {}
    n, n_obj = cols["kr_start"].size, cols["obj_parent"].size
    reference = canonical(NUMPY, prepare_numpy(cols)(), n_obj)
    if engine in (POLARS, DUCKDB):
        other = canonical(engine, result, n_obj)
        counted = np.bincount(cols["kr_objective"], weights=cols["kr_weight"],
                              minlength=n_obj) > 0
        pairs = [(reference[0], other[0]), (reference[1][counted], other[1][counted]),
                 (reference[2], other[2]), (reference[3], other[3])]
        facts["agrees_with_numpy"] = all(np.allclose(x, y, rtol=1e-9, atol=1e-9)
                                         for x, y in pairs)
    elif engine in (OKRCORE, OKRCORE_NUMBA):
        arrays = result_arrays(result)
        facts["result_bytes_per_kr"] = sum(a.nbytes for a in arrays.values()) / n
        facts["kr_result_bytes_per_kr"] = sum(
            a.nbytes for name, a in arrays.items() if name.startswith("kr_")) / n
        for name in ("kr_error", "obj_error"):
            if name in arrays:
                facts[f"{name}_rows"] = int(np.count_nonzero(arrays[name]))
        progress = kr_progress_of(result)
        facts["kr_progress_found"] = progress is not None
        if progress is not None:
            plain = (cols["kr_range_mode"] == 0) & ~cols["kr_has_log"]
            facts["agrees_with_numpy_on_plain_krs"] = bool(
                np.allclose(progress[plain], reference[0][plain], rtol=1e-9, atol=1e-12))
    return facts


# --- bandwidth --------------------------------------------------------------------------------


def measure_triad(n: int, repeat: int) -> dict[str, Any]:
    """STREAM-style triad ``a = b + s*c`` on float64 arrays of ``n`` elements [GB/s]."""
    b = np.full(n, 1.0)
    c = np.full(n, 2.0)
    a = np.zeros(n)
    expected = 1.0 + TRIAD_SCALAR * 2.0

    def numpy_two_pass() -> None:
        np.multiply(c, TRIAD_SCALAR, out=a)
        np.add(a, b, out=a)

    scratch = np.empty(TRIAD_BLOCK)

    def numpy_blocked() -> None:
        for low in range(0, n, TRIAD_BLOCK):
            high = min(low + TRIAD_BLOCK, n)
            part = scratch[:high - low]
            np.multiply(c[low:high], TRIAD_SCALAR, out=part)
            np.add(part, b[low:high], out=a[low:high])

    variants: list[tuple[str, Run, int]] = [
        ("numpy, 2 ufunc passes (a = s*c; a += b)", numpy_two_pass, 1),
        ("numpy, blocked (scratch in L2)", numpy_blocked, 1),
    ]
    try:
        import numba

        def triad_loop(out: FloatArray, x: FloatArray, y: FloatArray, s: float) -> None:
            for i in numba.prange(out.shape[0]):
                out[i] = x[i] + s * y[i]

        parallel_triad = numba.njit(parallel=True, fastmath=True, cache=False)(triad_loop)
        threads = min(2, int(numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]

        def numba_with(count: int) -> Run:
            def run() -> None:
                numba.set_num_threads(count)
                parallel_triad(a, b, c, TRIAD_SCALAR)
            return run

        variants.append(("numba prange, 1 thread", numba_with(1), 1))
        variants.append((f"numba prange, {threads} threads", numba_with(threads), threads))
    except ImportError:
        pass
    rows: list[dict[str, Any]] = []
    for name, run, threads_used in variants:
        a.fill(0.0)
        seconds, times, _ = timed(run, repeat)
        assert a[0] == expected and a[-1] == expected, name
        rows.append({"variant": name, "threads": threads_used, "seconds": seconds,
                     "times": times, "gb_per_s": TRIAD_BYTES_PER_ELEMENT * n / seconds / 1e9})
    try:
        import numba

        numba.set_num_threads(int(numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    except ImportError:
        pass
    best = max(rows, key=lambda row: float(row["gb_per_s"]))
    return {"elements": n, "array_mib": n * 8 / MIB, "bytes_per_element":
            TRIAD_BYTES_PER_ELEMENT, "variants": rows, "best_gb_per_s": best["gb_per_s"],
            "best_variant": best["variant"]}


def bytes_per_kr(cols: Columns) -> dict[str, float]:
    """Bytes each engine must move per KR at least (inputs read once, outputs written once)."""
    n = cols["kr_start"].size
    n_obj = cols["obj_parent"].size
    n_people = int(max(cols["obj_owner"].max(initial=-1),
                       cols["kr_owner_ids"].max(initial=-1))) + 1

    def read(prefix: str) -> float:
        return sum(a.nbytes for name, a in cols.items() if name.startswith(prefix)) / n

    owners = (cols["kr_owner_offsets"].nbytes + cols["kr_owner_ids"].nbytes) / n
    kr_inputs = read("kr_") - owners
    key = cols["kr_objective"] * (N_UNITS + 1) + cols["kr_unit"] + 1
    groups = int(np.count_nonzero(np.bincount(key)))
    okrcore_total = (kr_inputs + read("log_") + owners + read("obj_") + KR_OUTPUT_BYTES
                     + (OBJ_OUTPUT_BYTES * n_obj + PERSON_OUTPUT_BYTES * n_people) / n)
    baseline_total = (BASELINE_INPUT_BYTES + BASELINE_KR_OUTPUT_BYTES
                      + (8 * n_obj + 16 * groups) / n)
    return {
        "kr_inputs": kr_inputs,
        "log_inputs": read("log_"),
        "owner_inputs": owners,
        "objective_inputs": read("obj_"),
        "kr_outputs": float(KR_OUTPUT_BYTES),
        "objective_and_people_outputs": (OBJ_OUTPUT_BYTES * n_obj
                                         + PERSON_OUTPUT_BYTES * n_people) / n,
        "okrcore_total": okrcore_total,
        "baseline_total": baseline_total,
        "objective_unit_groups": float(groups),
    }


# --- one subprocess per engine: time and peak memory --------------------------------------------


def measure_kr_rollup_pass(cols: Columns, repeat: int) -> dict[str, Any]:
    """Time the numba kernel's KR + rollup pass alone, on reused output buffers.

    The engine is run once with its kernels wrapped, to record the arguments of its first
    calls of ``kr_pass`` (every per-KR result) and ``rollup_fused`` (the per-objective sums of
    the key results and the alignment tree, evaluation "now").  Those calls are then
    replayed on the same arrays (outputs overwritten in place, as a job that keeps its buffers
    with ``out=`` does) and timed: the median of ``3 * repeat`` runs after one warm-up run.
    The bytes it must move at the least are the sizes of the distinct arrays the calls read or
    write, each counted once.
    """
    from okrcore.batch import OrgFrame, evaluate_frame
    from okrcore.batch import _numba as kernels_module

    frame = OrgFrame.from_columns(**cols)
    kernels = kernels_module.load()
    calls: dict[str, tuple[Any, ...]] = {}

    def recorded(name: str, kernel: Callable[..., object]) -> Callable[..., object]:
        def call(*args: Any) -> object:
            calls.setdefault(name, args)
            return kernel(*args)

        return call

    kernels_module._kernels = kernels._replace(
        kr_pass=recorded("kr_pass", kernels.kr_pass),
        rollup_fused=recorded("rollup_fused", kernels.rollup_fused))
    try:
        evaluate_frame(frame, AS_OF_US, okrcore.Policy(), kernel="numba")
    finally:
        kernels_module._kernels = kernels
    steps = [(kernels.kr_pass, calls["kr_pass"]),
             (kernels.rollup_fused, calls["rollup_fused"])]

    def run() -> None:
        for kernel, args in steps:
            kernel(*args)

    # a short step: three times the engine's runs, for a steadier median on a noisy machine
    seconds, times, _ = timed(run, 3 * repeat)
    arrays = {id(a): a for _, args in steps for a in args if isinstance(a, np.ndarray)}
    moved = sum(a.nbytes for a in arrays.values())
    return {"seconds": seconds, "times": times, "bytes": moved,
            "bytes_per_kr": moved / frame.n_kr, "arrays": len(arrays)}


def measure_reused(cols: Columns, kernel: str, buffers: Any, repeat: int) -> dict[str, Any]:
    """Time the full evaluation writing into the buffers of a previous result (``out=``).

    This is a job that evaluates the same organisation again and again (nightly, or at
    several instants) and keeps its result columns.  The peak memory is read beyond the inputs
    *and* the kept result: the scratch the evaluation needs.  The result is checked to be the
    buffers themselves.
    """
    from okrcore.batch import OrgFrame, evaluate_frame

    frame = OrgFrame.from_columns(**cols)
    policy = okrcore.Policy()
    evaluate: Callable[..., Any] = evaluate_frame

    def run() -> Any:
        return evaluate(frame, AS_OF_US, policy, kernel=kernel, out=buffers)

    release_free_memory()  # what earlier runs freed must not hide this run's scratch
    before = current_rss()
    reset = reset_peak_rss()
    result = run()
    extra = peak_rss() - before
    assert result.kr_progress is buffers.kr_progress
    seconds, times, _ = timed(run, repeat, warmup=0)
    return {"seconds": seconds, "times": times, "peak_reset": reset,
            "extra_bytes": extra, "bytes_per_kr": extra / frame.n_kr}


def release_free_memory() -> bool:
    """Return the heap's free pages to the system (glibc ``malloc_trim``); False if impossible.

    Otherwise memory freed by earlier runs stays in the process, and a later run that reuses
    it shows no growth of the RSS: its peak would read as zero.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        return bool(ctypes.CDLL(name).malloc_trim(0) >= 0)
    except (OSError, AttributeError):
        return False


def save_columns(cols: Columns, directory: Path) -> None:
    """Write each column as ``NAME.npy``."""
    for name, array in cols.items():
        np.save(directory / f"{name}.npy", array)


def load_columns(directory: Path) -> Columns:
    """Read the columns written by :func:`save_columns` fully into memory."""
    return {path.stem: np.load(path) for path in sorted(directory.glob("*.npy"))}


def child_main(engine: str, directory: Path | None, n_kr: int, seed: int, repeat: int) -> int:
    """Measure one engine in this fresh process; print one JSON line.

    1. Import the engine and run it on a tiny organisation (imports, JIT compilation and
       caches are fixed costs, not per KR).
    2. Load the inputs (the ``.npy`` columns, or the scalar path's document) and read the RSS.
    3. Reset the peak RSS, build the engine's input, run once at full size (the warm-up) and
       read the peak: the bytes beyond the inputs.
    4. Time ``repeat`` more runs.
    """
    report: dict[str, Any] = {"child": engine, "krs": n_kr}
    cols: Columns | None = None
    name = SCALAR if engine == "scalar" else {v: k for k, v in CHILD_NAMES.items()}[engine]
    try:
        if engine == "scalar":
            okrcore.evaluate(okrcore.Document.from_dict(synthetic_document(1_000, seed)))
            document = okrcore.Document.from_dict(synthetic_document(n_kr, seed))

            def prepare() -> Run:
                return lambda: okrcore.evaluate(document)
        else:
            PREPARE[name](synthetic_columns(4_096, seed=seed + 1))()
            assert directory is not None
            inputs = load_columns(directory)
            report["input_bytes"] = sum(a.nbytes for a in inputs.values())
            cols = inputs

            def prepare() -> Run:
                return PREPARE[name](inputs)
    except ImportError as exc:
        report["unavailable"] = repr(exc)
        print(json.dumps(report))
        return 0
    report["rss_after_input"] = current_rss()
    report["peak_reset"] = reset_peak_rss()
    run = prepare()
    result = run()
    report["peak"] = peak_rss()
    report["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report["extra_bytes"] = report["peak"] - report["rss_after_input"]
    report["bytes_per_kr"] = report["extra_bytes"] / n_kr
    del result
    seconds, times, result = timed(run, repeat, warmup=0)
    report.update(seconds=seconds, times=times, threads=count_threads(name))
    if isinstance(result, okrcore.Evaluation):
        report["errors"] = len(result.errors)
    if cols is not None:
        report.update(check_result(name, result, cols))
    if name in REUSED and cols is not None:
        kernel = "numba" if name == OKRCORE_NUMBA else "numpy"
        report["reused"] = measure_reused(cols, kernel, result, repeat)
    if name == OKRCORE_NUMBA and cols is not None:
        del result
        report["kr_rollup_pass"] = measure_kr_rollup_pass(cols, repeat)
    print(json.dumps(report))
    return 0


def run_child(engine: str, directory: Path | None, n_kr: int, seed: int, repeat: int,
              malloc: str = "default") -> dict[str, Any]:
    """Run :func:`child_main` in a fresh interpreter and return its report."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", engine,
               "--child-n", str(n_kr), "--seed", str(seed), "--repeat", str(repeat)]
    if directory is not None:
        command += ["--child-dir", str(directory)]
    env = {**os.environ, **(KEEP_FREED_MEMORY if malloc == "keep" else {})}
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False,
                          env=env)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"child": engine, "krs": n_kr, "error": done.stderr.strip()[-3000:]}
    report: dict[str, Any] = json.loads(lines[-1])
    return report


# --- the run ------------------------------------------------------------------------------------


def run_size(n: int, args: argparse.Namespace, engines: Sequence[str],
             scalar: dict[str, Any] | None, bandwidth: float | None) -> dict[str, Any]:
    """Generate one organisation, write it once, and measure every engine on it."""
    print(f"[{n:,} KRs] generating ...", file=sys.stderr, flush=True)
    began = time.perf_counter()
    cols = synthetic_columns(n, args.seed)
    generated = time.perf_counter() - began
    volume = bytes_per_kr(cols)
    size: dict[str, Any] = {
        "krs": n, "objectives": int(cols["obj_parent"].size),
        "check_ins": int(cols["log_kr"].size), "generate_s": generated,
        "input_mib": sum(a.nbytes for a in cols.values()) / MIB, "bytes_per_kr": volume,
        "rows": [], "children": [], "failures": {}}
    with tempfile.TemporaryDirectory(prefix="okr-bench-") as tmp:
        directory = Path(tmp)
        save_columns(cols, directory)
        del cols
        for engine in engines:
            print(f"[{n:,} KRs] {engine} ...", file=sys.stderr, flush=True)
            report = run_child(CHILD_NAMES[engine], directory, n, args.seed, args.repeat,
                               args.malloc)
            report["engine"] = engine
            size["children"].append(report)
            if "unavailable" in report or "error" in report:
                why = report.get("unavailable") or (report["error"].splitlines() or [""])[-1]
                print(f"{engine}: {'not available' if 'unavailable' in report else 'failed'}:"
                      f" {why}", flush=True)
                size["failures"][engine] = report.get("unavailable") or report["error"]
                continue
            row = {"engine": engine, "krs": n, "seconds": report["seconds"],
                   "times": report["times"], "threads": report["threads"],
                   "peak_bytes_per_kr": report["bytes_per_kr"]}
            row.update({key: value for key, value in report.items()
                        if key.startswith(("agrees", "result_", "kr_", "obj_"))})
            size["rows"].append(row)
            if "reused" in report:
                again = report["reused"]
                size["rows"].append({"engine": REUSED[engine], "krs": n,
                                     "seconds": again["seconds"], "times": again["times"],
                                     "threads": report["threads"],
                                     "peak_bytes_per_kr": again["bytes_per_kr"]})
            if "kr_rollup_pass" in report:
                step = report["kr_rollup_pass"]
                size["rows"].append({"engine": NUMBA_PASS, "krs": n, "seconds": step["seconds"],
                                     "times": step["times"], "threads": report["threads"],
                                     "bound_bytes_per_kr": step["bytes_per_kr"]})
    checks = [r["agrees_with_numpy"] for r in size["rows"] if "agrees_with_numpy" in r]
    size["baselines_agree"] = all(checks) if checks else None
    if scalar is not None and "seconds" in scalar:
        factor = n / scalar["krs"]
        size["rows"].append({"engine": SCALAR, "krs": n, "seconds": scalar["seconds"] * factor,
                             "times": [t * factor for t in scalar["times"]],
                             "threads": 1, "peak_bytes_per_kr": scalar["bytes_per_kr"],
                             "extrapolated_from": scalar["krs"]})
    for row in size["rows"]:
        volume_per_kr = row.get("bound_bytes_per_kr") or volume[
            "baseline_total" if row["engine"] in BASELINES else "okrcore_total"]
        row["krs_per_s"] = n / row["seconds"]
        row["bound_bytes_per_kr"] = volume_per_kr
        if bandwidth is not None:
            row["bound_s"] = volume_per_kr * n / (bandwidth * 1e9)
            row["pct_of_bound"] = 100.0 * row["bound_s"] / row["seconds"]
    reference_row = find_row(size, OKRCORE)
    for row in size["rows"]:
        row["x_okrcore"] = (None if reference_row is None
                            else row["seconds"] / reference_row["seconds"])
    return size


def find_row(size: dict[str, Any], engine: str) -> dict[str, Any] | None:
    """The row of ``engine`` in one size's results."""
    return next((r for r in size["rows"] if r["engine"] == engine), None)


def judge(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, judged at 10^7 KRs (or the largest size measured)."""
    if not sizes:
        return []
    at = next((s for s in sizes if s["krs"] == 10_000_000), max(sizes, key=lambda s: s["krs"]))
    okr, numba_row = find_row(at, OKRCORE), find_row(at, OKRCORE_NUMBA)
    polars, scalar = find_row(at, POLARS), find_row(at, SCALAR)
    targets: list[dict[str, Any]] = []

    def add(name: str, value: float | None, limit: float, at_least: bool, unit: str) -> None:
        if value is None:
            verdict = "n/a"
        else:
            verdict = "pass" if (value >= limit if at_least else value <= limit) else "fail"
        targets.append({"target": name, "krs": at["krs"], "value": value, "limit": limit,
                        "unit": unit, "verdict": verdict})

    add("okrcore batch (numpy) time <= 2x Polars",
        okr["seconds"] / polars["seconds"] if okr and polars else None, 2.0, False, "x Polars")
    add("okrcore batch (numpy) >= 100x faster than the scalar path",
        scalar["seconds"] / okr["seconds"] if okr and scalar else None, 100.0, True, "x")
    add("okrcore batch (numpy) peak <= 64 bytes/KR beyond the inputs",
        okr.get("peak_bytes_per_kr") if okr else None, 64.0, False, "B/KR")
    add("okrcore batch (numba) >= 10x faster than Polars",
        polars["seconds"] / numba_row["seconds"] if numba_row and polars else None, 10.0, True,
        "x")
    numba_pass = find_row(at, NUMBA_PASS)
    add("okrcore numba KR + rollup pass >= 30% of the bandwidth bound",
        numba_pass.get("pct_of_bound") if numba_pass else None, 30.0, True, "%")
    # the same targets for a job that keeps its result buffers (out=): reported beside the
    # targets above, which are judged on fresh results
    reused, reused_numba = find_row(at, REUSED[OKRCORE]), find_row(at, REUSED[OKRCORE_NUMBA])
    add("with out= reused: okrcore batch (numpy) time <= 2x Polars",
        reused["seconds"] / polars["seconds"] if reused and polars else None, 2.0, False,
        "x Polars")
    add("with out= reused: okrcore batch (numpy) scratch <= 64 bytes/KR beyond the inputs "
        "and the kept result", reused.get("peak_bytes_per_kr") if reused else None, 64.0, False,
        "B/KR")
    add("with out= reused: okrcore batch (numba) >= 10x faster than Polars",
        polars["seconds"] / reused_numba["seconds"] if reused_numba and polars else None, 10.0,
        True, "x")
    return targets


def ten_x_budget(sizes: list[dict[str, Any]], bandwidth: float | None) -> dict[str, Any] | None:
    """What 10x Polars leaves the numba kernel's full evaluation, against the bandwidth bound.

    At 10^7 KRs (or the largest size): 10x Polars as a time, the bound of a full evaluation
    (inputs read once, the minimal outputs written once: ``okrcore_total``), the same bound with
    the result okrcore actually returns in place of the minimal outputs, the share of the
    bandwidth each would need, and the share the numba kernel reaches (fresh and ``out=``).
    """
    if not sizes or bandwidth is None:
        return None
    at = next((s for s in sizes if s["krs"] == 10_000_000), max(sizes, key=lambda s: s["krs"]))
    polars, numba_row = find_row(at, POLARS), find_row(at, OKRCORE_NUMBA)
    reused = find_row(at, REUSED[OKRCORE_NUMBA])
    if polars is None or numba_row is None or "result_bytes_per_kr" not in numba_row:
        return None
    volume = at["bytes_per_kr"]
    minimal = volume["okrcore_total"]
    whole = (minimal - volume["kr_outputs"] - volume["objective_and_people_outputs"]
             + numba_row["result_bytes_per_kr"])
    budget = polars["seconds"] / 10.0
    bound = minimal * at["krs"] / (bandwidth * 1e9)
    bound_whole = whole * at["krs"] / (bandwidth * 1e9)
    return {"krs": at["krs"], "ten_x_polars_s": budget, "bound_s": bound,
            "bound_whole_result_s": bound_whole, "whole_result_bytes_per_kr": whole,
            "pct_needed": 100.0 * bound / budget,
            "pct_needed_whole_result": 100.0 * bound_whole / budget,
            "numba_pct": numba_row.get("pct_of_bound"),
            "numba_out_pct": reused.get("pct_of_bound") if reused else None}


def _cell(value: Any, spec: str, width: int) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}{spec}}"


def print_tables(report: dict[str, Any]) -> None:
    """The human-readable tables."""
    print(f"malloc of every engine's process: {report.get('malloc', 'default')}")
    triad = report.get("triad")
    if triad:
        print(f"\nSTREAM triad a = b + {TRIAD_SCALAR}*c, {triad['elements']:,} float64 "
              f"({triad['array_mib']:.0f} MiB per array), {TRIAD_BYTES_PER_ELEMENT} B/element")
        for row in triad["variants"]:
            print(f"  {row['variant']:<44} {row['seconds']:8.3f} s {row['gb_per_s']:7.2f} GB/s")
        print(f"  bandwidth used for the bounds: {triad['best_gb_per_s']:.2f} GB/s "
              f"({triad['best_variant']})")
    scalar = report.get("scalar")
    if scalar and "seconds" in scalar:
        print(f"\nscalar path: okrcore.evaluate on {scalar['krs']:,} KRs: "
              f"{scalar['seconds']:.3f} s ({scalar['krs_per_s']:,.0f} KR/s), "
              f"{scalar.get('errors')} errors; peak {scalar['bytes_per_kr']:,.0f} B/KR beyond "
              "the loaded document")
    elif scalar:
        print(f"\nscalar path failed: {str(scalar.get('error'))[-500:]}")
    header = (f"{'engine':<30} {'KRs':>11} {'seconds':>9} {'KR/s':>13} {'x okrcore':>9} "
              f"{'bound B/KR':>10} {'% bound':>8} {'peak B/KR':>9} {'thr':>3}")
    for size in report["sizes"]:
        volume = size["bytes_per_kr"]
        print(f"\n{size['krs']:,} KRs, {size['objectives']:,} objectives, "
              f"{size['check_ins']:,} check-ins; generated in {size['generate_s']:.2f} s; "
              f"inputs {size['input_mib']:.0f} MiB; baselines agree: {size['baselines_agree']}")
        print(f"bytes/KR: KR inputs {volume['kr_inputs']:.1f} + log {volume['log_inputs']:.1f} "
              f"+ owners {volume['owner_inputs']:.1f} + objectives "
              f"{volume['objective_inputs']:.1f} + KR outputs {volume['kr_outputs']:.1f} + "
              f"objective/people outputs {volume['objective_and_people_outputs']:.1f} = "
              f"{volume['okrcore_total']:.1f} (baselines {volume['baseline_total']:.1f})")
        print(header)
        for row in size["rows"]:
            print(f"{row['engine']:<30} {row['krs']:>11,} {row['seconds']:>9.3f} "
                  f"{row['krs_per_s']:>13,.0f} {_cell(row.get('x_okrcore'), '.2f', 9)} "
                  f"{row['bound_bytes_per_kr']:>10.1f} {_cell(row.get('pct_of_bound'), '.1f', 8)} "
                  f"{_cell(row.get('peak_bytes_per_kr'), '.1f', 9)} "
                  f"{_cell(row.get('threads'), 'd', 3)}")
        if any(row["engine"] in REUSED.values() for row in size["rows"]):
            print("  (out= reused: the peak is the scratch beyond the inputs and the kept result)")
        for engine, why in size["failures"].items():
            print(f"  {engine}: {str(why).strip().splitlines()[-1][-300:]}")
    if report["targets"]:
        print("\ntargets:")
        for target in report["targets"]:
            value = "-" if target["value"] is None else f"{target['value']:.2f}"
            print(f"  [{target['verdict']:>4}] {target['target']}: {value} {target['unit']} "
                  f"(limit {target['limit']:g}, at {target['krs']:,} KRs)")
    budget = report.get("numba_10x_budget")
    if budget:
        print(f"\n10x Polars at {budget['krs']:,} KRs is {budget['ten_x_polars_s']:.3f} s. "
              f"Moving a full evaluation's bytes once takes {budget['bound_s']:.3f} s "
              f"({budget['bound_whole_result_s']:.3f} s with the whole result, "
              f"{budget['whole_result_bytes_per_kr']:.1f} B/KR): it would need "
              f"{budget['pct_needed']:.0f} % ({budget['pct_needed_whole_result']:.0f} %) of the "
              f"bandwidth bound; the numba kernel's full evaluation reaches "
              f"{_cell(budget['numba_pct'], '.1f', 0)} % "
              f"({_cell(budget['numba_out_pct'], '.1f', 0)} % with out=).")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median), default 3")
    parser.add_argument("--json", default=None, help="also write the report to this file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--malloc", choices=["default", "keep"], default="default",
                        help="glibc malloc of every engine's process: its defaults, or keep "
                             "freed memory (MALLOC_MMAP_MAX_=0, a huge trim threshold)")
    parser.add_argument("--scalar-size", type=int, default=100_000,
                        help="KRs of the scalar run that is extrapolated (0 to skip)")
    parser.add_argument("--triad-n", type=int, default=100_000_000,
                        help="elements per triad array (0 to skip the triad)")
    parser.add_argument("--engines", nargs="+", default=None,
                        choices=["okrcore", "polars", "duckdb", "numpy"],
                        help="measure only these (default: all; okrcore = both kernels)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-n", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables and the JSON report."""
    args = parse_args(argv)
    if args.child:
        directory = Path(args.child_dir) if args.child_dir else None
        return child_main(args.child, directory, args.child_n, args.seed, args.repeat)
    wanted = set(args.engines or ["okrcore", "polars", "duckdb", "numpy"])
    kernels = okrcore_kernels() if "okrcore" in wanted else None
    engines: list[str] = []
    if "okrcore" in wanted and kernels is None:
        print("okrcore batch: not available", flush=True)
    elif kernels is not None:
        engines.append(OKRCORE)
        if "numba" in kernels:
            engines.append(OKRCORE_NUMBA)
    engines += [engine for engine in BASELINES if CHILD_NAMES[engine] in wanted]
    report: dict[str, Any] = {
        "benchmark": "batch",
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "versions": {name: version_of(name)
                     for name in ("okrcore", "numpy", "polars", "duckdb", "pyarrow", "numba")},
        "okrcore_kernels": None if kernels is None else list(kernels),
        "repeat": args.repeat,
        "malloc": (args.malloc if args.malloc == "default"
                   else "keep: " + " ".join(f"{k}={v}" for k, v in KEEP_FREED_MEMORY.items())),
    }
    report["triad"] = measure_triad(args.triad_n, args.repeat) if args.triad_n > 0 else None
    bandwidth = report["triad"]["best_gb_per_s"] if report["triad"] else None
    scalar = None
    if args.scalar_size > 0:
        print(f"[scalar] {args.scalar_size:,} KRs ...", file=sys.stderr, flush=True)
        scalar = run_child("scalar", None, args.scalar_size, args.seed, args.repeat,
                           args.malloc)
        if "seconds" in scalar:
            scalar["krs_per_s"] = scalar["krs"] / scalar["seconds"]
    report["scalar"] = scalar
    report["sizes"] = [run_size(n, args, engines, scalar, bandwidth) for n in args.sizes]
    report["targets"] = judge(report["sizes"])
    report["numba_10x_budget"] = ten_x_budget(report["sizes"], bandwidth)
    print_tables(report)
    print(json.dumps(report))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
