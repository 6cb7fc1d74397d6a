"""A database source never crashes the recompute and never lies (issue 17).

* One bad value in a numeric, instant or boolean input column is a row error naming the table,
  the row's key, the column and the value; the rest is computed and written, the bad row is not,
  and ``okrcore recompute`` exits 1.  The corruptions are generated from the reference schema
  (every such column of every input table), not listed by hand.  SQLite stores any value in any
  column (type affinity), which is how such rows arise.
* A file that is not a database, lacks the tables or is truncated: exit 2, one line.
* A read-only or full database: exit 4, one line without SQL or its parameters; the previous
  snapshot stays as it was.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from orm_support import drop_okrcore_tables, postgres_url
from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    Engine,
    Integer,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import DBAPIError

import okrcore
import okrcore_sqlalchemy as S
from okrcore.cli import main
from okrcore.jobs import EXIT_FAILED, EXIT_ITEM_ERRORS, EXIT_OK, EXIT_USAGE

AS_OF = datetime(2026, 2, 15, tzinfo=UTC)
DOCUMENT: dict[str, Any] = {
    "okrcore": 1, "as_of": "2026-02-15T00:00:00Z", "policy": {"preset": "betterworks"},
    "objectives": [
        {"id": "top", "owner": "ann", "start": "2026-01-01T00:00:00Z",
         "due": "2026-04-01T00:00:00Z", "weight": 2, "include_children": True,
         "key_results": [
             {"id": "m1", "kind": "metric", "start": 0, "target": 100, "weight": 1.5,
              "due": "2026-03-31T00:00:00Z", "owners": ["pat"],
              "range": {"red_low": 10, "yellow_low": 50, "yellow_high": 150,
                        "red_high": 200, "mode": "band"},
              "check_ins": [{"at": "2026-01-20T00:00:00Z", "value": 30},
                            {"at": "2026-02-10T00:00:00Z", "value": 60}]}]},
        {"id": "kid", "owner": "bob", "parent": "top", "start": "2026-01-01T00:00:00Z",
         "due": "2026-04-01T00:00:00Z",
         "key_results": [
             {"id": "s1", "kind": "milestone", "stages_total": 4, "stages_done": 1},
             {"id": "c1", "kind": "milestone",
              "checkpoints": [{"name": "x", "done": True}, {"name": "y"}]},
             {"id": "b1", "kind": "binary", "done": False}]},
        {"id": "sum", "owner": "cat", "start": "2026-01-01T00:00:00Z",
         "due": "2026-04-01T00:00:00Z",
         "progress_settings": {"unit": "eur", "target": 100, "start": 0, "auto": True},
         "key_results": [
             {"id": "e1", "kind": "metric", "unit": "eur", "start": 0, "target": 60,
              "current": 30}]},
        {"id": "other", "owner": "dan", "start": "2026-01-01T00:00:00Z",
         "due": "2026-04-01T00:00:00Z",
         "key_results": [{"id": "o1", "kind": "metric", "start": 0, "target": 10,
                          "current": 5}]},
    ],
}
INPUT_ROLES = ("person", "objective", "key_result", "kr_owner", "checkpoint", "check_in")
ITEM_ROLES = {"objective": "objectives", "key_result": "key_results"}
BAD_TEXT = ("abc", "12abc")
BAD_FLAGS: tuple[Any, ...] = ("maybe", "yes", 2)


def checked_columns() -> list[tuple[str, str, Any]]:
    """(role, column, bad value) for every numeric, instant and boolean input column.

    Generated from the reference schema; an ``INTEGER PRIMARY KEY`` (SQLite's rowid) cannot
    hold text and is left out.
    """
    cases = []
    for role in INPUT_ROLES:
        table = S.REFERENCE.table(role)
        for column in table.columns:
            if column.primary_key and len(table.primary_key.columns) == 1:
                continue
            kind = column.type
            if isinstance(kind, Boolean):
                cases += [(role, column.name, v) for v in (*BAD_FLAGS, *BAD_TEXT)]
            elif isinstance(kind, S.Instant | Integer | BigInteger | Double):
                cases += [(role, column.name, v) for v in BAD_TEXT]
    return cases


CASES = checked_columns()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test organisation stored in SQLite (copied by each test)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    S.store_document(create_engine(f"sqlite:///{path}"), okrcore.loads(json.dumps(DOCUMENT)))
    return path


@pytest.fixture(scope="module")
def clean_results(template: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> dict[str, dict[str, tuple[Any, ...]]]:
    path = tmp_path_factory.mktemp("clean") / "clean.db"
    shutil.copy(template, path)
    report = S.recompute(create_engine(f"sqlite:///{path}"), as_of=AS_OF)
    assert report.errors == () and report.key_results == 6 and report.objectives == 4
    return results(path)


def results(path: Path) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Stored result rows per table and key.

    Every column but the input version and the row numbers (``parent``, ``error_ref``), which
    change with the row order (a text ``position`` sorts after the numbers).
    """
    out: dict[str, dict[str, tuple[Any, ...]]] = {}
    with sqlite3.connect(path) as db:
        for table, key in (("okrcore_kr_results", "kr_id"),
                           ("okrcore_objective_results", "objective_id"),
                           ("okrcore_person_results", "person_id")):
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            out[table] = {row[names.index(key)]: tuple(
                v for n, v in zip(names, row, strict=True)
                if n not in ("input_version", "parent", "error_ref"))
                for row in cursor.fetchall()}
    return out


def corrupt(path: Path, role: str, column: str, value: Any) -> str:
    """Set ``column`` of the first row of ``role``'s table to ``value``; return the item key.

    The key is the objective's or key result's id that the row belongs to.
    """
    table = S.REFERENCE.table(role).name
    key = "id" if role in ITEM_ROLES else "kr_id"
    with sqlite3.connect(path) as db:
        rowid, ident = db.execute(
            f"SELECT rowid, {key} FROM {table} ORDER BY rowid LIMIT 1").fetchone()
        db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                   (value, rowid))
        stored = db.execute(f"SELECT typeof({column}) FROM {table} WHERE rowid = ?",
                            (rowid,)).fetchone()[0]
    # the corruption really is there (2 in a boolean column is stored as an integer)
    assert stored == ("integer" if isinstance(value, int) else "text"), (table, column, value)
    return str(ident)


