"""Find the code blocks of README.md and docs/*.rst, and run one page's blocks (a script).

The conventions are documented in docs/contributing.rst ("Code blocks in the documentation");
tests/test_docs_blocks.py runs every page through :func:`run_page` in a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import traceback
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MARKER = "docs-test:"
_RST_BLOCK = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$")
_RST_INCLUDE = re.compile(r"^(\s*)\.\. literalinclude::\s*(\S+)\s*$")
_RST_MARKER = re.compile(r"^\s*\.\. docs-test:\s*(.*?)\s*$")
_MD_FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)\s*$")
_MD_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
CMD_PREFIX = "@@docs-test-command@@"
PYTHON = ("python", "py", "python3")
SHELL = ("sh", "bash", "shell")
CONSOLE = ("console", "shell-session")


@dataclass
class Block:
    """One code block: where it is, its language, its text and the markers before it."""

    page: str
    line: int
    language: str
    text: str
    markers: list[str] = field(default_factory=list)
    include: str | None = None  # a literalinclude's path, relative to the page

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    def marker(self, name: str) -> str | None:
        """The argument of marker ``name`` (``""`` when given without one), else None."""
        for text in self.markers:
            word, _, rest = text.partition(" ")
            if word == name:
                return rest.strip()
        return None


def _dedent(lines: list[str]) -> str:
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines) + ("\n" if lines else "")


def rst_blocks(path: Path, name: str) -> list[Block]:
    """The ``code-block`` and ``literalinclude`` directives of an rst file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    markers: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        found = _RST_MARKER.match(line)
        if found:
            markers.append(found.group(1))
            i += 1
            continue
        block = _RST_BLOCK.match(line)
        include = _RST_INCLUDE.match(line)
        if not block and not include:
            i += 1
            continue
        indent = len((block or include).group(1))  # type: ignore[union-attr]
        start = i + 1
        j = start
        language = block.group(2) if block else ""
        body: list[str] = []
        # options (":caption: ..."), then a blank line, then the indented content
        while j < len(lines) and lines[j].strip().startswith(":") and (
                len(lines[j]) - len(lines[j].lstrip()) > indent):
            option = lines[j].strip()
            if option.startswith(":language:"):
                language = option.split(":", 2)[2].strip()
            j += 1
        while j < len(lines) and (not lines[j].strip() or
                                  len(lines[j]) - len(lines[j].lstrip()) > indent):
            body.append(lines[j])
            j += 1
        blocks.append(Block(name, i + 1, language.lower(), _dedent(body), markers,
                            include.group(2) if include else None))
        markers = []
        i = j
    return blocks


def md_blocks(path: Path, name: str) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    markers: list[str] = []
    i = 0
    while i < len(lines):
        found = _MD_MARKER.match(lines[i])
        if found:
            markers.append(found.group(1))
            i += 1
            continue
        fence = _MD_FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        blocks.append(Block(name, i + 1, fence.group(2).lower(), _dedent(lines[i + 1:j]),
                            markers))
        markers = []
        i = j + 1
    return blocks


def page_blocks(root: Path, name: str) -> list[Block]:
    """Every code block of one page (``README.md`` or ``docs/NAME.rst``)."""
    path = root / name
    return md_blocks(path, name) if name.endswith(".md") else rst_blocks(path, name)


def console_commands(text: str) -> list[tuple[str, str]]:
    """Split a console block into ``(command, expected output)`` pairs.

    A command starts with ``$ ``; a command line ending in a backslash continues on the next
    line (a leading ``> `` there is dropped).  Every other line is output of the command above.
    """
    pairs: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ ") or line == "$":
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                nxt = lines[i]
                command += "\n" + (nxt[2:] if nxt.startswith("> ") else nxt)
            pairs.append((command, []))
        elif not pairs:
            if line.strip():
                raise ValueError(f"console block: output before the first '$ ' line: {line!r}")
        else:
            pairs[-1][1].append(line)
        i += 1
    return [(c, "\n".join(out)) for c, out in pairs]


# --------------------------------------------------------------------------------------------
# the driver: runs one page's blocks in order, in the current directory


def _run_python(code: str, namespace: dict[str, Any], filename: str) -> tuple[str, str | None]:
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            exec(compile(code, filename, "exec"), namespace)  # the docs' own code
        except BaseException:  # reported, with its traceback, as the failure
            error = traceback.format_exc()
    return out.getvalue(), error


def _run_console(text: str, timeout: float) -> list[tuple[str, str, str]]:
    commands = console_commands(text)
    script = ["exec 2>&1"]
    for index, (command, _) in enumerate(commands):
        # the marker must not change $? (a shown "echo $?" reports the command before it)
        script.append(f"__docs_status=$?; printf '\\n{CMD_PREFIX}{index}\\n'; "
                      "(exit $__docs_status)")
        script.append(command)
    done = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True,
                          timeout=timeout, check=False)
    chunks = re.split(rf"\n?{re.escape(CMD_PREFIX)}(\d+)\n", done.stdout)
    outputs = {int(chunks[k]): chunks[k + 1] for k in range(1, len(chunks) - 1, 2)}
    return [(command, want, outputs.get(i, "")) for i, (command, want) in enumerate(commands)]


def run_page(blocks: list[dict[str, Any]], root: str, timeout: float) -> list[dict[str, Any]]:
    """Run a page's blocks in order; return one record per block (what ran and its output)."""
    # the page's blocks share one module that is ``__main__`` (libraries such as SQLAlchemy
    # resolve string annotations through sys.modules[cls.__module__])
    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = main_module
    namespace: dict[str, Any] = main_module.__dict__
    records: list[dict[str, Any]] = []
    for raw in blocks:
        block = Block(**raw)
        record: dict[str, Any] = {"where": block.where, "kind": "none"}
        records.append(record)
        if block.marker("skip") is not None or block.marker("requires") is not None:
            record["kind"] = "skipped"
            continue
        target = block.marker("file")
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(block.text, encoding="utf-8")
            record["kind"] = "file"
            continue
        if block.language in PYTHON:
            if block.include:
                path = Path(root) / Path(block.page).parent / block.include
                code, filename, scope = path.read_text(encoding="utf-8"), str(path), {
                    "__name__": "__main__"}
            else:
                code, filename, scope = block.text, block.where, namespace
            output, error = _run_python(code, scope, filename)
            record.update(kind="python", output=output, error=error)
            if error:
                break
        elif block.language in SHELL:
            done = subprocess.run(["bash", "-e", "-c", block.text], capture_output=True,
                                  text=True, timeout=timeout, check=False)
            record.update(kind="shell", output=done.stdout + done.stderr,
                          error=None if done.returncode == 0 else f"exit {done.returncode}")
            if done.returncode:
                break
        elif block.language in CONSOLE:
            record.update(kind="console", commands=_run_console(block.text, timeout))
    return records


def main() -> None:
    """``python docs_blocks.py BLOCKS.json RESULTS.json ROOT TIMEOUT`` (run in the work dir)."""
    blocks = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    records = run_page(blocks, sys.argv[3], float(sys.argv[4]))
    Path(sys.argv[2]).write_text(json.dumps(records), encoding="utf-8")


def to_json(blocks: list[Block]) -> str:
    """The blocks as the driver reads them."""
    return json.dumps([asdict(b) for b in blocks])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
