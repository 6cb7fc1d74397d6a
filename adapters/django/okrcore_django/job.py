"""The Django side of the job: the SQLAlchemy adapter's bulk job on Django's database.

Django's ORM has no columnar read or set-based upsert, so the command does not write the job a
second time: it opens an SQLAlchemy engine on the same database (from the connection's settings),
reflects the Django models' tables into an :class:`okrcore_sqlalchemy.Schema`, and runs
:func:`okrcore_sqlalchemy.recompute`.  The mapping to the core is :mod:`okrcore.rows` either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections

import okrcore

__all__ = ["engine_for", "load_document", "models_setting", "recompute", "schema_for",
           "store_document"]


def models_setting() -> Mapping[str, str]:
    """The ``OKRCORE_MODELS`` setting (role -> model label); default the example app's."""
    configured: Mapping[str, str] | None = getattr(settings, "OKRCORE_MODELS", None)
    if configured is not None:
        return configured
    from okrcore_django.example.models import MODELS

    return MODELS


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
        return sqlalchemy.create_engine(url)
    raise ValueError(f"okrcore_django supports SQLite and PostgreSQL, not {engine}")


def schema_for(bind: Any, models: Mapping[str, str] | None = None) -> Any:
    """Reflect the Django models' tables into an :class:`okrcore_sqlalchemy.Schema`."""
    import sqlalchemy

    from okrcore_sqlalchemy import Schema

    metadata = sqlalchemy.MetaData()
    roles = {}
    for role, label in (models or models_setting()).items():
        table = apps.get_model(label)._meta.db_table
        roles[role] = SimpleNamespace(
            __table__=sqlalchemy.Table(table, metadata, autoload_with=bind))
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
    """Write a document into the Django models' tables (one transaction)."""
    import okrcore_sqlalchemy

    bind = engine_for(alias)
    try:
        okrcore_sqlalchemy.store_document(bind, document, schema_for(bind, models))
    finally:
        bind.dispose()


def load_document(alias: str = "default",
                  models: Mapping[str, str] | None = None) -> okrcore.Document:
    """Read the organisation stored in the Django models' tables back as a document."""
    import okrcore_sqlalchemy

    bind = engine_for(alias)
    try:
        return okrcore_sqlalchemy.load_document(bind, schema_for(bind, models))
    finally:
        bind.dispose()
