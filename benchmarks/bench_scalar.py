"""Throughput of the scalar reference path (okrcore.evaluate) on synthetic organisations.

The scalar path is the specification made executable, not the fast path (that is the batch
engine, issue 3).  This benchmark gives the figure the batch engine will be compared with:
key results evaluated per second, end to end (loading the JSON document, evaluating, and
building the result document), and the peak memory of the process.

Run:  python benchmarks/bench_scalar.py [--sizes 1000 10000 100000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import okrcore

QUARTER_START = datetime(2026, 1, 1, tzinfo=UTC)
AS_OF = "2026-02-15T12:00:00Z"


def _instant(day: float) -> str:
    moment = QUARTER_START + timedelta(days=day)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_result(rng: random.Random, ident: str) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.45:
        start, target = (0, rng.randint(10, 1000)) if rng.random() < 0.7 else (100, 20)
        kr: dict[str, Any] = {"id": ident, "kind": "metric", "unit": "u", "start": start,
                              "target": target}
        if rng.random() < 0.33:
            days = sorted(rng.uniform(0, 60) for _ in range(rng.randint(1, 8)))
            kr["check_ins"] = [
                {"at": _instant(d),
                 "value": start + (target - start) * d / 90 * rng.uniform(0.5, 1.3)}
                for d in days
            ]
        else:
            kr["current"] = start + (target - start) * rng.random()
        return kr
    if roll < 0.6:
        return {"id": ident, "kind": "metric", "target": 50, "current": rng.uniform(0, 100),
                "range": {"red_low": 20, "yellow_low": 40, "yellow_high": 60, "red_high": 80,
                          "mode": rng.choice(["band", "graded", "linear"])}}
    if roll < 0.8:
        return {"id": ident, "kind": "binary", "done": rng.random() < 0.4}
    return {"id": ident, "kind": "milestone", "stages_total": 5, "stages_done": rng.randint(0, 5)}


def synthetic_document(n_krs: int, seed: int = 1) -> dict[str, Any]:
    """An organisation of ``n_krs`` key results, 4 per objective, aligned 4 levels deep."""
    rng = random.Random(seed)
    n_objectives = max(1, n_krs // 4)
    objectives: list[dict[str, Any]] = []
    level_sizes = [max(1, n_objectives // 100), max(1, n_objectives // 20),
                   max(1, n_objectives // 4)]
    ids_by_level: list[list[str]] = []
    count = 0
    for level, size in enumerate([*level_sizes, n_objectives - sum(level_sizes)]):
        ids = []
        for _ in range(max(size, 1)):
            ident = f"o{count}"
            parent = rng.choice(ids_by_level[level - 1]) if level else None
            objectives.append({"id": ident, "owner": f"p{rng.randrange(n_objectives // 3 + 1)}",
                               "parent": parent, "start": "2026-01-01", "due": "2026-03-31",
                               "mode": rng.choice(["auto", "auto", "mean"]),
                               "key_results": []})
            ids.append(ident)
            count += 1
        ids_by_level.append(ids)
    leaves = [o for o in objectives if o["parent"] is not None] or objectives
    for k in range(n_krs):
        target = leaves[k % len(leaves)]
        kr = _key_result(rng, f"k{k}")
        if rng.random() < 0.1:
            kr["owners"] = [f"p{rng.randrange(n_objectives // 3 + 1)}"]
        target["key_results"].append(kr)
    return {"okrcore": 1, "as_of": AS_OF, "objectives": objectives}


def measure(n_krs: int) -> dict[str, Any]:
    """Time load + evaluate + result document for one size."""
    text = json.dumps(synthetic_document(n_krs))
    began = time.perf_counter()
    document = okrcore.loads(text)
    loaded = time.perf_counter()
    evaluation = okrcore.evaluate(document)
    evaluated = time.perf_counter()
    result = evaluation.to_json()
    finished = time.perf_counter()
    assert not result["errors"], result["errors"][:3]
    return {
        "krs": n_krs,
        "load_s": loaded - began,
        "evaluate_s": evaluated - loaded,
        "to_json_s": finished - evaluated,
        "krs_per_s_evaluate": n_krs / (evaluated - loaded),
        "krs_per_s_end_to_end": n_krs / (finished - began),
    }


def main() -> int:
    """Run the benchmark and print a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    rows = [measure(n) for n in args.sizes]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = ("KRs", "load s", "eval s", "json s", "eval KR/s", "e2e KR/s")
    print("{:>9} {:>8} {:>8} {:>8} {:>11} {:>10}".format(*header))
    for r in rows:
        print(f"{r['krs']:>9} {r['load_s']:>8.3f} {r['evaluate_s']:>8.3f} {r['to_json_s']:>8.3f} "
              f"{r['krs_per_s_evaluate']:>11.0f} {r['krs_per_s_end_to_end']:>10.0f}")
    print(f"peak RSS of the process: {peak_mib:.0f} MiB")
    report = {"benchmark": "scalar", "python": sys.version.split()[0], "rows": rows,
              "peak_rss_mib": peak_mib}
    print(json.dumps(report))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
