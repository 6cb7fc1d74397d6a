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
from typing import Any

import attrs
from django.apps import apps
from django.db import connections

import okrcore
from okrcore_django.conf import models_setting

__all__ = ["engine_for", "forget_schemas", "load_document", "load_evaluation", "models_setting",
           "recompute", "schema_for", "store_document"]


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


class _Reflected:
    """A reflected table in the place of a mapped class (a :class:`Schema` reads ``__table__``).

    Hashable by identity, as mapped classes are.
    """

    def __init__(self, table: Any) -> None:
        self.__table__ = table


_SCHEMAS: dict[tuple[Any, ...], Any] = {}
"""Reflected schemas by database alias and role mapping (see :func:`forget_schemas`)."""


def forget_schemas(**_signal: Any) -> None:
    """Drop the reflected schemas (Django's ``post_migrate`` calls it: tables may have changed).

    Call it after changing the tables some other way in a running process.
    """
    _SCHEMAS.clear()


def schema_for(bind: Any, models: Mapping[str, str] | None = None,
               alias: str | None = None) -> Any:
    """Reflect the Django models' tables into an :class:`okrcore_sqlalchemy.Schema`.

    ``DateTimeField`` columns become :class:`okrcore_sqlalchemy.Timestamp`.  The role
    ``change`` (the change log) is optional.  Given the database ``alias``, the schema is
    reflected once per alias and role mapping in a process (:func:`forget_schemas` drops them;
    ``migrate`` does).
    """
    import sqlalchemy

    from okrcore_sqlalchemy import Schema, Timestamp

    mapping = dict(models or models_setting())
    if "change" not in attrs.fields_dict(Schema):  # an okrcore_sqlalchemy without a change log
        mapping.pop("change", None)
    key = (alias, tuple(sorted(mapping.items())))
    cached = None if alias is None else _SCHEMAS.get(key)
    if cached is not None:
        return cached
    from okrcore_sqlalchemy import SourceError

    metadata = sqlalchemy.MetaData()
    roles = {}
    for role, label in mapping.items():
        name = apps.get_model(label)._meta.db_table
        try:
            table = sqlalchemy.Table(name, metadata, autoload_with=bind)
        except sqlalchemy.exc.NoSuchTableError as exc:
            raise SourceError(f"the table {name!r} of the role {role!r} ({label}) does not "
                              "exist: run migrate") from exc
        for column in table.columns:  # DateTimeField: timestamptz, or UTC text on SQLite
            if isinstance(column.type, sqlalchemy.DateTime):
                column.type = Timestamp()
        roles[role] = _Reflected(table)
    schema = Schema(**roles)
    if alias is not None:
        _SCHEMAS[key] = schema
    return schema


def recompute(alias: str = "default", models: Mapping[str, str] | None = None,
              **options: Any) -> Any:
    """Run :func:`okrcore_sqlalchemy.recompute` on a Django database; returns its report."""
    import okrcore_sqlalchemy

    bind = engine_for(alias)
    try:
        return okrcore_sqlalchemy.recompute(bind, schema=schema_for(bind, models, alias),
                                            **options)
    finally:
        bind.dispose()


def store_document(document: okrcore.Document, alias: str = "default",
                   models: Mapping[str, str] | None = None) -> None:
    """Write a document into the Django models' tables (one transaction).

    With a change log (role ``change``) a ``structural`` change is recorded after it: the
    organisation was replaced, so the next incremental run recomputes everything.
    """
    import okrcore_sqlalchemy
    from okrcore_django.changes import record_changes

    bind = engine_for(alias)
    try:
        okrcore_sqlalchemy.store_document(bind, document, schema_for(bind, models, alias))
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
        return okrcore_sqlalchemy.load_document(bind, schema_for(bind, models, alias))
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
        return okrcore_sqlalchemy.load_evaluation(bind, as_of, schema_for(bind, models, alias))
    finally:
        bind.dispose()
