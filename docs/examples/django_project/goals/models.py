"""The app's models: subclasses of okrcore's abstract models (roles: ``OKRCORE_MODELS``)."""

from __future__ import annotations

from django.db import models

from okrcore_django import models as okr


class Person(okr.PersonBase):
    """A person."""


class Goal(okr.ObjectiveBase):
    """An objective, with a field of the app's own."""

    team = models.CharField(max_length=100, blank=True, db_default="")  # see store_document


class Measure(okr.KeyResultBase):
    """A key result."""


class MeasureOwner(okr.KrOwnerBase):
    """An owner of a key result."""


class Step(okr.CheckpointBase):
    """A checkpoint of a milestone."""


class Update(okr.CheckInBase):
    """A check-in."""


class Snapshot(okr.SnapshotBase):
    """A computed snapshot."""


class MeasureResult(okr.KeyResultResultBase):
    """A stored key result result."""


class GoalResult(okr.ObjectiveResultBase):
    """A stored objective result."""


class PersonResult(okr.PersonResultBase):
    """A stored person result."""


class Change(okr.ChangeBase):
    """The change log: what each write changed (role ``change``)."""
