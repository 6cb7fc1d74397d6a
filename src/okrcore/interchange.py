"""The interchange document, version 1: load and dump, tolerant of bad items.

:func:`load` turns a parsed JSON document into a :class:`~okrcore.model.Document`.  A bad
objective or key result becomes an :class:`~okrcore.model.InvalidObjective` or
:class:`~okrcore.model.InvalidKeyResult` carrying structured errors, so the evaluator can report
it and still evaluate everything else.  Only a document that cannot be evaluated at all raises
:class:`~okrcore.errors.DocumentError`.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from typing import IO, Any, Final, TypeAlias, cast

import numpy as np

from okrcore import _checks as C
from okrcore import errors as E
from okrcore import kinds as K
from okrcore import model as _model
from okrcore import results as _results
from okrcore._reading import Reader as _Reader
from okrcore._reading import boolean as _boolean
from okrcore._reading import choice as _choice
from okrcore._reading import due_instant as _due_instant
from okrcore._reading import list_ as _list
from okrcore._reading import number as _number
from okrcore._reading import object_ as _object
from okrcore._reading import owners as _owners
from okrcore._reading import start_instant as _start_instant
from okrcore._reading import string as _string
from okrcore._reading import text as _text
from okrcore._reading import unknown_fields as unknown_fields
from okrcore.evaluate import evaluate
from okrcore.instants import isoformat, parse_instant
from okrcore.model import (
    AMBITIONS,
    MANUAL_STATUSES,
    MODES,
    Document,
    InvalidKeyResult,
    InvalidObjective,
    KeyResult,
    Objective,
    ProgressSettings,
)
from okrcore.policy import PaceRule, Policy
from okrcore.results import (
    ColourSource,
    Evaluation,
    Explanation,
    Forecast,
    Grade,
    Item,
    KeyResultResult,
    ObjectiveResult,
    PersonItem,
    PersonResult,
)

__all__ = [
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "TOO_DEEP",
    "document_from_dict",
    "document_to_dict",
    "dump",
    "dump_result",
    "dumps",
    "dumps_result",
    "evaluate_document",
    "evaluation_from_dict",
    "load",
    "load_result",
    "loads",
    "loads_result",
    "parse_instant",
    "parse_json",
    "schema",
]

_Source: TypeAlias = str | os.PathLike[str] | IO[str] | IO[bytes]
# what load() reads: a path, or a text or binary file object
_Target: TypeAlias = str | os.PathLike[str] | IO[str] | IO[bytes]
# what dump() writes to: a path, or a text or binary file object

FORMAT_VERSION: Final = 1
"""The interchange format version this module reads and writes."""

def _load_key_result(data: object, path: str, warnings: list[E.OkrError] | None = None
                     ) -> KeyResult | InvalidKeyResult:
    try:
        raw = _object(data, "")
    except E.OkrValueError as exc:
        return InvalidKeyResult(None, [E.OkrError(exc.code, path, exc.message)])
    r = _Reader(raw, path, warnings)
    ident = r.get("id", _string, required=True)
    kind: K.Kind | None = K.KINDS.get(r.get("kind", _choice(*K.KINDS), required=True))
    if kind is not None:
        known = _KR_KNOWN.get(kind.name)
        if known is None:
            known = _KR_KNOWN[kind.name] = frozenset((*_KR_COMMON_FIELDS, *kind.fields))
        r.warn_unknown(known)
    common = {
        "weight": r.get("weight", _number, default=1),
        "owners": r.get("owners", _owners, default=()),
        "due": r.get("due", _due_instant),
        "name": r.get("name", _text, default=""),
    }
    built: KeyResult | None = None
    if kind is not None:
        fields = kind.load(r, path)
        if not r.errors:
            built = r.build(kind.model, id=ident, **fields, **common)
    if built is not None:
        return built
    owners = common["owners"] if isinstance(common["owners"], tuple) else ()
    return InvalidKeyResult(ident, r.errors, owners)


def _load_settings(reader: _Reader) -> ProgressSettings | None:
    data = reader.get("progress_settings", _object)
    if data is None:
        return None
    sub = _Reader(data, f"{reader.path}.progress_settings", reader.warnings)
    sub.warn_unknown(("unit", "target", "auto", "start"))
    fields = {
        "unit": sub.get("unit", _string, required=True),
        "target": sub.get("target", _number),
        "auto": sub.get("auto", _boolean, default=False),
        "start": sub.get("start", _number),
    }
    if not sub.errors:
        built: ProgressSettings | None = sub.build(ProgressSettings, **fields)
    else:
        built = None
    reader.errors.extend(sub.errors)
    return built


def _load_objective(data: object, path: str, warnings: list[E.OkrError] | None = None
                    ) -> Objective | InvalidObjective:
    try:
        raw = _object(data, "")
    except E.OkrValueError as exc:
        return InvalidObjective(None, [E.OkrError(exc.code, path, exc.message)])
    r = _Reader(raw, path, warnings)
    r.warn_unknown(_OBJECTIVE_KNOWN)
    listed = r.get("key_results", _list, default=[])
    krs = tuple(_load_key_result(kr, f"{path}.key_results[{j}]", r.warnings)
                for j, kr in enumerate(listed))
    fields = {
        "id": r.get("id", _string, required=True),
        "owner": r.get("owner", _string),
        "parent": r.get("parent", _string),
        "weight": r.get("weight", _number, default=1),
        "start": r.get("start", _start_instant),
        "due": r.get("due", _due_instant),
        "mode": r.get("mode", _choice(*MODES), default="auto"),
        "ambition": r.get("ambition", _choice(*AMBITIONS), default="committed"),
        "status": r.get("status", _choice(*MANUAL_STATUSES)),
        "include_children": r.get("include_children", _boolean, default=False),
        "progress_settings": _load_settings(r),
        "name": r.get("name", _text, default=""),
    }
    if not r.errors:
        built: Objective | None = r.build(Objective, key_results=krs, **fields)
        if built is not None:
            return built
    return InvalidObjective(fields["id"], r.errors, owner=fields["owner"],
                            parent=fields["parent"], key_results=krs)


_DOCUMENT_FIELDS: Final = ("okrcore", "as_of", "policy", "objectives")
_OBJECTIVE_FIELDS: Final = (
    "id", "owner", "parent", "weight", "start", "due", "mode", "ambition", "status",
    "include_children", "progress_settings", "name", "key_results")
_KR_COMMON_FIELDS: Final = ("id", "kind", "weight", "owners", "due", "name")
"""The fields each object of a version 1 document may hold (a key result: these and its kind's
``fields``); others are warned of and ignored."""
_OBJECTIVE_KNOWN: Final = frozenset(_OBJECTIVE_FIELDS)
_KR_KNOWN: dict[str, frozenset[str]] = {}
"""The fields a key result of each kind may hold, as a set (made on first use)."""


def _load_policy(data: object) -> Policy:
    if data is None:
        return Policy()
    try:
        raw = _object(data, "policy")
        preset = raw.get("preset", "betterworks")
        overrides: dict[str, Any] = {}
        for key in ("cap", "aspirational_success", "stale_days", "strict_breakpoints",
                    "grade_yellow", "grade_green"):
            if key in raw:
                overrides[key] = raw[key]
        if "pace" in raw:
            pace = _object(raw["pace"], "pace")
            try:
                rule: Any = pace.get("rule")
                yellow: Any = pace.get("yellow")
                red: Any = pace.get("red")
                boundary: Any = pace.get("boundary", "worse")
                strange = sorted(set(pace) - {"rule", "yellow", "red", "boundary"})
                if strange:
                    raise E.OkrValueError(E.UNKNOWN_FIELD_VALUE, strange[0],
                                          f"unknown pace field {strange[0]!r}", strange[0])
                overrides["pace"] = PaceRule(rule, yellow, red, boundary)
            except E.OkrValueError as exc:
                raise E.OkrValueError(exc.code, f"pace.{exc.field}", exc.message,
                                      exc.value) from None
        known = {"preset", "pace", *overrides}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise E.OkrValueError(E.UNKNOWN_FIELD_VALUE, unknown[0],
                                  f"unknown policy field {C.shown(unknown[0])}", unknown[0])
        if not isinstance(preset, str):
            raise E.OkrValueError(E.WRONG_TYPE, "preset",
                                  f"preset must be a name, got {C.shown(preset)}")
        return Policy.from_preset(preset, **overrides)
    except E.OkrValueError as exc:
        field = exc.field if exc.field.startswith("policy") else f"policy.{exc.field}"
        raise E.DocumentError(f"{field}: {exc.message}") from None


def document_from_dict(data: object) -> Document:
    """Build a :class:`~okrcore.model.Document` from a parsed interchange document.

    :meth:`Document.from_dict <okrcore.model.Document.from_dict>` is the public spelling.

    Parameters
    ----------
    data : object
        The parsed JSON (a dict).

    Returns
    -------
    Document
        Bad objectives and key results are kept as ``Invalid*`` items with their errors;
        unknown fields are ignored and listed in ``Document.warnings`` (``unknown_field``).

    Raises
    ------
    DocumentError
        When ``data`` is not a version 1 document: not an object, ``okrcore`` is not 1, or
        ``as_of``, ``policy`` or ``objectives`` is missing or malformed.
    """
    if not isinstance(data, dict):
        raise E.DocumentError("not an okrcore document: the top level must be a JSON object")
    version = data.get("okrcore")
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise E.DocumentError(
            f"not an okrcore v{FORMAT_VERSION} document: field 'okrcore' is {C.shown(version)}")
    if "as_of" not in data:
        raise E.DocumentError("as_of: the instant of evaluation is required")
    try:
        as_of = parse_instant(data["as_of"], "as_of")
    except E.OkrValueError as exc:
        raise E.DocumentError(exc.message) from None
    policy = _load_policy(data.get("policy"))
    listed = data.get("objectives", [])
    if not isinstance(listed, list):
        raise E.DocumentError(f"objectives: must be a list, got {type(listed).__name__}")
    warnings = unknown_fields(data, _DOCUMENT_FIELDS, "")
    objectives = tuple(_load_objective(o, f"objectives[{i}]", warnings)
                       for i, o in enumerate(listed))
    return Document(as_of=as_of, objectives=objectives, policy=policy, warnings=tuple(warnings))


def _parse(text: str | bytes) -> object:
    if not isinstance(text, (str, bytes, bytearray)):
        raise TypeError(f"expected JSON text (str or bytes), got {type(text).__name__}")
    return parse_json(text)


def _read(source: _Source) -> str | bytes:
    if isinstance(source, (str, os.PathLike)):
        if isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
            raise TypeError("expected a path or a file object, not JSON text: use loads() "
                            "(or loads_result()) for text")
        with open(source, "rb") as handle:
            return handle.read()
    read = getattr(source, "read", None)
    if read is None:
        hint = (" (for a parsed dict use Document.from_dict or Evaluation.from_dict)"
                if isinstance(source, Mapping) else "")
        raise TypeError(f"expected a path or a file object, got {type(source).__name__}{hint}")
    text: str | bytes = read()
    return text


def _write(text: str, target: _Target) -> None:
    text += "\n"
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    if getattr(target, "write", None) is None:
        raise TypeError(f"expected a path or a file object to write to, got "
                        f"{type(target).__name__}")
    if isinstance(target, (io.RawIOBase, io.BufferedIOBase)) or "b" in str(
            getattr(target, "mode", "")):
        cast(IO[bytes], target).write(text.encode("utf-8"))
    else:
        cast(IO[str], target).write(text)


def load(source: _Source) -> Document:
    """Read an interchange document from a file: the counterpart of :func:`json.load`.

    Parameters
    ----------
    source : str, os.PathLike or file object
        A path, or a file object opened for reading in text or binary mode.

    Returns
    -------
    Document
        Bad objectives and key results are kept as ``Invalid*`` items with their errors.

    Raises
    ------
    DocumentError
        When the content is not JSON or not a version 1 document (see
        :meth:`Document.from_dict <okrcore.model.Document.from_dict>`).
    OSError
        When the path cannot be read.
    TypeError
        When ``source`` is neither a path nor a file object (a dict: use
        :meth:`Document.from_dict <okrcore.model.Document.from_dict>`).

    Examples
    --------
    >>> import okrcore
    >>> doc = okrcore.loads('{"okrcore": 1, "as_of": "2026-02-15"}')
    >>> doc.as_of.isoformat()
    '2026-02-15T00:00:00+00:00'
    """
    return document_from_dict(_parse(_read(source)))


MAX_DEPTH: Final = 64
"""Nesting deeper than this is cut off by :func:`parse_json` (a v1 document needs 7 levels)."""
TOO_DEEP: Final = f"<nested deeper than {MAX_DEPTH} levels>"
"""What :func:`parse_json` puts in place of a value nested deeper than :data:`MAX_DEPTH`."""
_TOKENS: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_STRINGS: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS: Final = re.compile(r"[^\[\]{}]+")


def _parse_int(digits: str) -> int | C.HugeInteger:
    # Python refuses to convert integers of more than sys.get_int_max_str_digits() digits; such
    # a number is kept as a marker so that only the field holding it is rejected.
    try:
        return int(digits)
    except ValueError:
        return C.HugeInteger(len(digits.lstrip("-")))


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped), in C speed."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if not brackets:
        return 0
    steps = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    opens = (steps == ord("[")) | (steps == ord("{"))
    return int(np.cumsum(np.where(opens, 1, -1)).max())


def _clip(text: str) -> str:
    """Replace every value that opens deeper than :data:`MAX_DEPTH` by the string TOO_DEEP."""
    out: list[str] = []
    depth = 0
    cut_from = -1  # where the value being cut off starts (-1: not cutting)
    kept = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth == MAX_DEPTH + 1 and cut_from < 0:
                cut_from = match.start()
        elif token in "]}":
            depth -= 1
            if depth == MAX_DEPTH and cut_from >= 0:
                out.append(text[kept:cut_from])
                out.append(json.dumps(TOO_DEEP))
                kept = match.end()
                cut_from = -1
    out.append(text[kept:])
    return "".join(out)


def parse_json(text: str | bytes) -> Any:
    """Parse JSON text the way the interchange reader needs, whatever the text holds.

    Unlike :func:`json.loads`, it never raises ``RecursionError`` or fails the whole text for
    one number: a value nested deeper than :data:`MAX_DEPTH` levels (no field of a document
    needs more than 7) is replaced by the string :data:`TOO_DEEP`, so it is only a wrong type
    or an unknown field's value; an integer with too many digits for Python to convert becomes
    a :class:`~okrcore._checks.HugeInteger` marker, which a number field rejects as
    ``not_finite``.

    Raises
    ------
    DocumentError
        When the text is not JSON.
    """
    try:
        if isinstance(text, bytes | bytearray):
            text = text.decode(json.detect_encoding(text), "surrogatepass")
        if _depth(text) > MAX_DEPTH:
            text = _clip(text)
        return json.loads(text, parse_int=_parse_int)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise E.DocumentError(f"not JSON: {exc}") from None


def loads(text: str | bytes) -> Document:
    """Parse an interchange document from JSON text: the counterpart of :func:`json.loads`.

    Raises
    ------
    DocumentError
        When the text is not JSON or not a version 1 document.
    """
    return document_from_dict(_parse(text))


def _dump_key_result(kr: KeyResult) -> dict[str, Any]:
    kind = K.kind_of(kr)
    out: dict[str, Any] = {"id": kr.id, "kind": kr.kind, **kind.dump(kr)}
    if kr.check_ins is not None:
        key = kind.check_in_key(kr)
        out["check_ins"] = [{"at": isoformat(c.at), key: c.value} for c in kr.check_ins]
    out["weight"] = kr.weight
    if kr.owners:
        out["owners"] = list(kr.owners)
    if kr.due is not None:
        out["due"] = isoformat(kr.due)
    if kr.name:
        out["name"] = kr.name
    return out


def _dump_objective(obj: Objective) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": obj.id,
        "owner": obj.owner,
        "parent": obj.parent,
        "weight": obj.weight,
        "start": None if obj.start is None else isoformat(obj.start),
        "due": None if obj.due is None else isoformat(obj.due),
        "mode": obj.mode,
        "ambition": obj.ambition,
        "status": obj.status,
        "include_children": obj.include_children,
        "progress_settings": None,
        "key_results": [],
    }
    s = obj.progress_settings
    if s is not None:
        out["progress_settings"] = {"unit": s.unit, "target": s.target, "auto": s.auto,
                                    "start": s.start}
    for kr in obj.key_results:
        if isinstance(kr, InvalidKeyResult):
            raise ValueError(f"cannot dump invalid key result {kr.id!r}")
        out["key_results"].append(_dump_key_result(kr))
    if obj.name:
        out["name"] = obj.name
    return out


def document_to_dict(document: Document) -> dict[str, Any]:
    """Return a document as a JSON-ready interchange document (version 1): plain dicts and lists.

    :meth:`Document.to_dict <okrcore.model.Document.to_dict>` is the public spelling.
    Instants are written in UTC with a ``Z`` suffix; every policy field is spelled out.
    ``document_from_dict(document_to_dict(d)) == d`` for every valid document.

    Raises
    ------
    ValueError
        When the document holds ``Invalid*`` items (they have no faithful JSON form).
    """
    objectives = []
    for obj in document.objectives:
        if isinstance(obj, InvalidObjective):
            raise ValueError(f"cannot dump invalid objective {obj.id!r}")
        objectives.append(_dump_objective(obj))
    return {
        "okrcore": FORMAT_VERSION,
        "as_of": isoformat(document.as_of),
        "policy": document.policy.to_json(),
        "objectives": objectives,
    }


def dumps(document: Document, indent: int | None = 2) -> str:
    """Return a document as interchange JSON text: the counterpart of :func:`json.dumps`.

    ``loads(dumps(d)) == d`` for every valid document.

    Parameters
    ----------
    document : Document
        Without ``Invalid*`` items.
    indent : int or None
        JSON indentation (default 2; ``None`` for one line).

    Raises
    ------
    ValueError
        When the document holds ``Invalid*`` items (they have no faithful JSON form).
    """
    return json.dumps(document_to_dict(document), indent=indent, allow_nan=False)


def dump(document: Document, target: _Target, indent: int | None = 2) -> None:
    """Write a document as interchange JSON to a file: the counterpart of :func:`json.dump`.

    Parameters
    ----------
    document : Document
        Without ``Invalid*`` items.
    target : str, os.PathLike or file object
        A path (written in UTF-8, replaced if it exists) or a file object opened for writing
        in text or binary mode.
    indent : int or None
        JSON indentation (default 2; ``None`` for one line).  A final newline is written.

    Raises
    ------
    ValueError
        When the document holds ``Invalid*`` items.
    """
    _write(dumps(document, indent), target)


def evaluate_document(data: object) -> dict[str, Any]:
    """Evaluate a parsed interchange document (a dict) and return the result document (a dict).

    Raises
    ------
    DocumentError
        As :meth:`Document.from_dict <okrcore.model.Document.from_dict>`.
    """
    return evaluate(document_from_dict(data)).to_dict()


class _ResultReader:
    """Reads one object of a result document; a missing or mistyped field is a DocumentError."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise E.DocumentError(f"{path or 'result'}: must be an object, got {data!r:.80}")
        self.data = data
        self.path = path

    def get(self, key: str, *types: type) -> Any:
        where = E.join_path(self.path, key)
        if key not in self.data:
            raise E.DocumentError(f"{where}: missing in the result document")
        value = self.data[key]
        if types and not (isinstance(value, types) and (
                bool in types or not isinstance(value, bool))):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise E.DocumentError(f"{where}: must be {names}, got {value!r:.80}")
        return value

    def number(self, key: str, optional: bool = False) -> Any:
        return self.get(key, int, float, *((type(None),) if optional else ()))

    def text(self, key: str, optional: bool = False) -> Any:
        return self.get(key, str, *((type(None),) if optional else ()))

    def objects(self, key: str) -> list[_ResultReader]:
        where = E.join_path(self.path, key)
        return [_ResultReader(v, f"{where}[{i}]") for i, v in enumerate(self.get(key, list))]

    def reader(self, key: str) -> _ResultReader | None:
        value = self.get(key)
        return None if value is None else _ResultReader(value, E.join_path(self.path, key))


