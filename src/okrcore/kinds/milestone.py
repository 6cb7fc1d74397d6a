"""The milestone kind: simple (done), staged (``stages_total``) or a list of checkpoints.

Its model is :class:`okrcore.model.Milestone` (with :class:`~okrcore.model.Checkpoint`); frame
codes :data:`~okrcore.codes.KIND_MILESTONE` (simple), :data:`~okrcore.codes.KIND_STAGED` and
:data:`~okrcore.codes.KIND_CHECKPOINTS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

import numpy as np
import numpy.typing as npt

from okrcore import _reading as R
from okrcore import errors as E
from okrcore.codes import KIND_CHECKPOINTS, KIND_MILESTONE, KIND_STAGED
from okrcore.kinds._base import (
    Columns,
    EncodedColumns,
    Kind,
    SqlParts,
    Tools,
    check_in_done,
    stored_done,
)
from okrcore.model import CheckIn, Checkpoint, Milestone

__all__ = ["KIND", "MilestoneKind"]

_NAN: Final = float("nan")


class MilestoneKind(Kind):
    """The hooks of the milestone kind."""

    name: ClassVar[str] = "milestone"
    model: ClassVar[type] = Milestone
    code: ClassVar[int] = KIND_MILESTONE
    codes: ClassVar[tuple[int, ...]] = (KIND_MILESTONE, KIND_STAGED, KIND_CHECKPOINTS)
    rules: ClassVar[Mapping[int, str]] = {KIND_MILESTONE: "milestone",
                                          KIND_STAGED: "milestone:stages",
                                          KIND_CHECKPOINTS: "milestone:checkpoints"}
    totals: ClassVar[frozenset[int]] = frozenset({KIND_STAGED, KIND_CHECKPOINTS})
    done_or_not: ClassVar[frozenset[int]] = frozenset({KIND_MILESTONE})
    capability: ClassVar[str | None] = "milestones"
    fields: ClassVar[tuple[str, ...]] = ("done", "stages_total", "stages_done", "checkpoints",
                                          "check_ins")

    def load(self, reader: R.Reader, path: str) -> dict[str, Any]:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.load`."""
        staged = reader.data.get("stages_total") is not None
        checkpoints = None
        listed = reader.get("checkpoints", R.list_)
        if listed is not None:
            checkpoints = []
            for i, item in enumerate(listed):
                sub = R.Reader({}, f"{path}.checkpoints[{i}]", reader.warnings)
                try:
                    sub.data = R.object_(item, "")
                except E.OkrValueError as exc:
                    reader.errors.append(E.OkrError(exc.code, sub.path, exc.message))
                    continue
                sub.warn_unknown(("name", "done"))
                name = sub.get("name", R.string, required=True)
                done = sub.get("done", R.boolean, default=False)
                reader.errors.extend(sub.errors)
                if not sub.errors:
                    checkpoints.append(Checkpoint(name, done))
        return {
            "done": reader.get("done", R.boolean),
            "stages_total": reader.get("stages_total", R.number),
            "stages_done": reader.get("stages_done", R.number),
            "checkpoints": checkpoints,
            "check_ins": R.load_check_ins(reader, "stages_done" if staged else "done"),
        }

    def dump(self, kr: Milestone) -> dict[str, Any]:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.dump`."""
        out: dict[str, Any] = {}
        for key in ("done", "stages_total", "stages_done"):
            if getattr(kr, key) is not None:
                out[key] = getattr(kr, key)
        if kr.checkpoints is not None:
            out["checkpoints"] = [{"name": c.name, "done": c.done} for c in kr.checkpoints]
        return out

    def check_in_key(self, kr: Milestone) -> str:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.check_in_key`."""
        return "done" if kr.stages_total is None else "stages_done"

    def encode_many(self, krs: Sequence[Milestone]) -> EncodedColumns:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.encode_many`."""
        out = EncodedColumns.blank(len(krs), KIND_MILESTONE)
        codes: list[int] = []
        currents: list[float | bool | None] = []
        for kr in krs:
            if kr.checkpoints is not None:
                codes.append(KIND_CHECKPOINTS)
                currents.append(sum(1 for c in kr.checkpoints if c.done))
            elif kr.stages_total is not None:
                codes.append(KIND_STAGED)
                currents.append(kr.stages_done)
            else:
                codes.append(KIND_MILESTONE)
                currents.append(kr.done)
        out.kind = np.array(codes, np.uint8)
        out.target = np.array([kr.total for kr in krs], np.float64)
        out.current = np.array(currents, np.float64)  # None -> NaN
        return out

    def to_row(self, kr: Milestone) -> dict[str, Any]:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.to_row`."""
        row: dict[str, Any] = {"target": float(kr.total)}
        if kr.stages_total is not None:
            row.update(stages_total=int(kr.stages_total),
                       current=None if kr.stages_done is None else float(kr.stages_done))
        elif kr.checkpoints is None:
            row["current"] = None if kr.done is None else float(kr.done)
        return row

    def child_rows(self, kr: Milestone) -> Mapping[str, Sequence[dict[str, Any]]]:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.child_rows`."""
        if kr.checkpoints is None:
            return {}
        return {"checkpoints": [{"kr_id": kr.id, "position": i, "name": point.name,
                                 "done": point.done} for i, point in enumerate(kr.checkpoints)]}

    def from_row(self, row: Mapping[str, Any], history: Sequence[tuple[int, float]] | None,
                 checkpoints: Sequence[tuple[str, bool]] | None,
                 common: dict[str, Any]) -> Milestone:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.from_row`."""
        staged = row.get("stages_total") is not None
        entries = None if history is None else [
            CheckIn(at=R.at_us(at),
                    value=value if staged else check_in_done(value))
            for at, value in history]
        if staged:
            done = row.get("current")
            return Milestone(stages_total=row.get("stages_total"),
                             stages_done=None if done is None else int(done) if done == int(done)
                             else done,
                             check_ins=entries, **common)
        if checkpoints:
            return Milestone(
                checkpoints=[Checkpoint(name=n, done=bool(d)) for n, d in checkpoints],
                check_ins=entries, **common)
        return Milestone(done=stored_done(row.get("current"), "current"), check_ins=entries,
                         **common)

    def columns(self, cols: Columns, rows: npt.NDArray[np.bool_]) -> None:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.columns`."""
        staged = rows & ~np.isnan(cols.stages)
        cols.kind[staged] = KIND_STAGED
        cols.target[staged] = cols.stages[staged]
        simple = rows & ~staged
        cols.target[simple] = 1.0
        listed = simple & (cols.points > 0)
        cols.kind[listed] = KIND_CHECKPOINTS
        cols.target[listed] = cols.points[listed]
        cols.current[listed] = cols.points_done[listed]

    def sql(self, parts: SqlParts) -> list[tuple[str, str]]:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.sql`."""
        c, done = parts.column, parts.done
        return [
            (f"{c('kind')} = 'milestone' AND {c('stages_total')} IS NOT NULL",
             f"{done} / {c('stages_total')}"),
            (f"{c('kind')} = 'milestone' AND {parts.points} > 0",
             f"CAST({parts.points_done} AS DOUBLE PRECISION) / {parts.points}"),
            (f"{c('kind')} = 'milestone'", f"{done} / 1.0"),
        ]

    def strategy(self, tools: Tools, ident: str, capabilities: frozenset[str],
                 due_after: Any = None, **options: Any) -> Any:
        """The milestone kind's :meth:`~okrcore.kinds.Kind.strategy`."""
        st, caps = tools.st, capabilities

        @st.composite  # type: ignore[untyped-decorator]
        def milestones(draw: Any) -> Milestone:
            common: dict[str, Any] = {"weight": draw(tools.weights),
                                      "owners": draw(tools.owners) if "people" in caps else (),
                                      "due": tools.due(draw, due_after),
                                      "name": draw(tools.names)}
            shape = draw(st.sampled_from(("simple", "staged", "checkpoints")))
            if shape == "simple":
                history = tools.history(draw, st.booleans(), caps)
                done = None if history is not None else draw(st.none() | st.booleans())
                return Milestone(id=ident, done=done, check_ins=history, **common)
            if shape == "staged":
                total = draw(st.integers(1, 10))
                stages = st.integers(0, total)
                history = tools.history(draw, stages, caps)
                stages_done = None if history is not None else draw(st.none() | stages)
                return Milestone(id=ident, stages_total=total, stages_done=stages_done,
                                 check_ins=history, **common)
            points = draw(st.lists(st.builds(Checkpoint, st.text(min_size=1, max_size=5),
                                             st.booleans()), min_size=1, max_size=5))
            return Milestone(id=ident, checkpoints=points, **common)

        return milestones()


KIND: Final = MilestoneKind()
"""The milestone kind, as registered in :data:`okrcore.kinds.KINDS`."""
