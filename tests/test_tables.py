"""Frames from Arrow, pandas and Polars tables: same frame, no copy where the dtype allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from okrcore.batch import OrgFrame, evaluate_frame
from okrcore.batch.tables import column_array, frame_from_tables

KRS: dict[str, Any] = {
    "kr_objective": np.array([0, 0, 1], dtype=np.int64),
    "kr_kind": np.array([0, 1, 0], dtype=np.uint8),
    "kr_start": np.array([45.0, 0.0, 0.0]),
    "kr_target": np.array([20.0, 1.0, 4.0]),
    "kr_current": np.array([30.0, 1.0, np.nan]),
}
OBJECTIVES: dict[str, Any] = {"obj_parent": np.array([-1, 0], dtype=np.int64)}
LOG: dict[str, Any] = {
    "log_kr": np.array([2, 2], dtype=np.int64),
    "log_at": np.array([10, 20], dtype=np.int64),
    "log_value": np.array([1.0, 3.0]),
}
OWNERS: dict[str, Any] = {"kr": np.array([0, 2, 2]), "person": np.array([5, 1, 2])}

MAKERS: list[Callable[[dict[str, Any]], Any]] = [pa.table, pl.DataFrame, pd.DataFrame, dict]


@pytest.mark.parametrize("make", MAKERS, ids=["arrow", "polars", "pandas", "mapping"])
def test_tables_give_the_same_evaluation_as_columns(make: Callable[[dict[str, Any]], Any]
                                                     ) -> None:
    frame = frame_from_tables(make(KRS), make(OBJECTIVES), make(LOG), make(OWNERS))
    reference = OrgFrame.from_columns(**KRS, **OBJECTIVES, **LOG,
                                      kr_owner_offsets=np.array([0, 1, 1, 3]),
                                      kr_owner_ids=np.array([5, 1, 2], dtype=np.int32))
    got = evaluate_frame(frame, 30)
    want = evaluate_frame(reference, 30)
    # 45 -> 20 at 30: 0.6; binary done: 1; the third KR's log says 3 of 4 at instant 20
    assert got.kr_progress.tolist() == want.kr_progress.tolist() == [0.6, 1.0, 0.75]
    assert got.obj_progress.tolist() == want.obj_progress.tolist() == [0.8, 0.75]
    assert frame.kr_owner_offsets.tolist() == [0, 1, 1, 3]
    assert frame.kr_owner_ids.tolist() == [5, 1, 2]


@pytest.mark.parametrize("make", [pa.table, pl.DataFrame], ids=["arrow", "polars"])
def test_numeric_columns_are_shared_not_copied(make: Callable[[dict[str, Any]], Any]) -> None:
    table = make(KRS)
    first = column_array(table, "kr_target")
    second = column_array(table, "kr_target")
    assert np.shares_memory(first, second)
    frame = frame_from_tables(table, make(OBJECTIVES))
    assert np.shares_memory(frame.kr_target, first)


def test_unsupported_tables_are_refused_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match=r"pyarrow\.Table, pandas\.DataFrame, polars\.DataFrame"):
        column_array([1, 2, 3], "kr_target")