def _result_grade(r: _ResultReader | None) -> Grade | None:
    if r is None:
        return None
    return Grade(r.number("score"), r.text("band"), r.get("success", bool))


def _result_forecast(r: _ResultReader | None) -> Forecast | None:
    if r is None:
        return None
    return Forecast(r.number("value", True), r.number("progress"), r.text("colour"))


def _result_explanation(r: _ResultReader) -> Explanation:
    colour = r.reader("colour_rule")
    items = tuple(
        Item(i.text("type"), i.text("id", True), i.number("weight"), i.number("progress", True),
             i.number("share", True), i.number("value", True), i.get("contributes", bool))
        for i in r.objects("items"))
    return Explanation(
        mode=r.text("mode"), rule=r.text("rule"), reason=r.text("reason"), items=items,
        unit=r.text("unit", True), target=r.number("target", True),
        start=r.number("start", True), value=r.number("value", True),
        target_rule=r.text("target_rule", True), expected=r.number("expected", True),
        colour=None if colour is None else ColourSource(
            colour.text("source"), colour.text("reason"), colour.text("rule", True),
            colour.number("threshold", True)))


def _result_key_result(key: str, r: _ResultReader) -> KeyResultResult:
    return KeyResultResult(
        id=key, objective=r.text("objective"), kind=r.text("kind"),
        owners=tuple(r.get("owners", list)), current=r.get("current", int, float, bool),
        raw_progress=r.number("raw_progress"), progress=r.number("progress"),
        expected=r.number("expected", True), colour=r.text("colour", True),
        pace_colour=r.text("pace_colour", True), pace_reason=r.text("pace_reason"),
        range_status=r.text("range_status", True),
        weight=r.number("weight"), contributes=r.get("contributes", bool),
        trend=r.text("trend", True), stale=r.get("stale", bool, type(None)),
        last_check_in=r.text("last_check_in", True),
        forecast=_result_forecast(r.reader("forecast")), grade=_required_grade(r))


