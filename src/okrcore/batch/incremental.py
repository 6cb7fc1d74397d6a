"""Incremental recompute: after some key results change, recompute only what depends on them.

What depends on a key result is its objective, that objective's ancestors (through the alignment
tree) and the people who own any of them.  :func:`recompute` evaluates exactly that part of the
organisation, with the unaffected children of affected objectives taking part through their
previous results, and returns a result equal to a full :func:`~okrcore.batch.evaluate_frame`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from okrcore.batch import pipeline
from okrcore.batch.engine import BatchResult
from okrcore.batch.frame import OrgFrame
from okrcore.batch.pipeline import Pinned, check_threads

__all__ = ["affected", "recompute"]

I64 = npt.NDArray[np.int64]


def affected(frame: OrgFrame, changed_krs: Iterable[int]) -> tuple[I64, I64]:
    """The objectives and key result rows a change touches.

    Parameters
    ----------
    frame : OrgFrame
        The organisation (after the change).
    changed_krs : iterable of int
        Rows of the key results whose fields or check-ins changed.

    Returns
    -------
    objectives : ndarray of int64
        The changed key results' objectives and all their ancestors, in row order.
    key_results : ndarray of int64
        Every key result row of those objectives, in row order.
    """
    rows = np.unique(np.asarray(list(changed_krs), dtype=np.int64))
    m = frame.n_obj
    hit = np.zeros(m, dtype=bool)
    frontier = np.unique(frame.kr_objective[rows]) if rows.shape[0] else np.zeros(0, np.int64)
    while frontier.shape[0]:
        frontier = frontier[~hit[frontier]]
        hit[frontier] = True
        ups = frame.obj_parent[frontier]
        frontier = np.unique(ups[ups >= 0])
    objectives = np.flatnonzero(hit)
    key_results = np.flatnonzero(hit[frame.kr_objective])
    return objectives, key_results


def _subset(frame: OrgFrame, objectives: I64, key_results: I64) -> OrgFrame:
    """A frame holding only ``objectives`` (re-indexed) and ``key_results`` (re-indexed)."""
    new_obj = np.full(frame.n_obj, -1, dtype=np.int64)
    new_obj[objectives] = np.arange(objectives.shape[0])
    new_kr = np.full(frame.n_kr, -1, dtype=np.int64)
    new_kr[key_results] = np.arange(key_results.shape[0])
    parent = frame.obj_parent[objectives]
    parent = np.where(parent >= 0, new_obj[np.maximum(parent, 0)], parent)
    parent = np.where(frame.obj_parent[objectives] >= 0, parent, frame.obj_parent[objectives])
    keep_log = new_kr[frame.log_kr] >= 0
    counts = np.diff(frame.kr_owner_offsets)[key_results]
    starts = frame.kr_owner_offsets[key_results]
    owner_index = (np.repeat(starts - np.cumsum(counts) + counts, counts)
                   + np.arange(int(counts.sum())))
    columns: dict[str, Any] = {}
    for field in attrs.fields(OrgFrame):
        name = field.name
        value = getattr(frame, name)
        if name.startswith("kr_") and isinstance(value, np.ndarray) and name not in (
                "kr_owner_offsets", "kr_owner_ids"):
            columns[name] = value[key_results]
        elif name.startswith("obj_") and isinstance(value, np.ndarray):
            columns[name] = value[objectives]
    columns["kr_objective"] = new_obj[frame.kr_objective[key_results]]
    columns["obj_parent"] = parent
    columns["log_kr"] = new_kr[frame.log_kr[keep_log]]
    columns["log_at"] = frame.log_at[keep_log]
    columns["log_value"] = frame.log_value[keep_log]
    columns["kr_owner_offsets"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    columns["kr_owner_ids"] = frame.kr_owner_ids[owner_index]
    return OrgFrame.from_columns(**columns)


def recompute(frame: OrgFrame, previous: BatchResult, changed_krs: Iterable[int],
              kernel: str = "numpy", *, threads: int | None = None) -> BatchResult:
    """Recompute after some key results changed; equal to a full evaluation.

    Parameters
    ----------
    frame : OrgFrame
        The organisation after the change.  Only the fields and check-ins of the rows named in
        ``changed_krs`` may differ from the frame ``previous`` was computed from; rows,
        objectives, owners and alignment must be the same (a structural change needs a full
        :func:`~okrcore.batch.evaluate_frame`).
    previous : BatchResult
        The result of the frame before the change (same ``as_of`` and policy are reused).
    changed_krs : iterable of int
        Rows of the changed key results (new check-ins count as a change of their key result).
    kernel : {"numpy", "numba"}
        As for :func:`~okrcore.batch.evaluate_frame`.
    threads : int, optional
        As for :func:`~okrcore.batch.evaluate_frame` (default: the CPUs this process may use).

    Returns
    -------
    BatchResult
        Equal, column by column, to ``evaluate_frame(frame, previous.as_of, previous.policy)``.

    Notes
    -----
    The work is proportional to the affected part: the changed key results' objectives and
    their ancestors with all their key results, plus one vectorised pass over the people's
    item index.  Unaffected children of affected objectives enter their parents' rollups with
    their previous results.
    """
    check_threads(threads)
    objectives, key_results = affected(frame, changed_krs)
    if objectives.shape[0] == 0:
        return previous
    hit = np.zeros(frame.n_obj, dtype=bool)
    hit[objectives] = True
    kids = np.flatnonzero((frame.obj_parent >= 0) & ~hit)
    kids = kids[hit[frame.obj_parent[kids]]]
    members = np.union1d(objectives, kids)
    sub = _subset(frame, members, key_results)
    pin_mask = ~hit[members]
    fc = np.where(np.isnan(previous.obj_forecast_progress[members]), np.nan,
                  previous.obj_forecast_progress[members])
    pinned = Pinned(
        mask=pin_mask,
        error=previous.obj_error[members],
        progress=previous.obj_progress[members],
        previous=previous.obj_previous[members],
        forecast=fc,
        history=previous.obj_has_history[members],
    )
    part = pipeline.evaluate(sub, previous.as_of, previous.policy,
                             pipeline.backend_for(kernel), pinned=pinned, threads=threads)
    out = {f.name: getattr(previous, f.name) for f in attrs.fields(BatchResult)}
    for name, value in out.items():
        if isinstance(value, np.ndarray):
            out[name] = value.copy()
    own = np.flatnonzero(~pin_mask)
    targets = members[own]
    n_sub = sub.n_kr
    for name in out:
        if name.startswith("kr_"):
            out[name][key_results] = getattr(part, name)
        elif name.startswith("obj_") and name not in ("obj_parent", "obj_in_cycle"):
            out[name][targets] = getattr(part, name)[own]
    # error references point into the sub-frame: map them back
    ref = part.obj_error_ref[own]
    mapped = np.full(ref.shape[0], -1, dtype=np.int64)
    to_obj = ref >= n_sub
    to_kr = (ref >= 0) & ~to_obj
    mapped[to_obj] = members[ref[to_obj] - n_sub] + frame.n_kr
    mapped[to_kr] = key_results[ref[to_kr]]
    out["obj_error_ref"][targets] = mapped
    out["kr_error_ref"][key_results] = -1
    progress, items, ref, seen = pipeline.people(frame, out["obj_error"], out["obj_progress"],
                                                 out["kr_error"], out["kr_progress"])
    out["person_progress"], out["person_items"] = progress, items
    out["person_error_ref"], out["person_seen"] = ref, seen
    return BatchResult(**out)
