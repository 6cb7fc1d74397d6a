"""An organisation kept in memory: apply a check-in or an edit, get back what changed.

:class:`LiveOrganisation` is evaluated once in full; after that each :meth:`~LiveOrganisation.
check_in`, :meth:`~LiveOrganisation.edit_key_result` or :meth:`~LiveOrganisation.edit_objective`
re-evaluates only the part of the organisation the change reaches -- the changed item's
objective and its ancestors with their key results, their direct children (taking part with
their known results) and the people who own any of them -- and returns a :class:`Changes` with
the results that changed.  Every result equals a full evaluation of the changed organisation,
bit for bit: the part is evaluated by the batch pipeline itself
(:func:`okrcore.batch.pipeline.evaluate` with :class:`~okrcore.batch.pipeline.Pinned`
children), people by the batch engine's own rule (:func:`okrcore.batch.engine.person_rollup`),
and the result objects by :func:`okrcore.batch.to_evaluation`.

The organisation is held in columns (an :class:`~okrcore.batch.OrgFrame`) with index structures
(each objective's key result rows and children, each key result's check-in log, each person's
items), so an update costs time proportional to the part it reaches, never to the size of the
organisation (``docs/live.rst`` gives the method and figures).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, cast

import attrs
import numpy as np
import numpy.typing as npt

from okrcore import _checks as C
from okrcore import errors as E
from okrcore import kinds
from okrcore.batch import pipeline
from okrcore.batch._people import person_items, person_rollup
from okrcore.batch._result import BatchResult
from okrcore.batch.convert import to_evaluation
from okrcore.batch.frame import OrgFrame
from okrcore.batch.pipeline import Pinned
from okrcore.codes import (
    AMBITION_CODES,
    ERR_FIELD_BREAKPOINTS,
    ERR_FIELD_DEGENERATE,
    ERR_FIELD_NEGATIVE_WEIGHT,
    ERR_FIELD_NOT_FINITE,
    ERR_FIELD_OUT_OF_RANGE,
    ERR_FIELD_TIMELINE,
    ERR_FIELD_UNKNOWN_VALUE,
    ERR_LOAD,
    MODE_CODES,
    NONE_INSTANT,
    STATUS_CODES,
    STATUS_NONE,
)
from okrcore.instants import instant_us
from okrcore.model import (
    CheckIn,
    Document,
    InvalidKeyResult,
    InvalidObjective,
    KeyResult,
    Objective,
)
from okrcore.policy import Policy
from okrcore.results import (
    Evaluation,
    KeyResultResult,
    ObjectiveResult,
    PersonItem,
    PersonResult,
)

__all__ = ["Changes", "LiveOrganisation"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]

_KR_INPUTS: Final = (
    "kr_objective", "kr_kind", "kr_start", "kr_target", "kr_current", "kr_weight", "kr_unit",
    "kr_range_mode", "kr_red_low", "kr_yellow_low", "kr_yellow_high", "kr_red_high", "kr_due",
    "kr_has_log", "kr_load")
_OBJ_INPUTS: Final = (
    "obj_parent", "obj_weight", "obj_start", "obj_due", "obj_mode", "obj_ambition", "obj_status",
    "obj_include_children", "obj_owner", "obj_ps_unit", "obj_ps_target", "obj_ps_auto",
    "obj_ps_start", "obj_load")
_KR_RESULTS: Final = tuple(f.name for f in attrs.fields(BatchResult)
                           if f.name.startswith("kr_") and f.name != "kr_error_ref")
_OBJ_RESULTS: Final = tuple(f.name for f in attrs.fields(BatchResult)
                            if f.name.startswith("obj_")
                            and f.name not in ("obj_error_ref", "obj_parent", "obj_in_cycle"))
_PERSON_RESULTS: Final = ("person_progress", "person_items", "person_error_ref", "person_seen")

_FRAME_KR_FIELDS: Final = {
    "start": "kr_start", "target": "kr_target", "current": "kr_current", "weight": "kr_weight",
    "due": "kr_due", "red_low": "kr_red_low", "yellow_low": "kr_yellow_low",
    "yellow_high": "kr_yellow_high", "red_high": "kr_red_high", "owners": ""}
"""The fields :meth:`LiveOrganisation.edit_key_result` takes on a frame, and their columns."""
_FRAME_OBJ_FIELDS: Final = {
    "weight": "obj_weight", "start": "obj_start", "due": "obj_due", "mode": "obj_mode",
    "ambition": "obj_ambition", "status": "obj_status",
    "include_children": "obj_include_children", "owner": "obj_owner"}
"""The fields :meth:`LiveOrganisation.edit_objective` takes on a frame, and their columns."""
_NULLABLE: Final = frozenset({"current", "red_low", "yellow_low", "yellow_high", "red_high"})
"""The key result fields of a frame that ``None`` clears (NaN: absent)."""

_FIELD_ERRORS: Final = {
    ERR_FIELD_NOT_FINITE: E.NOT_FINITE,
    ERR_FIELD_NEGATIVE_WEIGHT: E.NEGATIVE_WEIGHT,
    ERR_FIELD_DEGENERATE: E.DEGENERATE_METRIC,
    ERR_FIELD_BREAKPOINTS: E.BREAKPOINTS_OUT_OF_ORDER,
    ERR_FIELD_UNKNOWN_VALUE: E.UNKNOWN_FIELD_VALUE,
    ERR_FIELD_OUT_OF_RANGE: E.OUT_OF_RANGE,
    ERR_FIELD_TIMELINE: E.INVALID_TIMELINE,
}
"""The engine's per-row field error codes, as the core's error codes (frame edits)."""


class Changes:
    """What one update changed: the results of the items whose result is now different.

    Attributes
    ----------
    key_results, objectives : mapping of id to result or None
        The changed items' new results, keyed by id, as :class:`okrcore.Evaluation` holds them
        (:class:`~okrcore.KeyResultResult`, :class:`~okrcore.ObjectiveResult`).  ``None``: the
        item has no result any more (it now has an error, listed in
        :meth:`LiveOrganisation.evaluation`'s ``errors``).  Items whose result did not change
        are absent.  Built on first access (from the region's columns before and after the
        update, kept in this object), so an update whose caller reads only the rows pays
        nothing for them.
    people : mapping of name to PersonResult or None
        The same for people (``None``: the person owns nothing any more, or owns an item with
        an error).
    kr_rows, objective_rows, person_rows : ndarray of int64
        The rows (of :meth:`LiveOrganisation.result`) whose result columns changed, ascending:
        what a product that stores the result columns writes back.  (An edit can change a
        result object without changing a column, e.g. a key result's ``weight``: it is then
        in ``key_results`` only.)
    """

    def __init__(self, kr_rows: I64, objective_rows: I64, person_rows: I64,
                 people: Mapping[str, PersonResult | None],
                 before: Callable[[], tuple[dict[str, Any], dict[str, Any]]],
                 after: Callable[[], tuple[dict[str, Any], dict[str, Any]]],
                 errors_touched: bool = True) -> None:
        self._errors_touched = errors_touched
        self.kr_rows = kr_rows
        self.objective_rows = objective_rows
        self.person_rows = person_rows
        self.people = people
        self._before: Callable[[], tuple[dict[str, Any], dict[str, Any]]] | None = before
        self._after_of = after
        self._after: tuple[dict[str, Any], dict[str, Any]] | None = None
        self._objects: tuple[dict[str, Any], dict[str, Any]] | None = None

    def _region_after(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Every result object of the region after the update (changed or not)."""
        if self._after is None:
            self._after = self._after_of()
        return self._after

    def _built(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self._objects is None:
            assert self._before is not None
            before, after = self._before(), self._region_after()
            self._objects = (_changed(before[0], after[0]), _changed(before[1], after[1]))
            self._before = None  # (its columns can go)
        return self._objects

    @property
    def key_results(self) -> Mapping[str, KeyResultResult | None]:
        """The changed key results' results, by id (see the class)."""
        built: Mapping[str, KeyResultResult | None] = self._built()[0]
        return built

    @property
    def objectives(self) -> Mapping[str, ObjectiveResult | None]:
        """The changed objectives' results, by id (see the class)."""
        built: Mapping[str, ObjectiveResult | None] = self._built()[1]
        return built

    def __bool__(self) -> bool:
        """True when any result changed."""
        return bool(self.kr_rows.shape[0] or self.objective_rows.shape[0]
                    or self.person_rows.shape[0] or self.people
                    or self.key_results or self.objectives)

    def __repr__(self) -> str:
        return (f"Changes(kr_rows={self.kr_rows.tolist()}, "
                f"objective_rows={self.objective_rows.tolist()}, "
                f"person_rows={self.person_rows.tolist()})")


@attrs.define(eq=False)
class _Region:
    """The part of the organisation one update re-evaluates (rows of the whole frame)."""

    own: I64
    """The objectives re-evaluated: the changed ones and all their ancestors, ascending."""
    members: I64
    """``own`` and their direct children (which take part with their known results)."""
    own_local: I64
    """The positions of ``own`` in ``members``."""
    krs: I64
    """The key result rows of ``own``, ascending."""

    def kr_local(self, row: int) -> int:
        return int(np.searchsorted(self.krs, row))

    def obj_local(self, row: int) -> int:
        return int(np.searchsorted(self.members, row))


@attrs.define(eq=False)
class _Edit:
    """The input changes of one update (rows of the whole frame), applied only on success."""

    kr: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    obj: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    logs: dict[int, tuple[I64, F64]] = attrs.field(factory=dict)
    owners: dict[int, I32] = attrs.field(factory=dict)
    kr_models: dict[int, Any] = attrs.field(factory=dict)
    obj_models: dict[int, Any] = attrs.field(factory=dict)
    new_people: list[str] = attrs.field(factory=list)
    new_units: list[str] = attrs.field(factory=list)
    validate_krs: tuple[int, ...] = ()
    validate_objs: tuple[int, ...] = ()
    fields: tuple[str, ...] = ()


class LiveOrganisation:
    r"""An organisation in memory that applies check-ins and edits incrementally.

    Build it with :meth:`from_document` (a :class:`~okrcore.Document`: edits go through the
    model's validation, :meth:`document` returns the changed document) or from columns
    (``LiveOrganisation(frame, as_of, policy)``: edits set columns).  It is evaluated once in
    full; every update then re-evaluates only the part it reaches and returns a
    :class:`Changes`.

    Parameters
    ----------
    frame : OrgFrame
        The organisation in columns (copied: later changes never touch the caller's arrays).
    as_of : datetime or int
        The instant of evaluation (timezone-aware, or [µs since the Unix epoch]).
    policy : Policy, optional
        Default: the ``betterworks`` preset.
    kernel : {"numpy", "numba"}
        The batch kernel of the evaluations (as for :func:`~okrcore.batch.evaluate_frame`).

    Raises
    ------
    ValueError
        An unknown kernel.

    Notes
    -----
    One update re-evaluates the region :math:`R = A \cup C(A)`: :math:`A` the changed
    objectives (a key result's objective) and all their ancestors, :math:`C(A)` their direct
    children, which enter their parents' rollups with their known results (pinned).  Key
    results re-evaluated: those of :math:`A`.  People re-evaluated: the owners of :math:`A`
    and of its key results (and old owners of a changed ownership), each by the engine's
    rule :math:`\bar p = \sum_i p_i / \sum_i 1` over their items in document order.  The cost
    is :math:`O(|R| + |K(A)| + \text{their check-ins} + \text{the people's items})`.
    """

    def __init__(self, frame: OrgFrame, as_of: datetime | int, policy: Policy | None = None, *,
                 kernel: str = "numpy") -> None:
        self._backend = pipeline.backend_for(kernel)
        self._kernel = kernel
        self._as_of = instant_us(as_of) if isinstance(as_of, datetime) else int(as_of)
        self._policy = policy or Policy()
        self._document: Document | None = None
        self._obj_models: list[Any] = []
        self._kr_models: list[Any] = []
        self._follows: npt.NDArray[np.bool_] = np.zeros(frame.n_kr, dtype=bool)
        self._load(frame)

    @classmethod
    def from_document(cls, document: Document, *, kernel: str = "numpy") -> LiveOrganisation:
        """An organisation from a document, at its ``as_of`` and with its policy.

        Parameters
        ----------
        document : Document
            The organisation (items that could not be read keep their errors).
        kernel : {"numpy", "numba"}
            As for the constructor.

        Returns
        -------
        LiveOrganisation
            Evaluated in full; :meth:`evaluation` equals ``okrcore.evaluate(document)``.
        """
        live = cls.__new__(cls)
        live._backend = pipeline.backend_for(kernel)
        live._kernel = kernel
        live._as_of = instant_us(document.as_of)
        live._policy = document.policy
        live._document = document
        live._obj_models = list(document.objectives)
        live._kr_models = [kr for obj in document.objectives for kr in obj.key_results]
        live._follows = np.fromiter(
            (not isinstance(kr, InvalidKeyResult) and not kr.owners
             for obj in document.objectives for kr in obj.key_results),
            dtype=bool, count=len(live._kr_models))
        live._load(OrgFrame.from_document(document))
        return live

    # --- state ------------------------------------------------------------------------------
    def _load(self, frame: OrgFrame) -> None:
        """Copy the frame's columns, build the indexes and evaluate once in full."""
        self._cols: dict[str, Any] = {name: np.array(getattr(frame, name), copy=True)
                                      for name in (*_KR_INPUTS, *_OBJ_INPUTS)}
        self._log_at = np.array(frame.log_at, copy=True)
        self._log_value = np.array(frame.log_value, copy=True)
        self._log_start = np.searchsorted(frame.log_kr, np.arange(frame.n_kr + 1)).astype(np.int64)
        self._log_over: dict[int, tuple[I64, F64]] = {}
        self._own_off = np.array(frame.kr_owner_offsets, copy=True)
        self._own_ids = np.array(frame.kr_owner_ids, copy=True)
        self._own_over: dict[int, I32] = {}
        self._validated = frame.validated
        self._load_errors = dict(frame.load_errors)
        n, m = frame.n_kr, frame.n_obj
        self._n, self._m = n, m
        self._kr_ids = list(frame.kr_ids) if frame.kr_ids is not None else [
            f"k{i}" for i in range(n)]
        self._obj_ids = list(frame.obj_ids) if frame.obj_ids is not None else [
            f"o{i}" for i in range(m)]
        result = pipeline.evaluate(frame, self._as_of, self._policy, self._backend)
        n_people = result.person_progress.shape[0]
        self._people = list(frame.person_names) if frame.person_names is not None else [
            f"p{i}" for i in range(n_people)]
        self._units = list(frame.unit_names) if frame.unit_names is not None else None
        self._parent_names = (list(frame.obj_parent_names)
                              if frame.obj_parent_names is not None else None)
        self._kr_row = _first_rows(self._kr_ids)
        self._obj_row = _first_rows(self._obj_ids)
        self._person_code = {name: i for i, name in enumerate(self._people)}
        self._unit_code = {name: i for i, name in enumerate(self._units or ())}
        counts = np.bincount(frame.kr_objective, minlength=m).astype(np.int64)
        self._kr_first = np.cumsum(counts) - counts
        self._kr_count = counts
        parent = frame.obj_parent
        kids = np.flatnonzero(parent >= 0)
        order = np.argsort(parent[kids], kind="stable")
        self._child_rows = kids[order]
        self._child_off = np.searchsorted(parent[self._child_rows],
                                          np.arange(m + 1)).astype(np.int64)
        who, _, _, ref = person_items(frame, np.zeros(m, np.uint8), np.zeros(m),
                                      np.zeros(n, np.uint8), np.zeros(n))
        order = np.argsort(who, kind="stable")
        self._person_refs = ref[order]
        self._person_off = np.searchsorted(who[order], np.arange(n_people + 1)).astype(np.int64)
        self._person_over: dict[int, I64] = {}
        self._result = result
        self._evaluation: Evaluation | None = None
        self._pending: list[Changes] = []

    @property
    def as_of(self) -> int:
        """The instant of evaluation [µs since the Unix epoch]."""
        return self._as_of

    @property
    def policy(self) -> Policy:
        """The evaluation policy."""
        return self._policy

    @property
    def has_document(self) -> bool:
        """Whether the organisation was built from a document (then :meth:`document` works)."""
        return self._document is not None

    def _log(self, row: int) -> tuple[I64, F64]:
        over = self._log_over.get(row)
        if over is not None:
            return over
        lo, hi = int(self._log_start[row]), int(self._log_start[row + 1])
        return self._log_at[lo:hi], self._log_value[lo:hi]

    def _owners(self, row: int) -> I32:
        over = self._own_over.get(row)
        if over is not None:
            return over
        return self._own_ids[int(self._own_off[row]):int(self._own_off[row + 1])]

    def _items(self, person: int) -> I64:
        over = self._person_over.get(person)
        if over is not None:
            return over
        if person + 1 >= self._person_off.shape[0]:
            return np.zeros(0, np.int64)
        return self._person_refs[int(self._person_off[person]):int(self._person_off[person + 1])]

    def frame(self) -> OrgFrame:
        """The organisation as it is now, in columns (a copy).

        Returns
        -------
        OrgFrame
            ``evaluate_frame(live.frame(), live.as_of, live.policy)`` equals :meth:`result`.
        """
        self._compact()
        cols = {name: value.copy() for name, value in self._cols.items()}
        return OrgFrame(
            **cols,
            log_kr=np.repeat(np.arange(self._n, dtype=np.int64), np.diff(self._log_start)),
            log_at=self._log_at.copy(), log_value=self._log_value.copy(),
            kr_owner_offsets=self._own_off.copy(), kr_owner_ids=self._own_ids.copy(),
            kr_ids=list(self._kr_ids), obj_ids=list(self._obj_ids),
            person_names=list(self._people),
            unit_names=None if self._units is None else list(self._units),
            obj_parent_names=None if self._parent_names is None else list(self._parent_names),
            load_errors=dict(self._load_errors), validated=self._validated,
        )

    def _compact(self) -> None:
        """Fold the per key result overrides of logs and owners back into the flat columns."""
        if self._log_over:
            self._log_at, self._log_value, self._log_start = _fold(
                self._log_over, self._log_start, (self._log_at, self._log_value))
            self._log_over = {}
        if self._own_over:
            (self._own_ids,), self._own_off = _fold2(self._own_over, self._own_off,
                                                     self._own_ids)
            self._own_over = {}

    def result(self) -> BatchResult:
        """The result columns as they are now (a copy).

        Returns
        -------
        BatchResult
            Equal, column by column, to a full :func:`~okrcore.batch.evaluate_frame` of
            :meth:`frame`.
        """
        return attrs.evolve(self._result, **{
            f.name: getattr(self._result, f.name).copy() for f in attrs.fields(BatchResult)
            if isinstance(getattr(self._result, f.name), np.ndarray)})

    def evaluation(self) -> Evaluation:
        """The whole evaluation as it is now (kept until the next change).

        Returns
        -------
        Evaluation
            ``to_evaluation(frame(), result())``; for an organisation from a document it equals
            ``okrcore.evaluate(live.document())``.  The first call builds it from the kept
            result columns (one pass over the rows, nothing evaluated again); later calls patch
            it with the changed results of the updates since (a copy of its maps), unless an
            update touched an item with an error or made an item appear or disappear: then it
            is built again.
        """
        if self._evaluation is not None and self._pending:
            self._evaluation = _patched(self._evaluation, self._pending)
            self._pending = []
        if self._evaluation is None:
            self._compact()
            evaluation = to_evaluation(self._frame_view(), self._result)
            if self._document is not None:  # people in the order the document names them
                evaluation = attrs.evolve(evaluation, people={
                    name: evaluation.people[name] for name in self._named_people()
                    if name in evaluation.people})
            if self._document is not None and self._document.warnings:
                evaluation = attrs.evolve(evaluation, warnings=self._document.warnings)
            self._evaluation = evaluation
        return self._evaluation

    def _frame_view(self) -> OrgFrame:
        """The whole frame over the live arrays (no copy; overrides folded already)."""
        return OrgFrame(
            **self._cols,
            log_kr=np.repeat(np.arange(self._n, dtype=np.int64), np.diff(self._log_start)),
            log_at=self._log_at, log_value=self._log_value,
            kr_owner_offsets=self._own_off, kr_owner_ids=self._own_ids,
            kr_ids=self._kr_ids, obj_ids=self._obj_ids, person_names=self._people,
            unit_names=self._units, obj_parent_names=self._parent_names,
            load_errors=self._load_errors, validated=self._validated)

    def key_result(self, kr_id: str) -> KeyResultResult | None:
        """One key result's current result, without building the whole evaluation.

        Parameters
        ----------
        kr_id : str
            The key result's id.

        Returns
        -------
        KeyResultResult or None
            As :meth:`evaluation` holds it (``None``: the key result has an error).  Built
            from its objective's kept columns: the cost does not grow with the organisation.

        Raises
        ------
        KeyError
            (:class:`okrcore.errors.UnknownItemError`) no key result has that id.
        """
        row = self._kr(kr_id)
        objective = int(self._cols["kr_objective"][row])
        return self._shown([objective])[0].get(self._kr_ids[row])

    def objective(self, obj_id: str) -> ObjectiveResult | None:
        """One objective's current result, without building the whole evaluation.

        Parameters
        ----------
        obj_id : str
            The objective's id.

        Returns
        -------
        ObjectiveResult or None
            As :meth:`evaluation` holds it (``None``: the objective has an error).  Built from
            its own, its key results' and its children's kept columns.

        Raises
        ------
        KeyError
            (:class:`okrcore.errors.UnknownItemError`) no objective has that id.
        """
        row = self._obj(obj_id)
        return self._shown([row])[1].get(self._obj_ids[row])

    def person(self, name: str) -> PersonResult | None:
        """One person's current result, without building the whole evaluation.

        Parameters
        ----------
        name : str
            The person's name.

        Returns
        -------
        PersonResult or None
            As :meth:`evaluation` holds it (``None``: the person owns nothing, or an item with
            an error).

        Raises
        ------
        KeyError
            (:class:`okrcore.errors.UnknownItemError`) nobody of that name owns anything here.
        """
        code = self._person_code.get(name) if isinstance(name, str) else None
        if code is None:
            raise E.UnknownItemError(f"no person has the name {name!r}")
        return self._person_result(code)

    def _shown(self, objectives: list[int]
               ) -> tuple[dict[str, KeyResultResult], dict[str, ObjectiveResult]]:
        """The result objects of ``objectives`` and their key results, from the kept columns."""
        own = np.asarray(objectives, dtype=np.int64)
        kids = self._child_rows[_ranges(self._child_off[own], self._child_off[own + 1])]
        members = np.union1d(own, kids).astype(np.int64)
        first, count = self._kr_first[own], self._kr_count[own]
        region = _Region(own, members, np.searchsorted(members, own).astype(np.int64),
                         _ranges(first, first + count))
        sub, _ = self._sub(region, None)
        return _present(region, {self._obj_ids[i] for i in objectives}, sub,
                        self._sliced(region, sub))

    def _named_people(self) -> list[str]:
        """The people in the order the document names them (as ``OrgFrame.from_document``)."""
        names: dict[str, None] = {}
        for obj in self._obj_models:
            if obj.owner is not None:
                names.setdefault(obj.owner)
            default = (obj.owner,) if obj.owner else ()
            for kr in obj.key_results:
                for name in kr.owners or default:
                    names.setdefault(name)
        return list(names)

    def document(self) -> Document:
        """The changed document (an organisation built with :meth:`from_document` only).

        Raises
        ------
        ValueError
            For an organisation built from columns.
        """
        if self._document is None:
            raise ValueError("this organisation was built from columns; use frame()")
        return attrs.evolve(self._document, objectives=tuple(self._obj_models))

    # --- the public updates -----------------------------------------------------------------
    def check_in(self, kr_id: str, at: datetime | int, value: float | bool) -> Changes:
        r"""Record a check-in of a key result and return what changed.

        Parameters
        ----------
        kr_id : str
            The key result's id.
        at : datetime or int
            When the value was recorded (timezone-aware, or [µs since the Unix epoch] on an
            organisation built from columns).
        value : float or bool
            The value [the key result's unit]; done (``True``/``False``) for a binary or simple
            milestone, stages done for a staged one.

        Returns
        -------
        Changes
            The results that changed (none when ``at`` is after ``as_of``, except the log).

        Raises
        ------
        KeyError
            (:class:`okrcore.errors.UnknownItemError`) no key result has that id.
        OkrValueError
            A bad ``at`` or ``value`` (naming it), or a key result that takes no check-ins
            (an explicit ``current``: ``conflicting_current``; a checkpoint milestone).  The
            organisation is then unchanged.

        Notes
        -----
        As SEMANTICS §6: the key result's value at ``as_of`` is its latest check-in with
        :math:`at \le as\_of` (a later entry wins a tie, so this check-in wins over an
        earlier one at the same instant).
        """
        row = self._kr(kr_id)
        edit = _Edit(validate_krs=(row,), fields=("check_ins",))
        if self._document is not None:
            model = self._kr_model(row, kr_id)
            if not isinstance(at, datetime):
                C.check_instant(None, _Named("at"), at)
            entry = _build(CheckIn, at=at, value=value)
            new = _evolve(model, check_ins=(*(model.check_ins or ()), entry))
            self._encode_kr(row, new, edit)
        else:
            at_us = _instant_field("at", at)
            number = _number("value", value)
            ats, values = self._log(row)
            where = bisect.bisect_right(ats.tolist(), at_us)
            edit.logs[row] = (np.insert(ats, where, at_us).astype(np.int64),
                              np.insert(values, where, number).astype(np.float64))
            edit.kr[row] = {"kr_has_log": True}
        return self._apply(edit, [row], [])

    def edit_key_result(self, kr_id: str, **fields: Any) -> Changes:
        """Change fields of a key result and return what changed.

        Parameters
        ----------
        kr_id : str
            The key result's id.
        **fields
            From a document: any field of the key result's model class except ``id`` (for a
            :class:`~okrcore.Metric`: ``target``, ``start``, ``current``, ``unit``, ``range``,
            ``check_ins``, ``weight``, ``owners``, ``due``, ``name``...).  From columns:
            ``start``, ``target``, ``current``, ``weight``, ``due``, ``red_low``,
            ``yellow_low``, ``yellow_high``, ``red_high`` [the key result's unit; instants as
            for :meth:`check_in`; ``None`` clears an optional one] and ``owners`` (names).

        Returns
        -------
        Changes
            The results that changed.

        Raises
        ------
        KeyError
            (:class:`okrcore.errors.UnknownItemError`) no key result has that id.
        OkrValueError
            An unknown field, or a value the model (from a document) or the engine's row
            validation (from columns) refuses, naming the field and value.  The organisation
            is then unchanged.
        """
        row = self._kr(kr_id)
        edit = _Edit(validate_krs=(row,), fields=tuple(fields))
        extra: list[int] = []
        if self._document is not None:
            model = self._kr_model(row, kr_id)
            allowed = {f.name for f in attrs.fields(type(model))} - {"id"}
            _known(fields, allowed, "key result")
            self._encode_kr(row, _evolve(model, **fields), edit)
        else:
            _known(fields, set(_FRAME_KR_FIELDS), "key result")
            values: dict[str, Any] = {}
            for name, value in fields.items():
                if name == "owners":
                    edit.owners[row] = self._person_codes(value, edit, "owners")
                elif name == "due":
                    values["kr_due"] = (NONE_INSTANT if value is None
                                        else _instant_field(name, value))
                elif name == "weight":
                    values["kr_weight"] = _weight(value)
                elif value is None and name in _NULLABLE:
                    values[_FRAME_KR_FIELDS[name]] = np.nan
                else:
                    values[_FRAME_KR_FIELDS[name]] = _number(name, value)
            edit.kr[row] = values
        if row in edit.owners:
            extra = self._owners(row).tolist()
        return self._apply(edit, [row], [], extra)

    def edit_objective(self, obj_id: str, **fields: Any) -> Changes:
        """Change fields of an objective and return what changed.

        Parameters
        ----------
        obj_id : str
            The objective's id.
        **fields
            From a document: any field of :class:`~okrcore.Objective` except ``id``,
            ``key_results`` and ``parent`` (``weight``, ``start``, ``due``, ``mode``,
            ``ambition``, ``status``, ``include_children``, ``progress_settings``, ``owner``,
            ``name``).  From columns: ``weight``, ``start``, ``due``, ``mode``, ``ambition``,
            ``status``, ``include_children`` and ``owner`` (a name).

        Returns
        -------
        Changes
            The results that changed.

        Raises
        ------
        KeyError
            (:class:`okrcore.errors.UnknownItemError`) no objective has that id.
        OkrValueError
            An unknown field (``parent`` and ``key_results`` change the structure: build a new
            organisation), or a value the model or the engine refuses, naming the field and
            value.  The organisation is then unchanged.
        """
        row = self._obj(obj_id)
        edit = _Edit(validate_objs=(row,), fields=tuple(fields))
        old_owner = int(self._cols["obj_owner"][row])
        if self._document is not None:
            model = self._obj_models[row]
            if isinstance(model, InvalidObjective):
                raise E.OkrValueError(E.INVALID_VALUE, "id",
                                      f"objective {obj_id!r} could not be read; fix it in the "
                                      "document and build the organisation again", obj_id)
            allowed = {f.name for f in attrs.fields(Objective)} - {"id", "key_results", "parent"}
            _known(fields, allowed, "objective")
            new = _evolve(model, **fields)
            edit.obj_models[row] = new
            edit.obj[row] = self._objective_columns(new, edit)
            if new.owner != model.owner:
                owner = edit.obj[row]["obj_owner"]
                first, count = int(self._kr_first[row]), int(self._kr_count[row])
                for r in range(first, first + count):
                    if self._follows[r]:
                        edit.owners[r] = np.array([] if owner < 0 else [owner], np.int32)
        else:
            _known(fields, set(_FRAME_OBJ_FIELDS), "objective")
            values: dict[str, Any] = {}
            for name, value in fields.items():
                column = _FRAME_OBJ_FIELDS[name]
                if name in ("start", "due"):
                    values[column] = (NONE_INSTANT if value is None
                                      else _instant_field(name, value))
                elif name == "weight":
                    values[column] = _weight(value)
                elif name == "owner":
                    values[column] = (-1 if value is None
                                      else int(self._person_codes([value], edit, "owner")[0]))
                elif name == "include_children":
                    if not isinstance(value, bool):
                        raise E.OkrValueError(E.WRONG_TYPE, name,
                                              f"{name} must be true or false, got {value!r}",
                                              value)
                    values[column] = value
                else:
                    codes = {"mode": MODE_CODES, "ambition": AMBITION_CODES,
                             "status": STATUS_CODES}[name]
                    if value is None and name == "status":
                        values[column] = STATUS_NONE
                    elif not isinstance(value, str) or value not in codes:
                        raise E.OkrValueError(
                            E.UNKNOWN_FIELD_VALUE, name,
                            f"{name} must be one of {', '.join(codes)}, got {value!r}", value)
                    else:
                        values[column] = codes[value]
            edit.obj[row] = values
        extra = [old_owner] if old_owner >= 0 else []
        for r in edit.owners:
            extra.extend(self._owners(r).tolist())
        return self._apply(edit, [], [row], extra)

    # --- lookups and encodings ----------------------------------------------------------------
    def _kr(self, kr_id: str) -> int:
        row = self._kr_row.get(kr_id) if isinstance(kr_id, str) else None
        if row is None:
            raise E.UnknownItemError(f"no key result has the id {kr_id!r}")
        return row

    def _obj(self, obj_id: str) -> int:
        row = self._obj_row.get(obj_id) if isinstance(obj_id, str) else None
        if row is None:
            raise E.UnknownItemError(f"no objective has the id {obj_id!r}")
        return row

    def _kr_model(self, row: int, kr_id: str) -> KeyResult:
        model = self._kr_models[row]
        if isinstance(model, InvalidKeyResult):
            raise E.OkrValueError(E.INVALID_VALUE, "id",
                                  f"key result {kr_id!r} could not be read; fix it in the "
                                  "document and build the organisation again", kr_id)
        result: KeyResult = model
        return result

    def _person_codes(self, names: Any, edit: _Edit, field: str) -> I32:
        """The person codes of owner names (new names get new codes in ``edit``)."""
        if isinstance(names, str) or not isinstance(names, (list, tuple)):
            raise E.OkrValueError(E.WRONG_TYPE, field,
                                  f"{field} must be a list of names, got {names!r}", names)
        codes = []
        for name in names:
            if not isinstance(name, str) or not name:
                raise E.OkrValueError(E.WRONG_TYPE, field,
                                      f"{field} must hold non-empty names, got {name!r}", name)
            code = self._person_code.get(name)
            if code is None:
                if name not in edit.new_people:
                    edit.new_people.append(name)
                code = len(self._people) + edit.new_people.index(name)
            codes.append(code)
        return np.asarray(codes, dtype=np.int32)

    def _unit(self, name: str, edit: _Edit) -> int:
        if name == "":
            return -1
        code = self._unit_code.get(name)
        if code is not None:
            return code
        if name not in edit.new_units:
            edit.new_units.append(name)
        return len(self._unit_code) + edit.new_units.index(name)

    def _encode_kr(self, row: int, new: KeyResult, edit: _Edit) -> None:
        """The frame columns, log and owners of a changed model key result, into ``edit``."""
        enc = kinds.kind_of(new).encode(new, lambda name: self._unit(name, edit))
        lo, ylo, yhi, hi = enc.bounds
        edit.kr[row] = {
            "kr_kind": enc.kind, "kr_start": enc.start, "kr_target": enc.target,
            "kr_current": enc.current, "kr_unit": enc.unit, "kr_range_mode": enc.range_mode,
            "kr_red_low": lo, "kr_yellow_low": ylo, "kr_yellow_high": yhi, "kr_red_high": hi,
            "kr_weight": float(new.weight),
            "kr_due": NONE_INSTANT if new.due is None else instant_us(new.due),
            "kr_has_log": new.check_ins is not None}
        entries = new.check_ins or ()
        ats = np.fromiter((instant_us(c.at) for c in entries), np.int64, count=len(entries))
        values = np.fromiter((float(c.value) for c in entries), np.float64, count=len(entries))
        order = np.argsort(ats, kind="stable")
        edit.logs[row] = (ats[order], values[order])
        edit.kr_models[row] = new
        old = self._kr_models[row]
        if new.owners != old.owners:
            names = new.owners or self._default_owner(row)
            edit.owners[row] = self._person_codes(list(names), edit, "owners")

    def _default_owner(self, row: int) -> tuple[str, ...]:
        owner = self._obj_models[int(self._cols["kr_objective"][row])].owner
        return (owner,) if owner else ()

    def _objective_columns(self, o: Objective, edit: _Edit) -> dict[str, Any]:
        """The frame columns of a model objective (as :meth:`OrgFrame.from_document` writes)."""
        settings = o.progress_settings
        nan = float("nan")
        owner = -1 if o.owner is None else int(self._person_codes([o.owner], edit, "owner")[0])
        return {
            "obj_weight": float(o.weight),
            "obj_start": NONE_INSTANT if o.start is None else instant_us(o.start),
            "obj_due": NONE_INSTANT if o.due is None else instant_us(o.due),
            "obj_mode": MODE_CODES[o.mode],
            "obj_ambition": AMBITION_CODES[o.ambition],
            "obj_status": STATUS_NONE if o.status is None else STATUS_CODES[o.status],
            "obj_include_children": bool(o.include_children),
            "obj_owner": owner,
            "obj_ps_unit": -1 if settings is None else self._unit(settings.unit, edit),
            "obj_ps_target": (nan if settings is None or settings.target is None
                              else float(settings.target)),
            "obj_ps_auto": False if settings is None else bool(settings.auto),
            "obj_ps_start": (nan if settings is None or settings.start is None
                             else float(settings.start)),
        }

    # --- the update -------------------------------------------------------------------------
    def _region(self, krs: Iterable[int], objs: Iterable[int]) -> _Region:
        kr_objective, parent = self._cols["kr_objective"], self._cols["obj_parent"]
        seen: set[int] = set()
        for start in [*(int(kr_objective[r]) for r in krs), *objs]:
            o = start
            while o >= 0 and o not in seen:
                seen.add(o)
                o = int(parent[o])
        own = np.fromiter(sorted(seen), np.int64, count=len(seen))
        lo, hi = self._child_off[own], self._child_off[own + 1]
        kids = self._child_rows[_ranges(lo, hi)]
        members = np.union1d(own, kids).astype(np.int64)
        own_local = np.searchsorted(members, own).astype(np.int64)
        first, count = self._kr_first[own], self._kr_count[own]
        return _Region(own, members, own_local, first[0:0] if not own.shape[0] else
                       _ranges(first, first + count))

    def _sub(self, region: _Region, edit: _Edit | None) -> tuple[OrgFrame, list[str]]:
        """The region as a frame of its own (with ``edit`` applied), and its people's names."""
        krs, members = region.krs, region.members
        cols: dict[str, Any] = {}
        for name in _KR_INPUTS:
            cols[name] = self._cols[name][krs]
        for name in _OBJ_INPUTS:
            cols[name] = self._cols[name][members]
        units = self._units
        if edit is not None and edit.new_units:
            units = [*(units or []), *edit.new_units]
        if edit is not None:
            for row, values in edit.kr.items():
                local = region.kr_local(row)
                for name, value in values.items():
                    cols[name][local] = value
            for row, values in edit.obj.items():
                local = region.obj_local(row)
                for name, value in values.items():
                    cols[name][local] = value
        cols["kr_objective"] = np.searchsorted(members, cols["kr_objective"]).astype(np.int64)
        parent = cols["obj_parent"]
        parent_names = (
            [self._parent_names[i] for i in members.tolist()] if self._parent_names is not None
            else [self._obj_ids[p] if p >= 0 else None for p in parent.tolist()])
        inside = np.flatnonzero(parent >= 0)
        local = np.searchsorted(members, parent[inside])
        found = members[np.minimum(local, members.shape[0] - 1)] == parent[inside]
        # (a parent outside the region: only when one objective is shown, never evaluated)
        parent[inside] = np.where(found, local, -1)
        # check-in logs and owners of the region's key results
        logs = edit.logs if edit is not None else {}
        owners = edit.owners if edit is not None else {}
        krs_l = krs.tolist()
        log_parts = [logs[r] if r in logs else self._log(r) for r in krs_l]
        own_parts = [owners[r] if r in owners else self._owners(r) for r in krs_l]
        log_counts = np.fromiter((len(p[0]) for p in log_parts), np.int64, count=len(krs_l))
        own_counts = np.fromiter((len(p) for p in own_parts), np.int64, count=len(krs_l))
        n_sub = len(krs_l)
        person_codes = np.concatenate([cols["obj_owner"].astype(np.int64),
                                       *(p.astype(np.int64) for p in own_parts)])
        codes, inverse = np.unique(person_codes, return_inverse=True)
        m_sub = members.shape[0]
        cols["obj_owner"] = inverse[:m_sub].astype(np.int32)
        valid = codes >= 0
        shift = int((~valid).sum())  # -1 (no owner) sorts first
        cols["obj_owner"] = np.where(cols["obj_owner"] >= shift, cols["obj_owner"] - shift,
                                     -1).astype(np.int32)
        known = len(self._people)
        names = [self._people[c] if c < known else edit.new_people[c - known]  # type: ignore[union-attr]
                 for c in codes[valid].tolist()]
        owner_ids = (inverse[m_sub:] - shift).astype(np.int32)
        frame = OrgFrame(
            **cols,
            log_kr=np.repeat(np.arange(n_sub, dtype=np.int64), log_counts),
            log_at=(np.concatenate([p[0] for p in log_parts]).astype(np.int64)
                    if log_parts else np.zeros(0, np.int64)),
            log_value=(np.concatenate([p[1] for p in log_parts]).astype(np.float64)
                       if log_parts else np.zeros(0, np.float64)),
            kr_owner_offsets=np.concatenate([[0], np.cumsum(own_counts)]).astype(np.int64),
            kr_owner_ids=owner_ids,
            kr_ids=[self._kr_ids[r] for r in krs_l],
            obj_ids=[self._obj_ids[i] for i in members.tolist()],
            person_names=names, unit_names=units,
            obj_parent_names=parent_names, validated=self._validated)
        return frame, names

    def _pinned(self, region: _Region) -> Pinned:
        res, members = self._result, region.members
        mask = np.ones(members.shape[0], dtype=bool)
        mask[region.own_local] = False
        return Pinned(mask=mask, error=res.obj_error[members], progress=res.obj_progress[members],
                      previous=res.obj_previous[members],
                      forecast=res.obj_forecast_progress[members],
                      history=res.obj_has_history[members])

    def _sliced(self, region: _Region, sub: OrgFrame) -> BatchResult:
        """The kept result of the region, in the region's rows (to present it)."""
        res = self._result
        cols: dict[str, Any] = {}
        for name in _KR_RESULTS:
            cols[name] = getattr(res, name)[region.krs]
        for name in (*_OBJ_RESULTS, "obj_error_ref", "obj_in_cycle"):
            cols[name] = getattr(res, name)[region.members]
        cols["kr_error_ref"] = np.full(sub.n_kr, -1, np.int64)
        cols["obj_parent"] = sub.obj_parent.copy()
        ref = cols["obj_error_ref"]
        local = np.full(ref.shape[0], -1, np.int64)
        to_obj = ref >= self._n
        at = np.searchsorted(region.members, ref[to_obj] - self._n)
        local[to_obj] = at + sub.n_kr
        to_kr = (ref >= 0) & ~to_obj
        local[to_kr] = np.searchsorted(region.krs, ref[to_kr])
        cols["obj_error_ref"] = local
        return self._people_free(cols, sub)

    def _people_free(self, cols: dict[str, Any], sub: OrgFrame) -> BatchResult:
        """A region's result without people (they are presented apart).

        Only the region's own objectives are shown, so nothing refers to another row.
        """
        k = len(sub.person_names or ())
        cols["person_progress"] = np.full(k, np.nan)
        cols["person_items"] = np.zeros(k, np.int64)
        cols["person_error_ref"] = np.full(k, -1, np.int64)
        cols["person_seen"] = np.zeros(k, bool)
        return BatchResult(as_of=self._as_of, policy=self._policy, **cols)

    def _apply(self, edit: _Edit, krs: list[int], objs: list[int],
               extra_people: Iterable[int] = ()) -> Changes:
        """Evaluate the region of a change, check it, keep it and return what changed."""
        region = self._region(krs, objs)
        old_sub, _ = self._sub(region, None)
        old_result = self._sliced(region, old_sub)
        sub, _ = self._sub(region, edit)
        part = pipeline.evaluate(sub, self._as_of, self._policy, self._backend,
                                 pinned=self._pinned(region), threads=1)
        self._refuse_invalid(edit, region, part, old_sub)
        owners_changed = bool(edit.owners) or any(
            int(values["obj_owner"]) != int(self._cols["obj_owner"][row])
            for row, values in edit.obj.items() if "obj_owner" in values)
        errors_touched = bool(
            owners_changed  # (people's order in a document is that of first ownership)
            or old_result.kr_error.any() or part.kr_error.any()
            or old_result.obj_error[region.own_local].any()
            or part.obj_error[region.own_local].any())
        new_owners = [int(v["obj_owner"]) for v in edit.obj.values() if "obj_owner" in v]
        for codes in edit.owners.values():
            new_owners.extend(codes.tolist())
        people = self._people_of(region, [*extra_people, *new_owners])
        person_before = {p: self._person_result(p) for p in people}
        self._commit(edit)
        new_result = self._people_free({f.name: getattr(part, f.name)
                                        for f in attrs.fields(BatchResult)
                                        if f.name.startswith(("kr_", "obj_"))}, sub)
        own_ids = {self._obj_ids[i] for i in region.own.tolist()}

        def before() -> tuple[dict[str, Any], dict[str, Any]]:
            return _present(region, own_ids, old_sub, old_result)

        def after() -> tuple[dict[str, Any], dict[str, Any]]:
            return _present(region, own_ids, sub, new_result)

        kr_rows, obj_rows = self._scatter(region, part)
        known = [p for p in people if p < self._result.person_error_ref.shape[0]]
        errors_touched = errors_touched or bool(np.any(self._result.person_error_ref[known] >= 0))
        person_rows = self._rollup_people(people)
        errors_touched = errors_touched or bool(np.any(self._result.person_error_ref[people] >= 0))
        changed_people: dict[str, PersonResult | None] = {}
        for p in people:
            now = self._person_result(p)
            if repr(now) != repr(person_before[p]):
                changed_people[self._people[p]] = now
        changes = Changes(kr_rows, obj_rows, person_rows, changed_people, before, after,
                          errors_touched)
        if self._evaluation is not None:
            self._pending.append(changes)
            if len(self._pending) > _MAX_PENDING:
                self._evaluation, self._pending = None, []
        return changes

    def _refuse_invalid(self, edit: _Edit, region: _Region, part: BatchResult,
                        old_sub: OrgFrame) -> None:
        """Refuse an edit of columns that makes its row invalid (the engine's row check)."""
        if self._validated:
            return
        for row in edit.validate_krs:
            local = region.kr_local(row)
            code = int(part.kr_error[local])
            if code in _FIELD_ERRORS and code != int(self._result.kr_error[row]):
                raise self._invalid("key result", self._kr_ids[row], code, edit)
        for row in edit.validate_objs:
            local = region.obj_local(row)
            code = int(part.obj_error[local])
            if code in _FIELD_ERRORS and code != int(self._result.obj_error[row]):
                raise self._invalid("objective", self._obj_ids[row], code, edit)

    @staticmethod
    def _invalid(what: str, ident: str, code: int, edit: _Edit) -> E.OkrValueError:
        values = {**next(iter(edit.kr.values()), {}), **next(iter(edit.obj.values()), {})}
        field = ", ".join(edit.fields) or "value"
        return E.OkrValueError(
            _FIELD_ERRORS[code], field,
            f"{what} {ident!r}: the edit makes the row invalid ({_FIELD_ERRORS[code]}): "
            f"{', '.join(f'{k}={v!r}' for k, v in values.items() if k != 'kr_has_log')}",
            values)

    def _commit(self, edit: _Edit) -> None:
        """Keep the inputs of a checked edit."""
        touched: set[int] = set()
        involved: set[int] = set()
        for row, values in edit.obj.items():
            old = int(self._cols["obj_owner"][row])
            if "obj_owner" in values and int(values["obj_owner"]) != old:
                touched.add(row)
                involved.update((old, int(values["obj_owner"])))
                first, count = int(self._kr_first[row]), int(self._kr_count[row])
                for r in range(first, first + count):
                    involved.update(self._owners(r).tolist())
        for row, new_owners in edit.owners.items():
            touched.add(int(self._cols["kr_objective"][row]))
            involved.update(self._owners(row).tolist())
            involved.update(new_owners.tolist())
        for row, values in edit.kr.items():
            for name, value in values.items():
                self._cols[name][row] = value
        for row, values in edit.obj.items():
            for name, value in values.items():
                self._cols[name][row] = value
        if edit.new_units:
            self._units = [*(self._units or []), *edit.new_units]
            for name in edit.new_units:
                self._unit_code[name] = len(self._unit_code)
        self._log_over.update(edit.logs)
        if edit.new_people:
            self._people.extend(edit.new_people)
            for name in edit.new_people:
                self._person_code[name] = len(self._person_code)
            self._grow_people(len(self._people))
        self._own_over.update(edit.owners)
        if touched:
            self._reassign(touched, involved)
        for row, model in edit.kr_models.items():
            self._kr_models[row] = model
            self._follows[row] = not model.owners
            i = int(self._cols["kr_objective"][row])
            first, count = int(self._kr_first[i]), int(self._kr_count[i])
            obj = edit.obj_models.get(i, self._obj_models[i])
            edit.obj_models[i] = attrs.evolve(
                obj, key_results=tuple(self._kr_models[first:first + count]))
        for row, obj_model in edit.obj_models.items():
            self._obj_models[row] = obj_model

    def _grow_people(self, n_people: int) -> None:
        res = self._result
        extra = n_people - res.person_progress.shape[0]
        self._result = attrs.evolve(
            res,
            person_progress=np.concatenate([res.person_progress, np.full(extra, np.nan)]),
            person_items=np.concatenate([res.person_items, np.zeros(extra, np.int64)]),
            person_error_ref=np.concatenate([res.person_error_ref,
                                             np.full(extra, -1, np.int64)]),
            person_seen=np.concatenate([res.person_seen, np.zeros(extra, bool)]))

    def _reassign(self, objectives: set[int], people: set[int]) -> None:
        """Rebuild the item lists of ``people`` for the items of ``objectives``.

        Called when owners of ``objectives`` or of their key results changed: a person's items
        are the objectives they own and the key results they own on someone else's objective.
        """
        n = self._n
        for p in people:
            if p < 0:
                continue
            items = self._items(p)
            related = np.where(items >= n, items - n,
                               self._cols["kr_objective"][np.where(items >= n, 0, items)]
                               if n else items - n)
            keep = items[~np.isin(related, list(objectives))].tolist()
            for i in sorted(objectives):
                owner = int(self._cols["obj_owner"][i])
                if owner == p:
                    keep.append(n + i)
                    continue
                first, count = int(self._kr_first[i]), int(self._kr_count[i])
                for r in range(first, first + count):
                    keep.extend([r] * int(np.count_nonzero(self._owners(r) == p)))
            self._person_over[p] = self._in_document_order(np.asarray(keep, dtype=np.int64))

    def _in_document_order(self, items: I64) -> I64:
        """Items in document order: an objective, then its key results in row order."""
        is_obj = items >= self._n
        obj = np.empty_like(items)
        obj[is_obj] = items[is_obj] - self._n
        obj[~is_obj] = self._cols["kr_objective"][items[~is_obj]]
        minor = np.where(is_obj, -1, items)
        return items[np.lexsort((minor, obj))].astype(np.int64)

    def _people_of(self, region: _Region, extra: Iterable[int]) -> list[int]:
        owners = self._cols["obj_owner"][region.own]
        people = set(owners[owners >= 0].tolist())
        for r in region.krs.tolist():
            people.update(self._owners(r).tolist())
        people.update(p for p in extra if p >= 0)
        return sorted(people)

    def _rollup_people(self, people: list[int]) -> I64:
        """Re-evaluate ``people`` by the engine's rule; the persons whose columns changed."""
        if not people:
            return np.zeros(0, np.int64)
        res = self._result
        parts = [self._items(p) for p in people]
        refs = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        who = np.repeat(np.arange(len(people), dtype=np.int64),
                        [len(p) for p in parts]).astype(np.int64)
        is_obj = refs >= self._n
        obj_rows = np.where(is_obj, refs - self._n, 0)
        kr_rows = np.where(is_obj, 0, refs)
        bad = np.where(is_obj, res.obj_error[obj_rows] if self._m else False,
                       res.kr_error[kr_rows] if self._n else False) != 0
        prog = np.where(is_obj, res.obj_progress[obj_rows] if self._m else 0.0,
                        res.kr_progress[kr_rows] if self._n else 0.0)
        mean, items, first_bad, seen = person_rollup(who, bad, prog, refs, len(people))
        rows = np.asarray(people, dtype=np.int64)
        changed = np.zeros(len(people), dtype=bool)
        for name, new in zip(_PERSON_RESULTS, (mean, items, first_bad, seen), strict=True):
            column = getattr(res, name)
            changed |= _differs(column[rows], new)
            column[rows] = new
        return rows[changed]

    def _scatter(self, region: _Region, part: BatchResult) -> tuple[I64, I64]:
        """Write the region's new results into the kept columns; the rows that changed."""
        res, krs = self._result, region.krs
        kr_changed = np.zeros(krs.shape[0], dtype=bool)
        for name in _KR_RESULTS:
            column = getattr(res, name)
            new = getattr(part, name)
            kr_changed |= _differs(column[krs], new)
            column[krs] = new
        own, targets = region.own_local, region.own
        obj_changed = np.zeros(targets.shape[0], dtype=bool)
        for name in _OBJ_RESULTS:
            column = getattr(res, name)
            new = getattr(part, name)[own]
            obj_changed |= _differs(column[targets], new)
            column[targets] = new
        ref = part.obj_error_ref[own]
        mapped = np.full(ref.shape[0], -1, dtype=np.int64)
        n_sub = part.kr_error.shape[0]
        to_obj = ref >= n_sub
        to_kr = (ref >= 0) & ~to_obj
        mapped[to_obj] = region.members[ref[to_obj] - n_sub] + self._n
        mapped[to_kr] = krs[ref[to_kr]]
        obj_changed |= res.obj_error_ref[targets] != mapped
        res.obj_error_ref[targets] = mapped
        return krs[kr_changed], targets[obj_changed]

    def _person_result(self, p: int) -> PersonResult | None:
        """Person ``p``'s result object, as :func:`~okrcore.batch.to_evaluation` builds it."""
        res = self._result
        if p >= res.person_seen.shape[0] or not res.person_seen[p] or res.person_error_ref[p] >= 0:
            return None
        items = []
        for ref in self._items(p).tolist():
            if ref >= self._n:
                i = ref - self._n
                if res.obj_error[i] == 0 and not np.isnan(res.obj_progress[i]):
                    items.append(PersonItem("objective", self._obj_ids[i],
                                            float(res.obj_progress[i])))
            elif res.kr_error[ref] == 0:
                items.append(PersonItem("key_result", self._kr_ids[ref],
                                        float(res.kr_progress[ref])))
        progress = float(res.person_progress[p])
        return PersonResult(self._people[p], None if np.isnan(progress) else progress,
                            tuple(items))


# --- helpers ---------------------------------------------------------------------------------
_MAX_PENDING: Final = 256
"""Updates kept to patch the kept evaluation; past that it is built again when asked for."""


def _patched(evaluation: Evaluation, pending: list[Changes]) -> Evaluation | None:
    """``evaluation`` with the results of ``pending``'s regions; None when it must be rebuilt.

    Only results that replace one of the same id are patched (in place in a copy of each map,
    so the document order is kept); errors are never patched (an update that touched an item
    with an error, before or after, or changed an owner, needs a rebuild).
    """
    if any(changes._errors_touched for changes in pending):
        return None
    key_results, objectives = dict(evaluation.key_results), dict(evaluation.objectives)
    people = dict(evaluation.people)
    for changes in pending:
        # (no item of the region has an error before or after: every one has a result in
        # both, so the region's results after the update replace theirs)
        region_krs, region_objectives = changes._region_after()
        pairs: tuple[tuple[dict[str, Any], Mapping[str, Any]], ...] = (
            (key_results, region_krs), (objectives, region_objectives),
            (people, changes.people))
        for target, changed in pairs:
            for ident, result in changed.items():
                if result is None or ident not in target:
                    return None
                target[ident] = result
    return attrs.evolve(evaluation, key_results=key_results, objectives=objectives,
                        people=people)


def _present(region: _Region, own_ids: set[str], sub: OrgFrame, result: BatchResult
             ) -> tuple[dict[str, KeyResultResult], dict[str, ObjectiveResult]]:
    """The result objects of a region's own objectives and their key results."""
    pinned = np.ones(region.members.shape[0], dtype=bool)
    pinned[region.own_local] = False
    error = result.obj_error.copy()
    error[pinned & (error != 0)] = ERR_LOAD  # (never shown: no reference needed)
    evaluation = to_evaluation(sub, attrs.evolve(result, obj_error=error))
    objectives = {k: v for k, v in evaluation.objectives.items() if k in own_ids}
    return dict(evaluation.key_results), objectives


@attrs.frozen
class _NamedField:
    """Stands in for an attrs attribute in the core's validators (they read ``.name``)."""

    name: str


def _Named(name: str) -> attrs.Attribute[Any]:  # noqa: N802
    return cast("attrs.Attribute[Any]", _NamedField(name))


def _first_rows(ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row, ident in enumerate(ids):
        if ident and ident not in out:
            out[ident] = row
    return out


def _ranges(lo: I64, hi: I64) -> I64:
    """The concatenated ranges ``lo[i]:hi[i]``."""
    counts = (hi - lo).astype(np.int64)
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.int64)
    ends = np.cumsum(counts)
    return (np.repeat(lo - (ends - counts), counts) + np.arange(total)).astype(np.int64)


def _differs(old: npt.NDArray[Any], new: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Where two columns differ: bit for bit (-0.0 differs from 0.0), any NaN equal to NaN."""
    if old.dtype.kind != "f":
        diff: npt.NDArray[np.bool_] = old != new
        return diff
    bits: npt.NDArray[np.bool_] = old.view(np.int64) != new.view(np.int64)
    both_nan: npt.NDArray[np.bool_] = np.isnan(old) & np.isnan(new)
    out: npt.NDArray[np.bool_] = bits & ~both_nan
    return out


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The results of ``after`` that differ from ``before`` (None: gone).

    Compared by ``repr``: every float is written exactly, so -0.0 differs from 0.0 (as in the
    result document) and NaN equals NaN.
    """
    out: dict[str, Any] = {}
    for ident, now in after.items():
        if repr(before.get(ident)) != repr(now):
            out[ident] = now
    for ident in before:
        if ident not in after:
            out[ident] = None
    return out


def _fold(over: Mapping[int, tuple[Any, ...]], offsets: I64, columns: tuple[Any, ...]
          ) -> Any:
    """Flat columns with the rows of ``over`` replaced; returns the columns and offsets."""
    n = offsets.shape[0] - 1
    counts = np.diff(offsets)
    rows = sorted(over)
    new_counts = counts.copy()
    for r in rows:
        new_counts[r] = len(over[r][0])
    new_offsets = np.concatenate([[0], np.cumsum(new_counts)]).astype(np.int64)
    out = []
    for k, column in enumerate(columns):
        pieces = []
        prev = 0
        for r in rows:
            pieces.append(column[int(offsets[prev]):int(offsets[r])])
            pieces.append(np.asarray(over[r][k], dtype=column.dtype))
            prev = r + 1
        pieces.append(column[int(offsets[prev]):int(offsets[n])])
        out.append(np.concatenate(pieces).astype(column.dtype))
    return (*out, new_offsets)


def _fold2(over: Mapping[int, Any], offsets: I64, column: Any) -> tuple[tuple[Any], I64]:
    *cols, new_offsets = _fold({r: (v,) for r, v in over.items()}, offsets, (column,))
    return (cols[0],), new_offsets


def _known(fields: Mapping[str, Any], allowed: set[str], what: str) -> None:
    for name in fields:
        if name not in allowed:
            raise E.OkrValueError(
                E.INVALID_VALUE, name,
                f"a {what} has no field {name!r} that can be edited here (fields: "
                f"{', '.join(sorted(allowed))})", fields[name])


def _evolve(model: Any, **fields: Any) -> Any:
    """The model with ``fields`` changed, validated by its class (``OkrValueError``)."""
    return _build(type(model), **{**{f.name: getattr(model, f.name)
                                      for f in attrs.fields(type(model)) if f.init},
                                   **fields})


def _build(cls: Any, **fields: Any) -> Any:
    try:
        return cls(**fields)
    except E.OkrValueError:
        raise
    except (TypeError, ValueError) as error:  # a validator that is not the core's own
        name = next(iter(fields), "value")
        raise E.OkrValueError(E.INVALID_VALUE, name, str(error), fields.get(name)) from None


def _number(field: str, value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    return C.finite_number(field, value)


def _weight(value: object) -> float:
    C.check_non_negative(None, _Named("weight"), value)
    return float(value)  # type: ignore[arg-type]


def _instant_field(field: str, value: object) -> int:
    if isinstance(value, datetime):
        C.check_instant(None, _Named(field), value)
        return instant_us(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise E.OkrValueError(
            E.WRONG_TYPE, field,
            f"{field} must be a timezone-aware datetime or an instant in µs, got {value!r}",
            value)
    if int(value) == NONE_INSTANT:
        raise E.OkrValueError(E.OUT_OF_RANGE, field, f"{field} {value!r} is the null instant",
                              value)
    return int(value)


