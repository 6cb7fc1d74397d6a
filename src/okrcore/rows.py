"""Relational rows ⇄ the core: the column mapping every database adapter shares.

The reference relational schema (``docs/adapters.rst``) keeps an organisation in six tables —
people, objectives, key results, key result owners, checkpoints and check-ins — and its computed
results in four (snapshots and the results of key results, objectives and people).  This module
is pure Python plus numpy, so that the SQLAlchemy and Django adapters (and any other) share one
mapping and never compute anything themselves:

* :func:`document_rows` / :func:`document_from_rows` map a :class:`~okrcore.model.Document` to
  rows and back (a row that does not make a valid model becomes an ``Invalid*`` item carrying
  its structured error);
* :func:`frame_from_columns` turns the columns read from the tables into an
  :class:`~okrcore.batch.OrgFrame` (no Python object per row beyond the database driver's
  tuples), and :func:`result_columns` / :func:`batch_result_from_columns` map the engine's
  :class:`~okrcore.batch.BatchResult` to the stored result columns and back;
* :func:`row_errors` names the bad rows of a computed frame with a structured error each;
* :func:`kr_progress_sql` is the one SQL text of a key result's progress that the adapters put
  on their models so that queries can filter and sort on progress in the database.  The core is
  the reference: the adapters' tests prove the SQL equal to it on SQLite and PostgreSQL.

Instants are stored as integers [µs since the Unix epoch, UTC]; absent numbers as SQL NULL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from okrcore import errors as E
from okrcore import kinds as K
from okrcore.batch import BatchResult, OrgFrame
from okrcore.batch import engine as G
from okrcore.codes import (
    AMBITION_CODES,
    AMBITION_COMMITTED,
    MODE_AUTO,
    MODE_CODES,
    NONE_INSTANT,
    RANGE_MODE_CODES,
    RANGE_NONE,
    RESULT_CODE_NAMES,
    STATUS_CODES,
    STATUS_NONE,
    UNKNOWN_CODE,
    UNKNOWN_STATUS,
)
from okrcore.evaluate import EPOCH, instant_us
from okrcore.model import (
    Document,
    InvalidKeyResult,
    InvalidObjective,
    KeyResult,
    Objective,
    ProgressSettings,
)
from okrcore.policy import Policy

__all__ = [
    "CHECKPOINT_COLUMNS",
    "CHECK_IN_COLUMNS",
    "KEY_RESULT_COLUMNS",
    "OBJECTIVE_COLUMNS",
    "OWNER_COLUMNS",
    "PERSON_COLUMNS",
    "RESULT_COLUMNS",
    "TABLES",
    "Tables",
    "batch_result_from_columns",
    "document_from_rows",
    "document_rows",
    "frame_from_codes",
    "frame_from_columns",
    "from_instant",
    "key_result_from_row",
    "kr_progress_sql",
    "objective_from_row",
    "result_columns",
    "row_errors",
    "sort_key_results",
    "stored_codes",
    "stored_dictionary",
    "stored_names",
    "to_instant",
]

TABLES: Final = ("people", "objectives", "key_results", "kr_owners", "checkpoints", "check_ins")
"""The input tables of the reference schema, in the order they are written."""

PERSON_COLUMNS: Final = ("id", "name")
OBJECTIVE_COLUMNS: Final = (
    "id", "position", "name", "owner_id", "parent_id", "weight", "start_at", "due_at", "mode",
    "ambition", "status", "include_children", "ps_unit", "ps_target", "ps_auto", "ps_start",
)
"""Columns of an objective row (``version`` is kept by the database, not by the mapping)."""
KEY_RESULT_COLUMNS: Final = (
    "id", "objective_id", "position", "name", "kind", "start", "target", "current",
    "stages_total", "unit", "range_mode", "red_low", "yellow_low", "yellow_high", "red_high",
    "due_at", "weight", "has_history",
)
"""Columns of a key result row.

