"""The edits of :class:`okrcore.live.LiveOrganisation`: lookups, encodings and field checks.

:class:`_LiveEdit` finds the rows of ids, encodes a changed model item as the frame's columns
(an organisation from a document), refuses an edit of columns that makes its row invalid (the
engine's row check), and the functions below check the fields of an edit of columns.  Private
to :mod:`okrcore.live`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, cast

import attrs
import numpy as np

from okrcore import _checks as C
from okrcore import errors as E
from okrcore import kinds
from okrcore._live_index import I32, _Edit, _LiveIndex, _Region
from okrcore.batch._result import BatchResult
from okrcore.batch.frame import OrgFrame
from okrcore.codes import (
    AMBITION_CODES,
    ERR_FIELD_BREAKPOINTS,
    ERR_FIELD_DEGENERATE,
    ERR_FIELD_NEGATIVE_WEIGHT,
    ERR_FIELD_NOT_FINITE,
    ERR_FIELD_OUT_OF_RANGE,
    ERR_FIELD_TIMELINE,
    ERR_FIELD_UNKNOWN_VALUE,
    MODE_CODES,
    NONE_INSTANT,
    STATUS_CODES,
    STATUS_NONE,
)
from okrcore.instants import instant_us
from okrcore.model import InvalidKeyResult, KeyResult, Objective

_FRAME_KR_FIELDS: Final = {
    "start": "kr_start", "target": "kr_target", "current": "kr_current", "weight": "kr_weight",
    "due": "kr_due", "red_low": "kr_red_low", "yellow_low": "kr_yellow_low",
    "yellow_high": "kr_yellow_high", "red_high": "kr_red_high", "owners": ""}
"""The fields :meth:`LiveOrganisation.edit_key_result` takes on a frame, and their columns."""
_FRAME_OBJ_FIELDS: Final = {
    "weight": "obj_weight", "start": "obj_start", "due": "obj_due", "mode": "obj_mode",
    "ambition": "obj_ambition", "status": "obj_status",
    "include_children": "obj_include_children", "owner": "obj_owner"}
"""The fields :meth:`LiveOrganisation.edit_objective` takes on a frame, and their columns."""
_NULLABLE: Final = frozenset({"current", "red_low", "yellow_low", "yellow_high", "red_high"})
"""The key result fields of a frame that ``None`` clears (NaN: absent)."""

_FIELD_ERRORS: Final = {
    ERR_FIELD_NOT_FINITE: E.NOT_FINITE,
    ERR_FIELD_NEGATIVE_WEIGHT: E.NEGATIVE_WEIGHT,
    ERR_FIELD_DEGENERATE: E.DEGENERATE_METRIC,
    ERR_FIELD_BREAKPOINTS: E.BREAKPOINTS_OUT_OF_ORDER,
    ERR_FIELD_UNKNOWN_VALUE: E.UNKNOWN_FIELD_VALUE,
    ERR_FIELD_OUT_OF_RANGE: E.OUT_OF_RANGE,
    ERR_FIELD_TIMELINE: E.INVALID_TIMELINE,
}
"""The engine's per-row field error codes, as the core's error codes (frame edits)."""


class _LiveEdit(_LiveIndex):
    """The lookups, encodings and row checks of a live organisation's edits."""

    # --- lookups and encodings --------------------------------------------------------------------
    def _kr(self, kr_id: str) -> int:
        row = self._kr_row.get(kr_id) if isinstance(kr_id, str) else None
        if row is None:
            raise E.UnknownItemError(f"no key result has the id {kr_id!r}")
        return row

    def _obj(self, obj_id: str) -> int:
        row = self._obj_row.get(obj_id) if isinstance(obj_id, str) else None
        if row is None:
            raise E.UnknownItemError(f"no objective has the id {obj_id!r}")
        return row

    def _kr_model(self, row: int, kr_id: str) -> KeyResult:
        model = self._kr_models[row]
        if isinstance(model, InvalidKeyResult):
            raise E.OkrValueError(E.INVALID_VALUE, "id",
                                  f"key result {kr_id!r} could not be read; fix it in the "
                                  "document and build the organisation again", kr_id)
        result: KeyResult = model
        return result

    def _person_codes(self, names: Any, edit: _Edit, field: str) -> I32:
        """The person codes of owner names (new names get new codes in ``edit``)."""
        if isinstance(names, str) or not isinstance(names, (list, tuple)):
            raise E.OkrValueError(E.WRONG_TYPE, field,
                                  f"{field} must be a list of names, got {names!r}", names)
        codes = []
        for name in names:
            if not isinstance(name, str) or not name:
                raise E.OkrValueError(E.WRONG_TYPE, field,
                                      f"{field} must hold non-empty names, got {name!r}", name)
            code = self._person_code.get(name)
            if code is None:
                if name not in edit.new_people:
                    edit.new_people.append(name)
                code = len(self._people) + edit.new_people.index(name)
            codes.append(code)
        return np.asarray(codes, dtype=np.int32)

    def _unit(self, name: str, edit: _Edit) -> int:
        if name == "":
            return -1
        code = self._unit_code.get(name)
        if code is not None:
            return code
        if name not in edit.new_units:
            edit.new_units.append(name)
        return len(self._unit_code) + edit.new_units.index(name)

    def _encode_kr(self, row: int, new: KeyResult, edit: _Edit) -> None:
        """The frame columns, log and owners of a changed model key result, into ``edit``."""
        enc = kinds.kind_of(new).encode(new, lambda name: self._unit(name, edit))
        lo, ylo, yhi, hi = enc.bounds
        edit.kr[row] = {
            "kr_kind": enc.kind, "kr_start": enc.start, "kr_target": enc.target,
            "kr_current": enc.current, "kr_unit": enc.unit, "kr_range_mode": enc.range_mode,
            "kr_red_low": lo, "kr_yellow_low": ylo, "kr_yellow_high": yhi, "kr_red_high": hi,
            "kr_weight": float(new.weight),
            "kr_due": NONE_INSTANT if new.due is None else instant_us(new.due),
            "kr_has_log": new.check_ins is not None}
        entries = new.check_ins or ()
        ats = np.fromiter((instant_us(c.at) for c in entries), np.int64, count=len(entries))
        values = np.fromiter((float(c.value) for c in entries), np.float64, count=len(entries))
        order = np.argsort(ats, kind="stable")
        edit.logs[row] = (ats[order], values[order])
        edit.kr_models[row] = new
        old = self._kr_models[row]
        if new.owners != old.owners:
            names = new.owners or self._default_owner(row)
            edit.owners[row] = self._person_codes(list(names), edit, "owners")

    def _default_owner(self, row: int) -> tuple[str, ...]:
        owner = self._obj_models[int(self._cols["kr_objective"][row])].owner
        return (owner,) if owner else ()

    def _objective_columns(self, o: Objective, edit: _Edit) -> dict[str, Any]:
        """The frame columns of a model objective (as :meth:`OrgFrame.from_document` writes)."""
        settings = o.progress_settings
        nan = float("nan")
        owner = -1 if o.owner is None else int(self._person_codes([o.owner], edit, "owner")[0])
        return {
            "obj_weight": float(o.weight),
            "obj_start": NONE_INSTANT if o.start is None else instant_us(o.start),
            "obj_due": NONE_INSTANT if o.due is None else instant_us(o.due),
            "obj_mode": MODE_CODES[o.mode],
            "obj_ambition": AMBITION_CODES[o.ambition],
            "obj_status": STATUS_NONE if o.status is None else STATUS_CODES[o.status],
            "obj_include_children": bool(o.include_children),
            "obj_owner": owner,
            "obj_ps_unit": -1 if settings is None else self._unit(settings.unit, edit),
            "obj_ps_target": (nan if settings is None or settings.target is None
                              else float(settings.target)),
            "obj_ps_auto": False if settings is None else bool(settings.auto),
            "obj_ps_start": (nan if settings is None or settings.start is None
                             else float(settings.start)),
        }

    # --- the engine's row check -------------------------------------------------------------------
    def _refuse_invalid(self, edit: _Edit, region: _Region, part: BatchResult,
                        old_sub: OrgFrame) -> None:
        """Refuse an edit of columns that makes its row invalid (the engine's row check)."""
        if self._validated:
            return
        for row in edit.validate_krs:
            local = region.kr_local(row)
            code = int(part.kr_error[local])
            if code in _FIELD_ERRORS and code != int(self._result.kr_error[row]):
                raise self._invalid("key result", self._kr_ids[row], code, edit)
        for row in edit.validate_objs:
            local = region.obj_local(row)
            code = int(part.obj_error[local])
            if code in _FIELD_ERRORS and code != int(self._result.obj_error[row]):
                raise self._invalid("objective", self._obj_ids[row], code, edit)

    @staticmethod
    def _invalid(what: str, ident: str, code: int, edit: _Edit) -> E.OkrValueError:
        values = {**next(iter(edit.kr.values()), {}), **next(iter(edit.obj.values()), {})}
        field = ", ".join(edit.fields) or "value"
        return E.OkrValueError(
            _FIELD_ERRORS[code], field,
            f"{what} {ident!r}: the edit makes the row invalid ({_FIELD_ERRORS[code]}): "
            f"{', '.join(f'{k}={v!r}' for k, v in values.items() if k != 'kr_has_log')}",
            values)


