"""The objectives' identities and alignment graph, for the scalar reference.

Part of :mod:`okrcore.evaluate` (which re-exports the public names and is their documented
home): duplicate and unreadable objectives, unknown parents, alignment cycles (each named once),
every objective's depth and its aligned children.  The batch engine builds the same graph in
arrays and words its cycle errors with :func:`cycle_error` and :func:`cycle_member_error`.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from okrcore import errors as E
from okrcore.model import InvalidObjective, Objective

__all__ = [
    "Alignment",
    "align",
    "alignment_depths",
    "cycle_error",
    "cycle_from",
    "cycle_member_error",
]


def cycle_from(first: int, parent_of: Sequence[int | None]) -> list[int]:
    """The members of the alignment cycle through ``first``, following parents from it."""
    members = [first]
    j = parent_of[first]
    while j is not None and j != first:
        members.append(j)
        j = parent_of[j]
    return members


def cycle_error(ids: Sequence[str], path: str) -> E.OkrError:
    """The one error that names a whole alignment cycle, at its first member's parent.

    ``ids`` are the members from that first member on (each the child of the next).
    """
    return E.OkrError(E.ALIGNMENT_CYCLE, f"{path}.parent",
                      f"alignment cycle of {len(ids)} objectives: "
                      + " -> ".join([*ids, ids[0]]))


def cycle_member_error(ident: str, path: str, named_at: str) -> E.OkrError:
    """The short error of every other member of a cycle: where the cycle is named."""
    return E.OkrError(E.ALIGNMENT_CYCLE, f"{path}.parent",
                      f"objective {ident!r} is on the alignment cycle named at "
                      f"{named_at}.parent")


def alignment_depths(parent_of: Sequence[int | None], in_cycle: set[int] | Sequence[bool]
                     ) -> list[int]:
    """Per objective, the number of parent links up to its root (or to a cycle), in O(n).

    Each objective's depth is computed once: a walk up stops at the first objective whose
    depth is known, and the depths of the walked objectives are filled in on the way back.
    """
    n = len(parent_of)
    cyclic = (in_cycle.__contains__ if isinstance(in_cycle, set)
              else in_cycle.__getitem__)
    depth = [-1] * n
    for i in range(n):
        walked: list[int] = []
        j: int | None = i
        while j is not None and depth[j] < 0:
            if cyclic(j):
                depth[j] = 0
                break
            walked.append(j)
            j = parent_of[j]
        d = -1 if j is None else depth[j]
        for k in reversed(walked):
            d += 1
            depth[k] = d
    return depth


@attrs.frozen
class Alignment:
    """The identities and the alignment graph of a document's objectives (by position).

    Parameters
    ----------
    errors : list of OkrError
        The errors found, in the order found: those of unreadable objectives, duplicate ids,
        unknown parents, then the alignment cycles.
    broken : set of int
        Objectives that could not be read or repeat an earlier id: their key results depend on
        them.
    invalid : set of int
        Objectives with an error so far (``broken``, an unknown parent, on a cycle).
    parent_of : list of int or None
        Each objective's parent, ``None`` for a root, an unknown parent or a broken objective.
    in_cycle : set of int
        Objectives on an alignment cycle.
    depth : list of int
        The number of parent links up to the root or to a cycle (:func:`alignment_depths`).
    children_of : dict of int to list of int
        Each objective's aligned children (not on a cycle), in document order.
    """

    errors: list[E.OkrError]
    broken: set[int]
    invalid: set[int]
    parent_of: list[int | None]
    in_cycle: set[int]
    depth: list[int]
    children_of: dict[int, list[int]]


def align(objectives: Sequence[Objective | InvalidObjective], paths: Sequence[str]
          ) -> Alignment:
    """Check the objectives' ids and parents and build the alignment graph.

    Parameters
    ----------
    objectives : sequence of Objective or InvalidObjective
        A document's objectives.
    paths : sequence of str
        Their paths in the document (``objectives[i]``), for the errors.

    Returns
    -------
    Alignment
        The graph and the errors; the first objective with an id wins it, and a cycle is named
        once, by its first member in the document (the others point there).
    """
    n = len(objectives)
    errors: list[E.OkrError] = []

    # --- identities -------------------------------------------------------------------------
    broken: set[int] = set()  # objectives that could not be read: their KRs depend on them
    invalid: set[int] = set()  # objectives with any error
    index: dict[str, int] = {}
    for i, obj in enumerate(objectives):
        if isinstance(obj, InvalidObjective):
            errors.extend(obj.errors)
            broken.add(i)
            invalid.add(i)
        if obj.id is None:
            continue
        if obj.id in index:
            if i not in broken:
                errors.append(E.OkrError(E.DUPLICATE_ID, f"{paths[i]}.id",
                                         f"objective id {obj.id!r} is used more than once"))
            broken.add(i)
            invalid.add(i)
        else:
            index[obj.id] = i

    # --- alignment graph ----------------------------------------------------------------------
    parent_of: list[int | None] = [None] * n
    for i, obj in enumerate(objectives):
        if obj.parent is None or i in broken:
            continue
        if obj.parent not in index:
            errors.append(E.OkrError(E.UNKNOWN_PARENT, f"{paths[i]}.parent",
                                     f"parent {obj.parent!r} is not an objective of the document"))
            invalid.add(i)
        else:
            parent_of[i] = index[obj.parent]
    state = [0] * n
    in_cycle: set[int] = set()
    for i in range(n):
        chain: list[int] = []
        j: int | None = i
        while j is not None and state[j] == 0:
            state[j] = 1
            chain.append(j)
            j = parent_of[j]
        if j is not None and state[j] == 1:
            in_cycle.update(chain[chain.index(j):])
        for k in chain:
            state[k] = 2
    named: dict[int, int] = {}  # cycle member -> the member (first in the document) naming it
    for i in sorted(in_cycle):
        if i in named:
            errors.append(cycle_member_error(str(objectives[i].id), paths[i],
                                             paths[named[i]]))
        else:
            members = cycle_from(i, parent_of)
            named.update((j, i) for j in members)
            errors.append(cycle_error([str(objectives[j].id) for j in members], paths[i]))
        invalid.add(i)
    depth = alignment_depths(parent_of, in_cycle)
    children_of: dict[int, list[int]] = {i: [] for i in range(n)}
    for i in range(n):
        p = parent_of[i]
        if p is not None and i not in in_cycle:
            children_of[p].append(i)
    return Alignment(errors, broken, invalid, parent_of, in_cycle, depth, children_of)
