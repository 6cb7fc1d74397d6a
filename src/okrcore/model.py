"""The calculation model: key results of every kind, check-ins, objectives and documents.

Every class is a frozen, slotted attrs class whose constructor validates its fields and raises
:class:`~okrcore.errors.OkrValueError` (with a code, the field and the value) on bad input.
Numbers must be finite reals; booleans and strings are never taken for numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Final, Literal, TypeAlias, cast

import attrs

from okrcore import _checks as C
from okrcore import errors as E
from okrcore.policy import Policy

__all__ = [
    "AMBITIONS",
    "MANUAL_STATUSES",
    "MODES",
    "RANGE_MODES",
    "Binary",
    "CheckIn",
    "Checkpoint",
    "Document",
    "InvalidKeyResult",
    "InvalidObjective",
    "KeyResult",
    "Metric",
    "Milestone",
    "Objective",
    "ProgressSettings",
    "Range",
    "decrease_by",
    "increase_by",
]

MODES: Final = ("auto", "mean", "sum")
"""Objective rollup modes."""
RANGE_MODES: Final = ("band", "graded", "linear")
"""How a range metric turns its value into progress."""
AMBITIONS: Final = ("committed", "aspirational")
"""Objective ambitions (they change the grade, never progress)."""
MANUAL_STATUSES: Final = ("on_track", "behind", "at_risk", "off_track")
"""Manual statuses an owner may set; reported beside the computed colour."""

Mode = Literal["auto", "mean", "sum"]
RangeMode = Literal["band", "graded", "linear"]
Ambition = Literal["committed", "aspirational"]
ManualStatus = Literal["on_track", "behind", "at_risk", "off_track"]


def _is_sequence(value: object) -> bool:
    """A list-like value: an iterable that is not a string, bytes or a mapping."""
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping))


def _tuple(value: Iterable[Any] | None) -> tuple[Any, ...]:
    """Converter: any list-like value to a tuple (``None`` to the empty tuple).

    A string, a mapping or a scalar is left as it is, for the field's validator to reject
    (``tuple("ann")`` would silently give three owners).
    """
    if value is None:
        return ()
    return tuple(value) if _is_sequence(value) else cast(tuple[Any, ...], value)


def _tuple_or_none(value: Iterable[Any] | None) -> tuple[Any, ...] | None:
    """Converter: an iterable to a tuple, ``None`` kept (no history is not an empty history)."""
    return None if value is None else _tuple(value)


def _each(*types: type, what: str, hint: str = "") -> Any:
    """Return a validator: a tuple (or ``None``) whose every element is one of ``types``.

    The error names the field, the element's index and the value, e.g.
    ``key_results[0] must be a Metric, Binary or Milestone, got {'id': 'k1'}``.
    """

    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        name = attribute.name
        if not isinstance(value, tuple):
            raise E.OkrValueError(E.WRONG_TYPE, name,
                                  f"{name} must be a list or tuple, got {value!r:.120}", value)
        for index, item in enumerate(value):
            if not isinstance(item, types):
                extra = hint if isinstance(item, Mapping) else ""
                raise E.OkrValueError(
                    E.WRONG_TYPE, f"{name}[{index}]",
                    f"{name}[{index}] must be {what}, got {item!r:.120}{extra}", item)

    return check


def _instance(*types: type, what: str) -> Any:
    """Return a validator: ``None`` or an instance of ``types``, naming the field and value."""

    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, types):
            raise E.OkrValueError(E.WRONG_TYPE, attribute.name,
                                  f"{attribute.name} must be {what}, got {value!r:.120}", value)

    return check


_FROM_DICT: Final = " (build model objects, or read dicts with Document.from_dict)"


def _check_owners(_inst: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    """Owners are a list of non-empty strings."""
    if not isinstance(value, tuple):
        raise E.OkrValueError(
            E.WRONG_TYPE, attribute.name,
            f"{attribute.name} must be a list of names, got {value!r:.120}", value)
    for index, owner in enumerate(value):
        if not isinstance(owner, str) or not owner:
            raise E.OkrValueError(
                E.WRONG_TYPE,
                f"{attribute.name}[{index}]",
                f"owners must be non-empty strings, got {owner!r}",
                owner,
            )


def _check_optional_text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        C.text(_inst, attribute, value)


def _check_bool(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise E.OkrValueError(
            E.WRONG_TYPE,
            attribute.name,
            f"{attribute.name} must be true or false, got {value!r}",
            value,
        )


def _check_optional_bool(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _check_bool(inst, attribute, value)


def _check_count(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A whole number >= 0 (``None`` allowed)."""
    if value is None:
        return
    number = C.finite_number(attribute.name, value)
    if number != int(number) or number < 0:
        raise E.OkrValueError(
            E.OUT_OF_RANGE,
            attribute.name,
            f"{attribute.name} must be a whole number >= 0, got {value!r}",
            value,
        )


