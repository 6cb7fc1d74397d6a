"""The capabilities an implementation under test may declare (no third-party imports)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["CAPABILITIES", "REQUIRED_CAPABILITY", "SECTIONS", "check_capabilities"]

CAPABILITIES: Final[dict[str, str]] = {
    "metrics": "increase metrics, mean rollups, expected progress and pace colours under the "
               "default preset (required)",
    "reductions": "metrics whose target is below their start",
    "binary": "binary (done / not done) key results",
    "milestones": "simple, staged and checkpoint milestones",
    "ranges": "range metrics: breakpoint status and band / graded / linear progress",
    "rollup_modes": "explicit and automatic sum rollups with fixed progress-settings targets",
    "auto_targets": "sum rollups whose target is the sum of the contributing targets",
    "alignment": "parent objectives and include_children",
    "people": "key result and objective owners, personal progress",
    "pace_presets": "policy presets and overrides: pace rules, cap, strict breakpoints",
    "as_of_history": "check-in histories read as of the evaluation instant",
    "errors": "structured item errors and containment of bad items",
    "warnings": "unknown_field warnings for fields that are read but ignored (SEMANTICS §11.3)",
}
"""Every capability, with what declaring it promises. ``metrics`` is always required."""

REQUIRED_CAPABILITY: Final = "metrics"
"""The one capability every implementation must have."""

SECTIONS: Final[dict[str, tuple[str, str]]] = {
    "1.2": ("spec-errors", "Structured errors"),
    "1.3": ("spec-containment", "Containment: one bad item never takes the rest down"),
    "2.1": ("spec-metric", "Metric: increase and reduction"),
    "2.3": ("spec-binary", "Binary"),
    "2.4": ("spec-milestone", "Milestone"),
    "2.5": ("spec-range", "Range metric"),
    "3": ("spec-cap", "Progress and caps"),
    "4.1": ("spec-auto", "Choosing the rollup (auto)"),
    "4.2": ("spec-mean", "mean"),
    "4.3": ("spec-sum", "sum"),
    "4.4": ("spec-include-children", "Children inside the rollup (include_children)"),
    "4.5": ("spec-empty", "Nothing to count"),
    "5": ("spec-alignment", "Alignment trees"),
    "6": ("spec-people", "People"),
    "7.2": ("spec-expected", "Expected progress"),
    "7.3": ("spec-pace", "Pace colours"),
    "7.4": ("spec-health", "Key result colour and objective health"),
    "7.6": ("spec-due-pace", "Done-or-not key results against their due"),
    "8.1": ("spec-as-of", "The value as of an instant"),
}
"""Sections of the specification (``docs/spec.rst``) the suite cites: number → (label, title)."""


def check_capabilities(names: Iterable[str]) -> frozenset[str]:
    """Return ``names`` as a frozenset after checking each one is a known capability.

    Raises
    ------
    ValueError
        Naming the unknown capability, or when ``metrics`` is missing.
    """
    result = frozenset(names)
    unknown = sorted(result - set(CAPABILITIES))
    if unknown:
        raise ValueError(f"unknown capability {unknown[0]!r}; known: {', '.join(CAPABILITIES)}")
    if REQUIRED_CAPABILITY not in result:
        raise ValueError(f"capability {REQUIRED_CAPABILITY!r} is required, got {sorted(result)}")
    return result
