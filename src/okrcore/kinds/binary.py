"""The binary kind: a done / not done key result.

Its model is :class:`okrcore.model.Binary`; frame code :data:`~okrcore.codes.KIND_BINARY`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

import numpy as np
import numpy.typing as npt

from okrcore import _reading as R
from okrcore.codes import KIND_BINARY
from okrcore.kinds._base import (
    Columns,
    EncodedColumns,
    Kind,
    SqlParts,
    Tools,
    check_in_done,
    stored_done,
)
from okrcore.model import Binary, CheckIn

__all__ = ["KIND", "BinaryKind"]

_NAN: Final = float("nan")


class BinaryKind(Kind):
    """The hooks of the binary kind."""

    name: ClassVar[str] = "binary"
    model: ClassVar[type] = Binary
    code: ClassVar[int] = KIND_BINARY
    codes: ClassVar[tuple[int, ...]] = (KIND_BINARY,)
    rules: ClassVar[Mapping[int, str]] = {KIND_BINARY: "binary"}
    done_or_not: ClassVar[frozenset[int]] = frozenset({KIND_BINARY})
    capability: ClassVar[str | None] = "binary"
    fields: ClassVar[tuple[str, ...]] = ("done", "check_ins")

    def load(self, reader: R.Reader, path: str) -> dict[str, Any]:
        """The binary kind's :meth:`~okrcore.kinds.Kind.load`."""
        return {"done": reader.get("done", R.boolean),
                "check_ins": R.load_check_ins(reader, "done")}

    def dump(self, kr: Binary) -> dict[str, Any]:
        """The binary kind's :meth:`~okrcore.kinds.Kind.dump`."""
        return {} if kr.done is None else {"done": kr.done}

    def check_in_key(self, kr: Binary) -> str:
        """The binary kind's :meth:`~okrcore.kinds.Kind.check_in_key`."""
        return "done"

    def encode_many(self, krs: Sequence[Binary]) -> EncodedColumns:
        """The binary kind's :meth:`~okrcore.kinds.Kind.encode_many`."""
        out = EncodedColumns.blank(len(krs), KIND_BINARY)
        out.current = np.array([kr.done for kr in krs], np.float64)  # None -> NaN
        return out

    def to_row(self, kr: Binary) -> dict[str, Any]:
        """The binary kind's :meth:`~okrcore.kinds.Kind.to_row`."""
        return {"target": 1.0, "current": None if kr.done is None else float(kr.done)}

    def from_row(self, row: Mapping[str, Any], history: Sequence[tuple[int, float]] | None,
                 checkpoints: Sequence[tuple[str, bool]] | None,
                 common: dict[str, Any]) -> Binary:
        """The binary kind's :meth:`~okrcore.kinds.Kind.from_row`."""
        entries = None if history is None else [
            CheckIn(at=R.at_us(at), value=check_in_done(value))
            for at, value in history]
        return Binary(done=stored_done(row.get("current"), "current"), check_ins=entries,
                      **common)

    def columns(self, cols: Columns, rows: npt.NDArray[np.bool_]) -> None:
        """The binary kind's :meth:`~okrcore.kinds.Kind.columns`."""
        cols.target[rows] = 1.0

    def sql(self, parts: SqlParts) -> list[tuple[str, str]]:
        """The binary kind's :meth:`~okrcore.kinds.Kind.sql`."""
        return [(f"{parts.column('kind')} = 'binary'", f"{parts.done} / 1.0")]

    def strategy(self, tools: Tools, ident: str, capabilities: frozenset[str],
                 due_after: Any = None, **options: Any) -> Any:
        """The binary kind's :meth:`~okrcore.kinds.Kind.strategy`."""
        st, caps = tools.st, capabilities

        @st.composite  # type: ignore[untyped-decorator]
        def binaries(draw: Any) -> Binary:
            history = tools.history(draw, st.booleans(), caps)
            done = None if history is not None else draw(st.none() | st.booleans())
            return Binary(id=ident, done=done, check_ins=history, weight=draw(tools.weights),
                          owners=draw(tools.owners) if "people" in caps else (),
                          due=tools.due(draw, due_after), name=draw(tools.names))

        return binaries()


KIND: Final = BinaryKind()
"""The binary kind, as registered in :data:`okrcore.kinds.KINDS`."""
