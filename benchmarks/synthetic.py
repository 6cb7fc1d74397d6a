"""Synthetic organisations for the batch benchmark, as columns and as an interchange document.

:func:`synthetic_columns` builds the structure-of-arrays layout of the batch engine (column
layout contract v1, ``/tmp/okr/columns.md``) with numpy only, so that 10^7 key results take a
few seconds.  :func:`synthetic_document` writes the *same* organisation (same seed, same rows)
as an interchange document v1 for the scalar path (``okrcore.load`` / ``okrcore.evaluate``); it
loops in Python and is meant for sizes up to about 10^5.

The organisation (every value valid, so the scalar path reports no error):

* ``n_obj = n_kr // 4`` objectives on 4 alignment levels of 1 % / 5 % / 20 % / the rest; each
  objective's parent is drawn from the level above (every parent gets at least one child
  where the level sizes allow).  Only the two bottom levels carry key results (at least one
  each, about 4.26 on average); the two top levels have none and roll up their children.
* Objective modes of the KR-carrying objectives: 75 % ``auto``, 15 % ``mean``, 10 % ``sum``
  with progress settings (half with ``auto`` target, half with a fixed target of 0.8-1.2x the
  sum of the KR targets, a fifth with an explicit settings start of 0).  In a ``sum``
  objective every metric KR has the settings' unit and increases, and the first KR is a plain
  metric of weight 1, so the sum has a contributing KR and one direction.  5 % of the level-2
  objectives include their children.
* KR kinds: 60 % plain metrics (40 points increases, 20 points reductions ``target < start``),
  10 % range metrics (band / graded / linear in equal shares), 15 % binary, 15 % milestones
  staged of 5 (30 % of them with a due of their own).  Units ``u0`` .. ``u5`` (per objective
  one "home" unit for 70 % of its metrics, 10 % of metrics without unit).
* Weights: the first KR of every objective 1, the others 88 % 1 and 4 % each 0, 0.5 and 2.
* A third of the KRs have a check-in log of 1-8 check-ins at whole seconds within the quarter
  2026-01-01 .. 2026-03-31 (sorted by KR then instant; those after ``as_of`` are simply not
  known yet); the others carry an explicit current value, missing (NaN) for 5 %.
* People ``p0`` .. ``p{n_obj // 3}`` own the objectives; 10 % of the KRs name one other owner.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "AS_OF",
    "AS_OF_US",
    "KR_COLUMNS",
    "LOG_COLUMNS",
    "NONE_INSTANT",
    "N_UNITS",
    "OBJ_COLUMNS",
    "OWNER_COLUMNS",
    "QUARTER_DUE_US",
    "QUARTER_START_US",
    "synthetic_columns",
    "synthetic_document",
]

Columns = dict[str, npt.NDArray[Any]]

NONE_INSTANT: Final = int(np.iinfo(np.int64).min)
"""An absent instant."""
MICROSECONDS_PER_SECOND: Final = 1_000_000
SECONDS_PER_DAY: Final = 86_400
QUARTER_DAYS: Final = 90
QUARTER_START_US: Final = 1_767_225_600 * MICROSECONDS_PER_SECOND
"""2026-01-01T00:00:00Z [µs]."""
QUARTER_DUE_US: Final = QUARTER_START_US + QUARTER_DAYS * SECONDS_PER_DAY * MICROSECONDS_PER_SECOND
"""2026-04-01T00:00:00Z [µs]: the end of 2026-03-31."""
AS_OF: Final = "2026-02-15T12:00:00Z"
AS_OF_US: Final = 1_771_156_800 * MICROSECONDS_PER_SECOND
"""2026-02-15T12:00:00Z [µs]."""
N_UNITS: Final = 6
"""Unit codes 0..5, named ``u0`` .. ``u5``."""

KR_COLUMNS: Final = (
    "kr_objective", "kr_kind", "kr_start", "kr_target", "kr_current", "kr_weight", "kr_unit",
    "kr_range_mode", "kr_red_low", "kr_yellow_low", "kr_yellow_high", "kr_red_high", "kr_due",
    "kr_has_log",
)
LOG_COLUMNS: Final = ("log_kr", "log_at", "log_value")
OWNER_COLUMNS: Final = ("kr_owner_offsets", "kr_owner_ids")
OBJ_COLUMNS: Final = (
    "obj_parent", "obj_weight", "obj_start", "obj_due", "obj_mode", "obj_ambition", "obj_status",
    "obj_include_children", "obj_owner", "obj_ps_unit", "obj_ps_target", "obj_ps_auto",
    "obj_ps_start",
)

# KR categories of the generator (not a column): the column kind and the metric flavour.
_INCREASE, _REDUCTION, _RANGE, _BINARY, _MILESTONE = 0, 1, 2, 3, 4
_CATEGORY_CUTS: Final = (0.40, 0.60, 0.70, 0.85)  # cumulative shares of the first four
_STAGES: Final = 5
_MODE_NAMES: Final = ("auto", "mean", "sum")
_RANGE_MODE_NAMES: Final = ("", "band", "graded", "linear")
_STATUS_NAMES: Final = ("on_track", "behind", "at_risk", "off_track")
_MIN_KRS: Final = 16


def _chance(rng: np.random.Generator, n: int, share: float) -> npt.NDArray[np.bool_]:
    """``n`` independent flags, each true with probability ``share`` (to 1/65536)."""
    return _roll(rng, n) < round(share * 65536)


def _roll(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint16]:
    """``n`` uniform 16-bit integers (raw generator bytes: 4x faster than ``rng.random``)."""
    return np.frombuffer(rng.bytes(2 * n), dtype=np.uint16)


def _cents(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Round to two decimals in place (plausible amounts; exact in the JSON document)."""
    return np.round(values, 2, out=values)


