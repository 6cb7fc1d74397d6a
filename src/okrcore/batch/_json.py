"""The result document straight from batch result columns (issue 19, single documents).

:func:`result_text` writes the same JSON text as
``json.dumps(to_evaluation(frame, result).to_dict(), indent=indent, allow_nan=False)`` (byte
for byte; ``tests/test_document_fast.py``) without building a result object or a dict per
item: every column is turned into Python values once (``tolist``), every distinct value of a
column into its JSON text once, and the items of a section are one ``str.join`` of their
columns' texts between the literal parts of a template made for their nesting depth
(:func:`_fill`).

What it does not do itself it leaves to the object path, so that nothing is worded twice:
explanations of objectives whose rollup is not a plain weighted mean of their own key
results (``sum`` mode, aligned children counted, rescaled sums) come from
:func:`okrcore.batch.convert.explain`; errors from :func:`okrcore.batch.convert.errors_of`.
When a value could not be written as JSON (a non-finite number) or ids repeat, it returns
``None`` and the caller takes the object path, which raises or words it as today.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring_ascii as _string
from typing import Any, Final

import numpy as np

from okrcore import errors as E
from okrcore import formulas as F
from okrcore.batch import convert as C
from okrcore.batch import engine as G
from okrcore.batch.frame import KIND_METRIC, KIND_NAMES, NONE_INSTANT, OrgFrame
from okrcore.codes import (
    COLOUR_NAMES,
    PACE_REASONS,
    STALE_NO,
    STALE_NONE,
    STALE_YES,
    STATUS_CODES,
)
from okrcore.evaluate import (
    MANUAL_COLOURS,
    RULE_REASONS,
    explicit_reason,
    isoformat_us,
    pace_reason_source,
)
from okrcore.results import ColourSource, Explanation

__all__ = ["result_text"]

_NULL: Final = "null"
_TRUE: Final = "true"
_FALSE: Final = "false"
_STATUSES: Final = tuple(STATUS_CODES)
_COLOUR_TEXT: Final = {-1: _NULL, **{c: _string(n) for c, n in enumerate(COLOUR_NAMES)}}
_TREND_TEXT: Final = {-1: _NULL, **{c: _string(n) for c, n in enumerate(C._TRENDS)}}
_STALE_TEXT: Final = {STALE_NONE: _NULL, STALE_NO: _FALSE, STALE_YES: _TRUE}
_BOOL_TEXT: Final = {True: _TRUE, False: _FALSE}


class _Layout:
    """The whitespace of ``json.dumps(..., indent=indent)`` at each depth."""

    def __init__(self, indent: int | None) -> None:
        self.indent = indent

    def nl(self, depth: int) -> str:
        """What opens a line at ``depth`` (nothing without an indent)."""
        return "" if self.indent is None else "\n" + " " * (self.indent * depth)

    def sep(self, depth: int) -> str:
        """What separates two members whose lines are at ``depth``."""
        return ", " if self.indent is None else "," + self.nl(depth)

    def obj(self, depth: int, keys: Sequence[str]) -> str:
        """A ``%`` template of an object with these keys whose members sit at ``depth``."""
        sep = self.sep(depth)
        body = sep.join(f"{_string(k)}: %s" for k in keys)
        return "{" + self.nl(depth) + body + self.nl(depth - 1) + "}"

    def array(self, depth: int, texts: Sequence[str]) -> str:
        """An array of JSON texts whose elements sit at ``depth``."""
        if not texts:
            return "[]"
        return "[" + self.nl(depth) + self.sep(depth).join(texts) + self.nl(depth - 1) + "]"

    def members(self, depth: int, pairs: Sequence[tuple[str, str]]) -> str:
        """An object of (JSON key text, JSON value text) whose members sit at ``depth``."""
        if not pairs:
            return "{}"
        sep = self.sep(depth)
        return ("{" + self.nl(depth) + sep.join(f"{k}: {v}" for k, v in pairs)
                + self.nl(depth - 1) + "}")

    def dumps(self, value: Any, depth: int) -> str:
        """``value`` as ``json.dumps`` writes it when it starts at ``depth``."""
        text = json.dumps(value, indent=self.indent, allow_nan=False)
        return text if self.indent is None else text.replace("\n", self.nl(depth))


def _floats(values: Any) -> list[str]:
    """JSON texts of finite floats (``repr``, as :mod:`json` writes them)."""
    return _number_texts(values, "nan")


def _opt_floats(values: Any) -> list[str]:
    """JSON texts of floats where NaN stands for null."""
    return _number_texts(values, _NULL)


def _number_texts(values: Any, nan: str) -> list[str]:
    """``repr`` of each float, ``nan`` for NaN; each distinct value is written once.

    A column holds few distinct values (weights, grades, expected progress), so its distinct
    values are found with :func:`numpy.unique` and each written once.  A column with a
    negative zero is written value by value (``unique`` would merge it with ``0.0``).
    """
    column = np.asarray(values, np.float64)
    if column.shape[0] < _UNIQUE_FROM or bool(np.signbit(column[column == 0.0]).any()):
        texts = list(map(float.__repr__, column.tolist()))
        return list(map(_NAN_NULL.get, texts, texts)) if nan == _NULL else texts
    unique, inverse = np.unique(column, return_inverse=True)
    distinct = [nan if v != v else repr(v) for v in unique.tolist()]
    return list(map(distinct.__getitem__, inverse.tolist()))


_UNIQUE_FROM: Final = 64
_NAN_NULL: Final = {"nan": _NULL}


def _finite(*columns: Any) -> bool:
    return all(bool(np.isfinite(c).all()) for c in columns)


def _finite_or_nan(*columns: Any) -> bool:
    return all(not bool(np.isinf(c).any()) for c in columns)


def _colour_rules(frame: OrgFrame, result: G.BatchResult, rows: np.ndarray[Any, Any],
                  kr_ids: list[str]) -> dict[int, ColourSource]:
    """What set each objective's colour (rows: the valid objectives), as ``explain`` gives it.

    The pace reasons come from the batch pace twin for every row at once; objectives with a
    manual status or with range key results take the scalar rule row by row.
    """
    policy = result.policy
    progress = result.obj_progress[rows]
    expected = result.obj_expected[rows]
    timeline = ~np.isnan(progress) & ~np.isnan(expected)
    reasons = np.full(rows.shape[0], 255, np.uint8)
    if timeline.any():
        reasons[timeline] = G._pace(progress[timeline], expected[timeline], policy)[1]
    sources = [pace_reason_source(why, policy) for why in PACE_REASONS]
    no_timeline = ColourSource("pace", "no_timeline")
    no_progress = ColourSource("none", "no_progress")
    range_rows = C._range_rows(frame)
    ranged = np.zeros(frame.n_obj, np.bool_)
    ranged[list(range_rows)] = True
    special = (frame.obj_status[rows] >= 0) | ranged[rows]
    out: dict[int, ColourSource] = {}
    progress_nan = np.isnan(progress).tolist()
    for i, reason, nan_progress, odd in zip(rows.tolist(), reasons.tolist(), progress_nan,
                                            special.tolist(), strict=True):
        if odd:
            out[i] = C._colour_source(frame, result, i, kr_ids, range_rows.get(i, []))
        elif nan_progress:
            out[i] = no_progress
        elif reason == 255:
            out[i] = no_timeline
        else:
            out[i] = sources[reason]
    return out


def _colour_rule_text(layout: _Layout, source: ColourSource, depth: int,
                      cache: dict[ColourSource, str]) -> str | None:
    text = cache.get(source)
    if text is None:
        if source.threshold is not None and not math.isfinite(source.threshold):
            return None
        text = cache[source] = layout.obj(depth, ("source", "reason", "rule", "threshold")) % (
            _string(source.source), _string(source.reason),
            _NULL if source.rule is None else _string(source.rule),
            _NULL if source.threshold is None else repr(source.threshold))
    return text


def _opt(value: float | None) -> str | None:
    """JSON text of an optional finite float; ``None`` when it is not finite."""
    if value is None:
        return _NULL
    return repr(value) if math.isfinite(value) else None


def _explanation_text(layout: _Layout, expl: Explanation,
                      rule_cache: dict[ColourSource, str]) -> str | None:
    """An objective's ``explanation`` object (members at depth 4), as ``json.dumps`` writes it."""
    item_t = layout.obj(6, ("type", "id", "weight", "progress", "share", "value",
                            "contributes"))
    items = []
    for item in expl.items:
        texts = [_opt(item.weight), _opt(item.progress), _opt(item.share), _opt(item.value)]
        if None in texts:
            return None
        items.append(item_t % (_string(item.type), _NULL if item.id is None else _string(item.id),
                               *texts, _TRUE if item.contributes else _FALSE))
    numbers = [_opt(expl.target), _opt(expl.start), _opt(expl.value), _opt(expl.expected)]
    if None in numbers:
        return None
    colour = (_NULL if expl.colour is None
              else _colour_rule_text(layout, expl.colour, 5, rule_cache))
    if colour is None:
        return None
    return layout.obj(4, ("mode", "rule", "reason", "items", "unit", "target", "start",
                          "value", "target_rule", "expected", "colour_rule")) % (
        _string(expl.mode), _string(expl.rule), _string(expl.reason),
        layout.array(5, items), _NULL if expl.unit is None else _string(expl.unit),
        *numbers[:3], _NULL if expl.target_rule is None else _string(expl.target_rule),
        numbers[3], colour)


