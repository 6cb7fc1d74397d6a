"""The numpy kernel's block-by-block passes give the same bits as one pass over every row.

Also when the blocks run on several threads (``evaluate_frame(..., threads=)``).

The per key result pass, the check-in log pass and the sorted group sums and counts of
the numpy backend work on blocks of :data:`~okrcore.batch._blocks.BLOCK_ROWS` rows.
Shrinking the block to a few rows puts block boundaries inside objectives and inside runs of
check-ins; every column must stay equal byte for byte (NaN payloads and signed zeros
included) to the result with one block, which the rest of the suite proves equal to the
scalar path.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okrcore
from okrcore import Document, Policy
from okrcore.batch import (
    OrgFrame,
    _blocks,
    _numpy_backend,
    _numpy_krs,
    _numpy_rollup,
    evaluate_frame,
)
from okrcore.batch.engine import BatchResult, person_items
from okrcore.evaluate import instant_us
from strategies import documents
from test_batch import corrupted

BLOCKS = (1, 3, 7)


def _same_bits(actual: BatchResult, expected: BatchResult, label: str) -> None:
    for field in attrs.fields(BatchResult):
        x, y = getattr(actual, field.name), getattr(expected, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, (label, field.name)
            assert x.tobytes() == y.tobytes(), (label, field.name, x, y)


def _blocked_equals_whole(frame: OrgFrame, as_of: int, policy: Policy,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    with np.errstate(all="ignore"):
        with monkeypatch.context() as patch:
            patch.setattr(_blocks, "BLOCK_ROWS", 1 << 30)
            whole = evaluate_frame(frame, as_of, policy, threads=1)
        for rows in BLOCKS:
            with monkeypatch.context() as patch:
                patch.setattr(_blocks, "BLOCK_ROWS", rows)
                # blocks run in the calling thread, and spread over threads (in any order)
                for threads in (1, 3):
                    _same_bits(evaluate_frame(frame, as_of, policy, threads=threads), whole,
                               f"block of {rows}, {threads} threads")


@settings(max_examples=60, deadline=None)
@given(doc=documents())
def test_blocks_equal_one_pass(doc: Document) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        frame = OrgFrame.from_document(doc)
        _blocked_equals_whole(frame, instant_us(doc.as_of), doc.policy, monkeypatch)


@settings(max_examples=60, deadline=None)
@given(data=corrupted())
def test_blocks_equal_one_pass_with_errors(data: dict[str, Any]) -> None:
    doc = okrcore.Document.from_dict(json.loads(json.dumps(data)))
    with pytest.MonkeyPatch.context() as monkeypatch:
        frame = OrgFrame.from_document(doc)
        _blocked_equals_whole(frame, instant_us(doc.as_of), doc.policy, monkeypatch)


def _frame(**changes: Any) -> OrgFrame:
    """Two objectives of owner 0 and 1 (none for the third); five key results."""
    nan = np.nan
    day = 86_400_000_000
    t0 = 1_767_225_600_000_000
    columns: dict[str, Any] = {
        "kr_objective": [0, 0, 1, 1, 1], "kr_kind": [0, 0, 0, 1, 0],
        "kr_start": [0.0, 10.0, 0.0, 0.0, -0.0], "kr_target": [10.0, 0.0, 4.0, 1.0, 2.0],
        "kr_current": [5.0, nan, -0.0, 1.0, nan], "kr_weight": [1.0, 2.0, 1.0, 0.0, 1.0],
        "kr_unit": [0, 0, 1, -1, 1], "kr_range_mode": [0, 0, 0, 0, 0],
        "kr_red_low": [nan] * 5, "kr_yellow_low": [nan] * 5, "kr_yellow_high": [nan] * 5,
        "kr_red_high": [nan] * 5, "kr_due": [okrcore.batch.frame.NONE_INSTANT] * 5,
        "log_kr": [1, 1, 1, 4, 4], "log_at": [t0 + day, t0 + 2 * day, t0 + 2 * day, t0,
                                               t0 + 3 * day],
        "log_value": [9.0, 8.0, 7.0, 0.5, 1.5],
        "kr_owner_offsets": [0, 1, 1, 3, 3, 4], "kr_owner_ids": [2, 1, 0, 1],
        "obj_parent": [-1, 0, 0], "obj_weight": [1.0, 1.0, 1.0],
        "obj_start": [t0] * 3, "obj_due": [t0 + 90 * day] * 3, "obj_mode": [0, 0, 0],
        "obj_ambition": [0, 0, 0], "obj_status": [-1, -1, -1],
        "obj_include_children": [False] * 3, "obj_owner": [0, 1, -1],
        "obj_ps_unit": [-1] * 3, "obj_ps_target": [nan] * 3, "obj_ps_auto": [False] * 3,
        "obj_ps_start": [nan] * 3,
    }
    columns.update(changes)
    return OrgFrame.from_columns(**columns)


def test_person_items_merge_objectives_and_key_results(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    # owners: kr0 -> p2 (objective 0 is p0's: an item), kr2 -> p1 and p0 (objective 1 is p1's:
    # only p0 is an item), kr4 -> p1 (its objective's owner: no item)
    frame = _frame()
    n = frame.n_kr
    obj_error = np.array([0, 3, 0], dtype=np.uint8)
    obj_progress = np.array([0.25, 0.5, 0.75])
    kr_error = np.array([0, 0, 5, 0, 0], dtype=np.uint8)
    kr_progress = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    who, bad, prog, ref = person_items(frame, obj_error, obj_progress, kr_error, kr_progress)
    # document order: objective 0, its key result 0, objective 1, its key result 2
    assert who.tolist() == [0, 2, 1, 0]
    assert bad.tolist() == [False, False, True, True]
    assert prog.tolist() == [0.25, 0.1, 0.5, 0.3]
    assert ref.tolist() == [n + 0, 0, n + 1, 2]


def test_person_items_of_rows_not_grouped_by_objective() -> None:
    # key results listed objective 1 first: the items still follow the objectives' order
    frame = _frame(kr_objective=[1, 1, 0, 0, 0], kr_owner_offsets=[0, 1, 1, 3, 3, 4],
                   kr_owner_ids=[0, 1, 2, 0])
    obj_error = np.zeros(3, dtype=np.uint8)
    kr_error = np.zeros(5, dtype=np.uint8)
    obj_progress = np.array([0.25, 0.5, 0.75])
    kr_progress = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    who, _, prog, ref = person_items(frame, obj_error, obj_progress, kr_error, kr_progress)
    # kr0 (objective 1) -> p0; kr2 (objective 0) -> p1, p2; kr4 (objective 0) -> p0 (its owner)
    assert who.tolist() == [0, 1, 2, 1, 0]
    assert prog.tolist() == [0.25, 0.3, 0.3, 0.5, 0.1]
    assert ref.tolist() == [5, 2, 2, 6, 0]


def test_map_blocks_returns_results_in_block_order() -> None:
    bounds = [(lo, lo + 1) for lo in range(10)]
    token = _blocks._THREADS.set(3)
    try:
        assert _blocks._map_blocks(lambda lo, hi: (lo, hi), bounds) == bounds
    finally:
        _blocks._THREADS.reset(token)


def test_a_failing_block_raises_in_the_caller() -> None:
    def block(lo: int, hi: int) -> int:
        if lo == 5:
            raise ValueError(f"block {lo}")
        return lo

    token = _blocks._THREADS.set(2)
    try:
        with pytest.raises(ValueError, match="block 5"):
            _blocks._map_blocks(block, [(lo, lo + 1) for lo in range(8)])
    finally:
        _blocks._THREADS.reset(token)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_threads_must_be_a_positive_integer(threads: Any) -> None:
    frame = _frame()
    with pytest.raises(ValueError, match=r"threads must be a positive integer; got "):
        evaluate_frame(frame, 0, threads=threads)


def _threads_seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the numpy kernel's thread count at every block pass."""
    seen: list[int] = []
    real = _blocks._map_blocks

    def spy(block: Any, bounds: Any) -> Any:
        seen.append(_blocks._THREADS.get())
        return real(block, bounds)

    # (every module of the numpy backend that runs blocks holds its own name of it)
    for module in (_blocks, _numpy_krs, _numpy_rollup, _numpy_backend):
        monkeypatch.setattr(module, "_map_blocks", spy)
    return seen