@attrs.frozen
class CheckIn:
    """One entry of a key result's history.

    Parameters
    ----------
    at : datetime
        When the value was recorded (timezone-aware).
    value : float or bool
        The metric's value [the KR's unit]; ``True``/``False`` for a binary or simple milestone;
        the number of stages done for a staged milestone.
    """

    at: datetime = attrs.field(validator=C.check_instant)
    value: float | bool = attrs.field()

    @value.validator
    def _check_value(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, bool):
            C.finite_number(attribute.name, value)


def _check_history(kind: str) -> Any:
    """Return a validator for a KR's check-ins: right value type, no explicit current beside it."""

    def check(
        inst: Any, attribute: attrs.Attribute[Any], value: tuple[CheckIn, ...] | None
    ) -> None:
        if value is None:
            return
        for index, entry in enumerate(value):
            if not isinstance(entry, CheckIn):
                raise E.OkrValueError(
                    E.WRONG_TYPE,
                    f"check_ins[{index}]",
                    f"check_ins[{index}] must be a CheckIn, got {entry!r}",
                    entry,
                )
            if kind == "milestone" and inst.checkpoints is not None:
                raise E.OkrValueError(
                    E.INVALID_VALUE,
                    "check_ins",
                    "a checkpoint milestone records progress in its checkpoints' done flags, "
                    "not in check-ins",
                    None,
                )
            wants_bool = kind == "binary" or (kind == "milestone" and inst.stages_total is None)
            if wants_bool != isinstance(entry.value, bool):
                expected = "done (true/false)" if wants_bool else "a number"
                raise E.OkrValueError(
                    E.WRONG_TYPE,
                    f"check_ins[{index}]",
                    f"check_ins[{index}] of a {kind} key result must record {expected}, "
                    f"got {entry.value!r}",
                    entry.value,
                )
        current_field = {"metric": "current", "binary": "done"}.get(kind, "done")
        if kind == "milestone" and inst.stages_total is not None:
            current_field = "stages_done"
        if getattr(inst, current_field) is not None:
            raise E.OkrValueError(
                E.CONFLICTING_CURRENT,
                current_field,
                f"{current_field} is given explicitly beside a check-in history; give one or "
                "the other",
                getattr(inst, current_field),
            )

    return check