def _kr_section(layout: _Layout, frame: OrgFrame, result: G.BatchResult, kr_ids: list[str],
                obj_ids: list[str], people: list[str]) -> str | None:
    """The ``key_results`` object (members at depth 2), or ``None`` to take the object path."""
    rows = np.flatnonzero(result.kr_error == 0)
    if not _finite(result.kr_value[rows], result.kr_raw[rows], result.kr_progress[rows],
                   frame.kr_weight[rows], result.kr_grade_score[rows]) or not _finite_or_nan(
            result.kr_expected[rows], result.kr_forecast_value[rows],
            result.kr_forecast_progress[rows]):
        return None
    ids = [kr_ids[r] for r in rows.tolist()]
    if len(set(ids)) != len(ids):
        return None
    policy = result.policy
    kind = frame.kr_kind[rows]
    kinds = kind.tolist()
    objective = frame.kr_objective[rows].tolist()
    value = result.kr_value[rows].tolist()
    expected = result.kr_expected[rows]
    timeline = ~np.isnan(expected)
    reasons = G._pace(result.kr_progress[rows], expected, policy)[1].tolist()
    pace_text = [_string(r) for r in PACE_REASONS]
    no_timeline = _string("no_timeline")
    due_us = frame.kr_due[rows]
    due_us = np.where(due_us == NONE_INSTANT, frame.obj_due[frame.kr_objective[rows]], due_us)
    done_or_not = np.isin(kind, np.fromiter(C._DONE_OR_NOT, np.int64))
    pace_reason = [pace_text[r] if t else no_timeline
                   for r, t in zip(reasons, timeline.tolist(), strict=True)]
    verdicts: dict[tuple[bool, int], str] = {}  # (done, due) -> the pace reason's text
    due_list = due_us.tolist()
    for j in np.flatnonzero(done_or_not).tolist():
        key = (value[j] != 0.0, due_list[j])
        text = verdicts.get(key)
        if text is None:
            due = key[1]
            why = F.due_colour(key[0], result.as_of, None if due == NONE_INSTANT else due)
            text = verdicts[key] = _string(why[1])
        pace_reason[j] = text
    current = _floats(value)
    for j in np.flatnonzero(done_or_not).tolist():
        current[j] = _TRUE if value[j] else _FALSE
    kind_text = [_string(n) for n in KIND_NAMES]
    obj_text = [_string(o) for o in obj_ids]
    person_text = [_string(p) for p in people]
    owner_ids = frame.kr_owner_ids.tolist()
    colour = _COLOUR_TEXT
    last: dict[int, str] = {NONE_INSTANT: _NULL}
    last_at = result.kr_last_at[rows].tolist()
    for at in set(last_at) - {NONE_INSTANT}:
        last[at] = _string(isoformat_us(at))
    grade = layout.obj(4, ("score", "band", "success"))
    forecast = layout.obj(4, ("value", "progress", "colour"))

    def texts(table: Any, column: Any) -> list[str]:
        return list(map(table.__getitem__, column[rows].tolist()))

    forecasts = _forecasts(forecast, _opt_floats(result.kr_forecast_value[rows]),
                           result.kr_forecast_progress[rows],
                           texts(colour, result.kr_forecast_colour))

    grades = _fill_each(grade, (
        _floats(result.kr_grade_score[rows]), texts(colour, result.kr_grade_band),
        texts(_BOOL_TEXT, result.kr_grade_success)), len(ids))
    template = layout.obj(3, (
        "objective", "kind", "owners", "current", "raw_progress", "progress", "expected",
        "colour", "pace_colour", "pace_reason", "range_status", "weight", "contributes",
        "trend", "stale", "last_check_in", "forecast", "grade"))
    nl4, sep4, nl3 = layout.nl(4), layout.sep(4), layout.nl(3)
    owned = [owner_ids[a:b] for a, b in zip(frame.kr_owner_offsets[rows].tolist(),
                                             frame.kr_owner_offsets[rows + 1].tolist(),
                                             strict=True)]
    owners_text = ["[" + nl4 + sep4.join([person_text[p] for p in o]) + nl3 + "]" if o else "[]"
                   for o in owned]

    columns = (
        map(_string, ids), map(obj_text.__getitem__, objective),
        map(kind_text.__getitem__, kinds), owners_text,
        current, _floats(result.kr_raw[rows]),
        _floats(result.kr_progress[rows]), _opt_floats(expected),
        texts(colour, result.kr_colour), texts(colour, result.kr_pace_colour), pace_reason,
        texts(colour, result.kr_range_status), _floats(frame.kr_weight[rows]),
        texts(_BOOL_TEXT, result.kr_contributes), texts(_TREND_TEXT, result.kr_trend),
        texts(_STALE_TEXT, result.kr_stale), map(last.__getitem__, last_at), forecasts, grades)
    return _section(layout, template, columns, len(ids))


