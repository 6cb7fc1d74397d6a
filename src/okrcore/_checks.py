"""Named attrs validators shared by the model; each raises :class:`~okrcore.errors.OkrValueError`.

They are private helpers of :mod:`okrcore.model` and :mod:`okrcore.policy`.
"""

from __future__ import annotations

import math
from datetime import datetime
from numbers import Real
from typing import Any

import attrs

from okrcore import errors as E

__all__ = [
    "check_finite",
    "check_finite_or_none",
    "check_instant",
    "check_instant_or_none",
    "check_non_negative",
    "check_one_of",
    "finite_number",
    "text",
]



def finite_number(field: str, value: object) -> float:
    """Return ``value`` as a float, or raise when it is not a finite real number.

    Booleans, strings (even ``"12"``), ``None``, NaN and infinities are rejected:
    okrcore coerces nothing silently.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        shown = repr(value)
        raise E.OkrValueError(
            E.NOT_A_NUMBER, field, f"{field} must be a number, got {shown}", value
        )
    result = float(value)
    if not math.isfinite(result):
        raise E.OkrValueError(
            E.NOT_FINITE, field, f"{field} must be a finite number, got {value!r}", value
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
    """Attrs validator: a timezone-aware :class:`datetime.datetime`."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise E.OkrValueError(
            E.INVALID_VALUE,
            attribute.name,
            f"{attribute.name} must be a timezone-aware datetime, got {value!r}",
            value,
        )


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
