"""Fixtures shared by every suite: a fresh, migrated database per test on SQLite or PostgreSQL."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import sqlalchemy as sa

from app.config import Settings
from app.db import create_engine, migrate
from app.store import EventStore
from app.store.keys import KeyRing
from tests.support.examples import examples

# Properties without their own count draw Hypothesis's default, scaled as `examples` scales.
settings_profile = hypothesis.settings(max_examples=examples(100))
hypothesis.settings.register_profile("timeline", settings_profile)
hypothesis.settings.load_profile("timeline")

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL cluster for the whole run, with a migrated template database."""
    from tests.support.postgres import TemporaryPostgres

    server = TemporaryPostgres()
    server.start()
    try:
        server.create_database("timeline_template")
        migrate(server.url("timeline_template"))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    migrate(url)
    # Fold the WAL into the main file so a plain copy is a complete database.
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def fresh_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "timeline.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("postgres_server")
    name = f"t{next(_counter)}"
    server.create_database(name, template="timeline_template")
    return server.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    return fresh_database_url(backend, request, tmp_path)


@pytest.fixture
def engine(database_url) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine) -> EventStore:
    return EventStore(engine)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Checkpoints only when a test issues one (app.state.log.checkpoint_now()), not on the server's clock.
    return Settings(
        database_url=database_url, webhook_dispatcher=False, log_key_file=tmp_path / "log.key", checkpoint_seconds=3600
    )


@pytest.fixture
def keys(engine) -> KeyRing:
    return KeyRing(engine)
