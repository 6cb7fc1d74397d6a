"""The language-neutral JSON vectors: where they are, how to read, check and regenerate them.

One file per area in ``okrcore/conformance/vectors/`` (``okrcore conformance vectors --path``).
Each case has an ``id``, a ``description``, the ``spec`` section it checks, the
``capabilities`` it needs, the interchange ``document`` and the ``expected`` part of the result
(:func:`okrcore.conformance.compare.project`). The expected results were produced by the
reference and are committed as data; the test suite checks the reference still produces them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final

import attrs

from okrcore.conformance.capabilities import CAPABILITIES, SECTIONS
from okrcore.conformance.compare import project

__all__ = [
    "SUITE_VERSION",
    "Vector",
    "lint",
    "load_vectors",
    "schema",
    "vector_files",
    "vectors_path",
]

SUITE_VERSION: Final = "1.0"
"""Version of the suite (vectors and catalogue); vendors pin it beside okrcore's version."""

_EXTRA_SECTIONS: Final = {"7.5"}  # cited by vectors only


@attrs.frozen
class Vector:
    """One vector case, with its full id ``area/id``."""

    area: str
    id: str
    description: str
    spec: str
    capabilities: frozenset[str]
    document: Mapping[str, Any]
    expected: Mapping[str, Any]

    @property
    def full_id(self) -> str:
        """``area/id``, unique across all files."""
        return f"{self.area}/{self.id}"


def vectors_path() -> Path:
    """The directory of the shipped vector files."""
    return Path(str(resources.files("okrcore.conformance").joinpath("vectors")))


def vector_files(directory: Path | None = None) -> list[Path]:
    """The vector files, sorted by name."""
    return sorted((directory or vectors_path()).glob("*.json"))


def schema(name: str) -> dict[str, Any]:
    """Return a JSON Schema of the suite: ``vectors`` or ``protocol`` (version 1)."""
    if name not in ("vectors", "protocol"):
        raise ValueError(f"schema must be 'vectors' or 'protocol', got {name!r}")
    text = resources.files("okrcore.conformance").joinpath(
        f"schemas/{name}-v1.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load_vectors(paths: Sequence[Path] | None = None) -> list[Vector]:
    """Read vector files (default: the shipped ones) into :class:`Vector` values."""
    out = []
    for path in paths or vector_files():
        data = json.loads(path.read_text())
        for case in data["cases"]:
            out.append(Vector(area=data["area"], id=case["id"],
                              description=case["description"], spec=case["spec"],
                              capabilities=frozenset(case["capabilities"]),
                              document=case["document"], expected=case["expected"]))
    return out


def generate(area: str) -> dict[str, Any]:
    """Build the vector file of one area from its cases, with the reference's results."""
    from okrcore.conformance._cases import AREAS, cases
    from okrcore.conformance.implementation import REFERENCE

    description, _builder = AREAS[area]
    return {
        "suite": SUITE_VERSION,
        "area": area,
        "description": description,
        "cases": [{"id": c["id"], "description": c["description"], "spec": c["spec"],
                   "capabilities": c["capabilities"], "document": c["document"],
                   "expected": project(REFERENCE.evaluate(c["document"]))}
                  for c in cases(area)],
    }


def render(data: Mapping[str, Any]) -> str:
    """A vector file as text: one line per case field, stable for diffs."""
    head = {k: v for k, v in data.items() if k != "cases"}
    lines = ["{" + json.dumps(head)[1:-1] + ', "cases": [']
    for index, case in enumerate(data["cases"]):
        fields = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                  for k, v in case.items()]
        lines.append(" {\n" + ",\n".join(fields) + "\n }"
                     + ("," if index < len(data["cases"]) - 1 else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def write_all(directory: Path | None = None) -> list[Path]:
    """Regenerate every vector file from the reference (a maintainer's command)."""
    from okrcore.conformance._cases import AREAS

    target = directory or Path(__file__).parent / "vectors"
    written = []
    for area in AREAS:
        path = target / f"{area}.json"
        path.write_text(render(generate(area)))
        written.append(path)
    return written


def _iter_problems(path: Path, seen: set[str]) -> Iterator[str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        yield f"{path}: not readable JSON: {exc}"
        return
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - exercised without the extra only
        raise ImportError("linting vectors needs jsonschema: "
                          "pip install 'okrcore[conformance]'") from exc
    from okrcore.interchange import schema as document_schema

    validator = jsonschema.Draft202012Validator(schema("vectors"))
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path)
        yield f"{path}: /{where}: {error.message}"
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return
    if path.stem != data.get("area"):
        yield f"{path}: area {data.get('area')!r} does not match the file name"
    documents = jsonschema.Draft202012Validator(document_schema("document"))
    for index, case in enumerate(data["cases"]):
        if not isinstance(case, dict):
            continue
        where = f"{path}: cases[{index}] ({case.get('id')})"
        full = f"{data.get('area')}/{case.get('id')}"
        if full in seen:
            yield f"{where}: duplicate id {full}"
        seen.add(full)
        if case.get("spec") not in SECTIONS and case.get("spec") not in _EXTRA_SECTIONS:
            yield f"{where}: spec section {case.get('spec')!r} is not a section the suite cites"
        unknown = set(case.get("capabilities", [])) - set(CAPABILITIES)
        if unknown:
            yield f"{where}: unknown capabilities {sorted(unknown)}"
        if "metrics" not in case.get("capabilities", []):
            yield f"{where}: capabilities must include 'metrics'"
        if "errors" not in case.get("capabilities", []):
            # Cases of the errors area hold malformed items on purpose.
            for error in documents.iter_errors(case.get("document")):
                yield f"{where}: document: {error.message}"
        modes = {o.get("mode") for o in case.get("expected", {}).get("objectives", {}).values()}
        if "sum" in modes and "rollup_modes" not in case.get("capabilities", []):
            yield f"{where}: the reference sums an objective; the case needs 'rollup_modes'"


def lint(paths: Sequence[Path] | None = None) -> list[str]:
    """Check vector files against their schema and the suite's rules.

    Rules: unique ids, known spec sections and capabilities, a case that the reference sums
    needs ``rollup_modes``, and every document outside the errors area validates against the
    interchange document schema.

    Returns
    -------
    list of str
        One line per problem; empty when every file is clean.
    """
    seen: set[str] = set()
    problems: list[str] = []
    for path in paths or vector_files():
        problems.extend(_iter_problems(path, seen))
    return problems