``kind`` is ``metric``, ``binary`` or ``milestone``; ``current`` holds the metric's value, 1/0
for done / not done, or the stages done (staged milestone).  A milestone with checkpoint rows is
a checkpoint milestone, one with ``stages_total`` a staged one, else a simple one.
``has_history`` distinguishes an empty check-in history from none."""
OWNER_COLUMNS: Final = ("kr_id", "position", "person_id")
CHECKPOINT_COLUMNS: Final = ("kr_id", "position", "name", "done")
CHECK_IN_COLUMNS: Final = ("kr_id", "seq", "at", "value")
"""``seq`` orders check-ins of one instant (a later one wins a tie)."""

RESULT_COLUMNS: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "kr": (
        ("error", "int"), ("error_ref", "int"), ("value", "float"), ("raw", "float"),
        ("progress", "float"), ("expected", "float"), ("colour", "int"),
        ("pace_colour", "int"), ("range_status", "int"), ("contributes", "bool"),
        ("trend", "int"), ("stale", "int"), ("last_at", "int"), ("forecast_value", "float"),
        ("forecast_progress", "float"), ("forecast_colour", "int"), ("grade_score", "float"),
        ("grade_band", "int"), ("grade_success", "bool"),
    ),
    "obj": (
        ("error", "int"), ("error_ref", "int"), ("mode", "int"), ("rule", "int"),
        ("progress", "float"), ("raw", "float"), ("expected", "float"), ("colour", "int"),
        ("computed_colour", "int"), ("trend", "int"), ("stale", "int"),
        ("forecast_progress", "float"), ("forecast_colour", "int"), ("grade_score", "float"),
        ("grade_band", "int"), ("grade_success", "bool"), ("sum_unit", "int"),
        ("sum_target", "float"), ("sum_start", "float"), ("sum_value", "float"),
        ("sum_progress", "float"), ("previous", "float"), ("has_history", "bool"),
        ("parent", "int"), ("in_cycle", "bool"),
    ),
    "person": (
        ("progress", "float"), ("items", "int"), ("error_ref", "int"), ("seen", "bool"),
    ),
}
"""Stored result columns per prefix of :class:`~okrcore.batch.BatchResult` (``kr``, ``obj``,
``person``): the field ``kr_progress`` is the column ``progress`` of the key result results.
Codes (colours, trends, errors) are the batch engine's; NaN is stored as NULL."""

_NONE_CODES: Final = {name: min(-1, *table) if 0 in table else 0
                      for name, table in RESULT_CODE_NAMES.items()}
"""The "none" code of each coded result column (stored as NULL)."""


def _code_table(column: str) -> tuple[int, tuple[str, ...], npt.NDArray[np.int64]]:
    """(lowest code, names in code order, position of each code from the lowest; -1: none)."""
    table = RESULT_CODE_NAMES[column]
    low = min(_NONE_CODES[column], *table)
    names = tuple(table[c] for c in sorted(table))
    position = {c: i for i, c in enumerate(sorted(table))}
    index = np.asarray([position.get(c, -1) for c in range(low, max(table) + 1)], np.int64)
    return low, names, index


_CODE_TABLES: Final = {column: _code_table(column) for column in RESULT_CODE_NAMES}


def _positions(column: str, codes: npt.ArrayLike) -> _I64:
    low, _, index = _CODE_TABLES[column]
    shifted = np.asarray(codes, np.int64) - low
    bad = (shifted < 0) | (shifted >= index.shape[0])
    if bad.any():
        value = int(np.asarray(codes, np.int64)[np.flatnonzero(bad)[0]])
        raise ValueError(f"result column {column!r}: code {value} has no stored name")
    return index[shifted]


def stored_dictionary(column: str, codes: npt.ArrayLike) -> tuple[_I64, tuple[str, ...]]:
    """A coded result column as dictionary indices and the dictionary (its names).

    Parameters
    ----------
    column : str
        The result column without its prefix (``colour``, ``trend``...: a key of
        :data:`okrcore.codes.RESULT_CODE_NAMES`).
    codes : array_like of int
        The batch engine's codes.

    Returns
    -------
    indices : ndarray of int64
        Position of each code's name in ``names``; -1 for the column's "none" (NULL).
    names : tuple of str
        Every name of the column, in code order.

    Raises
    ------
    ValueError
        A code outside the column's vocabulary (naming the column and the code).
    """
    return _positions(column, codes), _CODE_TABLES[column][1]


def stored_names(column: str, codes: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """A coded result column as its stored names (``None`` for the column's "none").

    See :func:`stored_dictionary` (parameters, errors); vectorised (one ``take``).
    """
    indices, names = stored_dictionary(column, codes)
    return np.asarray([*names, None], dtype=object)[indices]


def stored_codes(column: str, values: Iterable[Any]) -> _I64:
    """Stored values of a coded result column back to the batch engine's codes.

    The inverse of :func:`stored_names`: a name to its code, ``None`` to the column's "none"
    code (an integer is taken as the code itself, as rows written before the names were).

    Raises
    ------
    ValueError
        A value that names no code of the column (naming the column and the value).
    """
    codes = {name: code for code, name in RESULT_CODE_NAMES[column].items()}
    none = _NONE_CODES[column]
    values = list(values)
    lookup: dict[Any, int] = {None: none, **codes}
    try:  # names and NULLs: one dictionary look-up each
        return np.asarray([lookup[v] for v in values], np.int64)
    except (KeyError, TypeError):
        pass
    out = []
    for value in values:
        if value is None:
            out.append(none)
        elif isinstance(value, str) and value in codes:
            out.append(codes[value])
        elif isinstance(value, int | np.integer) and not isinstance(value, bool):
            out.append(int(value))
        else:
            raise ValueError(f"result column {column!r}: {value!r} is not one of "
                             f"{sorted(codes)} (or NULL)")
    return np.asarray(out, np.int64)


Tables = dict[str, list[dict[str, Any]]]
"""Rows per table name of :data:`TABLES`."""

_UNKNOWN: Final = UNKNOWN_CODE
_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]


