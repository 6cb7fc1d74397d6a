"""Parquet datasets: an organisation (or many tenants) as partitioned column files.

The layout (``docs/operating.rst`` documents it for other tools)::

    DATASET/
      _okrcore_dataset.json          manifest: format, version, partitions (in order), policy,
                                     as_of (the default instant of a recompute; optional)
      people.parquet                 person (int32 code), name (string)
      units.parquet                  unit (int32 code), name (string)
      partition=<key>/objectives.parquet    id, parent_id, obj_* columns of the batch layout
      partition=<key>/key_results.parquet   id, kr_* columns (kr_objective: row in the partition)
      partition=<key>/check_ins.parquet     log_kr, log_at, log_value
      partition=<key>/owners.parquet        kr, person (one row per owner, grouped by kr)

A partition holds whole alignment trees (a tenant, or one root objective with everything
aligned under it), so it evaluates on its own; people and units have global codes, so a person
who owns items in several partitions is one person.  Columns carry the batch engine's names and
dtypes (``docs/batch.rst``), so reading is :func:`okrcore.batch.tables.column_array` over
memory-mapped files: numeric columns without nulls are handed to the engine without a copy.
Instants are ``timestamp[us, UTC]`` (null = absent).

Results go to ``OUT/as_of=<instant>/<snapshot>/partition=<key>/{key_results,objectives,
items}.parquet`` and ``OUT/as_of=<instant>/<snapshot>/people.parquet``: every
:class:`~okrcore.batch.BatchResult` column under its own name plus ``id``.  Each run writes a
new snapshot (``run=...``) beside the published one and publishes it by replacing
``OUT/as_of=<instant>/_complete.json`` last (:func:`publish`); readers follow that file, so a
failed or killed run never hides the last complete results.  Each file is written to a
temporary name and renamed into place, so a reader (or a retried job) never sees half a file.

pyarrow is imported lazily: ``pip install 'okrcore[parquet]'``.
"""


from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np

from okrcore import errors as E
from okrcore.batch.frame import NONE_INSTANT, OrgFrame
from okrcore.batch.tables import column_array
from okrcore.evaluate import isoformat
from okrcore.interchange import document_from_dict
from okrcore.jobs._arrow import (
    _TS_COLUMNS,
    COMPLETE,
    FORMAT,
    I64,
    ITEM_COLUMNS,
    MANIFEST,
    SNAPSHOT_PREFIX,
    Labels,
    _atomic_write_table,
    _atomic_write_text,
    _one_line,
    as_of_key,
    is_dataset,
    require_pyarrow,
)
from okrcore.jobs._checks import _DEFAULTS, _Checker
from okrcore.jobs.snapshots import (
    hold_snapshot,
    new_snapshot,
    prune_snapshots,
    publish,
    published,
    read_items,
    read_results,
    result_codes,
    reuse_partition,
    snapshot_dir,
    write_partition_results,
    write_people,
)
from okrcore.model import Document
from okrcore.policy import Policy

__all__ = [
    "COMPLETE",
    "FORMAT",
    "ITEM_COLUMNS",
    "MANIFEST",
    "SNAPSHOT_PREFIX",
    "Dataset",
    "Labels",
    "as_of_key",
    "component_keys",
    "hold_snapshot",
    "is_dataset",
    "new_snapshot",
    "prune_snapshots",
    "publish",
    "published",
    "read_items",
    "read_results",
    "require_pyarrow",
    "result_codes",
    "reuse_partition",
    "snapshot_dir",
    "write_dataset",
    "write_partition_results",
    "write_people",
]

_SKIP: Final = frozenset({"kr_owner_offsets", "kr_owner_ids", "kr_ids", "obj_ids",
                          "person_names", "unit_names", "obj_parent_names", "load_errors",
                          "validated"})


def _column(pa: Any, name: str, values: Any) -> Any:
    array = np.asarray(values)
    if name in _TS_COLUMNS:
        mask = array == NONE_INSTANT
        return pa.array(array.view("datetime64[us]"), type=pa.timestamp("us", tz="UTC"),
                        mask=mask if mask.any() else None)
    return pa.array(array)


