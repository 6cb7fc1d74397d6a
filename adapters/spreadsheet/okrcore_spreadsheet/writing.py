"""Export: a document and its evaluation as a workbook whose computed cells are live formulas.

okrcore is the reference.  Every formula written here restates one rule of ``docs/spec.rst`` in
spreadsheet syntax, and the tests prove each one equal to okrcore's value by recalculating the
workbook in LibreOffice and in the ``formulas`` package.  Which items a rollup counts, which mode
it uses and which breakpoints exist is *structure*, decided by okrcore at export time; numbers
(values, targets, starts, weights, breakpoints, dates, the as-of instant, the cap and the pace
thresholds) are live cell references.  The cells that are written as values, not formulas, are
listed in the layout reference (``docs/spreadsheet.rst``).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

import okrcore
from okrcore import (
    Binary,
    Document,
    Evaluation,
    InvalidKeyResult,
    InvalidObjective,
    KeyResult,
    Metric,
    Milestone,
    Objective,
)
from okrcore.evaluate import done_or_not, isoformat

from . import layout as L

__all__ = [
    "ExportReport",
    "Formula",
    "Sheet",
    "build_sheets",
    "save_sheets",
    "write_csv",
    "write_workbook",
]

Scalar = float | int | str | bool | datetime | None

TOLERANCE = "1E-9"
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
PERCENT_FORMAT = "0.0%"


@attrs.frozen
class Formula:
    """A formula (without the leading ``=``) and okrcore's value for it, the cached result."""

    text: str
    cached: float | str


@attrs.frozen
class ExportReport:
    """What :func:`write_workbook` wrote.

    Attributes
    ----------
    path : Path
        The workbook.
    formulas : Mapping[tuple[str, str], float | str]
        Every formula cell, ``(sheet, "B7")``, with okrcore's value stored as its cached result
        (``""`` for a null colour).
    """

    path: Path
    formulas: Mapping[tuple[str, str], float | str]


@attrs.define
class Sheet:
    """One sheet: headers and rows of cells (values or :class:`Formula`)."""

    name: str
    headers: list[str]
    rows: list[dict[str, Scalar | Formula]] = attrs.Factory(list)

    def col(self, header: str) -> str:
        """The column letter of a header."""
        return L.column_letter(self.headers.index(header))

    def ref(self, header: str, row: int, here: str | None = None) -> str:
        """A reference to the cell of ``header`` in data row ``row`` (0-based)."""
        cell = f"{self.col(header)}{row + 2}"
        if here == self.name:
            return cell
        return f"{_quote(self.name)}!{cell}"


def _quote(name: str) -> str:
    return f"'{name}'" if re.search(r"[^A-Za-z0-9_]", name) else name


def _naive_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _approx_le(a: str, b: str) -> str:
    """``a <= b`` with okrcore's relative tolerance (spec 1.4)."""
    return f"OR({a}<={b},ABS({a}-{b})<={TOLERANCE}*MAX(ABS({a}),ABS({b})))"


def _pace(p: str, e: str, rule: str, yellow: str, red: str, boundary: str = "worse") -> str:
    """Pace colour of progress ``p`` against expected ``e`` (spec 7.3).

    With ``boundary`` ``"better"`` a value on a threshold (within the tolerance) keeps the
    better colour: behind means not ``bound <= p`` (SEMANTICS §11.4), written by swapping the
    branches of the IFs (not every engine has ``NOT``).
    """

    def bound(threshold: str) -> str:
        if rule == "ratio":
            return f"{threshold}*{e}"
        if rule == "difference":
            return f"({e}+{threshold})"
        return f"({e}-{threshold}/100)"

    green = f'OR({_approx_le("1", p)},{e}<=0,{_approx_le(e, p)})'
    if boundary == "better":
        return (f'IF({green},"green",IF({_approx_le(bound(red), p)},'
                f'IF({_approx_le(bound(yellow), p)},"green","yellow"),"red"))')
    return (f'IF({green},"green",IF({_approx_le(p, bound(red))},"red",'
            f'IF({_approx_le(p, bound(yellow))},"yellow","green")))')


def _worst(cells: Sequence[str], paced: bool) -> str:
    """The worst colour of some colour cells (spec 7.4).

    Empty cells (null colours: no timeline, SEMANTICS §11.1) are ignored, and all empty gives
    empty.  With null progress (``paced`` false) a breakpoint colours only when it is hit
    (yellow or red): nothing hit leaves the colour empty (null).
    """

    def any_is(colour: str) -> str:
        return "OR(" + ",".join(f'{c}="{colour}"' for c in cells) + ")"

    rest = f'IF({any_is("green")},"green","")' if paced else '""'
    return f'IF({any_is("red")},"red",IF({any_is("yellow")},"yellow",{rest}))'