def _check_range_value(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    C.check_finite_or_none(_inst, attribute, value)


@attrs.frozen
class Range:
    """Yellow and red breakpoints of a range metric, and how the range turns into progress.

    Parameters
    ----------
    red_low, yellow_low, yellow_high, red_high : float or None
        Breakpoints [the KR's unit]; each optional, ordered
        ``red_low <= yellow_low <= target <= yellow_high <= red_high``.
    mode : {"band", "graded", "linear"}
        ``band``: progress 1 while not red, else 0.  ``graded``: 1 inside the yellow limits,
        linear down to 0 at the red limits.  ``linear``: like a metric, start to target.
    """

    red_low: float | None = attrs.field(default=None, validator=_check_range_value)
    yellow_low: float | None = attrs.field(default=None, validator=_check_range_value)
    yellow_high: float | None = attrs.field(default=None, validator=_check_range_value)
    red_high: float | None = attrs.field(default=None, validator=_check_range_value)
    mode: RangeMode = attrs.field(default="band", validator=C.check_one_of(*RANGE_MODES))

    def check_order(self, target: float) -> None:
        """Raise ``breakpoints_out_of_order`` unless the breakpoints and target are ordered."""
        chain = [
            ("red_low", self.red_low),
            ("yellow_low", self.yellow_low),
            ("target", target),
            ("yellow_high", self.yellow_high),
            ("red_high", self.red_high),
        ]
        present = [(name, value) for name, value in chain if value is not None]
        for (low_name, low), (high_name, high) in itertools.pairwise(present):
            if float(low) > float(high):
                raise E.OkrValueError(
                    E.BREAKPOINTS_OUT_OF_ORDER,
                    "range",
                    f"range breakpoints out of order: {low_name} {low!r} > {high_name} {high!r} "
                    "(need red_low <= yellow_low <= target <= yellow_high <= red_high)",
                    (low, high),
                )


def _check_metric(inst: Metric, _attribute: attrs.Attribute[Any], _value: object) -> None:
    """Cross-field checks of a metric: breakpoint order and a non-degenerate start/target."""
    if inst.range is not None:
        inst.range.check_order(float(inst.target))
    if float(inst.target) == float(inst.start) and (
        inst.range is None or inst.range.mode == "linear"
    ):
        raise E.OkrValueError(
            E.DEGENERATE_METRIC,
            "target",
            f"target {inst.target!r} equals start {inst.start!r}; progress is undefined",
            inst.target,
        )


@attrs.frozen
class Metric:
    """A numeric key result: an increase, a reduction (target < start) or a range.

    Parameters
    ----------
    id : str
        Unique among the document's key results.
    target : float
        The value to reach [unit].
    start : float
        The starting value [unit]; default 0.  ``target < start`` makes a reduction.
    current : float or None
        The value now [unit]; ``None`` means "at the start" unless ``check_ins`` say otherwise.
    unit : str
        The unit, compared exactly when objectives sum metrics ("" = no unit).
    range : Range or None
        Breakpoints for a range metric.
    check_ins : tuple of CheckIn or None
        The value history; excludes an explicit ``current``.
    weight : float
        Weight in a ``mean`` rollup; 0 = shown but not counted.
    owners : tuple of str
        Owners; empty means the objective's owner.
    due : datetime or None
        Overrides the objective's due instant for this KR's expected progress.
    name : str
        Free text for people.

    Notes
    -----
    Raw progress is :math:`r = (c - s) / (t - s)` for current :math:`c`, start :math:`s`
    and target :math:`t`; the same formula serves increases and reductions.
    """

    id: str = attrs.field(validator=C.text)
    target: float = attrs.field(validator=C.check_finite)
    start: float = attrs.field(default=0.0, validator=C.check_finite)
    current: float | None = attrs.field(default=None, validator=C.check_finite_or_none)
    unit: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    range: Range | None = attrs.field(default=None, validator=_instance(Range, what="a Range"))
    check_ins: tuple[CheckIn, ...] | None = attrs.field(
        default=None, converter=_tuple_or_none,
        validator=[_each(CheckIn, what="a CheckIn", hint=_FROM_DICT), _check_history("metric")]
    )
    weight: float = attrs.field(default=1.0, validator=C.check_non_negative)
    owners: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=_check_owners)
    due: datetime | None = attrs.field(
        default=None, validator=[C.check_instant_or_none, _check_metric]
    )
    name: str = ""

    kind: ClassVar[Literal["metric"]] = "metric"

    @property
    def direction(self) -> int:
        """+1 for an increase, -1 for a reduction, 0 for a flat range."""
        target, start = float(self.target), float(self.start)
        return (target > start) - (target < start)


