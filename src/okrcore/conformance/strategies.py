"""Public hypothesis strategies for okrcore's model and interchange documents.

Key results of every kind, objectives, alignment trees, people, check-in logs, policies and whole
documents, each restricted to the capabilities an implementation declares
(:data:`okrcore.conformance.capabilities.CAPABILITIES`). Every strategy draws the simplest
choice first (integers before fractions, no history before a history, UTC before other
offsets, one objective before several), so a failing example shrinks to a small document that
reads well; :func:`readable` strips the defaults from a dumped document for display.

Needs the ``conformance`` extra (``pip install 'okrcore[conformance]'``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final, Literal

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "okrcore.conformance.strategies needs hypothesis: pip install 'okrcore[conformance]'"
    ) from exc

from okrcore.conformance.capabilities import CAPABILITIES, check_capabilities
from okrcore.evaluate import evaluate as _reference_evaluate
from okrcore.interchange import document_to_dict
from okrcore.kinds import KINDS, Tools
from okrcore.kinds import binary as _binary
from okrcore.kinds import metric as _metric
from okrcore.kinds import milestone as _milestone
from okrcore.model import (
    Binary,
    CheckIn,
    Document,
    KeyResult,
    Metric,
    Milestone,
    Objective,
    ProgressSettings,
    Range,
)
from okrcore.policy import PRESETS, PaceRule, Policy

__all__ = [
    "ALL",
    "PEOPLE",
    "UNITS",
    "ZONES",
    "alignment_trees",
    "binaries",
    "check_in_logs",
    "documents",
    "instants",
    "interchange_documents",
    "key_results",
    "metrics",
    "milestones",
    "names",
    "numbers",
    "objectives",
    "owners",
    "people",
    "policies",
    "readable",
    "settings",
    "timelines",
    "weights",
]

RangeMode = Literal["band", "graded", "linear"]
ALL: Final = frozenset(CAPABILITIES)
"""Every capability: the strategies' default, nothing restricted."""
UNITS: Final = _metric.UNITS
"""Units drawn for metrics ("" is no unit)."""
PEOPLE: Final = ("ann", "bob", "carl")
"""Person ids drawn for owners."""
ZONES: Final = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8)))
"""Offsets of drawn instants, UTC first (it shrinks there)."""

integers = st.integers(-1000, 1000)
reals = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
numbers: st.SearchStrategy[float] = st.one_of(integers, reals)
"""Finite numbers, some of them integers (JSON keeps the difference); shrink to integers."""

weights: st.SearchStrategy[float] = st.one_of(
    st.integers(1, 5), st.just(0), st.floats(0.01, 10, allow_nan=False))
"""Non-negative weights, 0 included (shown but not counted); shrink to 1."""

instants: st.SearchStrategy[datetime] = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 1, 1),
    timezones=st.sampled_from(ZONES))
"""Aware instants, microseconds and non-UTC offsets included; shrink to 2024-01-01T00:00Z."""

names = st.text(max_size=8)
"""Free-text names (shrink to the empty name, which the dump leaves out)."""
people = st.sampled_from(PEOPLE)
"""One person id."""
owners = st.lists(people, max_size=2, unique=True)
"""A key result's owners (empty: the objective's owner)."""


def _caps(capabilities: Collection[str] | None) -> frozenset[str]:
    return ALL if capabilities is None else check_capabilities(capabilities)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """A start instant and a due instant strictly after it."""
    start = draw(instants)
    length = draw(st.integers(1, 400 * 86_400 * 10**6))
    return start, start + timedelta(microseconds=length)


def ranges(target: float) -> st.SearchStrategy[Range]:
    """Breakpoints ordered around ``target``, each one optional."""
    result: st.SearchStrategy[Range] = _metric.ranges(_tools(), target)
    return result


def check_in_logs(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[CheckIn]]:
    """A check-in history (up to four entries, any order, ties allowed) of ``values``."""
    return st.lists(st.builds(CheckIn, instants, values), max_size=4)


def _history(draw: st.DrawFn, values: st.SearchStrategy[Any],
             capabilities: frozenset[str]) -> list[CheckIn] | None:
    if "as_of_history" not in capabilities:
        return None
    return draw(st.none() | check_in_logs(values))


