"""What the bulk job, the columnar path and the per-event path share when they write.

The report, the policy's stored text, the set-based upsert and the rows held back because their
input changed.

Below :mod:`okrcore_sqlalchemy.job`, :mod:`okrcore_sqlalchemy.columnar` and
:mod:`okrcore_sqlalchemy.events` (which import it); :mod:`okrcore_sqlalchemy.job` re-exports the
public names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import numpy as np
from sqlalchemy import BigInteger, Connection, Table

from okrcore.batch import OrgFrame
from okrcore.batch import incremental as inc
from okrcore.policy import Policy
from okrcore_sqlalchemy.reading import RowError, _instant_storage, _is_instant, _pg_instant
from okrcore_sqlalchemy.schema import key_type_name

__all__ = ["RecomputeReport", "upsert_columns"]


@attrs.frozen
class RecomputeReport:
    """What one :func:`recompute` did.

    Parameters
    ----------
    as_of : datetime
        The instant the results are for.
    policy : Policy
        The policy they were computed with.
    key_results, objectives, people : int
        Results written.
    skipped_newer : int
        Results not written because their input changed while the job ran (they stay
        out of date until the next run, which picks the change up).
    errors : tuple of RowError
        Bad rows, never written.
    objective_colours : mapping of str to int
        ``green`` / ``yellow`` / ``red`` / ``none``: objectives of each effective colour.
    seconds_read, seconds_compute, seconds_write : float
        Wall time of each phase [s].
    incremental : bool
        True when only what changed since the stored snapshot was recomputed.
    io : {"adbc", "sqlalchemy"}
        How the input was read and the results written: ADBC columnar bulk I/O or the rows of
        the SQLAlchemy connection (``recompute(io=...)``).
    """

    as_of: datetime
    policy: Policy
    key_results: int
    objectives: int
    people: int
    skipped_newer: int
    errors: tuple[RowError, ...]
    objective_colours: Mapping[str, int]
    seconds_read: float
    seconds_compute: float
    seconds_write: float
    incremental: bool = False
    io: str = "sqlalchemy"

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-able object (instants in ISO 8601, UTC)."""
        return {
            "as_of": self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "policy": self.policy.to_json(),
            "key_results": self.key_results,
            "objectives": self.objectives,
            "people": self.people,
            "skipped_newer": self.skipped_newer,
            "errors": [e.to_json() for e in self.errors],
            "objective_colours": dict(self.objective_colours),
            "seconds_read": self.seconds_read,
            "seconds_compute": self.seconds_compute,
            "seconds_write": self.seconds_write,
            "incremental": self.incremental,
            "io": self.io,
        }


def _policy_json(policy: Policy) -> str:
    return json.dumps(policy.to_json(), sort_keys=True)


def _pg_text(value: Any) -> str:
    if value is None:
        return "NULL"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _pg_array(values: list[Any], kind: str) -> str:
    """One column as a PostgreSQL array literal (built by C-level joins, not per element)."""
    if kind == "float8":
        body = ",".join(map(repr, values)).replace("None", "NULL")
    elif kind == "bigint":
        body = ",".join(map(str, values)).replace("None", "NULL")
    elif kind == "boolean":
        body = ",".join(["NULL" if v is None else "t" if v else "f" for v in values])
    else:
        body = ",".join(map(_pg_text, values))
    return "{" + body + "}"


