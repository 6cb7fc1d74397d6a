"""okrcore on Django: abstract models of the reference schema, a recompute command, SQL progress.

Add ``"okrcore_django"`` to ``INSTALLED_APPS`` for the ``okrcore_recompute`` management command,
subclass the abstract models of :mod:`okrcore_django.models` in your own app (or use the example
app ``okrcore_django.example``), and annotate key results with their progress in SQL
(``KeyResult.objects.with_progress()``), and read the stored results back
(``ObjectiveResult.objects.latest_snapshot()``, ``.evaluation()``: an ``okrcore.Evaluation``).
Name your models in the ``OKRCORE_MODELS`` setting (role -> ``"app_label.Model"``); with a
change model (role ``change``) every write records what it changed and
``okrcore_recompute --incremental`` recomputes only that.  The
mapping to the core is :mod:`okrcore.rows`, shared
with the SQLAlchemy adapter, whose bulk job the command runs on the same database.  Install
with ``pip install 'okrcore[django]'``.
"""

from __future__ import annotations

try:
    import django as _django  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError("okrcore_django needs Django: pip install 'okrcore[django]'") from exc

__all__: list[str] = []
