"""``okrcore recompute``: the command line of the recompute job (parser, progress, summary)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TextIO

from okrcore import errors as E
from okrcore.evaluate import isoformat
from okrcore.interchange import document_from_dict
from okrcore.jobs import adapters
from okrcore.jobs._text import one_line
from okrcore.jobs.asof import parse_as_of
from okrcore.jobs.run import EXIT_FAILED, EXIT_USAGE, JobError, JobReport, kind_of, recompute
from okrcore.policy import PRESETS, Policy
from okrcore.sample import DEFAULT_AS_OF

__all__ = ["SHOWN_ERRORS", "add_parser", "generate_sample", "make_progress", "render_summary",
           "run"]

SHOWN_ERRORS: Final = 20
"""Row errors listed in the text summary (``--json`` lists them all)."""

_PHASES: Final = {"generate": "generating", "read": "reading", "compute": "computing",
                  "write": "writing", "people": "people"}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``recompute`` subcommand to an ``argparse`` subparsers object."""
    rc = sub.add_parser(
        "recompute", help="recompute a document, workbook, Parquet dataset or database",
        description="Recompute every key result, objective and person at one or more as-of "
        "instants. Exit codes: 0 ok, 1 completed with row errors, 2 usage or unreadable input, "
        "3 partial failure, 4 nothing could be written (docs: operating guide).")
    rc.add_argument("source", help="interchange document (.json, - for stdin), workbook "
                    "(.xlsx/.ods), Parquet dataset directory, or database URL")
    rc.add_argument("-o", "--output", default=None,
                    help="where results go: a result directory (Parquet), a .json result "
                    "document or a workbook (use {as_of} in the name for a series); default: "
                    "a database stores into itself, other inputs only report")
    rc.add_argument("--as-of", default=None,
                    help="instant(s): ISO 8601 instant or date, 'now', a comma list, or a "
                    "series START/END/STEP such as 2026-01-05/2026-03-30/P7D (default: the "
                    "source's own as_of, as 'okrcore evaluate' uses; now for a database)")
    pol = rc.add_mutually_exclusive_group()
    pol.add_argument("--policy", default=None, metavar="FILE",
                     help="policy as the JSON object of a document's 'policy' field")
    pol.add_argument("--preset", default=None, choices=sorted(PRESETS),
                     help="a named policy preset")
    rc.add_argument("--incremental", action="store_true",
                    help="datasets: skip partitions whose inputs and policy are unchanged since "
                    "their stored results; databases: only what changed (adapter)")
    rc.add_argument("--engine", choices=("local", "dask"), default="local",
                    help="local (default) or dask (Parquet datasets; okrcore[dask])")
    rc.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="Dask scheduler address (default: a local cluster)")
    rc.add_argument("--workers", type=int, default=2,
                    help="processes of the local Dask cluster (default 2)")
    rc.add_argument("--kernel", choices=("numpy", "numba"), default="numpy",
                    help="batch kernel (numba needs okrcore[fast])")
    rc.add_argument("--threads", type=int, default=None, metavar="N",
                    help="threads of each evaluation (default: every CPU this process may "
                    "use; with --engine dask, 1 per task)")
    rc.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                    help="progress bar on stderr (auto: when stderr is a terminal; needs "
                    "okrcore[progress] for a bar)")
    rc.add_argument("--generate-sample", type=int, default=None, metavar="N",
                    help="first write a sample organisation of about N key results (copies of "
                    "the demo company) into SOURCE, a dataset directory or a database URL; "
                    "--as-of then defaults to the sample's mid-quarter instant")
    rc.add_argument("--json", action="store_true",
                    help="print the report as JSON on stdout instead of the text summary")
    rc.set_defaults(run=run)
    return rc  # type: ignore[no-any-return]


