"""The Django side of the job: the SQLAlchemy adapter's bulk job on Django's database.

Django's ORM has no columnar read or set-based upsert, so the command does not write the job a
second time: it opens an SQLAlchemy engine on the same database (from the connection's settings),
reflects the Django models' tables into an :class:`okrcore_sqlalchemy.Schema` (their
``DateTimeField`` columns as :class:`okrcore_sqlalchemy.Timestamp`: ``timestamptz`` on
PostgreSQL, Django's UTC text on SQLite), and runs :func:`okrcore_sqlalchemy.recompute`.  The
mapping to the core is :mod:`okrcore.rows` either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import attrs
from django.apps import apps
from django.db import connections

import okrcore
from okrcore_django.conf import models_setting

__all__ = ["engine_for", "load_document", "load_evaluation", "models_setting", "recompute",
           "schema_for", "store_document"]


def engine_for(alias: str = "default") -> Any:
    """An SQLAlchemy engine on the database of a Django connection (SQLite or PostgreSQL).

    Raises
    ------
    ImportError
        Without the ``sqlalchemy`` extra.
    ValueError
        For another database backend.
    """
    try:
        import sqlalchemy
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("okrcore_recompute runs the SQLAlchemy adapter's job: "
                          "pip install 'okrcore[django]'") from exc
    data = connections[alias].settings_dict
    engine = data["ENGINE"]
    if engine.endswith("sqlite3"):
        return sqlalchemy.create_engine(f"sqlite:///{data['NAME']}")
    if "postgresql" in engine:
        url = sqlalchemy.engine.URL.create(
            "postgresql+psycopg", username=data.get("USER") or None,
            password=data.get("PASSWORD") or None, host=data.get("HOST") or None,
            port=int(data["PORT"]) if data.get("PORT") else None, database=data["NAME"])
        options = (data.get("OPTIONS") or {}).get("options")  # e.g. a search_path
        return sqlalchemy.create_engine(url, connect_args={"options": options} if options else {})
    raise ValueError(f"okrcore_django supports SQLite and PostgreSQL, not {engine}")


def schema_for(bind: Any, models: Mapping[str, str] | None = None) -> Any:
    """Reflect the Django models' tables into an :class:`okrcore_sqlalchemy.Schema`."""
    import sqlalchemy

    from okrcore_sqlalchemy import Schema, Timestamp

    metadata = sqlalchemy.MetaData()
    roles = {}
    for role, label in (models or models_setting()).items():
        table = sqlalchemy.Table(apps.get_model(label)._meta.db_table, metadata,
                                 autoload_with=bind)
        for column in table.columns:  # DateTimeField: timestamptz, or UTC text on SQLite
            if isinstance(column.type, sqlalchemy.DateTime):
                column.type = Timestamp()
        roles[role] = SimpleNamespace(__table__=table)
    if "change" not in attrs.fields_dict(Schema):  # an okrcore_sqlalchemy without a change log
        roles.pop("change", None)
    return Schema(**roles)


def recompute(alias: str = "default", models: Mapping[str, str] | None = None,
              **options: Any) -> Any:
    """Run :func:`okrcore_sqlalchemy.recompute` on a Django database; returns its report."""
    import okrcore_sqlalchemy

    bind = engine_for(alias)
    try:
        return okrcore_sqlalchemy.recompute(bind, schema=schema_for(bind, models), **options)
    finally:
        bind.dispose()


def store_document(document: okrcore.Document, alias: str = "default",
                   models: Mapping[str, str] | None = None) -> None:
    """Write a document into the Django models' tables (one transaction).

    With a change log (role ``change``) a ``structural`` change is recorded after it: the
    organisation was replaced, so the next incremental run recomputes everything.
    """
    import okrcore_sqlalchemy
    from okrcore_django.models import record_changes

    bind = engine_for(alias)
    try:
        okrcore_sqlalchemy.store_document(bind, document, schema_for(bind, models))
    finally:
        bind.dispose()
    label = (models or models_setting()).get("change")
    if label is not None:
        record_changes(apps.get_model(label), alias, [(None, None, None, True)])


def load_document(alias: str = "default",
                  models: Mapping[str, str] | None = None) -> okrcore.Document:
    """Read the organisation stored in the Django models' tables back as a document."""
    import okrcore_sqlalchemy

    bind = engine_for(alias)
    try:
        return okrcore_sqlalchemy.load_document(bind, schema_for(bind, models))
    finally:
        bind.dispose()


def load_evaluation(alias: str = "default", as_of: datetime | None = None,
                    models: Mapping[str, str] | None = None) -> okrcore.Evaluation:
    """Read the stored results (default the latest snapshot) as an ``okrcore.Evaluation``.

    Raises
    ------
    LookupError
        No complete snapshot at that instant (or the organisation changed since).
    """
    import okrcore_sqlalchemy

    bind = engine_for(alias)
    try:
        return okrcore_sqlalchemy.load_evaluation(bind, as_of, schema_for(bind, models))
    finally:
        bind.dispose()