def _level_sizes(n_obj: int) -> list[int]:
    top = max(1, n_obj // 100)
    second = max(1, n_obj // 20)
    third = max(1, n_obj // 5)
    return [top, second, third, n_obj - top - second - third]


def _parents(rng: np.random.Generator, sizes: list[int]) -> npt.NDArray[np.int64]:
    parent = np.full(sum(sizes), -1, dtype=np.int64)
    offset = sizes[0]
    for level in range(1, len(sizes)):
        above, size = sizes[level - 1], sizes[level]
        drawn = rng.integers(0, above, size, dtype=np.int64)
        covered = min(above, size)
        drawn[:covered] = np.arange(covered, dtype=np.int64)
        rng.shuffle(drawn)
        parent[offset:offset + size] = drawn + (offset - above)
        offset += size
    return parent


def synthetic_columns(n_kr: int, seed: int = 0) -> Columns:
    """Columns of a synthetic organisation of ``n_kr`` key results (layout contract v1).

    Parameters
    ----------
    n_kr : int
        Number of key results, at least 16; ``n_kr // 4`` objectives.
    seed : int
        Seed of the numpy generator; the same seed gives the same organisation.

    Returns
    -------
    dict of str to numpy.ndarray
        Every column of the contract except the optional labels (ids are implied: objective
        ``o{i}``, key result ``k{j}``, person ``p{c}``, unit ``u{c}``).  Key results are grouped
        by objective in document order (``kr_objective`` is non-decreasing).
    """
    if n_kr < _MIN_KRS:
        raise ValueError(f"n_kr must be >= {_MIN_KRS}, got {n_kr}")
    rng = np.random.default_rng(seed)
    n_obj = n_kr // 4
    sizes = _level_sizes(n_obj)
    first_carrier = sizes[0] + sizes[1]
    n_carriers = n_obj - first_carrier
    n_people = n_obj // 3 + 1

    # --- objectives -------------------------------------------------------------------------
    obj_parent = _parents(rng, sizes)
    roll = rng.random(n_obj)
    obj_mode = np.where(roll < 0.75, 0, np.where(roll < 0.90, 1, 2)).astype(np.uint8)
    obj_mode[:first_carrier] = 0
    is_sum = obj_mode == 2
    n_sum = int(is_sum.sum())
    obj_ps_unit = np.full(n_obj, -1, dtype=np.int32)
    obj_ps_unit[is_sum] = rng.integers(0, N_UNITS, n_sum, dtype=np.int32)
    obj_ps_auto = np.zeros(n_obj, dtype=np.bool_)
    obj_ps_auto[is_sum] = _chance(rng, n_sum, 0.5)
    obj_ps_start = np.full(n_obj, np.nan)
    obj_ps_start[is_sum & (_chance(rng, n_obj, 0.2))] = 0.0
    obj_weight = np.where(rng.random(n_obj) < 0.9, 1.0, 2.0)
    obj_ambition = (_chance(rng, n_obj, 0.2)).astype(np.uint8)
    status_roll = rng.random(n_obj)
    obj_status = np.where(status_roll < 0.9, -1,
                          rng.integers(0, 4, n_obj)).astype(np.int8)
    obj_include_children = np.zeros(n_obj, dtype=np.bool_)
    level2 = slice(first_carrier, first_carrier + sizes[2])
    obj_include_children[level2] = _chance(rng, sizes[2], 0.05)
    obj_owner = rng.integers(0, n_people, n_obj, dtype=np.int32)
    home_unit = rng.integers(0, N_UNITS, n_obj, dtype=np.int32)

    # --- which objective each KR belongs to ------------------------------------------------
    counts = 1 + np.bincount(rng.integers(0, n_carriers, n_kr - n_carriers),
                             minlength=n_carriers)
    kr_objective = np.repeat(np.arange(first_carrier, n_obj, dtype=np.int64), counts)
    first_kr = np.zeros(n_carriers, dtype=np.int64)
    np.cumsum(counts[:-1], out=first_kr[1:])
    in_sum = is_sum[kr_objective]

    # --- categories --------------------------------------------------------------------------
    cuts = np.round(np.asarray(_CATEGORY_CUTS) * 65536).astype(np.uint16)
    category = np.searchsorted(cuts, _roll(rng, n_kr), side="right").astype(np.uint8)
    category[in_sum & (category == _REDUCTION)] = _INCREASE
    category[first_kr[is_sum[first_carrier:]]] = _INCREASE
    is_inc = category == _INCREASE
    is_red = category == _REDUCTION
    is_range = category == _RANGE
    is_binary = category == _BINARY
    is_milestone = category == _MILESTONE
    is_metric = is_inc | is_red | is_range

    kr_kind = np.zeros(n_kr, dtype=np.uint8)
    kr_kind[is_binary] = 1
    kr_kind[is_milestone] = 3  # staged milestones (stages_total = 5)

    # --- start / target (each category drawn on its own rows) --------------------------------
    n_inc, n_red, n_range = int(is_inc.sum()), int(is_red.sum()), int(is_range.sum())
    kr_start = np.zeros(n_kr)
    kr_target = np.empty(n_kr)
    start = _cents(rng.uniform(0.0, 500.0, n_inc))
    start[_chance(rng, n_inc, 0.7)] = 0.0
    kr_start[is_inc] = start
    kr_target[is_inc] = start + _cents(rng.uniform(10.0, 1000.0, n_inc))
    start = _cents(rng.uniform(50.0, 1000.0, n_red))
    kr_start[is_red] = start
    kr_target[is_red] = _cents(start * rng.uniform(0.2, 0.8, n_red))
    del start
    range_target = _cents(rng.uniform(20.0, 200.0, n_range))
    kr_target[is_range] = range_target
    kr_target[is_binary] = 1.0
    kr_target[is_milestone] = float(_STAGES)

    # --- ranges ------------------------------------------------------------------------------
    kr_range_mode = np.zeros(n_kr, dtype=np.uint8)
    kr_range_mode[is_range] = rng.integers(1, 4, n_range, dtype=np.uint8)
    no_high = _chance(rng, n_range, 0.2)  # "at least" ranges: no upper limits
    breakpoints = {}
    for name, factor in (("kr_red_low", 0.5), ("kr_yellow_low", 0.8), ("kr_yellow_high", 1.2),
                         ("kr_red_high", 1.5)):
        values = _cents(range_target * factor)
        if name.endswith("high"):
            values[no_high] = np.nan
        column = np.full(n_kr, np.nan)
        column[is_range] = values
        breakpoints[name] = column

    # --- units, weights, dues ----------------------------------------------------------------
    kr_unit = np.where(rng.random(n_kr) < 0.7, home_unit[kr_objective],
                       rng.integers(0, N_UNITS, n_kr, dtype=np.int32)).astype(np.int32)
    kr_unit[_chance(rng, n_kr, 0.1)] = -1
    np.copyto(kr_unit, obj_ps_unit[kr_objective], where=in_sum)
    kr_unit[~is_metric] = -1
    weights = np.array([1.0, 0.0, 0.5, 2.0])
    cuts = np.round(np.array([0.88, 0.92, 0.96]) * 65536).astype(np.uint16)
    kr_weight = weights[np.searchsorted(cuts, _roll(rng, n_kr), side="right")]
    kr_weight[first_kr] = 1.0
    kr_due = np.full(n_kr, NONE_INSTANT, dtype=np.int64)
    with_due = is_milestone & (_chance(rng, n_kr, 0.3))
    due_day = rng.integers(20, QUARTER_DAYS, int(with_due.sum()), dtype=np.int64)
    kr_due[with_due] = QUARTER_START_US + (due_day + 1) * SECONDS_PER_DAY * MICROSECONDS_PER_SECOND

    # --- current values ----------------------------------------------------------------------
    kr_has_log = _chance(rng, n_kr, 1 / 3)
    kr_current = rng.uniform(-0.1, 1.2, n_kr)
    kr_current *= kr_target - kr_start
    kr_current += kr_start
    _cents(kr_current)
    kr_current[is_range] = _cents(range_target * rng.uniform(0.3, 1.7, n_range))
    del range_target
    n_binary, n_milestone = int(is_binary.sum()), int(is_milestone.sum())
    kr_current[is_binary] = _chance(rng, n_binary, 0.4)
    kr_current[is_milestone] = rng.integers(0, _STAGES + 1, n_milestone)
    kr_current[_chance(rng, n_kr, 0.05) & ~is_range] = np.nan
    kr_current[kr_has_log] = np.nan

    # --- check-in log: sorted instants per KR without a sort ----------------------------------
    # The order statistics of m uniforms are the first m partial sums of m + 1 exponential gaps
    # divided by their total: one cumulative sum over all KRs gives every sorted history at once.
    with_log = np.flatnonzero(kr_has_log)
    per_kr = rng.integers(1, 9, with_log.size)
    log_kr = np.repeat(with_log, per_kr)
    n_log = log_kr.size
    partial = np.cumsum(rng.standard_exponential(n_log + with_log.size))
    block_end = np.cumsum(per_kr + 1) - 1
    block_total = partial[block_end]
    block_base = np.zeros_like(block_total)
    block_base[1:] = block_total[:-1]
    inside = np.ones(partial.size, dtype=np.bool_)
    inside[block_end] = False
    elapsed = partial[inside]
    del partial, inside, block_end
    elapsed -= np.repeat(block_base, per_kr)
    elapsed /= np.repeat(block_total - block_base, per_kr)
    del block_base, block_total
    quarter_seconds = QUARTER_DAYS * SECONDS_PER_DAY
    seconds = np.minimum((elapsed * quarter_seconds).astype(np.int64), quarter_seconds - 1)
    log_at = QUARTER_START_US + seconds * MICROSECONDS_PER_SECOND
    np.divide(seconds, float(quarter_seconds), out=elapsed)
    del seconds
    log_category = category[log_kr]
    start = kr_start[log_kr]
    log_value = kr_target[log_kr]
    log_value -= start
    log_value *= elapsed
    log_value *= rng.uniform(0.5, 1.3, n_log)
    log_value += start
    np.round(log_value, 2, out=log_value)
    del start
    ranged = log_category == _RANGE
    log_value[ranged] = np.round(kr_target[log_kr[ranged]]
                                 * rng.uniform(0.3, 1.7, int(ranged.sum())), 2)
    binary = log_category == _BINARY
    log_value[binary] = (rng.random(int(binary.sum())) < 1.2 * elapsed[binary]).astype(np.float64)
    staged = log_category == _MILESTONE
    stages = np.floor(_STAGES * elapsed[staged] * rng.uniform(0.6, 1.6, int(staged.sum())) + 0.5)
    log_value[staged] = np.clip(stages, 0, _STAGES)
    del elapsed, log_category, ranged, binary, staged, stages

    # --- progress settings targets (need the KR targets) -------------------------------------
    target_sums = np.bincount(kr_objective, weights=np.where(is_metric, kr_target, 0.0),
                              minlength=n_obj)
    fixed = is_sum & ~obj_ps_auto
    obj_ps_target = np.full(n_obj, np.nan)
    obj_ps_target[fixed] = _cents(target_sums[fixed] * rng.uniform(0.8, 1.2, int(fixed.sum())))

    # --- explicit KR owners (CSR) ------------------------------------------------------------
    owned = _chance(rng, n_kr, 0.1)
    kr_owner_offsets = np.zeros(n_kr + 1, dtype=np.int64)
    np.cumsum(owned, out=kr_owner_offsets[1:])
    objective_owner = obj_owner[kr_objective[owned]]
    kr_owner_ids = rng.integers(0, n_people, objective_owner.size, dtype=np.int32)
    same = kr_owner_ids == objective_owner
    kr_owner_ids[same] = (kr_owner_ids[same] + 1) % n_people

    columns: Columns = {
        "kr_objective": kr_objective,
        "kr_kind": kr_kind,
        "kr_start": kr_start,
        "kr_target": kr_target,
        "kr_current": kr_current,
        "kr_weight": kr_weight,
        "kr_unit": kr_unit,
        "kr_range_mode": kr_range_mode,
        **breakpoints,
        "kr_due": kr_due,
        "kr_has_log": kr_has_log,
        "log_kr": log_kr,
        "log_at": log_at,
        "log_value": log_value,
        "kr_owner_offsets": kr_owner_offsets,
        "kr_owner_ids": kr_owner_ids,
        "obj_parent": obj_parent,
        "obj_weight": obj_weight,
        "obj_start": np.full(n_obj, QUARTER_START_US, dtype=np.int64),
        "obj_due": np.full(n_obj, QUARTER_DUE_US, dtype=np.int64),
        "obj_mode": obj_mode,
        "obj_ambition": obj_ambition,
        "obj_status": obj_status,
        "obj_include_children": obj_include_children,
        "obj_owner": obj_owner,
        "obj_ps_unit": obj_ps_unit,
        "obj_ps_target": obj_ps_target,
        "obj_ps_auto": obj_ps_auto,
        "obj_ps_start": obj_ps_start,
    }
    return columns


# --- the same organisation as an interchange document -------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(us: int) -> str:
    moment = _EPOCH + timedelta(microseconds=us)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _optional(value: float) -> float | None:
    return None if value != value else value  # NaN -> None


def synthetic_document(n_kr: int, seed: int = 0) -> dict[str, Any]:
    """The organisation of :func:`synthetic_columns` as an interchange document v1.

    Row ``i`` of the objective columns is objective ``o{i}`` (document order), row ``j`` of the
    KR columns is ``k{j}``; persons are ``p{c}``, units ``u{c}``; ``as_of`` is
    2026-02-15T12:00:00Z.  Pure Python: meant for ``n_kr`` up to about 10^5.
    """
    cols = synthetic_columns(n_kr, seed)
    kr: dict[str, list[Any]] = {name: cols[name].tolist() for name in KR_COLUMNS}
    ob: dict[str, list[Any]] = {name: cols[name].tolist() for name in OBJ_COLUMNS}
    owner_offsets: list[int] = cols["kr_owner_offsets"].tolist()
    owner_ids: list[int] = cols["kr_owner_ids"].tolist()
    log_kr = cols["log_kr"]
    log_at: list[int] = cols["log_at"].tolist()
    log_value: list[float] = cols["log_value"].tolist()
    log_offsets: list[int] = np.searchsorted(log_kr, np.arange(n_kr + 1)).tolist()
    kr_offsets: list[int] = np.searchsorted(cols["kr_objective"],
                                            np.arange(len(ob["obj_parent"]) + 1)).tolist()

    def key_result(j: int) -> dict[str, Any]:
        kind = kr["kr_kind"][j]
        current = _optional(kr["kr_current"][j])
        kinds = ("metric", "binary", "milestone", "milestone")
        item: dict[str, Any] = {"id": f"k{j}", "kind": kinds[kind]}
        history = [(log_at[i], log_value[i]) for i in range(log_offsets[j], log_offsets[j + 1])]
        if kind == 0:
            unit = kr["kr_unit"][j]
            item.update(unit="" if unit < 0 else f"u{unit}", start=kr["kr_start"][j],
                        target=kr["kr_target"][j])
            if current is not None:
                item["current"] = current
            mode = kr["kr_range_mode"][j]
            if mode:
                item["range"] = {
                    "red_low": _optional(kr["kr_red_low"][j]),
                    "yellow_low": _optional(kr["kr_yellow_low"][j]),
                    "yellow_high": _optional(kr["kr_yellow_high"][j]),
                    "red_high": _optional(kr["kr_red_high"][j]),
                    "mode": _RANGE_MODE_NAMES[mode],
                }
            entries = [{"at": _instant(at), "value": value} for at, value in history]
        elif kind == 1:
            if current is not None:
                item["done"] = current == 1.0
            entries = [{"at": _instant(at), "done": value == 1.0} for at, value in history]
        else:
            item["stages_total"] = int(kr["kr_target"][j])
            if current is not None:
                item["stages_done"] = int(current)
            entries = [{"at": _instant(at), "stages_done": int(value)} for at, value in history]
        if kr["kr_has_log"][j]:
            item["check_ins"] = entries
        item["weight"] = kr["kr_weight"][j]
        owners = owner_ids[owner_offsets[j]:owner_offsets[j + 1]]
        if owners:
            item["owners"] = [f"p{p}" for p in owners]
        if kr["kr_due"][j] != NONE_INSTANT:
            item["due"] = _instant(kr["kr_due"][j])
        return item

    objectives = []
    for i in range(len(ob["obj_parent"])):
        parent = ob["obj_parent"][i]
        owner = ob["obj_owner"][i]
        status = ob["obj_status"][i]
        start, due = ob["obj_start"][i], ob["obj_due"][i]
        objective: dict[str, Any] = {
            "id": f"o{i}",
            "owner": None if owner < 0 else f"p{owner}",
            "parent": None if parent < 0 else f"o{parent}",
            "weight": ob["obj_weight"][i],
            "start": None if start == NONE_INSTANT else _instant(start),
            "due": None if due == NONE_INSTANT else _instant(due),
            "mode": _MODE_NAMES[ob["obj_mode"][i]],
            "ambition": "aspirational" if ob["obj_ambition"][i] else "committed",
            "status": None if status < 0 else _STATUS_NAMES[status],
            "include_children": ob["obj_include_children"][i],
            "progress_settings": None,
            "key_results": [key_result(j) for j in range(kr_offsets[i], kr_offsets[i + 1])],
        }
        unit = ob["obj_ps_unit"][i]
        if unit >= 0:
            objective["progress_settings"] = {
                "unit": f"u{unit}",
                "target": _optional(ob["obj_ps_target"][i]),
                "auto": ob["obj_ps_auto"][i],
                "start": _optional(ob["obj_ps_start"][i]),
            }
        objectives.append(objective)
    return {"okrcore": 1, "as_of": AS_OF, "objectives": objectives}
