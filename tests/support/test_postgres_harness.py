"""The throwaway PostgreSQL cluster: durable settings, template copies, and nothing left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from tests.support.postgres import ENV_URL, TemporaryPostgres

REPO = Path(__file__).resolve().parents[2]

temporary_cluster = pytest.mark.skipif(
    bool(os.environ.get(ENV_URL)), reason=f"{ENV_URL} is set: the suite uses that server, not a temporary cluster"
)


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@temporary_cluster
def test_cluster_is_durable_copies_templates_and_leaves_nothing_behind():
    with TemporaryPostgres() as pg:
        port, directory = pg.port, pg.directory
        assert pg.url("db") == f"postgresql+psycopg://postgres@127.0.0.1:{port}/db"
        with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("15")
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
            assert conn.execute("SHOW fsync").fetchone()[0] == "on"

        pg.create_database("timeline_template")
        template = psycopg.connect(pg.dsn("timeline_template"), autocommit=True)
        template.execute("CREATE TABLE events (id int PRIMARY KEY)")
        template.execute("INSERT INTO events VALUES (1), (2)")
        # Left open, as a migration's pooled connection might be: create_database closes it.
        pg.create_database("t1", template="timeline_template")
        with pytest.raises(psycopg.OperationalError):
            template.execute("SELECT 1")
        template.close()

        engine = sa.create_engine(pg.url("t1"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == 2
        engine.dispose()

        pg.drop_database("t1")
        with psycopg.connect(pg.dsn("postgres")) as conn:
            assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = 't1'").fetchone()[0] == 0

    assert not accepts_connections(port)
    assert not directory.exists()
    pg.stop()  # a second stop is harmless


@temporary_cluster
def test_cluster_is_stopped_when_the_test_process_is_killed():
    script = (
        "import os, signal\n"
        "from tests.support.postgres import TemporaryPostgres\n"
        "pg = TemporaryPostgres().start()\n"
        "print(pg.port, pg.directory, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    port, directory = result.stdout.split()
    assert wait_until(lambda: not accepts_connections(int(port)) and not Path(directory).exists())


def test_an_existing_server_is_used_as_is(monkeypatch):
    monkeypatch.setenv(ENV_URL, "postgresql://app:s3cret@db.internal:6543")
    pg = TemporaryPostgres().start()  # starts nothing
    assert pg.directory is None
    assert pg.url("t1") == "postgresql+psycopg://app:s3cret@db.internal:6543/t1"
    assert dict(psycopg.conninfo.conninfo_to_dict(pg.dsn("t1"))) == {
        "host": "db.internal",
        "port": "6543",
        "user": "app",
        "password": "s3cret",
        "dbname": "t1",
    }
    pg.stop()


def test_missing_binaries_name_what_to_install(monkeypatch, tmp_path):
    from tests.support import postgres

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "DEBIAN_BINARIES", tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        postgres.find_bindir()
