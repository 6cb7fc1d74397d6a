"""The example app's configuration."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["ExampleConfig"]


class ExampleConfig(AppConfig):
    """``okrcore_example``: concrete models of the reference schema."""

    name = "okrcore_django.example"
    label = "okrcore_example"
    default_auto_field = "django.db.models.BigAutoField"