def _clamp(raw: str, cap: float | None) -> str:
    """Progress from raw progress: ``MIN(MAX(r, 0), cap)`` (spec 3)."""
    settings = _settings_ref("Cap")
    return f"MAX({raw},0)" if cap is None else f"MIN(MAX({raw},0),{settings})"


def _settings_ref(label: str) -> str:
    return f"{L.SETTINGS}!$B${L.SETTING_ROWS.index(label) + 2}"


def _expected(start: str, due: str) -> str:
    """Expected progress on a linear timeline (spec 7.2)."""
    as_of = _settings_ref("As of")
    return f"MIN(MAX(({as_of}-{start})/({due}-{start}),0),1)"


def _sum(terms: Sequence[str]) -> str:
    return "(" + "+".join(terms) + ")"


def _hits(value: str, limit: str, low: bool, strict: bool) -> str:
    op = ("<" if low else ">") + ("" if strict else "=")
    return f"{value}{op}{limit}"


def _range_conditions(kr: Metric, ref: Callable[[str], str], value: str, strict: bool,
                      level: str) -> list[str]:
    assert kr.range is not None
    out = []
    for attr, header, low in ((f"{level}_low", f"{level.capitalize()} low", True),
                              (f"{level}_high", f"{level.capitalize()} high", False)):
        if getattr(kr.range, attr) is not None:
            out.append(_hits(value, ref(header), low, strict))
    return out


def _or(conditions: Sequence[str]) -> str:
    return "OR(" + ",".join(conditions) + ")" if conditions else "FALSE"


def _graded(kr: Metric, ref: Callable[[str], str], v: str) -> str:
    """Graded range progress (spec 2.5): 1 inside the yellow limits, linear to 0 at red."""
    assert kr.range is not None
    r = kr.range
    high = ref("Yellow high") if r.yellow_high is not None else ref("Target")
    low = ref("Yellow low") if r.yellow_low is not None else ref("Target")
    formula = "1"
    if r.red_low is not None:
        rl = ref("Red low")
        formula = (f"IF({v}<{low},IF({v}<={rl},0,MIN(MAX(({v}-{rl})/({low}-{rl}),0),1)),"
                   f"{formula})")
    if r.red_high is not None:
        rh = ref("Red high")
        formula = (f"IF({v}>{high},IF({v}>={rh},0,MIN(MAX(({rh}-{v})/({rh}-{high}),0),1)),"
                   f"{formula})")
    return formula


def _kr_total(kr: KeyResult) -> int | None:
    if isinstance(kr, Milestone) and (kr.stages_total is not None or kr.checkpoints):
        return kr.total
    return None


def _kr_inputs(kr: KeyResult, objective: Objective) -> dict[str, Scalar | Formula]:
    row: dict[str, Scalar | Formula] = {
        "Objective": objective.id, "ID": kr.id, "Name": kr.name, "Kind": kr.kind,
        "Owners": ", ".join(kr.owners), "Weight": kr.weight, "Due": _naive_utc(kr.due),
        "History": True if kr.check_ins is not None else None,
    }
    if isinstance(kr, Metric):
        row.update({"Unit": kr.unit, "Start": kr.start, "Target": kr.target,
                    "Current": kr.current})
        if kr.range is not None:
            row.update({"Red low": kr.range.red_low, "Yellow low": kr.range.yellow_low,
                        "Yellow high": kr.range.yellow_high, "Red high": kr.range.red_high,
                        "Range mode": kr.range.mode})
    elif isinstance(kr, Binary):
        row["Done"] = kr.done
    else:
        row.update({"Done": kr.done, "Stages total": kr.stages_total,
                    "Stages done": kr.stages_done})
    return row


