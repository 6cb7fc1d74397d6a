"""One :class:`Policy` value holds every threshold, cap and convention okrcore applies.

Named presets reproduce other vendors' conventions: ``betterworks`` (the default),
``workfront``, ``upraise``, ``burningokr`` and ``viva`` for pace colours, and ``google``
for grading.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import attrs

from okrcore import _checks as C
from okrcore import errors as E

__all__ = [
    "PACE_BOUNDARIES",
    "PACE_RULES",
    "PRESETS",
    "PaceRule",
    "Policy",
]

PACE_RULES: Final = ("ratio", "difference", "points")
"""The three ways a pace threshold can be expressed."""

PaceRuleName = Literal["ratio", "difference", "points"]

PACE_BOUNDARIES: Final = ("worse", "better")
"""Which colour a value on a pace threshold takes (SEMANTICS §11.4)."""

PaceBoundary = Literal["worse", "better"]


def _check_pace_thresholds(inst: PaceRule, _attribute: attrs.Attribute[Any], _v: object) -> None:
    """Validate that the red threshold is at least as far behind as the yellow one."""
    worse_is_smaller = inst.rule in ("ratio", "difference")
    ordered = inst.red <= inst.yellow if worse_is_smaller else inst.red >= inst.yellow
    if not ordered:
        raise E.OkrValueError(
            E.OUT_OF_RANGE,
            "red",
            f"pace red threshold {inst.red!r} must be further behind than yellow "
            f"{inst.yellow!r} for the {inst.rule!r} rule",
            inst.red,
        )


@attrs.frozen
class PaceRule:
    r"""How far behind expected progress turns a goal yellow, and red.

    Parameters
    ----------
    rule : {"ratio", "difference", "points"}
        ``ratio``: yellow when progress <= yellow * expected.  ``difference``: yellow when
        progress - expected <= yellow (thresholds are negative fractions).  ``points``:
        yellow when the gap (expected - progress) * 100 >= yellow [percentage points].
    yellow : float
        The yellow threshold in the rule's unit.
    red : float
        The red threshold in the rule's unit; further behind than ``yellow``.
    boundary : {"worse", "better"}
        The colour of a value on a threshold (within the tolerance): ``worse`` (default) takes
        the worse colour, ``better`` the better one (BurningOKR: yellow only when
        :math:`p - e < -0.2`).

    Notes
    -----
    With progress :math:`p` and expected progress :math:`e`, a goal is *behind* by rule
    ``ratio`` when :math:`p \le t\,e`, by rule ``difference`` when :math:`p - e \le t`,
    and by rule ``points`` when :math:`100\,(e - p) \ge t`.  Under every rule a goal on or
    ahead of pace (:math:`p \ge e`) is never behind, so a ``points`` threshold of 0 means
    "any shortfall".  All comparisons use a relative tolerance of 1e-9.  With
    ``boundary="better"`` the comparisons become strict: behind when :math:`p < t\,e` (and so
    on) by more than the tolerance, so a value on the threshold, within the tolerance, keeps
    the better colour.
    """

    rule: PaceRuleName = attrs.field(validator=C.check_one_of(*PACE_RULES))
    yellow: float = attrs.field(validator=C.check_finite)
    red: float = attrs.field(validator=[C.check_finite, _check_pace_thresholds])
    boundary: PaceBoundary = attrs.field(default="worse",
                                         validator=C.check_one_of(*PACE_BOUNDARIES))

    def to_json(self) -> dict[str, Any]:
        """Return the ``{"rule", "yellow", "red", "boundary"}`` object of the interchange format."""
        return {"rule": self.rule, "yellow": self.yellow, "red": self.red,
                "boundary": self.boundary}


def _check_cap(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A cap is ``None`` (uncapped) or a finite number >= 1."""
    if value is None:
        return
    number = C.finite_number(attribute.name, value)
    if number < 1:
        raise E.OkrValueError(
            E.OUT_OF_RANGE, attribute.name, f"cap must be >= 1 or null, got {value!r}", value
        )


