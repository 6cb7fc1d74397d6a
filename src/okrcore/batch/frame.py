"""Columnar frames: a whole organisation as structure-of-arrays, ready for the batch engine.

An :class:`OrgFrame` holds one numpy array per field of key results, objectives, check-in logs
and owners (see ``docs/batch.rst`` for the layout).  It is built from an interchange document
(:meth:`OrgFrame.from_document`), from plain column arrays (:meth:`OrgFrame.from_columns`), or
from Arrow / pandas / Polars columns (:func:`okrcore.batch.columns_from_table`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from okrcore import errors as E
from okrcore._auto import gc_paused
from okrcore.codes import (  # re-exported: the frame's codes, defined in okrcore.codes
    AMBITION_CODES as AMBITION_CODES,
)
from okrcore.codes import AMBITION_COMMITTED, MODE_AUTO, RANGE_NONE, STATUS_NONE
from okrcore.codes import (
    KIND_BINARY as KIND_BINARY,
)
from okrcore.codes import (
    KIND_CHECKPOINTS as KIND_CHECKPOINTS,
)
from okrcore.codes import (
    KIND_METRIC as KIND_METRIC,
)
from okrcore.codes import (
    KIND_MILESTONE as KIND_MILESTONE,
)
from okrcore.codes import (
    KIND_NAMES as KIND_NAMES,
)
from okrcore.codes import (
    KIND_STAGED as KIND_STAGED,
)
from okrcore.codes import (
    LOAD_DUPLICATE as LOAD_DUPLICATE,
)
from okrcore.codes import (
    LOAD_INVALID as LOAD_INVALID,
)
from okrcore.codes import (
    LOAD_OK as LOAD_OK,
)
from okrcore.codes import (
    MODE_CODES as MODE_CODES,
)
from okrcore.codes import (
    NONE_INSTANT as NONE_INSTANT,
)
from okrcore.codes import (
    RANGE_MODE_CODES as RANGE_MODE_CODES,
)
from okrcore.codes import (
    STATUS_CODES as STATUS_CODES,
)
from okrcore.model import (
    Document,
)

__all__ = [
    "AMBITION_CODES",
    "KIND_BINARY",
    "KIND_CHECKPOINTS",
    "KIND_METRIC",
    "KIND_MILESTONE",
    "KIND_NAMES",
    "KIND_STAGED",
    "MODE_CODES",
    "NONE_INSTANT",
    "RANGE_MODE_CODES",
    "STATUS_CODES",
    "OrgFrame",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]



def _arr(value: Any, dtype: Any, name: str, length: int | None = None) -> Any:
    array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
    if array.ndim != 1:
        raise ValueError(f"column {name} must be one-dimensional, got shape {array.shape}")
    if length is not None and array.shape[0] != length:
        raise ValueError(f"column {name} has {array.shape[0]} rows, expected {length}")
    return array


def _optional(columns: Mapping[str, Any], name: str, default: Any, dtype: Any, n: int) -> Any:
    if name in columns and columns[name] is not None:
        return _arr(columns[name], dtype, name, n)
    return np.full(n, default, dtype=dtype)


@attrs.frozen(eq=False)
class OrgFrame:
    """A whole organisation in columns (structure of arrays).

    Every array is one-dimensional and contiguous.  Key result columns have ``n_kr`` rows,
    objective columns ``n_obj`` rows, log columns ``n_log`` rows (sorted by key result, then
    instant, then input order), and the owners are CSR (``kr_owner_offsets`` has ``n_kr + 1``
    entries).  Instants are int64 microseconds since the Unix epoch; :data:`NONE_INSTANT` and NaN
    stand for absent values.  Labels (ids, names) are optional and only used for output.
    """

    kr_objective: I64
    kr_kind: U8
    kr_start: F64
    kr_target: F64
    kr_current: F64
    kr_weight: F64
    kr_unit: I32
    kr_range_mode: U8
    kr_red_low: F64
    kr_yellow_low: F64
    kr_yellow_high: F64
    kr_red_high: F64
    kr_due: I64
    kr_has_log: B
    kr_load: U8
    log_kr: I64
    log_at: I64
    log_value: F64
    kr_owner_offsets: I64
    kr_owner_ids: I32
    obj_parent: I64
    obj_weight: F64
    obj_start: I64
    obj_due: I64
    obj_mode: U8
    obj_ambition: U8
    obj_status: I8
    obj_include_children: B
    obj_owner: I32
    obj_ps_unit: I32
    obj_ps_target: F64
    obj_ps_auto: B
    obj_ps_start: F64
    obj_load: U8
    kr_ids: Sequence[str] | None = None
    obj_ids: Sequence[str] | None = None
    person_names: Sequence[str] | None = None
    unit_names: Sequence[str] | None = None
    obj_parent_names: Sequence[str | None] | None = None
    load_errors: Mapping[str, tuple[E.OkrError, ...]] = attrs.field(factory=dict)
    """Errors of items that could not be read, keyed ``"o<row>"`` / ``"k<row>"``."""
    validated: bool = False
    """True when every row was validated on the way in (frames built from documents): the
    engine then skips its own per-row field validation."""

    @property
    def n_kr(self) -> int:
        """Number of key result rows."""
        return int(self.kr_kind.shape[0])

    @property
    def n_obj(self) -> int:
        """Number of objective rows."""
        return int(self.obj_parent.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by the frame's numeric columns."""
        return sum(
            int(value.nbytes) for value in attrs.asdict(self, recurse=False).values()
            if isinstance(value, np.ndarray)
        )

    @classmethod
    def from_columns(cls, **columns: Any) -> OrgFrame:
        """Build a frame from plain column arrays (the layout of ``docs/batch.rst``).

        Required: ``kr_objective``, ``kr_kind``, ``kr_target``, ``obj_parent``.  Every other
        column has a default (start 0, current absent, weight 1, no unit, no range, no due, no
        log, no owners; objectives: weight 1, no timeline, mode auto, committed, no status, no
        progress settings, no owner).  Arrays whose dtype already matches are used without a
        copy.  The check-in log is sorted stably by key result and instant when it is not
        sorted already.

        Raises
        ------
        ValueError
            For a structural problem (a missing required column, wrong lengths, an index out of
            range).  Bad *values* are not raised: they become per-row errors when evaluated.
        """
        for name in ("kr_objective", "kr_kind", "kr_target", "obj_parent"):
            if name not in columns:
                raise ValueError(f"column {name} is required")
        known = {f.name for f in attrs.fields(cls)} | {"log_kr", "log_at", "log_value"}
        unknown = sorted(set(columns) - known)
        if unknown:
            raise ValueError(f"unknown column {unknown[0]!r}")
        kr_objective = _arr(columns["kr_objective"], np.int64, "kr_objective")
        n = kr_objective.shape[0]
        obj_parent = _arr(columns["obj_parent"], np.int64, "obj_parent")
        m = obj_parent.shape[0]
        if n and (kr_objective.min() < 0 or kr_objective.max() >= m):
            raise ValueError("kr_objective holds an index outside the objectives")
        if m and (obj_parent.min() < -2 or obj_parent.max() >= m):
            raise ValueError("obj_parent holds an index outside the objectives (-1 = none)")
        log_kr = (_arr(columns["log_kr"], np.int64, "log_kr")
                  if columns.get("log_kr") is not None else np.zeros(0, np.int64))
        n_log = log_kr.shape[0]
        log_at = _optional(columns, "log_at", 0, np.int64, n_log)
        log_value = _optional(columns, "log_value", 0.0, np.float64, n_log)
        if n_log and (log_kr.min() < 0 or log_kr.max() >= n):
            raise ValueError("log_kr holds an index outside the key results")
        if n_log > 1:
            same_kr = log_kr[1:] == log_kr[:-1]
            sorted_already = bool(np.all(
                (log_kr[1:] > log_kr[:-1]) | (same_kr & (log_at[1:] >= log_at[:-1]))))
            if not sorted_already:
                order = np.lexsort((log_at, log_kr))
                log_kr, log_at, log_value = log_kr[order], log_at[order], log_value[order]
        has_log_default = np.zeros(n, dtype=np.bool_)
        if n_log:
            has_log_default[log_kr] = True
        offsets = _optional(columns, "kr_owner_offsets", 0, np.int64, n + 1)
        owner_ids = (_arr(columns["kr_owner_ids"], np.int32, "kr_owner_ids")
                     if columns.get("kr_owner_ids") is not None else np.zeros(0, np.int32))
        if offsets[-1] != owner_ids.shape[0] or np.any(offsets[1:] < offsets[:-1]):
            raise ValueError("kr_owner_offsets is not a CSR index into kr_owner_ids")
        return cls(
            kr_objective=kr_objective,
            kr_kind=_arr(columns["kr_kind"], np.uint8, "kr_kind", n),
            kr_start=_optional(columns, "kr_start", 0.0, np.float64, n),
            kr_target=_arr(columns["kr_target"], np.float64, "kr_target", n),
            kr_current=_optional(columns, "kr_current", np.nan, np.float64, n),
            kr_weight=_optional(columns, "kr_weight", 1.0, np.float64, n),
            kr_unit=_optional(columns, "kr_unit", -1, np.int32, n),
            kr_range_mode=_optional(columns, "kr_range_mode", RANGE_NONE, np.uint8, n),
            kr_red_low=_optional(columns, "kr_red_low", np.nan, np.float64, n),
            kr_yellow_low=_optional(columns, "kr_yellow_low", np.nan, np.float64, n),
            kr_yellow_high=_optional(columns, "kr_yellow_high", np.nan, np.float64, n),
            kr_red_high=_optional(columns, "kr_red_high", np.nan, np.float64, n),
            kr_due=_optional(columns, "kr_due", NONE_INSTANT, np.int64, n),
            kr_has_log=(_arr(columns["kr_has_log"], np.bool_, "kr_has_log", n)
                        if columns.get("kr_has_log") is not None else has_log_default),
            kr_load=_optional(columns, "kr_load", LOAD_OK, np.uint8, n),
            log_kr=log_kr,
            log_at=log_at,
            log_value=log_value,
            kr_owner_offsets=offsets,
            kr_owner_ids=owner_ids,
            obj_parent=obj_parent,
            obj_weight=_optional(columns, "obj_weight", 1.0, np.float64, m),
            obj_start=_optional(columns, "obj_start", NONE_INSTANT, np.int64, m),
            obj_due=_optional(columns, "obj_due", NONE_INSTANT, np.int64, m),
            obj_mode=_optional(columns, "obj_mode", MODE_AUTO, np.uint8, m),
            obj_ambition=_optional(columns, "obj_ambition", AMBITION_COMMITTED, np.uint8, m),
            obj_status=_optional(columns, "obj_status", STATUS_NONE, np.int8, m),
            obj_include_children=_optional(columns, "obj_include_children", False, np.bool_, m),
            obj_owner=_optional(columns, "obj_owner", -1, np.int32, m),
            obj_ps_unit=_optional(columns, "obj_ps_unit", -1, np.int32, m),
            obj_ps_target=_optional(columns, "obj_ps_target", np.nan, np.float64, m),
            obj_ps_auto=_optional(columns, "obj_ps_auto", False, np.bool_, m),
            obj_ps_start=_optional(columns, "obj_ps_start", np.nan, np.float64, m),
            obj_load=_optional(columns, "obj_load", LOAD_OK, np.uint8, m),
            kr_ids=columns.get("kr_ids"),
            obj_ids=columns.get("obj_ids"),
            person_names=columns.get("person_names"),
            unit_names=columns.get("unit_names"),
            obj_parent_names=columns.get("obj_parent_names"),
        )

    @classmethod
    def from_document(cls, document: Document) -> OrgFrame:
        """Build a frame from a document (also one loaded with bad items).

        Items that could not be read keep a row, flagged in ``kr_load`` / ``obj_load``, with
        their errors in ``load_errors``; later occurrences of an id are flagged as duplicates.

        Notes
        -----
        Each field is gathered for all items at once and becomes its array in one numpy
        call; each kind encodes its key results together
        (:meth:`okrcore.kinds.Kind.encode_many`); people and units get codes in order of first
        appearance (issue 19: no per-item rows).
        """
        from okrcore.batch._doc_columns import document_columns

        with gc_paused():  # lists of every field: the collector would rescan the heap
            columns = document_columns(document)
        load_errors = columns.pop("load_errors")
        frame = cls.from_columns(**columns)
        return attrs.evolve(frame, load_errors=load_errors, validated=True)
