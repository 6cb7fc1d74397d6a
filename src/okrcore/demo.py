"""The ``okrcore demo`` command: the sample organisation, recomputed in SQLite and drawn.

:func:`run_demo` stores the sample organisation (:mod:`okrcore.sample`) in an SQLite file through
the database store of ``okrcore recompute`` (the SQLAlchemy adapter, found through its entry
point: :mod:`okrcore.jobs.adapters`), recomputes it there with the job, reads the stored
organisation and results back and draws them with the public terminal renderer
(:func:`okrcore.render.render`, which ``okrcore evaluate --format tree`` shares), then prints the
job's summary.  The sample's names (:func:`generate_organisation`, :data:`DEFAULT_AS_OF`, ...)
and :func:`render` are re-exported here.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from datetime import datetime
from typing import Final

from okrcore.errors import OkrValueError
from okrcore.interchange import dumps, parse_instant
from okrcore.jobs import adapters
from okrcore.jobs.command import render_summary
from okrcore.jobs.report import JobError
from okrcore.jobs.run import recompute
from okrcore.model import Document
from okrcore.render import render
from okrcore.results import Evaluation
from okrcore.sample import DEFAULT_AS_OF, QUARTER_DUE, QUARTER_START, generate_organisation

__all__ = [
    "DEFAULT_AS_OF",
    "QUARTER_DUE",
    "QUARTER_START",
    "generate_organisation",
    "render",
    "run_demo",
]

_EXIT_OK: Final = 0
_EXIT_USAGE: Final = 2



def _through_sqlite(document: Document, path: str) -> tuple[Document, Evaluation, str]:
    """Store the document in an SQLite file, recompute it there, read the stored results back.

    The recompute is the ``okrcore recompute sqlite:///PATH`` job
    (:func:`okrcore.jobs.run.recompute`), which runs the database store's columnar recompute
    (the SQLAlchemy adapter's).  Returns the document and evaluation read back from the
    database and the job's summary.
    """
    url = f"sqlite:///{path}"
    store: adapters.Store = adapters.sink("database")
    with store.open(url) as session:
        session.store(document)
        report = recompute(url, instants=(document.as_of,), policy=document.policy)
        stored = session.load()
        evaluation = session.load_evaluation(document.as_of)
    summary = io.StringIO()
    render_summary(report, summary)
    return stored, evaluation, summary.getvalue().rstrip("\n")


def run_demo(
    seed: int = 7, as_of: str | None = None, colour: str = "auto", output: str | None = None,
    database: str | None = None,
) -> int:
    """Generate the sample organisation, recompute it in SQLite and print it (``okrcore demo``).

    The organisation is written into an SQLite file through the database store (the SQLAlchemy
    adapter, ``okrcore_sqlalchemy``, found through its entry point), recomputed there by the
    ``okrcore recompute`` job (:func:`okrcore.jobs.run.recompute`), and what is printed is read
    back from the database: the stored organisation and its stored results, then the job's
    summary.

    Parameters
    ----------
    seed : int
        Seed of :func:`generate_organisation`.
    as_of : str or None
        The instant of evaluation, ISO 8601 (``2026-03-01`` or ``2026-03-01T09:00:00Z``); an
        instant without an offset is UTC.  Default :data:`DEFAULT_AS_OF`.
    colour : {"auto", "always", "never"}
        ANSI colours: ``auto`` when standard output is a terminal.
    output : str or None
        Also write the generated document (interchange format v1, JSON) to this file.
    database : str or None
        The SQLite file to use (kept afterwards); default a temporary file, removed at the end.

    Returns
    -------
    int
        0 on success; 2, with one line on standard error, for a bad ``as_of`` or ``colour``,
        an ``output`` that cannot be written, or a missing ``demo`` extra
        (SQLAlchemy).
    """
    when: datetime | None = None
    if as_of is not None:
        try:
            when = parse_instant(as_of, "--as-of")
        except OkrValueError as exc:
            print(f"okrcore demo: {exc.message}", file=sys.stderr)
            return _EXIT_USAGE
    if colour not in ("auto", "always", "never"):
        print(f"okrcore demo: --colour must be auto, always or never, got {colour!r}",
              file=sys.stderr)
        return _EXIT_USAGE
    document = generate_organisation(seed, when)
    if output is not None:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(dumps(document) + "\n")
        except OSError as exc:
            print(f"okrcore demo: cannot write {output}: {exc.strerror}", file=sys.stderr)
            return _EXIT_USAGE
    try:
        adapters.sink("database")
    except JobError:
        print("okrcore demo: the demo runs on SQLite through the SQLAlchemy adapter: "
              "pip install 'okrcore[demo]'", file=sys.stderr)
        return _EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="okrcore-demo-") as scratch:
        path = database or os.path.join(scratch, "okrcore-demo.db")
        stored, evaluation, summary = _through_sqlite(document, path)
    on = colour == "always" or (colour == "auto" and sys.stdout.isatty())
    where = f"\nkept in {database}" if database else ""
    sys.stdout.write(render(stored, evaluation, on) + "\n" + summary + where + "\n")
    return _EXIT_OK
