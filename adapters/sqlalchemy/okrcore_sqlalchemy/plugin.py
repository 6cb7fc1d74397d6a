"""The ``database`` source and store of ``okrcore recompute`` (and ``okrcore demo``).

okrcore finds :data:`DATABASE` through its entry points (groups ``okrcore.sources`` and
``okrcore.sinks``, name ``database``; :mod:`okrcore.jobs.adapters`), so the core never imports
this package.  It maps the SQLAlchemy job (:func:`~okrcore_sqlalchemy.recompute`,
:func:`~okrcore_sqlalchemy.store_document`, :func:`~okrcore_sqlalchemy.load_document`) to the
job's protocols and turns database errors into one-line messages that never show a password,
SQL or its parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Final

import sqlalchemy
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from okrcore.jobs._text import one_line
from okrcore.jobs.adapters import (
    SinkWriteError,
    SourceData,
    SourceReadError,
    StoreRefusedError,
)
from okrcore.jobs.report import InstantReport, Progress, RowError
from okrcore.model import Document
from okrcore.policy import Policy
from okrcore.results import Evaluation
from okrcore_sqlalchemy.job import (
    SourceError,
    StoreError,
    load_document,
    load_evaluation,
    recompute,
    store_document,
)

__all__ = ["DATABASE", "Database", "DatabaseSession", "safe_url"]


def safe_url(url: str) -> str:
    """A database URL for messages, with its password hidden."""
    try:
        parsed = make_url(url)
        if parsed.password is not None:
            return one_line(parsed.render_as_string(hide_password=True))
    except Exception:  # any URL SQLAlchemy cannot parse is shown as given
        pass
    return one_line(url)


def _reason(exc: BaseException) -> str:
    """A database error as one line: the driver's message, without SQL or parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return one_line(text.splitlines()[0] if text else type(exc).__name__)


class DatabaseSession:
    """An open database (an :class:`~sqlalchemy.Engine`): the job's ``StoreSession``."""

    def __init__(self, url: str, bind: Engine) -> None:
        self.url = url
        self.bind = bind

    def store(self, document: Document) -> None:
        """Replace the stored organisation (:func:`~okrcore_sqlalchemy.store_document`)."""
        try:
            store_document(self.bind, document)
        except ValueError as exc:
            raise StoreRefusedError(
                f"cannot store the organisation in {safe_url(self.url)}: {one_line(exc)} "
                "(nothing was written)") from None
        except SQLAlchemyError as exc:  # read-only, full disk
            raise SinkWriteError(
                f"cannot store the organisation in {safe_url(self.url)}: {_reason(exc)} "
                "(nothing was written)") from None

    def recompute(self, *, as_of: datetime, policy: Policy | None, incremental: bool,
                  progress: Progress | None, kernel: str, threads: int | None
                  ) -> tuple[InstantReport, Policy]:
        """Recompute in place at ``as_of`` (:func:`~okrcore_sqlalchemy.recompute`)."""
        try:
            got = recompute(self.bind, as_of=as_of, policy=policy, incremental=incremental,
                            progress=progress, kernel=kernel, threads=threads)
        except SourceError as exc:  # unreadable
            raise SourceReadError(f"{safe_url(self.url)}: {one_line(exc)}",
                                  one_line(exc)) from None
        except (StoreError, SQLAlchemyError) as exc:  # read but not written
            raise SinkWriteError(f"{safe_url(self.url)}: {_reason(exc)}") from None
        return InstantReport(
            got.as_of, got.key_results, got.objectives, got.people,
            dict(got.objective_colours),
            tuple(RowError(e.table, e.key, e.error) for e in got.errors),
            got.seconds_read, got.seconds_compute, got.seconds_write,
            skipped_newer=got.skipped_newer), got.policy

    def load(self) -> Document:
        """The stored organisation (:func:`~okrcore_sqlalchemy.load_document`)."""
        return load_document(self.bind)

    def load_evaluation(self, as_of: datetime) -> Evaluation:
        """The stored results at ``as_of`` (:func:`~okrcore_sqlalchemy.load_evaluation`)."""
        return load_evaluation(self.bind, as_of=as_of)


class Database:
    """The ``database`` source and store: any URL SQLAlchemy connects to."""

    def describe(self, spec: str) -> str:
        """The URL with its password hidden."""
        return safe_url(spec)

    def open(self, spec: str) -> AbstractContextManager[DatabaseSession]:
        """An engine for ``spec``, disposed when the ``with`` block ends."""
        try:
            bind = sqlalchemy.create_engine(spec)  # looked up per call (tests patch it)
        except (SQLAlchemyError, ValueError) as exc:
            raise SourceReadError(f"{safe_url(spec)}: {_reason(exc)}", _reason(exc)) from None
        return self._session(spec, bind)

    @contextmanager
    def _session(self, spec: str, bind: Engine) -> Iterator[DatabaseSession]:
        try:
            yield DatabaseSession(spec, bind)
        finally:
            bind.dispose()

    def read(self, spec: str) -> SourceData:
        """The stored organisation, as a source of ``okrcore recompute``."""
        try:
            bind = sqlalchemy.create_engine(spec)
            try:
                return SourceData(load_document(bind))
            finally:
                bind.dispose()
        except SourceError as exc:
            raise SourceReadError(f"{safe_url(spec)}: {one_line(exc)}", one_line(exc)) from None
        except (SQLAlchemyError, ValueError) as exc:
            raise SourceReadError(f"cannot read {safe_url(spec)}: {_reason(exc)}",
                                  _reason(exc)) from None


DATABASE: Final = Database()
"""The object okrcore's entry points name (``okrcore_sqlalchemy.plugin:DATABASE``)."""
