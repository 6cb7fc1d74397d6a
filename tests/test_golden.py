"""Every result column over the test corpus is unchanged bit for bit (issue 18).

The hashes in ``tests/golden/hashes.json`` were written before the redesign of the engines
(``python tests/golden/golden.py --write`` at commit 138117d).  A refactoring that changes any
value, dtype or shape of any column, on either kernel or on the scalar path, fails here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))

import golden
from okrcore.batch import kernels_available


@pytest.fixture(scope="module")
def computed() -> dict[str, dict[str, str]]:
    return golden.hashes()


def test_golden_hashes_unchanged(computed: dict[str, dict[str, str]]) -> None:
    frozen = json.loads(golden.HASHES.read_text())
    assert sorted(computed) == sorted(frozen)
    changed = []
    for case, row in frozen.items():
        for column, digest in row.items():
            kernel = column.split(":")[0]
            if kernel == "numba" and "numba" not in kernels_available():
                continue
            if computed[case].get(column) != digest:
                changed.append(f"{case} {column}")
    assert changed == [], f"{len(changed)} columns changed, first: {changed[:10]}"


def test_golden_covers_both_kernels_and_scalar() -> None:
    frozen = json.loads(golden.HASHES.read_text())
    columns = {c for row in frozen.values() for c in row}
    assert "scalar" in columns
    assert {c.split(":")[0] for c in columns} == {"numpy", "numba", "scalar"}
    assert len(frozen) >= 100
