"""Migration operations that convert tables of earlier layouts.

Until okrcore 0.x the abstract models stored every instant as a ``BigIntegerField`` of
microseconds since the Unix epoch and colours as codes with ``-1`` for no colour; until issue
19 the coded result columns (colours, trend, staleness, rollup mode and rule, error) held the
batch engine's integer codes.  A product's own migration uses these operations where
``makemigrations`` wrote an ``AlterField`` (see the example app's ``0002`` and ``0004``
migrations): the values are converted in the database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError, migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.state import ProjectState

__all__ = ["CodesToNames", "MicrosToDateTime", "colours_to_null"]


class MicrosToDateTime(migrations.AlterField):
    """``AlterField`` from µs since the Unix epoch (``BigIntegerField``) to a ``DateTimeField``.

    Parameters
    ----------
    model_name, name, field
        As for ``AlterField`` (``field`` is the new ``DateTimeField``).
    none_value : int, optional
        A stored value that meant "no instant" (the batch engine's ``NONE_INSTANT`` for
        ``last_at``): it becomes NULL (the new field must be nullable).

    Notes
    -----
    PostgreSQL: ``ALTER COLUMN … TYPE timestamptz USING 'epoch' + µs`` (exact integer
    arithmetic).  SQLite: the table is rebuilt as ``AlterField`` does, then the values are
    rewritten as Django stores datetimes (UTC text, ``YYYY-MM-DD HH:MM:SS[.ffffff]``).
    Irreversible.
    """

    reversible = False

    def __init__(self, model_name: str, name: str, field: Any,
                 none_value: int | None = None, preserve_default: bool = True) -> None:
        self.none_value = none_value
        super().__init__(model_name, name, field, preserve_default)

    def deconstruct(self) -> tuple[str, Any, dict[str, Any]]:
        """As ``AlterField``, with ``none_value``."""
        _name, args, kwargs = super().deconstruct()
        if self.none_value is not None:
            kwargs["none_value"] = self.none_value
        return self.__class__.__name__, args, kwargs

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                          from_state: ProjectState, to_state: ProjectState) -> None:
        """Convert the column and its values."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table = schema_editor.quote_name(model._meta.db_table)
        column = schema_editor.quote_name(model._meta.get_field(self.name).column)
        vendor = schema_editor.connection.vendor
        none = "WHEN FALSE THEN NULL " if self.none_value is None else (
            f"WHEN {column} = {int(self.none_value)} THEN NULL ")
        if vendor == "postgresql":
            if self.field.null:
                schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE timestamp with time zone "
                f"USING (CASE {none}ELSE TIMESTAMPTZ 'epoch' "
                f"+ ({column} / 1000000) * INTERVAL '1 second' "
                f"+ ({column} % 1000000) * INTERVAL '1 microsecond' END)", params=None)
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        elif vendor == "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            frac = f"((({column} % 1000000) + 1000000) % 1000000)"
            text = (f"strftime('%Y-%m-%d %H:%M:%S', ({column} - {frac}) / 1000000, 'unixepoch')"
                    f" || CASE WHEN {frac} = 0 THEN '' "
                    f"ELSE '.' || substr('000000' || {frac}, -6, 6) END")
            schema_editor.execute(
                f"UPDATE {table} SET {column} = CASE {none}ELSE {text} END "
                f"WHERE typeof({column}) = 'integer'", params=None)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise NotSupportedError(f"okrcore_django supports SQLite and PostgreSQL, "
                                    f"not {vendor}")

    def database_backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                           from_state: ProjectState, to_state: ProjectState) -> None:
        """Refused: the conversion is one way (``reversible`` is false)."""
        raise IrreversibleError(f"{self.describe()} cannot be reversed")

    def describe(self) -> str:
        """A one-line description for ``migrate``'s output."""
        return f"Convert µs field {self.name} on {self.model_name} to a DateTimeField"