def _check_fraction(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A finite number in [0, 1]."""
    number = C.finite_number(attribute.name, value)
    if not 0 <= number <= 1:
        raise E.OkrValueError(
            E.OUT_OF_RANGE,
            attribute.name,
            f"{attribute.name} must lie in [0, 1], got {value!r}",
            value,
        )


def _check_stale_days(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A finite number of days > 0."""
    number = C.finite_number(attribute.name, value)
    if number <= 0:
        raise E.OkrValueError(
            E.OUT_OF_RANGE,
            attribute.name,
            f"stale_days must be > 0, got {value!r}",
            value,
        )


def _check_grade_bands(inst: Policy, attribute: attrs.Attribute[Any], value: object) -> None:
    """Grade band limits are fractions with yellow below green."""
    _check_fraction(inst, attribute, value)
    if inst.grade_yellow > inst.grade_green:
        raise E.OkrValueError(
            E.OUT_OF_RANGE,
            attribute.name,
            f"grade_yellow {inst.grade_yellow!r} must not exceed grade_green {inst.grade_green!r}",
            value,
        )


def _check_bool(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise E.OkrValueError(
            E.WRONG_TYPE, attribute.name, f"{attribute.name} must be true or false, got {value!r}"
        )


@attrs.frozen
class Policy:
    r"""Every tunable rule of the calculation, in one immutable value.

    Parameters
    ----------
    preset : str
        The name of the preset this policy started from (reported, never re-applied).
    cap : float or None
        Upper clamp of progress [fraction]; ``None`` leaves progress uncapped.  Default 1.
    pace : PaceRule
        Thresholds of the pace colour.  Default ``ratio`` 0.75 / 0.5 (BetterWorks).
    aspirational_success : float
        Progress at which an aspirational objective counts as a success [fraction].
    stale_days : float
        A key result with no check-in in this many days before ``as_of`` is stale [days].
    strict_breakpoints : bool
        When true a value must pass a range breakpoint, not merely reach it, to change colour.
    grade_yellow, grade_green : float
        Lower limits of the yellow and green grade bands [fraction].
    tolerance : float
        Relative tolerance of every threshold comparison.

    Notes
    -----
    Progress is :math:`\min(\max(r, 0), \text{cap})` for raw progress :math:`r`.
    Threshold comparisons :math:`a \le b` hold when :math:`a \le b` or
    :math:`|a - b| \le \text{tolerance} \cdot \max(|a|, |b|)`.
    """

    preset: str = attrs.field(default="betterworks", validator=C.text)
    cap: float | None = attrs.field(default=1.0, validator=_check_cap)
    pace: PaceRule = attrs.field(factory=lambda: PaceRule("ratio", 0.75, 0.5))
    aspirational_success: float = attrs.field(default=0.65, validator=_check_fraction)
    stale_days: float = attrs.field(default=7.0, validator=_check_stale_days)
    strict_breakpoints: bool = attrs.field(default=False, validator=_check_bool)
    grade_yellow: float = attrs.field(default=0.4, validator=_check_fraction)
    grade_green: float = attrs.field(default=0.7, validator=_check_grade_bands)
    tolerance: float = attrs.field(default=1e-9, validator=_check_fraction)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> Policy:
        """Return the named preset, with any fields overridden.

        Raises
        ------
        OkrValueError
            ``unknown_value`` when ``name`` is not in :data:`PRESETS`.
        """
        if name not in PRESETS:
            raise E.OkrValueError(
                E.UNKNOWN_FIELD_VALUE,
                "preset",
                f"preset must be one of {', '.join(sorted(PRESETS))}; got {name!r}",
                name,
            )
        return attrs.evolve(PRESETS[name], **overrides)

    def to_json(self) -> dict[str, Any]:
        """Return the ``policy`` object of the interchange format, every field spelled out."""
        return {
            "preset": self.preset,
            "cap": self.cap,
            "pace": self.pace.to_json(),
            "aspirational_success": self.aspirational_success,
            "stale_days": self.stale_days,
            "strict_breakpoints": self.strict_breakpoints,
            "grade_yellow": self.grade_yellow,
            "grade_green": self.grade_green,
        }


PRESETS: Final[dict[str, Policy]] = {
    "betterworks": Policy(),
    "workfront": Policy(preset="workfront", pace=PaceRule("ratio", 0.9, 0.7)),
    "upraise": Policy(preset="upraise", pace=PaceRule("ratio", 0.95, 0.75)),
    "burningokr": Policy(preset="burningokr", pace=PaceRule("difference", -0.2, -0.4,
                                                                 "better")),
    "viva": Policy(preset="viva", pace=PaceRule("points", 0.0, 25.0)),
    "google": Policy(preset="google", aspirational_success=0.7),
}
"""The named presets; ``betterworks`` is the default."""
