"""``engine="auto"``: the scalar path or the batch engine, by the size of a document.

Kept apart from :mod:`okrcore.batch` (which re-exports it) so that the command line can choose
without importing the batch engine for a small document.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from okrcore.model import Document

__all__ = ["AUTO_BATCH_FROM", "ENGINES", "choose_engine", "engine_for", "gc_paused"]

ENGINES: Final = ("auto", "batch", "scalar")
"""What an ``engine`` parameter takes: ``auto`` picks ``scalar`` or ``batch`` by size."""

AUTO_BATCH_FROM: Final = 64
"""``engine="auto"`` evaluates a document with at least this many items (objectives plus
key results) on the batch engine, a smaller one on the scalar path.  Measured with
``python benchmarks/bench_document.py --crossover`` (docs/batch.rst, "Single documents and
web requests")."""


def choose_engine(document: Document) -> str:
    r"""The engine ``engine="auto"`` uses for a document: ``scalar`` or ``batch``.

    Notes
    -----
    ``batch`` when :math:`n_{obj} + n_{kr} \ge` :data:`AUTO_BATCH_FROM`, else ``scalar``;
    both give the same result (batch == scalar is tested), only the time differs.
    """
    items = len(document.objectives)
    for objective in document.objectives:
        items += len(objective.key_results)
        if items >= AUTO_BATCH_FROM:
            return "batch"
    return "batch" if items >= AUTO_BATCH_FROM else "scalar"


def engine_for(document: Document, engine: str) -> str:
    """``engine`` itself, or for ``auto`` :func:`choose_engine`; ``ValueError`` if unknown."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    return choose_engine(document) if engine == "auto" else engine


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document's objects are built.

    Building hundreds of thousands of small objects (model items, row tuples) makes the
    collector walk the whole heap again and again, in time that grows with the heap; none of
    them form cycles.  The previous state is restored on the way out (issue 19).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
