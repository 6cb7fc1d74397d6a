"""How result columns are stored: the one mapping between the engine's codes and stored values.

Every path that writes result columns (the bulk job, the per-event update) or reads them back
(incremental recompute, :func:`okrcore_sqlalchemy.load_evaluation`) converts through
:func:`to_stored` and :func:`from_stored`, so a stored representation is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from okrcore.batch.frame import NONE_INSTANT

__all__ = ["COLOUR_COLUMNS", "from_stored", "to_stored"]

COLOUR_COLUMNS: Final = frozenset({"colour", "pace_colour", "computed_colour", "forecast_colour",
                                   "range_status", "grade_band"})
"""Stored colour codes: NULL is "no colour" (the batch engine's ``COLOUR_NONE``)."""


def to_stored(table: Any, name: str, values: npt.NDArray[Any]) -> list[Any]:
    """One result column as the values written to ``table.name`` (a Python list).

    Parameters
    ----------
    table : Table
        The result table written (its column types decide the stored form).
    name : str
        The result column (:data:`okrcore.rows.RESULT_COLUMNS`).
    values : ndarray
        The batch engine's column.

    Returns
    -------
    list
        No colour [code -1] and no instant [``NONE_INSTANT``] as ``None`` (NULL); everything
        else as is.
    """
    if name in COLOUR_COLUMNS:
        return [None if c < 0 else c for c in np.asarray(values).tolist()]
    if name == "last_at":
        return [None if t == NONE_INSTANT else t for t in np.asarray(values).tolist()]
    return list(np.asarray(values).tolist())


def from_stored(table: Any, name: str, values: Sequence[Any]) -> list[Any]:
    """Stored values of one result column back to the batch engine's values.

    The inverse of :func:`to_stored` (NULL colours and instants back to the engine's codes).
    """
    if name in COLOUR_COLUMNS:
        return [-1 if v is None else v for v in values]
    if name == "last_at":
        return [NONE_INSTANT if v is None else v for v in values]
    return list(values)
