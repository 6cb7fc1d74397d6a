"""The main job's install stays small: the ``demo`` extra and what ``okrcore demo`` imports."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

# Every distribution `pip install -e '.[demo]'` may bring (okrcore's own dependencies, then
# SQLAlchemy's).  greenlet is listed because older SQLAlchemy 2.0 releases require it.
DEMO_CLOSURE = {"attrs", "numpy", "sqlalchemy", "greenlet", "typing-extensions"}
# Top-level modules the demo may import besides the standard library: the packages of
# DEMO_CLOSURE, okrcore and its SQLAlchemy adapter (cython_runtime is numpy's Cython module,
# which is placed in sys.modules, never imported).
DEMO_MODULES = {"attr", "attrs", "numpy", "sqlalchemy", "greenlet", "typing_extensions",
                "okrcore", "okrcore_sqlalchemy"}


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    return {"": list(project["dependencies"]), **extras}


def _closure(requirements: list[str]) -> set[str]:
    """Names of the distributions the requirements install, resolved from installed metadata."""
    extras = _extras()
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name == "okrcore":  # the project's own extras: expand from pyproject
            for extra in req.extras:
                todo += [Requirement(r) for r in extras[extra]]
            continue
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:  # named, not installed here
            continue
        for text in requires:
            dep = Requirement(text)
            wanted = req.extras or {""}
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(dep)
    return seen


def test_demo_extra_installs_only_sqlalchemy() -> None:
    assert _extras()["demo"] == ["sqlalchemy>=2.0.30"]
    closure = _closure(_extras()[""] + _extras()["demo"])
    assert {"attrs", "numpy", "sqlalchemy"} <= closure <= DEMO_CLOSURE, closure


def test_dev_install_is_a_superset_of_the_demo() -> None:
    dev = _closure(_extras()["dev"])
    assert _closure(_extras()[""] + _extras()["demo"]) - {"greenlet"} <= dev
    assert {"numba", "dask", "polars", "duckdb", "sphinx", "mypy", "django"} <= dev


def test_makefile_demo_installs_only_the_demo_extra() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo_recipe = re.search(r"^\$\(DEMO_STAMP\):.*?(?=^\S)", makefile, re.M | re.S)
    assert demo_recipe is not None
    assert '-e ".[demo]"' in demo_recipe.group(0)
    assert "[dev]" not in demo_recipe.group(0)
    assert re.search(r"^demo: \$\(DEMO_STAMP\)$", makefile, re.M)
    assert re.search(r"^test: \$\(STAMP\)$", makefile, re.M)
    assert re.search(r'^\$\(STAMP\):.*\n(?:\t.*\n)*\t.*-e "\.\[dev\]"', makefile, re.M)


# Run in a subprocess: every import of a module outside the standard library and DEMO_MODULES
# is refused and recorded, even one the code would catch, so nothing of numba, dask, polars,
# django, rich... can creep onto the demo's path unnoticed.  Private modules (``_ctypes``,
# ``_sysconfigdata_*``) belong to the interpreter; ``org`` is the standard library's Jython
# probe (copy.py: ``from org.python.core import PyStringMap``).
_GUARD = """
import sys
allowed = set(sys.argv[1].split(",")) | {"org"}
refused = []

class Guard:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        refused.append(name)
        raise ImportError(f"not in the demo extra: {name}")

sys.meta_path.insert(0, Guard())
from okrcore.cli import main
try:
    code = main(["demo", "--colour", "never"])
except SystemExit as exc:
    code = exc.code
print("REFUSED:" + ",".join(refused))
print("LOADED:" + ",".join(sorted({m.partition(".")[0] for m in sys.modules})))
sys.exit(code)
"""


def test_demo_runs_with_only_the_demo_extra() -> None:
    done = subprocess.run([sys.executable, "-c", _GUARD, ",".join(sorted(DEMO_MODULES))],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "REFUSED:\n" in done.stdout, done.stdout[-500:]
    loaded = set(done.stdout.rsplit("LOADED:", 1)[1].strip().split(","))
    third_party = {m for m in loaded if m not in sys.stdlib_module_names
                   and not m.startswith("_") and m != "cython_runtime"}
    assert {"okrcore", "okrcore_sqlalchemy", "sqlalchemy", "numpy"} <= third_party
    assert third_party <= DEMO_MODULES, third_party - DEMO_MODULES
    assert "18 objectives" in done.stdout
