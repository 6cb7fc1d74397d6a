"""Plain-language explanations of key result and objective results.

:func:`explain` (also :meth:`okrcore.results.Evaluation.explain`) says how one result was
computed, naming the numbers used (the pace rule's line reads "yellow: progress 0.40 is at or
below 0.75 times expected 0.60 (betterworks pace)", with a multiplication sign)::

    yellow: 99.71 hit the yellow limit 99.8
    sum of 3 USD key results: 800,000 of auto target 850,000

It only formats what an :class:`~okrcore.results.Evaluation` holds: no formula is evaluated
again here, so the scalar and the batch engine give the same text.  Reasons are handled by
name, including those of SEMANTICS §11 (``no_timeline`` with a null colour, ``complete``,
``not_due`` and ``overdue`` for done-or-not key results).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from okrcore.errors import OkrError, UnknownItemError
from okrcore.policy import PRESETS, Policy

if TYPE_CHECKING:  # the results are only read here; results.Evaluation.explain calls this module
    from okrcore.results import (
        ColourSource,
        Evaluation,
        Item,
        KeyResultResult,
        ObjectiveResult,
    )

__all__ = [
    "KINDS",
    "explain",
    "explain_all",
    "explain_key_result",
    "explain_objective",
    "format_fraction",
    "format_number",
]

KINDS: Final = ("objective", "key_result")
"""The item types :func:`explain` accepts as ``kind``."""

_TIMES: Final = "\N{MULTIPLICATION SIGN}"
_MINUS: Final = "\N{MINUS SIGN}"
_MANUAL: Final = {"on_track": "on track", "behind": "behind", "at_risk": "at risk",
                  "off_track": "off track"}
_LIMIT_WORDS: Final = {"red_low": "red", "red_high": "red", "yellow_low": "yellow",
                       "yellow_high": "yellow"}
_RANGE_MODES: Final = {"range:band": "band", "range:graded": "graded", "range:linear": "linear"}


# ------------------------------------------------------------------------------------------------
# Numbers
# ------------------------------------------------------------------------------------------------

def format_number(value: float) -> str:
    """A value as people write it: ``800,000``, ``99.71``, ``0.9412``, ``1.5e+20``.

    Whole numbers get thousands separators, others up to four decimals (trailing zeros
    dropped); very large or very small magnitudes use four significant digits.
    """
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-4:
        return f"{value:.4g}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_fraction(value: float) -> str:
    """A fraction (progress, expected progress) with two decimals: ``0.40``.

    A value that is not 0 or 1 but would show as ``0.00`` or ``1.00`` gets the digits that tell
    it apart (``2.5e-07``, ``0.999999``), so that a comparison in the text never reads wrong.
    """
    text = f"{value:.2f}"
    if value != 0 and text in ("0.00", "-0.00"):
        return f"{value:.2g}"
    if value < 1 and text == "1.00":
        longer = f"{value:.6f}"
        return longer if longer != "1.000000" else repr(value)
    return "0.00" if text == "-0.00" else text


def _quantity(value: float, unit: str | None) -> str:
    return format_number(value) if not unit else f"{format_number(value)} {unit}"


def _day(text: str) -> str:
    """An ISO instant as a day when it is the end of one (midnight: the day before), else as is.

    Date-only dues mean the end of that day, so ``2026-04-01T00:00:00Z`` reads ``2026-03-31``.
    """
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return text
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        try:
            return (moment - timedelta(microseconds=1)).date().isoformat()
        except OverflowError:
            return text
    return text


def _rounded(value: float) -> float:
    """A projected value to two decimals (a forecast is not precise to more)."""
    return round(value, 2) if abs(value) < 1e15 else value


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# ------------------------------------------------------------------------------------------------
# Colours
# ------------------------------------------------------------------------------------------------

def _pace_name(policy: Policy) -> str:
    """``betterworks pace`` when the policy's pace is its preset's, else the rule spelled out."""
    preset = PRESETS.get(policy.preset)
    pace = policy.pace
    if preset is not None and preset.pace == pace:
        return f"{policy.preset} pace"
    return f"pace rule {pace.rule} {format_number(pace.yellow)}/{format_number(pace.red)}"


def _threshold_text(expected: float, threshold: float, rule: str | None) -> str:
    """How far behind ``expected`` a threshold lies, in the rule's own terms."""
    e = format_fraction(expected)
    if rule == "ratio":
        return f"{format_number(threshold)} {_TIMES} expected {e}"
    if rule == "difference":
        sign = "+" if threshold >= 0 else _MINUS
        return f"expected {e} {sign} {format_number(abs(threshold))}"
    return f"expected {e} {_MINUS} {format_number(threshold)} points"


