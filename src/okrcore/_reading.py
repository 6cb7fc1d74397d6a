"""Reading the fields of interchange objects: instants, typed fields and error collection.

The interchange loader (:mod:`okrcore.interchange`) and every key-result kind
(:mod:`okrcore.kinds`) read their JSON objects with the :class:`Reader` of this module, so that a
kind's mapping lives in its own module without importing the loader.  Public names are
re-exported by :mod:`okrcore.interchange` (``parse_instant``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from okrcore import _checks as C
from okrcore import errors as E
from okrcore.instants import EPOCH as EPOCH
from okrcore.instants import parse_instant as parse_instant
from okrcore.model import CheckIn

__all__ = [
    "EPOCH",
    "Reader",
    "at_us",
    "boolean",
    "choice",
    "due_instant",
    "list_",
    "load_check_ins",
    "number",
    "object_",
    "owners",
    "parse_instant",
    "start_instant",
    "string",
    "text",
    "unknown_fields",
]

def at_us(value: int) -> datetime:
    """The aware UTC datetime of a stored instant [µs since the Unix epoch]."""
    return EPOCH + timedelta(microseconds=int(value))


class Reader:
    """Reads the fields of one JSON object, collecting errors instead of stopping at the first."""

    def __init__(self, data: Mapping[str, Any], path: str,
                 warnings: list[E.OkrError] | None = None) -> None:
        self.data = data
        self.path = path
        self.errors: list[E.OkrError] = []
        self.warnings: list[E.OkrError] = [] if warnings is None else warnings

    def warn_unknown(self, known: Iterable[str]) -> None:
        """Warn of every field not in ``known`` (``unknown_field``, SEMANTICS §11.3)."""
        self.warnings.extend(unknown_fields(self.data, known, self.path))

    def _fail(self, exc: E.OkrValueError) -> None:
        self.errors.append(exc.to_error(self.path))

    def get(self, key: str, parse: Callable[[object, str], Any], default: Any = None,
            required: bool = False) -> Any:
        """The field ``key`` parsed by ``parse``; ``default`` (and an error) when it fails."""
        if key not in self.data or (self.data[key] is None and not required):
            if required:
                self._fail(E.OkrValueError(E.MISSING_FIELD, key, f"{key} is required"))
            return default
        try:
            return parse(self.data[key], key)
        except E.OkrValueError as exc:
            self._fail(exc)
            return default

    def build(self, factory: Callable[..., Any], **fields: Any) -> Any:
        """``factory(**fields)``, or ``None`` (and an error) when it raises."""
        try:
            return factory(**fields)
        except E.OkrValueError as exc:
            self._fail(exc)
            return None


def unknown_fields(data: Mapping[str, Any], known: Iterable[str], path: str
                   ) -> list[E.OkrError]:
    """The ``unknown_field`` warnings of the fields of ``data`` not in ``known``, by name."""
    allowed = known if isinstance(known, frozenset) else frozenset(known)
    if allowed.issuperset(data):  # the common case: nothing to warn of
        return []
    prefix = f"{path}." if path else ""
    return [E.OkrError(E.UNKNOWN_FIELD, f"{prefix}{key}",
                       f"unknown field {key!r} is ignored")
            for key in sorted(str(k) for k in data if k not in allowed)]


def number(value: object, field: str) -> Any:
    """A finite number, kept as given (an int stays an int)."""
    C.finite_number(field, value)
    return value


def string(value: object, field: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise E.OkrValueError(E.WRONG_TYPE, field,
                              f"{field} must be a non-empty string, got {C.shown(value)}", value)
    return value


def text(value: object, field: str) -> str:
    """Any string."""
    if not isinstance(value, str):
        raise E.OkrValueError(E.WRONG_TYPE, field,
                              f"{field} must be a string, got {C.shown(value)}",
                              value)
    return value


def boolean(value: object, field: str) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise E.OkrValueError(E.WRONG_TYPE, field,
                              f"{field} must be true or false, got {C.shown(value)}", value)
    return value


def choice(*allowed: str) -> Callable[[object, str], str]:
    """Return a parser of one of the ``allowed`` names."""
    def parse(value: object, field: str) -> str:
        if value not in allowed:
            raise E.OkrValueError(E.UNKNOWN_FIELD_VALUE, field,
                                  f"{field} must be one of {', '.join(allowed)}; "
                                  f"got {C.shown(value)}",
                                  value)
        return str(value)
    return parse


def start_instant(value: object, field: str) -> datetime:
    """An instant or a date (its start)."""
    return parse_instant(value, field)


def due_instant(value: object, field: str) -> datetime:
    """An instant or a date (its end: the next midnight, UTC)."""
    return parse_instant(value, field, end_of_day=True)


def owners(value: object, field: str) -> tuple[str, ...]:
    """A list of non-empty names."""
    if not isinstance(value, list):
        raise E.OkrValueError(E.WRONG_TYPE, field, f"{field} must be a list of names, got "
                              f"{C.shown(value)}", value)
    return tuple(string(v, f"{field}[{i}]") for i, v in enumerate(value))


def object_(value: object, field: str) -> Mapping[str, Any]:
    """A JSON object."""
    if not isinstance(value, dict):
        raise E.OkrValueError(E.WRONG_TYPE, field,
                              f"{field} must be an object, got {C.shown(value)}",
                              value)
    return value


def list_(value: object, field: str) -> list[Any]:
    """A JSON array."""
    if not isinstance(value, list):
        raise E.OkrValueError(E.WRONG_TYPE, field, f"{field} must be a list, got {C.shown(value)}",
                              value)
    return value


def load_check_ins(reader: Reader, key: str) -> tuple[CheckIn, ...] | None:
    """The ``check_ins`` of the object ``reader`` reads, each value in the field ``key``.

    ``key`` is ``done`` (a boolean) or a number field (``value``, ``stages_done``).
    """
    entries = reader.get("check_ins", list_)
    if entries is None:
        return None
    result = []
    known = frozenset(("at", key))
    for i, raw in enumerate(entries):
        sub = Reader({}, f"{reader.path}.check_ins[{i}]", reader.warnings)
        try:
            entry = object_(raw, "")
        except E.OkrValueError as exc:
            reader._fail(E.OkrValueError(exc.code, f"check_ins[{i}]", exc.message, raw))
            continue
        sub.data = entry
        sub.warn_unknown(known)
        at = sub.get("at", start_instant, required=True)
        parse = boolean if key == "done" else number
        value = sub.get(key, parse, required=True)
        reader.errors.extend(sub.errors)
        if not sub.errors:
            result.append(CheckIn(at, value))
    return tuple(result)
