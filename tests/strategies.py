"""Hypothesis strategies of the test suite: the public ones of okrcore.conformance.strategies."""

from okrcore.conformance.strategies import (
    PEOPLE,
    UNITS,
    ZONES,
    binaries,
    documents,
    instants,
    key_results,
    metrics,
    milestones,
    names,
    numbers,
    owners,
    policies,
    settings,
    timelines,
    weights,
)

__all__ = [
    "PEOPLE",
    "UNITS",
    "ZONES",
    "binaries",
    "documents",
    "instants",
    "key_results",
    "metrics",
    "milestones",
    "names",
    "numbers",
    "owners",
    "policies",
    "settings",
    "timelines",
    "weights",
]
