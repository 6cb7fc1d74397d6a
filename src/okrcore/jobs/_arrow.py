"""Shared pieces of the Parquet dataset layout (:mod:`okrcore.jobs.parquet`).

File names and constants, the lazy pyarrow import, atomic file writes and the id columns; the
dataset (:mod:`okrcore.jobs.parquet`), its checks (:mod:`okrcore.jobs._checks`) and its result
snapshots (:mod:`okrcore.jobs.snapshots`) build on them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from okrcore.evaluate import isoformat
from okrcore.jobs._text import one_line

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


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (control characters escaped)."""
    return one_line(str(exc).strip())


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
