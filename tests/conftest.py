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