class _Builder:
    def __init__(self, document: Document, evaluation: Evaluation) -> None:
        self.doc = document
        self.ev = evaluation
        self.policy = evaluation.policy
        self.settings = Sheet(L.SETTINGS, ["Setting", "Value"])
        self.objectives = Sheet(L.OBJECTIVES, [*L.OBJECTIVE_COLUMNS, *L.OBJECTIVE_COMPUTED])
        self.krs = Sheet(L.KEY_RESULTS, [*L.KR_COLUMNS, *L.KR_COMPUTED])
        self.checkins = Sheet(L.CHECKINS, list(L.CHECKIN_COLUMNS))
        self.checkpoints = Sheet(L.CHECKPOINTS, list(L.CHECKPOINT_COLUMNS))
        self.people = Sheet(L.PEOPLE, list(L.PEOPLE_COLUMNS))
        self.summary = Sheet(L.SUMMARY, list(L.SUMMARY_COLUMNS))
        self.obj_row: dict[str, int] = {}
        self.kr_row: dict[str, int] = {}
        self.errors: dict[str, list[str]] = {}
        for error in evaluation.errors:
            self.errors.setdefault(error.path, []).append(f"{error.code}: {error.message}")

    def _errors_under(self, path: str) -> str | None:
        found = [m for p, ms in self.errors.items()
                 if p == path or p.startswith(path + ".") for m in ms]
        return "; ".join(found) or None

    # ------------------------------------------------------------------ settings
    def build_settings(self) -> None:
        p = self.policy
        values: dict[str, Scalar] = {
            "As of": _naive_utc(self.doc.as_of), "Preset": p.preset,
            "Cap": "none" if p.cap is None else p.cap, "Pace rule": p.pace.rule,
            "Pace yellow": p.pace.yellow, "Pace red": p.pace.red,
            "Aspirational success": p.aspirational_success, "Stale days": p.stale_days,
            "Strict breakpoints": p.strict_breakpoints, "Grade yellow": p.grade_yellow,
            "Grade green": p.grade_green, "Pace boundary": p.pace.boundary,
        }
        for label in L.SETTING_ROWS:
            self.settings.rows.append({"Setting": label, "Value": values[label]})

    # ------------------------------------------------------------------ inputs
    def build_inputs(self) -> None:
        for i, obj in enumerate(self.doc.objectives):
            self.obj_row[str(obj.id)] = i
            path = f"objectives[{i}]"
            if isinstance(obj, InvalidObjective):
                self.objectives.rows.append({"ID": obj.id, "Owner": obj.owner,
                                             "Parent": obj.parent,
                                             "Errors": self._errors_under(path)})
                continue
            s = obj.progress_settings
            self.objectives.rows.append({
                "ID": obj.id, "Name": obj.name, "Owner": obj.owner, "Parent": obj.parent,
                "Weight": obj.weight, "Start": _naive_utc(obj.start), "Due": _naive_utc(obj.due),
                "Mode": obj.mode, "Ambition": obj.ambition, "Status": obj.status,
                "Include children": obj.include_children,
                "Sum unit": None if s is None else s.unit,
                "Sum target": None if s is None else s.target,
                "Sum auto": None if s is None else s.auto,
                "Sum start": None if s is None else s.start,
            })
            for j, kr in enumerate(obj.key_results):
                kpath = f"{path}.key_results[{j}]"
                if isinstance(kr, InvalidKeyResult):
                    self.krs.rows.append({"Objective": obj.id, "ID": kr.id,
                                          "Errors": self._errors_under(kpath)})
                    continue
                self.kr_row[kr.id] = len(self.krs.rows)
                self.krs.rows.append(_kr_inputs(kr, obj))
                for c in kr.check_ins or ():
                    self.checkins.rows.append({"Key result": kr.id, "At": _naive_utc(c.at),
                                               "Value": c.value})
                for point in (kr.checkpoints if isinstance(kr, Milestone) else None) or ():
                    self.checkpoints.rows.append({"Key result": kr.id, "Name": point.name,
                                                  "Done": point.done})

    # ------------------------------------------------------------------ key results
    def build_key_results(self) -> None:
        point_rows: dict[str, list[int]] = {}
        for n, point in enumerate(self.checkpoints.rows):
            point_rows.setdefault(str(point["Key result"]), []).append(n)
        for obj in self.doc.objectives:
            if isinstance(obj, InvalidObjective):
                continue
            orow = self.obj_row[obj.id]
            for kr in obj.key_results:
                if isinstance(kr, InvalidKeyResult):
                    continue
                result = self.ev.key_results.get(kr.id)
                row = self.kr_row[kr.id]
                cells = self.krs.rows[row]
                if result is None:
                    cells["Errors"] = self._errors_under(f"objectives[{orow}]")
                    continue
                self._kr_formulas(kr, obj, orow, row, cells, result, point_rows.get(kr.id, []))

    def _kr_formulas(self, kr: KeyResult, obj: Objective, orow: int, row: int,
                     cells: dict[str, Scalar | Formula], result: Any, points: list[int]) -> None:
        sheet = self.krs

        def ref(header: str) -> str:
            return sheet.ref(header, row, here=sheet.name)

        value = float(result.current)
        v = ref("Value")
        if kr.check_ins is not None:
            cells["Value"] = value  # as-of history: a value (see docs)
        elif isinstance(kr, Metric):
            cells["Value"] = Formula(
                f"IF(ISBLANK({ref('Current')}),{ref('Start')},{ref('Current')})", value)
        elif isinstance(kr, Milestone) and kr.checkpoints:
            terms = [f"IF({self.checkpoints.ref('Done', n)},1,0)" for n in points]
            cells["Value"] = Formula("+".join(terms), value)
        elif isinstance(kr, Milestone) and kr.stages_total is not None:
            sd = ref("Stages done")
            cells["Value"] = Formula(f"IF(ISBLANK({sd}),0,{sd})", value)
        else:
            cells["Value"] = Formula(f"IF({ref('Done')},1,0)", value)

        strict = self.policy.strict_breakpoints
        if isinstance(kr, Metric):
            if kr.range is None or kr.range.mode == "linear":
                raw = f"({v}-{ref('Start')})/({ref('Target')}-{ref('Start')})"
            elif kr.range.mode == "band":
                raw = f"IF({_or(_range_conditions(kr, ref, v, strict, 'red'))},0,1)"
            else:
                raw = _graded(kr, ref, v)
        elif isinstance(kr, Milestone) and kr.checkpoints:
            raw = f"{v}/{len(points)}"
        elif isinstance(kr, Milestone) and kr.stages_total is not None:
            raw = f"{v}/{ref('Stages total')}"
        else:
            raw = v
        cells["Raw progress"] = Formula(raw, float(result.raw_progress))
        cells["Progress"] = Formula(_clamp(ref("Raw progress"), self.policy.cap),
                                    float(result.progress))
        due_ref = ref("Due") if kr.due is not None else self.objectives.ref("Due", orow)
        if result.expected is not None:
            start = self.objectives.ref("Start", orow)
            cells["Expected"] = Formula(_expected(start, due_ref), float(result.expected))
        if done_or_not(kr):
            # paced against its due (SEMANTICS §11.2): done green, else green before the due
            # and red from it on; no due at all: no pace colour
            as_of = _settings_ref("As of")
            by_due = (f'IF({as_of}<{due_ref},"green","red")'
                      if kr.due is not None or obj.due is not None else '""')
            cells["Pace colour"] = Formula(f'IF({v}<>0,"green",{by_due})',
                                           result.pace_colour or "")
        elif result.expected is not None:
            cells["Pace colour"] = Formula(self._pace(ref("Progress"), ref("Expected")),
                                           result.pace_colour or "")
        else:
            cells["Pace colour"] = None  # no timeline: no pace colour (SEMANTICS §11.1)
        colours = [ref("Pace colour")]
        if isinstance(kr, Metric) and kr.range is not None:
            red = _or(_range_conditions(kr, ref, v, strict, "red"))
            yellow = _or(_range_conditions(kr, ref, v, strict, "yellow"))
            cells["Range status"] = Formula(
                f'IF({red},"red",IF({yellow},"yellow","green"))', str(result.range_status))
            colours.append(ref("Range status"))
        cells["Colour"] = Formula(_worst(colours, paced=True), result.colour or "")
        cells["Trend"] = result.trend
        cells["Stale"] = result.stale
        if result.forecast is not None:
            cells["Forecast value"] = result.forecast.value
            cells["Forecast progress"] = result.forecast.progress

    def _pace(self, p: str, e: str) -> str:
        return _pace(p, e, self.policy.pace.rule, _settings_ref("Pace yellow"),
                     _settings_ref("Pace red"), self.policy.pace.boundary)

    # ------------------------------------------------------------------ objectives
    def build_objectives(self) -> None:
        for obj in self.doc.objectives:
            if isinstance(obj, InvalidObjective):
                continue
            row = self.obj_row[obj.id]
            cells = self.objectives.rows[row]
            result = self.ev.objectives.get(obj.id)
            cells["Errors"] = self._errors_under(f"objectives[{row}]")
            if result is None:
                continue
            self._objective_formulas(obj, row, cells, result)

    def _objective_formulas(self, obj: Objective, row: int, cells: dict[str, Scalar | Formula],
                            result: Any) -> None:
        sheet = self.objectives

        def ref(header: str) -> str:
            return sheet.ref(header, row, here=sheet.name)

        def kr(header: str, ident: str | None) -> str:
            return self.krs.ref(header, self.kr_row[str(ident)], here=sheet.name)

        def child(header: str, ident: str | None) -> str:
            return sheet.ref(header, self.obj_row[str(ident)], here=sheet.name)

        if result.expected is not None:
            cells["Expected"] = Formula(_expected(ref("Start"), ref("Due")),
                                        float(result.expected))
        expl = result.explanation
        items = list(expl.items)
        progress = result.progress
        if progress is not None:
            groups: list[list[tuple[str, str]]] = []
            if expl.target_rule is not None:  # sum mode
                summed = [it for it in items if it.type == "key_result" and it.contributes]
                s = obj.progress_settings
                value = _sum([kr("Value", it.id) for it in summed])
                target = (ref("Sum target") if expl.target_rule == "fixed"
                          else _sum([kr("Target", it.id) for it in summed]))
                start = (ref("Sum start") if s is not None and s.start is not None
                         else _sum([kr("Start", it.id) for it in summed]))
                sum_raw = self._sum_raw(obj, result)
                cells["Summed raw"] = Formula(f"({value}-{start})/({target}-{start})", sum_raw)
                if any(it.type == "sum" for it in items):
                    groups.append([("1", _clamp(ref("Summed raw"), self.policy.cap))])
                else:
                    cells["Raw progress"] = Formula(ref("Summed raw"),
                                                    float(result.raw_progress))
                    cells["Progress"] = Formula(_clamp(ref("Raw progress"), self.policy.cap),
                                                float(progress))
            else:
                groups.append([(kr("Weight", it.id), kr("Progress", it.id))
                               for it in items
                               if it.type == "key_result" and it.progress is not None])
            children = [(child("Weight", it.id), child("Progress", it.id))
                        for it in items if it.type == "objective" and it.progress is not None]
            if children:
                groups.append(children)
            groups = [g for g in groups if g]
            if "Progress" not in cells:
                numerator = "+".join(_sum([f"{w}*{p}" for w, p in g]) for g in groups)
                denominator = "+".join(_sum([w for w, _ in g]) for g in groups)
                cells["Progress"] = Formula(f"({numerator})/({denominator})", float(progress))
                cells["Raw progress"] = Formula(ref("Progress"), float(result.raw_progress))
            cells["Grade"] = Formula(f"INT(10*MIN({ref('Progress')},1)+0.5+{TOLERANCE})/10",
                                     float(result.grade.score))
            if result.expected is not None:
                cells["Pace colour"] = Formula(self._pace(ref("Progress"), ref("Expected")),
                                               self._pace_colour(result))
            else:
                cells["Pace colour"] = None  # no timeline: no pace colour (SEMANTICS §11.1)
        colours = [ref("Pace colour")] if progress is not None else []
        colours += [kr("Range status", k.id) for k in obj.key_results
                    if isinstance(k, Metric) and k.range is not None
                    and k.id in self.ev.key_results]
        computed = result.computed_colour or ""
        if colours:
            cells["Computed colour"] = Formula(_worst(colours, paced=progress is not None),
                                                computed)
            computed_ref = ref("Computed colour")
        else:
            computed_ref = '""'
        status = ref("Status")
        cells["Colour"] = Formula(
            f'IF({status}="on_track","green",IF(OR({status}="behind",{status}="at_risk"),'
            f'"yellow",IF({status}="off_track","red",{computed_ref})))', result.colour or "")
        cells["Trend"] = result.trend
        cells["Stale"] = result.stale
        if result.forecast is not None:
            cells["Forecast progress"] = result.forecast.progress

    def _pace_colour(self, result: Any) -> str:
        """The objective's pace colour, from the core (its colour may come from a breakpoint)."""
        colour, _ = okrcore.formulas.pace_colour(result.progress, result.expected,
                                                 self.policy.pace, self.policy.tolerance)
        return colour

    def _sum_raw(self, obj: Objective, result: Any) -> float:
        expl = result.explanation
        return float(okrcore.formulas.metric_raw_progress(expl.start, expl.target, expl.value))

    # ------------------------------------------------------------------ people, summary
    def build_people(self) -> None:
        for person, result in self.ev.people.items():
            terms = []
            names = []
            for item in result.items:
                if item.type == "objective":
                    terms.append(self.objectives.ref("Progress", self.obj_row[item.id]))
                else:
                    terms.append(self.krs.ref("Progress", self.kr_row[item.id]))
                names.append(f"{item.type.replace('_', ' ')} {item.id}")
            row: dict[str, Scalar | Formula] = {"Person": person, "Items": "; ".join(names)}
            if result.progress is not None:
                row["Progress"] = Formula(f"{_sum(terms)}/{len(terms)}", float(result.progress))
            self.people.rows.append(row)
        for error in self.ev.errors:
            if error.path.startswith("people."):
                self.people.rows.append({"Person": error.path[len("people."):],
                                         "Errors": f"{error.code}: {error.message}"})

    def build_summary(self) -> None:
        for obj in self.doc.objectives:  # document order, whatever the evaluation's order
            result = self.ev.objectives.get(str(obj.id))
            if isinstance(obj, InvalidObjective) or result is None:
                continue
            ident = obj.id
            row = self.obj_row[ident]
            cells: dict[str, Scalar | Formula] = {
                "Objective": ident, "Name": self.objectives.rows[row].get("Name")}
            for header in ("Progress", "Expected"):
                value = getattr(result, header.lower())
                if value is not None:
                    cells[header] = Formula(self.objectives.ref(header, row), float(value))
            status = self.objectives.ref("Status", row)
            cells["Status"] = Formula(f'IF(ISBLANK({status}),"",{status})', obj.status or "")
            cells["Colour"] = Formula(self.objectives.ref("Colour", row), result.colour or "")
            self.summary.rows.append(cells)


