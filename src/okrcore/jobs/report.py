"""What a recompute job reports: exit codes, row errors, per-partition, per-instant and run reports.

Shared by the job (:mod:`okrcore.jobs.run`), the dataset partitions
(:mod:`okrcore.jobs.partitions`) and the adapters that run part of a job (a database store, the
Dask executor): they all build these reports, so a summary reads the same whoever computed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs
import numpy as np

from okrcore import errors as E
from okrcore.batch import engine as G
from okrcore.batch.convert import errors_of
from okrcore.batch.engine import BatchResult, evaluate_frame
from okrcore.batch.frame import OrgFrame
from okrcore.evaluate import instant_us, isoformat
from okrcore.policy import Policy

__all__ = [
    "COLOURS",
    "EXIT_FAILED",
    "EXIT_ITEM_ERRORS",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "KINDS",
    "InstantReport",
    "JobError",
    "JobReport",
    "PartitionReport",
    "RowError",
]

EXIT_OK: Final = 0
"""Every instant was computed and written; no row has an error."""
EXIT_ITEM_ERRORS: Final = 1
"""Completed: everything was written, but some rows have errors (listed in the summary)."""
EXIT_USAGE: Final = 2
"""Nothing was done: a wrong command line, or an input that cannot be read."""
EXIT_PARTIAL: Final = 3
"""Partial failure: some instants or partitions were written, others failed; rerun (the job is
idempotent, and ``--incremental`` redoes only what is missing)."""
EXIT_FAILED: Final = 4
"""The input was read but no result could be written (output not writable, cluster gone)."""

KINDS: Final = ("database", "dataset", "document", "workbook")
"""Kinds of sources and sinks."""
COLOURS: Final = ("green", "yellow", "red", "none")
"""Keys of the objective colour counts (``none``: no colour, e.g. null progress or an error)."""

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``; phases ``read``, ``compute``, ``write``, ``people``."""


class JobError(Exception):
    """The job cannot run: a usage problem or an unreadable input (exit :data:`EXIT_USAGE`)."""


@attrs.frozen
class RowError:
    """One row that could not be evaluated (the same shape as ``okrcore_sqlalchemy``'s)."""

    table: str
    """``key_results``, ``objectives``, ``people`` (or ``check_ins``)."""
    key: str
    """The row's id (a person's name for ``people``)."""
    error: E.OkrError
    partition: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{table, key, partition, code, path, message}``."""
        return {"table": self.table, "key": self.key, "partition": self.partition,
                **self.error.to_json()}


@attrs.frozen
class PartitionReport:
    """What one partition did for one instant."""

    key: str
    as_of: datetime
    key_results: int
    objectives: int
    objective_colours: Mapping[str, int]
    errors: tuple[RowError, ...]
    seconds_read: float
    seconds_compute: float
    seconds_write: float
    reused: bool = False
    """True when ``--incremental`` found this partition's results up to date."""

    def to_meta(self, fingerprint: str, policy: Policy) -> dict[str, Any]:
        """The ``_meta.json`` written beside the partition's results."""
        return {"fingerprint": fingerprint, "policy": policy.to_json(),
                "as_of": isoformat(self.as_of), "key_results": self.key_results,
                "objectives": self.objectives, "objective_colours": dict(self.objective_colours),
                "errors": [e.to_json() for e in self.errors]}


@attrs.frozen
class InstantReport:
    """The summary of one as-of instant."""

    as_of: datetime
    key_results: int
    objectives: int
    people: int
    objective_colours: Mapping[str, int]
    errors: tuple[RowError, ...]
    seconds_read: float
    seconds_compute: float
    seconds_write: float
    partitions: int = 1
    reused: int = 0
    skipped_newer: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"as_of": isoformat(self.as_of), "key_results": self.key_results,
                "objectives": self.objectives, "people": self.people,
                "objective_colours": dict(self.objective_colours),
                "errors": [e.to_json() for e in self.errors],
                "seconds": {"read": self.seconds_read, "compute": self.seconds_compute,
                            "write": self.seconds_write},
                "partitions": self.partitions, "reused": self.reused,
                "skipped_newer": self.skipped_newer}


@attrs.frozen
class JobReport:
    """The summary of a whole run (all instants)."""

    source: str
    output: str | None
    engine: str
    policy: Policy
    instants: tuple[InstantReport, ...]
    failures: tuple[str, ...] = ()
    seconds_total: float = 0.0
    partial_outputs: int = 0
    """Partition results written for instants that are not complete (a partial failure)."""

    @property
    def exit_code(self) -> int:
        """The exit code for a scheduler (see ``docs/operating.rst``).

        :data:`EXIT_OK`, :data:`EXIT_ITEM_ERRORS`, :data:`EXIT_PARTIAL` or :data:`EXIT_FAILED`.
        """
        if self.failures:
            return EXIT_PARTIAL if self.instants or self.partial_outputs else EXIT_FAILED
        if any(r.errors for r in self.instants):
            return EXIT_ITEM_ERRORS
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``okrcore recompute --json`` prints)."""
        def total(name: str) -> float:
            return float(sum(getattr(r, name) for r in self.instants))

        return {"source": self.source, "output": self.output, "engine": self.engine,
                "policy": self.policy.to_json(), "exit_code": self.exit_code,
                "instants": [r.to_json() for r in self.instants],
                "failures": list(self.failures),
                "seconds": {"read": total("seconds_read"), "compute": total("seconds_compute"),
                            "write": total("seconds_write"), "total": self.seconds_total}}


def _colour_counts(colour: Any, error: Any) -> dict[str, int]:
    codes = np.where(np.asarray(error) != 0, G.COLOUR_NONE, np.asarray(colour))
    counts = np.bincount(codes.astype(np.int64) + 1, minlength=4)
    return {"none": int(counts[0]), "green": int(counts[1]), "yellow": int(counts[2]),
            "red": int(counts[3])}


def _row_errors(frame: OrgFrame, result: BatchResult, partition: str | None
                ) -> tuple[RowError, ...]:
    """Errors of key result and objective rows (people are finished separately)."""
    if not (np.any(result.kr_error) or np.any(result.obj_error)):
        return ()
    out = []
    loaded: set[int] = set()
    for key, errs in frame.load_errors.items():
        row = int(key[1:])
        table, ids = (("key_results", frame.kr_ids) if key[0] == "k"
                      else ("objectives", frame.obj_ids))
        ident = str(ids[row]) if ids is not None else key
        for err in errs:
            loaded.add(id(err))
            out.append(RowError(table, ident, err, partition))
    for err in errors_of(frame, result):
        if err.path.startswith("people.") or id(err) in loaded:
            continue
        table, ident = _locate(frame, err.path)
        out.append(RowError(table, ident, err, partition))
    return tuple(out)


def _locate(frame: OrgFrame, path: str) -> tuple[str, str]:
    """``objectives[i].key_results[j]...`` to (table, id)."""
    match = re.match(r"objectives\[(\d+)\](?:\.key_results\[(\d+)\])?", path)
    if match is None:
        return "objectives", path
    i = int(match.group(1))
    if match.group(2) is None:
        return "objectives", str(frame.obj_ids[i]) if frame.obj_ids is not None else f"o{i}"
    first = int(np.searchsorted(frame.kr_objective, i))
    row = first + int(match.group(2))
    return "key_results", str(frame.kr_ids[row]) if frame.kr_ids is not None else f"k{row}"


def _evaluate(frame: OrgFrame, moment: datetime, policy: Policy, kernel: str,
              threads: int | None) -> BatchResult:
    return evaluate_frame(frame, instant_us(moment), policy, kernel=kernel, threads=threads)
