"""The reusable app (it only ships the ``okrcore_recompute`` command and the abstract models)."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["OkrcoreConfig"]


class OkrcoreConfig(AppConfig):
    """``okrcore_django``."""

    name = "okrcore_django"
    label = "okrcore_django"
    verbose_name = "okrcore"

    def ready(self) -> None:
        """After ``migrate`` the job reflects the tables again (they may have changed)."""
        from django.db.models.signals import post_migrate

        from okrcore_django.job import forget_schemas

        post_migrate.connect(forget_schemas, dispatch_uid="okrcore_django.forget_schemas")
