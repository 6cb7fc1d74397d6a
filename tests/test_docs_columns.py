"""docs/batch.rst lists every column of a frame and of a batch result, with its dtype.

The column tables of the user guide are parsed from the page and compared with the array fields
of :class:`okrcore.batch.frame.OrgFrame` and :class:`okrcore.batch.engine.BatchResult`, so that a
column added, renamed or retyped without its documentation fails here.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import attrs
import numpy as np

from okrcore.batch.engine import BatchResult
from okrcore.batch.frame import OrgFrame

PAGE = Path(__file__).resolve().parent.parent / "docs" / "batch.rst"


def _array_dtypes(cls: type) -> dict[str, str]:
    """The dtype name of every array field of an attrs class, read from its annotations."""
    hints = typing.get_type_hints(cls)
    out = {}
    for field in attrs.fields(cls):
        hint = hints[field.name]
        if typing.get_origin(hint) is np.ndarray:
            (scalar,) = typing.get_args(typing.get_args(hint)[1])
            out[field.name] = np.dtype(scalar).name
    return out


def _section(text: str, title: str) -> str:
    """The text of a section of the page, from its title to the next title of any level."""
    match = re.search(rf"^{re.escape(title)}\n[-~=]+\n(.*?)(?=^\S[^\n]*\n[-~=]{{3,}}\n)", text,
                      re.S | re.M)
    assert match, f"docs/batch.rst has no section {title!r}"
    return match.group(1)


def _dtypes(cell: str, count: int) -> list[str]:
    """One dtype per column named: a cell lists one for all ("float64") or one each."""
    out = [part.strip() for part in cell.split(",")]
    return out * count if len(out) == 1 else out


def documented(title: str) -> dict[str, str]:
    """Column -> dtype, from the list-tables of one section of docs/batch.rst."""
    rows: dict[str, str] = {}
    cells: list[list[str]] = []
    for line in _section(PAGE.read_text(encoding="utf-8"), title).splitlines():
        stripped = line.strip()
        if stripped.startswith("* - "):
            cells.append([stripped[4:]])
        elif stripped.startswith("- ") and cells:
            cells[-1].append(stripped[2:])
        elif stripped and cells and line.startswith("       "):
            cells[-1][-1] += " " + stripped
    for row in cells:
        names = re.findall(r"``(\w+)``", row[0])
        if not names or row[1] == "dtype":
            continue
        dtypes = _dtypes(row[1], len(names))
        assert len(dtypes) == len(names), f"{row[0]}: {len(names)} names, dtypes {row[1]!r}"
        for name, dtype in zip(names, dtypes, strict=True):
            assert name not in rows, f"{name} is listed twice"
            rows[name] = dtype
    return rows


def test_every_frame_column_is_documented_with_its_dtype() -> None:
    docs = documented("Frame columns")
    # the owners are CSR, described in a paragraph of their own
    text = PAGE.read_text(encoding="utf-8")
    assert "``kr_owner_offsets`` (int64" in text and "``kr_owner_ids`` (int32" in text
    expected = {k: v for k, v in _array_dtypes(OrgFrame).items()
                if k not in ("kr_owner_offsets", "kr_owner_ids")}
    assert docs == expected


def test_every_result_column_is_documented_with_its_dtype() -> None:
    assert documented("Result columns") == _array_dtypes(BatchResult)
