"""Blocks of rows and their threads: what every pass of the numpy backend runs on.

Split out of :mod:`okrcore.batch.engine` (issue 18).  Kernel-neutral helpers (per-group sums,
row blocks, index dtypes) that both backends and the pipeline use.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]


BLOCK_ROWS = 1 << 16
"""Rows per block of the numpy kernel's passes over key results and objectives.

Their temporaries stay small (in cache, and never allocated column-wide)."""


_T = TypeVar("_T")


_THREADS: Final = contextvars.ContextVar[int]("okrcore_batch_threads", default=1)
"""Threads of the numpy kernel's block passes in the current evaluation."""


def _map_blocks(block: Callable[[int, int], _T], bounds: Sequence[tuple[int, int]]) -> list[_T]:
    """``[block(lo, hi) for lo, hi in bounds]``, on the evaluation's threads.

    Every block writes only its own rows (and returns the rest), so the blocks may run in
    any order and at the same time: numpy releases the GIL inside its loops.  Thread ``t``
    takes blocks ``t, t + threads, ...``; the results come back in block order.
    """
    threads = min(_THREADS.get(), len(bounds))
    if threads <= 1:
        return [block(lo, hi) for lo, hi in bounds]

    def share(t: int) -> list[_T]:
        return [block(lo, hi) for lo, hi in bounds[t::threads]]

    from concurrent.futures import ThreadPoolExecutor  # (only here: a tenth of the imports)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="okrcore") as pool:
        shares = list(pool.map(share, range(threads)))
    results: list[_T] = []
    for i in range(len(bounds)):
        results.append(shares[i % threads][i // threads])
    return results


def _row_blocks(n: int) -> list[tuple[int, int]]:
    """Blocks of :data:`BLOCK_ROWS` rows of ``n``."""
    return [(lo, min(lo + BLOCK_ROWS, n)) for lo in range(0, n, BLOCK_ROWS)]


def _fill(column: npt.NDArray[Any], value: Any) -> None:
    """``column.fill(value)``, block by block on the evaluation's threads.

    A fresh column's pages are first touched here: on several threads, so are its page faults.
    """
    def block(lo: int, hi: int) -> None:
        column[lo:hi] = value

    _map_blocks(block, _row_blocks(column.shape[0]))


def _default_threads() -> int:
    """The numpy kernel's default number of threads: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _group_sum(groups: I64, weights: Any, length: int) -> F64:
    """Left-to-right per-group sums (np.bincount adds in input order)."""
    if groups.shape[0] == 0:
        return np.zeros(length)
    summed: F64 = np.bincount(groups, weights=np.asarray(weights, dtype=np.float64),
                              minlength=length).astype(np.float64, copy=False)
    return summed


def _group_blocks(groups: I64) -> list[tuple[int, int]]:
    """Blocks of about :data:`BLOCK_ROWS` rows of non-decreasing ``groups``, cut between groups."""
    n = groups.shape[0]
    cuts = np.unique(np.searchsorted(groups, groups[::BLOCK_ROWS], side="left")).tolist()
    return list(zip(cuts, [*cuts[1:], n], strict=True)) if n else []


def _block_groups(groups: I64, lo: int, hi: int) -> tuple[I64, int, slice]:
    """Rows ``lo:hi`` of non-decreasing ``groups``: groups from 0, the first, the groups."""
    block = groups[lo:hi]
    first = int(block[0])
    return block - first, first, slice(first, int(block[-1]) + 1)


def _sorted_group_count(groups: I64, length: int, mask: B) -> I64:
    """Per group: the rows where ``mask`` is set, for non-decreasing ``groups``.

    Whole groups at a time (``np.bincount`` of each block of whole groups).
    """
    counted = np.zeros(length, dtype=np.int64)

    def block(lo: int, hi: int) -> None:
        g = groups[lo:hi]
        first = int(g[0])
        counted[first:int(g[-1]) + 1] = np.bincount(g[mask[lo:hi]] - first,
                                                    minlength=int(g[-1]) + 1 - first)

    _map_blocks(block, _group_blocks(groups))
    return counted


def _index_dtype(n: int) -> type[np.signedinteger[Any]]:
    """int32 when every index below ``n`` fits (held index columns take half the memory)."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def _first_of_runs(keys: I64) -> tuple[I64, I64]:
    """For a sorted key array: each distinct key and the index of its first occurrence."""
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[starts], starts

