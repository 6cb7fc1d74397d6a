"""The job finds its adapters through entry points (okrcore.jobs.adapters); the core imports none.

The installed metadata is what a job reads: after a change of the entry points in pyproject.toml
an editable checkout must be reinstalled (``pip install -e .``), or these tests fail, naming the
missing entry point.
"""

from __future__ import annotations

import ast
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from okrcore.cli import main
from okrcore.jobs import EXIT_OK, EXIT_USAGE, JobError, adapters

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
ORACLE = HERE / "jobs_oracle.json"

# okrcore's own adapters, as pyproject.toml registers them
OWN = {
    "okrcore.sources": {"database": "okrcore_sqlalchemy.plugin:DATABASE",
                        "workbook": "okrcore_spreadsheet.plugin:WORKBOOK"},
    "okrcore.sinks": {"database": "okrcore_sqlalchemy.plugin:DATABASE",
                      "workbook": "okrcore_spreadsheet.plugin:WORKBOOK"},
    "okrcore.executors": {"dask": "okrcore_dask:recompute_dataset"},
}


def test_pyproject_registers_every_adapter_of_okrcore() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert {g: project["entry-points"][g] for g in adapters.GROUPS} == OWN


def test_the_installed_metadata_has_the_entry_points() -> None:
    for group, names in OWN.items():
        found = {name: [ep.value for ep in eps]
                 for name, eps in adapters.registered(group).items()}
        for name, value in names.items():
            assert value in found.get(name, []), (
                f"{group}:{name} is not registered: reinstall okrcore (pip install -e .)")


def test_each_adapter_loads_and_has_its_protocol() -> None:
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("openpyxl")
    for kind in ("database", "workbook"):
        source = adapters.source(kind)
        assert callable(source.read) and callable(source.describe)
    assert callable(adapters.sink("database").open)
    assert callable(adapters.sink("workbook").write)
    pytest.importorskip("distributed")
    assert callable(adapters.executor("dask"))


def test_a_database_url_is_described_without_its_password() -> None:
    pytest.importorskip("sqlalchemy")
    shown = adapters.source("database").describe("postgresql://ann:s3cret@db.example/okrs")
    assert "s3cret" not in shown and shown.startswith("postgresql://ann:")


def test_the_core_imports_no_adapter() -> None:
    """No module of src/okrcore imports an okrcore_* package, not even inside a function."""
    found = []
    for path in sorted((ROOT / "src" / "okrcore").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names
                      if n.split(".")[0].startswith("okrcore_")]
    assert found == []


def test_no_adapter_registered_names_the_extra(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(adapters, "registered", lambda group: {})
    assert main(["recompute", f"sqlite:///{tmp_path / 'x.db'}"]) == EXIT_USAGE
    assert "pip install 'okrcore[sqlalchemy]'" in capsys.readouterr().err
    with pytest.raises(JobError, match=r"no adapter for .parchment. is installed \(no entry point"):
        adapters.find(adapters.SOURCES, "parchment")


# ------------------------------------------------------------------------------------------
# a third-party adapter: a distribution of its own on sys.path
# ------------------------------------------------------------------------------------------

_SINK = '''
import json


class Sink:
    def write(self, path, document, evaluation):
        path.write_text(json.dumps({"by": NAME, "objectives": sorted(evaluation.objectives)}))


SINK = Sink()
'''


def _distribution(root: Path, name: str, entry_points: str) -> None:
    """A minimal installed distribution ``name`` (dist-info and one module) under ``root``."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    (root / f"{name}.py").write_text(f"NAME = {name!r}\n" + _SINK)


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    _distribution(root, "acme_sheets", "[okrcore.sinks]\nworkbook = acme_sheets:SINK\n")
    monkeypatch.syspath_prepend(str(root))
    return root


def test_a_third_party_adapter_is_preferred_to_okrcores_own(third_party: Path,
                                                            tmp_path: Path) -> None:
    eps = adapters.registered(adapters.SINKS)["workbook"]
    assert eps[0].value == "acme_sheets:SINK"
    out = tmp_path / "results.xlsx"
    assert main(["recompute", str(ORACLE), "-o", str(out)]) in (EXIT_OK, 1)
    written: dict[str, Any] = json.loads(out.read_text())
    assert written["by"] == "acme_sheets"
    assert written["objectives"] == ["a", "b", "b-child"]  # the oracle's valid objectives
    sys.modules.pop("acme_sheets", None)


def test_two_third_party_adapters_of_one_kind_are_an_error(third_party: Path,
                                                           tmp_path: Path) -> None:
    _distribution(third_party, "other_sheets", "[okrcore.sinks]\nworkbook = other_sheets:SINK\n")
    with pytest.raises(JobError, match=r"several adapters for 'workbook'.*acme_sheets:SINK, "
                                       r"other_sheets:SINK"):
        adapters.sink("workbook")


def test_engine_dask_without_the_adapter_names_the_extra(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    pytest.importorskip("pyarrow")
    import okrcore
    from okrcore.jobs.parquet import write_dataset

    write_dataset(tmp_path / "ds", {"acme": okrcore.loads(ORACLE.read_bytes())})
    monkeypatch.setitem(sys.modules, "okrcore_dask", None)  # as if not installed
    status = main(["recompute", str(tmp_path / "ds"), "-o", str(tmp_path / "out"),
                   "--engine", "dask"])
    assert status == EXIT_USAGE
    assert capsys.readouterr().err == (
        "okrcore recompute: --engine dask needs the Dask adapter: pip install 'okrcore[dask]' "
        "(okrcore_dask is not installed)\n")
    assert not (tmp_path / "out").exists()  # nothing was written
