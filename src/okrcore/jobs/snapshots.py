"""Result snapshots of Parquet datasets: written beside the published results, then published.

Each run writes its results into a new snapshot directory (``OUT/as_of=<instant>/run=...``),
partition by partition (:func:`write_partition_results`), then the people
(:func:`write_people`), and publishes it last by replacing ``OUT/as_of=<instant>/_complete.json``
(:func:`publish`); readers (:func:`read_results`) follow that file, so a failed or killed run
never hides the last complete results.  Every name is re-exported by :mod:`okrcore.jobs.parquet`.
"""

from __future__ import annotations

import contextlib
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

from okrcore.batch.engine import BatchResult
from okrcore.batch.frame import OrgFrame
from okrcore.codes import RESULT_CODE_NAMES
from okrcore.evaluate import isoformat
from okrcore.jobs._arrow import (
    COMPLETE,
    ITEM_COLUMNS,
    SNAPSHOT_PREFIX,
    _atomic_write_table,
    _atomic_write_text,
    _ids,
    as_of_key,
    require_pyarrow,
)
from okrcore.rows import stored_codes, stored_dictionary

__all__ = [
    "CODES_KEY",
    "CODES_NAMES",
    "hold_snapshot",
    "new_snapshot",
    "prune_snapshots",
    "publish",
    "published",
    "read_items",
    "read_results",
    "result_codes",
    "reuse_partition",
    "snapshot_dir",
    "write_partition_results",
    "write_people",
]


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
        if not isinstance(meta, dict) or meta.get(CODES_KEY) != CODES_NAMES or not accept(meta):
            continue  # (results with integer codes are recomputed, not mixed in)
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


CODES_KEY: Final = "codes"
"""The ``_meta.json`` key naming how a partition's coded result columns are stored."""
CODES_NAMES: Final = "names"
"""Coded result columns as dictionary-encoded names (:data:`okrcore.codes.RESULT_CODE_NAMES`);
partitions written before (integer codes) are never reused into a new snapshot."""


def _coded(name: str) -> str | None:
    """The coded result column a BatchResult field holds (``kr_colour`` -> ``colour``)."""
    column = name.split("_", 1)[1]
    return column if column in RESULT_CODE_NAMES else None


def _result_table(pa: Any, prefix: str, result: BatchResult, rows: slice, ids: Any) -> Any:
    cols: dict[str, Any] = {"id": ids}
    for field in attrs.fields(BatchResult):
        if field.name.startswith(prefix):
            values = np.asarray(getattr(result, field.name))[rows]
            column = _coded(field.name)
            if column is None:
                cols[field.name] = pa.array(values)
                continue
            indices, names = stored_dictionary(column, values)
            cols[field.name] = pa.DictionaryArray.from_arrays(
                pa.array(indices, type=pa.int8(), mask=indices < 0),
                pa.array(names, type=pa.string()))
    return pa.table(cols)


def result_codes(table: Any, name: str) -> Any:
    """A result column of :func:`read_results` as the batch engine's values (a numpy array).

    Coded columns (``kr_colour``, ``obj_rule``...: dictionary-encoded names) map back to the
    engine's codes through :func:`okrcore.rows.stored_codes` (null: the column's "none");
    results written with integer codes read as they are; other columns as numpy arrays.

    Parameters
    ----------
    table : pyarrow.Table
        ``key_results`` or ``objectives`` of :func:`read_results`.
    name : str
        The column (a :class:`~okrcore.batch.BatchResult` field name).
    """
    column = table.column(name)
    coded = _coded(name)
    if coded is None:
        return column.to_numpy()
    parts = []
    for chunk in column.chunks:
        if hasattr(chunk, "indices"):  # names: one code per dictionary entry, then a take
            table_codes = stored_codes(coded, chunk.dictionary.to_pylist())
            lookup = np.append(table_codes, stored_codes(coded, [None]))
            indices = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            parts.append(lookup[indices.astype(np.int64)])
        else:  # integer codes (written before the names)
            parts.append(np.asarray(chunk.to_numpy(zero_copy_only=False), np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


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
    meta = {**meta, CODES_KEY: CODES_NAMES}
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
