"""Draw any document and its evaluation as terminal text (``okrcore evaluate --format tree``).

:func:`render` draws the alignment tree with progress bars, expected progress, colour, rollup mode
and trend; the key results of every objective; a people table; and a summary.  ``okrcore demo``
draws its sample organisation with it, and ``okrcore evaluate --format tree`` any document.
Only the standard library is used; ANSI colours are optional.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from okrcore.model import (
    Binary,
    Document,
    InvalidKeyResult,
    InvalidObjective,
    KeyResult,
    Metric,
    Objective,
)
from okrcore.results import Evaluation, KeyResultResult, ObjectiveResult

__all__ = ["render"]

_WIDTH: Final = 110
"""Lines are kept within this many columns (a very deep tree may push past it)."""
_NAME_COL: Final = 50
"""Where an objective line's numbers start; a longer name gets them on the next line."""
_BAR_CELLS: Final = 20
_MAX_INDENT: Final = 16
"""Alignment levels drawn indented; deeper objectives are drawn at this indent, level named."""
_OBJECTIVE_PATH: Final = re.compile(r"objectives\[\d+\]")
_MAX_ERRORS_SHOWN: Final = 20

_ANSI: Final = {"green": "32", "yellow": "33", "red": "31", "dim": "2", "bold": "1", "cyan": "36"}
_ARROWS: Final = {"progressed": "↗", "stalled": "→", "regressed": "↘"}
_TREND_STYLE: Final = {"progressed": "green", "stalled": "dim", "regressed": "red"}
_RANGE_KINDS: Final = {"band": "range band", "graded": "range grad", "linear": "range lin"}


class _Painter:
    """Applies ANSI styles when colour is on; padding is always done on the plain text."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, style: str | None) -> str:
        if not self.on or style is None or not text.strip():
            return text
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m"


def _percent(progress: float | None) -> str:
    """Progress as a percentage with one decimal (1/3 -> ``33.3%``); ``None`` -> ``—``."""
    return "—" if progress is None else f"{progress * 100:.1f}%"


def _bar(progress: float | None, cells: int) -> tuple[str, str]:
    """The filled and empty parts of a progress bar (progress above 1 fills the bar)."""
    if progress is None:
        return "", "·" * cells
    filled = round(min(max(progress, 0.0), 1.0) * cells)
    return "█" * filled, "░" * (cells - filled)


def _number(value: float) -> str:
    """A compact human number: 1.25M, 212.3k, 4,000, 99.87."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.2f}".rstrip("0").rstrip(".") + "M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.1f}".rstrip("0").rstrip(".") + "k"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _quantity(value: float, unit: str) -> str:
    """A number with its unit: ``$212.3k``, ``2.4%``, ``120 min``."""
    if unit == "USD":
        return ("-$" if value < 0 else "$") + _number(abs(value))
    if unit == "%":
        return _number(value) + "%"
    return _number(value) if not unit else f"{_number(value)} {unit}"


def _kr_value(kr: KeyResult, current: float | bool, strict: bool = False) -> str:
    """The key result's current value against its target, with the unit.

    A ``band`` or ``graded`` range shows its green zone instead of the target (``< 300 ms``,
    ``> 99.8%``, or ``92 to 96%``); with ``strict`` breakpoints a value on a limit is still green.
    """
    if isinstance(kr, Metric):
        now = _number(float(current))
        if kr.unit == "USD":
            now = _quantity(float(current), "USD")
        goal = _quantity(float(kr.target), kr.unit)
        bounds = kr.range
        if bounds is not None and bounds.mode != "linear":
            low, high = bounds.yellow_low, bounds.yellow_high
            above, below = ("≥", "≤") if strict else (">", "<")
            if low is not None and high is not None:
                goal = f"{_number(float(low))} to {_quantity(float(high), kr.unit)}"
            elif low is not None:
                goal = above + _quantity(float(low), kr.unit)
            elif high is not None:
                goal = below + _quantity(float(high), kr.unit)
        return f"{now} / {goal}"
    if isinstance(kr, Binary):
        return "done" if current else "not done"
    if kr.checkpoints is not None:
        return f"{int(current)} / {kr.total} steps"
    if kr.stages_total is not None:
        return f"{int(current)} / {kr.total} stages"
    return "done" if current else "open"