def _forecasts(template: str, values: Iterable[str], progress: np.ndarray[Any, Any],
               colours: Iterable[str]) -> list[str]:
    """``forecast`` texts: ``template`` filled, or null where the forecast progress is NaN."""
    out = _fill_each(template, (values, _floats(progress), colours), progress.shape[0])
    for j in np.flatnonzero(np.isnan(progress)).tolist():
        out[j] = _NULL
    return out


def _section(layout: _Layout, template: str, columns: Sequence[Iterable[str]], n: int) -> str:
    """An object (members at depth 2): each of ``n`` members its key and ``template`` filled.

    ``columns``: the key texts, then one iterable of texts per ``%s`` of ``template``.
    """
    if not n:
        return "{}"
    return ("{" + layout.nl(2) + _fill("%s: " + template, columns, n, layout.sep(2))
            + layout.nl(1) + "}")


def _fill(template: str, columns: Sequence[Iterable[str]], n: int, sep: str) -> str:
    """``sep.join(template % row for row in zip(*columns))``, as one ``str.join``.

    The text between the template's ``%s`` is repeated beside the columns' texts and the
    whole is joined at once: no format and no Python code per row (a ``%`` format per row
    costs twice or more).  Every column holds ``n`` texts.
    """
    literals = template.split("%s")
    if len(literals) != len(columns) + 1:
        raise ValueError("a template needs one column per %s")
    streams: list[Iterable[str]] = [
        itertools.chain((literals[0],), itertools.repeat(sep + literals[0], n - 1))]
    for column, literal in zip(columns, literals[1:], strict=True):
        streams.append(column)
        streams.append(itertools.repeat(literal, n))
    return "".join(itertools.chain.from_iterable(zip(*streams, strict=True)))