def component_keys(frame: OrgFrame) -> I64:
    """Per objective row: the first row of its alignment tree (its connected component).

    Objectives linked by ``obj_parent`` (cycles included) get the same key, so partitioning by
    this key keeps whole trees together.
    """
    m = frame.n_obj
    label = np.arange(m, dtype=np.int64)
    parent = frame.obj_parent
    child = np.flatnonzero(parent >= 0)
    # min-label propagation along the parent edges until nothing changes (depth iterations)
    while child.shape[0]:
        a, b = label[child], label[parent[child]]
        low = np.minimum(a, b)
        changed = (a != low) | (b != low)
        if not changed.any():
            break
        np.minimum.at(label, child, low)
        np.minimum.at(label, parent[child], low)
        label = label[label]  # pointer jumping
    return label


@attrs.frozen
class Dataset:
    """An open dataset: its directory, partitions (in order), people, units, policy and as-of.

    ``as_of`` is the instant the dataset was written for (the manifest's ``as_of``), the default
    instant of ``okrcore recompute``; ``None`` when the manifest has none.
    """

    path: Path
    partitions: tuple[str, ...]
    people: tuple[str, ...]
    units: tuple[str, ...]
    policy: Policy
    partition_by: str
    as_of: datetime | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Dataset:
        """Read a dataset's manifest, people and units.

        Raises
        ------
        okrcore.DocumentError
            When the directory holds no readable version 1 manifest.
        """
        pa = require_pyarrow()
        root = Path(path)
        try:
            manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise E.DocumentError(f"{root}: not an okrcore dataset ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get(
                "version") != 1:
            raise E.DocumentError(f"{root / MANIFEST}: format must be {FORMAT!r} version 1")
        parts = manifest.get("partitions")
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise E.DocumentError(f"{root / MANIFEST}: partitions must be a list of names")
        as_of = manifest.get("as_of")
        header = document_from_dict({"okrcore": 1, "as_of": as_of or "1970-01-01T00:00:00Z",
                                     "policy": manifest.get("policy"), "objectives": []})
        people = _names_file(pa, root, "people")
        units = _names_file(pa, root, "units")
        return cls(root, tuple(parts), tuple(people), tuple(units), header.policy,
                   str(manifest.get("partition_by", "tenant")),
                   None if as_of is None else header.as_of)

    def partition_dir(self, key: str) -> Path:
        """The directory of one partition."""
        return self.path / f"partition={key}"

    def fingerprint(self, key: str) -> str:
        """SHA-256 of a partition's input files and of the dataset's people and units."""
        digest = hashlib.sha256()
        for file in (self.path / "people.parquet", self.path / "units.parquet",
                     *sorted(self.partition_dir(key).glob("*.parquet"))):
            digest.update(file.name.encode())
            with open(file, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()

    def read_partition(self, key: str) -> OrgFrame:
        """One partition as an :class:`OrgFrame` (memory-mapped; zero-copy where it can).

        Every row is validated as data: a value of the wrong type (text
        in a number column, a number in a boolean one), an empty or out-of-range value, a
        person or unit code outside ``people.parquet`` / ``units.parquet``, a null or
        repeated id, or a check-in whose value or instant is missing or NaN makes its key
        result or objective a row with an error naming the file, row, id, column and value;
        the rest of the partition is evaluated.  Structural problems (a missing file or
        column, a row index outside its table) raise.

        Raises
        ------
        OSError, ValueError, KeyError
            When the partition cannot be read as a whole.
        """
        pa = require_pyarrow()
        where = self.partition_dir(key)

        def table(name: str) -> Any:
            return pa.parquet.read_table(where / f"{name}.parquet", memory_map=True)

        krs, objs, logs, owners = (table(n) for n in (
            "key_results", "objectives", "check_ins", "owners"))
        check = _Checker(pa, f"partition={key}", krs, objs)
        columns: dict[str, Any] = {}
        for tbl, prefix in ((krs, "kr_"), (objs, "obj_"), (logs, "log_")):
            for name in tbl.column_names:
                if not name.startswith(prefix):
                    continue
                if not check.column_ok(tbl, name, prefix):
                    continue  # every value was reported; the column's default stands in
                if name in _TS_COLUMNS:
                    col = tbl.column(name)
                    if col.null_count:
                        values = col.cast(pa.int64()).fill_null(NONE_INSTANT)
                        columns[name] = np.asarray(values.to_numpy())
                    else:
                        columns[name] = column_array(tbl, name).view(np.int64)
                else:
                    columns[name] = check.values(tbl, name, prefix)
        for name, default in _DEFAULTS.items():  # required columns whose values were bad
            if name not in columns and name in krs.column_names:
                columns[name] = np.full(krs.num_rows, default)
        check.codes(columns, "obj_owner", len(self.people), "people.parquet")
        check.codes(columns, "kr_unit", len(self.units), "units.parquet")
        check.codes(columns, "obj_ps_unit", len(self.units), "units.parquet")
        check.check_ins(logs, columns)
        columns["kr_owner_offsets"], columns["kr_owner_ids"] = check.owners(
            owners, len(self.people))
        kr_ids = check.ids(krs, "k")
        obj_ids = check.ids(objs, "o")
        columns["kr_load"] = check.loads(columns.get("kr_load"), krs.num_rows, "k", kr_ids)
        columns["obj_load"] = check.loads(columns.get("obj_load"), objs.num_rows, "o", obj_ids)
        load_errors = {**_load_errors(krs, "k"), **_load_errors(objs, "o")}
        for ref, errs in check.errors.items():
            load_errors[ref] = (*load_errors.get(ref, ()), *errs)
        frame = OrgFrame.from_columns(
            **columns,
            kr_ids=Labels(kr_ids), obj_ids=Labels(obj_ids),
            obj_parent_names=objs.column("parent_id").to_pylist(),
            person_names=list(self.people), unit_names=list(self.units))
        return attrs.evolve(frame, load_errors=load_errors)

    def read(self, partitions: Sequence[str] | None = None) -> tuple[OrgFrame, I64, I64]:
        """Several partitions (default all, in manifest order) laid one after the other.

        Returns
        -------
        frame : OrgFrame
            The combined organisation (a single partition is returned without a copy).
        kr_offsets, obj_offsets : ndarray of int64
            Where each partition's key result and objective rows start (plus the total).
        """
        keys = list(self.partitions if partitions is None else partitions)
        frames = [self.read_partition(k) for k in keys]
        kr_off = np.concatenate([[0], np.cumsum([f.n_kr for f in frames])]).astype(np.int64)
        obj_off = np.concatenate([[0], np.cumsum([f.n_obj for f in frames])]).astype(np.int64)
        if len(frames) == 1:
            return frames[0], kr_off, obj_off
        return _concat(frames, kr_off, obj_off), kr_off, obj_off


def _names_file(pa: Any, root: Path, what: str) -> tuple[str, ...]:
    """The ``name`` column of ``people.parquet`` / ``units.parquet``.

    A file that cannot be read is a whole-source problem: a DocumentError, one line.
    """
    path = root / f"{what}.parquet"
    try:
        table = pa.parquet.read_table(path)
        column = table.column("name")
    except (OSError, ValueError, KeyError) as exc:
        reason = "missing" if not path.exists() else f"unreadable ({_one_line(exc)})"
        raise E.DocumentError(f"{root}: {path.name} is {reason}") from None
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise E.DocumentError(f"{path}: column name must be text, not {column.type}")
    names = column.to_pylist()
    if None in names:
        raise E.DocumentError(f"{path}: row {names.index(None)} has no name")
    if len(set(names)) != len(names):
        twice = next(n for i, n in enumerate(names) if n in names[:i])
        raise E.DocumentError(f"{path}: the name {twice!r} is listed twice")
    return tuple(names)


def _load_errors(table: Any, prefix: str) -> dict[str, tuple[E.OkrError, ...]]:
    if "load_errors" not in table.column_names:
        return {}
    out: dict[str, tuple[E.OkrError, ...]] = {}
    for row, text in enumerate(table.column("load_errors").to_pylist()):
        if text:
            out[f"{prefix}{row}"] = tuple(
                E.OkrError(e["code"], e["path"], e["message"]) for e in json.loads(text))
    return out


def _concat(frames: Sequence[OrgFrame], kr_off: I64, obj_off: I64) -> OrgFrame:
    columns: dict[str, Any] = {}
    for field in attrs.fields(OrgFrame):
        name = field.name
        if name in _SKIP or not isinstance(getattr(frames[0], name), np.ndarray):
            continue
        parts = [getattr(f, name) for f in frames]
        if name == "kr_objective":
            parts = [p + obj_off[i] for i, p in enumerate(parts)]
        elif name == "obj_parent":
            parts = [np.where(p >= 0, p + obj_off[i], p) for i, p in enumerate(parts)]
        elif name == "log_kr":
            parts = [p + kr_off[i] for i, p in enumerate(parts)]
        columns[name] = np.concatenate(parts)
    owner_counts = np.concatenate([np.diff(f.kr_owner_offsets) for f in frames])
    columns["kr_owner_offsets"] = np.concatenate([[0], np.cumsum(owner_counts)]).astype(np.int64)
    columns["kr_owner_ids"] = np.concatenate([f.kr_owner_ids for f in frames])
    load_errors: dict[str, tuple[E.OkrError, ...]] = {}
    for i, f in enumerate(frames):
        for key, errs in f.load_errors.items():
            off = kr_off[i] if key[0] == "k" else obj_off[i]
            load_errors[f"{key[0]}{int(key[1:]) + int(off)}"] = errs
    frame = OrgFrame.from_columns(
        **columns,
        kr_ids=[i for f in frames for i in (f.kr_ids or ())],
        obj_ids=[i for f in frames for i in (f.obj_ids or ())],
        obj_parent_names=[i for f in frames for i in (f.obj_parent_names or ())],
        person_names=frames[0].person_names, unit_names=frames[0].unit_names)
    return attrs.evolve(frame, load_errors=load_errors)


def _codes(names: Iterable[str | None], index: dict[str, int]) -> dict[int, int]:
    """Map a frame's local codes to global ones, adding new names to ``index``."""
    out: dict[int, int] = {}
    for local, name in enumerate(names):
        if name is None:
            continue
        out[local] = index.setdefault(name, len(index))
    return out


def _remap(codes: Any, mapping: dict[int, int]) -> Any:
    table = np.full(max(mapping, default=-1) + 2, -1, dtype=np.int32)
    for local, glob in mapping.items():
        table[local] = glob
    arr = np.asarray(codes, dtype=np.int64)
    return np.where(arr >= 0, table[np.maximum(arr, 0)], -1).astype(np.int32)


def _names(names: Sequence[str] | None, prefix: str, *codes: Any) -> Sequence[str]:
    """A frame's names, or ``p0``, ``p1`` ... for a frame without labels."""
    if names is not None:
        return names
    top = max((int(c.max(initial=-1)) for c in codes), default=-1)
    return [f"{prefix}{i}" for i in range(top + 1)]


def _errors_json(errors: Mapping[str, tuple[E.OkrError, ...]], prefix: str, row: int
                 ) -> str | None:
    errs = errors.get(f"{prefix}{row}")
    if not errs:
        return None
    return json.dumps([{"code": e.code, "path": e.path, "message": e.message} for e in errs])


def write_dataset(path: str | os.PathLike[str],
                  tenants: Mapping[str, Document | OrgFrame] | Iterable[
                      tuple[str, Document | OrgFrame]],
                  *, partition_by: str = "tenant", policy: Policy | None = None,
                  buckets: int | None = None, as_of: datetime | None = None) -> Dataset:
    """Write organisations as a dataset.

    Parameters
    ----------
    path : path
        The dataset directory (created; an existing manifest is replaced last, so a reader
        sees the old or the new dataset).
    tenants : mapping or iterable of (key, Document or OrgFrame)
        One organisation per tenant, in the order the partitions are to be listed.  Tenant
        keys must be usable in a directory name.
    partition_by : {"tenant", "root"}
        ``tenant``: one partition per tenant.  ``root``: one partition per alignment tree of
        each tenant (``<tenant>.<root id>``), so a tenant's people span several partitions.
    policy : Policy, optional
        The dataset's default policy (default: the first document's, else ``betterworks``).
    as_of : datetime, optional
        The dataset's default instant of evaluation, recorded in the manifest (default: the
        first document's ``as_of``; none when every tenant is given as a frame).
    buckets : int, optional
        With ``root``: deal each tenant's trees into at most this many partitions
        (``<tenant>.b<k>``; tree ``t`` in order of first row goes to bucket ``t % buckets``)
        instead of one partition per tree.

    Returns
    -------
    Dataset
        The dataset, opened.
    """
    pa = require_pyarrow()
    if partition_by not in ("tenant", "root"):
        raise ValueError(f"partition_by must be 'tenant' or 'root', got {partition_by!r}")
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    people: dict[str, int] = {}
    units: dict[str, int] = {}
    keys: list[str] = []
    items = tenants.items() if isinstance(tenants, Mapping) else tenants
    for tenant, source in items:
        if isinstance(source, Document):
            if policy is None:
                policy = source.policy
            if as_of is None:
                as_of = source.as_of
            frame = OrgFrame.from_document(source)
        else:
            frame = source
        kr_ids, obj_ids = frame.kr_ids, frame.obj_ids
        person_map = _codes(_names(frame.person_names, "p", frame.obj_owner,
                                   frame.kr_owner_ids), people)
        unit_map = _codes(_names(frame.unit_names, "u", frame.kr_unit, frame.obj_ps_unit), units)
        if partition_by == "tenant":
            groups = [(tenant, np.arange(frame.n_obj))]
        else:
            comp = component_keys(frame)
            roots, tree = np.unique(comp, return_inverse=True)
            groups = []
            if buckets is not None:
                bucket = tree % max(1, buckets)
                for b in np.unique(bucket).tolist():
                    groups.append((f"{tenant}.b{b:04d}", np.flatnonzero(bucket == b)))
            else:
                order = np.argsort(tree, kind="stable")
                bounds = np.searchsorted(tree[order], np.arange(roots.shape[0] + 1))
                for t, first in enumerate(roots.tolist()):
                    name = obj_ids[first] if obj_ids is not None else f"o{first}"
                    groups.append((f"{tenant}.{name}", order[bounds[t]:bounds[t + 1]]))
        for key, rows in groups:
            if "/" in key or key in keys:
                raise ValueError(f"partition key {key!r} is not usable (or repeated)")
            keys.append(key)
            _write_partition(pa, root / f"partition={key}", frame, rows, person_map, unit_map,
                             kr_ids, obj_ids)
    _atomic_write_table(pa.table({"person": pa.array(np.arange(len(people), dtype=np.int32)),
                                  "name": pa.array(list(people), type=pa.string())}),
                        root / "people.parquet")
    _atomic_write_table(pa.table({"unit": pa.array(np.arange(len(units), dtype=np.int32)),
                                  "name": pa.array(list(units), type=pa.string())}),
                        root / "units.parquet")
    manifest = {"format": FORMAT, "version": 1, "partition_by": partition_by,
                "partitions": keys, "policy": (policy or Policy()).to_json()}
    if as_of is not None:
        manifest["as_of"] = isoformat(as_of)
    _atomic_write_text(json.dumps(manifest, indent=1), root / MANIFEST)
    return Dataset.open(root)


def _parent_ids(pa: Any, frame: OrgFrame, objectives: I64, obj_ids: Sequence[str] | None
                ) -> Any:
    if frame.obj_parent_names is not None:
        names = frame.obj_parent_names
        return pa.array([names[i] for i in objectives.tolist()], type=pa.string())
    parent = frame.obj_parent[objectives]
    ids = _take_ids(pa, obj_ids, np.maximum(parent, 0), "o")
    return pa.compute.if_else(pa.array(parent >= 0), ids, pa.scalar(None, pa.string()))


def _take_ids(pa: Any, labels: Sequence[str] | None, rows: I64, prefix: str) -> Any:
    if labels is None:
        return pa.array(np.char.add(prefix, rows.astype(str)), type=pa.string())
    if isinstance(labels, Labels):
        return labels.array.take(pa.array(rows))
    return pa.array([labels[i] for i in rows.tolist()], type=pa.string())


def _write_partition(pa: Any, where: Path, frame: OrgFrame, objectives: I64,
                     person_map: dict[int, int], unit_map: dict[int, int],
                     kr_ids: Sequence[str] | None, obj_ids: Sequence[str] | None) -> None:
    new_obj = np.full(frame.n_obj, -1, dtype=np.int64)
    new_obj[objectives] = np.arange(objectives.shape[0])
    kr_rows = np.flatnonzero(new_obj[frame.kr_objective] >= 0)
    new_kr = np.full(frame.n_kr, -1, dtype=np.int64)
    new_kr[kr_rows] = np.arange(kr_rows.shape[0])
    obj_cols: dict[str, Any] = {
        "id": _take_ids(pa, obj_ids, objectives, "o"),
        "parent_id": _parent_ids(pa, frame, objectives, obj_ids),
    }
    kr_cols: dict[str, Any] = {"id": _take_ids(pa, kr_ids, kr_rows, "k")}
    for field in attrs.fields(OrgFrame):
        name = field.name
        value = getattr(frame, name)
        if name in _SKIP or not isinstance(value, np.ndarray) or name.startswith("log_"):
            continue
        if name.startswith("obj_"):
            value = value[objectives]
            if name == "obj_parent":
                value = np.where(value >= 0, new_obj[np.maximum(value, 0)], value)
            elif name == "obj_owner":
                value = _remap(value, person_map)
            elif name == "obj_ps_unit":
                value = _remap(value, unit_map)
            obj_cols[name] = _column(pa, name, value)
        else:
            value = value[kr_rows]
            if name == "kr_objective":
                value = new_obj[value]
            elif name == "kr_unit":
                value = _remap(value, unit_map)
            kr_cols[name] = _column(pa, name, value)
    obj_errors = [_errors_json(frame.load_errors, "o", i) for i in objectives.tolist()]
    kr_errors = [_errors_json(frame.load_errors, "k", i) for i in kr_rows.tolist()]
    if any(obj_errors):
        obj_cols["load_errors"] = pa.array(obj_errors, type=pa.string())
    if any(kr_errors):
        kr_cols["load_errors"] = pa.array(kr_errors, type=pa.string())
    keep = new_kr[frame.log_kr] >= 0
    logs = {"log_kr": pa.array(new_kr[frame.log_kr[keep]]),
            "log_at": _column(pa, "log_at", frame.log_at[keep]),
            "log_value": pa.array(frame.log_value[keep])}
    counts = np.diff(frame.kr_owner_offsets)
    owner_kr = np.repeat(np.arange(frame.n_kr, dtype=np.int64), counts)
    take = new_kr[owner_kr] >= 0
    owners = {"kr": pa.array(new_kr[owner_kr[take]]),
              "person": pa.array(_remap(frame.kr_owner_ids[take], person_map))}
    _atomic_write_table(pa.table(obj_cols), where / "objectives.parquet")
    _atomic_write_table(pa.table(kr_cols), where / "key_results.parquet")
    _atomic_write_table(pa.table(logs), where / "check_ins.parquet")
    _atomic_write_table(pa.table(owners), where / "owners.parquet")
