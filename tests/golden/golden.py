"""Golden hashes of every result column over the test corpus (issue 18: nothing changes).

The corpus: every conformance vector document, a synthetic organisation of each shape the
benchmarks use (two sizes, two seeds) under every pace preset and an uncapped, strict policy,
and the sample organisation of ``okrcore demo``.  For each case the batch result is evaluated by
each kernel the machine has (numpy, numba) and every column is hashed (dtype, shape, bytes);
the scalar reference's result document is hashed too.

``python tests/golden/golden.py --write`` rewrites ``hashes.json``; it was written from main at
commit 138117d, before the issue 18 redesign, and must not change afterwards.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np

import okrcore
from okrcore.batch import evaluate_frame, kernels_available
from okrcore.batch.frame import OrgFrame
from okrcore.conformance.vectors import load_vectors
from okrcore.evaluate import instant_us
from okrcore.jobs.sample import sample_document
from okrcore.policy import PRESETS, Policy

HERE = Path(__file__).resolve().parent
HASHES = HERE / "hashes.json"
sys.path.insert(0, str(HERE.parent.parent / "benchmarks"))

_DAY = 86_400_000_000


def _policies() -> dict[str, Policy]:
    policies = dict(PRESETS)
    policies["uncapped_strict"] = attrs.evolve(Policy(), cap=None, strict_breakpoints=True)
    return policies


def corpus() -> Iterator[tuple[str, OrgFrame, int, Policy, Any]]:
    """(name, frame, as_of [µs], policy, document or None) for every case."""
    for vector in load_vectors():
        document = okrcore.Document.from_dict(dict(vector.document))
        yield (f"vector/{vector.full_id}", OrgFrame.from_document(document),
               instant_us(document.as_of), document.policy, document)
    from synthetic import AS_OF_US, synthetic_columns

    for n in (3_000, 40_000):
        for seed in (0, 1):
            columns = synthetic_columns(n, seed)
            frame = OrgFrame.from_columns(**columns)
            for name, policy in _policies().items():
                yield f"synthetic/{n}/{seed}/{name}", frame, AS_OF_US, policy, None
            # before every timeline starts, and after every one is due
            for days in (-200, 200):
                yield (f"synthetic/{n}/{seed}/as_of{days:+d}d", frame,
                       AS_OF_US + days * _DAY, Policy(), None)
    document = sample_document(key_results=3_000, seed=7)
    yield ("sample/3000", OrgFrame.from_document(document), instant_us(document.as_of),
           document.policy, document)


def _digest(array: Any) -> str:
    a = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()[:24]


def hashes() -> dict[str, dict[str, str]]:
    """Every case's column hashes, per kernel, and the scalar result's hash."""
    table: dict[str, dict[str, str]] = {}
    kernels = [k for k in ("numpy", "numba") if k in kernels_available()]
    for name, frame, as_of, policy, document in corpus():
        row: dict[str, str] = {}
        for kernel in kernels:
            result = evaluate_frame(frame, as_of, policy, kernel=kernel)
            for field in attrs.fields(type(result)):
                value = getattr(result, field.name)
                if isinstance(value, np.ndarray):
                    row[f"{kernel}:{field.name}"] = _digest(value)
        if document is not None:
            text = okrcore.dumps_result(okrcore.evaluate(document))
            row["scalar"] = hashlib.sha256(text.encode()).hexdigest()[:24]
        table[name] = row
    return table


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        HASHES.write_text(json.dumps(hashes(), indent=1, sort_keys=True) + "\n")
    else:
        sys.exit("usage: python tests/golden/golden.py --write")
