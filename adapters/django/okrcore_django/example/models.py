"""Concrete models of the reference schema (what a product's own app would declare)."""

from __future__ import annotations

from typing import ClassVar

from okrcore_django import models as okr
from okrcore_django.conf import EXAMPLE_MODELS

__all__ = [
    "MODELS",
    "Change",
    "CheckIn",
    "Checkpoint",
    "KeyResult",
    "KeyResultResult",
    "KrOwner",
    "Objective",
    "ObjectiveResult",
    "Person",
    "PersonResult",
    "Snapshot",
]

MODELS: dict[str, str] = dict(EXAMPLE_MODELS)
"""Role -> model label: the default of the ``OKRCORE_MODELS`` setting."""


class Person(okr.PersonBase):
    """A person."""


class Objective(okr.ObjectiveBase):
    """An objective."""

    okrcore_models: ClassVar[dict[str, str]] = MODELS


class KeyResult(okr.KeyResultBase):
    """A key result."""

    okrcore_models: ClassVar[dict[str, str]] = MODELS


class KrOwner(okr.KrOwnerBase):
    """An owner of a key result."""

    okrcore_models: ClassVar[dict[str, str]] = MODELS


class Checkpoint(okr.CheckpointBase):
    """A checkpoint of a milestone."""

    okrcore_models: ClassVar[dict[str, str]] = MODELS


class CheckIn(okr.CheckInBase):
    """A check-in."""

    okrcore_models: ClassVar[dict[str, str]] = MODELS


class Snapshot(okr.SnapshotBase):
    """A computed snapshot."""


class KeyResultResult(okr.KeyResultResultBase):
    """A stored key result result."""


class ObjectiveResult(okr.ObjectiveResultBase):
    """A stored objective result."""


class PersonResult(okr.PersonResultBase):
    """A stored person result."""


class Change(okr.ChangeBase):
    """An entry of the change log (role ``change``)."""
