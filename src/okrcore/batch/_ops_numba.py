"""The operations of :mod:`okrcore.batch.rules` on one row, for numba loops.

The twins of :mod:`okrcore.batch._ops` (same names): plain Python on scalars, registered with
numba (``register_jitable(inline="always")``) by :func:`okrcore.batch._numba.load`, so that a
rule compiled for the numba kernel inlines them.  They follow numpy's semantics, not numba's:
``maximum(0.0, -0.0)`` is ``-0.0`` as in ``np.maximum`` (the second of two equal values), NaN
propagates from either side, and ``where`` takes two evaluated alternatives (no branch in the
loop, so LLVM can vectorise it).  This module does not import numba.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "OPS",
    "floor",
    "floor_",
    "fmax",
    "isinf",
    "isnan",
    "maximum",
    "maximum_",
    "minimum",
    "minimum_",
    "not_",
    "to_float",
    "where",
]


def floor(x: float) -> float:
    """``np.floor(x)``: a float (``math.floor`` would be an integer in numba)."""
    return np.floor(x)  # type: ignore[no-any-return]


def fmax(a: float, b: float) -> float:
    """``np.fmax(a, b)``: ``a`` where ``a >= b`` or ``b`` is NaN, else ``b``."""
    return a if (a >= b) | math.isnan(b) else b


def isinf(x: float) -> bool:
    """Whether ``x`` is +inf or -inf."""
    return math.isinf(x)


def isnan(x: float) -> bool:
    """Whether ``x`` is NaN."""
    return math.isnan(x)


def maximum(a: float, b: float) -> float:
    """``np.maximum(a, b)`` for two doubles: NaN propagates, equal values give ``b``."""
    result = a if a > b else b
    result = b if math.isnan(b) else result
    return a if math.isnan(a) else result


def minimum(a: float, b: float) -> float:
    """``np.minimum(a, b)`` for two doubles: NaN propagates, equal values give ``b``."""
    result = a if a < b else b
    result = b if math.isnan(b) else result
    return a if math.isnan(a) else result


def maximum_(a: float, b: float) -> float:
    """:func:`maximum` (numpy writes it into ``a``; one row has nothing to reuse)."""
    return maximum(a, b)


def minimum_(a: float, b: float) -> float:
    """:func:`minimum` (numpy writes it into ``a``; one row has nothing to reuse)."""
    return minimum(a, b)


def floor_(x: float) -> float:
    """:func:`floor` (numpy writes it into ``x``)."""
    return floor(x)


def not_(x: bool) -> bool:
    """Logical not."""
    return not x


def to_float(x: Any) -> float:
    """``x`` as a double (``np.float64``; an int64 is rounded to nearest, as numpy casts)."""
    result: Any = np.float64(x)
    return result  # type: ignore[no-any-return]


def where(condition: bool, a: Any, b: Any) -> Any:
    """``a`` if ``condition`` else ``b``; both are already evaluated (a select, no branch)."""
    return a if condition else b


OPS: Any = (floor, fmax, isinf, isnan, maximum, minimum, not_, to_float, where, maximum_,
            minimum_, floor_)
"""Every operation, for registering with numba."""
