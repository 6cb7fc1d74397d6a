"""okrcore spreadsheet adapter: OKR workbooks in, live-formula workbooks out.

Install with ``pip install 'okrcore[spreadsheet]'``.  The layout is documented in
``docs/spreadsheet.rst``; okrcore is the reference for every value, the workbook formulas restate
its rules and are proven equal to it by the tests.
"""

from __future__ import annotations

try:
    import odf  # noqa: F401
    import openpyxl  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "okrcore_spreadsheet needs openpyxl and odfpy: pip install 'okrcore[spreadsheet]'"
    ) from exc

from .libreoffice import LibreOfficeError, convert, find_soffice
from .reading import ImportResult, SheetError, WorkbookError, read_workbook
from .template import write_template
from .writing import ExportReport, Formula, build_sheets, write_csv, write_workbook

__all__ = [
    "ExportReport",
    "Formula",
    "ImportResult",
    "LibreOfficeError",
    "SheetError",
    "WorkbookError",
    "build_sheets",
    "convert",
    "find_soffice",
    "read_workbook",
    "write_csv",
    "write_template",
    "write_workbook",
]
