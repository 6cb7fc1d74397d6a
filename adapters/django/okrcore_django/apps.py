"""The reusable app (it only ships the ``okrcore_recompute`` command and the abstract models)."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["OkrcoreConfig"]


class OkrcoreConfig(AppConfig):
    """``okrcore_django``."""

    name = "okrcore_django"
    label = "okrcore_django"
    verbose_name = "okrcore"
