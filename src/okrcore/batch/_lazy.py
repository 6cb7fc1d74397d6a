"""A read-only mapping of results made when first read (issue 19, single documents).

:func:`okrcore.batch.evaluate_batch` returns an :class:`~okrcore.results.Evaluation` whose
``objectives``, ``key_results`` and ``people`` are :class:`ResultMap` s over the batch result
columns: building a result object per item costs about ten times the evaluation itself, and
a caller often reads only a few of them (or only the text, :func:`okrcore.batch.result_json`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["ResultMap"]

V = TypeVar("V")


class ResultMap(Mapping[str, V]):
    """Results by id, in document order, each made from its row when it is first read.

    Parameters
    ----------
    rows : dict of str to int
        Id -> row of the result columns, in document order.
    make : callable
        ``make(row)`` returns the row's result object.

    Notes
    -----
    A read-only :class:`~collections.abc.Mapping`: equal (``==``) to the dict of the same
    items, unhashable as a dict is; ``repr`` is the dict's, and it pickles (and copies) as
    that dict.  A result object, once made, is kept: reading an id again returns the same
    object.
    """

    __slots__ = ("_made", "_make", "_rows")

    def __init__(self, rows: dict[str, int], make: Callable[[int], V]) -> None:
        self._rows = rows
        self._make = make
        self._made: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._make(self._rows[key])
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (list(self.items()),))
