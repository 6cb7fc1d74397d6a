"""Concrete models of the reference schema (what a product's own app would declare)."""

from __future__ import annotations

from typing import ClassVar

from okrcore_django import models as okr

__all__ = [
    "MODELS",
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

MODELS: dict[str, str] = {
    "person": "okrcore_example.Person",
    "objective": "okrcore_example.Objective",
    "key_result": "okrcore_example.KeyResult",
    "kr_owner": "okrcore_example.KrOwner",
    "checkpoint": "okrcore_example.Checkpoint",
    "check_in": "okrcore_example.CheckIn",
    "snapshot": "okrcore_example.Snapshot",
    "kr_result": "okrcore_example.KeyResultResult",
    "objective_result": "okrcore_example.ObjectiveResult",
    "person_result": "okrcore_example.PersonResult",
}
"""Role -> model label: the default of the ``OKRCORE_MODELS`` setting."""


class Person(okr.PersonBase):
    """A person."""


class Objective(okr.ObjectiveBase):
    """An objective."""


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