def test_the_generated_cases_cover_every_checked_column() -> None:
    """The 12 columns of the issue's failures are among the generated ones, and more."""
    columns = {(role, column) for role, column, _ in CASES}
    assert {("key_result", "target"), ("key_result", "start"), ("key_result", "current"),
            ("key_result", "weight"), ("key_result", "due_at"), ("key_result", "stages_total"),
            ("key_result", "has_history"), ("check_in", "value"), ("check_in", "at"),
            ("objective", "weight"), ("objective", "start_at"),
            ("objective", "include_children"), ("checkpoint", "done")} <= columns
    assert len(columns) >= 25


@pytest.mark.parametrize(("role", "column", "value"), CASES,
                         ids=[f"{r}.{c}={v}" for r, c, v in CASES])
def test_one_bad_value_is_one_row_error(template: Path, tmp_path: Path,
                                       clean_results: dict[str, dict[str, tuple[Any, ...]]],
                                       role: str, column: str, value: Any) -> None:
    path = tmp_path / "okrs.db"
    shutil.copy(template, path)
    ident = corrupt(path, role, column, value)
    report = S.recompute(create_engine(f"sqlite:///{path}"), as_of=AS_OF)
    table = ITEM_ROLES.get(role, "key_results")
    [error] = [e for e in report.errors if e.error.code == "wrong_type"]
    assert (error.table, error.key) == (table, ident)
    assert column in error.error.path and column in error.error.message
    assert repr(value) in error.error.message
    if role not in ITEM_ROLES:
        assert S.REFERENCE.table(role).name.removeprefix("okrcore_") in error.error.message
    assert "\n" not in error.error.message
    stored = results(path)
    # the bad item is never written ...
    bad = stored["okrcore_objective_results" if table == "objectives" else "okrcore_kr_results"]
    assert ident not in bad
    # ... and everything else that was written equals the clean run, "other" included
    for name, rows in stored.items():
        for key, row in rows.items():
            assert row == clean_results[name][key], (name, key)
    assert "o1" in stored["okrcore_kr_results"] and "other" in stored["okrcore_objective_results"]
    assert "dan" in stored["okrcore_person_results"]


