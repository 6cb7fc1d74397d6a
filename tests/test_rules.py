"""Each element-wise rule of the batch engine is written once (okrcore.batch.rules, issue 18).

Three checks keep it so:

* the numba kernels run the rules' own code objects (``okrcore.batch._rules_numba`` is the
  rules module instantiated over the numba operations), and the numpy kernel calls the rules;
* no other module of ``okrcore.batch`` (kernels, backends, pipeline, engine, whatever is added)
  contains a sub-expression of a rule: every sub-expression of at least :data:`MIN_OPERATIONS`
  operations of a rule is fingerprinted (its names and constants abstracted; ``where``, a
  conditional expression and ``np.select`` are one form, so are ``&`` and ``and``, ``~``,
  ``not`` and ``not_``, ``np.maximum`` and ``_np_maximum`` ...), and a kernel module with the
  same fingerprint fails the test;
* the guard itself fails on planted reimplementations (the pre-issue-18 twins among them).

The scalar operations of the numba instance are checked against numpy's semantics in plain
Python (no numba needed): the rules over ``_ops_numba`` equal the rules over numpy bit for bit.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okrcore.batch
from okrcore.batch import _ops, _ops_numba, _rules_numba, _vector, rules
from okrcore.codes import COLOUR_NONE, NONE_INSTANT

MIN_OPERATIONS = 4
"""Sub-expressions of a rule with at least this many operations are guarded."""
SMALL_RULES = frozenset({"clamp", "has_range", "hits_high", "hits_low", "is_done_or_not",
                         "pace_bound", "uses_range_progress", "whole_ratio", "worst_colour"})
"""Rules of fewer operations: too small to tell from ordinary code; shared by code object."""
RULE_MODULES = frozenset({"rules.py", "_ops.py", "_ops_numba.py", "_rules_numba.py"})

_LEAVES = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript)
_BOOL = {ast.BitOr: "OR", ast.Or: "OR", ast.BitAnd: "AND", ast.And: "AND"}
_NAMED = {"where": "W", "select": "W", "not_": "NOT", "logical_not": "NOT",
          "maximum": "MAX", "max": "MAX", "fmax": "MAX", "_np_maximum": "MAX",
          "minimum": "MIN", "min": "MIN", "fmin": "MIN", "_np_minimum": "MIN",
          "abs": "ABS", "absolute": "ABS", "fabs": "ABS", "isnan": "ISNAN", "isinf": "ISINF",
          "floor": "FLOOR", "float64": "FLOAT", "to_float": "FLOAT", "float": "FLOAT"}


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def fingerprint(node: ast.expr) -> tuple[str, int]:
    """The normalised form of an expression and its number of operations.

    Names, attributes, subscripts and constants are all ``X``; calls of other functions are
    ``F`` and count no operation (a call of a rule is the rule, not a copy of it).
    """
    if isinstance(node, _LEAVES):
        return "X", 0

    def join(tag: str, children: Any, own: int = 1) -> tuple[str, int]:
        parts = [fingerprint(child) for child in children]
        return f"{tag}({','.join(p for p, _ in parts)})", own + sum(n for _, n in parts)

    if isinstance(node, ast.IfExp):
        return join("W", (node.test, node.body, node.orelse))
    if isinstance(node, ast.Call):
        name = _callee(node)
        tag = _NAMED.get(name) or _NAMED.get(name.rstrip("_"))  # (ops.maximum_ is a maximum)
        return join(tag, node.args) if tag else join("F", node.args, own=0)
    if isinstance(node, ast.UnaryOp):
        negation = isinstance(node.op, (ast.Not, ast.Invert))
        return join("NOT" if negation else type(node.op).__name__, (node.operand,))
    if isinstance(node, ast.BinOp):
        return join(_BOOL.get(type(node.op), type(node.op).__name__), (node.left, node.right))
    if isinstance(node, ast.BoolOp):
        tag = _BOOL[type(node.op)]
        form, count = fingerprint(node.values[0])
        for value in node.values[1:]:
            other, more = fingerprint(value)
            form, count = f"{tag}({form},{other})", 1 + count + more
        return form, count
    if isinstance(node, ast.Compare):
        ops = "".join(type(op).__name__ for op in node.ops)
        return join(f"CMP{ops}", (node.left, *node.comparators))
    if isinstance(node, ast.Tuple):
        return join("T", node.elts, own=0)
    return type(node).__name__, 0


def _expressions(tree: ast.AST) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, ast.expr) and not isinstance(node, _LEAVES):
            yield node


def rule_fingerprints(source: str) -> dict[str, set[str]]:
    """The guarded sub-expression forms of each rule in ``source``."""
    found: dict[str, set[str]] = {}
    for function in ast.parse(source).body:
        if isinstance(function, ast.FunctionDef) and function.name in rules.__all__:
            forms = found.setdefault(function.name, set())
            for node in _expressions(function):
                form, count = fingerprint(node)
                if count >= MIN_OPERATIONS:
                    forms.add(form)
    return found


FORMS_OF_RULE = rule_fingerprints(Path(rules.__file__).read_text(encoding="utf-8"))
RULE_FORMS = {form: name for name, forms in sorted(FORMS_OF_RULE.items()) for form in forms}


def reimplementations(source: str, name: str) -> list[str]:
    """The sub-expressions of module ``source`` that are sub-expressions of a rule."""
    hits = []
    for node in _expressions(ast.parse(source)):
        form, count = fingerprint(node)
        if count >= MIN_OPERATIONS and form in RULE_FORMS:
            hits.append(f"{name}:{node.lineno}: {ast.unparse(node)} "
                        f"(rules.{RULE_FORMS[form]})")
    return hits


def kernel_modules() -> list[Path]:
    """Every module of okrcore.batch (and its subpackages) but the rules and operations."""
    root = Path(okrcore.batch.__file__).parent
    return sorted(p for p in root.rglob("*.py") if p.name not in RULE_MODULES)


# --- one definition ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_the_numba_instance_runs_the_rules_code(rule: Any) -> None:
    clone = getattr(_rules_numba, rule.__name__)
    assert clone is not rule
    assert clone.__code__ is rule.__code__
    assert clone.__globals__ is vars(_rules_numba)
    assert clone.__globals__["ops"] is _ops_numba
    assert rule.__globals__["ops"] is _ops


def test_the_kernels_call_the_rules() -> None:
    assert vars(_vector)["rules"] is rules
    numba = pytest.importorskip("numba")
    assert numba
    from okrcore.batch import _numba, _numba_kr, _numba_obj

    _numba.load()
    assert _numba_kr.R is _rules_numba
    assert _numba_obj.R is _rules_numba


def test_both_operation_layers_have_the_same_names() -> None:
    assert set(_ops.__all__) == set(_ops_numba.__all__) - {"OPS"}
    assert {op.__name__ for op in _ops_numba.OPS} == set(_ops.__all__)


SCALAR_PARAMETERS = frozenset({"cap", "tol"})
"""Rule parameters that are scalars in both kernels (a consuming operation may take them)."""


def test_consuming_operations_get_only_temporaries_of_the_rule() -> None:
    """``ops.maximum_`` and the like may write into an array argument: never a parameter."""
    tree = ast.parse(Path(rules.__file__).read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_")
             and node.func.attr != "not_"]
    assert calls
    for call in calls:
        for arg in call.args:
            temporary = isinstance(arg, (ast.BinOp, ast.UnaryOp)) or (
                isinstance(arg, ast.Call) and _callee(arg) in {"abs", *_ops.__all__})
            scalar = isinstance(arg, ast.Constant) or (
                isinstance(arg, ast.Name) and arg.id in SCALAR_PARAMETERS)
            assert temporary or scalar, ast.unparse(call)


def test_every_rule_is_listed_and_guarded() -> None:
    functions = {name for name in rules.__all__ if name.islower()} - {
        "instantiate", "pace_rule_code"}
    assert functions == {rule.__name__ for rule in rules.RULES}
    guarded = {name for name, forms in FORMS_OF_RULE.items() if forms}
    # a rule made of other rules is guarded through them
    composite = {rule.__name__ for rule in rules.RULES
                 if functions & set(rule.__code__.co_names)}
    unguarded = functions - guarded - composite
    assert unguarded == SMALL_RULES, sorted(unguarded)


@pytest.mark.parametrize("path", kernel_modules(), ids=lambda p: p.name)
def test_no_kernel_module_reimplements_a_rule(path: Path) -> None:
    assert reimplementations(path.read_text(encoding="utf-8"), path.name) == []


PLANTED = {
    # the numba twins before issue 18 (okrcore.batch._numba at 77d84b4)
    "approx_le": "ok = (a <= b) | (abs(a - b) <= tol * _np_maximum(abs(a), abs(b)))",
    "graded": ("up = _np_minimum(_np_maximum((red_high - value) / (red_high - high_yellow),"
               " 0.0), 1.0)"),
    "halving": "raw = (v * 0.5 - s * 0.5) / (t * 0.5 - s * 0.5) if halved else num / den",
    "expected": ("e = _np_minimum(_np_maximum(np.float64(as_of - start) / "
                 "np.float64(due - start), 0.0), 1.0)"),
    "grade": "score = np.floor(10.0 * _np_minimum(progress, 1.0) + 0.5 + tol) / 10.0",
    "trend": "same = abs(r - prev) <= tol * _np_maximum(abs(r), abs(prev))",
    "due": ("by_due = _CODE_NONE if due == NONE_INSTANT else (_CODE_GREEN if as_of < due "
            "else _CODE_RED)"),
    # the numpy twins, as engine.py had them
    "above": "above = (not math.isnan(red_high)) & (value > high_yellow)",
    "stale": ("stale = ~complete & ~early & (~logged | (np.float64(as_of - last_at)"
              " > window))"),
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_guard_flags_a_planted_reimplementation(name: str, tmp_path: Path) -> None:
    source = PLANTED[name]
    assert reimplementations(source, name), source


def test_the_guard_scans_new_modules(tmp_path: Path) -> None:
    # a backend module that writes the tolerance comparison out again, numpy style
    module = tmp_path / "backend.py"
    module.write_text("import numpy as np\n\n\ndef behind(p, bound, tol):\n"
                      "    return (p <= bound) | (np.abs(p - bound)\n"
                      "                           <= tol * np.maximum(np.abs(p), np.abs(bound)))\n")
    hits = reimplementations(module.read_text(), module.name)
    assert hits and "rules.approx_le" in hits[0], hits


# --- the two operation layers agree (numpy's semantics) ------------------------------------

values = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 1.0, -1.0, math.nan, math.inf, -math.inf]))


def _bits(x: Any) -> Any:
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return "nan" if np.isnan(a) else a.astype(np.float64).tobytes()
    return int(a)


def _both(rule: str, *args: Any) -> None:
    """The rule over numpy (one-element columns) equals its numba instance in plain Python."""
    columns = [np.array([a]) if isinstance(a, (float, np.integer)) else a for a in args]
    scalars = [np.float64(a) if isinstance(a, float) else a for a in args]
    with np.errstate(all="ignore"):
        want = getattr(rules, rule)(*columns)
        got = getattr(_rules_numba, rule)(*scalars)
    if isinstance(want, tuple):
        assert [_bits(np.asarray(w)[0]) for w in want] == [_bits(g) for g in got]
    else:
        assert _bits(np.asarray(want)[0]) == _bits(got), (rule, args)


@settings(max_examples=300)
@given(a=values, b=values)
def test_scalar_maximum_and_minimum_are_numpys(a: float, b: float) -> None:
    for numpy_op, scalar_op in ((np.maximum, _ops_numba.maximum),
                                (np.minimum, _ops_numba.minimum),
                                (np.fmax, _ops_numba.fmax)):
        assert _bits(numpy_op(a, b)) == _bits(scalar_op(a, b))
    # the consuming numpy operations compute what the others do, into a temporary
    for consuming, plain in ((_ops.maximum_, np.maximum), (_ops.minimum_, np.minimum)):
        assert _bits(consuming(np.array([a]), b)[0]) == _bits(plain(a, b))
        assert _bits(consuming(a, np.array([b]))[0]) == _bits(plain(a, b))


@settings(max_examples=300)
@given(v=values, s=values, t=values, mode=st.sampled_from([0, 1, 2, 3]),
       limits=st.lists(values, min_size=4, max_size=4), strict=st.booleans())
def test_progress_rules_agree(v: float, s: float, t: float, mode: int, limits: list[float],
                              strict: bool) -> None:
    rl, yl, yh, rh = limits
    _both("ratio_progress", v, s, t)
    _both("graded_progress", v, t, rl, yl, yh, rh)
    _both("raw_progress", v, s, t, np.uint8(mode), rl, yl, yh, rh, strict)
    _both("range_status", v, np.uint8(mode), rl, yl, yh, rh, strict)
    _both("clamp", v, math.inf)
    _both("clamp", v, 1.5)


@settings(max_examples=300)
@given(p=values, e=values, rule=st.integers(0, 5), yellow=st.floats(-1, 1),
       red=st.floats(-1, 1), kind=st.integers(0, 4), due=st.sampled_from([NONE_INSTANT, 5, 50]))
def test_pace_and_grade_rules_agree(p: float, e: float, rule: int, yellow: float, red: float,
                                    kind: int, due: int) -> None:
    _both("pace_colour", p, e, 1e-9, rule, yellow, red)
    _both("pace_reason", p, e, 1e-9, rule, yellow, red)
    _both("kr_pace", np.uint8(kind), p, p, e, due, 10, 1e-9, rule, yellow, red)
    _both("grade", p, True, 1e-9, 0.4, 0.7, 0.7)
    _both("trend", e, p, 1e-9)


@settings(max_examples=200)
@given(as_of=st.integers(-10**15, 10**15), start=st.sampled_from([NONE_INSTANT, 0, 7, 10**12]),
       due=st.sampled_from([NONE_INSTANT, 0, 9, 10**13]), p=values, logged=st.booleans())
def test_timeline_rules_agree(as_of: int, start: int, due: int, p: float,
                              logged: bool) -> None:
    _both("expected_progress", as_of, np.int64(start), np.int64(due))
    _both("is_stale", p, 1e-9, logged, np.int64(due), np.int64(start), as_of, 3e6)


# --- what the numpy kernel's sparse evaluation relies on -----------------------------------


@settings(max_examples=200)
@given(v=values, s=values, t=values, mode=st.sampled_from([0, 3]),
       limits=st.lists(values, min_size=4, max_size=4), strict=st.booleans())
def test_without_range_progress_the_rule_is_the_ratio(v: float, s: float, t: float, mode: int,
                                                      limits: list[float],
                                                      strict: bool) -> None:
    """_vector._raw_progress evaluates the ratio alone outside band and graded rows."""
    with np.errstate(all="ignore"):
        rl, yl, yh, rh = limits
        raw = rules.raw_progress(np.array([v]), s, t, np.uint8(mode), rl, yl, yh, rh, strict)
        ratio = rules.ratio_progress(np.array([v]), s, t)
    assert not rules.uses_range_progress(np.uint8(mode))
    assert _bits(raw[0]) == _bits(ratio[0])
    if mode == 0:
        status = rules.range_status(v, np.uint8(0), rl, yl, yh, rh, strict)
        assert int(status) == COLOUR_NONE


codes = st.integers(-128, 127)


@settings(max_examples=200, deadline=None)
@given(cond=st.lists(st.booleans(), min_size=1, max_size=40), data=st.data())
def test_the_int8_code_selection_is_numpys_where(cond: list[bool], data: Any) -> None:
    """ops.where's int8 fast path gives np.where's values and dtype (wraparound cancels)."""
    c = np.array(cond)
    n = c.shape[0]

    def operand() -> Any:
        if data.draw(st.booleans()):
            return np.int8(data.draw(codes))
        return np.array(data.draw(st.lists(codes, min_size=n, max_size=n)), dtype=np.int8)

    a, b = operand(), operand()
    got = _ops.where(c, a, b)
    want = np.where(c, a, b)
    assert got.dtype == want.dtype == np.int8
    assert got.tolist() == want.tolist()
    # Python int codes are taken as int8, as before
    assert _ops.where(c, 2, -1).tolist() == np.where(c, 2, -1).tolist()