def _oracle_frame() -> tuple[OrgFrame, int, Policy]:
    doc = okrcore.loads(ORACLE_DOC)
    return OrgFrame.from_document(doc), instant_us(doc.as_of), doc.policy


ORACLE_DOC = json.dumps({
    "okrcore": 1, "as_of": "2026-02-15T00:00:00Z",
    "objectives": [
        {"id": "a", "owner": "pat", "include_children": True, "start": "2026-01-01T00:00:00Z",
         "due": "2026-03-31T00:00:00Z",
         "key_results": [{"id": "k1", "kind": "metric", "start": 0,
                          "target": 10, "current": 4, "owner": "sam"}]},
        {"id": "b", "owner": "sam", "parent": "a",
         "key_results": [{"id": "k2", "kind": "metric", "start": 0,
                          "target": 4, "current": 3}]},
    ]})


def test_threads_reach_every_block_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    frame, as_of, policy = _oracle_frame()
    seen = _threads_seen(monkeypatch)
    whole = evaluate_frame(frame, as_of, policy, threads=1)
    assert seen and set(seen) == {1}
    seen.clear()
    _same_bits(evaluate_frame(frame, as_of, policy, threads=3), whole, "3 threads")
    assert seen and set(seen) == {3}
    # objective a: its key result (4 of 10) and its aligned child b (3 of 4), equal weights
    assert whole.obj_progress.tolist() == [(0.4 + 0.75) / 2, 0.75]