def _pace_phrase(colour: str | None, source: ColourSource, progress: float | None,
                 expected: float | None, policy: Policy, due: str | None = None,
                 done_or_not: bool = False) -> str:
    """The sentence of a pace verdict, by reason name."""
    word = colour or "no colour"
    reason = source.reason
    p = "—" if progress is None else format_fraction(progress)
    name = _pace_name(policy)
    boundary = getattr(policy.pace, "boundary", "worse")
    at = "at or below" if boundary == "worse" else "below"
    if reason == "no_timeline":  # no pace without a timeline (SEMANTICS §11.1)
        return "no pace: no timeline"
    if reason == "not_due":
        return f"{word}: not due until {_day(due)}" if due else f"{word}: not due yet"
    if reason == "overdue":
        return f"{word}: overdue since {_day(due)}" if due else f"{word}: overdue"
    if reason == "complete":
        if done_or_not:
            return f"{word}: done"
        return f"{word}: complete (progress {p} reached 1)"
    if reason == "not_started":
        return f"{word}: the period has not started (expected 0)"
    if expected is None:
        return f"{word}: pace {reason.replace('_', ' ')} ({name})"
    e = format_fraction(expected)
    if reason == "on_pace":
        return f"{word}: progress {p} is at or above expected {e} ({name})"
    if reason in ("yellow", "red") and source.threshold is not None:
        limit = _threshold_text(expected, source.threshold, source.rule)
        return f"{word}: progress {p} is {at} {limit} ({name})"
    if reason == "ahead_of_yellow":
        pace = policy.pace
        limit = _threshold_text(expected, pace.yellow, pace.rule)
        return (f"{word}: progress {p} is behind expected {e} but above {limit} "
                f"({name})")
    return f"{word}: pace {reason.replace('_', ' ')}: progress {p}, expected {e} ({name})"


def _limit_phrase(colour: str, value: float | bool, limit: str,
                  limits: Sequence[float | None], strict: bool) -> str:
    names = ("red_low", "yellow_low", "yellow_high", "red_high")
    bound = limits[names.index(limit)]
    verb = "passed" if strict else "hit"
    shown = "—" if bound is None else format_number(bound)
    return (f"{colour}: {format_number(float(value))} {verb} the {_LIMIT_WORDS[limit]} limit "
            f"{shown}")


# ------------------------------------------------------------------------------------------------
# Key results
# ------------------------------------------------------------------------------------------------

