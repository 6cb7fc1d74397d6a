"""Named attrs validators shared by the model; each raises :class:`~okrcore.errors.OkrValueError`.

They are private helpers of :mod:`okrcore.model` and :mod:`okrcore.policy`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from numbers import Real
from typing import Any

import attrs

from okrcore import errors as E

__all__ = [
    "HugeInteger",
    "check_finite",
    "check_finite_or_none",
    "check_instant",
    "check_instant_or_none",
    "check_non_negative",
    "check_one_of",
    "finite_number",
    "shown",
    "text",
]

class HugeInteger:
    """A JSON integer with more digits than Python converts (``sys.get_int_max_str_digits``).

    The reader keeps it as this marker instead of failing the whole document: a field that
    wants a number reports ``not_finite``, one that wants a string ``wrong_type``.
    """

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<an integer of {self.digits} digits>"


_SHOWN: int = 80
"""At most this many characters of a bad value are quoted in a message."""


def shown(value: object) -> str:
    """``repr(value)``, shortened to a readable length (a hostile value can be huge)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"<a {type(value).__name__} nested too deep to show>"
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def finite_number(field: str, value: object) -> float:
    """Return ``value`` as a float, or raise when it is not a finite real number.

    Booleans, strings (even ``"12"``), ``None``, NaN and infinities are rejected:
    okrcore coerces nothing silently.
    """
    cls = type(value)
    if cls is float or cls is int:  # the common case first (isinstance with Real is slow)
        try:
            number = float(value)  # type: ignore[arg-type]
        except OverflowError:
            number = math.inf
        if number - number == 0.0:  # finite
            return number
    if isinstance(value, HugeInteger):
        raise E.OkrValueError(
            E.NOT_FINITE, field,
            f"{field} must be a finite number (at most about 1.8e308), got {shown(value)}", value
        )
    if isinstance(value, bool) or not isinstance(value, Real):
        raise E.OkrValueError(
            E.NOT_A_NUMBER, field, f"{field} must be a number, got {shown(value)}", value
        )
    try:
        result = float(value)
    except OverflowError:  # an integer beyond the largest float (10**400)
        result = math.inf
    if not math.isfinite(result):
        raise E.OkrValueError(
            E.NOT_FINITE, field,
            f"{field} must be a finite number (at most about 1.8e308), got {shown(value)}", value
        )
    return result


def check_finite(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: ``value`` is a finite real number (not a bool, not a string)."""
    finite_number(attribute.name, value)


def check_finite_or_none(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: ``value`` is ``None`` or a finite real number."""
    if value is not None:
        finite_number(attribute.name, value)


def check_non_negative(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator for weights: a finite number >= 0 (``negative_weight`` otherwise)."""
    number = finite_number(attribute.name, value)
    if number < 0:
        raise E.OkrValueError(
            E.NEGATIVE_WEIGHT,
            attribute.name,
            f"{attribute.name} must be >= 0, got {value!r}",
            value,
        )


def check_instant(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: a timezone-aware :class:`datetime.datetime`, representable in UTC."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise E.OkrValueError(
            E.INVALID_VALUE,
            attribute.name,
            f"{attribute.name} must be a timezone-aware datetime, got {shown(value)}",
            value,
        )
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise E.OkrValueError(
            E.OUT_OF_RANGE,
            attribute.name,
            f"{attribute.name} {value.isoformat()} is outside years 1-9999 in UTC",
            value,
        ) from None


def check_instant_or_none(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: ``None`` or a timezone-aware :class:`datetime.datetime`."""
    if value is not None:
        check_instant(_inst, attribute, value)


def check_one_of(*allowed: str) -> Any:
    """Return an attrs validator that accepts only the given strings."""

    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in allowed:
            raise E.OkrValueError(
                E.UNKNOWN_FIELD_VALUE,
                attribute.name,
                f"{attribute.name} must be one of {', '.join(allowed)}; got {value!r}",
                value,
            )

    return check


def text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise E.OkrValueError(
            E.WRONG_TYPE,
            attribute.name,
            f"{attribute.name} must be a non-empty string, got {value!r}",
            value,
        )
