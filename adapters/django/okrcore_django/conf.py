"""Which Django model plays which role: the ``OKRCORE_MODELS`` setting and its default.

Kept apart from :mod:`okrcore_django.models` so that the job, the models and the example app
can all read it without importing each other.
"""

from __future__ import annotations

from typing import Final

from django.conf import settings

__all__ = ["EXAMPLE_MODELS", "models_setting"]

EXAMPLE_MODELS: Final[dict[str, str]] = {
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
    "change": "okrcore_example.Change",
}
"""Role -> model label of the example app (``okrcore_django.example``)."""


def models_setting() -> dict[str, str]:
    """The ``OKRCORE_MODELS`` setting (role -> model label); default the example app's.

    The role ``change`` (the change log of ``okrcore_recompute --incremental``) is optional.
    """
    configured: dict[str, str] | None = getattr(settings, "OKRCORE_MODELS", None)
    if configured is not None:
        return dict(configured)
    return dict(EXAMPLE_MODELS)