def _fill_each(template: str, columns: Sequence[Iterable[str]], n: int) -> list[str]:
    """``[template % row for row in zip(*columns)]`` by :func:`_fill`.

    The rows are joined on NUL and split again: JSON text never holds a NUL (:mod:`json`
    writes a string's NUL as an escape).
    """
    return _fill(template, columns, n, "\0").split("\0") if n else []


def _objective_section(layout: _Layout, frame: OrgFrame, result: G.BatchResult,
                       kr_ids: list[str], obj_ids: list[str], people: list[str],
                       units: list[str]) -> str | None:
    """The ``objectives`` object (members at depth 2), or ``None`` to take the object path.

    Every member's parts are made column by column (one list of texts per field), then each
    member is one ``%`` format of the zipped parts.
    """
    rows = np.flatnonzero(result.obj_error == 0)
    row_list = rows.tolist()
    ids = [obj_ids[i] for i in row_list]
    if len(set(ids)) != len(ids):
        return None
    if not _finite_or_nan(result.obj_progress[rows], result.obj_raw[rows],
                          result.obj_expected[rows], result.obj_forecast_progress[rows],
                          result.obj_grade_score[rows]):
        return None
    explanations = _explanations(layout, frame, result, kr_ids, units, rows)
    if explanations is None:
        return None
    grade_t = layout.obj(4, ("score", "band", "success"))
    forecast_t = layout.obj(4, ("value", "progress", "colour"))
    obj_t = layout.obj(3, ("owner", "parent", "progress", "raw_progress", "expected", "colour",
                           "computed_colour", "manual_status", "mode", "trend", "stale",
                           "forecast", "grade", "explanation"))
    people_text = [_string(p) for p in people]
    parent_names = frame.obj_parent_names
    if parent_names is not None:
        parents = [parent_names[i] for i in row_list]
        parent_texts = [_NULL if p is None else _string(p) for p in parents]
    else:
        codes = frame.obj_parent[rows].tolist()
        parent_texts = [_string(obj_ids[p]) if p >= 0 else _NULL for p in codes]
    owner_texts = [_NULL if o < 0 else people_text[o] for o in frame.obj_owner[rows].tolist()]
    progress = result.obj_progress[rows].tolist()
    status_codes = frame.obj_status[rows].tolist()
    manual = [None if st < 0 else _STATUSES[st] for st in status_codes]
    colour_texts = [_string(MANUAL_COLOURS[m]) if m else _COLOUR_TEXT[c]
                    for m, c in zip(manual, result.obj_colour[rows].tolist(), strict=True)]
    forecasts = _forecasts(forecast_t, itertools.repeat(_NULL, len(row_list)),
                           result.obj_forecast_progress[rows],
                           map(_COLOUR_TEXT.__getitem__,
                               result.obj_forecast_colour[rows].tolist()))
    grades = _fill_each(grade_t, (
        _floats(result.obj_grade_score[rows]),
        map(_COLOUR_TEXT.__getitem__, result.obj_grade_band[rows].tolist()),
        map(_BOOL_TEXT.__getitem__, result.obj_grade_success[rows].tolist())), len(row_list))
    for j in np.flatnonzero(np.isnan(result.obj_progress[rows])).tolist():
        grades[j] = _NULL  # no progress, no grade
    columns = (
        map(_string, ids), owner_texts, parent_texts, _opt_floats(progress),
        _opt_floats(result.obj_raw[rows]),
        _opt_floats(result.obj_expected[rows]), colour_texts,
        [_COLOUR_TEXT[c] for c in result.obj_computed_colour[rows].tolist()],
        [_NULL if m is None else _string(m) for m in manual], explanations[1],
        [_TREND_TEXT[t] for t in result.obj_trend[rows].tolist()],
        [_STALE_TEXT[t] for t in result.obj_stale[rows].tolist()], forecasts, grades,
        explanations[0])
    return _section(layout, obj_t, columns, len(ids))


