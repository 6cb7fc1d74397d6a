"""People's progress from their items (objectives owned; key results owned on others').

Split out of :mod:`okrcore.batch.engine` (issue 18), which re-exports :func:`person_items`
and :func:`person_rollup`.  Kernel-neutral: the numba backend rescues overflowing people here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from okrcore import formulas as F
from okrcore.batch import _blocks
from okrcore.batch._blocks import F64, I64, B
from okrcore.batch.frame import OrgFrame

__all__ = ["person_items", "person_rollup"]


def person_items(frame: OrgFrame, obj_error: npt.NDArray[np.uint8], obj_progress: F64,
                 kr_error: npt.NDArray[np.uint8], kr_progress: F64
                 ) -> tuple[I64, B, F64, I64]:
    """The people's items of a frame, in the order :func:`person_rollup` adds them.

    Returns
    -------
    who, bad, progress, ref : ndarray
        One row per item (an objective owned, or a key result owned on someone else's
        objective), in document order: person code, whether the item has an error, its
        progress (NaN = null), and its row (``>= n_kr``: objective ``ref - n_kr``).  Items of
        frames laid one after the other concatenate into the items of the combined frame,
        which is how a partitioned job finishes people exactly (``okrcore_dask``).
    """
    offsets = frame.kr_owner_offsets
    # the key result of each owner entry, block by block of key results
    owner_kr = np.empty(frame.kr_owner_ids.shape[0], dtype=np.int64)
    for lo in range(0, frame.n_kr, _blocks.BLOCK_ROWS):
        hi = min(lo + _blocks.BLOCK_ROWS, frame.n_kr)
        owner_kr[offsets[lo]:offsets[hi]] = np.repeat(np.arange(lo, hi, dtype=np.int64),
                                                      np.diff(offsets[lo:hi + 1]))
    owner_person = frame.kr_owner_ids.astype(np.int64)
    obj_of = frame.kr_objective[owner_kr]
    elsewhere = owner_person != frame.obj_owner[obj_of]
    owner_kr, owner_person, obj_of = owner_kr[elsewhere], owner_person[elsewhere], obj_of[elsewhere]
    o_rows = np.flatnonzero(frame.obj_owner >= 0)
    # items in document order: an objective, then the key results of that objective; two
    # sorted runs (objectives, then key results grouped by objective) whose stable merge keeps
    # each objective's own item before its key results, and key results in row order
    k = o_rows.shape[0] + obj_of.shape[0]
    if obj_of.shape[0] > 1 and bool(np.any(obj_of[1:] < obj_of[:-1])):
        order = np.argsort(np.concatenate([o_rows, obj_of]), kind="stable")
        at_obj = np.empty(k, dtype=np.int64)
        at_obj[order] = np.arange(k)
        at_kr = at_obj[o_rows.shape[0]:]
        at_obj = at_obj[:o_rows.shape[0]]
    else:
        # the merge's positions, without sorting: each item moves past the other run's
        # items of smaller objectives (an objective's own item before its key results)
        kr_items = np.bincount(obj_of, minlength=frame.n_obj)
        before = np.cumsum(kr_items)
        before -= kr_items
        at_obj = before[o_rows]
        at_obj += np.arange(o_rows.shape[0])
        at_kr = np.cumsum(frame.obj_owner >= 0)[obj_of]
        at_kr += np.arange(obj_of.shape[0])
    who = np.empty(k, dtype=np.int64)
    who[at_obj] = frame.obj_owner[o_rows]
    who[at_kr] = owner_person
    bad = np.empty(k, dtype=np.bool_)
    bad[at_obj] = obj_error[o_rows] != 0
    bad[at_kr] = kr_error[owner_kr] != 0
    prog = np.empty(k)
    prog[at_obj] = obj_progress[o_rows]
    prog[at_kr] = kr_progress[owner_kr]
    ref = np.empty(k, dtype=np.int64)
    ref[at_obj] = o_rows + frame.n_kr  # >= n_kr: an objective
    ref[at_kr] = owner_kr
    return who, bad, prog, ref


def _rescue_people(mean: F64, weighted: npt.NDArray[Any], who: I64, prog: F64) -> None:
    """Redo the people whose sum of progress overflowed, by ``F.rescaled_mean``, in place.

    ``who`` and ``prog`` are the counted items in item order.  A mean is the plain one
    wherever ``weighted`` (or the mean) is finite.
    """
    for person in np.flatnonzero(np.isinf(weighted)).tolist():
        items = prog[who == person].tolist()
        mean[person] = F.rescaled_mean([[(1.0, p) for p in items]])[0]


def person_rollup(who: I64, bad: B, prog: F64, ref: I64, n_people: int
                  ) -> tuple[F64, I64, I64, B]:
    r"""People's progress from their items (see :func:`person_items`).

    Returns
    -------
    progress, items, error_ref, seen : ndarray
        Per person: the mean progress (NaN = no counted item), the number of counted items,
        the ``ref`` of the first item with an error (-1 = none), and whether the person owns
        anything.

    Notes
    -----
    :math:`\bar p = \sum_i p_i / \sum_i 1` over the items without error and with a progress,
    added in item order (``np.bincount``), as the scalar path adds them.
    """
    seen = np.zeros(n_people, dtype=bool)
    seen[who] = True
    counted = ~bad & ~np.isnan(prog)
    counted_who = who[counted]
    items = np.bincount(counted_who, minlength=n_people).astype(np.int64)
    # adding 1.0 per item from 0.0 gives the item count exactly (below 2**53), and 1.0 * p
    # is p bit for bit for every counted (not NaN) p: the same sums without their columns
    total = items.astype(np.float64)
    weighted = np.bincount(counted_who, weights=prog[counted], minlength=n_people)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), np.nan)
    _rescue_people(mean, weighted, who[counted], prog[counted])
    first_bad = np.full(n_people, -1, dtype=np.int64)
    bad_rows = np.flatnonzero(bad)
    if bad_rows.shape[0]:
        persons, idx = np.unique(who[bad_rows], return_index=True)
        first_bad[persons] = ref[bad_rows[idx]]
    return mean, items, first_bad, seen

