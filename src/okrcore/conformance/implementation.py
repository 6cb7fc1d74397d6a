"""What an implementation under test is: a :class:`typing.Protocol`, the reference, a loader."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Collection, Mapping
from typing import Any, Final, Protocol, runtime_checkable

from okrcore.conformance.capabilities import CAPABILITIES, check_capabilities

__all__ = [
    "REFERENCE",
    "Implementation",
    "NotSupportedError",
    "Reference",
    "load_implementation",
]


class NotSupportedError(Exception):
    """Raised by an implementation for a document it does not support: the case is skipped.

    Prefer declaring capabilities; this is for the odd document a capability does not
    describe. A skipped case is reported, never counted as a pass.
    """


@runtime_checkable
class Implementation(Protocol):
    """An OKR implementation under test.

    Attributes
    ----------
    name : str
        The implementation's name, shown in reports.
    version : str
        Its version, shown in reports (pin it beside the suite version).
    capabilities : collection of str
        What it implements, a subset of
        :data:`~okrcore.conformance.capabilities.CAPABILITIES` that includes ``metrics``.
        Cases and properties that need anything else are skipped, and generated documents
        never use it.

    Notes
    -----
    :meth:`evaluate` takes a version 1 interchange document (parsed JSON, as
    :doc:`/interchange` describes it) and returns the result document (parsed JSON). The suite
    reads these fields of the result and compares numbers with a relative tolerance of
    :math:`10^{-9}` (absolute below 1):

    * ``objectives.<id>``: ``progress``, ``raw_progress``, ``expected``, ``colour``,
      ``computed_colour``, ``mode``;
    * ``key_results.<id>``: ``progress``, ``raw_progress``, ``colour``, ``current``;
    * ``people.<id>``: ``progress`` (with the ``people`` capability);
    * ``errors``: the ``code`` and ``path`` of every error (with the ``errors`` capability);
    * ``warnings``: the ``code`` and ``path`` of every warning (with the ``warnings``
      capability).

    Raise :class:`NotSupportedError` to skip one document.
    """

    @property
    def name(self) -> str:
        """The implementation's name."""

    @property
    def version(self) -> str:
        """The implementation's version."""

    @property
    def capabilities(self) -> Collection[str]:
        """The capabilities it implements."""

    def evaluate(self, document: Mapping[str, Any]) -> Mapping[str, Any]:
        """Evaluate an interchange document; return the result document."""


class Reference:
    """okrcore's own scalar reference path as an :class:`Implementation`.

    Every capability is declared; :meth:`evaluate` is
    :func:`okrcore.interchange.evaluate_document`.
    """

    name = "okrcore"
    capabilities: frozenset[str] = frozenset(CAPABILITIES)

    @property
    def version(self) -> str:
        """Okrcore's version."""
        from okrcore import __version__

        return __version__

    def evaluate(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate with the reference (:func:`okrcore.interchange.evaluate_document`)."""
        from okrcore import interchange

        return interchange.evaluate_document(document)


REFERENCE: Final = Reference()
"""The reference implementation (``okrcore.conformance.implementation:REFERENCE``)."""


def _import(module_name: str) -> Any:
    """Import a module; when its top-level package is not found, look in the current directory."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        here = os.getcwd()
        if exc.name != top or here in sys.path or "" in sys.path:
            raise
        sys.path.insert(0, here)
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as again:
            if again.name != top:
                raise
            sys.path.remove(here)
            raise ModuleNotFoundError(
                f"no module named {top!r} on sys.path nor in the current directory {here}",
                name=top) from None


def load_implementation(spec: str) -> Implementation:
    """Import ``"package.module:attribute"`` and check it is an :class:`Implementation`.

    A class or a zero-argument factory is called once to get the instance.  A module that is
    not importable from ``sys.path`` is looked for in the current directory too (as
    ``python -m pytest`` finds a module there), so ``--impl my_okr:impl`` works beside
    ``my_okr.py``.

    Raises
    ------
    ValueError
        When ``spec`` is malformed, the object lacks a member of the protocol, or its
        capabilities are not valid.
    ImportError
        When the module cannot be imported.
    """
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"implementation must be 'package.module:attribute', got {spec!r}")
    target: Any = _import(module_name)
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"{module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if isinstance(target, type) or (callable(target) and not hasattr(target, "evaluate")):
        try:
            target = target()
        except TypeError as exc:
            raise ValueError(f"{spec} is neither an Implementation nor a factory of one: "
                             f"{exc}") from exc
    if not isinstance(target, Implementation):
        missing = [m for m in ("name", "version", "capabilities", "evaluate")
                   if not hasattr(target, m)]
        raise ValueError(f"{spec} is not an okrcore conformance Implementation: "
                         f"missing {', '.join(missing)}")
    check_capabilities(target.capabilities)
    return target