def _required_grade(r: _ResultReader) -> Grade:
    grade = _result_grade(r.reader("grade"))
    if grade is None:
        raise E.DocumentError(f"{E.join_path(r.path, 'grade')}: must be an object, got None")
    return grade


def _result_objective(key: str, r: _ResultReader) -> ObjectiveResult:
    explanation = r.reader("explanation")
    if explanation is None:
        raise E.DocumentError(f"{E.join_path(r.path, 'explanation')}: must be an object")
    return ObjectiveResult(
        id=key, owner=r.text("owner", True), parent=r.text("parent", True),
        progress=r.number("progress", True), raw_progress=r.number("raw_progress", True),
        expected=r.number("expected", True), colour=r.text("colour", True),
        computed_colour=r.text("computed_colour", True),
        manual_status=r.text("manual_status", True), mode=r.text("mode"),
        trend=r.text("trend", True), stale=r.get("stale", bool, type(None)),
        forecast=_result_forecast(r.reader("forecast")),
        grade=_result_grade(r.reader("grade")), explanation=_result_explanation(explanation))


def _result_person(key: str, r: _ResultReader) -> PersonResult:
    items = tuple(PersonItem(i.text("type"), i.text("id"), i.number("progress"))
                  for i in r.objects("items"))
    return PersonResult(id=key, progress=r.number("progress", True), items=items)


