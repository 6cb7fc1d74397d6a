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
    "CSV_FORMULA_STARTS",
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
    "csv_guard",
    "csv_unguard",
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
SUMMARY_COLUMNS: Final = ("Objective", "Name", "Progress", "Expected", "Status", "Colour")
"""Columns of the Summary sheet (written on export, ignored on import); ``Status`` is the
manual status, so a colour it sets is visibly the status's."""


def column_letter(index: int) -> str:
    """The spreadsheet column letters of a 0-based column index (0 → ``A``, 26 → ``AA``)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


CSV_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a csv cell as a formula (OWASP)."""


def _guarded(text: str) -> bool:
    """Whether ``text`` needs the csv guard.

    It does when it starts with a formula character, possibly after apostrophes (so that a text
    that genuinely starts with ``'=`` keeps its apostrophe).
    """
    return text.lstrip("'").startswith(CSV_FORMULA_STARTS)


def csv_guard(text: str) -> str:
    """A text cell as written to csv: an apostrophe before a cell a spreadsheet would run.

    A text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or with
    apostrophes followed by one of those) gets one ``'`` in front, so that a spreadsheet opening
    the csv reads it as text (OWASP's guidance on CSV injection).  Any other text is written as
    is; :func:`csv_unguard` undoes this exactly.
    """
    return "'" + text if _guarded(text) else text


def csv_unguard(text: str) -> str:
    """The inverse of :func:`csv_guard`: drop the apostrophe it adds, and only that one.

    ``csv_unguard(csv_guard(t)) == t`` for every text ``t``; a cell that :func:`csv_guard`
    cannot have written (``'abc``) is returned unchanged.
    """
    return text[1:] if text.startswith("'") and _guarded(text[1:]) else text