def to_instant(moment: datetime | None) -> int | None:
    """Return an aware datetime as stored: integer µs since the Unix epoch (``None`` kept)."""
    return None if moment is None else instant_us(moment)


def from_instant(value: int | None) -> datetime | None:
    """Return a stored instant [µs since the Unix epoch] as an aware UTC datetime."""
    return None if value is None else EPOCH + timedelta(microseconds=int(value))


# --- core -> rows ------------------------------------------------------------------------------


def _kr_row(kr: KeyResult, objective_id: str, position: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(KEY_RESULT_COLUMNS)
    row.update(id=kr.id, objective_id=objective_id, position=position, name=kr.name,
               kind=kr.kind, start=0.0, unit="", due_at=to_instant(kr.due),
               weight=float(kr.weight), has_history=kr.check_ins is not None)
    row.update(K.kind_of(kr).to_row(kr))
    return row


def document_rows(document: Document) -> Tables:
    """Map a document to the rows of the reference schema (:data:`TABLES`).

    Invalid items (``InvalidObjective`` / ``InvalidKeyResult``) cannot be stored and raise
    ``ValueError`` naming them: the database holds only what the core accepts.
    """
    tables: Tables = {name: [] for name in TABLES}
    people: dict[str, None] = {}
    for position, obj in enumerate(document.objectives):
        if not isinstance(obj, Objective):
            raise ValueError(f"objective {obj.id!r} is invalid and cannot be stored: "
                             f"{'; '.join(e.message for e in obj.errors)}")
        if obj.owner:
            people.setdefault(obj.owner)
        ps = obj.progress_settings
        tables["objectives"].append({
            "id": obj.id, "position": position, "name": obj.name, "owner_id": obj.owner,
            "parent_id": obj.parent, "weight": float(obj.weight),
            "start_at": to_instant(obj.start), "due_at": to_instant(obj.due), "mode": obj.mode,
            "ambition": obj.ambition, "status": obj.status,
            "include_children": obj.include_children,
            "ps_unit": ps.unit if ps else None, "ps_target": ps.target if ps else None,
            "ps_auto": ps.auto if ps else False, "ps_start": ps.start if ps else None,
        })
        for kr_position, kr in enumerate(obj.key_results):
            if isinstance(kr, InvalidKeyResult):
                raise ValueError(f"key result {kr.id!r} is invalid and cannot be stored")
            tables["key_results"].append(_kr_row(kr, obj.id, kr_position))
            for i, owner in enumerate(kr.owners):
                people.setdefault(owner)
                tables["kr_owners"].append({"kr_id": kr.id, "position": i, "person_id": owner})
            for table, child_rows in K.kind_of(kr).child_rows(kr).items():
                tables[table].extend(child_rows)
            for seq, entry in enumerate(kr.check_ins or ()):
                tables["check_ins"].append({"kr_id": kr.id, "seq": seq,
                                            "at": instant_us(entry.at),
                                            "value": float(entry.value)})
    tables["people"] = [{"id": name, "name": name} for name in people]
    return tables


# --- rows -> core ------------------------------------------------------------------------------


def key_result_from_row(
    row: Mapping[str, Any],
    check_ins: Sequence[tuple[int, float]] | None = None,
    owners: Sequence[str] = (),
    checkpoints: Sequence[tuple[str, bool]] | None = None,
) -> KeyResult:
    """Build the core key result of one row (its check-ins as ``(at µs, value)`` in order).

    Raises
    ------
    OkrValueError
        The row does not make a valid key result; the error names the column and the value.
    """
    name = row.get("kind")
    kind = K.KINDS.get(name) if isinstance(name, str) else None
    history = check_ins if row.get("has_history") or check_ins else None
    common: dict[str, Any] = {
        "id": row["id"], "weight": row.get("weight", 1.0), "owners": tuple(owners),
        "due": from_instant(row.get("due_at")), "name": row.get("name") or "",
    }
    if kind is None:
        *first, last = K.KINDS
        names = f"{', '.join(first)} or {last}"
        raise E.OkrValueError(E.UNKNOWN_FIELD_VALUE, "kind",
                              f"kind must be {names}, got {name!r}", name)
    built: KeyResult = kind.from_row(row, history, checkpoints, common)
    return built


def objective_from_row(row: Mapping[str, Any],
                       key_results: Sequence[KeyResult | InvalidKeyResult] = ()) -> Objective:
    """Build the core objective of one row.

    Raises
    ------
    OkrValueError
        The row does not make a valid objective; the error names the column and the value.
    """
    settings = None
    if row.get("ps_unit") is not None:
        settings = ProgressSettings(unit=row["ps_unit"], target=row.get("ps_target"),
                                    auto=bool(row.get("ps_auto")), start=row.get("ps_start"))
    return Objective(
        id=row["id"], key_results=key_results, owner=row.get("owner_id"),
        parent=row.get("parent_id"), weight=row.get("weight", 1.0),
        start=from_instant(row.get("start_at")), due=from_instant(row.get("due_at")),
        mode=row.get("mode") or "auto", ambition=row.get("ambition") or "committed",
        status=row.get("status"), include_children=bool(row.get("include_children")),
        progress_settings=settings, name=row.get("name") or "",
    )


def document_from_rows(tables: Mapping[str, Sequence[Mapping[str, Any]]], as_of: datetime,
                       policy: Policy | None = None) -> Document:
    """Build a document from the rows of the reference schema (any row order).

    A row that does not make a valid item becomes an :class:`~okrcore.model.InvalidKeyResult`
    / :class:`~okrcore.model.InvalidObjective` with its error (path: the column), so that
    evaluating the document reports it like the interchange loader would.
    """
    def by_kr(name: str, key: str) -> dict[str, list[Mapping[str, Any]]]:
        out: dict[str, list[Mapping[str, Any]]] = {}
        for row in sorted(tables.get(name, ()), key=lambda r: (r["kr_id"], r[key])):
            out.setdefault(row["kr_id"], []).append(row)
        return out

    owners, points, logs = by_kr("kr_owners", "position"), by_kr("checkpoints", "position"), \
        by_kr("check_ins", "seq")
    krs_of: dict[str, list[KeyResult | InvalidKeyResult]] = {}
    for row in sorted(tables.get("key_results", ()),
                      key=lambda r: (r["objective_id"], r["position"], r["id"])):
        kid = row["id"]
        history = [(r["at"], r["value"]) for r in
                   sorted(logs.get(kid, ()), key=lambda r: (r["at"], r["seq"]))]
        names = [r["person_id"] for r in owners.get(kid, ())]
        try:
            kr: KeyResult | InvalidKeyResult = key_result_from_row(
                row, history, names, [(r["name"], r["done"]) for r in points.get(kid, ())])
        except E.OkrValueError as exc:
            kr = InvalidKeyResult(kid, (exc.to_error(),), names, 1.0)
        krs_of.setdefault(row["objective_id"], []).append(kr)
    objectives: list[Objective | InvalidObjective] = []
    for row in sorted(tables.get("objectives", ()), key=lambda r: (r["position"], r["id"])):
        krs = krs_of.get(row["id"], [])
        try:
            objectives.append(objective_from_row(row, krs))
        except E.OkrValueError as exc:
            objectives.append(InvalidObjective(row["id"], (exc.to_error(),), row.get("owner_id"),
                                               None, 1.0, krs))
    return Document(as_of=as_of, objectives=objectives, policy=policy or Policy())


def sort_key_results(objective_ids: Sequence[str],
                     key_results: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Reorder key result columns so that their rows follow their objectives' order.

    Rows of one objective keep their relative order; rows naming an objective that is not in
    ``objective_ids`` go last.
    """
    index = {ident: i for i, ident in enumerate(objective_ids)}
    owner = np.fromiter((index.get(o, len(index)) for o in key_results["objective_id"]),
                        np.int64, len(key_results["objective_id"]))
    if owner.shape[0] < 2 or bool(np.all(owner[1:] >= owner[:-1])):
        return {name: list(values) for name, values in key_results.items()}
    order = np.argsort(owner, kind="stable").tolist()
    return {name: [values[i] for i in order] for name, values in key_results.items()}


# --- columns -> frame --------------------------------------------------------------------------


def _floats(values: Sequence[Any]) -> _F64:
    return np.asarray(values, dtype=np.float64)  # None -> NaN


def _instants(values: Sequence[Any]) -> _I64:
    return np.fromiter((NONE_INSTANT if v is None else v for v in values), np.int64,
                       len(values))


def _codes(values: Sequence[Any], vocabulary: Mapping[Any, int], dtype: Any,
           unknown: int) -> Any:
    return np.fromiter((vocabulary.get(v, unknown) for v in values), dtype, len(values))


def frame_from_columns(
    objectives: Mapping[str, Sequence[Any]],
    key_results: Mapping[str, Sequence[Any]],
    check_ins: Mapping[str, Sequence[Any]],
    owners: Mapping[str, Sequence[Any]],
    checkpoints: Mapping[str, Sequence[Any]],
) -> OrgFrame:
    """Build a frame from the columns of the reference tables.

    Parameters
    ----------
    objectives : mapping of str to sequence
        The columns of :data:`OBJECTIVE_COLUMNS` (``position`` may be left out), one entry per
        objective, in the order the frame should have.
    key_results : mapping of str to sequence
        The columns of :data:`KEY_RESULT_COLUMNS`, in the objectives' order
        (:func:`sort_key_results`).
    check_ins : mapping of str to sequence
        ``kr_id``, ``at`` [µs] and ``value``, sorted by key result, instant and ``seq``.
    owners : mapping of str to sequence
        ``kr_id`` and ``person_id`` in owner order.
    checkpoints : mapping of str to sequence
        ``kr_id`` and ``done``.

    Returns
    -------
    OrgFrame
        With ``kr_ids``, ``obj_ids``, ``person_names`` and ``unit_names`` set.  Values outside a
        vocabulary (an unknown ``kind`` or ``mode``) become out-of-range codes, which the engine
        reports as ``unknown_value`` on that row only.
    """
    obj_ids = list(objectives["id"])
    kr_ids = list(key_results["id"])
    n, m = len(kr_ids), len(obj_ids)
    obj_row = {ident: i for i, ident in enumerate(obj_ids)}
    kr_row = {ident: i for i, ident in enumerate(kr_ids)}
    units: dict[str, int] = {}
    people: dict[str, int] = {}

    def unit(name: Any) -> int:
        if not name:
            return -1
        return units.setdefault(name, len(units))

    def person(name: Any) -> int:
        return -1 if name is None else people.setdefault(name, len(people))

    kr_objective = np.fromiter((obj_row.get(o, -1) for o in key_results["objective_id"]),
                               np.int64, n)
    if n and kr_objective.min() < 0:
        bad = kr_ids[int(np.argmin(kr_objective))]
        raise ValueError(f"key result {bad!r} names an objective that is not stored")
    kr: dict[str, Any] = {  # copies: frame_from_codes maps the kinds' rows in place
        name: np.array(key_results[name], dtype=np.float64) for name in (
            "start", "target", "current", "stages_total", "red_low", "yellow_low",
            "yellow_high", "red_high", "weight")}
    kr.update(
        objective=kr_objective,
        kind=_codes(key_results["kind"], {k.name: k.code for k in K.KINDS.values()}, np.uint8,
                    _UNKNOWN),
        range_mode=_codes(key_results["range_mode"], {None: RANGE_NONE, **RANGE_MODE_CODES},
                          np.uint8, _UNKNOWN),
        due_at=_instants(key_results["due_at"]),
        has_history=np.array(key_results["has_history"], dtype=np.bool_),
        unit=np.fromiter((unit(u) for u in key_results["unit"]), np.int32, n))
    obj_owner = np.fromiter((person(o) for o in objectives["owner_id"]), np.int32, m)
    parents = list(objectives["parent_id"])
    obj: dict[str, Any] = {
        "parent": np.fromiter((-1 if p is None else obj_row.get(p, -2) for p in parents),
                              np.int64, m),
        "weight": _floats(objectives["weight"]), "start_at": _instants(objectives["start_at"]),
        "due_at": _instants(objectives["due_at"]),
        "mode": _codes(objectives["mode"], {None: MODE_AUTO, **MODE_CODES}, np.uint8, _UNKNOWN),
        "ambition": _codes(objectives["ambition"], {None: AMBITION_COMMITTED, **AMBITION_CODES},
                           np.uint8, _UNKNOWN),
        "status": _codes(objectives["status"], {None: STATUS_NONE, **STATUS_CODES}, np.int8,
                         UNKNOWN_STATUS),
        "include_children": np.asarray(objectives["include_children"], dtype=np.bool_),
        "owner": obj_owner,
        "ps_unit": np.fromiter((unit(u) if u is not None else -1
                                for u in objectives["ps_unit"]), np.int32, m),
        "ps_target": _floats(objectives["ps_target"]),
        "ps_auto": np.asarray([bool(a) for a in objectives["ps_auto"]], dtype=np.bool_),
        "ps_start": _floats(objectives["ps_start"]),
    }
    logs = {"kr": np.fromiter((kr_row[k] for k in check_ins["kr_id"]), np.int64,
                              len(check_ins["kr_id"])),
            "at": np.asarray(check_ins["at"], dtype=np.int64),
            "value": _floats(check_ins["value"])}
    explicit = {"kr": np.fromiter((kr_row[k] for k in owners["kr_id"]), np.int64,
                                  len(owners["kr_id"])),
                "person": np.fromiter((person(p) for p in owners["person_id"]), np.int32,
                                      len(owners["person_id"]))}
    points = {"kr": np.fromiter((kr_row[k] for k in checkpoints["kr_id"]), np.int64,
                                len(checkpoints["kr_id"])),
              "done": np.asarray(checkpoints["done"], dtype=np.float64)}
    return frame_from_codes(
        obj, kr, logs, explicit, points, kr_ids=kr_ids, obj_ids=obj_ids,
        person_names=sorted(people, key=people.__getitem__),
        unit_names=sorted(units, key=units.__getitem__), obj_parent_names=parents)


def frame_from_codes(
    obj: Mapping[str, Any],
    kr: Mapping[str, Any],
    logs: Mapping[str, Any],
    owners: Mapping[str, Any],
    points: Mapping[str, Any],
    *,
    kr_ids: Sequence[Any] | None,
    obj_ids: Sequence[Any] | None,
    person_names: Sequence[Any] | None,
    unit_names: Sequence[Any] | None,
    obj_parent_names: Sequence[Any] | None,
) -> OrgFrame:
    """Build a frame from the reference tables' columns already mapped to rows and codes.

    The second half of :func:`frame_from_columns`, for readers that map keys and vocabularies
    in columns (the SQLAlchemy adapter's columnar read): every input is a numpy array.

    Parameters
    ----------
    obj : mapping of str to ndarray
        Per objective: ``parent`` (row; -1 none, -2 not stored), ``weight``, ``start_at`` and
        ``due_at`` [µs; ``NONE_INSTANT`` absent], ``mode``, ``ambition``, ``status`` (codes of
        :mod:`okrcore.codes`), ``include_children``, ``owner`` (person code, -1 none),
        ``ps_unit`` (unit code, -1 none), ``ps_target``, ``ps_auto``, ``ps_start``.
    kr : mapping of str to ndarray
        Per key result, in the objectives' order: ``objective`` (row), ``kind`` (code),
        ``start``, ``target``, ``current``, ``stages_total``, ``red_low``, ``yellow_low``,
        ``yellow_high``, ``red_high``, ``weight`` (float, NaN absent), ``unit`` (code),
        ``range_mode`` (code), ``due_at`` [µs], ``has_history``.
    logs : mapping of str to ndarray
        Check-ins: ``kr`` (row), ``at`` [µs], ``value``; sorted by key result, instant, seq.
    owners : mapping of str to ndarray
        Explicit owners: ``kr`` (row) and ``person`` (code), in owner order.
    points : mapping of str to ndarray
        Checkpoints: ``kr`` (row) and ``done`` (0 or 1).
    kr_ids, obj_ids, person_names, unit_names, obj_parent_names : sequence, optional
        The frame's labels.

    Notes
    -----
    The float columns ``start``, ``target``, ``current``, ``stages_total`` and
    ``has_history`` are used in place (each kind maps its rows into them): pass arrays of
    your own.

    Returns
    -------
    OrgFrame
    """
    n = kr["kind"].shape[0]
    kind = kr["kind"]
    kr_points = np.zeros(n)
    kr_points_done = np.zeros(n)
    if points["kr"].shape[0]:
        kr_points = np.bincount(points["kr"], minlength=n).astype(np.float64)
        kr_points_done = np.asarray(np.bincount(
            points["kr"], weights=np.asarray(points["done"], dtype=np.float64), minlength=n),
            dtype=np.float64)
    cols = K.Columns(kind, np.asarray(kr["target"], dtype=np.float64),
                     np.asarray(kr["current"], dtype=np.float64),
                     np.asarray(kr["stages_total"], dtype=np.float64), kr_points, kr_points_done)
    start = np.asarray(kr["start"], dtype=np.float64)
    rows_of = [(k, kind == k.code) for k in K.KINDS.values()]
    uses_start = np.zeros(n, dtype=np.bool_)
    for k, rows in rows_of:
        uses_start |= rows if k.uses_start else False
    start[~uses_start] = 0.0
    start[np.isnan(start)] = 0.0
    for k, rows in rows_of:
        k.columns(cols, rows)
    target, current = cols.target, cols.current
    kr_objective = kr["objective"]
    log_kr = logs["kr"]
    has_log = np.asarray(kr["has_history"], dtype=np.bool_)
    has_log[log_kr] = True
    obj_owner = obj["owner"]
    explicit_kr, explicit = owners["kr"], owners["person"]
    # a key result without owners belongs to its objective's owner
    implicit_kr = np.flatnonzero((np.bincount(explicit_kr, minlength=n) == 0)
                                 & (obj_owner[kr_objective] >= 0))
    owner_kr = np.concatenate([explicit_kr, implicit_kr])
    order = np.argsort(owner_kr, kind="stable")
    owner_ids = np.concatenate([explicit, obj_owner[kr_objective[implicit_kr]]])[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner_kr, minlength=n))])
    frame = OrgFrame.from_columns(
        kr_objective=kr_objective, kr_kind=kind, kr_start=start, kr_target=target,
        kr_current=current, kr_weight=kr["weight"], kr_unit=kr["unit"],
        kr_range_mode=kr["range_mode"], kr_red_low=kr["red_low"],
        kr_yellow_low=kr["yellow_low"], kr_yellow_high=kr["yellow_high"],
        kr_red_high=kr["red_high"], kr_due=kr["due_at"], kr_has_log=has_log,
        log_kr=log_kr, log_at=logs["at"], log_value=logs["value"],
        kr_owner_offsets=offsets.astype(np.int64), kr_owner_ids=owner_ids.astype(np.int32),
        obj_parent=obj["parent"], obj_weight=obj["weight"], obj_start=obj["start_at"],
        obj_due=obj["due_at"], obj_mode=obj["mode"], obj_ambition=obj["ambition"],
        obj_status=obj["status"], obj_include_children=obj["include_children"],
        obj_owner=obj_owner, obj_ps_unit=obj["ps_unit"], obj_ps_target=obj["ps_target"],
        obj_ps_auto=obj["ps_auto"], obj_ps_start=obj["ps_start"],
        kr_ids=kr_ids, obj_ids=obj_ids, person_names=person_names, unit_names=unit_names,
        obj_parent_names=obj_parent_names,
    )
    return frame


# --- results <-> columns -----------------------------------------------------------------------


def result_columns(result: BatchResult, prefix: str, rows: Any = slice(None)) -> dict[str, Any]:
    """The stored columns of one prefix (``kr``, ``obj``, ``person``) of a batch result.

    Floats keep NaN (the adapters store it as NULL); ``rows`` selects rows.
    """
    return {name: getattr(result, f"{prefix}_{name}")[rows]
            for name, _ in RESULT_COLUMNS[prefix]}


_DTYPES: Final = {
    "kr_error": np.uint8, "obj_error": np.uint8, "obj_mode": np.uint8, "obj_rule": np.uint8,
    "obj_sum_unit": np.int32,
}
_INT8: Final = ("colour", "pace_colour", "range_status", "trend", "stale", "forecast_colour",
                "grade_band", "computed_colour")


def batch_result_from_columns(as_of: int, policy: Policy,
                              columns: Mapping[str, Mapping[str, Sequence[Any]]]) -> BatchResult:
    """Rebuild a :class:`~okrcore.batch.BatchResult` from stored columns.

    ``columns`` maps each prefix of :data:`RESULT_COLUMNS` to its columns, in frame row order
    (NULL floats as ``None`` or NaN).
    """
    fields: dict[str, Any] = {"as_of": as_of, "policy": policy}
    for prefix, spec in RESULT_COLUMNS.items():
        for name, kind in spec:
            key = f"{prefix}_{name}"
            values = columns[prefix][name]
            if kind == "float":
                fields[key] = _floats(values)
            elif kind == "bool":
                fields[key] = np.asarray(values, dtype=np.bool_)
            else:
                dtype = _DTYPES.get(key, np.int8 if name in _INT8 else np.int64)
                fields[key] = np.asarray(values, dtype=np.int64).astype(dtype)
    return BatchResult(**fields)


# --- errors ------------------------------------------------------------------------------------

_STRUCTURAL: Final = {
    G.ERR_DUPLICATE_ID: (E.DUPLICATE_ID, "id", "the id is used by an earlier row"),
    G.ERR_DEPENDS_ON_INVALID: (E.DEPENDS_ON_INVALID, "",
                               "depends on an invalid objective or key result"),
    G.ERR_INVALID_TIMELINE: (E.INVALID_TIMELINE, "due_at", "the due instant is not after start"),
    G.ERR_NOT_FINITE: (E.NOT_FINITE, "", "the rollup overflowed to a non-finite number"),
    G.ERR_UNKNOWN_PARENT: (E.UNKNOWN_PARENT, "parent_id", "the parent objective is not stored"),
    G.ERR_ALIGNMENT_CYCLE: (E.ALIGNMENT_CYCLE, "parent_id", "the alignment forms a cycle"),
    G.ERR_NO_CONTRIBUTING_METRIC: (E.NO_CONTRIBUTING_METRIC, "ps_unit",
                                   "no metric key result has the progress settings' unit"),
    G.ERR_NO_SUM_UNIT: (E.NO_CONTRIBUTING_METRIC, "mode", "sum mode needs a common unit"),
    G.ERR_MIXED_DIRECTIONS: (E.MIXED_DIRECTIONS, "ps_unit",
                             "the summed metrics increase and decrease"),
    G.ERR_DEGENERATE_GOAL: (E.DEGENERATE_METRIC, "ps_target",
                            "the summed target equals the summed start"),
}


def _structural(code: int) -> E.OkrError:
    err, path, message = _STRUCTURAL.get(code, (E.INVALID_VALUE, "", f"engine error {code}"))
    return E.OkrError(err, path, message)


def row_errors(
    result: BatchResult,
    key_result: Any,
    objective: Any,
) -> Iterable[tuple[str, int, E.OkrError]]:
    """Yield ``(table, row, error)`` for every key result and objective row with an error.

    ``key_result(row)`` / ``objective(row)`` must build the core item of a row (for example
    with :func:`key_result_from_row`) so that a field error is reported exactly as the core's
    constructor words it (code, column, value); structural errors (a cycle, an unknown parent,
    ``depends_on_invalid``...) get the engine's code.
    """
    for table, codes, build in (("objectives", result.obj_error, objective),
                                ("key_results", result.kr_error, key_result)):
        for row in np.flatnonzero(codes):
            code = int(codes[row])
            error = None
            if code in (G.ERR_LOAD,) or code >= G.ERR_FIELD_NOT_FINITE:
                try:
                    build(int(row))
                except E.OkrValueError as exc:
                    error = exc.to_error()
            yield table, int(row), error or _structural(code)


# --- SQL ---------------------------------------------------------------------------------------


def _clamp_sql(raw: str, cap: float | None) -> str:
    low = f"(CASE WHEN {raw} > 0 THEN {raw} ELSE 0.0 END)"
    if cap is None:
        return low
    return f"(CASE WHEN {low} < {float(cap)!r} THEN {low} ELSE {float(cap)!r} END)"


def kr_progress_sql(
    kr: str,
    check_ins: str,
    checkpoints: str,
    policy: Policy | None = None,
    as_of: int | None = None,
    quote: str = '"',
) -> str:
    r"""The SQL expression of a key result's clamped progress (SQLite and PostgreSQL).

    Parameters
    ----------
    kr : str
        The name (or alias) of the key result table in the enclosing query.
    check_ins, checkpoints : str
        The names of the check-in and checkpoint tables.
    policy : Policy, optional
        For the cap and strict breakpoints; default the ``betterworks`` preset.
    as_of : int, optional
        Only check-ins at or before this instant [µs] count; default all of them.
    quote : str
        The identifier quote character.

    Returns
    -------
    str
        A scalar SQL expression, NULL for an unknown kind.

    Notes
    -----
    The value is the stored ``current``, else the latest check-in (a later ``seq`` wins a
    tie), else the start; then, as :func:`okrcore.key_result_progress`: metric
    :math:`(c - s)/(t - s)`; range ``band`` 1 strictly inside the red limits, ``graded`` 1
    inside the yellow limits and linear to 0 at the red ones, ``linear`` as a metric; binary
    and milestones :math:`d/n`; then :math:`\min(\max(r, 0), \text{cap})`.  The core is the
    reference; this text is tested equal to it.
    """
    policy = policy or Policy()
    q = quote

    def c(name: str) -> str:
        return f"{q}{kr}{q}.{q}{name}{q}"

    when = "" if as_of is None else f" AND ci.{q}at{q} <= {int(as_of)}"
    latest = (f"(SELECT ci.{q}value{q} FROM {q}{check_ins}{q} ci WHERE ci.{q}kr_id{q} = {c('id')}"
              f"{when} ORDER BY ci.{q}at{q} DESC, ci.{q}seq{q} DESC LIMIT 1)")
    points = f"(SELECT COUNT(*) FROM {q}{checkpoints}{q} cp WHERE cp.{q}kr_id{q} = {c('id')})"
    points_done = (f"(SELECT COUNT(*) FROM {q}{checkpoints}{q} cp WHERE cp.{q}kr_id{q} = "
                   f"{c('id')} AND cp.{q}done{q})")
    value = f"COALESCE({c('current')}, {latest}, {c('start')}, 0.0)"
    done = f"COALESCE({c('current')}, {latest}, 0.0)"
    parts = K.SqlParts(c, value, done, points, points_done, policy.strict_breakpoints)
    cases = [case for kind in K.KINDS.values() for case in kind.sql(parts)]
    raw = f"(CASE {' '.join(f'WHEN {when} THEN {then}' for when, then in cases)} END)"
    return _clamp_sql(raw, policy.cap)
