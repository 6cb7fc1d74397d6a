"""The adapters a recompute job reads from and writes to, found through entry points.

The core names no adapter package.  An adapter announces itself in its distribution's metadata,
under one of three entry point groups, with the *kind* it serves as the entry point's name:

``okrcore.sources``
    ``database``, ``workbook``: an object with ``describe(spec)`` and ``read(spec)`` that
    returns a :class:`SourceData` (a :class:`Source`).
``okrcore.sinks``
    ``workbook``: an object with ``write(path, document, evaluation)`` (a :class:`FileSink`;
    the job writes to a temporary name beside ``path`` and renames it into place);
    ``database``: a :class:`Store`, whose ``open(spec)`` gives a :class:`StoreSession` that
    stores an organisation, recomputes it in place and reads it and its results back.
``okrcore.executors``
    ``dask``: a callable that recomputes a Parquet dataset's partitions elsewhere and returns
    what :func:`okrcore.jobs.partitions.dataset_local` returns (an :class:`Executor`).

okrcore's own adapters register themselves in okrcore's ``pyproject.toml``::

    [project.entry-points."okrcore.sources"]
    database = "okrcore_sqlalchemy.plugin:DATABASE"
    workbook = "okrcore_spreadsheet.plugin:WORKBOOK"

An adapter of another distribution registered under the same name is preferred to okrcore's
own, so a user can swap the database adapter without changing okrcore.  A kind without an
adapter, or whose adapter cannot be imported (its extra is not installed), stops the job with a
:class:`~okrcore.jobs.report.JobError` that names the extra to install.  See
``docs/adapters.rst``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol

import attrs

from okrcore.errors import OkrError
from okrcore.jobs._text import one_line
from okrcore.jobs.report import InstantReport, JobError, Progress, RowError
from okrcore.model import Document
from okrcore.policy import Policy
from okrcore.results import Evaluation

__all__ = [
    "EXECUTORS",
    "GROUPS",
    "SINKS",
    "SOURCES",
    "Executor",
    "FileSink",
    "SinkWriteError",
    "Source",
    "SourceData",
    "SourceReadError",
    "Store",
    "StoreRefusedError",
    "StoreSession",
    "executor",
    "find",
    "registered",
    "sink",
    "source",
]

SOURCES: Final = "okrcore.sources"
"""Entry point group of sources: a whole organisation read from a database or a workbook."""
SINKS: Final = "okrcore.sinks"
"""Entry point group of sinks: results written to a workbook, or a database store."""
EXECUTORS: Final = "okrcore.executors"
"""Entry point group of executors: a Parquet dataset's partitions run elsewhere (Dask)."""
GROUPS: Final = (SOURCES, SINKS, EXECUTORS)
"""The three groups."""

_OWN: Final = "okrcore"
"""okrcore's own distribution: its adapters give way to another distribution's."""

_MISSING: Final = {
    "database": ("databases need the SQLAlchemy adapter: pip install 'okrcore[sqlalchemy]'",
                 "okrcore_sqlalchemy"),
    "workbook": ("workbooks need the spreadsheet adapter: pip install 'okrcore[spreadsheet]'",
                 "okrcore_spreadsheet"),
    "dask": ("--engine dask needs the Dask adapter: pip install 'okrcore[dask]'", "okrcore_dask"),
}
"""What to install for okrcore's own kinds (the message of a missing adapter)."""


class SourceReadError(Exception):
    """The input cannot be read: exit 2 when nothing was written yet, else a failure.

    ``str(error)`` is the whole line (naming the input); :attr:`reason` the line without it, for
    a failure listed under an instant.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = message if reason is None else reason


class StoreRefusedError(Exception):
    """The store refused the organisation and wrote nothing (exit 2): one line."""


class SinkWriteError(Exception):
    """The results could not be written: a failure of the instant (exit 3 or 4), one line."""


@attrs.frozen
class SourceData:
    """A whole organisation read by a :class:`Source`."""

    document: Document
    """The organisation; rows that could not be read are invalid items, as in any document."""
    unattached: tuple[RowError, ...] = ()
    """Rows the source could not attach to any item (a key result naming an unknown
    objective...): reported with the job's row errors, so no row is dropped silently."""
    place: Callable[[OkrError], OkrError] | None = None
    """Names where in the source an error's item was read (a workbook's sheet and cell);
    ``None``: errors are reported as the evaluation gives them."""

    def located(self, errors: Sequence[RowError]) -> tuple[RowError, ...]:
        """The job's row errors, placed in the source, then the :attr:`unattached` rows."""
        place = self.place
        if place is None:
            return tuple(errors) + self.unattached
        return tuple(attrs.evolve(e, error=place(e.error)) for e in errors) + self.unattached


