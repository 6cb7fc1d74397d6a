"""Result values of an evaluation, and their interchange-format (JSON) form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from okrcore.errors import OkrError
from okrcore.formulas import Colour, Trend
from okrcore.policy import Policy

__all__ = [
    "ColourSource",
    "Evaluation",
    "Explanation",
    "Forecast",
    "Grade",
    "Item",
    "KeyResultExplanation",
    "KeyResultResult",
    "ObjectiveResult",
    "PersonItem",
    "PersonResult",
]


@attrs.frozen
class Grade:
    """The end-of-period grade of a key result or objective (advisory; never changes progress).

    Parameters
    ----------
    score : float
        Progress capped at 1, rounded half up to one decimal [fraction].
    band : {"green", "yellow", "red"}
        red < 0.4 <= yellow < 0.7 <= green by default.
    success : bool
        Committed: progress >= 1; aspirational: progress >= the policy's threshold.
    """

    score: float
    band: Colour
    success: bool

    def to_json(self) -> dict[str, Any]:
        """Return the ``grade`` object."""
        return {"score": self.score, "band": self.band, "success": self.success}


@attrs.frozen
class Forecast:
    """Where a least-squares line through the period's check-ins lands at the due instant.

    Parameters
    ----------
    value : float or None
        The projected value [unit] (``None`` for an objective).
    progress : float
        The projected progress [fraction].
    colour : {"green", "yellow", "red"}
        The pace colour of the projected progress at due (expected = 1), worst-of with the
        projected value's breakpoint colour.
    """

    value: float | None
    progress: float
    colour: Colour

    def to_json(self) -> dict[str, Any]:
        """Return the ``forecast`` object."""
        return {"value": self.value, "progress": self.progress, "colour": self.colour}


@attrs.frozen
class ColourSource:
    """Which rule set the computed colour.

    Parameters
    ----------
    source : str
        ``pace``, ``breakpoint`` (a range KR's limit), ``manual`` or ``none``.
    reason : str
        For ``pace``: the :func:`~okrcore.formulas.pace_colour` reason; for ``breakpoint``: the
        key result id; ``no_timeline`` when expected progress is unknown.
    rule : str or None
        The pace rule (``ratio``, ``difference``, ``points``).
    threshold : float or None
        The threshold that was hit, in the rule's unit.
    """

    source: str
    reason: str
    rule: str | None = None
    threshold: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the ``colour_rule`` object."""
        return {
            "source": self.source,
            "reason": self.reason,
            "rule": self.rule,
            "threshold": self.threshold,
        }


@attrs.frozen
class Item:
    """One counted item of an objective's rollup.

    Parameters
    ----------
    type : str
        ``key_result``, ``objective`` (an aligned child) or ``sum`` (the summed part).
    id : str or None
        The item's id (``None`` for the summed part).
    weight : float
        Its weight in the mean (1 for the summed part; in ``sum`` mode 1 when contributing).
    progress : float or None
        Its progress [fraction] (in ``sum`` mode its value [unit] is in ``value``).
    share : float
        Its share of the result: weight / total weight in a mean, value / total value in a sum.
    value : float or None
        The KR's current value [unit] in ``sum`` mode.
    contributes : bool
        Whether it counts (weight > 0, and in ``sum`` mode the goal's unit).
    """

    type: str
    id: str | None
    weight: float
    progress: float | None
    share: float | None
    value: float | None = None
    contributes: bool = True

    def to_json(self) -> dict[str, Any]:
        """Return the item object."""
        return {
            "type": self.type,
            "id": self.id,
            "weight": self.weight,
            "progress": self.progress,
            "share": self.share,
            "value": self.value,
            "contributes": self.contributes,
        }


@attrs.frozen
class Explanation:
    """How an objective's result was computed.

    Parameters
    ----------
    mode : {"mean", "sum"}
        The rollup actually used.
    rule : str
        ``explicit`` (the objective asked for the mode), ``auto:progress_settings``,
        ``auto:same_unit``, ``auto:mixed``, ``children`` (no KRs: mean of aligned children)
        or ``empty`` (nothing to count).
    reason : str
        The rule in words.
    items : tuple of Item
        Every key result and child, counted or not.
    unit, target, start, value : optional
        In ``sum`` mode: the unit, the target and start used, and the summed value [unit].
    expected : float or None
        Expected progress [fraction].
    colour : ColourSource or None
        What set the computed colour.
    """

    mode: str
    rule: str
    reason: str
    items: tuple[Item, ...] = ()
    unit: str | None = None
    target: float | None = None
    start: float | None = None
    value: float | None = None
    target_rule: str | None = None
    expected: float | None = None
    colour: ColourSource | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the ``explanation`` object."""
        return {
            "mode": self.mode,
            "rule": self.rule,
            "reason": self.reason,
            "items": [item.to_json() for item in self.items],
            "unit": self.unit,
            "target": self.target,
            "start": self.start,
            "value": self.value,
            "target_rule": self.target_rule,
            "expected": self.expected,
            "colour_rule": None if self.colour is None else self.colour.to_json(),
        }


@attrs.frozen
class KeyResultExplanation:
    """How a key result's progress and colour were computed: the inputs the rules used.

    Everything here is a number or name the evaluation used (not recomputed): the text of
    :meth:`Evaluation.explain` is made from it and the rest of the :class:`KeyResultResult`.

    Parameters
    ----------
    rule : str
        How progress was computed: ``metric`` (:math:`(c - s) / (t - s)`, an increase or a
        reduction), ``range:band``, ``range:graded``, ``range:linear``, ``binary``,
        ``milestone`` (done / not done), ``milestone:stages`` or ``milestone:checkpoints``
        (done / total).
    unit : str or None
        The metric's unit ("" = none); ``None`` for other kinds.
    start, target : float or None
        The metric's start and target [unit]; ``None`` for other kinds.
    total : float or None
        The number of stages or checkpoints of a staged or checkpoint milestone.
    limits : tuple of (float or None) or None
        A range metric's ``(red_low, yellow_low, yellow_high, red_high)`` [unit].
    limit : str or None
        The breakpoint the current value hit (``red_low``, ``red_high``, ``yellow_low`` or
        ``yellow_high``, red ones first), ``None`` when it hit none.
    due : str or None
        The due instant of the key result's expected progress (its own, else its
        objective's), ISO 8601 UTC.
    pace : ColourSource or None
        The pace rule's verdict: ``source`` ``pace``, the ``reason``
        (:func:`~okrcore.formulas.pace_colour`, or ``no_timeline``), the rule and the
        threshold that was hit.
    """

    rule: str
    unit: str | None = None
    start: float | None = None
    target: float | None = None
    total: float | None = None
    limits: tuple[float | None, float | None, float | None, float | None] | None = None
    limit: str | None = None
    due: str | None = None
    pace: ColourSource | None = None


@attrs.frozen
class KeyResultResult:
    """The evaluation of one key result at ``as_of``.

    Parameters
    ----------
    id, objective, kind : str
        Identity.
    owners : tuple of str
        The effective owners (the objective's owner when none were given).
    current : float or bool
        The value at ``as_of`` [unit]; done for binary and simple milestones, stages done for
        staged and checkpoint milestones.
    raw_progress, progress : float
        Unclamped and clamped progress [fraction].
    expected : float or None
        Expected progress [fraction]; ``None`` without a timeline.
    colour : {"green", "yellow", "red"} or None
        Worst of the pace colour and (range KRs) the breakpoint colour; ``None`` when neither
        exists (no timeline and no range).
    pace_colour : {"green", "yellow", "red"} or None
        The pace colour alone; ``None`` without a timeline (SEMANTICS §11.1).
    pace_reason : str
        Why: a :func:`~okrcore.formulas.pace_colour` reason (``complete``, ``not_started``,
        ``on_pace``, ``red``, ``yellow``, ``ahead_of_yellow``), ``no_timeline``, or for a
        done-or-not key result ``complete``, ``not_due`` or ``overdue`` (SEMANTICS §11.2).
    range_status : {"green", "yellow", "red"} or None
        The breakpoint colour of a range metric.
    weight : float
        As given.
    contributes : bool
        Whether it counts toward its objective (weight > 0; in ``sum`` mode also the unit).
    trend : {"progressed", "stalled", "regressed"} or None
        Since the previous check-in (``None`` without check-ins up to ``as_of``).
    stale : bool or None
        No check-in within the policy's stale days (``None`` for a KR without a history).
    last_check_in : str or None
        ISO instant of the latest check-in at or before ``as_of``.
    forecast : Forecast or None
        Projected to due from the period's check-ins (at least two).
    grade : Grade
        End-of-period grade.
    explanation : KeyResultExplanation or None
        The inputs its progress and colour came from (``None`` when the result was read back
        from storage that does not keep them).  Not part of the JSON result (version 1).
    """

    id: str
    objective: str
    kind: str
    owners: tuple[str, ...]
    current: float | bool
    raw_progress: float
    progress: float
    expected: float | None
    colour: Colour | None
    pace_colour: Colour | None
    pace_reason: str
    range_status: Colour | None
    weight: float
    contributes: bool
    trend: Trend | None
    stale: bool | None
    last_check_in: str | None
    forecast: Forecast | None
    grade: Grade
    # Not in the result document, so not part of equality (a result read back equals the one
    # written): see docs/decisions.rst, explanations E1.
    explanation: KeyResultExplanation | None = attrs.field(default=None, eq=False)

    def to_json(self) -> dict[str, Any]:
        """Return the key result object of the result document."""
        return {
            "objective": self.objective,
            "kind": self.kind,
            "owners": list(self.owners),
            "current": self.current,
            "raw_progress": self.raw_progress,
            "progress": self.progress,
            "expected": self.expected,
            "colour": self.colour,
            "pace_colour": self.pace_colour,
            "pace_reason": self.pace_reason,
            "range_status": self.range_status,
            "weight": self.weight,
            "contributes": self.contributes,
            "trend": self.trend,
            "stale": self.stale,
            "last_check_in": self.last_check_in,
            "forecast": None if self.forecast is None else self.forecast.to_json(),
            "grade": self.grade.to_json(),
        }


@attrs.frozen
class ObjectiveResult:
    """The evaluation of one objective at ``as_of``.

    Parameters
    ----------
    id : str
        Identity.
    owner, parent : str or None
        As given.
    progress, raw_progress : float or None
        ``None`` when nothing is counted (no KRs and no children with progress).
    expected : float or None
        Expected progress [fraction].
    colour : {"green", "yellow", "red"} or None
        The effective colour: the manual status's colour when set, else ``computed_colour``.
    computed_colour : {"green", "yellow", "red"} or None
        Worst of the pace colour and the breakpoint colours of the objective's range KRs;
        ``None`` when progress is ``None`` and no breakpoint is hit.
    manual_status : str or None
        As given.
    mode : {"mean", "sum"}
        The rollup actually used.
    trend, stale, forecast, grade
        As for key results (``grade`` is ``None`` when progress is ``None``).
    explanation : Explanation
        How the result was computed.
    """

    id: str
    owner: str | None
    parent: str | None
    progress: float | None
    raw_progress: float | None
    expected: float | None
    colour: Colour | None
    computed_colour: Colour | None
    manual_status: str | None
    mode: str
    trend: Trend | None
    stale: bool | None
    forecast: Forecast | None
    grade: Grade | None
    explanation: Explanation

    def to_json(self) -> dict[str, Any]:
        """Return the objective object of the result document."""
        return {
            "owner": self.owner,
            "parent": self.parent,
            "progress": self.progress,
            "raw_progress": self.raw_progress,
            "expected": self.expected,
            "colour": self.colour,
            "computed_colour": self.computed_colour,
            "manual_status": self.manual_status,
            "mode": self.mode,
            "trend": self.trend,
            "stale": self.stale,
            "forecast": None if self.forecast is None else self.forecast.to_json(),
            "grade": None if self.grade is None else self.grade.to_json(),
            "explanation": self.explanation.to_json(),
        }


@attrs.frozen
class PersonItem:
    """One item of a person's progress: an objective they own or a KR they own elsewhere."""

    type: str
    id: str
    progress: float

    def to_json(self) -> dict[str, Any]:
        """Return the item object."""
        return {"type": self.type, "id": self.id, "progress": self.progress}


@attrs.frozen
class PersonResult:
    """A person's progress for the period.

    Parameters
    ----------
    id : str
        The person.
    progress : float or None
        Equal-weight mean of the items [fraction]; ``None`` with no items.
    items : tuple of PersonItem
        Objectives the person owns (with progress), and key results they own on objectives
        someone else owns.
    """

    id: str
    progress: float | None
    items: tuple[PersonItem, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the person object of the result document."""
        return {"progress": self.progress, "items": [i.to_json() for i in self.items]}


@attrs.define
class _DictForm:
    """The interchange function behind ``Evaluation.from_dict``.

    The result document is read by :mod:`okrcore.interchange`, a layer above the results.  They
    do not import it (that was the import cycle results <-> interchange, issue 18):
    :mod:`okrcore.interchange` fills this in when it is imported, and importing any part of
    ``okrcore`` imports it (``okrcore/__init__.py`` does).
    """

    load: Callable[[object], Evaluation] | None = None


_EVALUATION_DICT_FORM: Final = _DictForm()


@attrs.frozen
class Evaluation:
    """The result of evaluating a document.

    Items with an error are absent from the maps; their errors are in ``errors``, and
    ``error_paths`` says where each of them sits in the document. ``warnings`` hold what was
    read but ignored: unknown fields (``unknown_field``, SEMANTICS §11.3).

    Parameters
    ----------
    as_of : str
        The instant of evaluation, ISO 8601 UTC.
    policy : Policy
        The policy applied.
    objectives, key_results, people : Mapping
        Results by id, in document order: dicts, except from
        :func:`okrcore.batch.evaluate_batch` on the batch engine, whose read-only mappings
        make each result object when it is first read (equal, ``==``, to the dicts).
    errors : tuple of OkrError
        Every error, sorted by path.
    warnings : tuple of OkrError
        Every warning (unknown fields), in document order.
    error_paths : dict of (str, str) to str
        ``(type, id) -> path`` for every objective (``type`` ``objective``) and key result
        (``key_result``) with an id that has no result because of an error: where its errors
        are.  The first item with a given id wins.  Not part of the JSON result.
    """

    as_of: str
    policy: Policy
    objectives: Mapping[str, ObjectiveResult]
    key_results: Mapping[str, KeyResultResult]
    people: Mapping[str, PersonResult]
    errors: tuple[OkrError, ...]
    warnings: tuple[OkrError, ...] = ()
    error_paths: dict[tuple[str, str], str] = attrs.field(factory=dict, eq=False)

    def explain(self, id: str, kind: str | None = None) -> str:
        """Say in plain language how an objective's or a key result's result was computed.

        Parameters
        ----------
        id : str
            The id of an objective or a key result.
        kind : {"objective", "key_result"} or None
            Which of the two to explain when an objective and a key result share the id;
            ``None`` (default) explains both, the objective first.

        Returns
        -------
        str
            One line per fact, the first naming the item: how progress was computed with the
            numbers used, what set the colour (pace rule and thresholds, a range limit, a
            manual status), then trend, staleness, forecast and grade.  An item with an error
            is explained by its errors.

        Raises
        ------
        okrcore.errors.UnknownItemError
            (a :class:`KeyError`) when no objective or key result has the id.

        Notes
        -----
        Only formats what the evaluation holds (see :mod:`okrcore.explain`); both engines
        give the same text.
        """
        from okrcore.explain import explain

        return explain(self, id, kind)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """Build an evaluation from a parsed result document (plain dicts and lists).

        The file and text forms are :func:`okrcore.load_result` and :func:`okrcore.loads_result`.

        Raises
        ------
        DocumentError
            When ``data`` is not a version 1 result document; the message names the field.
        """
        load = _EVALUATION_DICT_FORM.load
        if load is None:  # pragma: no cover (importing okrcore imports okrcore.interchange)
            raise RuntimeError("Evaluation.from_dict needs okrcore.interchange, not imported")
        return load(data)

    def to_dict(self) -> dict[str, Any]:
        """Return the result document (interchange format v1) as plain dicts and lists.

        ``Evaluation.from_dict(e.to_dict()) == e``; the file and text forms are
        :func:`okrcore.dump_result` and :func:`okrcore.dumps_result`.
        """
        return self.to_json()

    def to_json(self) -> dict[str, Any]:
        """Return the result document as plain dicts (the older name of :meth:`to_dict`)."""
        return {
            "okrcore": 1,
            "as_of": self.as_of,
            "policy": self.policy.to_json(),
            "objectives": {k: v.to_json() for k, v in self.objectives.items()},
            "key_results": {k: v.to_json() for k, v in self.key_results.items()},
            "people": {k: v.to_json() for k, v in self.people.items()},
            "errors": [e.to_json() for e in self.errors],
            "warnings": [w.to_json() for w in self.warnings],
        }
