"""Every integer code of okrcore, defined once.

The batch frame's columns, the batch result's columns, both batch kernels, the SQL expressions
and the JSON Schemas use these codes; every other module imports them from here (the old
names, such as ``okrcore.batch.engine.COLOUR_RED`` or ``okrcore.batch.frame.KIND_METRIC``,
are the same objects, re-exported).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "AMBITION_ASPIRATIONAL",
    "AMBITION_CODES",
    "AMBITION_COMMITTED",
    "COLOUR_GREEN",
    "COLOUR_NAMES",
    "COLOUR_NONE",
    "COLOUR_RED",
    "COLOUR_YELLOW",
    "ERROR_NAMES",
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
    "MODE_AUTO",
    "MODE_CODES",
    "MODE_MEAN",
    "MODE_NAMES",
    "MODE_SUM",
    "NONE_INSTANT",
    "PACE_BETTER",
    "PACE_BOUNDARY_CODES",
    "PACE_REASONS",
    "PACE_RULE_CODES",
    "RANGE_BAND",
    "RANGE_GRADED",
    "RANGE_LINEAR",
    "RANGE_MODE_CODES",
    "RANGE_NONE",
    "RANGE_RULE_NAMES",
    "RESULT_CODE_NAMES",
    "RULE_CHILDREN",
    "RULE_EMPTY",
    "RULE_EXPLICIT",
    "RULE_MIXED",
    "RULE_NAMES",
    "RULE_SAME_UNIT",
    "RULE_SETTINGS",
    "STALE_NAMES",
    "STALE_NO",
    "STALE_NONE",
    "STALE_YES",
    "STATUS_AT_RISK",
    "STATUS_BEHIND",
    "STATUS_CODES",
    "STATUS_NONE",
    "STATUS_OFF_TRACK",
    "STATUS_ON_TRACK",
    "TREND_NAMES",
    "TREND_NONE",
    "TREND_PROGRESSED",
    "TREND_REGRESSED",
    "TREND_STALLED",
    "UNKNOWN_CODE",
    "UNKNOWN_STATUS",
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

# --- range modes (frame column ``kr_range_mode``) -------------------------------------------
RANGE_NONE: Final = 0
"""No range: a plain metric (or a key result of another kind)."""
RANGE_BAND: Final = 1
RANGE_GRADED: Final = 2
RANGE_LINEAR: Final = 3
RANGE_MODE_CODES: Final = {"band": RANGE_BAND, "graded": RANGE_GRADED, "linear": RANGE_LINEAR}
"""Range mode codes (:data:`RANGE_NONE` = no range)."""
RANGE_RULE_NAMES: Final = ("metric", "range:band", "range:graded", "range:linear")
"""The explanation ``rule`` of a metric, by range mode code."""

# --- objective codes (frame columns ``obj_mode``, ``obj_ambition``, ``obj_status``) --------
MODE_AUTO: Final = 0
MODE_MEAN: Final = 1
MODE_SUM: Final = 2
MODE_CODES: Final = {"auto": MODE_AUTO, "mean": MODE_MEAN, "sum": MODE_SUM}
"""Objective rollup mode codes (also the result column ``obj_mode``: mean or sum)."""
MODE_NAMES: Final = tuple(MODE_CODES)
"""The name of each mode code (the keys of :data:`MODE_CODES`, in code order)."""
AMBITION_COMMITTED: Final = 0
AMBITION_ASPIRATIONAL: Final = 1
AMBITION_CODES: Final = {"committed": AMBITION_COMMITTED, "aspirational": AMBITION_ASPIRATIONAL}
STATUS_NONE: Final = -1
STATUS_ON_TRACK: Final = 0
STATUS_BEHIND: Final = 1
STATUS_AT_RISK: Final = 2
STATUS_OFF_TRACK: Final = 3
STATUS_CODES: Final = {"on_track": STATUS_ON_TRACK, "behind": STATUS_BEHIND,
                       "at_risk": STATUS_AT_RISK, "off_track": STATUS_OFF_TRACK}
"""Manual status codes (:data:`STATUS_NONE` = none)."""
UNKNOWN_CODE: Final = 255
"""An unsigned frame code outside every vocabulary (a database value the frame cannot name):
the engine reports the row ``unknown_value``."""
UNKNOWN_STATUS: Final = 100
"""The ``obj_status`` (int8) code of a status outside the vocabulary."""
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
COLOUR_NAMES: Final = ("green", "yellow", "red")
"""The name of each colour code (also the grade band codes); :data:`COLOUR_NONE` is null."""
TREND_NAMES: Final = ("progressed", "stalled", "regressed")
"""The name of each trend code; :data:`TREND_NONE` is null."""
STALE_NONE: Final = -1
"""``kr_stale`` / ``obj_stale``: no check-in history, so no staleness (null)."""
STALE_NO: Final = 0
STALE_YES: Final = 1
STALE_NAMES: Final = ("fresh", "stale")
"""The stored name of each staleness code; :data:`STALE_NONE` is null."""

# --- pace (kernel argument ``pace_rule``, reason column of the pace twin) ---------------------
PACE_RULE_CODES: Final = {"ratio": 0, "difference": 1, "points": 2}
"""The pace rule codes of the batch kernels (with the ``worse`` boundary)."""
PACE_BETTER: Final = 3
"""Added to a :data:`PACE_RULE_CODES` code for the ``better`` boundary (SEMANTICS §11.4)."""
PACE_BOUNDARY_CODES: Final = {"worse": 0, "better": PACE_BETTER}
"""What each pace boundary adds to a :data:`PACE_RULE_CODES` code."""
PACE_REASONS: Final = ("complete", "not_started", "on_pace", "red", "yellow", "ahead_of_yellow")
"""The reason codes of the batch pace twin, by name (the scalar ``pace_reason``)."""

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
ERROR_NAMES: Final = (
    "none", "load", "duplicate_id", "depends_on_invalid", "invalid_timeline", "not_finite",
    "unknown_parent", "alignment_cycle", "no_contributing_metric", "no_sum_unit",
    "mixed_directions", "degenerate_goal", "field_not_finite", "field_negative_weight",
    "field_degenerate", "field_breakpoints", "field_unknown_value", "field_out_of_range",
    "field_timeline",
)
"""The stored name of each error code (``ERR_<NAME>``, lower case); :data:`ERR_NONE` is null."""

# --- objective rollup rules (result column ``obj_rule``) -------------------------------------
RULE_EXPLICIT: Final = 0
RULE_SETTINGS: Final = 1
RULE_SAME_UNIT: Final = 2
RULE_MIXED: Final = 3
RULE_CHILDREN: Final = 4
RULE_EMPTY: Final = 5
RULE_NAMES: Final = ("explicit", "auto:progress_settings", "auto:same_unit", "auto:mixed",
                     "children", "empty")
"""The explanation ``rule`` of each objective rollup rule code."""

# --- stored names of the coded result columns -------------------------------------------------
RESULT_CODE_NAMES: Final[Mapping[str, Mapping[int, str]]] = {
    **{name: dict(enumerate(COLOUR_NAMES)) for name in (
        "colour", "pace_colour", "computed_colour", "forecast_colour", "range_status",
        "grade_band")},
    "trend": dict(enumerate(TREND_NAMES)),
    "stale": dict(enumerate(STALE_NAMES)),
    "mode": dict(enumerate(MODE_NAMES)),
    "rule": dict(enumerate(RULE_NAMES)),
    "error": {code: name for code, name in enumerate(ERROR_NAMES) if code != ERR_NONE},
}
"""Code -> stored name of every coded result column (``colour``, ``trend``... without the
``kr_`` / ``obj_`` prefix).  A code missing from its table is the column's "none"
(:data:`COLOUR_NONE`, :data:`TREND_NONE`, :data:`STALE_NONE`, :data:`ERR_NONE`), stored as
NULL.  Databases (SQLAlchemy and Django result models) and Parquet results store these names;
:func:`okrcore.rows.stored_names` and :func:`okrcore.rows.stored_codes` convert."""