class Source(Protocol):
    """A source of whole organisations (group ``okrcore.sources``)."""

    def describe(self, spec: str) -> str:
        """``spec`` as messages show it (a database URL without its password)."""

    def read(self, spec: str) -> SourceData:
        """Read the organisation; :class:`SourceReadError` when it cannot be read."""


class FileSink(Protocol):
    """A file written from a whole organisation's results (group ``okrcore.sinks``)."""

    def write(self, path: Path, document: Document, evaluation: Evaluation) -> None:
        """Write ``path`` (an ``OSError`` is a failure of the instant)."""


class StoreSession(Protocol):
    """An open store (a database): see :class:`Store`."""

    def store(self, document: Document) -> None:
        """Replace the stored organisation in one transaction.

        :class:`StoreRefusedError` for an input it refuses (items that could not be read),
        :class:`SinkWriteError` when it cannot write; nothing is written then.
        """

    def recompute(self, *, as_of: datetime, policy: Policy | None, incremental: bool,
                  progress: Progress | None, kernel: str, threads: int | None
                  ) -> tuple[InstantReport, Policy]:
        """Recompute the stored organisation at ``as_of`` and store its results.

        Returns the instant's report and the policy used (``policy``, else the stored one).

        :class:`SourceReadError` when it cannot be read, :class:`SinkWriteError` when its
        results cannot be written.
        """

    def load(self) -> Document:
        """The stored organisation."""

    def load_evaluation(self, as_of: datetime) -> Evaluation:
        """The stored results of the instant ``as_of``."""


class Store(Protocol):
    """A store that recomputes in place (group ``okrcore.sinks``, name ``database``)."""

    def describe(self, spec: str) -> str:
        """``spec`` as messages show it (a database URL without its password)."""

    def open(self, spec: str) -> AbstractContextManager[StoreSession]:
        """Open the store (closed when the ``with`` block ends).

        :class:`SourceReadError` when ``spec`` cannot be opened.
        """


class Executor(Protocol):
    """Runs a dataset's partitions elsewhere (group ``okrcore.executors``)."""

    def __call__(self, dataset: str, out: str, instants: Sequence[datetime], policy: Policy,
                 *, scheduler: str | None, workers: int, kernel: str, incremental: bool,
                 progress: Progress | None, threads: int | None
                 ) -> tuple[list[InstantReport], list[str], int]:
        """Recompute every partition into ``out``; (reports, failures, written)."""


def registered(group: str) -> dict[str, list[importlib.metadata.EntryPoint]]:
    """The entry points of ``group`` by name, another distribution's before okrcore's own."""
    out: dict[str, list[importlib.metadata.EntryPoint]] = {}
    for ep in importlib.metadata.entry_points(group=group):
        out.setdefault(ep.name, []).append(ep)
    for eps in out.values():
        eps.sort(key=lambda ep: _distribution(ep) == _OWN)
    return out


def _distribution(ep: importlib.metadata.EntryPoint) -> str:
    dist = ep.dist
    return "" if dist is None else str(dist.metadata["Name"] or "").lower()


def find(group: str, name: str) -> Any:
    """Load the adapter registered as ``name`` in ``group``.

    Raises
    ------
    JobError
        No adapter is registered, or it cannot be imported (its extra is not installed): the
        message names what to install.  Two other distributions registering the same name is
        an error too (which one is meant?).
    """
    eps = registered(group).get(name, [])
    hint, module = _MISSING.get(name, (f"no adapter for {name!r} is installed", ""))
    if not eps:
        raise JobError(f"{hint} (no entry point {name!r} in the group {group!r}; an editable "
                       "install of okrcore registers new entry points when reinstalled)")
    others = [ep for ep in eps if _distribution(ep) != _OWN]
    if len(others) > 1:
        raise JobError(f"several adapters for {name!r} (entry point group {group!r}): "
                       + ", ".join(sorted(ep.value for ep in others)))
    try:
        return eps[0].load()
    except ImportError as exc:  # the adapter, or what it needs, is not installed
        module = module or eps[0].module.split(".")[0]
        why = (f"{module} is not installed" if (exc.name or "").split(".")[0] == module
               else one_line(exc))
        raise JobError(f"{hint} ({why})") from None


def source(kind: str) -> Source:
    """The source of ``kind`` (``database``, ``workbook``); see :func:`find`."""
    found: Source = find(SOURCES, kind)
    return found


def sink(kind: str) -> Any:
    """The sink of ``kind``: a :class:`Store` (``database``) or a :class:`FileSink`."""
    return find(SINKS, kind)


def executor(name: str) -> Executor:
    """The executor ``name`` (``dask``); see :func:`find`."""
    found: Executor = find(EXECUTORS, name)
    return found