def evaluation_from_dict(data: object) -> Evaluation:
    """Build an :class:`~okrcore.results.Evaluation` from a parsed result document (a dict).

    :meth:`Evaluation.from_dict <okrcore.results.Evaluation.from_dict>` is the public spelling;
    ``evaluation_from_dict(e.to_dict()) == e`` for every evaluation.

    Raises
    ------
    DocumentError
        When ``data`` is not a version 1 result document; the message names the field.
    """
    top = _ResultReader(data, "")
    version = top.get("okrcore")
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise E.DocumentError(
            f"not an okrcore v{FORMAT_VERSION} result: field 'okrcore' is {version!r}")
    as_of = top.text("as_of")
    parse_instant(as_of, "as_of")
    policy = _load_policy(top.get("policy", dict))

    def section(name: str) -> list[tuple[str, _ResultReader]]:
        return [(k, _ResultReader(v, f"{name}.{k}")) for k, v in top.get(name, dict).items()]

    errors = tuple(E.OkrError(e.text("code"), e.text("path"), e.text("message"))
                   for e in top.objects("errors"))
    warnings = tuple(E.OkrError(w.text("code"), w.text("path"), w.text("message"))
                     for w in top.objects("warnings"))
    return Evaluation(
        as_of=as_of, policy=policy,
        objectives={k: _result_objective(k, r) for k, r in section("objectives")},
        key_results={k: _result_key_result(k, r) for k, r in section("key_results")},
        people={k: _result_person(k, r) for k, r in section("people")},
        errors=errors, warnings=warnings)


