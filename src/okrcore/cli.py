"""The ``okrcore`` command line: ``evaluate``, ``explain``, ``demo``, ``schema``, ``recompute``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from okrcore import __version__
from okrcore._auto import AUTO_BATCH_FROM, engine_for, gc_paused
from okrcore._json_columns import read_columns
from okrcore.codes import ERR_FIELD_NOT_FINITE
from okrcore.errors import DocumentError, OkrError
from okrcore.evaluate import evaluate
from okrcore.interchange import loads, schema
from okrcore.model import Document
from okrcore.results import Evaluation

if TYPE_CHECKING:
    from okrcore.batch import BatchResult, OrgFrame

__all__ = ["ENGINES", "EXIT_DOCUMENT_ERROR", "EXIT_OK", "EXIT_STRICT", "FORMATS", "main"]

ENGINES: Final = ("auto", "scalar", "batch")
"""Engines ``okrcore evaluate --engine`` accepts (``auto``, the default, picks by size)."""
FORMATS: Final = ("json", "tree")
"""Output formats of ``okrcore evaluate --format``: the result document, or the drawn tree."""
EXIT_OK: Final = 0
"""The document was evaluated (item errors, if any, are in the result's ``errors``)."""
EXIT_STRICT: Final = 1
"""``okrcore evaluate --strict``: the result has an error or a warning (SEMANTICS §11.3)."""
EXIT_DOCUMENT_ERROR: Final = 2
"""The input is not a readable version 1 document (or the command line is wrong)."""


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def _text(path: str) -> bytes | None:
    """Read a document's text; ``None`` after one line on standard error."""
    try:
        return _read(path)
    except OSError as exc:
        print(f"okrcore: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


def _document(path: str, text: bytes | None = None) -> Document | None:
    """Read (unless given its text) and parse a document; ``None`` after one line on stderr."""
    if text is None:
        text = _text(path)
        if text is None:
            return None
    try:
        return loads(text)
    except DocumentError as exc:
        print(f"okrcore: {path}: {exc}", file=sys.stderr)
        return None


def _fast_result(text: bytes, engine: str, indent: int | None, strict: bool
                 ) -> tuple[str, int] | None:
    """The result document of a common document read into columns, and its number of errors.

    (The errors are counted only when ``strict``.)  ``None`` when the usual path must run.

    :func:`okrcore._json_columns.read_columns` reads the document when it is one the loader
    reads without an error or a warning, into the frame ``OrgFrame.from_document`` builds;
    the batch engine evaluates it, checking every row's fields again, and
    :func:`okrcore.batch.result_json` writes the text: the bytes the usual path prints, its
    errors (rollups, parents, timelines) worded by the same functions.  Anything else (a small
    document on ``auto``, a row whose fields the engine refuses) is ``None``: the usual path
    reads the document again and words everything.
    """
    if engine == "scalar":
        return None
    fast = read_columns(text)
    if fast is None or (engine == "auto" and fast.items < AUTO_BATCH_FROM):
        return None
    from okrcore.batch import OrgFrame, evaluate_frame

    frame = OrgFrame.from_columns(**fast.columns)
    result = evaluate_frame(frame, fast.as_of_us, fast.policy)
    if (result.kr_error >= ERR_FIELD_NOT_FINITE).any() or (
            result.obj_error >= ERR_FIELD_NOT_FINITE).any():
        return None  # the loader words a bad field (never expected here: the reader checks)
    return _batch_text(frame, result, (), indent, strict)


def _batch_text(frame: OrgFrame, result: BatchResult, warnings: Sequence[OkrError],
                indent: int | None, count_errors: bool) -> tuple[str, int]:
    """The result document of batch columns, and its number of errors (when asked for)."""
    from okrcore.batch import result_json
    from okrcore.batch.convert import errors_of

    text = result_json(frame, result, warnings, indent)
    return text, len(errors_of(frame, result)) if count_errors else 0


def _evaluation(document: Document, engine: str) -> Evaluation:
    if engine_for(document, engine) == "batch":
        from okrcore.batch import evaluate_batch

        return evaluate_batch(document)
    return evaluate(document)


def _result_document(document: Document, engine: str, indent: int | None,
                     count_errors: bool) -> tuple[str, int]:
    """The result document as JSON text, and its number of errors (when asked for).

    The batch engine writes the text straight from its result columns
    (:func:`okrcore.batch.result_json`); the scalar path dumps its evaluation.  Both give the
    same bytes.
    """
    if engine_for(document, engine) == "batch":
        from okrcore.batch import OrgFrame, evaluate_frame
        from okrcore.evaluate import instant_us

        frame = OrgFrame.from_document(document)
        result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
        return _batch_text(frame, result, document.warnings, indent, count_errors)
    evaluation = evaluate(document)
    return (json.dumps(evaluation.to_json(), indent=indent, allow_nan=False),
            len(evaluation.errors))


def _colour_on(choice: str) -> bool:
    return choice == "always" or (choice == "auto" and sys.stdout.isatty())


def _cmd_evaluate(args: argparse.Namespace) -> int:
    # The command builds a document's objects once and exits: the cyclic collector would only
    # rescan them again and again (docs/decisions.rst, single documents D3).
    with gc_paused():
        return _evaluate_command(args)


def _evaluate_command(args: argparse.Namespace) -> int:
    source = _text(args.file)
    if source is None:
        return EXIT_DOCUMENT_ERROR
    fast = None
    if args.format == "json":
        fast = _fast_result(source, args.engine, args.indent or None, args.strict)
    if fast is not None:  # (a document the fast reader reads has no warning)
        text, errors = fast
        sys.stdout.write(text)  # (not text + "\n": a copy of the whole text)
        sys.stdout.write("\n")
        warnings = 0
    elif (document := _document(args.file, source)) is None:
        return EXIT_DOCUMENT_ERROR
    elif args.format == "tree":
        from okrcore.render import render

        evaluation = _evaluation(document, args.engine)
        sys.stdout.write(render(document, evaluation, _colour_on(args.colour)) + "\n")
        errors, warnings = len(evaluation.errors), len(evaluation.warnings)
    else:
        # One write of the whole text (json.dump writes every token on its own).
        text, errors = _result_document(document, args.engine, args.indent or None,
                                         args.strict)
        sys.stdout.write(text + "\n")
        warnings = len(document.warnings)
    if args.strict and (errors or warnings):
        print(f"okrcore: {args.file}: --strict: {errors} error{'s' * (errors != 1)} and "
              f"{warnings} warning{'s' * (warnings != 1)}", file=sys.stderr)
        return EXIT_STRICT
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from okrcore.errors import UnknownItemError
    from okrcore.explain import explain, explain_all

    document = _document(args.file)
    if document is None:
        return EXIT_DOCUMENT_ERROR
    evaluation = _evaluation(document, args.engine)
    if args.id is None:
        text = explain_all(evaluation)
    else:
        try:
            text = explain(evaluation, args.id, args.kind)
        except UnknownItemError as exc:
            print(f"okrcore explain: {args.file}: {exc}", file=sys.stderr)
            return EXIT_DOCUMENT_ERROR
    sys.stdout.write(text + "\n" if text else "")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from okrcore.demo import run_demo

    status: int = run_demo(
        seed=args.seed, as_of=args.as_of, colour=args.colour, output=args.output,
        database=args.database,
    )
    return status


def _cmd_schema(args: argparse.Namespace) -> int:
    json.dump(schema(args.name), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def _cmd_conformance(args: argparse.Namespace) -> int:
    # The vendor conformance suite has its own command line (okrcore.conformance.cli).
    from okrcore.conformance.cli import main as conformance_main

    return conformance_main(["--help"] * args.help + args.arguments)


def _parser(recompute: bool = True) -> argparse.ArgumentParser:
    """The command line's parser (without ``recompute`` when not asked: see :func:`main`)."""
    parser = argparse.ArgumentParser(
        prog="okrcore", description="Evaluate OKR progress, pace and rollups.")
    parser.add_argument("--version", action="version", version=f"okrcore {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="let an unexpected error through with its traceback (by default "
                        "it is one line on standard error and exit status 2)")
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="evaluate an interchange document and print the result")
    ev.add_argument("file", help="the document (JSON), or - for standard input")
    ev.add_argument("--engine", choices=ENGINES, default="auto",
                    help="evaluation engine: auto (default: scalar for a small document, "
                    "batch from okrcore.batch.AUTO_BATCH_FROM items), scalar (the reference) "
                    "or batch (vectorised); all print the same result")
    ev.add_argument("--indent", type=int, default=2,
                    help="JSON indentation (default 2; 0 for compact output)")
    ev.add_argument("--format", choices=FORMATS, default="json",
                    help="json: the result document (default); tree: the alignment tree, key "
                    "results, people and a summary, drawn as okrcore demo draws its sample")
    ev.add_argument("--colour", choices=("auto", "always", "never"), default="auto",
                    help="ANSI colours in --format tree (default auto: when a terminal)")
    ev.add_argument("--strict", action="store_true",
                    help="exit 1 when the result has any error or warning (the result is "
                    "printed all the same)")
    ev.set_defaults(run=_cmd_evaluate)

    ex = sub.add_parser("explain", help="say in plain language how each result was computed")
    ex.add_argument("file", help="the document (JSON), or - for standard input")
    ex.add_argument("id", nargs="?", default=None,
                    help="an objective or key result id (default: every item, objectives "
                    "followed by their key results)")
    ex.add_argument("--kind", choices=("objective", "key_result"), default=None,
                    help="which item to explain when an objective and a key result share the "
                    "id (default: both)")
    ex.add_argument("--engine", choices=ENGINES, default="auto",
                    help="evaluation engine (both give the same text)")
    ex.set_defaults(run=_cmd_explain)

    demo = sub.add_parser("demo", help="generate a sample organisation into SQLite, recompute "
                          "it there and show the stored results")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--as-of", default=None,
                      help="instant of evaluation, ISO 8601 (default: mid-quarter of the sample)")
    demo.add_argument("--colour", choices=("auto", "always", "never"), default="auto",
                      help="ANSI colours in the output (default auto: when a terminal)")
    demo.add_argument("--output", default=None,
                      help="also write the generated document to this JSON file")
    demo.add_argument("--database", default=None,
                      help="the SQLite file to generate into (kept; default a temporary file)")
    demo.set_defaults(run=_cmd_demo)

    sch = sub.add_parser("schema", help="print the JSON Schema of the document or the result")
    sch.add_argument("name", choices=("document", "result"), nargs="?", default="document")
    sch.set_defaults(run=_cmd_schema)

    if recompute:
        from okrcore.jobs.command import add_parser as add_recompute_parser

        add_recompute_parser(sub)  # okrcore recompute (okrcore.jobs)

    conf = sub.add_parser("conformance", add_help=False,
                          help="the vendor conformance suite (okrcore conformance --help)")
    conf.add_argument("-h", "--help", action="store_true")
    conf.add_argument("arguments", nargs=argparse.REMAINDER)
    conf.set_defaults(run=_cmd_conformance)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in arguments if not a.startswith("-")), None)
    # ``okrcore evaluate`` and ``explain`` do not need the jobs' parser (and its imports) to
    # start: a subcommand's parser and messages do not depend on its siblings.
    args = _parser(recompute=command not in ("evaluate", "explain")).parse_args(arguments)
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``okrcore schema | head``): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("okrcore: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # No input makes a command print a traceback (docs/decisions.rst): one line, exit 2;
        # ``okrcore --debug`` lets the exception through with its traceback.
        if args.debug:
            raise
        from okrcore.jobs._text import one_line

        what = (f"cannot write or read: {exc.strerror or exc}" if isinstance(exc, OSError)
                else f"internal error {type(exc).__name__}: {exc} (please report it; "
                "--debug shows the traceback)")
        print(f"okrcore: {one_line(what)}", file=sys.stderr)
        return EXIT_DOCUMENT_ERROR
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
