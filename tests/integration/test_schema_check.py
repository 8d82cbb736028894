"""The commands that serve or write the store refuse a database whose schema is not this version's."""

from __future__ import annotations

import pytest
from alembic import command

from app.cli import main
from app.db import alembic_config, schema_problem


def test_a_schema_behind_the_code_is_refused_until_migrated(database_url, monkeypatch, capsys):
    assert schema_problem(database_url) is None
    command.downgrade(alembic_config(database_url), "0015")
    problem = schema_problem(database_url)
    assert problem is not None and "0015" in problem and "0016" in problem and "timeline migrate" in problem
    monkeypatch.setenv("TIMELINE_DATABASE_URL", database_url)
    for refused in (["project", "--once"], ["worker"], ["serve"], ["import", "no-such-file.ndjson"]):
        assert main(refused) == 2
        assert "run `timeline migrate` first" in capsys.readouterr().err
    assert main(["migrate"]) == 0
    assert schema_problem(database_url) is None


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_database_with_no_schema_is_refused(tmp_path, backend):
    problem = schema_problem(f"sqlite:///{tmp_path / 'empty.db'}")
    assert problem == "the database has no schema yet: run `timeline migrate` first"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_schema_newer_than_the_code_is_refused(tmp_path, backend):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'newer.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0099')")
    engine.dispose()
    problem = schema_problem(url)
    assert problem is not None and "0099" in problem and "newer than this version knows" in problem


def test_the_head_kept_apart_from_the_events_before_0016_is_rebuilt_from_them_and_back(database_url):
    """0016 reads the head and the streams' versions from the events; undoing it writes them back."""
    import sqlalchemy as sa

    from app.db import create_engine
    from app.store import EventStore, NewEvent

    engine = create_engine(database_url)
    store = EventStore(engine)
    store.append("a", [NewEvent("IncidentOpened", {"title": "a"}), NewEvent("Noted", {"n": 1})])
    store.append("b", [NewEvent("IncidentOpened", {"title": "b"})])
    engine.dispose()
    command.downgrade(alembic_config(database_url), "0015")
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT position FROM log_head")).scalar_one() == 3
        assert conn.execute(sa.text("SELECT incident_id, version FROM streams ORDER BY 1")).all() == [
            ("a", 2),
            ("b", 1),
        ]
    engine.dispose()
    command.upgrade(alembic_config(database_url), "head")
    engine = create_engine(database_url)
    store = EventStore(engine)
    assert store.append("a", [NewEvent("Noted", {"n": 2})], expected_version=2).positions == [4]
    assert [(incident, version) for incident, version, _ in store.list_streams()] == [("a", 3), ("b", 1)]
    assert store.head_position() == 4
    engine.dispose()
