"""The project's own gates, run by the test suite: mypy --strict, ruff, Sphinx, __all__."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import okrcore

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_mypy_strict_is_clean() -> None:
    result = _run("mypy", "--strict")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "src", "tests", "benchmarks", "docs", "adapters")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sphinx_builds_without_warnings(tmp_path: Path) -> None:
    result = _run(
        "sphinx", "-W", "--keep-going", "-q", "-b", "html", "docs", str(tmp_path / "html")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "spec.html").is_file()


def _public_modules() -> list[str]:
    names = ["okrcore"]
    for info in pkgutil.iter_modules(okrcore.__path__):
        if not info.name.startswith("_"):
            names.append(f"okrcore.{info.name}")
    return names


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_module_has_a_sorted_complete_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def key(symbol: str) -> tuple[int, str]:
        rank = 0 if symbol.isupper() else 1 if symbol[0].isupper() else 2
        return rank, symbol

    assert exported == sorted(exported, key=key), f"{name}.__all__ is not sorted"
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.__all__ names missing {symbol}"
        value = getattr(module, symbol)
        if callable(value) and not isinstance(value, type(okrcore.PRESETS)):
            assert getattr(value, "__doc__", None), f"{name}.{symbol} has no docstring"


def test_core_imports_only_attrs_numpy_and_stdlib() -> None:
    code = (
        "import sys, okrcore, okrcore.cli, okrcore.demo\n"
        "third = {m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)\n"
        "import json; print(json.dumps(sorted(third)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    allowed = {"okrcore", "attrs", "attr", "numpy", "__main__", "_distutils_hack"}
    imported = {m for m in json.loads(out) if not m.startswith(("__editable__", "_virtualenv"))}
    assert imported <= allowed, imported - allowed


def test_package_ships_py_typed_and_schemas() -> None:
    package = Path(okrcore.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "schemas" / "document-v1.schema.json").is_file()
    assert (package / "schemas" / "result-v1.schema.json").is_file()
