"""The index structures of :class:`okrcore.live.LiveOrganisation`, and the evaluation of a region.

:class:`_LiveIndex` holds the organisation in columns with its index structures (each
objective's key result rows and children, each key result's check-in log and owners, each
person's items), builds the region one update reaches (:class:`_Region`: the changed objectives
and their ancestors, with their direct children and key results), cuts it out as a frame of its
own, and writes an evaluated region's results back: the result columns, the people's rollups
and their items.  :class:`_Edit` holds the input changes of one update until they are kept.
Private to :mod:`okrcore.live` (``docs/live.rst`` gives the method).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from okrcore.batch import pipeline
from okrcore.batch._people import person_items, person_rollup
from okrcore.batch._result import BatchResult
from okrcore.batch.backend import Backend
from okrcore.batch.frame import OrgFrame
from okrcore.batch.pipeline import Pinned
from okrcore.policy import Policy
from okrcore.results import PersonItem, PersonResult

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


class _LiveIndex:
    """The columns, index structures and region evaluation of a live organisation.

    The base of :class:`okrcore.live.LiveOrganisation`, which sets the instant, the policy, the
    backend and the models before it calls :meth:`_load`.
    """

    _backend: Backend
    _as_of: int
    _policy: Policy
    _obj_models: list[Any]
    _kr_models: list[Any]
    _follows: npt.NDArray[np.bool_]

    # --- state ------------------------------------------------------------------------------------
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

    # --- the update -------------------------------------------------------------------------------
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

    # --- keeping an update ------------------------------------------------------------------------
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