def _due(draw: st.DrawFn, after: datetime | None) -> datetime | None:
    if after is None:
        return draw(st.none() | instants)
    return draw(st.none() | st.integers(1, 400 * 86_400 * 10**6).map(
        lambda us: after + timedelta(microseconds=us)))


def _tools() -> Tools:
    return Tools(st=st, numbers=numbers, weights=weights, names=names, owners=owners,
                 history=_history, due=_due)


def metrics(ident: str = "k", unit: str | None = None, with_range: bool | None = None,
            capabilities: Collection[str] | None = None,
            due_after: datetime | None = None) -> st.SearchStrategy[Metric]:
    """Any valid metric: increase, reduction or range, with a current value or a history.

    Without the ``reductions`` capability the target is above the start; without ``ranges``
    there is no range; ``due_after`` keeps the key result's own due after that instant.
    """
    result: st.SearchStrategy[Metric] = _metric.KIND.strategy(
        _tools(), ident, _caps(capabilities), due_after, unit=unit, with_range=with_range)
    return result


def binaries(ident: str = "k", capabilities: Collection[str] | None = None,
             due_after: datetime | None = None) -> st.SearchStrategy[Binary]:
    """Any valid binary key result."""
    result: st.SearchStrategy[Binary] = _binary.KIND.strategy(
        _tools(), ident, _caps(capabilities), due_after)
    return result


def milestones(ident: str = "k", capabilities: Collection[str] | None = None,
               due_after: datetime | None = None) -> st.SearchStrategy[Milestone]:
    """Any valid milestone: simple, staged or a list of checkpoints."""
    result: st.SearchStrategy[Milestone] = _milestone.KIND.strategy(
        _tools(), ident, _caps(capabilities), due_after)
    return result


def key_results(ident: str = "k", capabilities: Collection[str] | None = None,
                due_after: datetime | None = None) -> st.SearchStrategy[KeyResult]:
    """A key result of any kind the capabilities allow (metrics first)."""
    caps = _caps(capabilities)
    return st.one_of([kind.strategy(_tools(), ident, caps, due_after)
                      for kind in KINDS.values()
                      if kind.capability is None or kind.capability in caps])


@st.composite
def policies(draw: st.DrawFn, capabilities: Collection[str] | None = None) -> Policy:
    """A preset with some overrides (the default policy without ``pace_presets``)."""
    if "pace_presets" not in _caps(capabilities):
        return Policy()
    overrides: dict[str, Any] = {}
    if draw(st.booleans()):
        overrides["cap"] = draw(st.sampled_from((1.0, 1.5, 2, None)))
    if draw(st.booleans()):
        overrides["strict_breakpoints"] = draw(st.booleans())
    if draw(st.booleans()):
        overrides["stale_days"] = draw(st.floats(0.5, 30))
    if draw(st.booleans()):
        yellow = draw(st.floats(0.1, 1))
        overrides["pace"] = PaceRule("ratio", yellow, draw(st.floats(0, yellow)),
                                     draw(st.sampled_from(("worse", "better"))))
    return Policy.from_preset(draw(st.sampled_from(sorted(PRESETS))), **overrides)


@st.composite
def settings(draw: st.DrawFn, capabilities: Collection[str] | None = None) -> ProgressSettings:
    """Progress settings: a unit and a fixed or automatic target, maybe a start."""
    auto = draw(st.booleans()) and "auto_targets" in _caps(capabilities)
    target = draw(st.none() | numbers) if auto else draw(numbers)
    return ProgressSettings(unit=draw(st.sampled_from(UNITS[1:])), target=target, auto=auto,
                            start=draw(st.none() | numbers))