def build_sheets(document: Document, evaluation: Evaluation | None = None) -> list[Sheet]:
    """Lay out a document and its evaluation as sheets of values and formulas.

    Parameters
    ----------
    document : Document
        The input.
    evaluation : Evaluation or None
        ``okrcore.evaluate(document)``; computed when omitted.

    Returns
    -------
    list of Sheet
        Summary, Objectives, Key results, Check-ins, Checkpoints, People, Settings.
    """
    ev = okrcore.evaluate(document) if evaluation is None else evaluation
    b = _Builder(document, ev)
    b.build_settings()
    b.build_inputs()
    b.build_key_results()
    b.build_objectives()
    b.build_people()
    b.build_summary()
    return [b.summary, b.objectives, b.krs, b.checkins, b.checkpoints, b.people, b.settings]


# ---------------------------------------------------------------------------------- xlsx

_DATE_HEADERS = {(L.OBJECTIVES, "Start"), (L.OBJECTIVES, "Due"), (L.KEY_RESULTS, "Due"),
                 (L.CHECKINS, "At"), (L.SETTINGS, "As of")}
_PERCENT_HEADERS = {"Expected", "Raw progress", "Progress", "Summed raw", "Forecast progress"}
_BOOLEAN_HEADERS = {"Include children", "Sum auto", "Done", "History", "Stale",
                    "Strict breakpoints"}
