"""The operations of :mod:`okrcore.batch.rules` over numpy columns (the numpy kernel's ``ops``).

Each name here has a twin of the same name in :mod:`okrcore.batch._ops_numba` that works on
one row inside a numba loop; a rule calls only these names (through its global ``ops``), plus
arithmetic and comparisons, which both kinds of value support natively.  numpy's own
semantics are the reference: ``maximum`` / ``minimum`` propagate NaN and, of two equal values,
return the second; ``where`` evaluates both alternatives and selects.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "absolute",
    "floor",
    "isinf",
    "isnan",
    "maximum",
    "minimum",
    "not_",
    "to_float",
    "where",
]

absolute: Any = np.absolute
"""``|x|``."""
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
where: Any = np.where
"""``a`` where ``condition`` else ``b`` (both evaluated)."""


def to_float(x: Any) -> Any:
    """``x`` as float64 (int64 differences of instants become doubles, rounded to nearest)."""
    return np.asarray(x).astype(np.float64)
