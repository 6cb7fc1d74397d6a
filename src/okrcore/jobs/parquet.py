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

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from okrcore import errors as E
from okrcore.batch.engine import BatchResult
from okrcore.batch.frame import NONE_INSTANT, OrgFrame
from okrcore.batch.tables import column_array
from okrcore.evaluate import isoformat
from okrcore.interchange import document_from_dict
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
    "reuse_partition",
    "snapshot_dir",
    "write_dataset",
    "write_partition_results",
    "write_people",
]

FORMAT: Final = "okrcore-dataset"
"""The manifest's ``format``; version 1."""
COMPLETE: Final = "_complete.json"
"""Written last in an instant's result directory: it names the instant's published (complete)
snapshot, which readers follow."""
SNAPSHOT_PREFIX: Final = "run="
"""Snapshot directories of an instant are named ``run=<UTC time>-<pid>-<random>``."""
MANIFEST: Final = "_okrcore_dataset.json"
"""The manifest file at the top of a dataset."""
ITEM_COLUMNS: Final = ("who", "bad", "progress", "ref")
"""Columns of a partition's ``items.parquet`` (see :func:`okrcore.batch.engine.person_items`;
``ref`` is local: ``>= n_kr`` an objective row ``ref - n_kr``)."""

_TS_COLUMNS: Final = frozenset({"kr_due", "obj_start", "obj_due", "log_at"})
_SKIP: Final = frozenset({"kr_owner_offsets", "kr_owner_ids", "kr_ids", "obj_ids",
                          "person_names", "unit_names", "obj_parent_names", "load_errors",
                          "validated"})

I64 = npt.NDArray[np.int64]


def require_pyarrow() -> Any:
    """Import pyarrow (and ``pyarrow.parquet``), or raise an ImportError naming the extra."""
    try:
        import pyarrow as pa
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("Parquet datasets need pyarrow: pip install 'okrcore[parquet]'"
                          ) from exc
    return pa


def as_of_key(moment: datetime) -> str:
    """The directory name of one as-of instant: ``as_of=20260215T120000Z`` (UTC, seconds)."""
    text = isoformat(moment).replace("-", "").replace(":", "")
    return "as_of=" + text.split(".")[0].rstrip("Z") + "Z"


