"""The columns of a document's model objects, gathered field by field (issue 19).

:meth:`OrgFrame.from_document <okrcore.batch.OrgFrame.from_document>` is this module's
:func:`document_columns` then :meth:`OrgFrame.from_columns`.  Each field of the objectives,
key results and check-ins is read for all items at once (``map`` of an attribute getter) and
turned into its array in one numpy call; the key results of each kind are encoded together by
their kind (:meth:`okrcore.kinds.Kind.encode_many`).  What must follow document order (the
codes of people and units, in order of first appearance; duplicate ids) is one light pass.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from operator import attrgetter
from typing import Any, Final

import numpy as np

from okrcore import errors as E
from okrcore import kinds
from okrcore.codes import (
    AMBITION_CODES,
    LOAD_DUPLICATE,
    LOAD_INVALID,
    LOAD_OK,
    MODE_CODES,
    NONE_INSTANT,
    STATUS_CODES,
    STATUS_NONE,
)
from okrcore.instants import EPOCH
from okrcore.model import Document, InvalidKeyResult, InvalidObjective, Objective

__all__ = ["document_columns"]

_ID, _OWNER, _PARENT, _KRS, _OWNERS = map(attrgetter, (
    "id", "owner", "parent", "key_results", "owners"))
_WEIGHT, _START, _DUE, _MODE, _AMBITION, _STATUS, _CHILDREN, _SETTINGS, _CHECK_INS = map(
    attrgetter, ("weight", "start", "due", "mode", "ambition", "status", "include_children",
                 "progress_settings", "check_ins"))
_AT, _VALUE = attrgetter("at"), attrgetter("value")
_DELTA_PARTS: Final = tuple(map(attrgetter, ("days", "seconds", "microseconds")))
_STATUS_OR_NONE: Final[dict[str | None, int]] = {None: STATUS_NONE}
_STATUS_OR_NONE.update(STATUS_CODES)
_PLACEHOLDER: Final = Objective(id="placeholder")
"""What an invalid objective's columns are read from: every default (weight 1, no timeline,
mode auto, committed, no status, no progress settings); its row is flagged in ``obj_load``."""


def _instants(values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Aware datetimes (``None`` = :data:`NONE_INSTANT`) as int64 microseconds since the epoch.

    ``datetime - EPOCH`` is exact; its days, seconds and microseconds become int64 arrays
    (:func:`okrcore.instants.instant_us`'s arithmetic, on whole columns).
    """
    out = np.full(len(values), NONE_INSTANT, np.int64)
    present = [j for j, v in enumerate(values) if v is not None] if None in values else None
    chosen = values if present is None else [values[j] for j in present]
    if chosen:
        deltas = list(map(operator.sub, chosen, itertools.repeat(EPOCH)))
        days, seconds, micros = (np.array(list(map(part, deltas)), np.int64)
                                 for part in _DELTA_PARTS)
        us = (days * 86_400 + seconds) * 1_000_000 + micros
        if present is None:
            out[:] = us
        else:
            out[present] = us
    return out


