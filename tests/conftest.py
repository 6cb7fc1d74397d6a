"""Shared settings of the okrcore test suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Property tests must stay fast on two cores: a bounded number of examples,
# no per-example deadline (the first call of a test warms caches).
settings.register_profile(
    "okrcore",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("okrcore")


# Every evaluation the suite performs runs through both engines: the scalar reference result is
# returned, and the batch engine's must equal it as a result document, value for value.
import json  # noqa: E402
import os  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

import okrcore  # noqa: E402
import okrcore.interchange  # noqa: E402
from okrcore import Document, Evaluation  # noqa: E402
from okrcore.batch import evaluate_batch  # noqa: E402

_scalar_evaluate = okrcore.evaluate


def first_difference(a: object, b: object, path: str = "") -> str | None:
    """The path of the first place two JSON values differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}: {a!r} vs {b!r}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    if json.dumps(a) != json.dumps(b):
        return f"{path}: scalar {a!r} vs batch {b!r}"
    return None


def assert_same_result(document: Document) -> Evaluation:
    """Evaluate with both engines; fail unless the result documents are equal."""
    scalar = _scalar_evaluate(document)
    batch = evaluate_batch(document)
    difference = first_difference(scalar.to_json(), batch.to_json())
    if difference is not None and os.environ.get("OKRCORE_DUMP_DIFFERENCE"):
        with open(os.environ["OKRCORE_DUMP_DIFFERENCE"], "w") as handle:
            handle.write(okrcore.dumps(document))
    assert difference is None, f"batch engine differs from the scalar reference at {difference}"
    return scalar


@pytest.fixture(autouse=True)
def _both_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(okrcore, "evaluate", assert_same_result)
    monkeypatch.setattr(okrcore.interchange, "evaluate", assert_same_result)
    yield
