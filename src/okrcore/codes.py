"""Every integer code of okrcore, defined once.

The batch frame's columns, the batch result's columns, both batch kernels, the SQL expressions
and the JSON Schemas use these codes; every other module imports them from here (the old
names, such as ``okrcore.batch.engine.COLOUR_RED`` or ``okrcore.batch.frame.KIND_METRIC``,
are the same objects, re-exported).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AMBITION_CODES",
    "COLOUR_GREEN",
    "COLOUR_NONE",
    "COLOUR_RED",
    "COLOUR_YELLOW",
    "ERR_ALIGNMENT_CYCLE",
    "ERR_DEGENERATE_GOAL",
    "ERR_DEPENDS_ON_INVALID",
    "ERR_DUPLICATE_ID",
    "ERR_FIELD_BREAKPOINTS",
    "ERR_FIELD_DEGENERATE",
    "ERR_FIELD_NEGATIVE_WEIGHT",
    "ERR_FIELD_NOT_FINITE",
    "ERR_FIELD_OUT_OF_RANGE",
    "ERR_FIELD_TIMELINE",
    "ERR_FIELD_UNKNOWN_VALUE",
    "ERR_INVALID_TIMELINE",
    "ERR_LOAD",
    "ERR_MIXED_DIRECTIONS",
    "ERR_NONE",
    "ERR_NOT_FINITE",
    "ERR_NO_CONTRIBUTING_METRIC",
    "ERR_NO_SUM_UNIT",
    "ERR_UNKNOWN_PARENT",
    "KIND_BINARY",
    "KIND_CHECKPOINTS",
    "KIND_METRIC",
    "KIND_MILESTONE",
    "KIND_NAMES",
    "KIND_STAGED",
    "LOAD_DUPLICATE",
    "LOAD_INVALID",
    "LOAD_OK",
    "MODE_CODES",
    "NONE_INSTANT",
    "RANGE_MODE_CODES",
    "RULE_CHILDREN",
    "RULE_EMPTY",
    "RULE_EXPLICIT",
    "RULE_MIXED",
    "RULE_SAME_UNIT",
    "RULE_SETTINGS",
    "STATUS_CODES",
    "TREND_NONE",
    "TREND_PROGRESSED",
    "TREND_REGRESSED",
    "TREND_STALLED",
]

# --- instants ------------------------------------------------------------------------------
NONE_INSTANT: Final = -(2**63)
"""The int64 instant that stands for "absent" [µs since the Unix epoch]."""

# --- key result kinds (frame column ``kr_kind``) ---------------------------------------------
KIND_METRIC: Final = 0
KIND_BINARY: Final = 1
KIND_MILESTONE: Final = 2
"""A simple (done / not done) milestone."""
KIND_STAGED: Final = 3
KIND_CHECKPOINTS: Final = 4
KIND_NAMES: Final = ("metric", "binary", "milestone", "milestone", "milestone")
"""The interchange ``kind`` of each kind code."""

# --- other frame codes -----------------------------------------------------------------------
RANGE_MODE_CODES: Final = {"band": 1, "graded": 2, "linear": 3}
"""Range mode codes (0 = no range)."""
MODE_CODES: Final = {"auto": 0, "mean": 1, "sum": 2}
"""Objective rollup mode codes."""
AMBITION_CODES: Final = {"committed": 0, "aspirational": 1}
STATUS_CODES: Final = {"on_track": 0, "behind": 1, "at_risk": 2, "off_track": 3}
"""Manual status codes (-1 = none)."""
LOAD_OK: Final = 0
LOAD_INVALID: Final = 1
"""The item could not be read; its errors are in the frame's ``load_errors``."""
LOAD_DUPLICATE: Final = 2
"""A later occurrence of an id."""

# --- colours and trends (result columns) -----------------------------------------------------
COLOUR_NONE: Final = -1
COLOUR_GREEN: Final = 0
COLOUR_YELLOW: Final = 1
COLOUR_RED: Final = 2
TREND_NONE: Final = -1
TREND_PROGRESSED: Final = 0
TREND_STALLED: Final = 1
TREND_REGRESSED: Final = 2

# --- error codes (result columns ``kr_error`` / ``obj_error``) -------------------------------
ERR_NONE: Final = 0
ERR_LOAD: Final = 1
ERR_DUPLICATE_ID: Final = 2
ERR_DEPENDS_ON_INVALID: Final = 3
ERR_INVALID_TIMELINE: Final = 4
ERR_NOT_FINITE: Final = 5
ERR_UNKNOWN_PARENT: Final = 6
ERR_ALIGNMENT_CYCLE: Final = 7
ERR_NO_CONTRIBUTING_METRIC: Final = 8
ERR_NO_SUM_UNIT: Final = 9
ERR_MIXED_DIRECTIONS: Final = 10
ERR_DEGENERATE_GOAL: Final = 11
# Field errors found by the vectorised validation of frames built from plain columns (frames
# built from documents were validated by the loader: their bad rows carry ERR_LOAD).
ERR_FIELD_NOT_FINITE: Final = 12
ERR_FIELD_NEGATIVE_WEIGHT: Final = 13
ERR_FIELD_DEGENERATE: Final = 14
ERR_FIELD_BREAKPOINTS: Final = 15
ERR_FIELD_UNKNOWN_VALUE: Final = 16
ERR_FIELD_OUT_OF_RANGE: Final = 17
ERR_FIELD_TIMELINE: Final = 18

# --- objective rollup rules (result column ``obj_rule``) -------------------------------------
RULE_EXPLICIT: Final = 0
RULE_SETTINGS: Final = 1
RULE_SAME_UNIT: Final = 2
RULE_MIXED: Final = 3
RULE_CHILDREN: Final = 4
RULE_EMPTY: Final = 5
