"""`timeline verify --url` watching a real `timeline serve` (both backends): each new checkpoint is
verified against the last one it kept, and a store whose past was rewritten — tree and all, so that
the service's own answers agree with one another — is caught at the next checkpoint."""

from __future__ import annotations

import time

import httpx
import pytest
import sqlalchemy as sa

from app.store import NewEvent
from app.store.tree import LogTree
from tests.support.live import ServerProcess, timeline

pytestmark = pytest.mark.e2e

TRIGGERS = {
    "sqlite": ["events_refuse_update", "merkle_nodes_refuse_delete"],
    "postgres": ["events_refuse_update_delete ON events", "merkle_nodes_refuse_update_delete ON merkle_nodes"],
}


def checkpoint_at(url: str, size: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = httpx.get(f"{url}/v1/log/checkpoint", timeout=5)
        if answer.status_code == 200 and int(answer.headers["Timeline-Tree-Size"]) >= size:
            return
        time.sleep(0.1)
    raise AssertionError(f"no checkpoint at tree size {size} within 30 s")


def test_the_monitor_verifies_each_checkpoint_and_catches_a_rewritten_past(store, database_url, backend, tmp_path):
    env = {
        "TIMELINE_DATABASE_URL": database_url,
        "TIMELINE_LOG_KEY_FILE": str(tmp_path / "log.key"),
        "TIMELINE_CHECKPOINT_INTERVAL": "0.2",
        "TIMELINE_WEBHOOK_DISPATCHER": "false",
    }
    state = tmp_path / "seen.json"
    watch = ["verify", "--url", None, "--state", str(state)]
    server = ServerProcess(env).start()
    try:
        watch[2] = server.url
        store.append("a-story", [NewEvent("Noted", {"quote": f"said {n}"}) for n in range(3)])
        checkpoint_at(server.url, 3)
        first = timeline(*watch, env=env, check=False)
        assert first.returncode == 0 and "signature good (the first one seen)" in first.stdout, first.stderr

        store.append("a-story", [NewEvent("Noted", {"quote": "said 3"})])
        checkpoint_at(server.url, 4)
        second = timeline(*watch, env=env, check=False)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "checkpoint at tree size 4: signature good, consistent with the one at 3" in second.stdout

        # Rewrite the second event and rebuild the whole tree to match it: every proof the service
        # now serves agrees with its new root, but not with the checkpoints it signed before.
        with store.engine.begin() as conn:
            for trigger in TRIGGERS[backend]:
                conn.execute(sa.text(f"DROP TRIGGER {trigger}"))
            conn.execute(sa.text("DELETE FROM merkle_nodes"))
            if backend == "sqlite":
                conn.execute(sa.text('UPDATE events SET data = \'{"quote": "never said"}\' WHERE position = 2'))
            else:
                conn.execute(sa.text('UPDATE events SET data = \'{"quote": "never said"}\'::json WHERE position = 2'))
            conn.execute(sa.text("UPDATE log_head SET tree_size = 0, frontier = :empty"), {"empty": b""})
        # The server's checkpoint loop catches the tree up as well (every 0.2 s here): whichever
        # of the two gets there first, the tree is rebuilt over the four events, rewritten one included.
        LogTree(store.engine).catch_up()
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT tree_size FROM log_head")).scalar_one() == 4
        store.append("a-story", [NewEvent("Noted", {"quote": "said 4"})])
        checkpoint_at(server.url, 5)
        caught = timeline(*watch, env=env, check=False)
        assert caught.returncode == 1, caught.stdout + caught.stderr
        assert (
            "NOT VERIFIED: the checkpoint at tree size 5 is not consistent with the one at 4 verified before"
            in caught.stdout
        )
    finally:
        server.stop()


def test_the_monitor_says_when_there_is_no_service_to_watch(tmp_path):
    result = timeline("verify", "--url", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json"), env={}, check=False)
    assert result.returncode == 2
    assert "did not answer as a timeline service does" in result.stderr
