"""``evaluate_frame(..., out=)``: a result written into caller-owned buffers.

Every column must be overwritten (the buffers are filled with two different patterns of
garbage first, so a column the engine forgot to write differs from the fresh result in at least
one of the two runs), the returned result must hold the caller's arrays, and buffers that
cannot receive the result are refused with a ``ValueError`` naming the column.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings

import okrcore
from okrcore import Document
from okrcore.batch import BatchResult, OrgFrame, _result, evaluate_frame, kernels_available
from okrcore.evaluate import instant_us
from strategies import documents
from test_batch import corrupted

COLUMNS = [f.name for f in attrs.fields(BatchResult) if f.name not in ("as_of", "policy")]


def _garbage(result: BatchResult, pattern: int) -> BatchResult:
    """Copies of every column of ``result``, filled with a pattern that is no valid value."""
    fills: dict[str, Any] = {}
    for name in COLUMNS:
        column = getattr(result, name).copy()
        kind = column.dtype.kind
        column.fill(
            (-123.25 if pattern else np.inf) if kind == "f"
            else (pattern == 0) if kind == "b"
            else (99 if pattern else 55))
        fills[name] = column
    return attrs.evolve(result, **fills)


def _assert_same(actual: BatchResult, expected: BatchResult) -> None:
    for name in COLUMNS:
        a, e = getattr(actual, name), getattr(expected, name)
        assert a.dtype == e.dtype, name
        assert np.array_equal(a, e, equal_nan=a.dtype.kind == "f"), name


def _check_out_gives_the_fresh_result(doc: Document) -> None:
    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    for kernel in kernels_available():
        fresh = evaluate_frame(frame, as_of, doc.policy, kernel=kernel)
        for pattern in (0, 1):
            buffers = _garbage(fresh, pattern)
            again = evaluate_frame(frame, as_of, doc.policy, kernel=kernel, out=buffers)
            _assert_same(again, fresh)
            for name in COLUMNS:
                assert getattr(again, name) is getattr(buffers, name), (kernel, name)
            assert again.as_of == as_of
            assert again.policy == doc.policy


@settings(max_examples=60, deadline=None)
@given(doc=documents())
def test_out_buffers_receive_the_fresh_result(doc: Document) -> None:
    _check_out_gives_the_fresh_result(doc)


@settings(max_examples=60, deadline=None)
@given(data=corrupted())
def test_out_buffers_receive_the_fresh_result_with_errors(data: dict[str, Any]) -> None:
    _check_out_gives_the_fresh_result(okrcore.Document.from_dict(json.loads(json.dumps(data))))


def _example() -> tuple[OrgFrame, int, BatchResult]:
    doc = okrcore.Document.from_dict({
        "okrcore": 1, "as_of": "2026-03-01T00:00:00Z",
        "objectives": [
            {"id": "o1", "owner": "ann", "start": "2026-01-01T00:00:00Z",
             "due": "2026-04-01T00:00:00Z",
             "key_results": [{"id": "k1", "kind": "metric", "start": 0, "target": 10,
                              "current": 4},
                             {"id": "k2", "kind": "binary", "done": True}]},
            {"id": "o2", "parent": "o1", "owner": "bob", "key_results": [
                {"id": "k3", "kind": "metric", "start": 0, "target": 4, "current": 1}]},
        ]})
    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    return frame, as_of, evaluate_frame(frame, as_of)


def test_out_with_the_wrong_length_is_refused() -> None:
    frame, as_of, result = _example()
    bad = attrs.evolve(result, kr_raw=np.zeros(2))
    with pytest.raises(ValueError, match=r"out\.kr_raw: expected shape \(3,\) and dtype "
                                         r"float64; got shape \(2,\), dtype float64"):
        evaluate_frame(frame, as_of, out=bad)


def test_out_with_the_wrong_dtype_is_refused() -> None:
    frame, as_of, result = _example()
    bad = attrs.evolve(result, obj_colour=np.zeros(2, np.int64))
    with pytest.raises(ValueError, match=r"out\.obj_colour: expected shape \(2,\) and dtype "
                                         r"int8; got shape \(2,\), dtype int64"):
        evaluate_frame(frame, as_of, out=bad)


def test_out_that_is_read_only_or_strided_is_refused() -> None:
    frame, as_of, result = _example()
    frozen = result.person_progress.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"out\.person_progress: must be contiguous and "
                                         r"writeable"):
        evaluate_frame(frame, as_of, out=attrs.evolve(result, person_progress=frozen))
    strided = np.zeros(6)[::2]
    with pytest.raises(ValueError, match=r"out\.kr_value: must be contiguous"):
        evaluate_frame(frame, as_of, out=attrs.evolve(result, kr_value=strided))


def test_out_sharing_memory_is_refused() -> None:
    frame, as_of, result = _example()
    # two result columns on one array
    shared = attrs.evolve(result, kr_expected=result.kr_raw)
    with pytest.raises(ValueError, match=r"out\.kr_raw: shares memory with out\.kr_expected"):
        evaluate_frame(frame, as_of, out=shared)
    # a result column on an input column: the engine would overwrite its own input
    on_input = attrs.evolve(result, kr_value=frame.kr_current)
    with pytest.raises(ValueError, match=r"out\.kr_value: shares memory with "
                                         r"frame\.kr_current"):
        evaluate_frame(frame, as_of, out=on_input)
    # nothing was written into the input
    assert frame.kr_current.tolist() == [4.0, 1.0, 1.0]


def test_refused_out_is_left_untouched() -> None:
    frame, as_of, result = _example()
    before = {name: getattr(result, name).copy() for name in COLUMNS}
    bad = attrs.evolve(result, person_seen=np.zeros(5, np.bool_))
    with pytest.raises(ValueError, match=r"out\.person_seen"):
        evaluate_frame(frame, as_of, out=bad)
    for name in COLUMNS:
        assert np.array_equal(getattr(result, name), before[name], equal_nan=True), name


def test_result_dtypes_cover_every_column() -> None:
    assert list(_result._RESULT_DTYPES) == COLUMNS
    _, _, result = _example()
    for name in COLUMNS:
        assert getattr(result, name).dtype == np.dtype(_result._RESULT_DTYPES[name]), name
