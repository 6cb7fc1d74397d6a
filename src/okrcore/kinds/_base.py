"""What a key-result kind provides: the hooks the generic code calls (see ``kinds/__init__``)."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt

from okrcore import errors as E
from okrcore._reading import Reader
from okrcore.codes import RANGE_NONE

__all__ = ["Columns", "Encoded", "EncodedColumns", "Kind", "SqlParts", "Tools", "check_in_done",
           "stored_done"]

_NAN = float("nan")


@attrs.define
class Encoded:
    """One key result's frame row (the columns :meth:`OrgFrame.from_document` writes)."""

    kind: int
    target: float = 1.0
    start: float = 0.0
    current: float = _NAN
    unit: int = -1
    range_mode: int = RANGE_NONE
    bounds: tuple[float, float, float, float] = (_NAN, _NAN, _NAN, _NAN)
    """``red_low``, ``yellow_low``, ``yellow_high``, ``red_high`` [unit]; NaN = absent."""


@attrs.define
class EncodedColumns:
    """The frame columns of several key results of one kind (:meth:`Kind.encode_many`).

    Every array has one row per key result; ``units`` holds each row's unit *name* (``None``:
    the kind has no unit), which :meth:`OrgFrame.from_document` turns into codes in document
    order.
    """

    kind: npt.NDArray[np.uint8]
    target: npt.NDArray[np.float64]
    start: npt.NDArray[np.float64]
    current: npt.NDArray[np.float64]
    units: list[str | None]
    range_mode: npt.NDArray[np.uint8]
    red_low: npt.NDArray[np.float64]
    yellow_low: npt.NDArray[np.float64]
    yellow_high: npt.NDArray[np.float64]
    red_high: npt.NDArray[np.float64]

    @classmethod
    def blank(cls, n: int, kind: int) -> EncodedColumns:
        """``n`` rows of code ``kind``: target 1, start 0, no current, unit, range or bounds."""
        def nan() -> npt.NDArray[np.float64]:
            return np.full(n, _NAN)

        return cls(np.full(n, kind, np.uint8), np.ones(n), np.zeros(n), nan(), [None] * n,
                   np.full(n, RANGE_NONE, np.uint8), nan(), nan(), nan(), nan())


@attrs.define
class Columns:
    """The key result columns of :func:`okrcore.rows.frame_from_columns`, while they are built.

    ``kind`` starts as each row's :attr:`Kind.code` (from the stored ``kind`` name); a kind's
    :meth:`Kind.columns` hook refines it (and the others) on its own rows in place.
    """

    kind: npt.NDArray[np.uint8]
    target: npt.NDArray[np.float64]
    current: npt.NDArray[np.float64]
    stages: npt.NDArray[np.float64]
    """The stored ``stages_total`` (NaN = none)."""
    points: npt.NDArray[np.float64]
    """The number of checkpoint rows of each key result."""
    points_done: npt.NDArray[np.float64]
    """The number of done checkpoint rows of each key result."""


@attrs.frozen
class SqlParts:
    """The pieces of :func:`okrcore.rows.kr_progress_sql` a kind's SQL branch is made of."""

    column: Callable[[str], str]
    """The quoted, table-qualified column of the key result row."""
    value: str
    """The value: stored ``current``, else the latest check-in, else the start."""
    done: str
    """The stored ``current``, else the latest check-in, else 0."""
    points: str
    """The number of checkpoint rows."""
    points_done: str
    """The number of done checkpoint rows."""
    strict: bool
    """The policy's ``strict_breakpoints``."""


@attrs.frozen
class Tools:
    """What a kind's hypothesis strategy draws from (given by ``okrcore.conformance.strategies``).

    The kinds never import hypothesis: the strategies module passes its ``st`` and its shared
    strategies here, so hypothesis is imported only where strategies are asked for.
    """

    st: Any
    numbers: Any
    weights: Any
    names: Any
    owners: Any
    history: Callable[..., Any]
    """``history(draw, values, capabilities)``: a check-in log of ``values``, or ``None``."""
    due: Callable[..., Any]
    """``due(draw, after)``: a key result's own due instant (after ``after``), or ``None``."""


def stored_done(value: Any, field: str) -> bool | None:
    """A stored done flag: 0 or 1 (``None`` kept); anything else is ``out_of_range``."""
    if value is None:
        return None
    if value in (0, 1):
        return bool(value)
    raise E.OkrValueError(E.OUT_OF_RANGE, field, f"{field} must be 0 or 1, got {value!r}", value)


def check_in_done(value: Any) -> Any:
    """A stored check-in's done flag (:func:`stored_done` of the column ``check_ins.value``)."""
    return stored_done(value, "check_ins.value")