@attrs.frozen
class Binary:
    """A done / not done key result (Focus "Binary").

    Notes
    -----
    Progress is 1 when done, else 0.
    """

    id: str = attrs.field(validator=C.text)
    done: bool | None = attrs.field(default=None, validator=_check_optional_bool)
    check_ins: tuple[CheckIn, ...] | None = attrs.field(
        default=None, converter=_tuple_or_none,
        validator=[_each(CheckIn, what="a CheckIn", hint=_FROM_DICT), _check_history("binary")]
    )
    weight: float = attrs.field(default=1.0, validator=C.check_non_negative)
    owners: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=_check_owners)
    due: datetime | None = attrs.field(default=None, validator=C.check_instant_or_none)
    name: str = ""

    kind: ClassVar[Literal["binary"]] = "binary"


@attrs.frozen
class Checkpoint:
    """One named step of a milestone key result."""

    name: str = attrs.field(validator=C.text)
    done: bool = attrs.field(default=False, validator=_check_bool)


def _check_milestone(inst: Milestone, _attribute: attrs.Attribute[Any], _value: object) -> None:
    """A milestone is simple (done), staged (stages_total) or a checkpoint list, not a mix."""
    if inst.checkpoints is not None:
        if inst.stages_total is not None or inst.stages_done is not None:
            raise E.OkrValueError(
                E.INVALID_VALUE,
                "checkpoints",
                "a milestone takes either checkpoints or stages_total/stages_done, not both",
                None,
            )
        if not inst.checkpoints:
            raise E.OkrValueError(
                E.OUT_OF_RANGE, "checkpoints", "checkpoints must not be empty", []
            )
        return
    if inst.stages_total is None:
        if inst.stages_done is not None:
            raise E.OkrValueError(
                E.MISSING_FIELD,
                "stages_total",
                "stages_done is given without stages_total",
                inst.stages_done,
            )
        return
    if inst.stages_total < 1:
        raise E.OkrValueError(
            E.OUT_OF_RANGE,
            "stages_total",
            f"stages_total must be >= 1, got {inst.stages_total!r}",
            inst.stages_total,
        )
    counts: list[tuple[str, float | bool | None]] = [("stages_done", inst.stages_done)]
    counts += [(f"check_ins[{i}]", c.value) for i, c in enumerate(inst.check_ins or ())]
    for field, done in counts:
        if done is not None and not 0 <= float(done) <= inst.stages_total:
            raise E.OkrValueError(
                E.OUT_OF_RANGE,
                field,
                f"{field} must lie in [0, stages_total={inst.stages_total}], got {done!r}",
                done,
            )
        if done is not None and float(done) != int(float(done)):
            raise E.OkrValueError(
                E.OUT_OF_RANGE, field, f"{field} must be a whole number, got {done!r}", done
            )
    if inst.done is not None:
        raise E.OkrValueError(
            E.INVALID_VALUE, "done", "a staged milestone takes stages_done, not done", inst.done
        )


