"""The vectorised batch engine: whole organisations in columns, equal to the scalar reference.

Build an :class:`OrgFrame` (from a document, plain arrays, or Arrow / pandas / Polars columns),
evaluate it with :func:`evaluate_frame`, and turn the result columns into the scalar path's
:class:`~okrcore.results.Evaluation` with :func:`to_evaluation` when a document is wanted.
"""

import json
from collections.abc import Sequence

import attrs

from okrcore._auto import AUTO_BATCH_FROM, ENGINES, choose_engine, engine_for
from okrcore.batch.convert import explain, to_evaluation
from okrcore.batch.engine import KERNELS, BatchResult, evaluate_frame, kernels_available
from okrcore.batch.frame import NONE_INSTANT, OrgFrame
from okrcore.errors import OkrError
from okrcore.evaluate import instant_us
from okrcore.model import Document
from okrcore.results import Evaluation

__all__ = [
    "AUTO_BATCH_FROM",
    "ENGINES",
    "KERNELS",
    "NONE_INSTANT",
    "BatchResult",
    "OrgFrame",
    "choose_engine",
    "evaluate_batch",
    "evaluate_frame",
    "evaluate_json",
    "explain",
    "kernels_available",
    "result_json",
    "to_evaluation",
]


def evaluate_batch(document: Document, *, engine: str = "batch") -> Evaluation:
    """Evaluate a document with the batch engine; equal to :func:`okrcore.evaluate`.

    Parameters
    ----------
    document : Document
        The document.
    engine : {"batch", "auto", "scalar"}
        ``batch`` (default) always uses the batch engine; ``auto`` picks by size
        (:func:`choose_engine`); ``scalar`` is :func:`okrcore.evaluate`.  The result is the
        same whichever runs.

    Returns
    -------
    Evaluation
        Equal (``==``) to :func:`okrcore.evaluate`'s.  On the batch engine its
        ``objectives``, ``key_results`` and ``people`` are read-only mappings (in document
        order) that make each result object when it is first read, so a caller who reads a
        few items pays for those only; on the scalar path they are dicts.

    Notes
    -----
    ``to_evaluation(frame, evaluate_frame(OrgFrame.from_document(d), as_of, policy),
    lazy=True)``.
    """
    if engine_for(document, engine) == "scalar":
        from okrcore.evaluate import evaluate

        return evaluate(document)
    frame = OrgFrame.from_document(document)
    result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
    evaluation = to_evaluation(frame, result, lazy=True)
    if document.warnings:
        evaluation = attrs.evolve(evaluation, warnings=document.warnings)
    return evaluation


def result_json(frame: OrgFrame, result: BatchResult, warnings: Sequence[OkrError] = (),
                indent: int | None = 2) -> str:
    """The result document of a batch result as JSON text, without result objects.

    Parameters
    ----------
    frame : OrgFrame
        The frame that was evaluated.
    result : BatchResult
        Its result columns.
    warnings : sequence of OkrError
        The document's warnings (``Document.warnings``).
    indent : int or None
        As :func:`json.dumps` (default 2, as ``okrcore evaluate``; ``None`` for one line).

    Returns
    -------
    str
        The same text as ``okrcore.dumps_result(to_evaluation(frame, result), indent)`` (with
        the warnings), byte for byte: written from the columns directly, each value turned
        into text once; the few parts it does not write itself (a rollup beyond a weighted
        mean or a sum of its own key results, a number JSON cannot hold) come from the object
        path.

    Raises
    ------
    ValueError
        When a number is not finite (as :func:`json.dumps` with ``allow_nan=False``).
    """
    from okrcore.batch._json import result_text

    text = result_text(frame, result, warnings, indent)
    if text is not None:
        return text
    evaluation = to_evaluation(frame, result)
    if warnings:
        evaluation = attrs.evolve(evaluation, warnings=tuple(warnings))
    return json.dumps(evaluation.to_dict(), indent=indent, allow_nan=False)


def evaluate_json(document: Document, *, indent: int | None = 2, engine: str = "auto") -> str:
    """Evaluate a document and return its result document as JSON text (a web request's work).

    Parameters
    ----------
    document : Document
        The document.
    indent : int or None
        As :func:`json.dumps` (default 2; ``None`` for one line).
    engine : {"auto", "batch", "scalar"}
        ``auto`` (default) picks by size (:func:`choose_engine`).

    Returns
    -------
    str
        ``okrcore.dumps_result(okrcore.evaluate(document), indent)``, byte for byte, whichever
        engine runs; the batch engine writes it with :func:`result_json`.
    """
    if engine_for(document, engine) == "scalar":
        from okrcore.evaluate import evaluate

        return json.dumps(evaluate(document).to_dict(), indent=indent, allow_nan=False)
    frame = OrgFrame.from_document(document)
    result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
    return result_json(frame, result, document.warnings, indent)
