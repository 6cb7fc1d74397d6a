"""``okrcore recompute`` on a database, through the SQLAlchemy adapter (okrcore_sqlalchemy)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from okrcore.cli import main
from okrcore.jobs import EXIT_OK, EXIT_USAGE

HERE = Path(__file__).parent


def clean_document() -> str:
    document = json.loads((HERE / "jobs_oracle.json").read_text())
    document["objectives"] = document["objectives"][:3]  # without the bad rows of "c"
    return json.dumps(document)


def test_database_without_the_adapter_names_the_extra(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "okrcore_sqlalchemy", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "okrcore_sqlalchemy.plugin", None)  # (its entry point)
    assert main(["recompute", f"sqlite:///{tmp_path / 'x.db'}"]) == EXIT_USAGE
    assert "okrcore[sqlalchemy]" in capsys.readouterr().err


@pytest.fixture
def database(tmp_path: Path) -> str:
    adapter = pytest.importorskip("okrcore_sqlalchemy",
                                  reason="okrcore_sqlalchemy not installed")
    sqlalchemy = pytest.importorskip("sqlalchemy", reason="okrcore_sqlalchemy not installed")
    import okrcore

    url = f"sqlite:///{tmp_path / 'okrs.db'}"
    adapter.store_document(sqlalchemy.create_engine(url), okrcore.loads(clean_document()))
    return url


def test_recompute_a_database_at_a_series(database: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["recompute", database, "--as-of", "2026-02-01,2026-02-15", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_OK, report
    assert [i["as_of"] for i in report["instants"]] == ["2026-02-01T00:00:00Z",
                                                        "2026-02-15T00:00:00Z"]
    last = report["instants"][1]
    assert (last["key_results"], last["objectives"], last["people"]) == (5, 3, 3)
    # a 0.75 green, b 0.125 red, b-child 0.3 yellow (hand oracle, jobs_oracle.json)
    assert last["objective_colours"] == {"green": 1, "yellow": 1, "red": 1, "none": 0}
    assert last["errors"] == []


def test_kernel_and_threads_reach_the_database_job(database: str,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``--kernel`` and ``--threads`` are passed to the adapter's evaluation."""
    from okrcore.batch import evaluate_frame as real

    seen: list[tuple[str, int | None]] = []

    def spy(*args: Any, kernel: str = "numpy", threads: int | None = None) -> Any:
        seen.append((kernel, threads))
        return real(*args, kernel=kernel, threads=threads)

    monkeypatch.setattr("okrcore_sqlalchemy.job.evaluate_frame", spy)
    status = main(["recompute", database, "--as-of", "2026-02-15", "--threads", "1", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_OK, report
    assert seen == [("numpy", 1)]
    [instant] = report["instants"]
    assert instant["objective_colours"] == {"green": 1, "yellow": 1, "red": 1, "none": 0}


def test_sample_on_sqlite_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    pytest.importorskip("okrcore_sqlalchemy", reason="okrcore_sqlalchemy not installed")
    url = f"sqlite:///{tmp_path / 'sample.db'}"
    status = main(["recompute", url, "--generate-sample", "1000", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_OK, report
    [instant] = report["instants"]
    assert instant["as_of"] == "2026-02-15T12:00:00Z"
    assert instant["key_results"] == 17 * 62
    assert instant["people"] == 17 * 27


def test_a_document_written_to_a_database_is_stored_and_recomputed_there(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    adapter = pytest.importorskip("okrcore_sqlalchemy", reason="okrcore_sqlalchemy not installed")
    sqlalchemy = pytest.importorskip("sqlalchemy", reason="okrcore_sqlalchemy not installed")
    import okrcore

    source = tmp_path / "okrs.json"
    source.write_text(clean_document())
    url = f"sqlite:///{tmp_path / 'out.db'}"
    status = main(["recompute", str(source), "-o", url, "--as-of", "2026-02-15", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_OK, report
    [instant] = report["instants"]
    assert (instant["key_results"], instant["objectives"], instant["people"]) == (5, 3, 3)
    assert instant["objective_colours"] == {"green": 1, "yellow": 1, "red": 1, "none": 0}
    # what the database holds is the scalar reference's evaluation of the document
    document = okrcore.loads(clean_document())
    reference = okrcore.evaluate(attrs.evolve(document, as_of=datetime(2026, 2, 15, tzinfo=UTC)))
    stored = adapter.load_evaluation(sqlalchemy.create_engine(url),
                                     as_of=datetime(2026, 2, 15, tzinfo=UTC))
    assert {k: r.progress for k, r in stored.objectives.items()} == {
        k: r.progress for k, r in reference.objectives.items()}
    assert {k: r.progress for k, r in stored.key_results.items()} == {
        k: r.progress for k, r in reference.key_results.items()}


def test_a_document_with_unreadable_items_is_not_stored_over_a_database(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    adapter = pytest.importorskip("okrcore_sqlalchemy", reason="okrcore_sqlalchemy not installed")
    sqlalchemy = pytest.importorskip("sqlalchemy", reason="okrcore_sqlalchemy not installed")
    before = adapter.load_document(sqlalchemy.create_engine(database))
    source = tmp_path / "bad.json"
    source.write_text((HERE / "jobs_oracle.json").read_text())  # objective "c" has bad rows
    assert main(["recompute", str(source), "-o", database]) == EXIT_USAGE
    assert "nothing was written" in capsys.readouterr().err
    after = adapter.load_document(sqlalchemy.create_engine(database))
    assert after.objectives == before.objectives  # (as_of is "now" without a stored snapshot)