# --- helpers ---------------------------------------------------------------------------------
@attrs.frozen
class _NamedField:
    """Stands in for an attrs attribute in the core's validators (they read ``.name``)."""

    name: str


def _Named(name: str) -> attrs.Attribute[Any]:  # noqa: N802
    return cast("attrs.Attribute[Any]", _NamedField(name))


def _known(fields: Mapping[str, Any], allowed: set[str], what: str) -> None:
    for name in fields:
        if name not in allowed:
            raise E.OkrValueError(
                E.INVALID_VALUE, name,
                f"a {what} has no field {name!r} that can be edited here (fields: "
                f"{', '.join(sorted(allowed))})", fields[name])


def _evolve(model: Any, **fields: Any) -> Any:
    """The model with ``fields`` changed, validated by its class (``OkrValueError``)."""
    return _build(type(model), **{**{f.name: getattr(model, f.name)
                                      for f in attrs.fields(type(model)) if f.init},
                                   **fields})


def _build(cls: Any, **fields: Any) -> Any:
    try:
        return cls(**fields)
    except E.OkrValueError:
        raise
    except (TypeError, ValueError) as error:  # a validator that is not the core's own
        name = next(iter(fields), "value")
        raise E.OkrValueError(E.INVALID_VALUE, name, str(error), fields.get(name)) from None


def _number(field: str, value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    return C.finite_number(field, value)


def _weight(value: object) -> float:
    C.check_non_negative(None, _Named("weight"), value)
    return float(value)  # type: ignore[arg-type]


def _instant_field(field: str, value: object) -> int:
    if isinstance(value, datetime):
        C.check_instant(None, _Named(field), value)
        return instant_us(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise E.OkrValueError(
            E.WRONG_TYPE, field,
            f"{field} must be a timezone-aware datetime or an instant in µs, got {value!r}",
            value)
    if int(value) == NONE_INSTANT:
        raise E.OkrValueError(E.OUT_OF_RANGE, field, f"{field} {value!r} is the null instant",
                              value)
    return int(value)


