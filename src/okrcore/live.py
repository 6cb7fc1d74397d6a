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
organisation (``docs/live.rst`` gives the method and figures).  The index structures and the
evaluation of a region are in the private module ``okrcore._live_index``, the lookups,
encodings and field checks of the edits in ``okrcore._live_edit``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs
import numpy as np

from okrcore import _checks as C
from okrcore import errors as E
from okrcore._live_edit import (
    _FRAME_KR_FIELDS,
    _FRAME_OBJ_FIELDS,
    _NULLABLE,
    _build,
    _evolve,
    _instant_field,
    _known,
    _LiveEdit,
    _Named,
    _number,
    _weight,
)
from okrcore._live_index import I64, _Edit, _ranges, _Region
from okrcore.batch import pipeline
from okrcore.batch._result import BatchResult
from okrcore.batch.convert import to_evaluation
from okrcore.batch.frame import OrgFrame
from okrcore.codes import (
    AMBITION_CODES,
    ERR_LOAD,
    MODE_CODES,
    NONE_INSTANT,
    STATUS_CODES,
    STATUS_NONE,
)
from okrcore.instants import instant_us
from okrcore.model import CheckIn, Document, InvalidKeyResult, InvalidObjective, Objective
from okrcore.policy import Policy
from okrcore.results import Evaluation, KeyResultResult, ObjectiveResult, PersonResult

__all__ = ["Changes", "LiveOrganisation"]


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


class LiveOrganisation(_LiveEdit):
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
        self._obj_models = []
        self._kr_models = []
        self._follows = np.zeros(frame.n_kr, dtype=bool)
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
        super()._load(frame)
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

    # --- the update -------------------------------------------------------------------------------
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