@st.composite
def objectives(draw: st.DrawFn, ident: str = "o", parents: Collection[str] = (),
               capabilities: Collection[str] | None = None,
               max_key_results: int = 4, kr_prefix: str = "k") -> Objective:
    """One objective with up to ``max_key_results`` key results, maybe aligned to a parent."""
    caps = _caps(capabilities)
    start, due = draw(timelines())
    timeline = draw(st.sampled_from(("none", "both", "start", "due")))
    start_at = start if timeline in ("both", "start") else None
    after = None if "errors" in caps else start_at
    krs = [draw(key_results(f"{kr_prefix}{j}", caps, after))
           for j in range(draw(st.integers(0, max_key_results)))]
    rollups = "rollup_modes" in caps
    aligned = "alignment" in caps
    return Objective(
        id=ident,
        key_results=krs,
        owner=draw(st.none() | people) if "people" in caps else None,
        parent=draw(st.none() | st.sampled_from(sorted(parents)))
        if parents and aligned else None,
        weight=draw(weights),
        start=start_at,
        due=due if timeline in ("both", "due") else None,
        mode=draw(st.sampled_from(("auto", "mean", "sum"))) if rollups else "mean",
        ambition=draw(st.sampled_from(("committed", "aspirational"))),
        status=draw(st.none() | st.sampled_from(
            ("on_track", "behind", "at_risk", "off_track"))),
        include_children=draw(st.booleans()) if aligned else False,
        progress_settings=draw(st.none() | settings(caps)) if rollups else None,
        name=draw(names),
    )


@st.composite
def alignment_trees(draw: st.DrawFn, capabilities: Collection[str] | None = None,
                    max_objectives: int = 4, max_key_results: int = 4) -> list[Objective]:
    """Objectives ``o0, o1, ...``, each parent among the earlier ones (never a cycle)."""
    count = draw(st.integers(1, max_objectives))
    tree: list[Objective] = []
    for i in range(count):
        tree.append(draw(objectives(f"o{i}", [o.id for o in tree], capabilities,
                                    max_key_results, kr_prefix=f"k{i}_")))
    return tree


def _without_errors(document: Document) -> bool:
    return not _reference_evaluate(document).errors


def documents(capabilities: Collection[str] | None = None, max_objectives: int = 4,
              max_key_results: int = 4) -> st.SearchStrategy[Document]:
    """A valid document: unique ids, parents among earlier objectives (no cycles).

    With every capability (the default) a document may still hold item errors the loader
    cannot see (a sum without contributing metric, a key result due before its objective
    starts). Without the ``errors`` capability such documents are filtered out, so the
    reference reports no error for any of them.
    """
    caps = _caps(capabilities)
    built = st.builds(
        Document,
        as_of=instants,
        objectives=alignment_trees(caps, max_objectives, max_key_results),
        policy=policies(caps),
    )
    return built if "errors" in caps else built.filter(_without_errors)


def interchange_documents(capabilities: Collection[str] | None = None, max_objectives: int = 4,
                          max_key_results: int = 4) -> st.SearchStrategy[dict[str, Any]]:
    """:func:`documents` dumped as JSON-ready interchange documents (version 1)."""
    return documents(capabilities, max_objectives, max_key_results).map(document_to_dict)


_OBJECTIVE_DEFAULTS: Final[Mapping[str, object]] = {
    "owner": None, "parent": None, "weight": 1, "start": None, "due": None, "mode": "auto",
    "ambition": "committed", "status": None, "include_children": False,
    "progress_settings": None, "key_results": [], "name": ""}
_KEY_RESULT_DEFAULTS: Final[Mapping[str, object]] = {
    "weight": 1, "start": 0, "unit": "", "owners": [], "due": None, "name": ""}


def readable(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return a dumped document without the fields that only repeat their default.

    The policy is reduced to its preset and the fields that differ from that preset. The
    result evaluates exactly like ``document``.
    """
    out = dict(document)
    policy = dict(out.get("policy") or {})
    preset = policy.get("preset", "betterworks")
    base = Policy.from_preset(preset).to_json()
    kept = {k: v for k, v in policy.items() if k != "preset" and base.get(k) != v}
    out["policy"] = {"preset": preset, **kept}
    if out["policy"] == {"preset": "betterworks"}:
        del out["policy"]
    objs = []
    for obj in out.get("objectives", []):
        slim = {k: v for k, v in obj.items()
                if k not in _OBJECTIVE_DEFAULTS or _OBJECTIVE_DEFAULTS[k] != v}
        if "key_results" in slim:
            slim["key_results"] = [
                {k: v for k, v in kr.items()
                 if k not in _KEY_RESULT_DEFAULTS or _KEY_RESULT_DEFAULTS[k] != v}
                for kr in slim["key_results"]]
        objs.append(slim)
    out["objectives"] = objs
    return out