def is_dataset(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a directory holding a dataset manifest."""
    return (Path(path) / MANIFEST).is_file()


def _atomic_write_table(table: Any, path: Path) -> None:
    """Write a Parquet file to a temporary name beside ``path`` and rename it into place."""
    pa = require_pyarrow()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        pa.parquet.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_write_text(text: str, path: Path, *, sync: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# ------------------------------------------------------------------------------------------
# result snapshots: written beside the published one, published by _complete.json
# ------------------------------------------------------------------------------------------


def new_snapshot() -> str:
    """A new snapshot name: ``run=<UTC time>-<pid>-<random>`` (sorts by start time)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{SNAPSHOT_PREFIX}{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _lock_path(out: str | os.PathLike[str], snapshot: str) -> Path:
    return Path(out) / f".{snapshot}.lock"


@contextlib.contextmanager
def hold_snapshot(out: str | os.PathLike[str]) -> Iterator[str]:
    """A new snapshot name for one run, marked as live until the run ends.

    The run holds an exclusive lock on ``OUT/.<snapshot>.lock`` (released by the kernel when
    the process dies), so that :func:`prune_snapshots` of a concurrent run never removes a
    snapshot being written.  When the lock cannot be taken (an output that cannot be written),
    the name is still given: the run's writes will fail and be reported.
    """
    name = new_snapshot()
    lock = _lock_path(out, name)
    handle = None
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "w", encoding="utf-8")  # noqa: SIM115 - held for the whole run
        _flock(handle, blocking=True)
    except OSError:
        pass
    try:
        yield name
    finally:
        if handle is not None:
            with contextlib.suppress(OSError):
                lock.unlink()
            handle.close()


def _flock(handle: Any, *, blocking: bool) -> bool:
    """Take an exclusive lock on an open file; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: every locked snapshot counts as live
        return blocking
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _live(out: Path, snapshot: str) -> bool:
    """Whether a run still writes ``snapshot`` (its lock file is held)."""
    lock = _lock_path(out, snapshot)
    try:
        handle = open(lock, encoding="utf-8")  # noqa: SIM115
    except OSError:
        return False  # no lock: the run ended (or never took one)
    with handle:
        if not _flock(handle, blocking=False):
            return True
        with contextlib.suppress(OSError):
            lock.unlink()  # a dead run's lock
    return False


def _instant_dir(out: str | os.PathLike[str], as_of: datetime) -> Path:
    return Path(out) / as_of_key(as_of)


def published(out: str | os.PathLike[str], as_of: datetime) -> dict[str, Any] | None:
    """The ``_complete.json`` of an instant (its published snapshot).

    None when there is none (or it cannot be read).
    """
    try:
        data = json.loads((_instant_dir(out, as_of) / COMPLETE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def snapshot_dir(out: str | os.PathLike[str], as_of: datetime, snapshot: str | None = None
                 ) -> Path:
    """The directory of one snapshot of an instant (default: the published one).

    Raises
    ------
    FileNotFoundError
        When ``snapshot`` is None and the instant has no published snapshot.
    """
    where = _instant_dir(out, as_of)
    if snapshot is None:
        complete = published(out, as_of)
        if complete is None:
            raise FileNotFoundError(f"{where / COMPLETE}: the instant has no complete snapshot")
        snapshot = str(complete.get("snapshot") or "")  # "": results written before snapshots
    return where / snapshot if snapshot else where


def publish(out: str | os.PathLike[str], as_of: datetime, snapshot: str,
            partitions: Sequence[str], people: int) -> Path:
    """Make ``snapshot`` the instant's complete results: replace ``_complete.json`` atomically.

    The previous snapshot stays on disk until the next publication (for readers still on it);
    older ones, and unpublished ones of runs that are no longer live, are removed
    (:func:`prune_snapshots`).
    """
    before = published(out, as_of) or {}
    previous = before.get("snapshot")
    if previous == snapshot:  # republished (people recombined): keep what it replaced
        previous = before.get("previous")
    path = _instant_dir(out, as_of) / COMPLETE
    _atomic_write_text(json.dumps({"as_of": isoformat(as_of), "partitions": list(partitions),
                                   "people": people, "snapshot": snapshot,
                                   "previous": previous}), path, sync=True)
    prune_snapshots(out, as_of)
    return path


def prune_snapshots(out: str | os.PathLike[str], as_of: datetime,
                    keep: Iterable[str] | None = None) -> int:
    """Remove an instant's snapshot directories other than ``keep`` and those of live runs.

    ``keep`` defaults to the published snapshot and the one it replaced (``previous`` in
    ``_complete.json``), so a reader that started on the previous snapshot can finish.
    Returns how many were removed.
    """
    where = _instant_dir(out, as_of)
    if keep is None:
        complete = published(out, as_of) or {}
        keep = (str(complete.get("snapshot") or ""), str(complete.get("previous") or ""))
    kept = set(keep)
    removed = 0
    for child in sorted(where.glob(f"{SNAPSHOT_PREFIX}*")):
        if child.name in kept or not child.is_dir() or _live(Path(out), child.name):
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed += 1
    return removed


_PARTITION_FILES: Final = ("key_results.parquet", "objectives.parquet", "items.parquet")


def reuse_partition(out: str | os.PathLike[str], as_of: datetime, key: str, snapshot: str,
                    accept: Callable[[Mapping[str, Any]], bool]) -> dict[str, Any] | None:
    """Carry a partition's results over into ``snapshot`` when earlier ones are acceptable.

    Candidates, in order: the partition in ``snapshot`` itself (a retried task), in the
    published snapshot, then in other snapshots of the instant, newest first (an interrupted
    run).  The first whose ``_meta.json`` satisfies ``accept`` is hard-linked (copied where
    links are not possible) into ``snapshot``, ``_meta.json`` last; its meta is returned.
    """
    where = _instant_dir(out, as_of)
    target = where / snapshot / f"partition={key}"
    candidates = [target]
    with contextlib.suppress(FileNotFoundError):
        candidates.append(snapshot_dir(out, as_of) / f"partition={key}")
    others = sorted((p for p in where.glob(f"{SNAPSHOT_PREFIX}*") if p.name != snapshot),
                    key=lambda p: p.name, reverse=True)
    candidates.extend(p / f"partition={key}" for p in others)
    for source in candidates:
        try:
            meta = json.loads((source / "_meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict) or not accept(meta):
            continue
        if source != target:
            try:
                (target / "_meta.json").unlink(missing_ok=True)
                for name in _PARTITION_FILES:
                    _link(source / name, target / name)
            except OSError:
                continue
            _atomic_write_text(json.dumps(meta, sort_keys=True), target / "_meta.json")
        return meta
    return None


def _link(source: Path, target: Path) -> None:
    """Hard-link (else copy) ``source`` to ``target`` through a temporary name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


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


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (control characters escaped)."""
    from okrcore.jobs._text import one_line

    return one_line(str(exc).strip())


_INT_KINDS: Final[dict[str, type[np.integer[Any]]]] = {
    "kr_objective": np.int64, "kr_kind": np.uint8, "kr_unit": np.int32,
    "kr_range_mode": np.uint8, "kr_load": np.uint8, "obj_parent": np.int64,
    "obj_mode": np.uint8, "obj_ambition": np.uint8, "obj_status": np.int8,
    "obj_owner": np.int32, "obj_ps_unit": np.int32, "obj_load": np.uint8, "log_kr": np.int64}
_BOOL_COLUMNS: Final = frozenset({"kr_has_log", "obj_include_children", "obj_ps_auto"})
_STRUCTURAL: Final = frozenset({"kr_objective", "obj_parent", "log_kr"})
_DEFAULTS: Final = {"kr_kind": 0, "kr_target": np.nan}


class _Checker:
    """Row validation of one partition's tables: bad values become row errors.

    ``errors`` maps ``"k<row>"`` / ``"o<row>"`` to the errors found; the caller marks those
    rows as not loaded (:data:`okrcore.batch.frame.LOAD_INVALID`).
    """

    def __init__(self, pa: Any, source: str, krs: Any, objs: Any) -> None:
        self.pa = pa
        self.source = source
        self.krs, self.objs = krs, objs
        self.errors: dict[str, list[E.OkrError]] = {}
        self._ids: dict[str, list[Any]] = {}

    def _ident(self, ref: str, row: int) -> Any:
        if ref not in self._ids:
            table = self.krs if ref == "k" else self.objs
            self._ids[ref] = (table.column("id").to_pylist() if "id" in table.column_names
                              else [None] * table.num_rows)
        return self._ids[ref][row]

    def bad(self, ref: str, row: int, column: str, what: str, code: str = E.INVALID_VALUE,
            file: str | None = None, file_row: int | None = None) -> None:
        """Record a bad value of key result (``ref`` ``k``) or objective (``o``) ``row``.

        ``file`` / ``file_row``: where the value is when it is not in the row's own table
        (a check-in, an owner).
        """
        table = "key_results" if ref == "k" else "objectives"
        ident = self._ident(ref, row)
        if file is None:
            where = f"{self.source}/{table}.parquet row {row} (id {ident!r})"
            path = f"{self.source}/{table}.parquet[{row}].{column}"
        else:
            item = "key result" if ref == "k" else "objective"
            where = f"{self.source}/{file} row {file_row} ({item} {ident!r})"
            path = f"{self.source}/{file}[{file_row}].{column}"
        self.errors.setdefault(f"{ref}{row}", []).append(
            E.OkrError(code, path, f"{where}: {column} {what}"))

    def column_ok(self, table: Any, name: str, prefix: str) -> bool:
        """Whether a column has the type its values need; if not, report every value."""
        pa = self.pa
        typ = table.column(name).type
        if name in _TS_COLUMNS:
            ok = pa.types.is_timestamp(typ)
            kind = "an instant (timestamp)"
        elif name in _BOOL_COLUMNS:
            ok = pa.types.is_boolean(typ)
            kind = "a boolean"
        elif name in _INT_KINDS:
            ok = pa.types.is_integer(typ)
            kind = "an integer code"
        else:
            ok = pa.types.is_integer(typ) or pa.types.is_floating(typ)
            kind = "a number"
        if ok:
            return True
        if name in _STRUCTURAL or prefix == "log_":
            if prefix == "log_" and name != "log_kr":
                self._bad_logs(table, range(table.num_rows), table.column(name).to_pylist(),
                               name, f"is {{value}}, stored as {typ}: not {kind}")
                return False
            raise ValueError(f"{self.source}: column {name} is stored as {typ}, not {kind}")
        ref = "k" if prefix == "kr_" else "o"
        for row, value in enumerate(table.column(name).to_pylist()):
            if value is not None:
                self.bad(ref, row, name, f"is {value!r}, stored as {typ}: not {kind}",
                         E.WRONG_TYPE)
        return False

    def values(self, table: Any, name: str, prefix: str) -> Any:
        """A numeric column as an array; empty or out-of-range integer codes are reported."""
        array = column_array(table, name)
        dtype = _INT_KINDS.get(name)
        if dtype is None and name not in _BOOL_COLUMNS:
            return array  # floats: null = NaN = absent
        col = table.column(name)
        ref = "k" if prefix == "kr_" else "o"
        if col.null_count:
            mask = np.asarray(col.is_null().to_numpy(zero_copy_only=False))
            if name in _STRUCTURAL:
                raise ValueError(f"{self.source}: column {name} has empty rows")
            for row in np.flatnonzero(mask).tolist():
                self.bad(ref, row, name, "is empty", E.MISSING_FIELD)
            filled = col.fill_null(False if name in _BOOL_COLUMNS else
                                   _DEFAULTS.get(name, 0))
            array = np.asarray(filled.to_numpy())
        if dtype is not None:
            info = np.iinfo(dtype)
            wide = array.astype(np.int64, copy=False)
            out = (wide < info.min) | (wide > info.max)
            if out.any():
                if name in _STRUCTURAL:
                    raise ValueError(f"{self.source}: column {name} holds {int(wide[out][0])}")
                for row in np.flatnonzero(out).tolist():
                    self.bad(ref, row, name, f"is {int(wide[row])}: out of range",
                             E.OUT_OF_RANGE)
                array = np.where(out, _DEFAULTS.get(name, 0), wide).astype(dtype)
        return array

    def codes(self, columns: dict[str, Any], name: str, n: int, file: str) -> None:
        """Person / unit codes must be rows of ``file`` (or -1 for none)."""
        if name not in columns:
            return
        array = np.asarray(columns[name])
        out = (array < -1) | (array >= n)
        if not out.any():
            return
        ref = "k" if name.startswith("kr_") else "o"
        for row in np.flatnonzero(out).tolist():
            self.bad(ref, row, name, f"is {int(array[row])}, not a row of {file} ({n} rows)",
                     E.OUT_OF_RANGE)
        columns[name] = np.where(out, -1, array).astype(array.dtype)

    def _bad_logs(self, logs: Any, rows: Sequence[int], values: Sequence[Any], column: str,
                  what: str) -> None:
        """Check-in rows with a bad value: their key results are bad.

        ``what`` may name ``{value}``.
        """
        kr = logs.column("log_kr").to_pylist() if "log_kr" in logs.column_names else []
        for row, value in zip(rows, values, strict=True):
            k = kr[row] if row < len(kr) else None
            if isinstance(k, int) and 0 <= k < self.krs.num_rows:
                self.bad("k", k, column, what.replace("{value}", repr(value)),
                         file="check_ins.parquet", file_row=row)

    def check_ins(self, logs: Any, columns: dict[str, Any]) -> None:
        """A check-in without a finite value or an instant makes its key result bad."""
        if "log_value" in columns:
            value = np.asarray(columns["log_value"], dtype=np.float64)
            bad = ~np.isfinite(value)
            if bad.any():
                rows = np.flatnonzero(bad).tolist()
                self._bad_logs(logs, rows, [float(value[r]) for r in rows], "log_value",
                               "is {value}: a check-in value must be a finite number")
        if "log_at" in columns:
            at = np.asarray(columns["log_at"])
            rows = np.flatnonzero(at == NONE_INSTANT).tolist()
            if rows:
                self._bad_logs(logs, rows, [None] * len(rows), "log_at",
                               "is empty: a check-in needs an instant")

    def owners(self, owners: Any, n_people: int) -> tuple[Any, Any]:
        """The owners CSR (grouped by key result); persons outside people.parquet are bad."""
        pa = self.pa
        for name in ("kr", "person"):
            typ = owners.column(name).type
            if not pa.types.is_integer(typ) or owners.column(name).null_count:
                raise ValueError(f"{self.source}: owners.parquet column {name} must be "
                                 f"integers without empty rows (it is {typ})")
        kr = column_array(owners, "kr").astype(np.int64, copy=False)
        person = column_array(owners, "person")
        if person.dtype != np.int32:  # (a view of the file when it is int32 already)
            person = np.clip(person.astype(np.int64), -1, n_people).astype(np.int32)
        n_kr = self.krs.num_rows
        if kr.shape[0] and (kr.min() < 0 or kr.max() >= n_kr):
            raise ValueError(f"{self.source}: owners.parquet column kr holds a row outside "
                             f"key_results.parquet ({n_kr} rows)")
        raw = column_array(owners, "person")
        out = (raw < 0) | (raw >= n_people)
        for row in np.flatnonzero(out).tolist():
            self.bad("k", int(kr[row]), "person", f"is {int(raw[row])}, not a row of "
                     f"people.parquet ({n_people} rows)", E.OUT_OF_RANGE,
                     file="owners.parquet", file_row=row)
        keep = ~out
        if not keep.all():
            kr, person = kr[keep], person[keep]
        if kr.shape[0] > 1 and np.any(kr[1:] < kr[:-1]):
            order = np.argsort(kr, kind="stable")
            kr, person = kr[order], person[order]
        counts = np.bincount(kr, minlength=n_kr)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return offsets, person.astype(np.int32, copy=False)

    def ids(self, table: Any, ref: str) -> Any:
        """The id column as an Arrow string array; an empty id is a bad value."""
        pa = self.pa
        if "id" not in table.column_names:
            raise KeyError(f"{self.source}: column id is missing")
        ids = table.column("id").combine_chunks()
        if pa.types.is_integer(ids.type):
            ids = ids.cast(pa.string())
        elif not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
            raise ValueError(f"{self.source}: column id is stored as {ids.type}, not text")
        if ids.null_count:
            for row in np.flatnonzero(np.asarray(
                    ids.is_null().to_numpy(zero_copy_only=False))).tolist():
                self.bad(ref, row, "id", "is empty: every row needs an id", E.MISSING_FIELD)
            ids = ids.fill_null("")
        return ids

    def loads(self, load: Any, n: int, ref: str, ids: Any) -> Any:
        """The load column: rows with errors are not loaded.

        Later repeats of an id are duplicates (reported by the engine).
        """
        from okrcore.batch.frame import LOAD_DUPLICATE, LOAD_INVALID, LOAD_OK

        array = (np.zeros(n, dtype=np.uint8) if load is None
                 else np.array(load, dtype=np.uint8, copy=True))
        rows = [int(k[1:]) for k in self.errors if k[0] == ref]
        if rows:
            array[rows] = LOAD_INVALID
        codes = np.asarray(self.pa.compute.dictionary_encode(ids).indices.to_numpy(
            zero_copy_only=False))
        if codes.shape[0]:
            _, first = np.unique(codes, return_index=True)
            repeat = np.ones(n, dtype=bool)
            repeat[first] = False
            named = np.asarray(self.pa.compute.not_equal(ids, "").to_numpy(
                zero_copy_only=False))
            array[repeat & named & (array == LOAD_OK)] = LOAD_DUPLICATE
        return array


class Labels(Sequence[str]):
    """Ids read from Parquet, left in their Arrow array (no Python string per row).

    A :class:`~collections.abc.Sequence` of ``str`` for the engine's conversions; result
    writers take :attr:`array` as is.
    """

    def __init__(self, array: Any) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self.array))
            if step == 1:
                return Labels(self.array.slice(start, stop - start))
            return [str(v) for v in self.array.to_pylist()[index]]
        value = self.array[index].as_py()
        return str(value)

    def __iter__(self) -> Any:
        return iter(self.array.to_pylist())


def _ids(pa: Any, labels: Sequence[str] | None, rows: slice, prefix: str, n: int) -> Any:
    """An Arrow string array of the ids of ``rows`` (generated ``k<row>`` when absent)."""
    if isinstance(labels, Labels):
        return labels[rows].array
    if labels is None:
        return pa.array(np.char.add(prefix, np.arange(n)[rows].astype(str)), type=pa.string())
    return pa.array(list(labels[rows]), type=pa.string())


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


def _result_table(pa: Any, prefix: str, result: BatchResult, rows: slice, ids: Any) -> Any:
    cols: dict[str, Any] = {"id": ids}
    for field in attrs.fields(BatchResult):
        if field.name.startswith(prefix):
            cols[field.name] = pa.array(np.asarray(getattr(result, field.name))[rows])
    return pa.table(cols)


def write_partition_results(out: str | os.PathLike[str], as_of: datetime, key: str,
                            frame: OrgFrame, result: BatchResult, kr_rows: slice,
                            obj_rows: slice, items: tuple[Any, Any, Any, Any],
                            meta: Mapping[str, Any],
                            before_rest: Callable[[Path], None] | None = None,
                            snapshot: str | None = None) -> Path:
    """Write one partition's results for one instant into a snapshot, each file atomically.

    ``kr_rows`` / ``obj_rows`` select the partition's rows of ``frame`` / ``result`` (the whole
    frame for a partition evaluated on its own); ``items`` are its people's items with local
    ``ref``.  ``_meta.json`` (fingerprint, policy) is written last: a partition directory
    without it is incomplete.  The files go to ``OUT/as_of=.../<snapshot>/partition=<key>``
    (default: a new snapshot), beside the published results, which they never touch: they
    count once :func:`publish` names their snapshot.
    """
    pa = require_pyarrow()
    where = _instant_dir(out, as_of) / (snapshot or new_snapshot()) / f"partition={key}"
    kr_ids = _ids(pa, frame.kr_ids, kr_rows, "k", frame.n_kr)
    obj_ids = _ids(pa, frame.obj_ids, obj_rows, "o", frame.n_obj)
    # a retried task rewrites its partition: incomplete until _meta.json is written again
    (where / "_meta.json").unlink(missing_ok=True)
    _atomic_write_table(_result_table(pa, "kr_", result, kr_rows, kr_ids),
                        where / "key_results.parquet")
    if before_rest is not None:
        before_rest(where)
    _atomic_write_table(_result_table(pa, "obj_", result, obj_rows, obj_ids),
                        where / "objectives.parquet")
    _atomic_write_table(pa.table({name: pa.array(np.asarray(col))
                                  for name, col in zip(ITEM_COLUMNS, items, strict=True)}),
                        where / "items.parquet")
    _atomic_write_text(json.dumps(dict(meta), sort_keys=True), where / "_meta.json")
    return where


def read_items(out: str | os.PathLike[str], as_of: datetime, key: str,
               snapshot: str | None = None) -> tuple[Any, Any, Any, Any]:
    """One partition's people items, as written by :func:`write_partition_results`.

    ``snapshot`` default: the published one.
    """
    pa = require_pyarrow()
    table = pa.parquet.read_table(snapshot_dir(out, as_of, snapshot) / f"partition={key}"
                                  / "items.parquet")
    return tuple(np.asarray(table.column(c).to_numpy()) for c in ITEM_COLUMNS)  # type: ignore[return-value]


def write_people(out: str | os.PathLike[str], as_of: datetime, names: Sequence[str],
                 progress: Any, items: Any, seen: Any, error_partition: Sequence[str | None],
                 error_table: Sequence[str | None], error_id: Sequence[str | None],
                 partitions: Sequence[str], snapshot: str | None = None) -> Path:
    """Write the people's results of one instant into its snapshot, then publish it.

    Only people who own something are written; :func:`publish` (``_complete.json``, naming
    the snapshot and its partitions, in order) comes last: until then the previous snapshot
    is the instant's results.
    """
    pa = require_pyarrow()
    snapshot = new_snapshot() if snapshot is None else snapshot  # "": results before snapshots
    rows = np.flatnonzero(np.asarray(seen))
    table = pa.table({
        "name": pa.array([names[i] for i in rows.tolist()], type=pa.string()),
        "person_progress": pa.array(np.asarray(progress)[rows]),
        "person_items": pa.array(np.asarray(items)[rows]),
        "error_partition": pa.array([error_partition[i] for i in rows.tolist()],
                                    type=pa.string()),
        "error_table": pa.array([error_table[i] for i in rows.tolist()], type=pa.string()),
        "error_id": pa.array([error_id[i] for i in rows.tolist()], type=pa.string()),
    })
    path = snapshot_dir(out, as_of, snapshot or "") / "people.parquet"
    _atomic_write_table(table, path)
    publish(out, as_of, snapshot, partitions, int(rows.shape[0]))
    return path


def read_results(out: str | os.PathLike[str], as_of: datetime) -> dict[str, Any]:
    """The results of one complete instant as pyarrow tables.

    ``key_results`` and ``objectives`` (partitions concatenated in dataset order, with a
    ``partition`` column) and ``people``.

    They are those of the published snapshot named by ``_complete.json``: a run in progress,
    failed or killed never changes them.

    Raises
    ------
    FileNotFoundError
        When the instant is not complete (no ``_complete.json``).
    """
    pa = require_pyarrow()
    complete = json.loads((_instant_dir(out, as_of) / COMPLETE).read_text(encoding="utf-8"))
    where = snapshot_dir(out, as_of, str(complete.get("snapshot", "")) or "")
    tables: dict[str, list[Any]] = {"key_results": [], "objectives": []}
    for key in complete["partitions"]:
        part = where / f"partition={key}"
        for name, acc in tables.items():
            table = pa.parquet.read_table(part / f"{name}.parquet")
            acc.append(table.append_column("partition", pa.array([key] * table.num_rows,
                                                                 type=pa.string())))
    out_tables: dict[str, Any] = {name: pa.concat_tables(acc) if acc else None
                                  for name, acc in tables.items()}
    out_tables["people"] = pa.parquet.read_table(where / "people.parquet")
    return out_tables