def upsert_columns(conn: Connection, table: Table, keys: Sequence[str], guard: bool,
                   columns: Mapping[str, Any]) -> None:
    """Insert or update rows given as columns, in one statement.

    Parameters
    ----------
    conn : Connection
        In a transaction.
    table : Table
        The target; ``keys`` must be a unique key of it.
    keys : sequence of str
        The conflict target.
    guard : bool
        Update a conflicting row only when its ``input_version`` is not newer.
    columns : mapping of str to array or list
        Equal-length columns; float NaN is stored as NULL.

    Notes
    -----
    PostgreSQL: ``INSERT … SELECT … FROM unnest(%s::type[], …) ON CONFLICT … DO UPDATE`` (one
    set-based statement, the arrays sent as parameters); SQLite: the same upsert through
    ``executemany``.
    """
    names = list(columns)
    if not len(columns[names[0]]):
        return
    q = conn.dialect.identifier_preparer.quote
    target = q(table.name)
    cols = ", ".join(q(n) for n in names)
    update = ", ".join(f"{q(n)} = excluded.{q(n)}" for n in names if n not in keys)
    where = (f" WHERE {target}.input_version <= excluded.input_version" if guard else "")
    conflict = f"ON CONFLICT ({', '.join(q(k) for k in keys)}) DO UPDATE SET {update}{where}"
    values = [np.asarray(columns[n]).tolist() if isinstance(columns[n], np.ndarray)
              else list(columns[n]) for n in names]
    instants: dict[str, str] = {}
    for i, n in enumerate(names):
        kind_of = table.c[n].type
        if _is_instant(kind_of):
            values[i], instants[n] = _instant_storage(kind_of, values[i], conn.dialect.name)
        elif key_type_name(table.c[n]) == "UUID":
            process = (None if conn.dialect.name == "postgresql"
                       else kind_of.bind_processor(conn.dialect))
            values[i] = [None if v is None else process(v) if process else str(v)
                         for v in values[i]]
    if conn.dialect.name == "postgresql":
        types, selects, literals = [], [], []
        for n, column_values in zip(names, values, strict=True):
            column = table.c[n]
            if n in instants:
                kind = "bigint"  # µs, made timestamps in the SELECT
            elif key_type_name(column) == "UUID":
                kind = "uuid"
            elif isinstance(column.type, BigInteger) or column.type.python_type is int:
                kind = "bigint"
            elif column.type.python_type is float:
                kind = "float8"
            elif column.type.python_type is bool:
                kind = "boolean"
            else:
                kind = "text"
            types.append(kind)
            selects.append(f"NULLIF({q(n)}, 'NaN'::float8)" if kind == "float8" else
                           _pg_instant(q(n), instants[n]) if n in instants else q(n))
            literals.append(_pg_array(column_values, kind))
        args = ", ".join(f"%s::{t}[]" for t in types)
        sql = (f"INSERT INTO {target} ({cols}) SELECT {', '.join(selects)} "
               f"FROM unnest({args}) AS u({cols}) {conflict}")
        conn.exec_driver_sql(sql, tuple(literals))
    else:
        marks = ", ".join("?" for _ in names)
        sql = f"INSERT INTO {target} ({cols}) VALUES ({marks}) {conflict}"
        conn.exec_driver_sql(sql, list(zip(*values, strict=True)))


def _skip_masks(frame: OrgFrame, same: bool, kr_changed_rows: Any, obj_changed_rows: Any
                ) -> tuple[Any, Any, Any]:
    """Rows not to write, given which rows changed since they were read.

    Everything unless ``same`` (the same key results and objectives, in the same order, as
    read); else the changed rows' objectives, their ancestors and their owners.
    """
    n_people = len(frame.person_names or ())
    if not same:
        return (np.ones(frame.n_kr, bool), np.ones(frame.n_obj, bool), np.ones(n_people, bool))
    kr_changed = np.flatnonzero(kr_changed_rows)
    objectives, _ = inc.affected(frame, kr_changed)
    obj_skip = np.zeros(frame.n_obj, bool)
    obj_skip[objectives] = True
    for row in np.flatnonzero(obj_changed_rows):
        up = int(row)
        while up >= 0 and not obj_skip[up]:
            obj_skip[up] = True
            up = int(frame.obj_parent[up])
    kr_skip = obj_skip[frame.kr_objective]
    person_skip = np.zeros(n_people, bool)
    owners = frame.obj_owner[obj_skip]
    person_skip[owners[owners >= 0]] = True
    counts = np.diff(frame.kr_owner_offsets)
    person_skip[frame.kr_owner_ids[np.repeat(kr_skip, counts)]] = True
    return kr_skip, obj_skip, person_skip
