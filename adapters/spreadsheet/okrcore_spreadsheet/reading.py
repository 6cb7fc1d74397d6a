"""Import: an OKR workbook (xlsx, ods or a directory of csv files) into an okrcore document.

The reader only maps cells to interchange-document fields; every value is checked by okrcore's
own loader (:func:`okrcore.load`), whose error paths are mapped back to the sheet, the cell
reference and the value.  A bad row becomes an invalid item of the document (evaluation then
reports what depends on it); every other row is kept.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import attrs

import okrcore
from okrcore import Document, DocumentError, InvalidKeyResult, InvalidObjective
from okrcore.evaluate import isoformat

from . import layout as L

__all__ = [
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "ImportResult",
    "SheetError",
    "WorkbookError",
    "read_workbook",
]

class WorkbookError(ValueError):
    """The workbook cannot be read at all (not a workbook, no Settings sheet, bad As of...).

    Also raised for whole-workbook problems that would otherwise lose data without a word: a
    missing required sheet, two sheets whose names differ only in case or surrounding spaces,
    a merged header cell, an input cell holding a formula without a cached value, more rows or
    columns than a spreadsheet holds, or a csv file that is not UTF-8.  The message is one line.
    """


MAX_ROWS: Final = 1_048_576
"""Rows per sheet the import reads at most (a spreadsheet's own limit); more is an error."""
MAX_COLUMNS: Final = 16_384
"""Columns per row the import reads at most (a spreadsheet's own limit); more is an error."""
MAX_CELLS: Final = 1 << 24
"""Cells per sheet (up to each row's last value, repeats counted) the import reads at most."""

_INPUT_SHEETS: Final = (L.SETTINGS, L.OBJECTIVES, L.KEY_RESULTS, L.CHECKINS, L.CHECKPOINTS)
_REQUIRED_SHEETS: Final = (L.SETTINGS, L.OBJECTIVES, L.KEY_RESULTS)


@attrs.frozen
class _Uncached:
    """An input cell holding a formula whose value the file does not store."""

    sheet: str
    cell: str
    formula: str


Raw = str | int | float | bool | datetime | date | _Uncached | None


def _too_many(sheet: str, what: str, limit: int) -> WorkbookError:
    return WorkbookError(f"sheet {sheet!r} has more than {limit} {what} (counting repeated "
                         f"ones); the import reads at most {limit}")


@attrs.frozen
class SheetError:
    """One import error: where it is and what is wrong.

    Attributes
    ----------
    sheet : str
        Sheet name (``Key results``).
    cell : str
        Cell reference (``D7``).
    value : object
        The value found in the cell.
    code : str
        An okrcore error code (``not_a_number``...) or ``unknown_reference``.
    message : str
        What is wrong, naming the field and the value.
    key : str or None
        The row's ID (or the key result a check-in row names), when it has one.
    """

    sheet: str
    cell: str
    value: Any
    code: str
    message: str
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}: {self.message}"


