"""Alembic environment of the okrcore reference schema (tables ``okrcore_*``).

Run by :func:`okrcore_sqlalchemy.migrations.upgrade` (which passes its connection in
``config.attributes["connection"]``) or by the ``alembic`` command with a configuration whose
``script_location`` is ``okrcore_sqlalchemy:migrations`` and whose ``sqlalchemy.url`` names the
database.  The version is kept in ``okrcore_alembic_version``, so a product's own Alembic
history (``alembic_version``) lives beside it in the same database.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from okrcore_sqlalchemy.migrations import VERSION_TABLE, include_object
from okrcore_sqlalchemy.schema import Base


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      version_table=VERSION_TABLE, include_object=include_object,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    config = context.config
    connection: Any = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {},
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"),
                      target_metadata=Base.metadata, version_table=VERSION_TABLE,
                      literal_binds=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()
else:
    _online()
