"""Hearing other processes' appends on PostgreSQL (app.store.listener): NOTIFY sent with the commit,
heard by every other store's listener, not by the store that appended; a dropped connection is
taken again and said to have possibly missed something; a notification that does not parse is
ignored. SQLite has nothing to listen to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from app.db import create_engine
from app.store import EventStore, NewEvent
from app.store.listener import APPENDED_CHANNEL, AppendListener

Heard = list[tuple[str | None, int | None]]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        threading.Event().wait(0.02)


def opened(title: str) -> list[NewEvent]:
    return [NewEvent(type="IncidentOpened", data={"title": title})]


@pytest.fixture
def listening(database_url) -> Iterator[tuple[EventStore, AppendListener, Heard]]:
    engine = create_engine(database_url)
    store = EventStore(engine)
    heard: Heard = []
    listener = store.listen(lambda stream, version: heard.append((stream, version)))
    if listener is None:
        engine.dispose()
        pytest.skip("only PostgreSQL tells of commits")
    listener.start()
    assert listener.wait_listening(10)
    yield store, listener, heard
    listener.stop()
    engine.dispose()


def test_sqlite_has_nothing_to_listen_to(store, backend):
    if backend != "sqlite":
        pytest.skip("the SQLite side of the seam")
    assert store.listen(lambda stream, version: None) is None


def test_another_stores_appends_are_heard_in_commit_order_and_its_own_are_not(listening, store):
    mine, listener, heard = listening
    mine.append("own-incident", opened("ours"))  # heard as it returns, not again
    store.append("pretti", opened("Pretti"))
    store.append("pretti", [NewEvent(type="IncidentRevised", data={"summary": "a"})])
    store.append("good", opened("Good"))
    wait_until(lambda: len(heard) == 3, "three appends to be heard")
    assert heard == [("pretti", 1), ("pretti", 2), ("good", 1)]
    assert listener.heard == 3


def test_a_dropped_connection_is_taken_again_and_said_to_have_missed_something(listening, store, database_url):
    _, listener, heard = listening
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
            (f"LISTEN {APPENDED_CHANNEL}%",),
        ).fetchall()
        assert ended == [(True,)]
    wait_until(lambda: (None, None) in heard, "the listener to say it may have missed appends")
    assert listener.wait_listening(30)
    store.append("pretti", opened("Pretti"))
    wait_until(lambda: ("pretti", 1) in heard, "an append after the reconnect to be heard")


def test_a_notification_that_does_not_parse_is_ignored(listening, store, database_url, caplog):
    _, _, heard = listening
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as other:
        other.execute("SELECT pg_notify(%s, %s)", (APPENDED_CHANNEL, "not json"))
    store.append("pretti", opened("Pretti"))
    wait_until(lambda: heard == [("pretti", 1)], "the next append to be heard")
    assert "does not parse" in caplog.text