@attrs.frozen
class ImportResult:
    """The document read from a workbook and the errors of the rows that could not be read.

    Attributes
    ----------
    document : Document
        Every row; rows with errors are ``InvalidObjective`` / ``InvalidKeyResult`` items, so
        :func:`okrcore.evaluate` reports what depends on them and evaluates the rest.
    errors : tuple of SheetError
        In sheet order.
    data : dict
        The interchange document as read (before okrcore's checks).
    cells : Mapping[str, tuple[str, str, Any]]
        Interchange path (``objectives[0].key_results[1].target``) → (sheet, cell, value),
        to locate evaluation errors too (see :meth:`locate`).
    """

    document: Document
    errors: tuple[SheetError, ...]
    data: dict[str, Any]
    cells: Mapping[str, tuple[str, str, Any]]

    def locate(self, path: str) -> tuple[str, str, Any] | None:
        """The (sheet, cell, value) of an interchange path, or of its nearest enclosing row."""
        while path:
            if path in self.cells:
                return self.cells[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


# ---------------------------------------------------------------------------------- raw tables

@attrs.frozen
class _Table:
    name: str
    rows: list[list[Raw]]  # row 0 is the header row
    text_only: bool  # csv: every cell is text

    def header_index(self) -> dict[str, int]:
        header = self.rows[0] if self.rows else []
        return {str(h).strip().lower(): i for i, h in enumerate(header)
                if h is not None and str(h).strip()}


def _is_input_sheet(name: str) -> bool:
    return name.strip().lower() in {n.lower() for n in _INPUT_SHEETS}


def _read_xlsx(path: Path) -> dict[str, _Table]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # formatting extensions openpyxl cannot read are irrelevant to an import
            warnings.simplefilter("ignore", UserWarning)
            wb = load_workbook(path, data_only=True)
            formulas = load_workbook(path, data_only=False)
    except Exception as exc:
        raise WorkbookError(f"{path}: not a readable xlsx workbook ({exc})") from None
    tables = {}
    for ws in wb.worksheets:
        if not _is_input_sheet(ws.title):
            continue  # the computed sheets (Summary, People) are not read
        for merged in ws.merged_cells.ranges:
            if merged.min_row == 1 and merged.max_col > merged.min_col:
                raise WorkbookError(f"{ws.title}!{merged.coord}: a merged header cell hides "
                                    "columns; unmerge it and give each column its header")
        # only the cells the file holds (iter_rows would create every empty cell up to the
        # farthest one): memory follows the file, and the limits hold
        cells = ws._cells  # openpyxl's sparse store of the cells in the file
        fcells = formulas[ws.title]._cells
        by_row: dict[int, dict[int, Any]] = {}
        for (r, c), cell in cells.items():
            if cell.value is None:
                source = fcells.get((r, c))
                if source is not None and source.data_type == "f":
                    cell_value: Any = _Uncached(ws.title, source.coordinate, str(source.value))
                else:
                    continue
            else:
                cell_value = cell
            if r > MAX_ROWS:
                raise _too_many(ws.title, "rows", MAX_ROWS)
            if c > MAX_COLUMNS:
                raise _too_many(ws.title, "columns", MAX_COLUMNS)
            by_row.setdefault(r, {})[c] = cell_value
        if sum(max(found) for found in by_row.values()) > MAX_CELLS:
            raise _too_many(ws.title, "cells", MAX_CELLS)
        rows: list[list[Raw]] = []
        for r in range(1, max(by_row, default=0) + 1):
            found = by_row.get(r, {})
            values: list[Raw] = [None] * max(found, default=0)
            for c, cell in found.items():
                if isinstance(cell, _Uncached):
                    values[c - 1] = cell
                    continue
                value = cell.value
                if isinstance(value, datetime) and value.time() == datetime.min.time() \
                        and "h" not in str(cell.number_format).lower():
                    values[c - 1] = value.date()  # a date cell: a day, as in the interchange
                else:
                    values[c - 1] = value
            rows.append(values)
        tables[ws.title] = _Table(ws.title, rows, False)
    return tables


def _ods_value(cell: Any, with_time: set[str], sheet: str, ref: str) -> Raw:
    from odf.namespaces import OFFICENS, TABLENS

    kind = cell.getAttrNS(OFFICENS, "value-type")
    formula = cell.getAttrNS(TABLENS, "formula")
    if formula and not kind:
        return _Uncached(sheet, ref, str(formula))
    if kind in ("float", "percentage", "currency"):
        text = str(cell.getAttrNS(OFFICENS, "value"))
        try:
            number = float(text)
        except ValueError:
            return text  # a malformed value: the text, which okrcore reports as a bad value
        return int(text) if re.fullmatch(r"-?\d+", text) else number
    if kind == "boolean":
        flag = str(cell.getAttrNS(OFFICENS, "boolean-value")).lower()
        return flag == "true" if flag in ("true", "false") else flag
    if kind == "date":
        text = str(cell.getAttrNS(OFFICENS, "date-value"))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text  # okrcore reports it (out of range, or not a date)
        if str(cell.getAttrNS(TABLENS, "style-name")) in with_time:
            return moment
        return moment.date() if moment.time() == datetime.min.time() else moment
    if kind == "string":
        parts = []
        for node in cell.childNodes:
            if node.qname[1] == "p":
                parts.append(str(node))
        return "\n".join(parts)
    return None


def _ods_time_styles(doc: Any) -> set[str]:
    """Cell styles whose date format shows a time: their midnight values are instants, not days."""
    from odf.namespaces import NUMBERNS, STYLENS

    timed = set()
    for container in (doc.automaticstyles, doc.styles):
        for node in container.childNodes:
            if node.qname == (NUMBERNS, "date-style") and any(
                    child.qname == (NUMBERNS, "hours") for child in node.childNodes):
                timed.add(str(node.getAttrNS(STYLENS, "name")))
    cells = set()
    for container in (doc.automaticstyles, doc.styles):
        for node in container.childNodes:
            if node.qname == (STYLENS, "style") and \
                    str(node.getAttrNS(STYLENS, "data-style-name")) in timed:
                cells.add(str(node.getAttrNS(STYLENS, "name")))
    return cells


def _read_ods(path: Path) -> dict[str, _Table]:
    from odf.namespaces import TABLENS
    from odf.opendocument import load
    from odf.table import Table, TableRow

    try:
        doc = load(str(path))
    except Exception as exc:
        raise WorkbookError(f"{path}: not a readable ods workbook ({exc})") from None
    with_time = _ods_time_styles(doc)
    tables = {}

    def count(node: Any, attribute: str) -> int:
        text = node.getAttrNS(TABLENS, attribute)
        try:
            return max(int(text or 1), 1)
        except ValueError:
            raise WorkbookError(f"{path}: table:{attribute}={text!r} is not a count") from None

    for table in doc.spreadsheet.getElementsByType(Table):
        name = str(table.getAttrNS(TABLENS, "name"))
        if not _is_input_sheet(name):
            continue  # the computed sheets (Summary, People) are not read
        rows: list[list[Raw]] = []
        pending = 0  # empty rows not yet added: trailing ones are never expanded
        cells = 0
        for row in table.getElementsByType(TableRow):
            values: list[Raw] = []
            blank = 0  # empty cells not yet added: trailing ones are never expanded
            for cell in row.childNodes:
                if cell.qname[1] not in ("table-cell", "covered-table-cell"):
                    continue
                repeat = count(cell, "number-columns-repeated")
                if not rows and not pending and count(cell, "number-columns-spanned") > 1:
                    raise WorkbookError(
                        f"{name}!{L.column_letter(len(values) + blank)}1: a merged header cell "
                        "hides columns; unmerge it and give each column its header")
                ref = f"{L.column_letter(len(values) + blank)}{len(rows) + pending + 1}"
                value = _ods_value(cell, with_time, name, ref)
                if value is None or (isinstance(value, str) and value == ""):
                    blank += repeat
                    continue
                if len(values) + blank + repeat > MAX_COLUMNS:
                    raise _too_many(name, "columns", MAX_COLUMNS)
                values.extend([None] * blank)
                blank = 0
                values.extend([value] * repeat)
            repeat_rows = count(row, "number-rows-repeated")
            if not values:
                pending += repeat_rows
                continue
            if len(rows) + pending + repeat_rows > MAX_ROWS:
                raise _too_many(name, "rows", MAX_ROWS)
            cells += len(values) * repeat_rows
            if cells > MAX_CELLS:
                raise _too_many(name, "cells", MAX_CELLS)
            rows.extend([[]] * pending)
            pending = 0
            rows.extend([values] * repeat_rows)  # one list, shared: rows are only read
        tables[name] = _Table(name, rows, False)
    return tables


def _read_csv_dir(path: Path) -> dict[str, _Table]:
    directory = path if path.is_dir() else path.parent
    tables = {}
    for file in sorted(directory.glob("*.csv")):
        if not _is_input_sheet(file.stem):
            continue  # the computed sheets (Summary, People) are not read
        try:
            with file.open(newline="", encoding="utf-8-sig") as handle:
                # the export's formula guard (an apostrophe, see layout.csv_guard) is dropped
                rows: list[list[Raw]] = []
                cells = 0
                for r in csv.reader(handle):
                    if len(rows) >= MAX_ROWS:
                        raise _too_many(file.stem, "rows", MAX_ROWS)
                    if len(r) > MAX_COLUMNS:
                        raise _too_many(file.stem, "columns", MAX_COLUMNS)
                    cells += len(r)
                    if cells > MAX_CELLS:
                        raise _too_many(file.stem, "cells", MAX_CELLS)
                    rows.append([L.csv_unguard(c) if c != "" else None for c in r])
        except UnicodeDecodeError as exc:
            raise WorkbookError(f"{file}: not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                                f"at offset {exc.start})") from None
        except csv.Error as exc:
            raise WorkbookError(f"{file}: not a readable csv file ({exc})") from None
        tables[file.stem] = _Table(file.stem, rows, True)
    if not tables:
        raise WorkbookError(f"{directory}: no csv files")
    return tables


# ---------------------------------------------------------------------------------- conversion

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _iso(value: datetime | date) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return isoformat(moment)
    return value.isoformat()


class _Rows:
    """Iterates a table's data rows as (row number, {lower header: value}) with cell refs."""

    def __init__(self, table: _Table) -> None:
        self.table = table
        self.index = table.header_index()

    def __iter__(self) -> Iterator[tuple[int, dict[str, Raw]]]:
        for n, row in enumerate(self.table.rows[1:], start=2):
            values = {h: (row[i] if i < len(row) else None) for h, i in self.index.items()}
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
                continue
            read = _INPUT_HEADERS.get(self.table.name.strip().lower(), frozenset())
            for h, v in values.items():
                if isinstance(v, _Uncached) and h in read:
                    formula = "=" + v.formula.removeprefix("of:").lstrip("=")
                    raise WorkbookError(
                        f"{v.sheet}!{v.cell}: the formula {formula!r} has no "
                        "stored value (the file was saved without computing it); open and "
                        "save it in a spreadsheet application, or type the value")
            yield n, values

    def ref(self, header: str, row: int) -> str:
        index = self.index.get(header.lower())
        return f"{L.column_letter(index if index is not None else 0)}{row}"


class _Reader:
    def __init__(self, tables: Mapping[str, _Table]) -> None:
        self.tables: dict[str, _Table] = {}
        for name, t in tables.items():
            key = name.strip().lower()
            if key in self.tables:
                raise WorkbookError(f"sheets {self.tables[key].name!r} and {name!r} are both "
                                    f"read as the sheet {key!r}; rename or remove one")
            self.tables[key] = t
        self.errors: list[SheetError] = []
        self.cells: dict[str, tuple[str, str, Any]] = {}

    def table(self, name: str) -> _Rows | None:
        t = self.tables.get(name.lower())
        return None if t is None else _Rows(t)

    # conversions: return what goes into the interchange document (okrcore checks it)
    def number(self, rows: _Rows, value: Raw) -> Any:
        if rows.table.text_only and isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            text = value.strip()
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        return value

    def text(self, rows: _Rows, value: Raw) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, datetime | date):
            return _iso(value)
        return value

    def boolean(self, rows: _Rows, value: Raw) -> Any:
        if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
            return value.strip().upper() == "TRUE"
        if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        return value

    def instant(self, rows: _Rows, value: Raw) -> Any:
        if isinstance(value, datetime | date):
            return _iso(value)
        return value

    def choice(self, rows: _Rows, value: Raw) -> Any:
        return value.strip() if isinstance(value, str) else value

    def put(self, out: dict[str, Any], key: str, path: str, rows: _Rows, header: str,
            row: int, values: Mapping[str, Raw], kind: str) -> None:
        raw = values.get(header.lower())
        if raw is None or (isinstance(raw, str) and not raw.strip() and kind != "text"):
            return
        out[key] = getattr(self, kind)(rows, raw)
        self.cells[f"{path}.{key}"] = (rows.table.name, rows.ref(header, row), raw)

    def error(self, rows: _Rows, header: str, row: int, value: Any, code: str,
              message: str, key: Any = None) -> None:
        self.errors.append(SheetError(rows.table.name, rows.ref(header, row), value, code,
                                      message, None if key is None else str(key)))