def test_incremental_recompute_takes_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from okrcore.batch import incremental

    frame, as_of, policy = _oracle_frame()
    previous = evaluate_frame(frame, as_of, policy)
    changed = attrs.evolve(frame, kr_current=np.array([8.0, 3.0]))
    seen = _threads_seen(monkeypatch)
    again = incremental.recompute(changed, previous, [0], threads=2)
    assert seen and set(seen) == {2}
    _same_bits(again, evaluate_frame(changed, as_of, policy), "incremental, 2 threads")
    assert again.obj_progress[0] == (0.8 + 0.75) / 2
    # checked even when nothing needs recomputing
    with pytest.raises(ValueError, match=r"threads must be a positive integer; got 0"):
        incremental.recompute(changed, previous, [], threads=0)


@settings(max_examples=60, deadline=None)
@given(doc=documents(), data=st.data())
def test_kr_part_with_changed_rows_equals_kr_part_of_changed_columns(
        doc: Document, data: st.DataObject) -> None:
    """The previous and forecast rollups replace some key results' value and progress.

    ``_kr_part(..., delta)`` must give the bits of ``_kr_part`` on columns where those rows
    were overwritten, in blocks of 1, 3 and 7 rows and in one block.
    """
    frame = OrgFrame.from_document(doc)
    result = evaluate_frame(frame, instant_us(doc.as_of), doc.policy)
    structure = _numpy_rollup._structure(frame, result.kr_error == 0)
    n = frame.n_kr
    # the evaluation passes int32 rows (int64 above 2**31 key results)
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)
                                     if n else st.just(set()))),
                    dtype=data.draw(st.sampled_from([np.int32, np.int64])))
    finite = st.floats(-1e6, 1e6, allow_nan=False)
    new_value = np.array(data.draw(st.lists(finite, min_size=rows.shape[0],
                                            max_size=rows.shape[0])), dtype=np.float64)
    new_progress = np.array(data.draw(st.lists(st.floats(0, 2), min_size=rows.shape[0],
                                               max_size=rows.shape[0])), dtype=np.float64)
    value, progress = result.kr_value.copy(), result.kr_progress.copy()
    value[rows], progress[rows] = new_value, new_progress
    with np.errstate(all="ignore"):
        want = _numpy_rollup._kr_part(frame, structure, value, progress, doc.policy.cap)
        for block in (1, 3, 7, 1 << 30):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(_blocks, "BLOCK_ROWS", block)
                got = _numpy_rollup._kr_part(frame, structure, result.kr_value, result.kr_progress,
                                      doc.policy.cap, (rows, new_value, new_progress))
            for name, a, b in zip(("weighted", "value", "raw", "progress"), got, want,
                                  strict=True):
                assert a.tobytes() == b.tobytes(), (block, name, a, b)
    # the columns themselves are left as they were
    again = evaluate_frame(frame, instant_us(doc.as_of), doc.policy)
    assert result.kr_value.tobytes() == again.kr_value.tobytes()
    assert result.kr_progress.tobytes() == again.kr_progress.tobytes()