def _explanations(layout: _Layout, frame: OrgFrame, result: G.BatchResult,
                  kr_ids: list[str], units: list[str], rows: np.ndarray[Any, Any]
                  ) -> tuple[list[str], list[str]] | None:
    """The ``explanation`` texts and ``mode`` texts of the objective ``rows``, or ``None``.

    An objective whose rollup is a weighted mean of its own key results (the common case) is
    written column by column; a sum of its own key results row by row; any other comes from
    :func:`okrcore.batch.convert.explain` and is only formatted.
    """
    counts = np.bincount(frame.kr_objective, minlength=frame.n_obj)
    first = (np.cumsum(counts) - counts).tolist()
    counts_l = counts.tolist()
    mode_codes = result.obj_mode.tolist()
    rule_codes = result.obj_rule.tolist()
    include = frame.obj_include_children.tolist()
    sum_mode = {code for code, name in C._MODES.items() if name == "sum"}
    row_list = rows.tolist()
    simple = [counts_l[i] > 0 and not include[i] for i in row_list]
    others = [i for i, plain in zip(row_list, simple, strict=True) if not plain]
    explained = C.explain(frame, result, others)
    colour_rules = _colour_rules(frame, result, rows, kr_ids)
    rule_cache: dict[ColourSource, str] = {}
    rule_texts: dict[int, str] = {}  # by object: most rows share a few (hashing is slower)
    for source in {id(v): v for v in colour_rules.values()}.values():
        text = _colour_rule_text(layout, source, 5, rule_cache)
        if text is None:
            return None
        rule_texts[id(source)] = text
    expl_t = layout.obj(4, ("mode", "rule", "reason", "items", "unit", "target", "start",
                            "value", "target_rule", "expected", "colour_rule"))
    mode_text = {code: _string(name) for code, name in C._MODES.items()}
    sep5, nl5, nl4 = layout.sep(5), layout.nl(5), layout.nl(4)

    # every key result's item, for a weighted mean or a sum of its objective's own
    sum_rows = np.array([mode_codes[i] in sum_mode for i in range(frame.n_obj)], np.bool_)
    made = _items(layout, frame, result, kr_ids, sum_rows)
    if made is None:
        return None
    item_texts, finite = made
    sums = _sums(frame, result, units, [i for i, plain in zip(row_list, simple, strict=True)
                                        if plain and sum_rows[i]])
    if sums is None:
        return None
    no_sums = (_NULL,) * 5
    plain_rows = [i for i, plain in zip(row_list, simple, strict=True) if plain]
    if not all(finite[i] for i in plain_rows):
        return None  # a rescaled mean: left to the object path
    pairs = [(mode_codes[i], rule_codes[i]) for i in plain_rows]
    reasons = {}
    for mode, rule in set(pairs):
        words = (explicit_reason(C._MODES[mode]) if rule == G.RULE_EXPLICIT
                 else RULE_REASONS[C._RULES[rule]])
        reasons[(mode, rule)] = (mode_text[mode], _string(C._RULES[rule]), _string(words))
    expected = _opt_floats(result.obj_expected[plain_rows])
    # the explanations filled in at once (_fill), their items' brackets in the template
    plain_t = expl_t % ("%s", "%s", "%s", "[" + nl5 + "%s" + nl4 + "]", *("%s",) * 7)
    starts = [first[i] for i in plain_rows]
    if all(counts_l[i] == 1 for i in plain_rows):  # one key result each: no join
        listed = list(map(item_texts.__getitem__, starts))
    else:
        listed = [sep5.join(item_texts[a:a + counts_l[i]])
                  for i, a in zip(plain_rows, starts, strict=True)]
    said = list(zip(*map(reasons.__getitem__, pairs), strict=True)) or [(), (), ()]
    summed = list(zip(*[sums.get(i, no_sums) for i in plain_rows], strict=True)) or [()] * 5
    plain_texts = _fill_each(plain_t, (
        *said, listed, *summed, expected, [rule_texts[id(colour_rules[i])] for i in plain_rows]),
        len(plain_rows))
    plain_modes = [reasons[pair][0] for pair in pairs]
    if not others:
        return plain_texts, plain_modes
    texts: list[str] = []
    modes: list[str] = []
    made_plain = iter(zip(plain_texts, plain_modes, strict=True))
    for i, plain in zip(row_list, simple, strict=True):
        if plain:
            text, mode_name = next(made_plain)
            texts.append(text)
            modes.append(mode_name)
            continue
        written = _explanation_text(layout, explained[i], rule_cache)
        if written is None:
            return None
        texts.append(written)
        modes.append(_string(explained[i].mode))
    return texts, modes


