"""Recording changes by hand: the change-log rows of a writer that bypasses the models.

Imported by :mod:`okrcore_django.models` (which re-exports :func:`record_changes`) and by
:mod:`okrcore_django.job`; it imports neither, so the two stay free of an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["record_changes"]


def record_changes(change: Any, using: str,
                   entries: Iterable[tuple[Any, Any, Any, bool]]) -> None:
    """Insert change-log rows ``(kr_id, objective_id, person_id, structural)`` in one statement.

    For a writer that bypasses the models (raw SQL, ``loaddata``, another service): record
    what it changed in its own transaction, or ``(None, None, None, True)`` when it cannot
    name it (the next incremental run then recomputes everything).

    Parameters
    ----------
    change : type
        The concrete :class:`ChangeBase` model.
    using : str
        The database alias.
    entries : iterable of tuple
        The rows, in the order of recording.
    """
    change._base_manager.using(using).bulk_create([
        change(kr_id=k, objective_id=o, person_id=p, structural=s) for k, o, p, s in entries])
