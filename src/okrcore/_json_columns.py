"""A reader from JSON text straight into frame columns, for common documents (issue 19).

``okrcore evaluate FILE`` spent most of its time turning the parsed JSON into validated model
objects (:func:`okrcore.loads`), which the batch engine then turned into columns.
:func:`read_columns` goes from the parsed JSON (dicts and lists) to the columns of
:meth:`OrgFrame.from_document <okrcore.batch.OrgFrame.from_document>` directly, field by field
for all items at once (and without importing the batch engine, so that a small document can
still take the scalar path at its usual cost).

It reads only what it can check to be exactly what the loader accepts without an error or a
warning: every field of the common shapes (objectives, with or without progress settings;
metrics with or without a range, binaries, simple and staged milestones; check-ins; instants
written ``YYYY-MM-DDTHH:MM:SSZ``), each value of the type, range and vocabulary the loader and
the model require, every id unique and every parent an objective.  Anything else (an unknown
field, another spelling of an instant, a checkpoint milestone, another kind, any value the
loader would report) makes it return ``None``, and the caller reads the document the usual way:
every error and warning is worded by the loader, once.  ``tests/test_json_columns.py`` checks
that the frame of these columns equals ``OrgFrame.from_document(okrcore.loads(text))`` on the
corpus and that the reader declines every document the loader reports on.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from okrcore import kinds
from okrcore.codes import (
    AMBITION_CODES,
    KIND_MILESTONE,
    KIND_STAGED,
    LOAD_OK,
    MODE_CODES,
    NONE_INSTANT,
    RANGE_MODE_CODES,
    RANGE_NONE,
    STATUS_CODES,
    STATUS_NONE,
)
from okrcore.evaluate import instant_us
from okrcore.interchange import FORMAT_VERSION, _load_policy, parse_instant
from okrcore.model import RANGE_MODES
from okrcore.policy import Policy

__all__ = ["FastDocument", "read_columns"]

_NONE: Final = type(None)
_NUMBER: Final = frozenset((int, float))
_NUMBER_OR_NONE: Final = frozenset((int, float, _NONE))
_TEXT_OR_NONE: Final = frozenset((str, _NONE))
_BOOL_OR_NONE: Final = frozenset((bool, _NONE))
_DOCUMENT_KNOWN: Final = frozenset(("okrcore", "as_of", "policy", "objectives"))
_OBJECTIVE_KNOWN: Final = frozenset((
    "id", "owner", "parent", "weight", "start", "due", "mode", "ambition", "status",
    "include_children", "progress_settings", "name", "key_results"))
_KR_COMMON: Final = ("id", "kind", "weight", "owners", "due", "name")
_SETTINGS_KNOWN: Final = frozenset(("unit", "target", "auto", "start"))
_RANGE_KNOWN: Final = frozenset(("red_low", "yellow_low", "yellow_high", "red_high", "mode"))
_EPOCH64: Final = np.datetime64("1970-01-01T00:00:00", "us")
_FIRST: Final = np.datetime64("0001-01-01T00:00:00", "s")


_LAST: Final = operator.itemgetter(19)
_CUT: Final = operator.itemgetter(slice(0, 19))


def _get(items: Sequence[dict[str, Any]], name: str) -> list[Any]:
    """``[item.get(name) for item in items]``, in C speed."""
    return list(map(dict.get, items, itertools.repeat(name)))


class _DeclineError(Exception):
    """The document is not one the fast reader reads identically: take the usual path."""


class FastDocument:
    """What :func:`read_columns` read.

    Attributes
    ----------
    columns : dict
        The keyword arguments of :meth:`OrgFrame.from_columns
        <okrcore.batch.OrgFrame.from_columns>` (with the labels).
    as_of_us : int
        The instant of evaluation [µs since the Unix epoch].
    policy : Policy
        The document's policy.
    items : int
        Objectives plus key results (what ``engine="auto"`` counts).
    """

    __slots__ = ("as_of_us", "columns", "items", "policy")

    def __init__(self, columns: dict[str, Any], as_of_us: int, policy: Policy) -> None:
        self.columns, self.as_of_us, self.policy = columns, as_of_us, policy
        self.items = len(columns["obj_ids"]) + len(columns["kr_ids"])


def _check(condition: bool) -> None:
    if not condition:
        raise _DeclineError


def _types(values: Sequence[Any], allowed: frozenset[Any]) -> None:
    _check(set(map(type, values)) <= allowed)


def _texts(values: Sequence[Any]) -> None:
    """Non-empty strings or None (the loader's ``string`` of an optional field)."""
    _types(values, _TEXT_OR_NONE)
    _check("" not in values)


def _numbers(values: Sequence[Any], default: float) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Finite ints or floats (None: ``default``) as float64; decline anything else."""
    _types(values, _NUMBER_OR_NONE)
    try:
        out = np.array([default if v is None else v for v in values], np.float64)
    except OverflowError:
        raise _DeclineError from None
    finite = np.isfinite(out)
    if math.isnan(default):
        finite |= np.array([v is None for v in values], np.bool_)
    _check(bool(finite.all()))
    return out


def _optional_numbers(values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Finite numbers or None (NaN)."""
    return _numbers(values, math.nan) if values else np.zeros(0)


def _weights(values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    out = _numbers(values, 1.0)
    _check(not bool((out < 0).any()))
    return out


def _instants(values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """``YYYY-MM-DDTHH:MM:SSZ`` texts (None: :data:`NONE_INSTANT`) as µs since the epoch.

    Only that spelling is read (numpy parses it; the text must be what numpy writes back, so
    no other spelling, no day or hour out of range and no year before 1 passes); any other
    declines.
    """
    _types(values, _TEXT_OR_NONE)
    distinct = dict.fromkeys(values)  # a document repeats its starts and dues
    distinct.pop(None, None)
    if not distinct:
        return np.full(len(values), NONE_INSTANT, np.int64)
    texts = list(distinct)
    _check(set(map(len, texts)) == {20} and set(map(_LAST, texts)) == {"Z"})
    cut = list(map(_CUT, texts))
    try:
        parsed = np.array(cut, dtype="datetime64[s]")
    except ValueError:
        raise _DeclineError from None
    _check(bool((parsed >= _FIRST).all()))
    _check(np.datetime_as_string(parsed, unit="s").tolist() == cut)
    us = dict(zip(texts, (parsed.astype("datetime64[us]") - _EPOCH64).astype(np.int64).tolist(),
                  strict=True))
    us[None] = NONE_INSTANT
    return np.array(list(map(us.__getitem__, values)), np.int64)


def _codes(values: Sequence[Any], codes: dict[Any, int], default: Any) -> list[int]:
    try:
        return [codes[default if v is None else v] for v in values]
    except (KeyError, TypeError):
        raise _DeclineError from None


def read_columns(text: str | bytes) -> FastDocument | None:
    """Read a document's JSON text straight into frame columns; ``None`` for the usual path.

    Parameters
    ----------
    text : str or bytes
        The document's JSON text.

    Returns
    -------
    FastDocument or None
        Its columns (``OrgFrame.from_columns(**columns)`` equals, column by column,
        ``OrgFrame.from_document(okrcore.loads(text))``; it is not marked ``validated``, so the
        engine checks its rows again), the instant of evaluation and the policy; ``None`` when
        the document holds
        anything the loader would report (an error or a warning) or that this reader does not
        read (see the module's docstring).
    """
    try:
        if isinstance(text, bytes | bytearray):
            text = text.decode(json.detect_encoding(text), "surrogatepass")
        data = json.loads(text)
        return _read(data)
    except Exception:  # whatever it is, the usual path reads and words it
        return None


def _read(data: Any) -> FastDocument:
    _check(type(data) is dict and _DOCUMENT_KNOWN.issuperset(data))
    version = data.get("okrcore")
    _check(type(version) is int and version == FORMAT_VERSION and "as_of" in data)
    as_of_us = instant_us(parse_instant(data["as_of"], "as_of"))
    policy = _load_policy(data.get("policy"))
    objs = data.get("objectives", [])
    _check(type(objs) is list)
    _types(objs, frozenset((dict,)))
    _check(all(map(_OBJECTIVE_KNOWN.issuperset, objs)))
    n_obj = len(objs)

    def field(name: str, items: Sequence[dict[str, Any]] = objs) -> list[Any]:
        return _get(items, name)

    ids = field("id")
    _types(ids, frozenset((str,)))
    _check("" not in ids and len(set(ids)) == n_obj)
    owners, parents = field("owner"), field("parent")
    _texts(owners)
    _texts(parents)
    index = {ident: j for j, ident in enumerate(ids)}
    try:
        obj_parent = [-1 if p is None else index[p] for p in parents]
    except KeyError:
        raise _DeclineError from None
    obj_weight = _weights(field("weight"))
    obj_start, obj_due = _instants(field("start")), _instants(field("due"))
    _check(not bool(((obj_start != NONE_INSTANT) & (obj_due != NONE_INSTANT)
                     & (obj_due <= obj_start)).any()))
    obj_mode = _codes(field("mode"), MODE_CODES, "auto")
    obj_ambition = _codes(field("ambition"), AMBITION_CODES, "committed")
    obj_status = _codes(field("status"), {**STATUS_CODES, None: STATUS_NONE}, None)
    children = field("include_children")
    _types(children, _BOOL_OR_NONE)
    settings = _settings(field("progress_settings"))
    _types(field("name"), _TEXT_OR_NONE)
    listed = field("key_results")
    _types(listed, frozenset((list, _NONE)))
    listed = [k or [] for k in listed]
    counts = list(map(len, listed))
    krs = [kr for k in listed for kr in k]
    return FastDocument(_columns(objs, ids, owners, parents, obj_parent, obj_weight, obj_start,
                               obj_due, obj_mode, obj_ambition, obj_status, children, counts,
                               krs, settings), as_of_us, policy)


def _settings(values: list[Any]) -> list[dict[str, Any] | None]:
    """Progress settings: ``unit`` (required), ``target``, ``auto`` and ``start``.

    The model requires a target unless ``auto``.
    """
    _types(values, frozenset((dict, _NONE)))
    present = [v for v in values if v is not None]
    if present:
        _check(all(map(_SETTINGS_KNOWN.issuperset, present)))
        units = _get(present, "unit")
        _types(units, frozenset((str,)))
        _check("" not in units)
        targets = _get(present, "target")
        _optional_numbers(targets)
        _optional_numbers(_get(present, "start"))
        autos = _get(present, "auto")
        _types(autos, _BOOL_OR_NONE)
        _check(all(a or t is not None for a, t in zip(autos, targets, strict=True)))
    return values


def _columns(objs: list[dict[str, Any]], ids: list[str], owners: list[str | None],
           parents: list[str | None], obj_parent: list[int], obj_weight: Any, obj_start: Any,
           obj_due: Any, obj_mode: list[int], obj_ambition: list[int], obj_status: list[int],
           children: list[bool | None], counts: list[int], krs: list[Any],
           settings: list[dict[str, Any] | None]) -> dict[str, Any]:
    n_obj, n_kr = len(objs), len(krs)
    _types(krs, frozenset((dict,)))

    def field(name: str, items: Sequence[dict[str, Any]] = krs) -> list[Any]:
        return _get(items, name)

    kind_names = field("kind")
    known = {name: frozenset((*_KR_COMMON, *kind.fields)) for name, kind in kinds.KINDS.items()}
    try:  # (map: no Python code per key result)
        _check(all(map(frozenset.issuperset, map(known.__getitem__, kind_names), krs)))
    except (KeyError, TypeError):
        raise _DeclineError from None
    kr_ids = field("id")
    _types(kr_ids, frozenset((str,)))
    _check("" not in kr_ids and len(set(kr_ids)) == n_kr)
    kr_weight = _weights(field("weight"))
    kr_due = _instants(field("due"))
    _types(field("name"), _TEXT_OR_NONE)
    kr_owners = field("owners")
    _types(kr_owners, frozenset((list, _NONE)))
    for names in kr_owners:
        if names:
            _texts(names)
            _check(None not in names)
    histories = field("check_ins")
    _types(histories, frozenset((list, _NONE)))

    kind = np.zeros(n_kr, np.uint8)
    target, start = np.ones(n_kr), np.zeros(n_kr)
    current = np.full(n_kr, math.nan)
    range_mode = np.full(n_kr, RANGE_NONE, np.uint8)
    bounds = {name: np.full(n_kr, math.nan) for name in ("red_low", "yellow_low",
                                                         "yellow_high", "red_high")}
    unit_names: list[str | None] = [None] * n_kr
    value_key: list[str] = [""] * n_kr  # each row's check-in value field
    rows_of: dict[str, list[int]] = {}
    for row, name in enumerate(kind_names):
        rows_of.setdefault(name, []).append(row)
    _check(set(rows_of) <= {"metric", "binary", "milestone"})
    for name, rows in rows_of.items():
        items = [krs[r] for r in rows]
        at = np.array(rows, np.int64)
        logged = [histories[r] is not None for r in rows]
        if name == "metric":
            _metric(items, rows, at, logged, kind, target, start, current, range_mode, bounds,
                    unit_names)
            key = "value"
        elif name == "binary":
            done = field("done", items)
            _types(done, _BOOL_OR_NONE)
            _check(not any(d is not None and h for d, h in zip(done, logged, strict=True)))
            kind[at] = kinds.KINDS["binary"].codes[0]
            current[at] = np.array(done, np.float64)
            key = "done"
        else:
            _milestone(items, rows, logged, kind, target, current, value_key)
            continue
        for r in rows:
            value_key[r] = key

    # check-ins: objects of "at" and the row's value field, each of the right type
    log_rows = [r for r in range(n_kr) if histories[r]]
    entries = [e for r in log_rows for e in histories[r]]
    _types(entries, frozenset((dict,)))
    lengths = [len(histories[r]) for r in log_rows]
    keys = [value_key[r] for r in log_rows for _ in histories[r]]
    _check(set(map(len, entries)) <= {2})  # "at" and the value field (else one is None)
    values = list(map(dict.get, entries, keys))
    wants_bool = list(map("done".__eq__, keys))
    types = list(map(type, values))
    _check(set(itertools.compress(types, wants_bool)) <= {bool})
    _check(set(itertools.compress(types, map(operator.not_, wants_bool))) <= _NUMBER)
    log_at = _instants(_get(entries, "at"))
    _check(bool((log_at != NONE_INSTANT).all()))
    log_value = np.array(values, np.float64) if values else np.zeros(0)
    _check(bool(np.isfinite(log_value).all()))
    staged_logs = np.array([k == "stages_done" for k in keys], np.bool_)
    if staged_logs.any():
        log_kr_all = np.repeat(np.array(log_rows, np.int64), np.array(lengths, np.int64))
        v = log_value[staged_logs]
        _check(bool(((v >= 0) & (v <= target[log_kr_all[staged_logs]])
                     & (v == np.trunc(v))).all()))

    # people and units: codes in order of first appearance over the document
    people: dict[str, int] = {}
    person = people.setdefault
    units: dict[str, int] = {"": -1}
    obj_owner: list[int] = []
    owner_ids: list[int] = []
    owner_counts: list[int] = []
    row = 0
    for owner, count in zip(owners, counts, strict=True):
        obj_owner.append(-1 if owner is None else person(owner, len(people)))
        if count:
            default = [owner] if owner else []
            for names in kr_owners[row:row + count]:
                names = names or default
                owner_counts.append(len(names))
                for name in names:
                    owner_ids.append(person(name, len(people)))
            row += count
    ps_unit = [-1] * n_obj
    row = 0
    for j, (ps, count) in enumerate(zip(settings, counts, strict=True)):
        if ps is not None:  # an objective's unit comes before its key results'
            ps_unit[j] = units.setdefault(ps["unit"], len(units) - 1)
        for name in unit_names[row:row + count]:
            if name is not None and name not in units:
                units[name] = len(units) - 1
        row += count
    ps_rows = [j for j, ps in enumerate(settings) if ps is not None]
    ps_target, ps_start = np.full(n_obj, math.nan), np.full(n_obj, math.nan)
    ps_auto = np.zeros(n_obj, np.bool_)
    if ps_rows:
        chosen = [ps for ps in settings if ps is not None]
        ps_target[ps_rows] = _optional_numbers(_get(chosen, "target"))
        ps_start[ps_rows] = _optional_numbers(_get(chosen, "start"))
        ps_auto[ps_rows] = [bool(a) for a in _get(chosen, "auto")]
    offsets = np.zeros(n_kr + 1, np.int64)
    np.cumsum(np.array(owner_counts, np.int64), out=offsets[1:])
    return dict(
        kr_objective=np.repeat(np.arange(n_obj, dtype=np.int64), np.array(counts, np.int64)),
        kr_kind=kind, kr_start=start, kr_target=target, kr_current=current,
        kr_weight=kr_weight,
        kr_unit=np.array([-1 if n is None else units[n] for n in unit_names], np.int32),
        kr_range_mode=range_mode, kr_red_low=bounds["red_low"],
        kr_yellow_low=bounds["yellow_low"], kr_yellow_high=bounds["yellow_high"],
        kr_red_high=bounds["red_high"], kr_due=kr_due,
        kr_has_log=np.array([h is not None for h in histories], np.bool_),
        kr_load=np.full(n_kr, LOAD_OK, np.uint8),
        log_kr=np.repeat(np.array(log_rows, np.int64), np.array(lengths, np.int64)),
        log_at=log_at, log_value=log_value,
        kr_owner_offsets=offsets, kr_owner_ids=np.array(owner_ids, np.int32),
        obj_parent=np.array(obj_parent, np.int64), obj_weight=obj_weight,
        obj_start=obj_start, obj_due=obj_due, obj_mode=np.array(obj_mode, np.uint8),
        obj_ambition=np.array(obj_ambition, np.uint8),
        obj_status=np.array(obj_status, np.int8),
        obj_include_children=np.array([bool(c) for c in children], np.bool_),
        obj_owner=np.array(obj_owner, np.int32), obj_ps_unit=np.array(ps_unit, np.int32),
        obj_ps_target=ps_target, obj_ps_auto=ps_auto, obj_ps_start=ps_start,
        obj_load=np.full(n_obj, LOAD_OK, np.uint8),
        kr_ids=kr_ids, obj_ids=ids, person_names=list(people),
        unit_names=[u for u, c in units.items() if c >= 0], obj_parent_names=parents)


def _metric(items: list[dict[str, Any]], rows: list[int], at: Any, logged: list[bool],
            kind: Any, target: Any, start: Any, current: Any, range_mode: Any,
            bounds: dict[str, Any], unit_names: list[str | None]) -> None:
    """The metric rows: the loader's fields and the model's cross-field checks."""
    def field(name: str) -> list[Any]:
        return _get(items, name)

    targets = field("target")
    _check(None not in targets)
    t = _numbers(targets, math.nan)
    s = _numbers(field("start"), 0.0)
    currents = field("current")
    c = _optional_numbers(currents)
    _check(not any(v is not None and h for v, h in zip(currents, logged, strict=True)))
    units = field("unit")
    _types(units, _TEXT_OR_NONE)
    ranges = field("range")
    _types(ranges, frozenset((dict, _NONE)))
    linear_or_none = np.array([r is None for r in ranges], np.bool_)
    ranged = [j for j, r in enumerate(ranges) if r is not None]
    if ranged:
        chosen = [ranges[j] for j in ranged]
        _check(all(map(_RANGE_KNOWN.issuperset, chosen)))
        modes = _codes([r.get("mode") for r in chosen], RANGE_MODE_CODES, "band")
        _check(set(r.get("mode") for r in chosen) <= {None, *RANGE_MODES})
        where = at[ranged]
        range_mode[where] = modes
        linear_or_none[ranged] = [m == RANGE_MODE_CODES["linear"] for m in modes]
        for name in ("red_low", "yellow_low", "yellow_high", "red_high"):
            values = _optional_numbers(_get(chosen, name))
            bounds[name][where] = values
        # red_low <= yellow_low <= target <= yellow_high <= red_high over the present ones
        chain = [bounds["red_low"][where], bounds["yellow_low"][where], t[ranged],
                 bounds["yellow_high"][where], bounds["red_high"][where]]
        highest = np.full(len(ranged), -math.inf)
        for values in chain:
            present = ~np.isnan(values)
            _check(not bool((present & (values < highest)).any()))
            highest = np.where(present, values, highest)
    _check(not bool(((t == s) & linear_or_none).any()))
    kind[at] = kinds.KINDS["metric"].codes[0]
    target[at], start[at], current[at] = t, s, c
    for r, name in zip(rows, units, strict=True):
        unit_names[r] = "" if name is None else name


def _milestone(items: list[dict[str, Any]], rows: list[int], logged: list[bool], kind: Any,
               target: Any, current: Any, value_key: list[str]) -> None:
    """Simple and staged milestones (a checkpoint milestone declines)."""
    _check(set(_get(items, "checkpoints")) <= {None})
    totals = _get(items, "stages_total")
    dones = _get(items, "done")
    stages_done = _get(items, "stages_done")
    _types(dones, _BOOL_OR_NONE)
    for r, total, done, staged_done, has_log in zip(rows, totals, dones, stages_done, logged,
                                                    strict=True):
        if total is None:
            _check(staged_done is None and not (done is not None and has_log))
            kind[r] = KIND_MILESTONE
            target[r] = 1.0
            current[r] = math.nan if done is None else float(done)
            value_key[r] = "done"
            continue
        _check(type(total) in _NUMBER and done is None)
        number = float(total)
        _check(math.isfinite(number) and number == int(number) and number >= 1)
        kind[r] = KIND_STAGED
        target[r] = float(int(total))
        if staged_done is not None:
            _check(type(staged_done) in _NUMBER and not has_log)
            value = float(staged_done)
            _check(math.isfinite(value) and value == int(value) and 0 <= value <= int(total))
            current[r] = value
        value_key[r] = "stages_done"
