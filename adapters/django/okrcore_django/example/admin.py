"""The example app's models in the Django admin (colours and codes shown by name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

from okrcore_django.example import models as m

__all__ = [
    "KeyResultAdmin",
    "KeyResultResultAdmin",
    "ObjectiveAdmin",
    "ObjectiveResultAdmin",
    "PersonResultAdmin",
]

if TYPE_CHECKING:
    _Admin = admin.ModelAdmin[Any]
else:  # ModelAdmin is generic only in the type stubs
    _Admin = admin.ModelAdmin


@admin.register(m.Objective)
class ObjectiveAdmin(_Admin):
    """Objectives: owner, parent, timeline and rollup mode."""

    list_display = ("id", "name", "owner_id", "parent_id", "start_at", "due_at", "mode",
                    "status")
    list_filter = ("mode", "ambition", "status")
    search_fields = ("id", "name")


@admin.register(m.KeyResult)
class KeyResultAdmin(_Admin):
    """Key results of every kind."""

    list_display = ("id", "objective_id", "name", "kind", "start", "target", "current",
                    "due_at")
    list_filter = ("kind", "range_mode")
    search_fields = ("id", "name", "objective_id")


@admin.register(m.KeyResultResult)
class KeyResultResultAdmin(_Admin):
    """Stored key result results: colours and trends by name."""

    list_display = ("kr_id", "as_of", "progress", "expected", "colour", "pace_colour",
                    "trend", "last_at")
    list_filter = ("as_of", "colour", "trend")
    search_fields = ("kr_id",)


@admin.register(m.ObjectiveResult)
class ObjectiveResultAdmin(_Admin):
    """Stored objective results."""

    list_display = ("objective_id", "as_of", "progress", "expected", "colour",
                    "computed_colour", "trend", "rule")
    list_filter = ("as_of", "colour", "trend")
    search_fields = ("objective_id",)


@admin.register(m.PersonResult)
class PersonResultAdmin(_Admin):
    """Stored person results."""

    list_display = ("person_id", "as_of", "progress", "items")
    list_filter = ("as_of",)


for _model in (m.Person, m.KrOwner, m.Checkpoint, m.CheckIn, m.Snapshot, m.Change):
    admin.site.register(_model)
