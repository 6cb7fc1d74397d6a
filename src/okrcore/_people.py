"""People's results, for the scalar reference.

Part of :mod:`okrcore.evaluate`: a person's progress is the equal-weight mean of the objectives
they own and of the key results they own on objectives someone else owns (SEMANTICS §5); a
person who owns an item with an error has an error instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from okrcore import errors as E
from okrcore import formulas as F
from okrcore.model import InvalidObjective, Objective
from okrcore.results import KeyResultResult, ObjectiveResult, PersonItem, PersonResult

__all__ = ["person_results"]


def person_results(objectives: Sequence[Objective | InvalidObjective], paths: Sequence[str],
                   invalid: set[int], objective_results: Mapping[str, ObjectiveResult],
                   key_results: Mapping[tuple[int, int], KeyResultResult]
                   ) -> tuple[dict[str, PersonResult], list[E.OkrError]]:
    """Every owner's result, or the error of an owner of an item with an error.

    Parameters
    ----------
    objectives : sequence of Objective or InvalidObjective
        A document's objectives.
    paths : sequence of str
        Their paths in the document, for the errors.
    invalid : set of int
        The objectives (by position) with an error.
    objective_results : mapping of str to ObjectiveResult
        The objectives' results by id.
    key_results : mapping of (int, int) to KeyResultResult
        The results of the valid key results by (objective, key result) position.

    Returns
    -------
    people : dict of str to PersonResult
        In the order the owners first appear in the document.
    errors : list of OkrError
        ``depends_on_invalid`` at ``people.<person>``, naming the first item with an error.

    Notes
    -----
    progress = mean of the items' progress, each weight 1; ``None`` without an item with
    progress.  An objective's owner is not counted again for its key results.
    """
    people_items: dict[str, list[PersonItem]] = {}
    people_bad: dict[str, str] = {}
    errors: list[E.OkrError] = []

    def note(person: str, item: PersonItem | None, path: str) -> None:
        people_items.setdefault(person, [])
        if item is None:
            people_bad.setdefault(person, path)
        else:
            people_items[person].append(item)

    for i, obj in enumerate(objectives):
        if obj.owner is not None:
            result_o = objective_results.get(str(obj.id)) if i not in invalid else None
            if i in invalid:
                note(obj.owner, None, paths[i])
            elif result_o is not None and result_o.progress is not None:
                note(obj.owner, PersonItem("objective", result_o.id, result_o.progress), paths[i])
            else:
                people_items.setdefault(obj.owner, [])
        for j, kr in enumerate(obj.key_results):
            owners = kr.owners or ((obj.owner,) if obj.owner else ())
            for person in owners:
                if person == obj.owner:
                    continue
                owned = key_results.get((i, j))
                if owned is None:
                    note(person, None, f"{paths[i]}.key_results[{j}]")
                else:
                    note(person, PersonItem("key_result", owned.id, owned.progress), "")
    people: dict[str, PersonResult] = {}
    for person, items in people_items.items():
        if person in people_bad:
            errors.append(E.OkrError(E.DEPENDS_ON_INVALID, f"people.{person}",
                                     f"person {person!r} owns {people_bad[person]}, "
                                     "which has an error"))
            continue
        mean = F.weighted_mean([it.progress for it in items], [1.0] * len(items))
        people[person] = PersonResult(person, mean, tuple(items))
    return people, errors