_OBJECTIVE_FIELDS = (
    ("id", "ID", "text"), ("name", "Name", "text"), ("owner", "Owner", "text"),
    ("parent", "Parent", "text"), ("weight", "Weight", "number"),
    ("start", "Start", "instant"), ("due", "Due", "instant"), ("mode", "Mode", "choice"),
    ("ambition", "Ambition", "choice"), ("status", "Status", "choice"),
    ("include_children", "Include children", "boolean"),
)
_SETTINGS_FIELDS = (
    ("unit", "Sum unit", "text"), ("target", "Sum target", "number"),
    ("auto", "Sum auto", "boolean"), ("start", "Sum start", "number"),
)
_KR_FIELDS = (
    ("id", "ID", "text"), ("kind", "Kind", "choice"), ("name", "Name", "text"),
    ("weight", "Weight", "number"), ("due", "Due", "instant"),
)
_METRIC_FIELDS = (
    ("unit", "Unit", "text"), ("start", "Start", "number"), ("target", "Target", "number"),
    ("current", "Current", "number"),
)
_RANGE_FIELDS = (
    ("red_low", "Red low", "number"), ("yellow_low", "Yellow low", "number"),
    ("yellow_high", "Yellow high", "number"), ("red_high", "Red high", "number"),
    ("mode", "Range mode", "choice"),
)
_POLICY_FIELDS = {
    "Preset": ("preset", "choice"), "Aspirational success": ("aspirational_success", "number"),
    "Stale days": ("stale_days", "number"), "Strict breakpoints": ("strict_breakpoints",
                                                                   "boolean"),
    "Grade yellow": ("grade_yellow", "number"), "Grade green": ("grade_green", "number"),
}



