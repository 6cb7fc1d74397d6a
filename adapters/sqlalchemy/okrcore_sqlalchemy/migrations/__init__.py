"""Alembic migrations of the reference schema (tables ``okrcore_*``).

Revisions: ``0001`` the schema :func:`okrcore_sqlalchemy.create_schema` made before issue 19
(instants as BIGINT µs, coded results as integers); ``0002`` instants as ``timestamp with time
zone`` on PostgreSQL and coded result columns as readable names, converting the stored rows;
``0003`` the change log ``okrcore_changes``.  Use :func:`upgrade` from code, or the ``alembic``
command with ``script_location = okrcore_sqlalchemy:migrations`` (see
``docs/adapters-sqlalchemy.rst``).  Needs the ``migrations`` extra (Alembic).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, Integer, inspect

__all__ = [
    "SCRIPT_LOCATION",
    "VERSION_TABLE",
    "config",
    "current",
    "downgrade",
    "include_object",
    "upgrade",
]

SCRIPT_LOCATION: Final = str(Path(__file__).resolve().parent)
"""The directory of the migration scripts (``script_location`` of an Alembic configuration;
``okrcore_sqlalchemy:migrations`` names it too)."""
VERSION_TABLE: Final = "okrcore_alembic_version"
"""The table holding the revision of the reference schema (beside a product's own history)."""


def include_object(obj: Any, name: str | None, kind: str, _reflected: bool,
                   _compare_to: Any) -> bool:
    """Whether Alembic compares an object: only the reference tables and their contents."""
    if kind == "table":
        return bool(name and name.startswith("okrcore_") and name != VERSION_TABLE)
    table = getattr(obj, "table", None)
    return table is None or str(getattr(table, "name", "")).startswith("okrcore_")


def _require_alembic() -> Any:
    try:
        import alembic.command
        import alembic.config
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("migrations need Alembic: pip install 'okrcore[migrations]'") from exc
    return alembic


def config(connection: Connection | None = None, url: str | None = None) -> Any:
    """An Alembic ``Config`` for the reference schema's migrations.

    Parameters
    ----------
    connection : Connection, optional
        Run the migrations on this connection (inside its transaction).
    url : str, optional
        Else connect to this database URL.
    """
    alembic = _require_alembic()
    cfg = alembic.config.Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _found_revision(conn: Connection) -> str | None:
    """The revision of reference tables created without Alembic (``None``: no tables).

    :func:`~okrcore_sqlalchemy.create_schema` makes the tables without a version: integer
    colours are revision 0001 (before issue 19), readable ones 0002, with the change log 0003.
    """
    tables = set(inspect(conn).get_table_names())
    if "okrcore_kr_results" not in tables:
        return None
    colour = next(c for c in inspect(conn).get_columns("okrcore_kr_results")
                  if c["name"] == "colour")
    if isinstance(colour["type"], Integer):
        return "0001"
    return "0003" if "okrcore_changes" in tables else "0002"


def current(bind: Engine | Connection) -> str | None:
    """The revision of the database's reference schema (``None``: not versioned)."""
    from alembic.migration import MigrationContext

    _require_alembic()

    def read(conn: Connection) -> str | None:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        revision: str | None = context.get_current_revision()
        return revision

    if isinstance(bind, Connection):
        return read(bind)
    with bind.connect() as conn:
        return read(conn)


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    """Upgrade the reference schema to ``revision`` (default the latest), in one transaction.

    A database whose reference tables were made by
    :func:`~okrcore_sqlalchemy.create_schema` (no version yet) is first stamped with the
    revision its tables are at; an empty one gets every table.

    Parameters
    ----------
    bind : Engine or Connection
        The database (a connection: inside its transaction, committed by the caller).
    revision : str
        The target revision.
    """
    alembic = _require_alembic()

    def run(conn: Connection) -> None:
        cfg = config(conn)
        if current(conn) is None:
            found = _found_revision(conn)
            if found is not None:
                alembic.command.stamp(cfg, found)
        alembic.command.upgrade(cfg, revision)

    if isinstance(bind, Connection):
        run(bind)
        return
    with bind.begin() as conn:
        run(conn)


def downgrade(bind: Engine | Connection, revision: str) -> None:
    """Downgrade the reference schema to ``revision`` (``base``: drop every table)."""
    alembic = _require_alembic()
    if isinstance(bind, Connection):
        alembic.command.downgrade(config(bind), revision)
        return
    with bind.begin() as conn:
        alembic.command.downgrade(config(conn), revision)
