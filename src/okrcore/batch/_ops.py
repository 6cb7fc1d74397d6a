"""The operations of :mod:`okrcore.batch.rules` over numpy columns (the numpy kernel's ``ops``).

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
    "fmax",
    "isinf",
    "isnan",
    "maximum",
    "minimum",
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
    return np.where(condition, a, b)


def to_float(x: Any) -> Any:
    """``x`` as float64 (int64 differences of instants become doubles, rounded to nearest)."""
    return np.asarray(x).astype(np.float64)
