"""Single documents and web requests (issue 19): each figure beside its baseline, same run.

Measures, in one run, with medians of ``--repeat`` (>= 5) runs whose order alternates:

* ``evaluate``: the batch evaluation of a 10^4-KR document in process -- the document to
  frame conversion (``OrgFrame.from_document``) plus ``evaluate_frame``; the result document
  text (``okrcore.batch.evaluate_json``); and ``evaluate_batch`` (result objects) -- beside
  the issue 18 path (its conversion, kept in ``tests/test_document_fast.py`` as the oracle,
  then ``to_evaluation`` and ``json.dumps``);
* ``command``: ``okrcore evaluate FILE`` of a flat 2*10^4-objective document end to end in a
  new process, beside the issue 18 command (``okrcore.evaluate`` then ``json.dump`` to
  standard output, as ``okrcore evaluate`` did) and the floor ``python -c "import
  okrcore.cli"``; and the same command in process (``okrcore.cli.main``, output to a file),
  with its phases (the command reads the JSON straight into columns, ``read_columns``; the
  load into model objects and ``OrgFrame.from_document``, the path it replaces, beside it);
* ``small``: a 4-KR document: the scalar path, the batch engine and ``engine="auto"``, each
  as ``evaluate_json`` (a web request's work), per call;
* ``--crossover``: scalar against batch ``evaluate_json`` per call from 16 to 1024 KRs: where
  ``AUTO_BATCH_FROM`` comes from.

Documents come from ``benchmarks/synthetic.py``: ``synthetic_document(10_000)`` (2 500
objectives on 4 levels); the flat document is ``synthetic_document(20_000)`` with every key
result made the only one of its own objective, without parent (2*10^4 objectives and key
results, as in the issue's "flat 2*10^4-objective document"); the small ones are
``synthetic_document(16)`` cut after its first N key results.

Run:  python benchmarks/bench_document.py [--repeat 5] [--crossover] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Final

from synthetic import synthetic_document

import okrcore
from okrcore.batch import (
    AUTO_BATCH_FROM,
    OrgFrame,
    evaluate_batch,
    evaluate_frame,
    evaluate_json,
    to_evaluation,
)
from okrcore.cli import main as cli_main
from okrcore.evaluate import instant_us

HERE: Final = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from test_document_fast import reference_frame  # noqa: E402  (the issue 18 conversion)

Run = Callable[[], object]
# The issue 18 command: the scalar engine, json.dump token by token to standard output.
OLD_COMMAND: Final = (
    "import json, sys, okrcore\n"
    "document = okrcore.load(sys.argv[1])\n"
    "json.dump(okrcore.evaluate(document).to_json(), sys.stdout, indent=2, allow_nan=False)\n"
    "sys.stdout.write('\\n')\n")


def flat_document(n: int, seed: int = 0) -> dict[str, Any]:
    """``synthetic_document(n)`` with every key result alone in a parentless objective."""
    data = synthetic_document(n, seed)
    flat = []
    for objective in data["objectives"]:
        for kr in objective["key_results"]:
            flat.append({**objective, "id": f"o{kr['id'][1:]}", "parent": None,
                         "mode": "auto" if objective["mode"] == "sum" else objective["mode"],
                         "progress_settings": None, "include_children": False,
                         "key_results": [kr]})
    flat.sort(key=lambda o: int(o["id"][1:]))
    return {**data, "objectives": flat}


def sized_document(n_kr: int, seed: int = 0) -> dict[str, Any]:
    """``synthetic_document(max(n_kr, 16))`` cut after its first ``n_kr`` key results."""
    data = synthetic_document(max(n_kr, 16), seed)
    kept, count = [], 0
    for objective in data["objectives"]:
        if count >= n_kr:
            break
        krs = objective["key_results"][:n_kr - count]
        count += len(krs)
        kept.append({**objective, "key_results": krs})
    return {**data, "objectives": kept}


def alternate(runs: dict[str, Run], repeat: int, inner: int = 1,
              warmup: bool = True) -> dict[str, float]:
    """Median seconds per call of each run: ``repeat`` rounds, order reversed every round."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for name in names if warmup else ():  # warm-up (imports, caches)
        runs[name]()
    for round_ in range(repeat):
        for name in names if round_ % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            for _ in range(inner):
                runs[name]()
            times[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(values) for name, values in times.items()}


def _old_batch_json(document: okrcore.Document) -> str:
    frame = reference_frame(document)
    result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
    return json.dumps(to_evaluation(frame, result).to_dict(), indent=2, allow_nan=False)


