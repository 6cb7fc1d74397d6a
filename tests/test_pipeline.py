"""The batch pipeline runs its passes in order over whichever backend it is given.

``okrcore.batch.pipeline.evaluate`` must never ask which kernel runs: a backend that wraps
another one (here: recording the passes) gives the same result bit for bit, and the pipeline's
source names no kernel.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import attrs
import numpy as np
import pytest

import okrcore
from okrcore.batch import OrgFrame, evaluate_frame, kernels_available, pipeline
from okrcore.batch.backend import Backend
from okrcore.evaluate import instant_us
from test_batch_blocks import ORACLE_DOC

PASSES = ("front", "key_results", "structure", "aggregates", "forest", "rollup_now",
          "rollup_previous", "rollup_forecast", "history", "objective_tail", "people")


class _Recording:
    """A backend that records every pass and delegates it to another backend."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    def threads(self, threads: int | None) -> Any:
        return self.inner.threads(threads)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return record


def _oracle() -> tuple[OrgFrame, int, okrcore.Policy]:
    doc = okrcore.loads(ORACLE_DOC)
    return OrgFrame.from_document(doc), instant_us(doc.as_of), doc.policy


@pytest.mark.parametrize("kernel", kernels_available())
def test_the_pipeline_runs_every_pass_in_order_over_any_backend(kernel: str) -> None:
    frame, as_of, policy = _oracle()
    backend = _Recording(pipeline.backend_for(kernel))
    result = pipeline.evaluate(frame, as_of, policy, backend, threads=1)
    assert tuple(backend.calls) == PASSES
    whole = evaluate_frame(frame, as_of, policy, kernel=kernel)
    for field in attrs.fields(type(whole)):
        a, b = getattr(result, field.name), getattr(whole, field.name)
        if isinstance(a, np.ndarray):
            assert a.tobytes() == b.tobytes(), field.name
    # objective a: its key result (4 of 10) and its aligned child b (3 of 4), equal weights
    assert result.obj_progress.tolist() == [(0.4 + 0.75) / 2, 0.75]


def test_the_pipeline_names_no_kernel() -> None:
    for function in (pipeline.evaluate, pipeline._evaluate):
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        body = tree.body[0]
        assert isinstance(body, ast.FunctionDef)
        code = "\n".join(ast.unparse(stmt) for stmt in body.body[1:])  # (no docstring)
        # no branch on the kernel: not by name, not by type, not by what a backend returned
        for word in ("kernel", "numba", "numpy", "backend.name", "isinstance", "tree",
                     "scratch is", "forest is"):
            assert word not in code, (function.__name__, word)


@pytest.mark.parametrize("kernel", ["", "numpy ", "cuda"])
def test_an_unknown_kernel_is_refused(kernel: str) -> None:
    with pytest.raises(ValueError, match=r"kernel must be one of numpy, numba; got "):
        pipeline.backend_for(kernel)


def test_pinned_objectives_keep_their_results() -> None:
    frame, as_of, policy = _oracle()
    m = frame.n_obj
    # objective b (row 1) pinned to made-up known results: a rolls them up as b's
    pinned = pipeline.Pinned(mask=np.array([False, True]), error=np.zeros(m, np.uint8),
                             progress=np.array([np.nan, 0.25]),
                             previous=np.array([np.nan, 0.25]),
                             forecast=np.array([np.nan, np.nan]),
                             history=np.array([False, True]))
    result = pipeline.evaluate(frame, as_of, policy, pipeline.backend_for("numpy"),
                               pinned=pinned)
    assert result.obj_progress.tolist() == [(0.4 + 0.25) / 2, 0.25]


def test_incremental_recompute_refuses_an_unknown_kernel() -> None:
    from okrcore.batch import incremental

    frame, as_of, policy = _oracle()
    previous = evaluate_frame(frame, as_of, policy)
    changed = attrs.evolve(frame, kr_current=np.array([8.0, 3.0]))
    with pytest.raises(ValueError, match=r"kernel must be one of numpy, numba; got 'cuda'"):
        incremental.recompute(changed, previous, [0], kernel="cuda")
    again = incremental.recompute(changed, previous, [0], kernel="numpy")
    assert again.obj_progress.tolist() == [(0.8 + 0.75) / 2, 0.75]