def _progress_lines(kr: KeyResultResult, policy: Policy) -> list[str]:
    """How a key result's progress was computed, with its numbers."""
    x = kr.explanation
    p, raw = kr.progress, kr.raw_progress
    ps = format_fraction(p)
    lines: list[str] = []
    if x is None:
        lines.append(f"progress {ps} ({kr.kind}, current {_value(kr.current)})")
    elif x.rule in ("metric", "range:linear"):
        assert x.start is not None and x.target is not None
        c, s, t = float(kr.current), x.start, x.target
        way = "increase" if t > s else "reduction"
        prefix = "range metric (linear), " if x.rule == "range:linear" else ""
        lines.append(
            f"progress {ps}: {prefix}{way} from {_quantity(s, x.unit)} to "
            f"{_quantity(t, x.unit)}, now {_quantity(c, x.unit)}: "
            f"raw ({format_number(c)} {_MINUS} {format_number(s)}) / "
            f"({format_number(t)} {_MINUS} {format_number(s)}) = {format_fraction(raw)}")
    elif x.rule == "range:band":
        inside = raw > 0
        lines.append(
            f"progress {ps}: range metric (band): 1 while the value has not "
            f"{'passed' if policy.strict_breakpoints else 'hit'} a red limit, else 0; "
            f"value {_quantity(float(kr.current), x.unit)} "
            + ("is inside" if inside else "is not inside") + _red_limits(x.limits))
    elif x.rule == "range:graded":
        lines.append(
            f"progress {ps}: range metric (graded): 1 inside the yellow limits, falling to 0 "
            f"at the red limits; value {_quantity(float(kr.current), x.unit)}"
            + _all_limits(x.limits, x.target))
    elif x.rule == "binary" or x.rule == "milestone":
        what = "done" if kr.current else "not done"
        lines.append(f"progress {ps}: {what}")
    elif x.rule in ("milestone:stages", "milestone:checkpoints"):
        word = "stages" if x.rule == "milestone:stages" else "checkpoints"
        total = "?" if x.total is None else format_number(x.total)
        lines.append(f"progress {ps} = {format_number(float(kr.current))} of {total} {word} done")
    else:
        lines.append(f"progress {ps} ({x.rule}, current {_value(kr.current)})")
    if raw != p:
        cap = policy.cap
        if raw > p and cap is not None:
            lines.append(f"raw progress {format_fraction(raw)} is capped at "
                         f"{format_number(cap)} (policy cap)")
        elif raw < p:
            lines.append(f"raw progress {format_fraction(raw)} is below the start: progress "
                         "is never negative")
    elif _uncapped(policy) and raw > 1:
        lines.append(f"raw progress {format_fraction(raw)} is not capped (policy: uncapped)")
    return lines


def _uncapped(policy: Policy) -> bool:
    """Whether the policy leaves progress uncapped."""
    return policy.cap is None


def _value(value: float | bool) -> str:
    if isinstance(value, bool):
        return "done" if value else "not done"
    return format_number(value)


def _red_limits(limits: Sequence[float | None] | None) -> str:
    if limits is None:
        return ""
    parts = [f"{name} {format_number(v)}" for name, v in
             (("red_low", limits[0]), ("red_high", limits[3])) if v is not None]
    return " the red limits (" + ", ".join(parts) + ")" if parts else " (no red limit)"


def _all_limits(limits: Sequence[float | None] | None, target: float | None) -> str:
    if limits is None:
        return ""
    names = ("red_low", "yellow_low", "yellow_high", "red_high")
    parts = [f"{n} {format_number(v)}" for n, v in zip(names, limits, strict=True)
             if v is not None]
    if target is not None:
        parts.insert(sum(1 for v in limits[:2] if v is not None), f"target {format_number(target)}")
    return " (" + ", ".join(parts) + ")"


def _colour_lines(kr: KeyResultResult, policy: Policy) -> list[str]:
    x = kr.explanation
    done_or_not = kr.kind == "binary" or (x is not None and x.rule == "milestone")
    if x is None or x.pace is None:
        line = f"{kr.colour or 'no colour'}: pace {kr.pace_colour or 'none'}"
        if kr.range_status is not None:
            line += f", range {kr.range_status}"
        return [line]
    pace = _pace_phrase(kr.pace_colour, x.pace, kr.progress, kr.expected, policy, x.due,
                        done_or_not)
    if x.limits is None:
        return [pace]
    if x.limit is not None and kr.range_status is not None:
        limit = _limit_phrase(kr.range_status, kr.current, x.limit, x.limits,
                              policy.strict_breakpoints)
    else:
        limit = (f"green: {_quantity(float(kr.current), x.unit)} hit no range limit"
                 if kr.range_status == "green" else f"range {kr.range_status or 'none'}")
    if kr.colour is not None and kr.colour == kr.range_status and kr.colour != kr.pace_colour:
        return [limit, f"(pace alone: {pace})"]
    return [pace, f"(range: {limit})"]


