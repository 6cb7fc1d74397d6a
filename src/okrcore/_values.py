"""A key result's value at an instant, for the scalar reference.

Part of :mod:`okrcore.evaluate`: the value at ``as_of`` is the latest check-in at or before it
(a later entry wins a tie), else the value the key result states, else its baseline (the start,
or not done; SEMANTICS §6).  Its history also gives the trend, staleness and forecast.
"""

from __future__ import annotations

from okrcore.instants import instant_us
from okrcore.model import Binary, KeyResult, Metric, Milestone

__all__ = ["baseline_value", "explicit_value", "value_history"]


def baseline_value(kr: KeyResult) -> float | bool:
    """The value of a key result before any check-in: its start, 0 stages, or not done."""
    if isinstance(kr, Metric):
        return kr.start
    if isinstance(kr, Milestone) and (kr.stages_total is not None or kr.checkpoints is not None):
        return 0
    return False


def explicit_value(kr: KeyResult) -> float | bool | None:
    """The value the key result states itself (``current``, ``done``, stages, checkpoints)."""
    if isinstance(kr, Metric):
        return kr.current
    if isinstance(kr, Binary):
        return kr.done
    if kr.checkpoints is not None:
        return sum(1 for c in kr.checkpoints if c.done)
    if kr.stages_total is not None:
        return kr.stages_done
    return kr.done


def value_history(kr: KeyResult, as_of: int) -> list[tuple[int, float | bool]]:
    """Check-ins at or before ``as_of``, oldest first; a later entry wins a tie."""
    if kr.check_ins is None:
        return []
    entries = [(instant_us(c.at), i, c.value) for i, c in enumerate(kr.check_ins)]
    entries.sort()
    kept: list[tuple[int, float | bool]] = []
    for t, _, v in entries:
        if t > as_of:
            break
        if kept and kept[-1][0] == t:
            kept[-1] = (t, v)  # the later entry at the same instant overwrites the earlier one
        else:
            kept.append((t, v))
    return kept
