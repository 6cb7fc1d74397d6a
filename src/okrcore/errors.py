"""Structured errors: every rejection names a code, the path of the offending field and a message.

okrcore never coerces bad input silently.  A model constructor that receives a bad value raises
:class:`OkrValueError`; the interchange loader and the evaluator turn the same conditions into
:class:`OkrError` records in the result's ``errors`` list, so that one bad item never takes the
rest of a document down.
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

__all__ = [
    "ALIGNMENT_CYCLE",
    "BREAKPOINTS_OUT_OF_ORDER",
    "CONFLICTING_CURRENT",
    "DEGENERATE_METRIC",
    "DEPENDS_ON_INVALID",
    "DUPLICATE_ID",
    "ERROR_CODES",
    "INVALID_TIMELINE",
    "INVALID_VALUE",
    "MISSING_FIELD",
    "MIXED_DIRECTIONS",
    "NEGATIVE_WEIGHT",
    "NOT_A_NUMBER",
    "NOT_FINITE",
    "NO_CONTRIBUTING_METRIC",
    "OUT_OF_RANGE",
    "UNKNOWN_FIELD",
    "UNKNOWN_FIELD_VALUE",
    "UNKNOWN_PARENT",
    "WARNING_CODES",
    "WRONG_TYPE",
    "DocumentError",
    "OkrError",
    "OkrValueError",
    "UnknownItemError",
    "error_sort_key",
]

NOT_A_NUMBER: Final = "not_a_number"
"""A number was expected and something else (a string, a boolean, null) was given."""
NOT_FINITE: Final = "not_finite"
"""A number was NaN or infinite."""
OUT_OF_RANGE: Final = "out_of_range"
"""A number lies outside the values the field accepts (a cap below 1, too many stages done)."""
WRONG_TYPE: Final = "wrong_type"
"""A field has the wrong JSON type (a list where an object is expected, a number for an id)."""
MISSING_FIELD: Final = "missing_field"
"""A required field is absent."""
UNKNOWN_FIELD_VALUE: Final = "unknown_value"
"""An enumerated field holds a value outside its vocabulary (kind, mode, status, ambition)."""
INVALID_VALUE: Final = "invalid_value"
"""A field's value is malformed in a way no more specific code covers (a bad timestamp)."""
DEGENERATE_METRIC: Final = "degenerate_metric"
"""A metric or sum goal whose target equals its start (progress would divide by zero)."""
BREAKPOINTS_OUT_OF_ORDER: Final = "breakpoints_out_of_order"
"""Range breakpoints are not ordered red_low <= yellow_low <= target <= yellow_high <= red_high."""
NEGATIVE_WEIGHT: Final = "negative_weight"
"""A weight below zero."""
CONFLICTING_CURRENT: Final = "conflicting_current"
"""A key result has both an explicit current value and a check-in history."""
DUPLICATE_ID: Final = "duplicate_id"
"""Two objectives, or two key results, share an id."""
UNKNOWN_PARENT: Final = "unknown_parent"
"""An objective names a parent that is not in the document."""
ALIGNMENT_CYCLE: Final = "alignment_cycle"
"""Following parents from an objective comes back to it."""
NO_CONTRIBUTING_METRIC: Final = "no_contributing_metric"
"""A ``sum`` goal has no metric key result in its unit."""
MIXED_DIRECTIONS: Final = "mixed_directions"
"""A ``sum`` goal's contributing metrics do not all go the same way."""
INVALID_TIMELINE: Final = "invalid_timeline"
"""A due instant that is not after the start instant."""
DEPENDS_ON_INVALID: Final = "depends_on_invalid"
"""The item itself is fine but needs an item that has an error."""

ERROR_CODES: Final = frozenset(
    {
        NOT_A_NUMBER,
        NOT_FINITE,
        OUT_OF_RANGE,
        WRONG_TYPE,
        MISSING_FIELD,
        UNKNOWN_FIELD_VALUE,
        INVALID_VALUE,
        DEGENERATE_METRIC,
        BREAKPOINTS_OUT_OF_ORDER,
        NEGATIVE_WEIGHT,
        CONFLICTING_CURRENT,
        DUPLICATE_ID,
        UNKNOWN_PARENT,
        ALIGNMENT_CYCLE,
        NO_CONTRIBUTING_METRIC,
        MIXED_DIRECTIONS,
        INVALID_TIMELINE,
        DEPENDS_ON_INVALID,
    }
)
"""Every error code okrcore emits."""

UNKNOWN_FIELD: Final = "unknown_field"
"""A warning, not an error: a field okrcore does not know, ignored (SEMANTICS §11.3)."""

WARNING_CODES: Final = frozenset({UNKNOWN_FIELD})
"""Every warning code okrcore emits (a result's ``warnings`` list)."""


@attrs.frozen
class OkrError:
    """One structured error, as it appears in a result document's ``errors`` list.

    Parameters
    ----------
    code : str
        One of :data:`ERROR_CODES`.
    path : str
        Where the problem is in the input, e.g. ``objectives[0].key_results[1].target``.
    message : str
        A sentence for a person, naming the field and the value.
    """

    code: str
    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        """Return the error as the ``{code, path, message}`` object of the interchange format."""
        return {"code": self.code, "path": self.path, "message": self.message}


class OkrValueError(ValueError):
    """Raised by a model constructor that is given a bad value.

    Parameters
    ----------
    code : str
        One of :data:`ERROR_CODES`.
    field : str
        The field's path relative to the object being built (``target``, ``range.red_low``).
    message : str
        A sentence naming the field and the value.
    value : object
        The offending value.
    """

    def __init__(self, code: str, field: str, message: str, value: Any = None) -> None:
        super().__init__(f"{field}: {message}")
        self.code = code
        self.field = field
        self.message = message
        self.value = value

    def to_error(self, prefix: str = "") -> OkrError:
        """Return this exception as an :class:`OkrError` whose path starts with ``prefix``."""
        return OkrError(self.code, join_path(prefix, self.field), self.message)


class DocumentError(ValueError):
    """Raised when a file is not a readable interchange document of a supported version.

    Item-level problems never raise this: they are reported in the result's ``errors``.
    Only a document that cannot be evaluated at all (not JSON, not an object, wrong
    ``okrcore`` version, a bad ``as_of`` or ``policy``) does.
    """


def join_path(prefix: str, field: str) -> str:
    """Join two path fragments: ``join_path("objectives[0]", "weight")``."""
    if not prefix:
        return field
    if not field:
        return prefix
    if field.startswith("["):
        return prefix + field
    return f"{prefix}.{field}"


_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def error_sort_key(error: OkrError) -> tuple[tuple[tuple[int, int | str], ...], str, str]:
    """The canonical order of a result's errors: by path in document order, then code, message.

    Indices in a path compare as numbers (``objectives[2]`` before ``objectives[10]``); the
    virtual ``people.<id>`` paths come after every input path.  Every engine lists errors in this
    order, so their results compare equal as documents.
    """
    tokens: list[tuple[int, int | str]] = []
    for index, name in _TOKEN.findall(error.path):
        tokens.append((0, int(index)) if index else (1, name))
    if tokens and tokens[0] == (1, "people"):
        tokens.insert(0, (2, ""))
    return tuple(tokens), error.code, error.message


class UnknownItemError(KeyError):
    """An explanation was asked for an id that names no objective or key result.

    Raised by :meth:`Evaluation.explain <okrcore.results.Evaluation.explain>`; a
    :class:`KeyError`.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