def _items(layout: _Layout, frame: OrgFrame, result: G.BatchResult, kr_ids: list[str],
           sum_rows: np.ndarray[Any, Any]) -> tuple[list[str], list[bool]] | None:
    """Each key result's item text in its objective's explanation, and which means are finite.

    An objective of ``sum_rows`` sums its own key results: an item's share is its value over
    the sum (when it contributes), its value is written for a metric.  Otherwise it is a
    weighted mean: the share is its weight over the total positive weight.
    """
    item_t = layout.obj(6, ("type", "id", "weight", "progress", "share", "value",
                            "contributes"))
    of = frame.kr_objective
    weight, value = frame.kr_weight, result.kr_value
    counted = weight > 0
    summed = sum_rows[of]
    with np.errstate(all="ignore"):  # (rows with an error are not written)
        total = np.bincount(of, weights=np.where(counted, weight, 0.0), minlength=frame.n_obj)
        weighted = np.bincount(of, weights=np.where(counted, weight * result.kr_progress, 0.0),
                               minlength=frame.n_obj)
        mean_share = weight / total[of]
        sum_total = result.obj_sum_value[of]
        sum_share = value / sum_total
    contributes = np.where(summed, result.kr_contributes, counted)
    share = np.where(summed, sum_share, mean_share)
    shown = np.where(summed, result.kr_contributes & (sum_total != 0) & np.isfinite(sum_share),
                     counted & (total[of] > 0))
    metric = summed & (frame.kr_kind == KIND_METRIC)
    values = [repr(v) if ok else _NULL for v, ok in zip(value.tolist(), metric.tolist(),
                                                         strict=True)]
    shares = [repr(v) if ok else _NULL for v, ok in zip(share.tolist(), shown.tolist(),
                                                         strict=True)]
    kr_type = _string("key_result")
    texts = _fill_each(item_t, (
        itertools.repeat(kr_type, frame.n_kr), map(_string, kr_ids), _floats(weight),
        _floats(result.kr_progress), shares, values,
        map(_BOOL_TEXT.__getitem__, contributes.tolist())), frame.n_kr)
    finite = (sum_rows | (np.isfinite(total) & np.isfinite(weighted))).tolist()
    return texts, finite


