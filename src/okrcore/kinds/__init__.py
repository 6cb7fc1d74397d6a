"""Key-result kinds as modules: the registry the generic code loops over.

Each kind is one module of this package (:mod:`~okrcore.kinds.metric`,
:mod:`~okrcore.kinds.binary`, :mod:`~okrcore.kinds.milestone`) holding a :class:`Kind`
instance ``KIND``: its model class (defined in :mod:`okrcore.model`), its frame codes and
encoding, its interchange mapping, its relational row mapping, its SQL progress branch and its
hypothesis strategy.  The interchange loader and dumper, ``OrgFrame.from_document``,
:mod:`okrcore.rows`, the batch conversion and ``okrcore.conformance.strategies`` loop over
:data:`KINDS` instead of branching on the kind; ``docs/contributing-kinds.rst`` lists the steps
to add one.

This package imports only :mod:`okrcore.model`, :mod:`okrcore.codes`, :mod:`okrcore.errors`
and the field readers of ``okrcore._reading`` (never the interchange loader, the evaluator or
the results), and never hypothesis: strategies get it through :class:`Tools`.
"""

from __future__ import annotations

from typing import Any, Final

from okrcore.codes import KIND_METRIC
from okrcore.kinds._base import Columns, Encoded, EncodedColumns, Kind, SqlParts, Tools
from okrcore.kinds.binary import KIND as BINARY
from okrcore.kinds.metric import KIND as METRIC
from okrcore.kinds.milestone import KIND as MILESTONE

__all__ = [
    "HOOKS",
    "KINDS",
    "Columns",
    "Encoded",
    "EncodedColumns",
    "Kind",
    "SqlParts",
    "Tools",
    "by_code",
    "kind_of",
    "placeholder",
    "register",
]

KINDS: Final[dict[str, Kind]] = {}
"""Every registered kind by its interchange name, in registration order (the order of the
interchange schema, the SQL branches and the strategies)."""
_BY_TYPE: Final[dict[type, Kind]] = {}
_BY_CODE: Final[dict[int, Kind]] = {}

HOOKS: Final = ("load", "dump", "check_in_key", "encode_many", "to_row", "child_rows", "from_row",
                "columns", "sql", "strategy")
"""The methods a kind provides (``child_rows`` and ``columns`` have defaults that do nothing)."""


def register(kind: Kind) -> Kind:
    """Add ``kind`` to :data:`KINDS` (its name, model and codes must be new); return it."""
    taken = set(_BY_CODE) & set(kind.codes)
    if kind.name in KINDS or kind.model in _BY_TYPE or taken or kind.code not in kind.codes:
        raise ValueError(f"cannot register {kind!r}: name, model or codes taken or inconsistent")
    KINDS[kind.name] = kind
    _BY_TYPE[kind.model] = kind
    for code in kind.codes:
        _BY_CODE[code] = kind
    return kind


def placeholder() -> Encoded:
    """The frame row of a key result that could not be read (``kr_load`` flags it).

    Its columns are placeholders (a metric from 0 to 1) that no rule reads: the row's result is
    its load error.
    """
    return Encoded(KIND_METRIC)


def kind_of(kr: Any) -> Kind:
    """The kind of a model key result (``KeyError`` for anything else)."""
    return _BY_TYPE[type(kr)]


def by_code(code: int) -> Kind:
    """The kind of a frame code (``kr_kind``); ``KeyError`` for an unknown code."""
    return _BY_CODE[code]


for _kind in (METRIC, BINARY, MILESTONE):
    register(_kind)
