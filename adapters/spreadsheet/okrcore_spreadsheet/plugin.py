"""The ``workbook`` source and sink of ``okrcore recompute``.

okrcore finds :data:`WORKBOOK` through its entry points (groups ``okrcore.sources`` and
``okrcore.sinks``, name ``workbook``; :mod:`okrcore.jobs.adapters`), so the core never imports
this package.  A workbook read for the job places every row error in its sheet and cell, with
the value found there, and reports the rows it could not attach to anything, so no row is
dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

import attrs

import okrcore_spreadsheet as sheets
from okrcore.errors import OkrError
from okrcore.jobs.adapters import SourceData, SourceReadError
from okrcore.jobs.report import RowError
from okrcore.model import Document
from okrcore.results import Evaluation

from .reading import ImportResult, WorkbookError

__all__ = ["WORKBOOK", "Workbook"]

_SHEET_TABLES: Final = {"Objectives": "objectives", "Key results": "key_results",
                        "Check-ins": "check_ins", "Checkpoints": "checkpoints"}


def _placer(loaded: ImportResult) -> Callable[[OkrError], OkrError]:
    def place(error: OkrError) -> OkrError:
        where = loaded.locate(error.path)
        if where is None or error.message.startswith(f"{where[0]}!"):
            return error
        sheet, cell, value = where
        shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
        return attrs.evolve(error, message=f"{sheet}!{cell} (value {shown}): {error.message}")

    return place


class Workbook:
    """The ``workbook`` source and sink: ``.xlsx``, ``.xlsm`` and ``.ods`` (a ``.csv`` source)."""

    def describe(self, spec: str) -> str:
        """The path as given."""
        return spec

    def read(self, spec: str) -> SourceData:
        """The workbook's organisation (:func:`~okrcore_spreadsheet.read_workbook`).

        A whole-workbook problem (unreadable, a missing or ambiguous sheet, a merged header, a
        formula without a stored value, too many rows) is a one-line
        :class:`~okrcore.jobs.adapters.SourceReadError`.  The errors of rows the import kept
        (as invalid items) are placed in their cells; the rows it could not attach to anything
        (a key result naming an unknown objective, a check-in naming an unknown key result)
        are the :attr:`~okrcore.jobs.adapters.SourceData.unattached` rows.
        """
        try:
            loaded = sheets.read_workbook(spec)
        except (OSError, WorkbookError) as exc:
            raise SourceReadError(f"cannot read {spec}: {exc}", str(exc)) from None
        unattached = tuple(
            RowError(_SHEET_TABLES.get(s.sheet, s.sheet), s.key or f"{s.sheet}!{s.cell}",
                     OkrError(s.code, f"{s.sheet}!{s.cell}", str(s)))
            for s in loaded.errors
            # the rows kept as invalid items are reported through the evaluation
            if s.code == "unknown_reference")
        place = _placer(loaded)
        return SourceData(loaded.document, unattached, place)

    def write(self, path: Path, document: Document, evaluation: Evaluation) -> None:
        """Write the workbook with live formulas (:func:`~okrcore_spreadsheet.write_workbook`)."""
        sheets.write_workbook(path, document, evaluation)  # the public name (tests patch it)


WORKBOOK: Final = Workbook()
"""The object okrcore's entry points name (``okrcore_spreadsheet.plugin:WORKBOOK``)."""
