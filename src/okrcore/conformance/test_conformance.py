"""The okrcore conformance suite as pytest tests (run by the plug-in, see ``plugin``).

``pytest --pyargs okrcore.conformance --okrcore-impl=my_pkg.okr:impl``: one test per vector
(``test_vector[area/id]``) and one per property (``test_property[name]``).
"""

from __future__ import annotations

from typing import Any

import pytest

from okrcore.conformance.implementation import Implementation
from okrcore.conformance.properties import PROPERTIES, Property, run_property
from okrcore.conformance.runner import run_vector
from okrcore.conformance.vectors import Vector, load_vectors


@pytest.mark.parametrize("vector", [pytest.param(v, id=v.full_id) for v in load_vectors()])
def test_vector(vector: Vector, okrcore_implementation: Implementation,
                okrcore_capabilities: frozenset[str]) -> None:
    """The implementation reproduces the vector's expected result."""
    record = run_vector(vector, okrcore_implementation, okrcore_capabilities)
    if record.status == "skipped":
        pytest.skip(record.message)
    if record.status == "failed":
        pytest.fail(record.message, pytrace=False)


@pytest.mark.parametrize("prop", [pytest.param(p, id=p.name) for p in PROPERTIES])
def test_property(prop: Property, okrcore_implementation: Implementation,
                  okrcore_capabilities: frozenset[str], okrcore_settings: dict[str, Any]
                  ) -> None:
    """The property holds for the implementation (hypothesis; failures are shrunk)."""
    outcome = run_property(prop, okrcore_implementation.evaluate, okrcore_capabilities,
                           **okrcore_settings)
    if outcome.status == "skipped":
        pytest.skip(outcome.message)
    if outcome.status == "failed":
        pytest.fail(outcome.message, pytrace=False)
