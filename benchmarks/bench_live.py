"""Benchmark of :class:`okrcore.live.LiveOrganisation`: one check-in against a full evaluation.

For each size, the synthetic organisation of ``bench_batch.py`` (:mod:`synthetic`) is built
as columns, and in the same process, alternating round by round:

* ``full``: ``evaluate_frame`` of the whole organisation (the baseline: what a product without
  the live API runs after each check-in);
* ``check-in``: ``LiveOrganisation.check_in`` of one key result drawn at random (a value
  drawn from its target's range, at an instant before ``as_of``), which re-evaluates its
  region and returns the changed rows (``Changes``); then, apart, the same plus building the
  changed results as objects (``Changes.key_results`` ..., built on first access).

At sizes up to ``--evaluation-up-to`` the whole ``Evaluation`` is timed too: its first build
from the kept columns, then after each of five more check-ins (patched, not built again).

Reported per size: the median wall time [ms] of each (with the CPU time of this process: the
machine is shared, so the CPU time is the steadier figure; the check-ins' 90th percentile),
their ratio,
the region sizes evaluated (median objectives and key results), the one-off build of the live
organisation [s] and the process's peak memory.  The check-in time should stay about flat as
the organisation grows, while the full evaluation grows with it.  Usage::

    python benchmarks/bench_live.py --sizes 10000 100000 1000000 --rounds 5 --check-ins 40
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_recompute import peak_rss
from synthetic import AS_OF_US, QUARTER_START_US, synthetic_columns


def run_size(n: int, rounds: int, check_ins: int, seed: int, evaluation: bool
             ) -> dict[str, Any]:
    import numpy as np

    from okrcore.batch import OrgFrame, evaluate_frame
    from okrcore.batch import pipeline as batch_pipeline
    from okrcore.live import LiveOrganisation

    frame = OrgFrame.from_columns(**synthetic_columns(n, seed))
    t0 = time.perf_counter()
    live = LiveOrganisation(frame, AS_OF_US)
    build = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    real = batch_pipeline.evaluate
    regions: list[tuple[int, int]] = []

    def spy(sub: OrgFrame, *args: Any, **kwargs: Any) -> Any:
        regions.append((sub.n_obj, sub.n_kr))
        return real(sub, *args, **kwargs)

    full_ms: list[float] = []
    full_cpu: list[float] = []
    check_ms: list[float] = []
    check_cpu: list[float] = []
    objects_ms: list[float] = []
    changed: list[int] = []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        evaluate_frame(frame, AS_OF_US, threads=1)
        full_ms.append((time.perf_counter() - t0) * 1e3)
        full_cpu.append((time.process_time() - c0) * 1e3)
        rows = rng.integers(0, frame.n_kr, size=check_ins)
        for row in rows.tolist():
            kr_id = f"k{row}"
            at = int(rng.integers(QUARTER_START_US, AS_OF_US))
            target = float(frame.kr_target[row])
            kind = int(frame.kr_kind[row])
            value = (float(rng.integers(0, 2)) if kind in (1, 2)
                     else float(rng.integers(0, 6)) if kind == 4
                     else round(float(rng.uniform(0, max(abs(target), 1.0))), 2))
            batch_pipeline.evaluate = spy  # type: ignore[assignment]
            try:
                t0, c0 = time.perf_counter(), time.process_time()
                changes = live.check_in(kr_id, at, value)
                check_ms.append((time.perf_counter() - t0) * 1e3)
                check_cpu.append((time.process_time() - c0) * 1e3)
            finally:
                batch_pipeline.evaluate = real
            t0 = time.perf_counter()
            changed.append(len(changes.key_results) + len(changes.objectives)
                           + len(changes.people))
            objects_ms.append(check_ms[-1] + (time.perf_counter() - t0) * 1e3)
    full = statistics.median(full_ms)
    check = statistics.median(check_ms)
    whole: dict[str, float] = {}
    if evaluation:
        # the whole Evaluation: built once from the kept columns, then patched per check-in
        t0 = time.perf_counter()
        live.evaluation()
        whole["evaluation_build_s"] = time.perf_counter() - t0
        patched = []
        for row in rng.integers(0, frame.n_kr, size=5).tolist():
            live.check_in(f"k{row}", int(rng.integers(QUARTER_START_US, AS_OF_US)),
                          float(frame.kr_target[row]) / 2)
            t0 = time.perf_counter()
            live.evaluation()
            patched.append((time.perf_counter() - t0) * 1e3)
        whole["evaluation_patched_ms"] = statistics.median(patched)
    return {**whole,
        "n_kr": n, "n_obj": frame.n_obj,
        "full_ms": full, "check_in_ms": check,
        "check_in_p90_ms": statistics.quantiles(check_ms, n=10)[-1],
        "full_cpu_ms": statistics.median(full_cpu),
        "check_in_cpu_ms": statistics.median(check_cpu),
        "check_in_objects_ms": statistics.median(objects_ms),
        "ratio": full / check,
        "region_objectives": statistics.median(r[0] for r in regions),
        "region_key_results": statistics.median(r[1] for r in regions),
        "changed_results": statistics.median(changed),
        "build_s": build, "peak_rss_mb": peak_rss() / 2**20,
        "rounds": rounds, "check_ins": len(check_ms),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds: one full evaluation, then the check-ins")
    parser.add_argument("--check-ins", type=int, default=40, help="check-ins per round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the report to this file")
    parser.add_argument("--evaluation-up-to", type=int, default=100_000,
                        help="also time the whole Evaluation (first build, then patched after "
                             "a check-in) at sizes up to this")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"# bench_live · python {platform.python_version()} · {platform.machine()}")
    print("| KRs | objectives | full evaluate_frame [ms] (CPU) | one check-in [ms] (CPU; p90) | "
          "full / check-in | check-in + result objects [ms] | region (obj, KR) | "
          "changed results | build [s] | peak [MB] |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    report = []
    for n in args.sizes:
        row = run_size(n, args.rounds, args.check_ins, args.seed, n <= args.evaluation_up_to)
        report.append(row)
        print(f"| {row['n_kr']:,} | {row['n_obj']:,} | {row['full_ms']:.1f} "
              f"({row['full_cpu_ms']:.1f}) | {row['check_in_ms']:.2f} "
              f"({row['check_in_cpu_ms']:.2f}; {row['check_in_p90_ms']:.2f}) | "
              f"{row['ratio']:,.0f}x | {row['check_in_objects_ms']:.2f} | "
              f"({row['region_objectives']:.0f}, "
              f"{row['region_key_results']:.0f}) | {row['changed_results']:.0f} | "
              f"{row['build_s']:.1f} | {row['peak_rss_mb']:,.0f} |", flush=True)
    for row in report:
        if "evaluation_build_s" in row:
            print(f"whole Evaluation at {row['n_kr']:,} KRs: first build "
                  f"{row['evaluation_build_s']:.2f} s, then after each check-in (patched) "
                  f"{row['evaluation_patched_ms']:.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