_COLOUR_HEADERS = ("Pace colour", "Range status", "Computed colour", "Colour")
_WRAP_HEADERS = {"Name", "Items", "Errors"}
_FILLS = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}
BOOLEAN_FORMAT = '"TRUE";"TRUE";"FALSE"'
"""Number format of boolean cells: ``TRUE``/``FALSE`` in every application, formula results
included (LibreOffice shows a boolean without it as ``1``/``0`` in some cells)."""
MIN_WIDTH = 8
"""[characters] Narrowest column."""
MAX_WIDTH = 40
"""[characters] Widest column; longer text wraps in ``Name``, ``Items`` and ``Errors``."""
ROW_HEIGHT = 15
"""[points] Height of one line of text (11-point Calibri, the workbook's default font)."""
MAX_ROW_HEIGHT = 409
"""[points] Excel's tallest row."""
PORTRAIT_WIDTH = 95
"""[characters] Sheets whose columns add up to more print in landscape."""


def _shown(value: Scalar | Formula, label: str) -> str:
    """The text a cell shows (its width): dates in full, percentages, booleans as words."""
    if isinstance(value, Formula):
        value = value.cached
    if value is None:
        return ""
    if isinstance(value, bool) or label in _BOOLEAN_HEADERS:
        return "FALSE"
    if isinstance(value, datetime):
        return "2026-01-01 00:00:00"  # DATE_FORMAT
    if isinstance(value, int | float) and label in _PERCENT_HEADERS:
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.10g}"  # the General format shows about 10 significant digits
    return str(value)