def _common_lines(trend: str | None, stale: bool | None, last: str | None,
                  policy: Policy, objective: bool = False) -> list[str]:
    lines: list[str] = []
    if trend is not None:
        lines.append(f"trend: {trend} since the previous check-in")
    if objective:
        if stale is not None:
            days = format_number(policy.stale_days)
            lines.append(f"stale: every key result with a history had no check-in in the {days}"
                         " days before as_of" if stale else
                         "not stale: a key result had a check-in in the "
                         f"{days} days before as_of (or is complete)")
    elif stale is True:
        since = f" (last {last})" if last else " (none yet)"
        lines.append(f"stale: no check-in in the {format_number(policy.stale_days)} days "
                     f"before as_of{since}")
    elif stale is False and last is not None:
        lines.append(f"not stale: last check-in {last}")
    return lines


def explain_key_result(evaluation: Evaluation, result: KeyResultResult) -> str:
    """The explanation of one key result (see :func:`explain`)."""
    policy = evaluation.policy
    x = result.explanation
    kind = result.kind if x is None else x.rule.replace(":", ", ")
    lines = [f"key result {result.id} ({kind}) of objective {result.objective}"]
    lines += _progress_lines(result, policy)
    if result.expected is not None:
        due = f" (due {_day(x.due)})" if x is not None and x.due else ""
        lines.append(f"expected {format_fraction(result.expected)} on the linear timeline{due}")
    lines += _colour_lines(result, policy)
    if result.weight == 0:
        lines.append("weight 0: shown but not counted")
    elif not result.contributes:
        lines.append("not summed: only metrics of the objective's sum unit count")
    elif result.weight != 1:
        lines.append(f"weight {format_number(result.weight)}")
    lines += _common_lines(result.trend, result.stale, result.last_check_in, policy)
    if result.forecast is not None:
        fc = result.forecast
        unit = None if x is None else x.unit
        value = "" if fc.value is None else _quantity(_rounded(fc.value), unit)
        lines.append(f"forecast at due: {value + ', ' if value else ''}progress "
                     f"{format_fraction(fc.progress)}, {fc.colour} (least-squares line through "
                     "the period's check-ins)")
    g = result.grade
    lines.append(f"grade {format_number(g.score)} ({g.band}), "
                 f"{'a success' if g.success else 'not a success'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Objectives
# ------------------------------------------------------------------------------------------------

def _item_text(item: Item) -> str:
    name = item.id if item.id is not None else "the sum"
    p = "—" if item.progress is None else format_fraction(item.progress)
    if not item.contributes:
        why = "weight 0" if item.weight == 0 else ("no progress" if item.progress is None
                                                   else "not counted")
        return f"{name} {p} ({why})"
    share = "" if item.share is None else f", share {format_fraction(item.share)}"
    return f"{name} {p} (weight {format_number(item.weight)}{share})"


def _mean_line(progress: float | None, items: Sequence[Item], what: str) -> str:
    counted = [i for i in items if i.contributes]
    p = "—" if progress is None else format_fraction(progress)
    listed = "; ".join(_item_text(i) for i in items)
    return f"progress {p} = weighted mean of {_plural(len(counted), what)}: {listed}"


def _rollup_lines(result: ObjectiveResult) -> list[str]:
    x = result.explanation
    if x.rule == "empty":
        return [f"no progress: {x.reason}"]
    auto = "auto: " if x.rule.startswith("auto:") else ""
    lines = [f"mode {x.mode} ({auto}{x.reason})"]
    if x.rule == "children":
        lines.append(_mean_line(result.progress, x.items, "aligned objective"))
        return lines
    krs = [i for i in x.items if i.type == "key_result"]
    others = [i for i in x.items if i.type != "key_result"]
    if x.mode == "sum" and x.target is not None and x.start is not None and x.value is not None:
        summed = [i for i in krs if i.contributes]
        unit = x.unit or ""
        label = f"{unit} key result" if unit else "key result"
        lines.append(f"sum of {_plural(len(summed), label)}: {format_number(x.value)} of "
                     f"{x.target_rule or 'fixed'} target {format_number(x.target)}")
        raw = result.raw_progress if not others else None
        text = (f"from start {format_number(x.start)}: "
                f"({format_number(x.value)} {_MINUS} {format_number(x.start)}) / "
                f"({format_number(x.target)} {_MINUS} {format_number(x.start)})")
        sum_item = next((i for i in others if i.type == "sum"), None)
        if raw is not None:
            text += f" = {format_fraction(raw)}"
        elif sum_item is not None and sum_item.progress is not None:
            text += f" → {format_fraction(sum_item.progress)}"
        lines.append(text)
        parts = [f"{i.id} {format_number(i.value or 0.0)}" for i in summed]
        skipped = [str(i.id) for i in krs if not i.contributes]
        detail = "summed: " + ", ".join(parts)
        if skipped:
            detail += "; not summed: " + ", ".join(skipped)
        lines.append(detail)
        if others:
            lines.append(_mean_line(result.progress, others, "item"))
    else:
        what = "item" if others else "key result"
        lines.append(_mean_line(result.progress, x.items, what))
    return lines


def _objective_colour(evaluation: Evaluation, result: ObjectiveResult) -> list[str]:
    x = result.explanation
    source = x.colour
    policy = evaluation.policy
    if source is None:
        return [f"{result.colour or 'no colour'}"]
    if source.source == "manual":
        status = _MANUAL.get(source.reason, source.reason)
        return [f"{result.colour or 'no colour'}: manual status {status} "
                f"(computed colour {result.computed_colour or 'none'})"]
    if source.source == "breakpoint":
        kr = evaluation.key_results.get(source.reason)
        colour = result.computed_colour or "no colour"
        if kr is not None and kr.explanation is not None and kr.explanation.limit is not None \
                and kr.explanation.limits is not None:
            phrase = _limit_phrase(colour, kr.current, kr.explanation.limit,
                                   kr.explanation.limits, policy.strict_breakpoints)
            return [phrase.replace(": ", f": key result {source.reason}'s value ", 1)]
        return [f"{colour}: key result {source.reason} hit a {colour} range limit"]
    if source.source == "none":
        return ["no colour: no progress"]
    return [_pace_phrase(result.computed_colour, source, result.progress, result.expected,
                         policy)]


def explain_objective(evaluation: Evaluation, result: ObjectiveResult) -> str:
    """The explanation of one objective (see :func:`explain`)."""
    policy = evaluation.policy
    head = f"objective {result.id}"
    if result.parent is not None:
        head += f" (aligned to {result.parent})"
    lines = [head]
    lines += _rollup_lines(result)
    if result.raw_progress is not None and result.progress is not None \
            and result.raw_progress != result.progress:
        if result.raw_progress > result.progress and policy.cap is not None:
            lines.append(f"raw progress {format_fraction(result.raw_progress)} is capped at "
                         f"{format_number(policy.cap)} (policy cap)")
        elif result.raw_progress < result.progress:
            lines.append(f"raw progress {format_fraction(result.raw_progress)} is below the "
                         "start: progress is never negative")
    if result.expected is not None:
        lines.append(f"expected {format_fraction(result.expected)} on the linear timeline")
    lines += _objective_colour(evaluation, result)
    lines += _common_lines(result.trend, result.stale, None, policy, objective=True)
    if result.forecast is not None:
        lines.append(f"forecast at due: progress {format_fraction(result.forecast.progress)}, "
                     f"{result.forecast.colour} (from its items' forecasts)")
    if result.grade is not None:
        g = result.grade
        lines.append(f"grade {format_number(g.score)} ({g.band}), "
                     f"{'a success' if g.success else 'not a success'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------

_ITEM_PATH: Final = re.compile(r"objectives\[\d+\](?:\.key_results\[\d+\])?")


def _errors_by_item(evaluation: Evaluation) -> dict[str, list[OkrError]]:
    """The errors by the path of the objective or key result they are on (one pass)."""
    out: dict[str, list[OkrError]] = {}
    for error in evaluation.errors:
        found = _ITEM_PATH.match(error.path)
        if found is not None:
            out.setdefault(found.group(0), []).append(error)
    return out


def _explain_error(kind: str, ident: str, errors: Sequence[OkrError]) -> str:
    word = "objective" if kind == "objective" else "key result"
    lines = [f"{word} {ident}: not evaluated"]
    lines += [f"error {e.code} at {e.path}: {e.message}" for e in errors]
    if not errors:
        lines.append("error: it has an error (see the evaluation's errors)")
    return "\n".join(lines)


def explain(evaluation: Evaluation, ident: str, kind: str | None = None) -> str:
    """Say in plain language how the result of an objective or a key result was computed.

    Parameters
    ----------
    evaluation : Evaluation
        From either engine.
    ident : str
        The id of an objective or a key result.
    kind : {"objective", "key_result"} or None
        Which one, when an objective and a key result share the id; ``None`` explains every
        item with the id (the objective first, a blank line between).

    Returns
    -------
    str
        Lines without a trailing newline (see :meth:`~okrcore.results.Evaluation.explain`).

    Raises
    ------
    UnknownItemError
        No item of that kind has the id (a :class:`KeyError`; its message names the id).
    ValueError
        ``kind`` is not one of :data:`KINDS` or ``None``.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be 'objective', 'key_result' or None, got {kind!r}")
    texts: list[str] = []
    if kind in (None, "objective"):
        obj = evaluation.objectives.get(ident)
        if obj is not None:
            texts.append(explain_objective(evaluation, obj))
        elif ("objective", ident) in evaluation.error_paths:
            path = evaluation.error_paths[("objective", ident)]
            texts.append(_explain_error("objective", ident,
                                        _errors_by_item(evaluation).get(path, [])))
    if kind in (None, "key_result"):
        kr = evaluation.key_results.get(ident)
        if kr is not None:
            texts.append(explain_key_result(evaluation, kr))
        elif ("key_result", ident) in evaluation.error_paths:
            path = evaluation.error_paths[("key_result", ident)]
            texts.append(_explain_error("key_result", ident,
                                        _errors_by_item(evaluation).get(path, [])))
    if not texts:
        what = {"objective": "objective", "key_result": "key result"}.get(
            kind or "", "objective or key result")
        raise UnknownItemError(f"no {what} with id {ident!r} in this evaluation")
    return "\n\n".join(texts)


def explain_all(evaluation: Evaluation) -> str:
    """Every objective followed by its key results, then the items with errors.

    Returns
    -------
    str
        The texts of :func:`explain`, separated by blank lines: the evaluated objectives in
        document order, each followed by its key results; then each objective with an error,
        followed by its key results (evaluated or not); then any other key result with an
        error.
    """
    by_objective: dict[str, list[KeyResultResult]] = {}
    for kr in evaluation.key_results.values():
        by_objective.setdefault(kr.objective, []).append(kr)
    failed_krs: dict[str, list[tuple[str, str]]] = {}  # by the objective's path
    for (kind, ident), path in evaluation.error_paths.items():
        if kind == "key_result":
            failed_krs.setdefault(path.split(".key_results[")[0], []).append((ident, path))
    errors = _errors_by_item(evaluation)
    texts: list[str] = []
    for obj in evaluation.objectives.values():
        texts.append(explain_objective(evaluation, obj))
        texts.extend(explain_key_result(evaluation, kr) for kr in by_objective.pop(obj.id, []))
    for (kind, ident), path in evaluation.error_paths.items():
        if kind != "objective":
            continue
        texts.append(_explain_error(kind, ident, errors.get(path, [])))
        texts.extend(explain_key_result(evaluation, kr) for kr in by_objective.pop(ident, []))
        texts.extend(_explain_error("key_result", k, errors.get(p, []))
                     for k, p in failed_krs.pop(path, []))
    for krs in by_objective.values():  # key results of an objective that is not in the maps
        texts.extend(explain_key_result(evaluation, kr) for kr in krs)
    texts.extend(_explain_error("key_result", k, errors.get(p, []))
                 for group in failed_krs.values() for k, p in group)
    return "\n\n".join(texts)