@attrs.frozen
class Milestone:
    """A milestone key result: simple (done), staged, or a list of named checkpoints.

    Parameters
    ----------
    id : str
        Unique among the document's key results.
    done : bool or None
        For a simple milestone.
    stages_total, stages_done : int or None
        For a staged milestone ("Implement a CRM system (in 5 stages)").
    checkpoints : tuple of Checkpoint or None
        Named steps; progress counts the done ones.
    check_ins : tuple of CheckIn or None
        History: ``done`` values for a simple milestone, stage counts for a staged one.
    weight, owners, due, name
        As for :class:`Metric`.

    Notes
    -----
    Progress is :math:`d / n` for :math:`d` done stages (or checkpoints) out of :math:`n`;
    a simple milestone is 1 when done, else 0.
    """

    id: str = attrs.field(validator=C.text)
    done: bool | None = attrs.field(default=None, validator=_check_optional_bool)
    stages_total: int | None = attrs.field(default=None, validator=_check_count)
    stages_done: int | None = attrs.field(default=None, validator=_check_count)
    checkpoints: tuple[Checkpoint, ...] | None = attrs.field(
        default=None, converter=_tuple_or_none,
        validator=_each(Checkpoint, what="a Checkpoint", hint=_FROM_DICT)
    )
    check_ins: tuple[CheckIn, ...] | None = attrs.field(
        default=None, converter=_tuple_or_none,
        validator=[_each(CheckIn, what="a CheckIn", hint=_FROM_DICT), _check_history("milestone")]
    )
    weight: float = attrs.field(default=1.0, validator=C.check_non_negative)
    owners: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=_check_owners)
    due: datetime | None = attrs.field(
        default=None, validator=[C.check_instant_or_none, _check_milestone]
    )
    name: str = ""

    kind: ClassVar[Literal["milestone"]] = "milestone"

    @property
    def total(self) -> int:
        """The number of stages (1 for a simple milestone)."""
        if self.checkpoints is not None:
            return len(self.checkpoints)
        return 1 if self.stages_total is None else int(self.stages_total)


KeyResult: TypeAlias = Metric | Binary | Milestone
"""Any valid key result."""
_KEY_RESULT_TYPES: Final = (Metric, Binary, Milestone)
"""The model class of every key-result kind (each registered in :mod:`okrcore.kinds`)."""
_KEY_RESULT_WHAT: Final = (f"a {', '.join(t.__name__ for t in _KEY_RESULT_TYPES[:-1])} or "
                           f"{_KEY_RESULT_TYPES[-1].__name__}")


@attrs.frozen
class InvalidKeyResult:
    """A key result the loader could not build; it carries its errors and what it could read.

    The evaluator reports the errors and marks everything that needs this key result
    ``depends_on_invalid``.
    """

    id: str | None
    errors: tuple[E.OkrError, ...] = attrs.field(
        converter=_tuple, validator=_each(E.OkrError, what="an OkrError"))
    owners: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    weight: float = 1.0
    kind: str = "invalid"


def _check_progress_settings(
    inst: ProgressSettings, _attribute: attrs.Attribute[Any], _value: object
) -> None:
    if not inst.auto and inst.target is None:
        raise E.OkrValueError(
            E.MISSING_FIELD,
            "target",
            "progress settings need a target unless auto is true",
            None,
        )


@attrs.frozen
class ProgressSettings:
    """An objective's progress settings: sum the metrics of one unit against a goal target.

    Parameters
    ----------
    unit : str
        Only metric KRs of this unit contribute.
    target : float or None
        The goal's fixed target [unit]; required unless ``auto``.
    auto : bool
        When true the target is the sum of the contributing KRs' targets at evaluation time.
    start : float or None
        The goal's start [unit]; default the sum of the contributing KRs' starts.  A start above
        the target makes a reduction goal.
    """

    unit: str = attrs.field(validator=C.text)
    target: float | None = attrs.field(default=None, validator=C.check_finite_or_none)
    auto: bool = attrs.field(default=False, validator=_check_bool)
    start: float | None = attrs.field(
        default=None, validator=[C.check_finite_or_none, _check_progress_settings]
    )


def _check_timeline(inst: Objective, _attribute: attrs.Attribute[Any], _value: object) -> None:
    if inst.start is not None and inst.due is not None and inst.due <= inst.start:
        raise E.OkrValueError(
            E.INVALID_TIMELINE,
            "due",
            f"due {inst.due.isoformat()} is not after start {inst.start.isoformat()}",
            inst.due,
        )


