"""The scalar core's layers (issue 18): imports only go downwards, imports inside functions too.

``Document.from_dict`` / ``to_dict`` and ``Evaluation.from_dict`` used to import
``okrcore.interchange`` inside the methods, and ``okrcore.interchange`` imported
``okrcore.evaluate``, which imports the model and the results: one import cycle of four modules.
The model and the results now hold the functions the interchange layer registers when it is
imported (docs/decisions.rst, "Core modules without import cycles").
"""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import okrcore

SRC = Path(okrcore.__file__).resolve().parent

# Lower layers first; a module may import only modules of a lower layer (modules not listed,
# such as the batch engine, the jobs or a kinds registry, are not checked here).
LAYERS: list[set[str]] = [
    {"okrcore.errors", "okrcore.codes"},
    {"okrcore._checks"},
    {"okrcore.policy", "okrcore.instants"},
    {"okrcore.model", "okrcore.formulas", "okrcore.explain"},
    {"okrcore.results", "okrcore._values", "okrcore._alignment"},
    {"okrcore._people"},
    {"okrcore.evaluate"},
    {"okrcore.interchange"},
]
LEVEL = {name: k for k, names in enumerate(LAYERS) for name in names}


def _path(name: str) -> Path:
    return SRC.joinpath(*name.split(".")[1:]).with_suffix(".py")


def _imports(name: str) -> set[str]:
    """Every okrcore module ``name`` imports, inside functions too, not under TYPE_CHECKING."""
    tree = ast.parse(_path(name).read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(sub) for child in node.body for sub in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module if not node.level else f"okrcore.{node.module}"
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return {m for m in found if m in LEVEL and m != name}


@pytest.mark.parametrize("name", sorted(LEVEL))
def test_a_core_module_imports_only_lower_layers(name: str) -> None:
    upward = sorted(m for m in _imports(name) if LEVEL[m] >= LEVEL[name])
    assert upward == [], f"{name} imports {upward} (layer {LEVEL[name]} or above)"


def test_the_layer_check_sees_an_import_inside_a_function() -> None:
    # the check reads the source as the structure tool does: a method's own import counts
    assert "okrcore.explain" in _imports("okrcore.results")


def test_from_dict_works_with_only_the_model_imported() -> None:
    # importing any okrcore module imports the package, and with it okrcore.interchange,
    # which registers the dict forms: the methods need no import of their own
    code = (
        "from okrcore.model import Document\n"
        "from okrcore.results import Evaluation\n"
        "d = Document.from_dict({'okrcore': 1, 'as_of': '2026-02-15', 'objectives': []})\n"
        "assert d.to_dict()['as_of'] == '2026-02-15T00:00:00Z', d.to_dict()\n"
        "import okrcore\n"
        "e = okrcore.evaluate(d)\n"
        "assert Evaluation.from_dict(e.to_dict()) == e\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_the_moved_names_keep_their_old_homes() -> None:
    from okrcore import instants
    from okrcore.evaluate import EPOCH, instant_us, isoformat, isoformat_us
    from okrcore.interchange import parse_instant

    assert callable(okrcore.evaluate)  # the package's evaluate is the function, as before
    assert (instant_us, isoformat, isoformat_us, parse_instant, EPOCH) == (
        instants.instant_us, instants.isoformat, instants.isoformat_us, instants.parse_instant,
        instants.EPOCH)
    moment = datetime(2026, 2, 15, 9, 30, tzinfo=UTC)
    assert instant_us(moment) == 1_771_147_800_000_000
    assert isoformat_us(instant_us(moment)) == isoformat(moment) == "2026-02-15T09:30:00Z"
    assert parse_instant("2026-02-15T09:30:00Z", "at") == moment
