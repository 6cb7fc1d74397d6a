"""Time ``okrcore evaluate`` on documents of hostile shapes at two sizes, on both engines.

Shapes: a chain of objectives (each the parent of the next), siblings under one parent, many
key results on one objective, and one alignment cycle through every objective.  For each shape
and engine it prints the time at both sizes and their ratio: with time linear in the size of
the document the ratio is about the ratio of the sizes (10 for the defaults), a quadratic part
shows as about 100.  The time covers reading the JSON text, evaluating and writing the result
as the command line does (``okrcore evaluate --indent 0``), and the size of that output.

Run: ``python benchmarks/bench_shapes.py [--sizes 10000 100000] [--shapes chain siblings]``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from okrcore.evaluate import evaluate
from okrcore.interchange import loads

AS_OF = "2026-02-15T00:00:00Z"


def chain(n: int) -> dict[str, Any]:
    """n objectives, each the parent of the next; every other one has a key result."""
    return {"okrcore": 1, "as_of": AS_OF, "objectives": [
        {"id": f"o{i}", "owner": f"p{i % 50}", "parent": f"o{i - 1}" if i else None,
         "start": "2026-01-01", "due": "2026-03-31", "include_children": True,
         "key_results": ([{"id": f"k{i}", "kind": "metric", "target": 10, "current": i % 10}]
                         if i % 2 == 0 else [])}
        for i in range(n)]}


def siblings(n: int) -> dict[str, Any]:
    """n objectives under one parent without key results."""
    return {"okrcore": 1, "as_of": AS_OF, "objectives": [
        {"id": "root", "owner": "a", "start": "2026-01-01", "due": "2026-03-31"}] + [
        {"id": f"o{i}", "owner": f"p{i % 50}", "parent": "root",
         "key_results": [{"id": f"k{i}", "kind": "binary", "done": i % 2 == 0}]}
        for i in range(n)]}


def key_results(n: int) -> dict[str, Any]:
    """n metric key results of one unit on one objective, owned by 50 people, with check-ins."""
    return {"okrcore": 1, "as_of": AS_OF, "objectives": [
        {"id": "o", "owner": "a", "start": "2026-01-01", "due": "2026-03-31", "key_results": [
            {"id": f"k{i}", "kind": "metric", "unit": "u", "target": 10, "owners": [f"p{i % 50}"],
             "check_ins": [{"at": "2026-01-10", "value": 1}, {"at": "2026-02-01", "value": i % 10}]}
            for i in range(n)]}]}


def cycle(n: int) -> dict[str, Any]:
    """One alignment cycle through n objectives."""
    return {"okrcore": 1, "as_of": AS_OF, "objectives": [
        {"id": f"o{i}", "parent": f"o{(i + 1) % n}"} for i in range(n)]}


SHAPES: dict[str, Callable[[int], dict[str, Any]]] = {
    "chain": chain, "siblings": siblings, "key_results": key_results, "cycle": cycle}


def run(text: str, engine: str) -> tuple[float, int]:
    """Seconds to read, evaluate and write one document as the CLI does; output bytes."""
    begin = time.perf_counter()
    document = loads(text)
    if engine == "batch":
        from okrcore.batch import evaluate_batch

        result = evaluate_batch(document).to_json()
    else:
        result = evaluate(document).to_json()
    out = json.dumps(result, allow_nan=False)
    return time.perf_counter() - begin, len(out)


def main() -> None:
    """Print one line per shape and engine: times at both sizes and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--shapes", nargs="*", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument("--engines", nargs="*", choices=("scalar", "batch"),
                        default=["scalar", "batch"])
    args = parser.parse_args()
    small, large = args.sizes
    print(f"{'shape':<12} {'engine':<7} {small:>9} {large:>9}  ratio  output({large})")
    for name in args.shapes:
        texts = [json.dumps(SHAPES[name](n)) for n in (small, large)]
        for engine in args.engines:
            run(texts[0], engine)  # warm up (imports, numba compilation)
            (t_small, _), (t_large, size) = (run(text, engine) for text in texts)
            print(f"{name:<12} {engine:<7} {t_small:>8.2f}s {t_large:>8.2f}s "
                  f"{t_large / t_small:>6.1f}  {size / 1e6:.1f} MB", flush=True)


if __name__ == "__main__":
    main()