@attrs.frozen
class Objective:
    """An objective: key results, an owner, an optional parent and a timeline.

    Parameters
    ----------
    id : str
        Unique among the document's objectives.
    key_results : tuple of KeyResult
        The objective's own key results (may hold :class:`InvalidKeyResult` after loading).
    owner : str or None
        The person who owns the objective.
    parent : str or None
        The id of the objective this one is aligned to.
    weight : float
        The objective's weight as a child in its parent's rollup.
    start, due : datetime or None
        The timeline for expected progress.
    mode : {"auto", "mean", "sum"}
        How key results roll up.
    ambition : {"committed", "aspirational"}
        Changes the grade, never progress.
    status : {"on_track", "behind", "at_risk", "off_track"} or None
        A manual status, reported beside the computed colour.
    include_children : bool
        Count aligned children beside the objective's own key results.
    progress_settings : ProgressSettings or None
        Sum one unit's metrics against a goal target.
    name : str
        Free text for people.
    """

    id: str = attrs.field(validator=C.text)
    key_results: tuple[KeyResult | InvalidKeyResult, ...] = attrs.field(
        default=(), converter=_tuple, validator=_each(
            *_KEY_RESULT_TYPES, InvalidKeyResult, what=_KEY_RESULT_WHAT, hint=_FROM_DICT)
    )
    owner: str | None = attrs.field(default=None, validator=_check_optional_text)
    parent: str | None = attrs.field(default=None, validator=_check_optional_text)
    weight: float = attrs.field(default=1.0, validator=C.check_non_negative)
    start: datetime | None = attrs.field(default=None, validator=C.check_instant_or_none)
    due: datetime | None = attrs.field(
        default=None, validator=[C.check_instant_or_none, _check_timeline]
    )
    mode: Mode = attrs.field(default="auto", validator=C.check_one_of(*MODES))
    ambition: Ambition = attrs.field(default="committed", validator=C.check_one_of(*AMBITIONS))
    status: ManualStatus | None = attrs.field(default=None)
    include_children: bool = attrs.field(default=False, validator=_check_bool)
    progress_settings: ProgressSettings | None = attrs.field(
        default=None, validator=_instance(ProgressSettings, what="ProgressSettings"))
    name: str = ""

    @status.validator
    def _check_status(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            C.check_one_of(*MANUAL_STATUSES)(self, attribute, value)


@attrs.frozen
class InvalidObjective:
    """An objective the loader could not build, with its errors and what it could read.

    Its key results that could be built are kept: they do not need the objective's parent, but
    they do need its timeline and owner, so they are reported ``depends_on_invalid``.
    """

    id: str | None
    errors: tuple[E.OkrError, ...] = attrs.field(
        converter=_tuple, validator=_each(E.OkrError, what="an OkrError"))
    owner: str | None = None
    parent: str | None = None
    weight: float = 1.0
    key_results: tuple[KeyResult | InvalidKeyResult, ...] = attrs.field(
        default=(), converter=_tuple, validator=_each(
            *_KEY_RESULT_TYPES, InvalidKeyResult, what=_KEY_RESULT_WHAT, hint=_FROM_DICT)
    )


@attrs.define
class _DictForm:
    """The interchange functions behind ``Document.from_dict`` and ``Document.to_dict``.

    The interchange document is defined by :mod:`okrcore.interchange`, a layer above the model.
    The model does not import it (that was the import cycle model <-> interchange, issue 18):
    :mod:`okrcore.interchange` fills this in when it is imported, and importing any part of
    ``okrcore`` imports it (``okrcore/__init__.py`` does).
    """

    load: Callable[[object], Document] | None = None
    dump: Callable[[Document], dict[str, Any]] | None = None


_DOCUMENT_DICT_FORM: Final = _DictForm()


@attrs.frozen
class Document:
    """One evaluation: an instant, a policy and the objectives.

    Parameters
    ----------
    as_of : datetime
        The instant of evaluation; check-ins after it are not yet known.
    objectives : tuple of Objective
        May include :class:`InvalidObjective` after loading a document with errors.
    policy : Policy
        Thresholds and caps; default the ``betterworks`` preset.
    warnings : tuple of OkrError
        What reading the document ignored (``unknown_field``, SEMANTICS §11.3); not part of
        the document's value (equality ignores it).
    """

    as_of: datetime = attrs.field(validator=C.check_instant)
    objectives: tuple[Objective | InvalidObjective, ...] = attrs.field(
        default=(), converter=_tuple,
        validator=_each(Objective, InvalidObjective, what="an Objective", hint=_FROM_DICT)
    )
    policy: Policy = attrs.field(factory=Policy, validator=_instance(Policy, what="a Policy"))
    warnings: tuple[E.OkrError, ...] = attrs.field(default=(), eq=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Document:
        """Build a document from a parsed interchange document (plain dicts and lists).

        The file and text forms are :func:`okrcore.load` and :func:`okrcore.loads`.

        Raises
        ------
        DocumentError
            When ``data`` is not a version 1 document: not an object, ``okrcore`` is not 1, or
            ``as_of``, ``policy`` or ``objectives`` is missing or malformed.  Bad objectives and
            key results are kept as ``Invalid*`` items with their errors instead.
        """
        load = _DOCUMENT_DICT_FORM.load
        if load is None:  # pragma: no cover (importing okrcore imports okrcore.interchange)
            raise RuntimeError("Document.from_dict needs okrcore.interchange, not imported")
        return load(data)

    def to_dict(self) -> dict[str, Any]:
        """Return the interchange document as plain dicts and lists, ready for :func:`json.dump`.

        ``Document.from_dict(d.to_dict()) == d``; the file and text forms are
        :func:`okrcore.dump` and :func:`okrcore.dumps`.

        Raises
        ------
        ValueError
            When the document holds ``Invalid*`` items (they have no faithful JSON form).
        """
        dump = _DOCUMENT_DICT_FORM.dump
        if dump is None:  # pragma: no cover (importing okrcore imports okrcore.interchange)
            raise RuntimeError("Document.to_dict needs okrcore.interchange, not imported")
        return dump(self)


def increase_by(id: str, baseline: float, fraction: float, **fields: Any) -> Metric:
    r"""Build the metric "increase by ``fraction``" over an explicit baseline.

    Parameters
    ----------
    id : str
        The key result's id.
    baseline : float
        The value the phrase is relative to [unit]; it becomes the start.  Never guessed.
    fraction : float
        The relative change, e.g. 0.15 for "+15%" [fraction].
    **fields
        Any other :class:`Metric` field (``unit``, ``current``, ``check_ins``...).

    Returns
    -------
    Metric
        With ``start = baseline`` and ``target = baseline * (1 + fraction)``.

    Notes
    -----
    :math:`t = b\,(1 + x)`, :math:`s = b`.
    """
    base = C.finite_number("baseline", baseline)
    return Metric(id=id, start=baseline, target=base * (1 + C.finite_number("fraction", fraction)),
                  **fields)


def decrease_by(id: str, baseline: float, fraction: float, **fields: Any) -> Metric:
    r"""Build the reduction metric "reduce by ``fraction``" over an explicit baseline.

    Parameters
    ----------
    id : str
        The key result's id.
    baseline : float
        The value the phrase is relative to [unit]; it becomes the start.  Never guessed.
    fraction : float
        The relative change, e.g. 0.2 for "reduce by 20%" [fraction].
    **fields
        Any other :class:`Metric` field.

    Returns
    -------
    Metric
        With ``start = baseline`` and ``target = baseline * (1 - fraction)``.

    Notes
    -----
    :math:`t = b\,(1 - x)`, :math:`s = b`.
    """
    base = C.finite_number("baseline", baseline)
    return Metric(id=id, start=baseline, target=base * (1 - C.finite_number("fraction", fraction)),
                  **fields)