def loads_result(text: str | bytes) -> Evaluation:
    """Parse a result document from JSON text (what ``okrcore evaluate`` prints).

    Raises
    ------
    DocumentError
        When the text is not JSON or not a version 1 result document.
    """
    return evaluation_from_dict(_parse(text))


def load_result(source: _Source) -> Evaluation:
    """Read a result document from a path or a text or binary file object.

    Raises
    ------
    DocumentError
        When the content is not JSON or not a version 1 result document.
    OSError
        When the path cannot be read.
    """
    return evaluation_from_dict(_parse(_read(source)))


def dumps_result(evaluation: Evaluation, indent: int | None = 2) -> str:
    """Return an evaluation as result-document JSON text, as ``okrcore evaluate`` prints it."""
    return json.dumps(evaluation.to_dict(), indent=indent, allow_nan=False)


def dump_result(evaluation: Evaluation, target: _Target, indent: int | None = 2) -> None:
    """Write an evaluation as result-document JSON (with a final newline) to a path or file."""
    _write(dumps_result(evaluation, indent), target)


def schema(name: str = "document") -> dict[str, Any]:
    """Return the JSON Schema shipped with the package: ``document`` or ``result`` (v1)."""
    if name not in ("document", "result"):
        raise ValueError(f"schema must be 'document' or 'result', got {name!r}")
    from importlib import resources  # (only here: its import is a cost of every command)

    text = resources.files("okrcore").joinpath(f"schemas/{name}-v1.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


# Document.from_dict / to_dict and Evaluation.from_dict are these functions.  The model and the
# results sit below this module and do not import it (docs/decisions.rst, "Core modules without
# import cycles"); it registers them when it is imported.
_model._DOCUMENT_DICT_FORM.load = document_from_dict
_model._DOCUMENT_DICT_FORM.dump = document_to_dict
_results._EVALUATION_DICT_FORM.load = evaluation_from_dict