def _floats(values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array(values, np.float64)  # None -> NaN


def document_columns(document: Document) -> dict[str, Any]:
    """The keyword arguments of :meth:`OrgFrame.from_columns` for a document, and its labels.

    Returns
    -------
    dict
        Every column of the frame, ``kr_ids``, ``obj_ids``, ``person_names``, ``unit_names``,
        ``obj_parent_names`` and ``load_errors`` (not a column: the caller sets it).
    """
    objs = document.objectives
    n_obj = len(objs)
    invalid_obj: list[int] = []
    load_errors: dict[str, tuple[E.OkrError, ...]] = {}
    for j, o in enumerate(objs):
        if isinstance(o, InvalidObjective):
            invalid_obj.append(j)
            load_errors[f"o{j}"] = o.errors
    valid = list(objs)
    for j in invalid_obj:
        valid[j] = _PLACEHOLDER
    ids = list(map(_ID, objs))
    obj_load = [LOAD_OK] * n_obj
    seen: set[str] = set()
    for j, ident in enumerate(ids):
        if ident in seen:
            obj_load[j] = LOAD_DUPLICATE
        if ident is not None:
            seen.add(ident)
    for j in invalid_obj:
        obj_load[j] = LOAD_INVALID
    parents = [p if load == LOAD_OK else None
               for p, load in zip(map(_PARENT, objs), obj_load, strict=True)]
    obj_ids = [i or "" for i in ids]
    index: dict[str, int] = {}
    for j, ident in enumerate(obj_ids):
        if ident and ident not in index:
            index[ident] = j
    obj_parent = [-1 if p is None else index.get(p, -2) for p in parents]

    # key results, in document order, with their objective's row
    listed = list(map(_KRS, objs))
    counts = list(map(len, listed))
    krs: list[Any] = list(itertools.chain.from_iterable(listed))
    n_kr = len(krs)
    kr_ids = [k or "" for k in map(_ID, krs)]
    kr_load = [LOAD_OK] * n_kr
    seen = set()
    for row, kr in enumerate(krs):
        if isinstance(kr, InvalidKeyResult):
            kr_load[row] = LOAD_INVALID
            load_errors[f"k{row}"] = kr.errors
        elif kr.id in seen:
            kr_load[row] = LOAD_DUPLICATE
        else:
            seen.add(kr.id)
    encoded = kinds.EncodedColumns.blank(n_kr, kinds.placeholder().kind)  # invalid: placeholder
    unit_names: list[str | None] = [None] * n_kr
    by_type: dict[type, list[int]] = {}
    for row, t in enumerate(map(type, krs)):
        by_type.setdefault(t, []).append(row)
    any_invalid = by_type.pop(InvalidKeyResult, None) is not None
    for rows in by_type.values():
        part = kinds.kind_of(krs[rows[0]]).encode_many([krs[r] for r in rows])
        at = np.array(rows, np.int64)
        for name in ("kind", "target", "start", "current", "range_mode", "red_low",
                     "yellow_low", "yellow_high", "red_high"):
            getattr(encoded, name)[at] = getattr(part, name)
        for r, unit_name in zip(rows, part.units, strict=True):
            unit_names[r] = unit_name
    if not any_invalid:
        dues, histories = list(map(_DUE, krs)), list(map(_CHECK_INS, krs))
    else:
        dues, histories = [None] * n_kr, [None] * n_kr
        for row, kr in enumerate(krs):
            if not isinstance(kr, InvalidKeyResult):
                dues[row], histories[row] = kr.due, kr.check_ins
    lengths = [len(h) if h else 0 for h in histories]
    entries = list(itertools.chain.from_iterable(h for h in histories if h))

    # people and units get codes in order of first appearance over the document
    people: dict[str, int] = {}
    units: dict[str, int] = {"": -1}
    person = people.setdefault
    settings = list(map(_SETTINGS, valid))
    obj_owner = [-1] * n_obj
    ps_unit = [-1] * n_obj
    kr_owners = list(map(_OWNERS, krs))
    owner_ids: list[int] = []
    owner_counts: list[int] = []
    row = 0
    for j, (owner, count, ps) in enumerate(zip(map(_OWNER, objs), counts, settings,
                                               strict=True)):
        if owner is not None:
            obj_owner[j] = person(owner, len(people))
        if ps is not None:
            code = units.get(ps.unit)
            if code is None:
                code = units[ps.unit] = len(units) - 1
            ps_unit[j] = code
        if count:
            default = (owner,) if owner else ()
            for names in kr_owners[row:row + count]:
                names = names or default
                owner_counts.append(len(names))
                for name in names:
                    owner_ids.append(person(name, len(people)))
            for unit_name in unit_names[row:row + count]:
                if unit_name is not None and unit_name not in units:
                    units[unit_name] = len(units) - 1
            row += count
    kr_unit = [-1 if name is None else units[name] for name in unit_names]
    offsets = np.zeros(n_kr + 1, dtype=np.int64)
    np.cumsum(np.array(owner_counts, dtype=np.int64), out=offsets[1:])

    has_settings = [s is not None for s in settings]
    ps_rows = [j for j, s in enumerate(has_settings) if s]
    ps_target = np.full(n_obj, np.nan)
    ps_start = np.full(n_obj, np.nan)
    ps_auto = np.zeros(n_obj, np.bool_)
    if ps_rows:
        chosen = [settings[j] for j in ps_rows]
        ps_target[ps_rows] = _floats([s.target for s in chosen])
        ps_start[ps_rows] = _floats([s.start for s in chosen])
        ps_auto[ps_rows] = [bool(s.auto) for s in chosen]
    return {
        "kr_objective": np.repeat(np.arange(n_obj, dtype=np.int64),
                                  np.array(counts, dtype=np.int64)),
        "kr_kind": encoded.kind,
        "kr_start": encoded.start,
        "kr_target": encoded.target,
        "kr_current": encoded.current,
        "kr_weight": _floats(list(map(_WEIGHT, krs))),
        "kr_unit": np.array(kr_unit, np.int32),
        "kr_range_mode": encoded.range_mode,
        "kr_red_low": encoded.red_low,
        "kr_yellow_low": encoded.yellow_low,
        "kr_yellow_high": encoded.yellow_high,
        "kr_red_high": encoded.red_high,
        "kr_due": _instants(dues),
        "kr_has_log": np.array([h is not None for h in histories], np.bool_),
        "kr_load": np.array(kr_load, np.uint8),
        "log_kr": np.repeat(np.arange(n_kr, dtype=np.int64),
                            np.array(lengths, dtype=np.int64)),
        "log_at": _instants(list(map(_AT, entries))),
        "log_value": _floats(list(map(_VALUE, entries))),
        "kr_owner_offsets": offsets,
        "kr_owner_ids": np.array(owner_ids, np.int32),
        "obj_parent": np.array(obj_parent, np.int64),
        "obj_weight": _floats(list(map(_WEIGHT, valid))),
        "obj_start": _instants(list(map(_START, valid))),
        "obj_due": _instants(list(map(_DUE, valid))),
        "obj_mode": np.array(list(map(MODE_CODES.__getitem__, map(_MODE, valid))), np.uint8),
        "obj_ambition": np.array(list(map(AMBITION_CODES.__getitem__, map(_AMBITION, valid))),
                                 np.uint8),
        "obj_status": np.array(list(map(_STATUS_OR_NONE.__getitem__, map(_STATUS, valid))),
                               np.int8),
        "obj_include_children": np.array([bool(c) for c in map(_CHILDREN, valid)], np.bool_),
        "obj_owner": np.array(obj_owner, np.int32),
        "obj_ps_unit": np.array(ps_unit, np.int32),
        "obj_ps_target": ps_target,
        "obj_ps_auto": ps_auto,
        "obj_ps_start": ps_start,
        "obj_load": np.array(obj_load, np.uint8),
        "kr_ids": kr_ids,
        "obj_ids": obj_ids,
        "person_names": list(people),
        "unit_names": [u for u, c in units.items() if c >= 0],
        "obj_parent_names": parents,
        "load_errors": load_errors,
    }
