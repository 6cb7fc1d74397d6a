"""Recompute jobs: ``okrcore recompute`` over documents, workbooks, Parquet datasets, databases.

* :mod:`okrcore.jobs.run` -- the job (:func:`recompute`);
* :mod:`okrcore.jobs.report` -- its reports, row errors and exit codes;
* :mod:`okrcore.jobs.adapters` -- the sources, sinks and executors it finds through entry
  points (databases, workbooks, Dask: the core imports no adapter);
* :mod:`okrcore.jobs.partitions` -- a Parquet dataset partition by partition (what an executor
  runs);
* :mod:`okrcore.jobs.parquet` -- the Parquet dataset layout (pyarrow, ``okrcore[parquet]``), with
  its result snapshots in :mod:`okrcore.jobs.snapshots`;
* :mod:`okrcore.jobs.asof` -- ``--as-of`` instants and series;
* :mod:`okrcore.jobs.command` -- the command line, progress bar and summary;
* :mod:`okrcore.jobs.sample` -- large sample organisations.

Only attrs and numpy are imported here; pyarrow and rich / tqdm are imported when a job needs
them, and an adapter when a job needs its kind.  See ``docs/operating.rst``.
"""

from okrcore.jobs.asof import parse_as_of
from okrcore.jobs.run import (
    EXIT_FAILED,
    EXIT_ITEM_ERRORS,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    InstantReport,
    JobError,
    JobReport,
    RowError,
    recompute,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_ITEM_ERRORS",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "InstantReport",
    "JobError",
    "JobReport",
    "RowError",
    "parse_as_of",
    "recompute",
]
