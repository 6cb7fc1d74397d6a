"""``okrcore conformance``: run the suite through a harness, serve the reference, vectors.

Subcommands: ``run --harness COMMAND``, ``harness``, ``vectors [--path]``, ``lint [FILE...]``
and ``schema {vectors,protocol}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

__all__ = ["EXIT_FAILED", "EXIT_HARNESS", "EXIT_OK", "main"]

EXIT_OK: Final = 0
"""Everything that ran passed (or the command succeeded)."""
EXIT_FAILED: Final = 1
"""At least one vector or property failed, or a lint found a problem."""
EXIT_HARNESS: Final = 2
"""The harness could not be started or broke the protocol, or the command line is wrong."""


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _cmd_run(args: argparse.Namespace) -> int:
    from okrcore.conformance.capabilities import CAPABILITIES
    from okrcore.conformance.implementation import Implementation, load_implementation
    from okrcore.conformance.protocol import HarnessError, HarnessProcess
    from okrcore.conformance.runner import (
        Record,
        markdown_report,
        run_suite,
        terminal_report,
        write_jsonl,
    )

    disabled = _split(args.disable)
    unknown = sorted(set(disabled) - set(CAPABILITIES))
    if unknown:
        print(f"okrcore conformance: unknown capability {unknown[0]!r}", file=sys.stderr)
        return EXIT_HARNESS
    process: HarnessProcess | None = None
    implementation: Implementation
    try:
        if args.harness:
            process = HarnessProcess(args.harness)
            implementation = process
        else:
            implementation = load_implementation(args.impl)
    except (HarnessError, ValueError, ImportError) as exc:
        print(f"okrcore conformance: {exc}", file=sys.stderr)
        return EXIT_HARNESS

    def show(record: Record) -> None:
        if args.progress:
            print(f"{record.status:8} {record.id}", file=sys.stderr, flush=True)

    try:
        records = run_suite(implementation, disabled=disabled, max_examples=args.max_examples,
                            derandomize=args.derandomize, vectors=not args.properties_only,
                            properties=not args.vectors_only, only=_split(args.only),
                            progress=show)
    except HarnessError as exc:
        print(f"okrcore conformance: harness {args.harness!r}: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    finally:
        if process is not None:
            process.close()
    terminal_report(records, implementation, sys.stdout)
    if args.markdown:
        Path(args.markdown).write_text(markdown_report(records, implementation))
    if args.jsonl:
        with open(args.jsonl, "w") as handle:
            write_jsonl(records, handle)
    return EXIT_FAILED if any(r.status == "failed" for r in records) else EXIT_OK


def _cmd_harness(args: argparse.Namespace) -> int:
    from okrcore.conformance.implementation import REFERENCE, load_implementation
    from okrcore.conformance.protocol import serve

    try:
        implementation = load_implementation(args.impl) if args.impl else REFERENCE
    except (ValueError, ImportError) as exc:
        print(f"okrcore conformance harness: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    return serve(implementation)


def _cmd_vectors(args: argparse.Namespace) -> int:
    from okrcore.conformance.vectors import load_vectors, vector_files, vectors_path

    if args.path:
        print(vectors_path())
        return EXIT_OK
    for path in vector_files():
        data = json.loads(path.read_text())
        print(f"{path.name:20} {len(data['cases']):3} cases  {data['description']}")
    print(f"{len(load_vectors())} cases in {vectors_path()}")
    return EXIT_OK


def _cmd_lint(args: argparse.Namespace) -> int:
    from okrcore.conformance.vectors import lint, vector_files

    paths = [Path(p) for p in args.files] or vector_files()
    problems = lint(paths)
    for line in problems:
        print(line)
    print(f"{len(paths)} file(s), {len(problems)} problem(s)", file=sys.stderr)
    return EXIT_FAILED if problems else EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from okrcore.conformance.vectors import schema

    json.dump(schema(args.name), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="okrcore conformance",
        description="The vendor conformance suite: check an OKR implementation against the "
                    "okrcore specification.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the vectors and the properties through a harness")
    target = run.add_mutually_exclusive_group(required=True)
    target.add_argument("--harness", metavar="COMMAND",
                        help="command that starts a harness speaking the protocol")
    target.add_argument("--impl", metavar="MODULE:ATTR",
                        help="a Python implementation, in process, instead of a harness")
    run.add_argument("--max-examples", type=int, default=50,
                     help="hypothesis examples per property (default 50)")
    run.add_argument("--derandomize", action="store_true",
                     help="draw the same examples on every run")
    run.add_argument("--disable", metavar="CAP[,CAP...]",
                     help="capabilities to leave out although declared")
    run.add_argument("--only", metavar="PATTERN[,PATTERN...]",
                     help="run only the vectors (area/id) and properties matching a pattern")
    run.add_argument("--vectors-only", action="store_true", help="skip the properties")
    run.add_argument("--properties-only", action="store_true", help="skip the vectors")
    run.add_argument("--markdown", metavar="FILE", help="also write a Markdown summary")
    run.add_argument("--jsonl", metavar="FILE", help="also write one JSON record per line")
    run.add_argument("--progress", action="store_true",
                     help="print each outcome to standard error as it comes")
    run.set_defaults(run=_cmd_run)

    harness = sub.add_parser("harness",
                             help="serve the reference (or --impl) as a protocol harness")
    harness.add_argument("--impl", metavar="MODULE:ATTR",
                         help="serve this Python implementation instead of the reference")
    harness.set_defaults(run=_cmd_harness)

    vectors = sub.add_parser("vectors", help="list the shipped JSON vector files")
    vectors.add_argument("--path", action="store_true", help="print their directory only")
    vectors.set_defaults(run=_cmd_vectors)

    lint = sub.add_parser("lint", help="check vector files against their schema and rules")
    lint.add_argument("files", nargs="*", help="vector files (default: the shipped ones)")
    lint.set_defaults(run=_cmd_lint)

    schema = sub.add_parser("schema", help="print the JSON Schema of the vectors or protocol")
    schema.add_argument("name", choices=("vectors", "protocol"))
    schema.set_defaults(run=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``okrcore conformance``; return the exit status."""
    args = _parser().parse_args(argv)
    status: int = args.run(args)
    return status
