"""What the suite compares: the projection of a result document, and its differences."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Any, Final

__all__ = [
    "KEY_RESULT_FIELDS",
    "OBJECTIVE_FIELDS",
    "PERSON_FIELDS",
    "TOLERANCE",
    "differences",
    "project",
    "same_number",
]

OBJECTIVE_FIELDS: Final = ("progress", "raw_progress", "expected", "colour", "computed_colour",
                           "mode")
"""Fields of each objective result that the suite compares."""
KEY_RESULT_FIELDS: Final = ("progress", "raw_progress", "colour", "current")
"""Fields of each key result result that the suite compares."""
PERSON_FIELDS: Final = ("progress",)
"""Fields of each person result that the suite compares."""
TOLERANCE: Final = 1e-9
"""Relative tolerance of number comparisons (absolute for magnitudes below 1)."""


def same_number(a: float, b: float) -> bool:
    r"""Whether two numbers agree within :data:`TOLERANCE`.

    Notes
    -----
    :math:`|a - b| \le 10^{-9} \max(|a|, |b|, 1)`.
    """
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def project(result: Mapping[str, Any], capabilities: Collection[str] | None = None
            ) -> dict[str, Any]:
    """Return the part of a result document the suite compares.

    ``people`` is kept only with the ``people`` capability, ``errors`` (code and path, sorted)
    only with ``errors``, ``warnings`` (likewise) only with ``warnings``; ``None`` keeps all.
    """
    out: dict[str, Any] = {
        "objectives": {key: {f: value.get(f) for f in OBJECTIVE_FIELDS}
                       for key, value in result.get("objectives", {}).items()},
        "key_results": {key: {f: value.get(f) for f in KEY_RESULT_FIELDS}
                        for key, value in result.get("key_results", {}).items()},
    }
    if capabilities is None or "people" in capabilities:
        out["people"] = {key: {f: value.get(f) for f in PERSON_FIELDS}
                         for key, value in result.get("people", {}).items()}
    if capabilities is None or "errors" in capabilities:
        out["errors"] = sorted(({"code": e.get("code"), "path": e.get("path")}
                                for e in result.get("errors", [])),
                               key=lambda e: (str(e["path"]), str(e["code"])))
    if capabilities is None or "warnings" in capabilities:
        out["warnings"] = sorted(({"code": w.get("code"), "path": w.get("path")}
                                  for w in result.get("warnings", [])),
                                 key=lambda w: (str(w["path"]), str(w["code"])))
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return same_number(float(a), float(b))
    return a == b


def differences(expected: Mapping[str, Any], actual: Mapping[str, Any],
                limit: int = 5) -> list[str]:
    """Compare a projection (:func:`project`) with a result document.

    Returns
    -------
    list of str
        One line per difference, at most ``limit``, like
        ``key_results.k.progress: expected 0.6, got 0.59``; empty when they agree.
    """
    found: list[str] = []
    for section in ("objectives", "key_results", "people"):
        if section not in expected:
            continue
        want: Mapping[str, Any] = expected[section]
        got = actual.get(section)
        if not isinstance(got, Mapping):
            found.append(f"{section}: expected an object, got {json.dumps(got)}")
            continue
        for key, fields in want.items():
            item = got.get(key)
            if not isinstance(item, Mapping):
                found.append(f"{section}.{key}: missing from the result")
                continue
            for field, value in fields.items():
                if not _same(value, item.get(field)):
                    found.append(f"{section}.{key}.{field}: expected {json.dumps(value)}, "
                                 f"got {json.dumps(item.get(field))}")
        found.extend(f"{section}.{key}: not expected in the result (the reference has no such "
                     f"item)" for key in got if key not in want)
    for listed in ("errors", "warnings"):
        if listed not in expected:
            continue
        want_errors = {(e["code"], e["path"]) for e in expected[listed]}
        got_list = actual.get(listed, [])
        got_errors = {(e.get("code"), e.get("path")) for e in
                      (got_list if isinstance(got_list, list) else [])
                      if isinstance(e, Mapping)}
        found.extend(f"{listed}: expected {code} at {path}, not reported"
                     for code, path in sorted(want_errors - got_errors))
        found.extend(f"{listed}: reported {code} at {path}, not expected"
                     for code, path in sorted(got_errors - want_errors, key=str))
    return found[:limit]