def _lines(text: str, width: int) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (words kept whole).

    A width counts digits; a line of text holds about 10 % more characters (LibreOffice fits
    42 to 44 characters of the sample names into a column 40 wide).
    """
    room = max(1, int(width * 1.1) - 1)
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > room:
            lines, used = lines + 1, 0
        used += (1 if used else 0) + len(word)
        while used > room:  # a word longer than a line breaks inside
            lines, used = lines + 1, used - room
    return lines


def _label(sheet: Sheet, row: Mapping[str, Scalar | Formula], header: str) -> str:
    """What a cell holds: its column's header, or on the Settings sheet its row's setting."""
    return header if sheet.name != L.SETTINGS else str(row.get("Setting"))


def _width(sheet: Sheet, header: str) -> int:
    """Column width [characters]: the longest shown value, the longest word of the header."""
    shown = [len(_shown(row.get(header), _label(sheet, row, header))) for row in sheet.rows]
    if (sheet.name, header) in _DATE_HEADERS or any(
            (sheet.name, _label(sheet, row, header)) in _DATE_HEADERS
            for row in sheet.rows if row.get(header)):  # room for a date typed in later, too
        shown.append(len(DATE_FORMAT))
    word = max(len(w) for w in header.split())
    return min(MAX_WIDTH, max(MIN_WIDTH, word + 3, max(shown, default=0) + 2))


def _write_openpyxl(sheets: Sequence[Sheet], path: Path) -> dict[tuple[str, str], float | str]:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.formatting.rule import CellIsRule, DataBarRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.workbook.properties import CalcProperties

    wb = Workbook()
    wb.remove(wb.active)
    cached: dict[tuple[str, str], float | str] = {}
    exact: dict[tuple[str, str], float] = {}
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        ws.append(sheet.headers)
        ws.freeze_panes = "A2"
        widths = {h: _width(sheet, h) for h in sheet.headers}
        for c in range(1, len(sheet.headers) + 1):
            cell = ws.cell(row=1, column=c)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if any(len(h) + 2 > widths[h] for h in sheet.headers):
            ws.row_dimensions[1].height = 30  # two lines: long headers wrap
        for r, row in enumerate(sheet.rows, start=2):
            for header, value in row.items():
                c = sheet.headers.index(header) + 1
                cell = ws.cell(row=r, column=c)
                if isinstance(value, Formula):
                    cell.value = "=" + value.text
                    cached[(sheet.name, cell.coordinate)] = value.cached
                else:
                    cell.value = value
                    if isinstance(value, float):
                        exact[(sheet.name, cell.coordinate)] = value
                    if isinstance(value, str) and value.startswith("="):
                        cell.data_type = "s"  # text, not a formula
                name = _label(sheet, row, header)
                if (sheet.name, name) in _DATE_HEADERS or isinstance(value, datetime):
                    cell.number_format = DATE_FORMAT
                elif name in _PERCENT_HEADERS:
                    cell.number_format = PERCENT_FORMAT
                elif name in _BOOLEAN_HEADERS or isinstance(value, bool):
                    cell.number_format = BOOLEAN_FORMAT
                cell.alignment = Alignment(wrap_text=header in _WRAP_HEADERS, vertical="top")
            lines = max([_lines(_shown(row.get(h), h), widths[h])
                         for h in _WRAP_HEADERS.intersection(row)] + [1])
            if lines > 1:  # set, not left to the application: not every one fits rows on load
                ws.row_dimensions[r].height = min(MAX_ROW_HEIGHT, ROW_HEIGHT * lines)
        last = len(sheet.rows) + 1
        for index, header in enumerate(sheet.headers):
            letter = L.column_letter(index)
            ws.column_dimensions[letter].width = widths[header]
            if last < 2:
                continue
            area = f"{letter}2:{letter}{last}"
            if header in _COLOUR_HEADERS:
                for colour, fill in _FILLS.items():
                    ws.conditional_formatting.add(area, CellIsRule(
                        operator="equal", formula=[f'"{colour}"'],
                        fill=PatternFill(start_color=fill, end_color=fill, fill_type="solid")))
            if header == "Progress":
                ws.conditional_formatting.add(area, DataBarRule(
                    start_type="num", start_value=0, end_type="num", end_value=1,
                    color="5B9BD5"))
        _print_setup(ws, sum(widths.values()), gridlines=sheet.name != L.SUMMARY)
        if sheet.name == L.SUMMARY and sheet.rows:
            chart = BarChart()
            chart.type = "bar"
            chart.title = "Objectives: progress against expected progress"
            chart.y_axis.title = "progress"
            chart.y_axis.number_format = "0%"
            chart.y_axis.majorUnit = 0.25
            chart.y_axis.scaling.min = 0
            chart.y_axis.scaling.max = 1
            # Bars are drawn from the axis origin up: reverse the categories so the first
            # objective is on top, as in the table, and keep the percent axis at the bottom.
            chart.x_axis.scaling.orientation = "maxMin"
            chart.y_axis.crosses = "max"
            data = Reference(ws, min_col=3, max_col=4, min_row=1, max_row=last)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
            chart.height = 4 + 0.9 * len(sheet.rows)
            chart.width = 16
            ws.add_chart(chart, f"A{last + 3}")
    wb.calculation = CalcProperties(fullCalcOnLoad=True)
    wb.save(path)
    _store_cached_values(path, [s.name for s in sheets], cached, exact)
    return cached


def _print_setup(ws: Any, width: int, gridlines: bool) -> None:
    """Print on A4, one page wide (as many pages down as needed), landscape when wide.

    ``width`` is the sum of the column widths [characters]; the header row repeats on every
    page and the footer names the sheet and the page.
    """
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if width > PORTRAIT_WIDTH else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = gridlines
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = 0.6
    ws.page_margins.bottom = 0.8
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddFooter.center.text = "&A: page &P of &N"


_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/></c>', re.S)
_NUMBER_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><v>([^<]*)</v></c>')


def _store_cached_values(path: Path, names: Sequence[str],
                         cached: Mapping[tuple[str, str], float | str],
                         exact: Mapping[tuple[str, str], float]) -> None:
    """Write okrcore's values into the ``<v>`` of every formula cell (openpyxl leaves it empty).

    Numbers are rewritten with ``repr`` too: openpyxl writes ``%.16g``, one digit short of a
    faithful double.
    """
    from xml.sax.saxutils import escape

    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    sheet_files = {f"xl/worksheets/sheet{i + 1}.xml": name for i, name in enumerate(names)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            name = sheet_files.get(info.filename)
            if name is not None:
                def fill(match: re.Match[str], sheet: str = name) -> str:
                    ref, attrs_, text = match.group(1), match.group(2), match.group(3)
                    value = cached[(sheet, ref)]
                    if isinstance(value, str):
                        return (f'<c r="{ref}"{attrs_} t="str"><f>{text}</f>'
                                f"<v>{escape(value)}</v></c>")
                    return f'<c r="{ref}"{attrs_}><f>{text}</f><v>{value!r}</v></c>'

                def number(match: re.Match[str], sheet: str = name) -> str:
                    value = exact.get((sheet, match.group(1)))
                    if value is None:
                        return match.group(0)
                    return f'<c r="{match.group(1)}"{match.group(2)}><v>{value!r}</v></c>'

                text = _CELL.sub(fill, data.decode("utf-8"))
                data = _NUMBER_CELL.sub(number, text).encode("utf-8")
            zout.writestr(info, data)


def write_workbook(path: str | os.PathLike[str], document: Document,
                   evaluation: Evaluation | None = None) -> ExportReport:
    """Write a document and its evaluation as an xlsx or ods workbook with live formulas.

    Parameters
    ----------
    path : path
        Ends in ``.xlsx`` or ``.ods``.  An ods file is converted from the xlsx by LibreOffice
        (``soffice`` must be installed), keeping okrcore's cached values.
    document : Document
        The input, as :func:`okrcore.load` returns it.
    evaluation : Evaluation or None
        ``okrcore.evaluate(document)``; computed when omitted.

    Returns
    -------
    ExportReport
        The path and every formula cell with its cached value.

    Notes
    -----
    Progress, expected progress, colours and grades are formulas that restate the spec's rules;
    okrcore is the reference and stores its own value as each formula's cached result.
    """
    target = Path(path)
    cached = save_sheets(build_sheets(document, evaluation), target)
    return ExportReport(target, cached)


def save_sheets(sheets: Sequence[Sheet], path: str | os.PathLike[str]
                ) -> dict[tuple[str, str], float | str]:
    """Save sheets as ``.xlsx`` (openpyxl) or ``.ods`` (converted by LibreOffice, no recalc).

    Returns every formula cell with its cached value.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".xlsx":
        return _write_openpyxl(sheets, target)
    if suffix == ".ods":
        from .libreoffice import convert

        with tempfile.TemporaryDirectory(prefix="okrcore-ods-") as tmp:
            xlsx = Path(tmp, target.stem + ".xlsx")
            cached = _write_openpyxl(sheets, xlsx)
            out = convert([xlsx], Path(tmp, "out"), to="ods", recalculate=False)[0]
            target.write_bytes(out.read_bytes())
        return cached
    raise ValueError(f"workbook path must end in .xlsx or .ods, got {str(path)!r}")


