"""The vectorised batch engine: whole organisations in columns, equal to the scalar reference.

Build an :class:`OrgFrame` (from a document, plain arrays, or Arrow / pandas / Polars columns),
evaluate it with :func:`evaluate_frame`, and turn the result columns into the scalar path's
:class:`~okrcore.results.Evaluation` with :func:`to_evaluation` when a document is wanted.
"""

import attrs

from okrcore.batch.convert import explain, to_evaluation
from okrcore.batch.engine import KERNELS, BatchResult, evaluate_frame, kernels_available
from okrcore.batch.frame import NONE_INSTANT, OrgFrame
from okrcore.evaluate import instant_us
from okrcore.model import Document
from okrcore.results import Evaluation

__all__ = [
    "KERNELS",
    "NONE_INSTANT",
    "BatchResult",
    "OrgFrame",
    "evaluate_batch",
    "evaluate_frame",
    "explain",
    "kernels_available",
    "to_evaluation",
]


def evaluate_batch(document: Document) -> Evaluation:
    """Evaluate a document with the batch engine; equal to :func:`okrcore.evaluate`.

    Notes
    -----
    ``to_evaluation(frame, evaluate_frame(OrgFrame.from_document(d), as_of, policy))``.
    """
    frame = OrgFrame.from_document(document)
    result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
    evaluation = to_evaluation(frame, result)
    if document.warnings:
        evaluation = attrs.evolve(evaluation, warnings=document.warnings)
    return evaluation