def _sums(frame: OrgFrame, result: G.BatchResult, units: list[str], rows: list[int]
          ) -> dict[int, tuple[str, ...]] | None:
    """The ``unit``, ``target``, ``start``, ``value`` and ``target_rule`` texts of sums."""
    out: dict[int, tuple[str, ...]] = {}
    if not rows:
        return out
    at = np.array(rows, np.int64)
    total, target, start = (result.obj_sum_value[at], result.obj_sum_target[at],
                            result.obj_sum_start[at])
    if not _finite(total, target, start):
        return None
    auto = ((frame.obj_ps_unit[at] < 0) | frame.obj_ps_auto[at]).tolist()
    unit_text = {-1: _string("")} | {u: _string(name) for u, name in enumerate(units)}
    auto_text, fixed_text = _string("auto"), _string("fixed")
    for i, unit, t, s, v, is_auto in zip(rows, result.obj_sum_unit[at].tolist(),
                                         _floats(target), _floats(start),
                                         _floats(total), auto, strict=True):
        out[i] = (unit_text[unit if unit >= 0 else -1], t, s, v,
                  auto_text if is_auto else fixed_text)
    return out


def _people_section(layout: _Layout, frame: OrgFrame, result: G.BatchResult,
                    kr_ids: list[str], obj_ids: list[str], people: list[str]) -> str | None:
    """The ``people`` object (members at depth 2), or ``None`` to take the object path."""
    rows = np.flatnonzero(result.person_seen & (result.person_error_ref < 0))
    names = [people[p] for p in rows.tolist()]
    if len(set(names)) != len(names) or not _finite_or_nan(result.person_progress[rows]):
        return None
    texts, spans = _person_items(layout, frame, result, kr_ids, obj_ids)
    person_t = layout.obj(3, ("progress", "items"))
    progress_l = result.person_progress.tolist()
    members = []
    for person in rows.tolist():
        progress = progress_l[person]
        start, count = spans.get(person, (0, 0))
        listed = layout.array(4, texts[start:start + count])
        members.append(_string(people[person]) + ": " + person_t % (
            _NULL if progress != progress else repr(progress), listed))
    if not members:
        return "{}"
    return "{" + layout.nl(2) + layout.sep(2).join(members) + layout.nl(1) + "}"


