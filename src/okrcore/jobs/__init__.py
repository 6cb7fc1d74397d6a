"""Recompute jobs: ``okrcore recompute`` over documents, workbooks, Parquet datasets, databases.

* :mod:`okrcore.jobs.run` -- the job (:func:`recompute`), its reports and exit codes;
* :mod:`okrcore.jobs.parquet` -- the Parquet dataset layout (pyarrow, ``okrcore[parquet]``);
* :mod:`okrcore.jobs.asof` -- ``--as-of`` instants and series;
* :mod:`okrcore.jobs.command` -- the command line, progress bar and summary;
* :mod:`okrcore.jobs.sample` -- large sample organisations.

Only attrs and numpy are imported here; pyarrow, rich / tqdm, SQLAlchemy, the spreadsheet
adapter and Dask are imported when a job needs them.  See ``docs/operating.rst``.
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