def _csv_text(value: Scalar | Formula) -> str:
    if isinstance(value, Formula):
        value = value.cached
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return isoformat(value.replace(tzinfo=UTC))
    if isinstance(value, float):
        return repr(value)  # every digit: never the rounded value "as shown"
    if isinstance(value, int):
        return str(value)
    # text a spreadsheet would run as a formula (=, +, -, @ ...) gets an apostrophe in front
    return L.csv_guard(str(value))


def write_csv(directory: str | os.PathLike[str], document: Document,
              evaluation: Evaluation | None = None) -> list[Path]:
    """Write one csv file per sheet (``Objectives.csv``, ``Key results.csv``, ...).

    Computed cells hold okrcore's values in full precision (``repr`` of the float), never a
    rounded display value; instants are ISO 8601 in UTC.  Text cells that a spreadsheet would
    read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
    get an apostrophe in front (:func:`~okrcore_spreadsheet.layout.csv_guard`); numbers stay
    numbers.  The directory imports back with :func:`~okrcore_spreadsheet.read_workbook`,
    which drops that apostrophe again, so the round trip is exact.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in build_sheets(document, evaluation):
        file = out / f"{sheet.name}.csv"
        with file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(sheet.headers)
            for row in sheet.rows:
                writer.writerow([_csv_text(row.get(h)) for h in sheet.headers])
        written.append(file)
    return written