def _headers(*fields: tuple[tuple[str, str, str], ...]) -> frozenset[str]:
    return frozenset(header.lower() for group in fields for _, header, _ in group)


_INPUT_HEADERS: Final = {
    L.SETTINGS.lower(): frozenset({"setting", "value"}),
    L.OBJECTIVES.lower(): _headers(_OBJECTIVE_FIELDS, _SETTINGS_FIELDS),
    L.KEY_RESULTS.lower(): _headers(_KR_FIELDS, _METRIC_FIELDS, _RANGE_FIELDS) | {
        "objective", "owners", "done", "stages total", "stages done", "history"},
    L.CHECKINS.lower(): frozenset({"key result", "at", "value"}),
    L.CHECKPOINTS.lower(): frozenset({"key result", "name", "done"}),
}
"""The columns the import reads, per sheet (the others are computed or the user's own)."""

_POLICY_LABELS = {key: label for label, (key, _) in _POLICY_FIELDS.items()} | {
    "cap": "Cap", "pace_rule": "Pace rule", "pace_yellow": "Pace yellow", "pace_red": "Pace red",
    "pace_boundary": "Pace boundary"}


def _settings(reader: _Reader) -> tuple[Any, dict[str, Any]]:
    rows = reader.table(L.SETTINGS)
    if rows is None:
        raise WorkbookError(f"the workbook has no sheet {L.SETTINGS!r} (with the row 'As of')")
    found: dict[str, tuple[int, Raw]] = {}
    for n, values in rows:
        label = values.get("setting")
        if isinstance(label, str) and label.strip():
            found[label.strip().lower()] = (n, values.get("value"))

    def where(label: str) -> str:
        n = found.get(label.lower(), (0, None))[0]
        return f"{L.SETTINGS}!{rows.ref('Value', n)}" if n else f"{L.SETTINGS} sheet"

    as_of = found.get("as of", (0, None))[1]
    if as_of is None:
        raise WorkbookError(f"{where('As of')}: the row 'As of' with the instant of evaluation "
                            "is required")
    policy: dict[str, Any] = {}
    for label, (key, kind) in _POLICY_FIELDS.items():
        value = found.get(label.lower(), (0, None))[1]
        if value is not None:
            policy[key] = getattr(reader, kind)(rows, value)
    cap = found.get("cap", (0, None))[1]
    if isinstance(cap, str) and cap.strip().lower() == "none":
        policy["cap"] = None
    elif cap is not None:
        policy["cap"] = reader.number(rows, cap)
    pace = {key: found.get(label.lower(), (0, None))[1]
            for key, label in (("rule", "pace rule"), ("yellow", "pace yellow"),
                               ("red", "pace red"))}
    if any(v is not None for v in pace.values()):
        policy["pace"] = {"rule": reader.choice(rows, pace["rule"]),
                          "yellow": reader.number(rows, pace["yellow"]),
                          "red": reader.number(rows, pace["red"])}
        boundary = found.get("pace boundary", (0, None))[1]
        if boundary is not None:
            policy["pace"]["boundary"] = reader.choice(rows, boundary)
    return reader.instant(rows, as_of), {"policy": policy, "where": where}


