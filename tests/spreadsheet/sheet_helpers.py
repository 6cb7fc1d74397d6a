"""Helpers of the spreadsheet tests: documents that fit a workbook, engines that recalculate."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from hypothesis import strategies as st

import okrcore
from okrcore import CheckIn, Checkpoint, Document, Milestone, Objective
from okrcore_spreadsheet import find_soffice

Expected = Mapping[tuple[str, str], float | str]

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def soffice_or_skip() -> None:
    """Skip without LibreOffice, except in CI (CI=true), where its absence is a failure."""
    if find_soffice() is not None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("LibreOffice (soffice) is required in CI: .ci/run installs libreoffice-calc")
    pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")


def _ms(moment: datetime) -> datetime:
    return moment - timedelta(microseconds=moment.microsecond % 1000)


def _ms_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _ms(moment)


def _text(value: str) -> str:
    return _ILLEGAL.sub("?", value).replace("\r", "?")


def fit(document: Document) -> Document:
    """Make a generated document representable in a workbook.

    Instants are kept to the millisecond (openpyxl's date resolution), timelines span at least a
    day (an instant is a day number in a spreadsheet: its rounding is ~1e-11 day, which a
    shorter timeline would magnify past 1e-9), names lose characters xlsx cannot store.
    """
    objectives = []
    for obj in document.objectives:
        assert isinstance(obj, Objective)
        start, due = _ms_or_none(obj.start), _ms_or_none(obj.due)
        if start is not None and due is not None and due - start < timedelta(days=1):
            due = start + timedelta(days=1) + (due - start)
        krs = []
        for kr in obj.key_results:
            assert not isinstance(kr, okrcore.InvalidKeyResult)
            kr_due = _ms_or_none(kr.due)
            if kr_due is not None and start is not None and start < kr_due < start + timedelta(
                    days=1):
                kr_due = kr_due + timedelta(days=1)
            changes: dict[str, Any] = {"due": kr_due, "name": _text(kr.name)}
            if kr.check_ins is not None:
                changes["check_ins"] = [CheckIn(_ms(c.at), c.value) for c in kr.check_ins]
            if isinstance(kr, Milestone) and kr.checkpoints is not None:
                changes["checkpoints"] = [Checkpoint(_text(c.name), c.done)
                                          for c in kr.checkpoints]
            krs.append(attrs.evolve(kr, **changes))
        objectives.append(attrs.evolve(obj, start=start, due=due, key_results=krs,
                                       name=_text(obj.name)))
    return attrs.evolve(document, as_of=_ms(document.as_of), objectives=objectives)


TINY = 1e-15
"""Non-zero numbers smaller than this are left out of generated workbooks (see has_subnormal)."""


def has_subnormal(value: object) -> bool:
    """Whether a number anywhere in ``value`` (an attrs instance, sequence or float) is
    non-zero and smaller in magnitude than :data:`TINY` (subnormal numbers included).

    A spreadsheet cannot hold such a number: Excel's smallest positive number is
    2.2250738585072014e-308, and the ``formulas`` package reads a smaller one as 0 (found by
    hypothesis: a target of 1.1e-308 over a start of 0 divides by zero in the workbook).
    Numbers below :data:`TINY` in magnitude count too: the ``formulas`` package reads a cell
    value as if rounded to 15 decimal places, so a red limit of -1e-16 over a value of 0 is hit
    there and not in okrcore or LibreOffice (found by hypothesis: red_low -3.19e-127).
    """
    if isinstance(value, float):
        return 0.0 < abs(value) < TINY
    if isinstance(value, list | tuple):
        return any(has_subnormal(item) for item in value)
    if attrs.has(type(value)):
        fields = attrs.astuple(cast("attrs.AttrsInstance", value), recurse=False)
        return any(has_subnormal(item) for item in fields)
    return False


def workbook_documents() -> st.SearchStrategy[Document]:
    """Generated valid documents, fitted to a workbook (and without subnormal numbers)."""
    from strategies import documents

    generated: st.SearchStrategy[Document] = documents()
    return generated.filter(lambda doc: not has_subnormal(doc)).map(fit)


def close(got: Any, want: float | str) -> bool:
    """A recalculated cell equals okrcore's value: within 1e-9, or the same colour text."""
    if isinstance(want, str):
        return (got or "") == want
    return isinstance(got, int | float) and not isinstance(got, bool) and abs(got - want) <= 1e-9


def libreoffice_values(paths: Sequence[Path], outdir: Path) -> list[Any]:
    """Recalculate workbooks with LibreOffice (one run) and open the results' values."""
    from openpyxl import load_workbook

    from okrcore_spreadsheet import convert

    outputs = convert(paths, outdir, to="xlsx", recalculate=True)
    with warnings.catch_warnings():
        # LibreOffice writes extensions (x14 data bars) that openpyxl drops when reading values
        warnings.simplefilter("ignore", UserWarning)
        return [load_workbook(p, data_only=True) for p in outputs]


def compare_libreoffice(cases: Sequence[tuple[Path, Expected]], outdir: Path) -> None:
    """Every formula cell of every workbook, recalculated by LibreOffice, equals okrcore."""
    books = libreoffice_values([p for p, _ in cases], outdir)
    for (path, expected), book in zip(cases, books, strict=True):
        assert expected, f"{path.name}: no formula cells"
        wrong = {key: (want, book[key[0]][key[1]].value) for key, want in expected.items()
                 if not close(book[key[0]][key[1]].value, want)}
        assert not wrong, f"{path.name}: LibreOffice differs from okrcore at {wrong}"


def compare_formulas(path: Path, expected: Expected) -> None:
    """Every formula cell, recalculated by the ``formulas`` package, equals okrcore."""
    import formulas

    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    values = {k.upper(): v for k, v in solution.items()}
    wrong = {}
    for (sheet, ref), want in expected.items():
        key = f"'[{path.name}]{sheet}'!{ref}".upper()
        got: Any = values[key].value[0][0] if key in values else None
        if hasattr(got, "item"):
            got = got.item()
        if isinstance(got, str) and not isinstance(want, str):
            got = None
        if not close(got, want):
            wrong[(sheet, ref)] = (want, got)
    assert not wrong, f"{path.name}: formulas differs from okrcore at {wrong}"