class CodesToNames(migrations.AlterField):
    """``AlterField`` from integer codes (``SmallIntegerField``) to their names (``CharField``).

    Parameters
    ----------
    model_name, name, field
        As for ``AlterField`` (``field`` is the new ``CharField``).
    names : dict of int to str
        Code -> stored name (:data:`okrcore.codes.RESULT_CODE_NAMES` of the column, written out
        in the migration so that it never changes under it).
    none_code : int, optional
        The code that meant "none" (``-1`` for trend and staleness, ``0`` for error): it
        becomes NULL (the new field must be nullable).  Colours were NULL already.

    Notes
    -----
    The column is altered as ``AlterField`` does (PostgreSQL: ``USING col::varchar``; SQLite:
    the table is rebuilt, the integers becoming text), then one ``UPDATE … SET col = CASE col
    WHEN '0' THEN 'green' …`` maps codes to names; a value that is no code of the column is
    kept as it is (reading it then fails loudly).  Reversible: names back to codes, NULL back
    to ``none_code``.
    """

    def __init__(self, model_name: str, name: str, field: Any, names: dict[int, str],
                 none_code: int | None = None, preserve_default: bool = True) -> None:
        self.names, self.none_code = dict(names), none_code
        super().__init__(model_name, name, field, preserve_default)

    def deconstruct(self) -> tuple[str, Any, dict[str, Any]]:
        """As ``AlterField``, with ``names`` and ``none_code``."""
        _name, args, kwargs = super().deconstruct()
        kwargs["names"] = self.names
        if self.none_code is not None:
            kwargs["none_code"] = self.none_code
        return self.__class__.__name__, args, kwargs

    def _column(self, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState,
                app_label: str) -> tuple[str, str] | None:
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return None
        return (schema_editor.quote_name(model._meta.db_table),
                schema_editor.quote_name(model._meta.get_field(self.name).column))

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                          from_state: ProjectState, to_state: ProjectState) -> None:
        """Alter the column, then map codes to names."""
        super().database_forwards(app_label, schema_editor, from_state, to_state)
        found = self._column(schema_editor, to_state, app_label)
        if found is None:
            return
        table, column = found
        cases = " ".join(f"WHEN '{int(code)}' THEN %s" for code in self.names)
        none = "" if self.none_code is None else f"WHEN '{int(self.none_code)}' THEN NULL "
        schema_editor.execute(
            f"UPDATE {table} SET {column} = CASE {column} {cases} {none}ELSE {column} END",
            params=list(self.names.values()))

    def database_backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                           from_state: ProjectState, to_state: ProjectState) -> None:
        """Map names back to codes (NULL to ``none_code``), then alter the column back."""
        found = self._column(schema_editor, from_state, app_label)
        if found is not None:
            table, column = found
            cases = " ".join(f"WHEN {column} = %s THEN '{int(code)}'" for code in self.names)
            none = ("" if self.none_code is None
                    else f"WHEN {column} IS NULL THEN '{int(self.none_code)}' ")
            schema_editor.execute(
                f"UPDATE {table} SET {column} = CASE {none}{cases} ELSE {column} END",
                params=list(self.names.values()))
        # AlterField.database_backwards would call this class's database_forwards
        migrations.AlterField.database_forwards(self, app_label, schema_editor, from_state,
                                                to_state)

    def describe(self) -> str:
        """A one-line description for ``migrate``'s output."""
        return f"Store codes of {self.name} on {self.model_name} as names"


def colours_to_null(model_fields: dict[str, tuple[str, ...]]) -> migrations.RunPython:
    """A ``RunPython`` that stores the earlier "no colour" code ``-1`` as NULL.

    Parameters
    ----------
    model_fields : dict of str to tuple of str
        ``"app_label.Model"`` -> the colour fields (already nullable) of that model.
    """
    def forwards(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        alias = schema_editor.connection.alias
        for label, fields in model_fields.items():
            model = apps.get_model(label)
            for name in fields:
                model.objects.using(alias).filter(**{name: -1}).update(**{name: None})

    return migrations.RunPython(forwards, migrations.RunPython.noop)
