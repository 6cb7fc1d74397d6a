"""Every code block of README.md and docs/*.rst runs, and shown output is the real output.

The conventions (languages, markers, normalisation) are in docs/contributing.rst; the parser and
the driver are in tests/docs_blocks.py.  Each page runs in a subprocess, in a fresh temporary
directory where ``docs`` and ``examples`` link to the repository's.
"""

from __future__ import annotations

import difflib
import doctest
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from docs_blocks import CONSOLE, PYTHON, SHELL, Block, page_blocks, to_json

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.rst"))]
TIMEOUT = 300.0
KNOWN = {*PYTHON, *SHELL, *CONSOLE, "json", "text", "", "none", "rst", "toml", "ini", "sql",
         "javascript", "js", "yaml", "cron", "pycon", "html", "markdown"}


def normalise(text: str) -> str:
    """Trailing spaces of every line and leading / trailing blank lines do not count."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def matches(want: str, got: str) -> bool:
    """``got`` matches ``want`` where ``...`` in ``want`` stands for any text (doctest ELLIPSIS)."""
    want, got = normalise(want), normalise(got)
    return want == got or doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS)


def _diff(where: str, what: str, want: str, got: str) -> str:
    diff = "\n".join(difflib.unified_diff(normalise(want).splitlines(),
                                          normalise(got).splitlines(), "shown in the docs",
                                          "real output", lineterm=""))
    return f"{where}: {what}: the shown output differs from the real output\n{diff}"


def _available(requirement: str) -> bool:
    kind, _, name = requirement.partition(" ")
    if kind == "env":
        return bool(os.environ.get(name.strip()))
    if kind == "module":
        import importlib.util

        return importlib.util.find_spec(name.strip()) is not None
    return shutil.which(requirement) is not None


def _prepare(blocks: list[Block]) -> list[str]:
    """Check markers; drop a ``requires`` that is met (the block runs); return skip reasons."""
    reasons = []
    for block in blocks:
        skip = block.marker("skip")
        if skip is not None:
            assert skip, f"{block.where}: 'docs-test: skip' needs a reason"
            reasons.append(f"{block.where}: {skip}")
        requirement = block.marker("requires")
        if requirement is not None:
            assert requirement, f"{block.where}: 'requires' needs a program, env or module"
            if _available(requirement):
                block.markers = [m for m in block.markers if not m.startswith("requires")]
            elif os.environ.get("CI") == "true":
                pytest.fail(f"{block.where}: needs {requirement} (missing in CI)")
            else:
                reasons.append(f"{block.where}: needs {requirement}")
        if block.language in (*SHELL, *CONSOLE) and skip is None and re.search(
                r"\b(pip|uv) install\b|\bmake (demo|test)\b", block.text):
            pytest.fail(f"{block.where}: a block that installs packages or builds the "
                        "environment must be marked 'docs-test: skip REASON'")
        for marker in block.markers:
            assert marker.split(" ")[0] in ("skip", "requires", "file", "output"), (
                f"{block.where}: unknown marker {marker!r}")
        assert block.language in KNOWN or block.include, (
            f"{block.where}: unknown language {block.language!r}")
    return reasons


def _static_checks(blocks: list[Block]) -> None:
    for block in blocks:
        if block.language == "json" and not block.include and block.marker("skip") is None:
            try:
                json.loads(block.text)
            except ValueError as exc:
                pytest.fail(f"{block.where}: a json block must be valid JSON: {exc}")


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    paths = [str(ROOT / "src"), *(str(p) for p in sorted((ROOT / "adapters").iterdir())
                                  if p.is_dir())]
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    env.update(PYTHONUNBUFFERED="1", COLUMNS="100", NO_COLOR="1", TERM="dumb",
               PYTHONHASHSEED="0", TZ="UTC")
    return env


@pytest.mark.parametrize("page", PAGES)
def test_page_code_blocks(page: str, tmp_path: Path) -> None:
    blocks = page_blocks(ROOT, page)
    skipped = _prepare(blocks)
    _static_checks(blocks)
    runnable = [b for b in blocks if b.language in (*PYTHON, *SHELL, *CONSOLE)
                or b.marker("file")]
    if not runnable:
        pytest.skip(f"{page}: no code block to run")
    work = tmp_path / "work"
    work.mkdir()
    for name in ("docs", "examples"):
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    (tmp_path / "blocks.json").write_text(to_json(blocks), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "docs_blocks.py"),
         str(tmp_path / "blocks.json"), str(tmp_path / "records.json"), str(ROOT),
         str(TIMEOUT)], cwd=work, env=_environment(), capture_output=True, text=True,
        timeout=TIMEOUT * 2, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    records: list[dict[str, Any]] = json.loads((tmp_path / "records.json").read_text())
    failures: list[str] = []
    last_python: dict[str, Any] | None = None
    for block, record in zip(blocks, records, strict=False):
        if record.get("error"):
            failures.append(f"{record['where']}: the {record['kind']} block failed:\n"
                            f"{record.get('output', '')}{record['error']}")
            break
        if record["kind"] == "python":
            last_python = record
        elif record["kind"] == "console":
            for command, want, got in record["commands"]:
                if not matches(want, got):
                    failures.append(_diff(record["where"], f"$ {command}", want, got))
        if block.marker("output") is not None:
            if last_python is None:
                failures.append(f"{block.where}: an 'output' block needs a python block before")
            elif not matches(block.text, last_python["output"]):
                failures.append(_diff(block.where, "output of the python block above",
                                      block.text, last_python["output"]))
    if len(records) < len(blocks) and not failures:
        failures.append(f"{page}: stopped after {records[-1]['where']}")
    assert not failures, "\n\n".join(failures)
    if skipped:
        print("skipped blocks:", *skipped, sep="\n  ")


def test_markers_and_console_blocks_parse() -> None:
    """The parser itself: markers attach to the next block, continuations join, output splits."""
    from docs_blocks import console_commands, rst_blocks

    page = ROOT / "docs" / "cli.rst"
    blocks = rst_blocks(page, "docs/cli.rst")
    assert any(b.language == "console" for b in blocks)
    assert console_commands("$ echo a \\\n> b\na b\n$ true\n") == [("echo a \\\nb", "a b"),
                                                                   ("true", "")]
    assert matches("x ... z\n", "x y z\n") and matches("a\n...\nd\n", "a\nb\nc\nd\n")
    assert not matches("a\nb\n", "a\nc\n")
