"""Shared fixtures of the ORM adapter tests: SQLite always, PostgreSQL when configured.

PostgreSQL tests read ``OKRCORE_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets it).
Locally they are skipped with a reason when it is unset; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

POSTGRES_URL_VAR = "OKRCORE_TEST_POSTGRES_URL"


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {POSTGRES_URL_VAR} is not set: the adapter tests must run "
                    "against PostgreSQL in CI (.ci/run starts a server and sets it)")
    pytest.skip(f"no PostgreSQL server configured: set {POSTGRES_URL_VAR}, e.g. "
                "postgresql+psycopg://postgres@127.0.0.1:5432/okrcore_test")


def drop_okrcore_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename LIKE 'okrcore%'")).scalars().all()
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
