"""Shared fixtures of the ORM adapter tests: SQLite always, PostgreSQL when configured.

PostgreSQL tests read ``OKRCORE_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets it).
Locally they are skipped with a reason when it is unset; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import Engine, create_engine, text

from okrcore import (
    Binary,
    CheckIn,
    Checkpoint,
    Document,
    Metric,
    Milestone,
    Objective,
    Range,
)

POSTGRES_URL_VAR = "OKRCORE_TEST_POSTGRES_URL"
AS_OF = datetime(2026, 2, 15, tzinfo=UTC)
JAN1 = datetime(2026, 1, 1, tzinfo=UTC)


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {POSTGRES_URL_VAR} is not set: the adapter tests must run "
                    "against PostgreSQL in CI (.ci/run starts a server and sets it)")
    pytest.skip(f"no PostgreSQL server configured: set {POSTGRES_URL_VAR}, e.g. "
                "postgresql+psycopg://postgres@127.0.0.1:5432/okrcore_test")


def hand_document() -> Document:
    """Hand-computed: call-time 0.6, crm 0.6 -> support 0.6; deal 1, calls 0.4 -> sales 0.7."""
    return Document(as_of=AS_OF, objectives=[
        Objective(id="support", owner="ann", start=JAN1, due=datetime(2026, 4, 1, tzinfo=UTC),
                  key_results=[
                      Metric(id="call-time", unit="min", start=45, target=20, current=30),
                      Milestone(id="crm", stages_total=5, stages_done=3),
                  ]),
        Objective(id="company", owner="cea"),
        Objective(id="sales", owner="bob", parent="company", key_results=[
            Binary(id="deal", done=True),
            Metric(id="calls", unit="calls", target=10, check_ins=[
                CheckIn(at=datetime(2026, 1, 10, tzinfo=UTC), value=4),
                CheckIn(at=datetime(2026, 2, 20, tzinfo=UTC), value=9)]),
            Milestone(id="launch", checkpoints=[Checkpoint("spec", True), Checkpoint("beta")],
                      weight=0),
            Metric(id="latency", target=200, start=400, current=320, owners=["dan"],
                   range=Range(red_low=100, yellow_low=150, yellow_high=300, red_high=350,
                               mode="graded"), weight=0),
        ]),
    ])


def printable(document: Document) -> Document:
    """The document with NUL characters out of its names (PostgreSQL text cannot hold them)."""
    def clean(item: Any) -> Any:
        changes: dict[str, Any] = {"name": item.name.replace("\x00", "?")}
        if getattr(item, "checkpoints", None):
            changes["checkpoints"] = [attrs.evolve(p, name=p.name.replace("\x00", "?"))
                                      for p in item.checkpoints]
        return attrs.evolve(item, **changes)
    return attrs.evolve(document, objectives=[
        attrs.evolve(clean(o), key_results=[clean(k) for k in o.key_results])
        for o in document.objectives])


def drop_okrcore_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename LIKE 'okrcore%' AND tablename NOT LIKE 'okrcore_example%'")
            ).scalars().all()
            for name in names:
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))


@pytest.fixture(name="engine", params=["sqlite", "postgresql"])
def engine_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        bind = create_engine(f"sqlite:///{tmp_path / 'okr.db'}")
    else:
        bind = create_engine(postgres_url())
        drop_okrcore_tables(bind)
    yield bind
    bind.dispose()