def _build(reader: _Reader) -> dict[str, Any]:
    as_of, extra = _settings(reader)
    objectives: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    obj_rows = reader.table(L.OBJECTIVES)
    if obj_rows is not None:
        for n, values in obj_rows:
            path = f"objectives[{len(objectives)}]"
            out: dict[str, Any] = {"key_results": []}
            reader.cells[path] = (L.OBJECTIVES, obj_rows.ref("ID", n), values.get("id"))
            for key, header, kind in _OBJECTIVE_FIELDS:
                reader.put(out, key, path, obj_rows, header, n, values, kind)
            settings: dict[str, Any] = {}
            for key, header, kind in _SETTINGS_FIELDS:
                reader.put(settings, key, f"{path}.progress_settings", obj_rows, header, n,
                           values, kind)
            if settings:
                out["progress_settings"] = settings
            objectives.append(out)
            if isinstance(out.get("id"), str):
                by_id.setdefault(out["id"], out)
    paths = {id(o): f"objectives[{i}]" for i, o in enumerate(objectives)}
    history: dict[str, list[tuple[int, Raw, Raw]]] = {}
    ci_rows = reader.table(L.CHECKINS)
    if ci_rows is not None:
        for n, values in ci_rows:
            history.setdefault(str(reader.text(ci_rows, values.get("key result"))), []).append(
                (n, values.get("at"), values.get("value")))
    points: dict[str, list[tuple[int, Raw, Raw]]] = {}
    cp_rows = reader.table(L.CHECKPOINTS)
    if cp_rows is not None:
        for n, values in cp_rows:
            points.setdefault(str(reader.text(cp_rows, values.get("key result"))), []).append(
                (n, values.get("name"), values.get("done")))
    used: set[str] = set()
    kr_rows = reader.table(L.KEY_RESULTS)
    if kr_rows is not None:
        for n, values in kr_rows:
            owner_id = reader.text(kr_rows, values.get("objective"))
            objective = by_id.get(owner_id) if isinstance(owner_id, str) else None
            if objective is None:
                reader.error(kr_rows, "Objective", n, values.get("objective"),
                             "unknown_reference",
                             f"objective {values.get('objective')!r} is not in the "
                             f"{L.OBJECTIVES} sheet; the key result is not imported",
                             values.get("id"))
                continue
            path = f"{paths[id(objective)]}.key_results[{len(objective['key_results'])}]"
            kr = _key_result(reader, kr_rows, n, values, path, history, points, used,
                             (ci_rows, cp_rows))
            objective["key_results"].append(kr)
    for name, (table, entries) in ((L.CHECKINS, (ci_rows, history)),
                                   (L.CHECKPOINTS, (cp_rows, points))):
        for ident, listed in entries.items():
            if ident in used or table is None:
                continue
            for n, _, _ in listed:
                reader.error(table, "Key result", n, ident, "unknown_reference",
                             f"key result {ident!r} is not in the {L.KEY_RESULTS} sheet; the "
                             f"{name[:-1].lower()} row is not imported", ident)
    return {"okrcore": 1, "as_of": as_of, "policy": extra["policy"], "objectives": objectives,
            "_where": extra["where"]}