class Kind(abc.ABC):
    """A key-result kind: its model, codes and every mapping of it (one module per kind).

    The generic code (the interchange loader, ``OrgFrame.from_document``, ``okrcore.rows``, the
    hypothesis strategies, the batch conversion) loops over :data:`okrcore.kinds.KINDS` and calls
    these hooks instead of branching on the kind.  The hooks without a default are abstract:
    a kind module that leaves one out cannot be instantiated (``TypeError`` naming it).
    """

    name: ClassVar[str]
    """The interchange ``kind``."""
    model: ClassVar[type]
    """The model class (defined in :mod:`okrcore.model`)."""
    code: ClassVar[int]
    """The frame code of the stored ``kind`` name (before :meth:`columns` refines it)."""
    codes: ClassVar[tuple[int, ...]]
    """Every frame code (``kr_kind``) this kind encodes to (``okrcore.codes.KIND_*``)."""
    rules: ClassVar[Mapping[int, str]]
    """The explanation ``rule`` of each frame code (a metric's depends on its range mode)."""
    totals: ClassVar[frozenset[int]] = frozenset()
    """The codes whose frame target is a count (stages, checkpoints): explained as ``total``."""
    done_or_not: ClassVar[frozenset[int]] = frozenset()
    """The codes whose value is done / not done: paced against the due date (SEMANTICS §11.2)."""
    uses_start: ClassVar[bool] = False
    """Whether the stored ``start`` counts (else it is 0 in the frame)."""
    capability: ClassVar[str | None]
    """The conformance capability an implementation declares for this kind (None: always)."""
    fields: ClassVar[tuple[str, ...]]
    """The interchange fields of this kind beside the common ones (id, kind, weight...)."""

    # --- interchange ------------------------------------------------------------------------
    @abc.abstractmethod
    def load(self, reader: Reader, path: str) -> dict[str, Any]:
        """Read this kind's fields of one interchange key result (errors go to ``reader``)."""

    @abc.abstractmethod
    def dump(self, kr: Any) -> dict[str, Any]:
        """The fields of this kind of one interchange key result, in the order they are written."""

    @abc.abstractmethod
    def check_in_key(self, kr: Any) -> str:
        """The field holding a check-in's value in the interchange document."""

    # --- frame ------------------------------------------------------------------------------
    @abc.abstractmethod
    def encode_many(self, krs: Sequence[Any]) -> EncodedColumns:
        """The frame columns of key results of this kind, one row each (vectorised)."""

    def encode(self, kr: Any, unit: Callable[[str], int]) -> Encoded:
        """The frame row of one key result (``unit`` gives a unit name's code).

        Row 0 of :meth:`encode_many` of ``[kr]``: one definition of the encoding.
        """
        c = self.encode_many([kr])
        name = c.units[0]
        return Encoded(int(c.kind[0]), float(c.target[0]), float(c.start[0]),
                       float(c.current[0]), -1 if name is None else unit(name),
                       int(c.range_mode[0]), (float(c.red_low[0]), float(c.yellow_low[0]),
                                              float(c.yellow_high[0]), float(c.red_high[0])))

    # --- rows -------------------------------------------------------------------------------
    @abc.abstractmethod
    def to_row(self, kr: Any) -> dict[str, Any]:
        """The columns of this kind of its key result row (``target``, ``current``...)."""

    def child_rows(self, kr: Any) -> Mapping[str, Sequence[dict[str, Any]]]:
        """Rows of other tables this key result owns (checkpoints), by table name."""
        return {}

    @abc.abstractmethod
    def from_row(self, row: Mapping[str, Any], history: Sequence[tuple[int, float]] | None,
                 checkpoints: Sequence[tuple[str, bool]] | None,
                 common: dict[str, Any]) -> Any:
        """Build the key result of one row; ``history`` holds ``(at µs, value)`` in order."""

    def columns(self, cols: Columns, rows: npt.NDArray[np.bool_]) -> None:
        """Refine the frame columns of this kind's ``rows`` in place (vectorised)."""
        return None  # the default: nothing to refine

    @abc.abstractmethod
    def sql(self, parts: SqlParts) -> list[tuple[str, str]]:
        """``(condition, raw progress)`` SQL branches of this kind, in order."""

    # --- tests ------------------------------------------------------------------------------
    @abc.abstractmethod
    def strategy(self, tools: Tools, ident: str, capabilities: frozenset[str],
                 due_after: Any = None, **options: Any) -> Any:
        """A hypothesis strategy of any valid key result of this kind."""

    def __repr__(self) -> str:
        return f"<key-result kind {self.name!r}>"