def _person_items(layout: _Layout, frame: OrgFrame, result: G.BatchResult, kr_ids: list[str],
                  obj_ids: list[str]) -> tuple[list[str], dict[int, tuple[int, int]]]:
    """The people's items as JSON texts (``convert._person_items`` without objects).

    Each person's items in document order: an objective they own (with progress), then the
    key results of that objective they own beside its owner.  Made as one array of events
    (sorted by objective, then objective before key results, then owner list order) and
    grouped by person with a stable sort.  Returns the item texts (members at depth 5) in
    that order and, by person code, where their items start in it and how many there are.
    """
    obj_owner = frame.obj_owner.astype(np.int64)
    obj_event = np.flatnonzero((obj_owner >= 0) & (result.obj_error == 0)
                               & ~np.isnan(result.obj_progress))
    offsets = frame.kr_owner_offsets
    owner_row = np.repeat(np.arange(frame.n_kr, dtype=np.int64), np.diff(offsets))
    owner_of = frame.kr_owner_ids.astype(np.int64)
    owned = np.flatnonzero((result.kr_error[owner_row] == 0)
                           & (owner_of != obj_owner[frame.kr_objective[owner_row]]))
    kr_row = owner_row[owned]
    person = np.concatenate([obj_owner[obj_event], owner_of[owned]])
    objective = np.concatenate([obj_event, frame.kr_objective[kr_row]])
    is_kr = np.concatenate([np.zeros(obj_event.shape[0], np.int64),
                            np.ones(owned.shape[0], np.int64)])
    sequence = np.concatenate([np.zeros(obj_event.shape[0], np.int64), owned])
    order = np.lexsort((sequence, is_kr, objective))
    order = order[np.argsort(person[order], kind="stable")]
    types = ([_string("objective")] * obj_event.shape[0]
             + [_string("key_result")] * kr_row.shape[0])
    ids = ([_string(obj_ids[i]) for i in obj_event.tolist()]
           + [_string(kr_ids[r]) for r in kr_row.tolist()])
    progress = _floats(np.concatenate([result.obj_progress[obj_event],
                                       result.kr_progress[kr_row]]))
    at = order.tolist()
    texts = _fill_each(layout.obj(5, ("type", "id", "progress")), (
        map(types.__getitem__, at), map(ids.__getitem__, at), map(progress.__getitem__, at)),
        len(at))
    who, start, count = np.unique(person[order], return_index=True, return_counts=True)
    return texts, {p: (a, n) for p, a, n in zip(who.tolist(), start.tolist(), count.tolist(),
                                                 strict=True)}


def result_text(frame: OrgFrame, result: G.BatchResult,
                warnings: Sequence[E.OkrError] = (), indent: int | None = 2) -> str | None:
    """The result document of a batch result as JSON text, or ``None`` (take the object path).

    Equal to ``json.dumps(e.to_dict(), indent=indent, allow_nan=False)`` where ``e`` is
    :func:`~okrcore.batch.convert.to_evaluation` of the same columns with ``warnings``.
    """
    if indent is not None and indent <= 0:
        return None  # json.dumps's other spellings of "no indent": not needed here
    layout = _Layout(indent)
    kr_ids, obj_ids, people, units = C._labels(frame)
    objectives = _objective_section(layout, frame, result, kr_ids, obj_ids, people, units)
    if objectives is None:
        return None
    key_results = _kr_section(layout, frame, result, kr_ids, obj_ids, people)
    if key_results is None:
        return None
    people_text = _people_section(layout, frame, result, kr_ids, obj_ids, people)
    if people_text is None:
        return None
    errors = sorted(C.errors_of(frame, result), key=E.error_sort_key)
    top = layout.obj(1, ("okrcore", "as_of", "policy", "objectives", "key_results", "people",
                         "errors", "warnings"))
    as_of = isoformat_us(result.as_of)
    return top % (
        "1", _string(as_of), layout.dumps(result.policy.to_json(), 1), objectives, key_results,
        people_text, layout.dumps([e.to_json() for e in errors], 1),
        layout.dumps([w.to_json() for w in warnings], 1))