@pytest.mark.parametrize(("role", "column", "value"), [
    ("key_result", "target", "abc"), ("key_result", "has_history", "maybe"),
    ("objective", "include_children", "yes"), ("check_in", "at", "abc")])
def test_the_command_exits_1_with_the_row_error(template: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                role: str, column: str, value: Any) -> None:
    path = tmp_path / "okrs.db"
    shutil.copy(template, path)
    ident = corrupt(path, role, column, value)
    status = main(["recompute", f"sqlite:///{path}", "--as-of", "2026-02-15", "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert status == EXIT_ITEM_ERRORS
    assert "Traceback" not in captured.err
    [instant] = report["instants"]
    [error] = [e for e in instant["errors"] if e["code"] == "wrong_type"]
    assert error["key"] == ident and repr(value) in error["message"]
    assert instant["key_results"] >= 1  # the rest was written


# --- whole-source failures --------------------------------------------------------------------


def run(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["recompute", url, "--as-of", "2026-02-15"])
    captured = capsys.readouterr()
    return status, captured.err


def assert_unreadable(err: str, url: str) -> None:
    """One line naming the database: a known failure, not an internal error."""
    assert_one_line(err)
    assert err.startswith(f"okrcore recompute: {url}: cannot read the organisation: "), err
    assert "internal error" not in err


def assert_one_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for leaked in ("Traceback", "SELECT", "INSERT", "[parameters", "[SQL", "sqlalche.me"):
        assert leaked not in err, err


def test_not_a_database_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database, just some text\n" * 50)
    status, err = run(f"sqlite:///{path}", capsys)
    assert status == EXIT_USAGE
    assert_unreadable(err, f"sqlite:///{path}")
    assert "not a database" in err


def test_missing_tables_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE unrelated (a)")
    status, err = run(f"sqlite:///{path}", capsys)
    assert status == EXIT_USAGE
    assert_unreadable(err, f"sqlite:///{path}")
    assert "no such table" in err


def test_truncated_database_exits_2(template: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "truncated.db"
    path.write_bytes(template.read_bytes()[:4096])
    status, err = run(f"sqlite:///{path}", capsys)
    assert status == EXIT_USAGE
    assert_unreadable(err, f"sqlite:///{path}")


@pytest.fixture
def computed(template: Path, tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    """A database with one complete snapshot; yields it and its stored results."""
    path = tmp_path / "okrs.db"
    shutil.copy(template, path)
    S.recompute(create_engine(f"sqlite:///{path}"), as_of=AS_OF)
    yield path, results(path)


def test_read_only_database_exits_4(computed: tuple[Path, Any],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Opened read-only (``mode=ro``: file permissions do not stop root, which CI runs as)."""
    path, before = computed
    with sqlite3.connect(path) as db:  # a changed input, so the run has something to write
        db.execute("UPDATE okrcore_key_results SET current = 90, version = version + 1 "
                   "WHERE id = 'o1'")
    status = main(["recompute", f"sqlite:///file:{path}?mode=ro&uri=true", "--as-of",
                   "2026-02-15"])
    captured = capsys.readouterr()
    assert status == EXIT_FAILED
    [failed] = [line for line in captured.out.splitlines() if "FAILED" in line]
    assert "readonly" in failed and "the stored snapshots are as they were" in failed
    for leaked in ("Traceback", "UPDATE", "INSERT", "[parameters", "[SQL"):
        assert leaked not in captured.out + captured.err
    assert results(path) == before  # the previous snapshot, unchanged


def test_read_only_failure_is_one_line_in_the_summary(computed: tuple[Path, Any],
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    path, before = computed
    status = main(["recompute", f"sqlite:///file:{path}?mode=ro&uri=true", "--as-of",
                   "2026-03-01", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_FAILED and report["exit_code"] == EXIT_FAILED
    [failure] = report["failures"]
    assert_one_line(failure)
    assert "readonly" in failure
    assert results(path) == before


def test_full_database_exits_4(computed: tuple[Path, Any], capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk, as the driver reports it: every INSERT fails with SQLITE_FULL's message.

    (A real size-limited filesystem is the fault-injection suite's; this pins the mapping.)
    """
    import sqlalchemy

    path, before = computed
    real = sqlalchemy.create_engine

    def full(url: Any, **kwargs: Any) -> Engine:
        bind = real(url, **kwargs)

        @event.listens_for(bind, "before_cursor_execute")
        def _full(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT"):
                raise sqlite3.OperationalError("database or disk is full")

        return bind

    monkeypatch.setattr(sqlalchemy, "create_engine", full)
    status = main(["recompute", f"sqlite:///{path}", "--as-of", "2026-03-01/2026-03-08/P1D",
                   "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_FAILED, report
    assert report["instants"] == [] and len(report["failures"]) == 8
    for failure in report["failures"]:
        assert_one_line(failure)
        assert "database or disk is full" in failure
    assert results(path) == before


def test_a_good_database_still_exits_0(computed: tuple[Path, Any],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = computed
    status, err = run(f"sqlite:///{path}", capsys)
    assert status == EXIT_OK and err == ""


# --- PostgreSQL ---------------------------------------------------------------------------------


def test_postgresql_cannot_hold_the_corruptions() -> None:
    """PostgreSQL types every column: none of the generated corruptions can be stored there.

    So the type corruptions are tested on SQLite only; here each generated UPDATE is refused
    by PostgreSQL itself, and a clean recompute of the same organisation has no row error
    (the validation accepts what the PostgreSQL driver returns: floats, ints, booleans).
    """
    bind = create_engine(postgres_url())
    drop_okrcore_tables(bind)
    try:
        S.store_document(bind, okrcore.loads(json.dumps(DOCUMENT)))
        report = S.recompute(bind, as_of=AS_OF)
        assert report.errors == () and report.key_results == 6 and report.objectives == 4
        refused = 0
        for role, column, value in CASES:
            table = S.REFERENCE.table(role).name
            try:
                with bind.begin() as conn:
                    conn.execute(text(f'UPDATE "{table}" SET "{column}" = :v'), {"v": value})
            except DBAPIError:
                refused += 1  # not a value of the column's type: it cannot be stored
        # accepted: only what PostgreSQL itself reads as the column's type ('yes' is true)
        assert refused >= len(CASES) - 4 * 2
        again = S.recompute(bind, as_of=AS_OF)
        assert not [e for e in again.errors if e.error.code == "wrong_type"]
    finally:
        drop_okrcore_tables(bind)
        bind.dispose()



def test_a_sqlite_timestamp_that_is_not_an_instant_is_read_as_itself(tmp_path: Path) -> None:
    """A :class:`~okrcore_sqlalchemy.Timestamp` column (Django's storage) holding text that is
    not an instant reads as that text, which the job reports, not as NULL (absent)."""
    from sqlalchemy import Column, MetaData, String, Table, select

    from okrcore_sqlalchemy.reading import _INSTANT, _fits, _raw

    table = Table("t", MetaData(), Column("k", String, primary_key=True),
                  Column("at", S.Timestamp()))
    bind = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    table.create(bind)
    with bind.begin() as conn:
        conn.execute(table.insert(), [{"k": "ok", "at": AS_OF}, {"k": "none", "at": None}])
        conn.execute(text("INSERT INTO t (k, at) VALUES ('bad', 'abc'), "
                          "('month', '2026-13-01 00:00:00')"))
        got: dict[str, Any] = dict(conn.execute(select(table.c.k, _raw(table, "at"))).all())
    assert got == {"ok": 1771113600000000, "none": None, "bad": "abc",
                   "month": "2026-13-01 00:00:00"}
    assert [_fits(got[k], _INSTANT) for k in ("ok", "none", "bad", "month")] \
        == [True, True, False, False]


def test_a_document_into_a_read_only_database_exits_4(computed: tuple[Path, Any], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """Storing the organisation fails: nothing was written (exit 4), the snapshot is intact."""
    path, before = computed
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    status = main(["recompute", str(source), "-o", f"sqlite:///file:{path}?mode=ro&uri=true",
                   "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_FAILED
    [failure] = report["failures"]
    assert_one_line(failure)
    assert "readonly" in failure and "nothing was written" in failure
    assert results(path) == before


def test_an_unreadable_database_into_a_document_exits_2(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"not a database\n" * 100)
    status = main(["recompute", f"sqlite:///{path}", "-o", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert status == EXIT_USAGE
    assert_one_line(err)
    assert_unreadable(err, f"sqlite:///{path}")
    assert not (tmp_path / "out.json").exists()


def test_what_a_checked_column_accepts() -> None:
    """By the type the driver returns: a custom schema's Numeric column (Decimal) is a number,
    a loose boolean or text is not."""
    from decimal import Decimal

    from okrcore_sqlalchemy.reading import _FLAG, _INSTANT, _INTEGER, _NUMBER, _fits

    assert all(_fits(v, _NUMBER) for v in (1, 1.5, Decimal("2.5"), None))
    assert not any(_fits(v, _NUMBER) for v in ("1", "abc", b"1", True))
    assert all(_fits(v, _FLAG) for v in (True, False, 0, 1))
    assert not any(_fits(v, _FLAG) for v in (None, 2, -1, 0.5, "yes", "maybe", "1"))
    assert all(_fits(v, _INSTANT) for v in (0, 1771113600000000, None))
    assert not any(_fits(v, _INSTANT) for v in (1.5, "2026-02-15", True))
    assert _fits(3, _INTEGER) and not any(_fits(v, _INTEGER) for v in (None, "3", 3.0))


# --- the same rows read as a document (a database source into a document or workbook) -------


DOCUMENT_CASES = [c for c in CASES if c[1] != "version"]  # a document has no versions


@pytest.mark.parametrize(("role", "column", "value"), DOCUMENT_CASES,
                         ids=[f"{r}.{c}={v}" for r, c, v in DOCUMENT_CASES])
def test_load_document_makes_the_bad_item_invalid(template: Path, tmp_path: Path, role: str,
                                                  column: str, value: Any) -> None:
    from okrcore.model import InvalidKeyResult, InvalidObjective

    clean = S.load_document(create_engine(f"sqlite:///{template}"))
    path = tmp_path / "okrs.db"
    shutil.copy(template, path)
    ident = corrupt(path, role, column, value)
    document = S.load_document(create_engine(f"sqlite:///{path}"))
    items: dict[str | None, Any] = {o.id: o for o in document.objectives}
    items.update({kr.id: kr for o in document.objectives for kr in o.key_results})
    bad = items[ident]
    assert isinstance(bad, InvalidObjective if role == "objective" else InvalidKeyResult)
    [error] = [e for e in bad.errors if e.code == "wrong_type"]
    assert column in error.message and repr(value) in error.message
    assert items["other"] == next(o for o in clean.objectives if o.id == "other")
    okrcore.evaluate(document)  # evaluates: the bad item is one error


def test_a_bad_row_into_a_document_exits_1(template: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "okrs.db"
    shutil.copy(template, path)
    corrupt(path, "objective", "include_children", "yes")  # was read as true
    out = tmp_path / "out.json"
    status = main(["recompute", f"sqlite:///{path}", "--as-of", "2026-02-15", "-o", str(out),
                   "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == EXIT_ITEM_ERRORS
    [error] = [e for e in report["instants"][0]["errors"] if e["code"] == "wrong_type"]
    assert "include_children is 'yes'" in error["message"]
    evaluation = json.loads(out.read_text(encoding="utf-8"))
    assert evaluation["objectives"]  # written, with the rest evaluated
