"""`timeline project` as real processes: kill -9 one mid-work and the index loses nothing; on
PostgreSQL exactly one process projects, and another takes over when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from app.projections.index.projector import Projector
from app.projections.index.query import AssertionIndex
from app.projections.reader import Timelines
from app.projections.timeline import Filters, entries, fold
from app.store import NewEvent
from tests.support.live import REPO

pytestmark = pytest.mark.e2e


def record(store, incident: str, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        data = {"assertion_id": f"a{n}", "kind": "shooting", "occurred": "2026-01-24", "headline": f"h{n}"}
        store.append(
            incident, [NewEvent("AssertionRecorded", {**data, "actors": [], "sources": [{"outlet": "CNN"}]}, 2)]
        )


def projector_process(database_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "project"],
        env={**os.environ, "TIMELINE_DATABASE_URL": database_url},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def index_position(store) -> int:
    return Projector(store, Timelines(store, None)).position()


def answers_the_fold(store) -> None:
    head = store.head_position()
    events = store.read_all(limit=1_000_000)
    expected = sorted(
        (
            e["assertion_id"]
            for incident in {e.incident_id for e in events}
            for e in entries(fold(incident, [x for x in events if x.incident_id == incident]), Filters())
        ),
    )
    got = sorted(e["assertion_id"] for e in AssertionIndex(store.engine).page(head, Filters(), limit=None).assertions)
    assert got == expected


def test_a_projector_killed_mid_work_loses_nothing(database_url, store):
    record(store, "killed", 3000)  # three batches of the projector's
    first = projector_process(database_url)
    try:
        wait_for(lambda: index_position(store) > 0, "the projector to start")
        first.send_signal(signal.SIGKILL)  # no shutdown: a batch may be half folded, never half written
        first.wait(timeout=30)
    finally:
        first.kill()
    assert 0 < index_position(store) < store.head_position(), "killed mid-work, with batches left"
    record(store, "killed", 100, start=3000)
    second = projector_process(database_url)
    try:
        wait_for(lambda: index_position(store) == store.head_position(), "the next projector to reach the head")
    finally:
        second.terminate()
        second.wait(timeout=30)
    answers_the_fold(store)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_one_projector_at_a_time_and_another_takes_over_when_it_dies(database_url, store, backend):
    from app.leadership import PROJECTOR, role_key

    def holders() -> list[int]:
        with store.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND ((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": role_key(PROJECTOR)},
                ).scalars()
            )

    record(store, "shared", 10)
    processes = [projector_process(database_url) for _ in range(2)]
    try:
        wait_for(lambda: len(holders()) == 1, "one projector to take the lock")
        wait_for(lambda: index_position(store) == store.head_position(), "the index to reach the head")
        time.sleep(1.5)  # several polls: the other process keeps trying, and must not get it
        assert len(holders()) == 1
        holder = holders()[0]
        with store.engine.connect() as conn:
            holding_client = conn.execute(
                sa.text("SELECT client_port FROM pg_stat_activity WHERE pid = :pid"), {"pid": holder}
            ).scalar()
        assert holding_client is not None
        # Which process holds it: the one whose connection that is. Kill it with SIGKILL.
        killed = next(p for p in processes if _owns_port(p.pid, holding_client))
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        survivor = next(p for p in processes if p is not killed)
        wait_for(lambda: holders() != [] and holders() != [holder], "the other projector to take over")
        record(store, "shared", 10, start=10)
        wait_for(lambda: index_position(store) == store.head_position(), "the survivor to follow the log")
        assert survivor.poll() is None
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=30)
    answers_the_fold(store)


def _owns_port(pid: int, port: int) -> bool:
    """Whether the process has a TCP connection from this local port (read from /proc)."""
    try:
        inodes = {
            os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1]
            for fd in os.listdir(f"/proc/{pid}/fd")
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        }
    except FileNotFoundError:
        return False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == port and fields[9] in inodes:
                    return True
    return False


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_min_position_waits_for_the_process_that_projects(database_url, store, backend, monkeypatch):
    """A server that does not keep the index (another process holds the lock) answers a
    `min_position` read once the holder has reached it, and says so plainly if it does not in time."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.config import Settings
    from app.projections import reads as reads_module

    record(store, "waiting", 5)
    holder = projector_process(database_url)
    try:
        wait_for(lambda: index_position(store) == store.head_position(), "the holder to reach the head")
        app = create_app(Settings(database_url=database_url, webhook_dispatcher=False))
        with TestClient(app) as client:
            assert not app.state.reads.follower.leadership.holding  # the other process keeps it
            record(store, "waiting", 1, start=5)
            wanted = store.head_position()
            answer = client.get("/v1/assertions", params={"min_position": wanted, "incident": "waiting"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["position"] >= wanted and answer.json()["total"] == 6

            holder.send_signal(signal.SIGSTOP)  # alive, holding the lock, projecting nothing
            try:
                record(store, "waiting", 1, start=6)
                monkeypatch.setattr(reads_module, "MIN_POSITION_SECONDS", 1.0)  # bounded: here, a second
                late = client.get("/v1/assertions", params={"min_position": store.head_position()})
                assert late.status_code == 422 and "try again shortly" in late.json()["detail"]
            finally:
                holder.send_signal(signal.SIGCONT)
    finally:
        holder.kill()
        holder.wait(timeout=30)
