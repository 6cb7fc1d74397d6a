"""The operations of :mod:`okrcore.batch.rules` over numpy columns (the numpy kernel's ``ops``).

The names ending in ``_`` write their result into one of their arguments that is a float
array of the result's shape: a rule passes them as arrays only temporaries of its own (an
operation's result, never a parameter), which numpy would otherwise allocate again
(``tests/test_rules.py`` checks this).

Each name here has a twin of the same name in :mod:`okrcore.batch._ops_numba` that works on
one row inside a numba loop; a rule calls only these names (through its global ``ops``), plus
arithmetic and comparisons, which both kinds of value support natively.  numpy's own
semantics are the reference: ``maximum`` / ``minimum`` propagate NaN and, of two equal values,
return the second; ``where`` evaluates both alternatives and selects.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

__all__ = [
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

floor: Any = np.floor
"""The largest whole number not above ``x`` (a float)."""
isinf: Any = np.isinf
"""Whether ``x`` is +inf or -inf."""
isnan: Any = np.isnan
"""Whether ``x`` is NaN."""
maximum: Any = np.maximum
"""numpy's maximum: NaN propagates; of two equal values the second."""
minimum: Any = np.minimum
"""numpy's minimum: NaN propagates; of two equal values the second."""
not_: Any = np.logical_not
"""Logical not (``~`` on bool arrays, ``not`` on one bool)."""
fmax: Any = np.fmax
"""numpy's fmax: the other value where one is NaN; ``a`` where ``a >= b`` (so -0.0 of
``fmax(-0.0, 0.0)``)."""

_INT8: Final = range(-128, 128)


def where(condition: Any, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` else ``b`` (both evaluated).

    Integer constants (the codes of the rules) are taken as int8, so that code columns stay
    one byte wide through nested selections.
    """
    if type(a) is int and a in _INT8:
        a = np.int8(a)
    if type(b) is int and b in _INT8:
        b = np.int8(b)
    if _int8_codes(condition, a) and _int8_codes(condition, b):
        # ``b + condition * (a - b)`` in int8: exact (wraparound cancels), and two vectorised
        # byte passes instead of np.where's slow path for scalar operands (about 30x faster
        # on a block of 65,536 rows; benchmarks/HISTORY.md, issue 18)
        out: Any = condition.view(np.int8) * np.subtract(a, b, dtype=np.int8)
        out += b
        return out
    return np.where(condition, a, b)


def _int8_codes(condition: Any, x: Any) -> bool:
    """Whether ``x`` is an int8 code, or codes of ``condition``'s shape, for a bool column."""
    if not (isinstance(condition, np.ndarray) and condition.dtype == np.bool_
            and condition.ndim == 1):
        return False
    if isinstance(x, np.int8):
        return True
    return isinstance(x, np.ndarray) and x.dtype == np.int8 and x.shape == condition.shape


def _usable(x: Any, shape: tuple[int, ...]) -> bool:
    return (isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape == shape
            and x.base is None and x.flags.writeable)


def _into(*args: Any) -> Any:
    """An argument that can take the result of an operation on ``args``, else None."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    for arg in args:
        if _usable(arg, shape):
            return arg
    return None


def maximum_(x: Any, y: Any) -> Any:
    """:data:`maximum`, written into an array argument (temporaries of the rule only)."""
    return np.maximum(x, y, out=_into(x, y))


def minimum_(x: Any, y: Any) -> Any:
    """:data:`minimum`, written into an array argument (temporaries of the rule only)."""
    return np.minimum(x, y, out=_into(x, y))


def floor_(x: Any) -> Any:
    """:data:`floor`, written into ``x`` (a temporary of the rule only)."""
    return np.floor(x, out=_into(x))


def to_float(x: Any) -> Any:
    """``x`` as float64 (int64 differences of instants become doubles, rounded to nearest)."""
    return np.asarray(x).astype(np.float64)