def _kr_kind(kr: KeyResult) -> str:
    """A short label of the key result's kind: ``metric ↑``, ``range band``, ``stages``..."""
    if isinstance(kr, Metric):
        if kr.range is not None:
            return _RANGE_KINDS[kr.range.mode]
        return "metric ↑" if kr.direction > 0 else "metric ↓"
    if isinstance(kr, Binary):
        return "binary"
    if kr.checkpoints is not None:
        return "checklist"
    return "stages" if kr.stages_total is not None else "milestone"


def _clip(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` columns with an ellipsis."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _plural(count: int, word: str) -> str:
    """``1 KR``, ``3 KRs``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _wrap(parts: Sequence[str], width: int, separator: str = " · ") -> list[str]:
    """Join ``parts`` with ``separator`` into lines of at most ``width`` columns."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(separator) + len(part) <= width:
            lines[-1] += separator + part
        else:
            lines.append(_clip(part, width))
    return lines


def _day(moment: datetime, end: bool = False) -> str:
    """The calendar day of an instant; for an end instant at midnight, the day before."""
    utc = moment.astimezone(UTC)
    if end and utc.hour == utc.minute == utc.second == utc.microsecond == 0:
        utc -= timedelta(microseconds=1)
    return utc.date().isoformat()


class _Row:
    """One key result line before layout."""

    def __init__(self, kind: str, name: str, value: str, result: KeyResultResult | None,
                 flags: list[tuple[str, str | None]], owners: Sequence[str]) -> None:
        self.kind = kind
        self.name = name
        self.value = value
        self.result = result
        self.flags = flags
        self.owners = ", ".join(owners)

    @property
    def flag_width(self) -> int:
        return len(" ".join(text for text, _ in self.flags))


class _Renderer:
    """Draws one document and its evaluation, line by line."""

    def __init__(self, document: Document, evaluation: Evaluation, colour: bool) -> None:
        self.document = document
        self.evaluation = evaluation
        self.paint = _Painter(colour)
        self.lines: list[str] = []
        self.nodes: dict[str, tuple[int, Objective | InvalidObjective]] = {}
        for index, node in enumerate(document.objectives):
            if node.id is not None and node.id not in self.nodes:
                self.nodes[node.id] = (index, node)
        self.children: dict[str, list[str]] = {oid: [] for oid in self.nodes}
        self.roots: list[str] = []
        for oid, (_, node) in self.nodes.items():
            if node.parent is not None and node.parent in self.nodes and node.parent != oid:
                self.children[node.parent].append(oid)
            else:
                self.roots.append(oid)
        self.drawn: set[str] = set()
        self.error_codes: dict[str, list[str]] | None = None

    # -- pieces ------------------------------------------------------------------------------
    def colour_word(self, colour: str | None) -> str:
        word = colour or "—"
        return self.paint(word, colour) + " " * (6 - len(word))

    def trend(self, trend: str | None) -> str:
        return " " if trend is None else self.paint(_ARROWS[trend], _TREND_STYLE[trend])

    def bar(self, progress: float | None, colour: str | None) -> str:
        filled, empty = _bar(progress, _BAR_CELLS)
        return self.paint(filled, colour or "cyan") + self.paint(empty, "dim")

    def depths(self) -> dict[str, int]:
        """Each objective's number of ancestors (in a cycle: the other members), in one pass."""
        depth: dict[str, int] = {}
        for start in self.nodes:
            path: list[str] = []
            index: dict[str, int] = {}
            cur: str | None = start
            while cur is not None and cur not in depth and cur not in index:
                index[cur] = len(path)
                path.append(cur)
                parent = self.nodes[cur][1].parent
                cur = parent if parent is not None and parent in self.nodes else None
            if cur is None or cur in depth:
                base = -1 if cur is None else depth[cur]
                for k, node in enumerate(reversed(path)):
                    depth[node] = base + 1 + k
            else:  # the walk closed a cycle at ``cur``
                first = index[cur]
                size = len(path) - first
                for node in path[first:]:
                    depth[node] = size - 1
                for k, node in enumerate(reversed(path[:first])):
                    depth[node] = size + k
        return depth

    def errors_of(self, oid: str) -> list[str]:
        """The error codes reported at the objective's own path (indexed once, on first use)."""
        if self.error_codes is None:
            self.error_codes = {}
            for error in self.evaluation.errors:
                found = _OBJECTIVE_PATH.match(error.path)
                if found is None or error.path[found.end():][:1] not in ("", "."):
                    continue
                codes = self.error_codes.setdefault(found.group(0), [])
                if error.code not in codes:
                    codes.append(error.code)
        return self.error_codes.get(f"objectives[{self.nodes[oid][0]}]", [])

    # -- objectives --------------------------------------------------------------------------
    def objective(self, oid: str, lead: str, cont: str, depth: int) -> None:
        """Draw an objective and, depth first, the not yet drawn objectives aligned to it.

        Iterative (any depth); below :data:`_MAX_INDENT` levels the tree stops indenting and
        names the level instead, so that lines stay within bounds.
        """
        stack = [(oid, lead, cont, depth)]
        while stack:
            oid, lead, cont, depth = stack.pop()
            kids = self.one_objective(oid, lead, cont, depth)
            deep = depth + 1 >= _MAX_INDENT
            for index in reversed(range(len(kids))):
                last = index == len(kids) - 1
                if deep:
                    stack.append((kids[index], cont + "↳ ", cont, depth + 1))
                else:
                    stack.append((kids[index], cont + ("└─ " if last else "├─ "),
                                  cont + ("   " if last else "│  "), depth + 1))

    def one_objective(self, oid: str, lead: str, cont: str, depth: int) -> list[str]:
        """Draw one objective and its key results; return the children still to draw."""
        self.drawn.add(oid)
        node = self.nodes[oid][1]
        kids = [k for k in self.children[oid] if k not in self.drawn]
        stem = cont + ("│" if kids else " ")
        title = getattr(node, "name", "") or oid
        if depth >= _MAX_INDENT:
            title = f"(level {depth + 1}) {title}"
        head = self.paint(lead, "dim") + self.paint(title, "bold" if depth == 0 else None)
        result = self.evaluation.objectives.get(oid)
        if result is None:
            note = "error: " + (", ".join(self.errors_of(oid)) or "not evaluated")
            self.lines.append(f"{head}  {self.paint(note, 'red')}")
        else:
            stats = (f"{self.bar(result.progress, result.colour)} {_percent(result.progress):>6}"
                     f" exp {_percent(result.expected):>6}  {self.colour_word(result.colour)} "
                     f"{result.mode:<4} {self.trend(result.trend)}")
            if result.stale:
                stats += " " + self.paint("stale", "yellow")
            width = len(lead) + len(title)
            if width + 1 > _NAME_COL:
                self.lines.append(head)
                self.lines.append(self.paint(stem, "dim") + " " * (_NAME_COL - len(stem)) + stats)
            else:
                self.lines.append(head + " " * (_NAME_COL - width) + stats)
            for text in _wrap(self.details(node, result), _WIDTH - len(stem) - 2):
                self.lines.append(self.paint(f"{stem}  {text}", "dim"))
        self.key_results(node, stem + "  ")
        return kids

    def details(self, node: Objective | InvalidObjective, result: ObjectiveResult) -> list[str]:
        expl = result.explanation
        parts = [f"owner {result.owner}" if result.owner else "no owner"]
        counted = [i for i in expl.items if i.contributes]
        krs = sum(1 for i in counted if i.type == "key_result")
        kids = sum(1 for i in counted if i.type == "objective")
        idle = sum(1 for i in expl.items if i.type == "key_result" and not i.contributes)
        if expl.rule == "children":
            parts.append(f"mean of {_plural(kids, 'aligned objective')}")
        elif expl.rule == "empty":
            parts.append("nothing to count yet")
        else:
            if expl.mode == "sum" and expl.unit is not None and expl.value is not None:
                target = _quantity(expl.target or 0.0, expl.unit)
                text = (f"sum of {_plural(krs, expl.unit + ' KR')}: "
                        f"{_quantity(expl.value, expl.unit)} of {target} "
                        f"({expl.target_rule or 'given'} target)")
            else:
                text = f"mean of {_plural(krs, 'KR')}"
                if idle:
                    text += f" ({idle} not counted)"
            if kids:
                text += f" + {_plural(kids, 'aligned objective')}"
            parts.append(text)
        if result.forecast is not None:
            parts.append(f"forecast {_percent(result.forecast.progress)} "
                         f"{result.forecast.colour}")
        source = expl.colour
        if source is not None and source.source == "breakpoint":
            hit = next((kr for kr in node.key_results if kr.id == source.reason), None)
            label = getattr(hit, "name", "") or source.reason
            parts.append(f"{result.computed_colour} from a range limit: {label}")
        if isinstance(node, Objective) and node.ambition == "aspirational":
            parts.append("aspirational")
        if result.manual_status is not None:
            parts.append(f"manual status {result.manual_status} "
                         f"(computed {result.computed_colour or 'none'})")
        return parts

    # -- key results -------------------------------------------------------------------------
    def row(self, kr: KeyResult | InvalidKeyResult, node: Objective | InvalidObjective) -> _Row:
        result = None if kr.id is None else self.evaluation.key_results.get(kr.id)
        if result is None or isinstance(kr, InvalidKeyResult):
            codes = sorted({e.code for e in kr.errors}) if isinstance(kr, InvalidKeyResult) else []
            name = kr.name if not isinstance(kr, InvalidKeyResult) and kr.name else str(kr.id)
            return _Row("invalid", name, "", None,
                        [("error: " + (", ".join(codes) or "not evaluated"), "red")], ())
        flags: list[tuple[str, str | None]] = []
        if result.stale:
            flags.append(("stale", "yellow"))
        if not result.contributes:
            flags.append(("w0", "dim") if result.weight == 0 else ("not summed", "dim"))
        elif result.weight != 1:
            flags.append((f"w{result.weight:g}", None))
        owners = [p for p in result.owners if p != node.owner]
        value = _kr_value(kr, result.current, self.evaluation.policy.strict_breakpoints)
        return _Row(_kr_kind(kr), kr.name or kr.id, value, result, flags, owners)

    def key_results(self, node: Objective | InvalidObjective, prefix: str) -> None:
        rows = [self.row(kr, node) for kr in node.key_results]
        if not rows:
            return
        kind_w = max(len(r.kind) for r in rows)
        value_w = max(len(r.value) for r in rows)
        flag_w = max(r.flag_width for r in rows)
        fixed = len(prefix) + kind_w + 1 + 2 + value_w + 2 + 6 + 2 + 6 + 1 + 1
        room = max(_WIDTH - fixed - (flag_w + 1 if flag_w else 0), 16)
        name_w = min(max(len(r.name) for r in rows), room)
        for r in rows:
            line = (self.paint(prefix + f"{r.kind:<{kind_w}} ", "dim")
                    + f"{_clip(r.name, name_w):<{name_w}}  {r.value:>{value_w}}  ")
            if r.result is not None:
                line += (f"{_percent(r.result.progress):>6}  {self.colour_word(r.result.colour)} "
                         f"{self.trend(r.result.trend)}")
            flags = " ".join(self.paint(text, style) for text, style in r.flags)
            self.lines.append((line + " " + flags).rstrip())
            if r.owners:
                self.lines.append(self.paint(prefix, "dim") + " " * (kind_w + 1)
                                  + self.paint(f"↳ {r.owners}", "cyan"))

    # -- the page ----------------------------------------------------------------------------
    def header(self) -> None:
        ev, doc = self.evaluation, self.document
        policy, pace = ev.policy, ev.policy.pace
        if pace.rule == "ratio":
            times = "\N{MULTIPLICATION SIGN}"
            rule = f"yellow ≤ {pace.yellow:g}{times}expected, red ≤ {pace.red:g}{times}expected"
        elif pace.rule == "difference":
            rule = f"yellow ≤ expected {pace.yellow:+g}, red ≤ expected {pace.red:+g}"
        else:
            rule = f"yellow {pace.yellow:g}+ points behind, red {pace.red:g}+ points behind"
        cap = "uncapped" if policy.cap is None else f"cap {policy.cap * 100:g}%"
        valid = [o for o in doc.objectives if isinstance(o, Objective)]
        timelines = {(o.start, o.due) for o in valid if o.start is not None and o.due is not None}
        levels = 1 + max(self.depths().values(), default=-1)
        krs = sum(len(o.key_results) for o in doc.objectives)
        errors = len(ev.errors)
        self.lines.append(self.paint(f"okrcore · OKR progress as of {ev.as_of}", "bold"))
        if len(timelines) == 1:
            start, due = next(iter(timelines))
            assert start is not None and due is not None
            expected = next((o.expected for o in ev.objectives.values()), None)
            self.lines.append(f"period {_day(start)} → {_day(due, end=True)} · expected progress "
                              f"{_percent(expected)} (linear timeline)")
        self.lines.append(f"policy {policy.preset} · pace {pace.rule}: {rule} · {cap} · stale "
                          f"after {policy.stale_days:g} days")
        self.lines.append(
            f"{_plural(len(doc.objectives), 'objective')} in {_plural(levels, 'level')} · "
            f"{_plural(krs, 'key result')} · "
            f"{len(ev.people)} {'person' if len(ev.people) == 1 else 'people'} · "
            + self.paint(_plural(errors, "error"), "red" if errors else "green"))
        self.lines.append("")

    def tree(self) -> None:
        self.lines.append(self.paint("Objectives", "bold") + self.paint(
            "  bar · progress · expected · colour · rollup · trend, then the key results", "dim"))
        for oid in [*self.roots, *self.nodes]:
            if oid not in self.drawn:
                self.lines.append("")
                self.objective(oid, "", "", 0)
        self.lines.append("")

    def people(self) -> None:
        people = sorted(self.evaluation.people.values(),
                        key=lambda p: (p.progress is None, -(p.progress or 0.0), p.id))
        self.lines.append(self.paint(f"People ({len(people)})", "bold") + self.paint(
            "  objectives they own + key results they own on others' objectives", "dim"))
        width = min(max([4, *(len(p.id) for p in people)]), 28)
        for person in people:
            owned = sum(1 for i in person.items if i.type == "objective")
            krs = len(person.items) - owned
            count = _plural(len(person.items), "item")
            detail = f"{_plural(owned, 'objective')}, {_plural(krs, 'KR')}"
            self.lines.append(f"  {_clip(person.id, width):<{width}}  "
                              f"{self.bar(person.progress, None)} {_percent(person.progress):>6}"
                              f"  {count:<8} " + self.paint(detail, "dim"))
        self.lines.append("")

    def summary(self) -> None:
        ev = self.evaluation

        def tally(colours: Sequence[str | None]) -> str:
            parts = [self.paint(f"{colours.count(c)} {c}", c) for c in ("green", "yellow", "red")]
            if None in colours:
                parts.append(f"{colours.count(None)} without a colour")
            return " · ".join(parts)

        objectives = list(ev.objectives.values())
        krs = list(ev.key_results.values())
        manual = sum(1 for o in objectives if o.manual_status is not None)
        stale = sum(1 for k in krs if k.stale)
        regressed = sum(1 for k in krs if k.trend == "regressed")
        errors = len(ev.errors)
        self.lines.append(self.paint("Summary", "bold"))
        self.lines.append(f"  objectives   {len(objectives):>3}  "
                          + tally([o.colour for o in objectives])
                          + (f" ({manual} set by a manual status)" if manual else ""))
        self.lines.append(f"  key results  {len(krs):>3}  " + tally([k.colour for k in krs])
                          + f" · {stale} stale · {regressed} regressed")
        self.lines.append("  errors       "
                          + self.paint(f"{errors:>3}", "red" if errors else "green"))
        for error in ev.errors[:_MAX_ERRORS_SHOWN]:
            text = _clip(f"    {error.code} at {error.path}: {error.message}", _WIDTH)
            self.lines.append(self.paint(text, "red"))
        if errors > _MAX_ERRORS_SHOWN:
            self.lines.append(f"    … and {errors - _MAX_ERRORS_SHOWN} more")
        days = f"{ev.policy.stale_days:g}"
        self.lines.append(self.paint(
            f"  ↗ progressed → stalled ↘ regressed since the previous check-in · stale: no check-in"
            f" for {days} days · w2: weight", "dim"))


def render(document: Document, evaluation: Evaluation, colour: bool) -> str:
    """Draw a document and its evaluation as terminal text.

    Parameters
    ----------
    document : Document
        The evaluated document (for names, kinds, units, targets and the alignment tree).
    evaluation : Evaluation
        Its result, from :func:`okrcore.evaluate.evaluate`.
    colour : bool
        Colour the colour words, bars, trend arrows and owners with ANSI escapes.

    Returns
    -------
    str
        A header (as_of, period, policy, counts); the alignment tree, one line per objective
        with its name, a 20-cell progress bar, progress and expected progress in percent (one
        decimal: 1/3 shows as ``33.3%``), the colour, the rollup mode (``mean``/``sum``) and
        the trend arrow, then a dim line with the owner, how the progress was computed and the
        forecast, then its key results (kind, name and owners from other teams, current /
        target with unit, progress, colour, trend, ``stale`` and weight markers); a people
        table sorted by progress; and a summary of colours and errors.  Lines stay within 110
        columns for trees up to five levels deep; objective names are never cut (a long one
        gets its numbers on the next line), key result names only when there is no room.
    """
    renderer = _Renderer(document, evaluation, colour)
    renderer.header()
    renderer.tree()
    renderer.people()
    renderer.summary()
    return "\n".join(line.rstrip() for line in renderer.lines)
