"""Run the suite (vectors, then properties) against an implementation and report.

Used by ``okrcore conformance run`` with a harness process; works with any
:class:`~okrcore.conformance.implementation.Implementation`.
Needs the ``conformance`` extra (``pip install 'okrcore[conformance]'``).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import IO, Any, Final, Literal

import attrs

from okrcore.conformance.compare import differences, project
from okrcore.conformance.implementation import Implementation, NotSupportedError
from okrcore.conformance.properties import PROPERTIES, run_property
from okrcore.conformance.vectors import SUITE_VERSION, Vector, load_vectors

__all__ = [
    "STATUSES",
    "Record",
    "markdown_report",
    "run_suite",
    "run_vector",
    "terminal_report",
    "write_jsonl",
]

Status = Literal["passed", "failed", "skipped"]
STATUSES: Final = ("passed", "failed", "skipped")
"""Statuses of a record."""


@attrs.frozen
class Record:
    """The outcome of one vector or one property.

    Attributes
    ----------
    kind : {"vector", "property"}
    id : str
        ``area/id`` of a vector, the name of a property.
    status : {"passed", "failed", "skipped"}
    spec : str
        The spec section(s) it checks.
    group : str
        The vector area or the property's capability group.
    message : str
        Why it failed or was skipped; empty when it passed.
    documents : tuple of dict
        The (minimal) documents of a failure.
    """

    kind: Literal["vector", "property"]
    id: str
    status: Status
    spec: str
    group: str
    message: str = ""
    documents: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record as one JSON object (a line of the JSON lines report)."""
        return {"kind": self.kind, "id": self.id, "status": self.status, "spec": self.spec,
                "group": self.group, "message": self.message,
                "documents": list(self.documents)}


def run_vector(vector: Vector, implementation: Implementation,
               capabilities: Collection[str]) -> Record:
    """Evaluate one vector's document and compare with its expected result."""
    caps = frozenset(capabilities)

    def record(status: Status, message: str = "") -> Record:
        return Record("vector", vector.full_id, status, vector.spec, vector.area, message,
                      (vector.document,) if status == "failed" else ())

    missing = vector.capabilities - caps
    if missing:
        return record("skipped", f"needs capability {', '.join(sorted(missing))}")
    try:
        actual = implementation.evaluate(vector.document)
    except NotSupportedError as exc:
        return record("skipped", f"the implementation skipped it: {exc}")
    except Exception as exc:
        found = [f"evaluate raised {type(exc).__name__}: {exc}"]
    else:
        found = differences(project(vector.expected, caps), actual)
    if not found:
        return record("passed")
    lines = "\n".join(f"  {line}" for line in found)
    return record("failed", f"vector {vector.full_id} failed (spec {vector.spec}): "
                            f"{vector.description}\n{lines}\ndocument:\n"
                            f"{json.dumps(vector.document, indent=1)}")


def _matches(ident: str, patterns: Sequence[str]) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(ident, p) for p in patterns)


def run_suite(implementation: Implementation, *, disabled: Collection[str] = (),
              max_examples: int = 50, derandomize: bool = False, vectors: bool = True,
              properties: bool = True, only: Sequence[str] = (),
              progress: Callable[[Record], None] | None = None) -> list[Record]:
    """Run the vectors, then the properties, against ``implementation``.

    ``disabled`` capabilities are removed from the declared ones; ``only`` keeps the ids that
    match one of the shell-style patterns; ``progress`` is called with every record.
    """
    caps = frozenset(implementation.capabilities) - frozenset(disabled)
    records: list[Record] = []

    def add(record: Record) -> None:
        records.append(record)
        if progress is not None:
            progress(record)

    if vectors:
        for vector in load_vectors():
            if _matches(vector.full_id, only):
                add(run_vector(vector, implementation, caps))
    if properties:
        for prop in PROPERTIES:
            if not _matches(prop.name, only):
                continue
            outcome = run_property(prop, implementation.evaluate, caps, max_examples,
                                   derandomize)
            add(Record("property", prop.name, outcome.status, ", ".join(prop.sections),
                       prop.group, outcome.message, outcome.documents))
    return records


def _counts(records: Sequence[Record]) -> dict[str, int]:
    return {s: sum(r.status == s for r in records) for s in STATUSES}


def terminal_report(records: Sequence[Record], implementation: Implementation,
                    out: IO[str]) -> None:
    """A table of every vector and property, the failure messages, and a summary line."""
    width = max((len(r.id) for r in records), default=10)
    out.write(f"okrcore conformance suite {SUITE_VERSION}: {implementation.name} "
              f"{implementation.version}\ncapabilities: "
              f"{', '.join(sorted(implementation.capabilities))}\n\n")
    out.write(f"{'status':8} {'kind':8} {'id':{width}} spec\n")
    out.write(f"{'-' * 8} {'-' * 8} {'-' * width} {'-' * 12}\n")
    for r in records:
        out.write(f"{r.status:8} {r.kind:8} {r.id:{width}} {r.spec}\n")
    failed = [r for r in records if r.status == "failed"]
    if failed:
        out.write("\nFAILURES\n")
        for r in failed:
            out.write(f"\n{r.message}\n")
    counts = _counts(records)
    out.write(f"\n{counts['passed']} passed, {counts['failed']} failed, "
              f"{counts['skipped']} skipped\n")


def markdown_report(records: Sequence[Record], implementation: Implementation) -> str:
    """A Markdown summary for CI: counts by group, then every failure in a details block."""
    counts = _counts(records)
    verdict = "FAILED" if counts["failed"] else "passed"
    lines = [f"## okrcore conformance: {implementation.name} {implementation.version} "
             f"{verdict}", "",
             f"Suite {SUITE_VERSION}; capabilities: "
             f"{', '.join(sorted(implementation.capabilities))}.", "",
             "| group | passed | failed | skipped |", "|---|---:|---:|---:|"]
    groups = sorted({r.group for r in records})
    for group in groups:
        c = _counts([r for r in records if r.group == group])
        lines.append(f"| {group} | {c['passed']} | {c['failed']} | {c['skipped']} |")
    lines.append(f"| **total** | **{counts['passed']}** | **{counts['failed']}** | "
                 f"**{counts['skipped']}** |")
    for r in records:
        if r.status == "failed":
            lines += ["", f"<details><summary>{r.kind} <code>{r.id}</code> (spec {r.spec})"
                          f"</summary>", "", "```", r.message, "```", "", "</details>"]
    return "\n".join(lines) + "\n"


def write_jsonl(records: Sequence[Record], out: IO[str]) -> None:
    """One JSON object per record and line (:meth:`Record.to_json`)."""
    for r in records:
        out.write(json.dumps(r.to_json(), allow_nan=False) + "\n")
