"""The workbook layout: sheet names and column headers, shared by import, export and the template.

Columns are identified by their header text in row 1 (case-insensitive, surrounding spaces
ignored), never by their letter, so users may reorder columns and add their own.  *Input*
columns are read on import; *computed* columns are written on export and ignored on import.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CHECKINS",
    "CHECKIN_COLUMNS",
    "CHECKPOINTS",
    "CHECKPOINT_COLUMNS",
    "KEY_RESULTS",
    "KR_COLUMNS",
    "KR_COMPUTED",
    "OBJECTIVES",
    "OBJECTIVE_COLUMNS",
    "OBJECTIVE_COMPUTED",
    "PEOPLE",
    "PEOPLE_COLUMNS",
    "SETTINGS",
    "SETTING_ROWS",
    "SUMMARY",
    "SUMMARY_COLUMNS",
    "column_letter",
]

SETTINGS: Final = "Settings"
OBJECTIVES: Final = "Objectives"
KEY_RESULTS: Final = "Key results"
CHECKINS: Final = "Check-ins"
CHECKPOINTS: Final = "Checkpoints"
PEOPLE: Final = "People"
SUMMARY: Final = "Summary"

SETTING_ROWS: Final = (
    "As of", "Preset", "Cap", "Pace rule", "Pace yellow", "Pace red",
    "Aspirational success", "Stale days", "Strict breakpoints", "Grade yellow", "Grade green",
    "Pace boundary",
)
"""Row labels of the Settings sheet (column A ``Setting``, column B ``Value``)."""

OBJECTIVE_COLUMNS: Final = (
    "ID", "Name", "Owner", "Parent", "Weight", "Start", "Due", "Mode", "Ambition", "Status",
    "Include children", "Sum unit", "Sum target", "Sum auto", "Sum start",
)
"""Input columns of the Objectives sheet."""
OBJECTIVE_COMPUTED: Final = (
    "Expected", "Summed raw", "Raw progress", "Progress", "Pace colour", "Computed colour",
    "Colour", "Grade", "Trend", "Stale", "Forecast progress", "Errors",
)
"""Computed columns of the Objectives sheet (written on export)."""

KR_COLUMNS: Final = (
    "Objective", "ID", "Name", "Kind", "Owners", "Weight", "Due", "Unit", "Start", "Target",
    "Current", "Done", "Stages total", "Stages done", "Red low", "Yellow low", "Yellow high",
    "Red high", "Range mode", "History",
)
"""Input columns of the Key results sheet."""
KR_COMPUTED: Final = (
    "Value", "Raw progress", "Progress", "Expected", "Pace colour", "Range status", "Colour",
    "Trend", "Stale", "Forecast value", "Forecast progress", "Errors",
)
"""Computed columns of the Key results sheet (written on export)."""

CHECKIN_COLUMNS: Final = ("Key result", "At", "Value")
"""Columns of the Check-ins sheet."""
CHECKPOINT_COLUMNS: Final = ("Key result", "Name", "Done")
"""Columns of the Checkpoints sheet."""
PEOPLE_COLUMNS: Final = ("Person", "Progress", "Items", "Errors")
"""Columns of the People sheet (written on export, ignored on import)."""
SUMMARY_COLUMNS: Final = ("Objective", "Name", "Progress", "Expected", "Colour")
"""Columns of the Summary sheet (written on export, ignored on import)."""


def column_letter(index: int) -> str:
    """The spreadsheet column letters of a 0-based column index (0 → ``A``, 26 → ``AA``)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out