def generate_sample(target: str, key_results: int,
                    progress: Callable[[str, int, int], None] | None = None) -> None:
    """Write the sample organisation (:mod:`okrcore.jobs.sample`) into a dataset or database.

    Raises
    ------
    JobError
        For a target that is neither a directory path nor a database URL, or a missing extra.
    """
    from okrcore.jobs.sample import copies_for, sample_document, sample_frames

    if key_results < 1:
        raise JobError("--generate-sample needs a positive number of key results")
    kind = kind_of(target, output=True)
    if progress:
        progress("generate", 0, 1)
    if kind == "dataset":
        from okrcore.jobs.parquet import write_dataset

        try:
            write_dataset(target, sample_frames(key_results, tenants=max(
                1, min(8, copies_for(key_results) // 64))), as_of=DEFAULT_AS_OF)
        except ImportError as exc:
            raise JobError(str(exc)) from None
    elif kind == "database":
        store: adapters.Store = adapters.sink("database")
        try:
            with store.open(target) as session:
                session.store(sample_document(key_results))
        except (adapters.SourceReadError, adapters.StoreRefusedError,
                adapters.SinkWriteError) as exc:
            raise JobError(str(exc)) from None
    else:
        raise JobError(f"{target}: --generate-sample writes a dataset directory or a database")
    if progress:
        progress("generate", 1, 1)


def _policy(args: argparse.Namespace) -> Policy | None:
    if args.preset:
        return Policy.from_preset(args.preset)
    if args.policy:
        try:
            data = json.loads(Path(args.policy).read_text(encoding="utf-8"))
        except OSError as exc:
            raise JobError(f"cannot read {args.policy}: {exc.strerror}") from None
        except ValueError as exc:
            raise JobError(f"{args.policy}: not JSON ({exc})") from None
        try:
            return document_from_dict({"okrcore": 1, "as_of": "1970-01-01T00:00:00Z",
                                       "policy": data, "objectives": []}).policy
        except E.DocumentError as exc:
            raise JobError(f"{args.policy}: {exc}") from None
    return None


def make_progress(mode: str, stream: TextIO | None = None
                  ) -> tuple[Callable[[str, int, int], None] | None, Callable[[], None]]:
    """A ``progress(phase, done, total)`` callback and a ``close()``.

    rich when installed, else tqdm, else none (a bar is an extra: ``okrcore[progress]``).
    ``mode`` ``auto`` shows it only when the stream is a terminal.
    """
    stream = stream or sys.stderr
    if mode == "never" or (mode == "auto" and not stream.isatty()):
        return None, lambda: None
    try:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        rich_ok = False
    else:
        rich_ok = True
    if rich_ok:
        bar = Progress(TextColumn("{task.description:<10}"), BarColumn(),
                       TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                       console=Console(file=stream, force_terminal=mode == "always" or None),
                       transient=False)
        tasks: dict[str, Any] = {}
        bar.start()

        def rich_update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(_PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        return rich_update, bar.stop
    try:
        from tqdm import tqdm
    except ImportError:
        return None, lambda: None
    bars: dict[str, Any] = {}

    def tqdm_update(phase: str, done: int, total: int) -> None:
        if phase not in bars:
            bars[phase] = tqdm(total=total, desc=_PHASES.get(phase, phase), file=stream)
        bars[phase].total = total
        bars[phase].n = done
        bars[phase].refresh()

    def tqdm_close() -> None:
        for b in bars.values():
            b.close()

    return tqdm_update, tqdm_close


def render_summary(report: JobReport, out: TextIO) -> None:
    """The human summary: per instant the counts, colours, errors and the time split."""
    w = out.write
    where = report.output or ("(stored in the database)" if kind_of(report.source) == "database"
                              else "(no output)")
    w(f"okrcore recompute: {one_line(report.source)} -> {one_line(where)} "
      f"[{report.engine}, preset {report.policy.preset}]\n")
    for r in report.instants:
        c = r.objective_colours
        extra = f", {r.reused}/{r.partitions} partitions reused" if r.reused else ""
        extra += f", {r.skipped_newer} skipped (newer input)" if r.skipped_newer else ""
        w(f"  as of {isoformat(r.as_of)}: {r.key_results} key results, {r.objectives} "
          f"objectives (green {c.get('green', 0)}, yellow {c.get('yellow', 0)}, "
          f"red {c.get('red', 0)}, none {c.get('none', 0)}), {r.people} people, "
          f"{len(r.errors)} errors{extra}\n")
        w(f"    time: read {r.seconds_read:.2f} s, compute {r.seconds_compute:.2f} s, "
          f"write {r.seconds_write:.2f} s\n")
    errors = [e for r in report.instants for e in r.errors]
    if errors:
        w(f"  errors ({len(errors)}; first {min(len(errors), SHOWN_ERRORS)}):\n")
        for e in errors[:SHOWN_ERRORS]:
            where = f" [{one_line(e.partition)}]" if e.partition else ""
            w(f"    {e.table} {one_line(e.key)}{where}: {e.error.code}: "
              f"{one_line(e.error.message)}\n")
    for failure in report.failures:
        w(f"  FAILED: {one_line(failure)}\n")
    w(f"  total {report.seconds_total:.2f} s; exit {report.exit_code}\n")


def run(args: argparse.Namespace) -> int:
    """Run ``okrcore recompute`` from parsed arguments; return the exit code."""
    progress, close = make_progress("never" if args.json and args.progress == "auto"
                                    else args.progress)
    try:
        as_of = args.as_of
        if args.generate_sample is not None:
            generate_sample(args.source, args.generate_sample, progress)
            as_of = as_of or isoformat(DEFAULT_AS_OF)
        # no --as-of: the source's own as_of (recompute decides, as for the policy)
        instants = None if as_of is None else parse_as_of(as_of)
        report = recompute(args.source, output=args.output, instants=instants,
                           policy=_policy(args), incremental=args.incremental,
                           engine=args.engine, scheduler=args.scheduler, workers=args.workers,
                           kernel=args.kernel, progress=progress, threads=args.threads)
    except E.OkrValueError as exc:
        close()
        print(f"okrcore recompute: --as-of: {one_line(exc.message)}", file=sys.stderr)
        return EXIT_USAGE
    except JobError as exc:
        close()
        print(f"okrcore recompute: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    close()
    try:
        if args.json:
            json.dump(report.to_json(), sys.stdout, indent=2, allow_nan=False)
            sys.stdout.write("\n")
        else:
            render_summary(report, sys.stdout)
        sys.stdout.flush()
    except OSError as exc:  # a full device, a closed pipe: one line, not a traceback
        _drop_stdout()
        print("okrcore recompute: cannot write the report to standard output: "
              f"{one_line(exc.strerror or exc)}", file=sys.stderr)
        return EXIT_FAILED
    return report.exit_code


def _drop_stdout() -> None:
    """Point standard output at the null device.

    What is still buffered for it is then not flushed again (with an error) when the
    interpreter exits.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a captured stream)
        pass