def _columns(document: okrcore.Document) -> object:
    frame = OrgFrame.from_document(document)
    return evaluate_frame(frame, instant_us(document.as_of), document.policy)


def _old_columns(document: okrcore.Document) -> object:
    frame = reference_frame(document)
    return evaluate_frame(frame, instant_us(document.as_of), document.policy)


def bench_evaluate(repeat: int) -> dict[str, float]:
    document = okrcore.Document.from_dict(synthetic_document(10_000))
    assert evaluate_json(document, engine="batch") == _old_batch_json(document)
    return alternate({
        "frame + evaluate_frame": lambda: _columns(document),
        "issue 18 frame + evaluate_frame": lambda: _old_columns(document),
        "evaluate_json (batch)": lambda: evaluate_json(document, engine="batch"),
        "issue 18 to_evaluation + json.dumps": lambda: _old_batch_json(document),
        "evaluate_batch (objects)": lambda: evaluate_batch(document),
    }, repeat)


def _process(arguments: list[str]) -> Run:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def run() -> object:
        return subprocess.run([sys.executable, *arguments], stdout=subprocess.DEVNULL,
                              env=env, check=True)
    return run


def bench_command(repeat: int, directory: Path) -> dict[str, float]:
    path = directory / "flat.json"
    path.write_text(json.dumps(flat_document(20_000)))
    out = directory / "out.json"

    def in_process() -> object:
        with out.open("w") as handle, redirect_stdout(handle):
            return cli_main(["evaluate", str(path)])

    figures = alternate({
        "okrcore evaluate (process)": _process(["-m", "okrcore.cli", "evaluate", str(path)]),
        "issue 18 okrcore evaluate (process)": _process(["-c", OLD_COMMAND, str(path)]),
        "floor: python -c 'import okrcore.cli'": _process(["-c", "import okrcore.cli"]),
        "okrcore evaluate (in process)": in_process,
    }, repeat, warmup=False)
    text = path.read_bytes()
    document = okrcore.loads(text)
    frame = OrgFrame.from_document(document)
    result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
    from okrcore._json_columns import read_columns
    from okrcore.batch import result_json
    from okrcore.interchange import parse_json

    assert read_columns(text) is not None  # the command takes the fast reader

    phases = alternate({
        "phase: parse JSON": lambda: parse_json(text),
        "phase: read JSON into columns (read_columns)": lambda: read_columns(text),
        "phase: load (JSON to model objects)": lambda: okrcore.loads(text),
        "phase: OrgFrame.from_document": lambda: OrgFrame.from_document(document),
        "phase: evaluate_frame": lambda: evaluate_frame(frame, instant_us(document.as_of),
                                                        document.policy),
        "phase: result_json": lambda: result_json(frame, result, document.warnings),
    }, max(3, repeat // 2))
    return {**figures, **phases}


def bench_small(repeat: int) -> dict[str, float]:
    document = okrcore.Document.from_dict(sized_document(4))
    assert sum(len(o.key_results) for o in document.objectives) == 4
    return alternate({f"4 KRs: {engine}": _request(document, engine)
                      for engine in ("scalar", "batch", "auto")}, repeat, inner=200)


def _request(document: okrcore.Document, engine: str) -> Run:
    """A web request's work: the result document text of ``document`` on ``engine``."""
    def run() -> object:
        return evaluate_json(document, engine=engine)
    return run


def bench_crossover(repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in (4, 8, 16, 32, 64, 128, 256, 1024):
        document = okrcore.Document.from_dict(sized_document(n))
        items = len(document.objectives) + n
        inner = max(5, 2000 // n)
        for engine, seconds in alternate({
                engine: _request(document, engine) for engine in ("scalar", "batch")},
                repeat, inner=inner).items():
            out[f"{n} KRs ({items} items): {engine}"] = seconds
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--only", choices=("evaluate", "command", "small"), default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    repeat = max(5, args.repeat)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        if args.only in (None, "evaluate"):
            figures.update(bench_evaluate(repeat))
        if args.only in (None, "command"):
            figures.update(bench_command(repeat, Path(directory)))
        if args.only in (None, "small"):
            figures.update(bench_small(repeat))
        if args.crossover:
            figures.update(bench_crossover(repeat))
    print(f"bench_document: medians of {repeat} alternating runs "
          f"(AUTO_BATCH_FROM = {AUTO_BATCH_FROM})")
    for name, seconds in figures.items():
        print(f"  {name:<45} {seconds * 1e3:10.2f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