def _key_result(reader: _Reader, rows: _Rows, n: int, values: Mapping[str, Raw], path: str,
                history: Mapping[str, list[tuple[int, Raw, Raw]]],
                points: Mapping[str, list[tuple[int, Raw, Raw]]], used: set[str],
                tables: tuple[_Rows | None, _Rows | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reader.cells[path] = (L.KEY_RESULTS, rows.ref("ID", n), values.get("id"))
    for key, header, conv in _KR_FIELDS:
        reader.put(out, key, path, rows, header, n, values, conv)
    owners = values.get("owners")
    if owners is not None and str(owners).strip():
        out["owners"] = [o.strip() for o in str(owners).split(",") if o.strip()]
        reader.cells[f"{path}.owners"] = (L.KEY_RESULTS, rows.ref("Owners", n), owners)
    kind = out.get("kind")
    if kind == "metric":
        for key, header, conv in _METRIC_FIELDS:
            reader.put(out, key, path, rows, header, n, values, conv)
        bounds: dict[str, Any] = {}
        for key, header, conv in _RANGE_FIELDS:
            reader.put(bounds, key, f"{path}.range", rows, header, n, values, conv)
        if bounds:
            out["range"] = bounds
            reader.cells[f"{path}.range"] = (L.KEY_RESULTS, rows.ref("Range mode", n),
                                             values.get("range mode"))
    elif kind in ("binary", "milestone"):
        reader.put(out, "done", path, rows, "Done", n, values, "boolean")
        if kind == "milestone":
            reader.put(out, "stages_total", path, rows, "Stages total", n, values, "number")
            reader.put(out, "stages_done", path, rows, "Stages done", n, values, "number")
    ident = out.get("id")
    key = {"metric": "value", "binary": "done"}.get(str(kind),
                                                     "stages_done" if "stages_total" in out
                                                     else "done")
    conv = "number" if key in ("value", "stages_done") else "boolean"
    ci_rows, cp_rows = tables
    flag = values.get("history")
    marked = reader.boolean(rows, flag) if flag is not None and str(flag).strip() else False
    if not isinstance(marked, bool):
        # not a boolean ('maybe'): okrcore's loader reports it, located at the History cell
        out["check_ins"] = marked
        reader.cells[f"{path}.check_ins"] = (L.KEY_RESULTS, rows.ref("History", n), flag)
        if isinstance(ident, str) and ident in history:
            used.add(ident)  # the key result's error covers its check-in rows
    elif isinstance(ident, str) and ident in history and ci_rows is not None:
        used.add(ident)
        entries = []
        for i, (row, at, value) in enumerate(history[ident]):
            entry: dict[str, Any] = {}
            if at is not None:
                entry["at"] = reader.instant(ci_rows, at)
            if value is not None:
                entry[key] = getattr(reader, conv)(ci_rows, value)
            cpath = f"{path}.check_ins[{i}]"
            reader.cells[cpath] = (L.CHECKINS, ci_rows.ref("Key result", row), ident)
            reader.cells[f"{cpath}.at"] = (L.CHECKINS, ci_rows.ref("At", row), at)
            reader.cells[f"{cpath}.{key}"] = (L.CHECKINS, ci_rows.ref("Value", row), value)
            entries.append(entry)
        out["check_ins"] = entries
        reader.cells[f"{path}.check_ins"] = reader.cells[f"{path}.check_ins[0]"]
    elif marked is True:
        out["check_ins"] = []
    if isinstance(ident, str) and ident in points and cp_rows is not None:
        used.add(ident)
        listed = []
        for i, (row, name, done) in enumerate(points[ident]):
            point: dict[str, Any] = {"name": reader.text(cp_rows, name)}
            if done is not None:
                point["done"] = reader.boolean(cp_rows, done)
            cpath = f"{path}.checkpoints[{i}]"
            reader.cells[cpath] = (L.CHECKPOINTS, cp_rows.ref("Name", row), name)
            reader.cells[f"{cpath}.name"] = reader.cells[cpath]
            reader.cells[f"{cpath}.done"] = (L.CHECKPOINTS, cp_rows.ref("Done", row), done)
            listed.append(point)
        out["checkpoints"] = listed
        reader.cells[f"{path}.checkpoints"] = reader.cells[f"{path}.checkpoints[0]"]
    return out


def _tables(path: Path) -> dict[str, _Table]:
    suffix = path.suffix.lower()
    if path.is_dir() or suffix == ".csv":
        return _read_csv_dir(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".ods":
        return _read_ods(path)
    raise WorkbookError(f"{path}: expected an .xlsx, .ods or .csv file or a directory of csv "
                        "files")


def read_workbook(path: str | os.PathLike[str]) -> ImportResult:
    """Read an OKR workbook into an okrcore document.

    Parameters
    ----------
    path : path
        An ``.xlsx`` or ``.ods`` workbook, or a directory of csv files named after the sheets
        (``Settings.csv``, ``Objectives.csv``, ``Key results.csv``, ...), or one of those files.

    Returns
    -------
    ImportResult
        The document (bad rows as invalid items) and the errors, each naming the sheet, the
        cell and the value: ``Key results!J7: target must be a number, got '12k'``.

    Raises
    ------
    WorkbookError
        When the file is not a workbook, or the Settings sheet is missing or unusable.
    """
    reader = _Reader(_tables(Path(path)))
    data = _build(reader)
    where = data.pop("_where")
    try:
        document = okrcore.Document.from_dict(data)
    except DocumentError as exc:
        text = str(exc)
        field = re.match(r"policy\.(\w+)(?:\.(\w+))?", text)
        label = "As of"
        if field is not None:
            name = field.group(1) if field.group(1) != "pace" else f"pace_{field.group(2)}"
            label = _POLICY_LABELS.get(name, "Preset")
        raise WorkbookError(f"{where(label)}: {text}") from None
    missing = [n for n in _REQUIRED_SHEETS if n.lower() not in reader.tables]
    if missing:  # without them every row of the others would be dropped
        raise WorkbookError(f"the workbook has no sheet {missing[0]!r}; nothing was imported")
    errors = list(reader.errors)
    result = ImportResult(document, (), data, dict(reader.cells))
    for obj in document.objectives:
        listed = list(obj.errors) if isinstance(obj, InvalidObjective) else []
        for kr in obj.key_results:
            if isinstance(kr, InvalidKeyResult):
                listed.extend(kr.errors)
        for error in listed:
            sheet, cell, value = result.locate(error.path) or (L.OBJECTIVES, "A1", None)
            errors.append(SheetError(sheet, cell, value, error.code, error.message))
    order = {name: i for i, name in enumerate(
        (L.SETTINGS, L.OBJECTIVES, L.KEY_RESULTS, L.CHECKINS, L.CHECKPOINTS))}

    def key(e: SheetError) -> tuple[int, int, str]:
        match = re.fullmatch(r"([A-Z]+)(\d+)", e.cell)
        row = int(match.group(2)) if match else 0
        return order.get(e.sheet, 9), row, e.cell

    return attrs.evolve(result, errors=tuple(sorted(errors, key=key)))
