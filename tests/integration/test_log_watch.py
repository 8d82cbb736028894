"""The log watch (app.store.backends.LogWatch) that lets a process trust its copies of the timelines'
head versions past their bound: its token stays the same while nothing is committed, and changes
with any commit, this process's or another's. SQLite: data_version on a connection of its own;
PostgreSQL: the listener hearing every append, and the store's own appends."""

from __future__ import annotations

import threading
import time

import psycopg

from app.db import create_engine
from app.store import EventStore, NewEvent
from app.store.listener import APPENDED_CHANNEL


def opened(title: str) -> list[NewEvent]:
    return [NewEvent(type="IncidentOpened", data={"title": title})]


def listening(store: EventStore):
    listener = store.listen(lambda stream, version: None)
    if listener is not None:
        listener.start()
        assert listener.wait_listening(30)
    return listener


def test_the_token_stays_while_nothing_is_committed_and_changes_with_any_commit(database_url, backend):
    engine, elsewhere = create_engine(database_url), create_engine(database_url)
    store, other = EventStore(engine), EventStore(elsewhere)
    listener = listening(store)
    watch = store.log_watch(listener)
    try:
        assert watch is not None
        store.append("a", opened("A"))
        before = watch.token()
        store.read_stream("a")  # reads commit nothing
        assert watch.token() == before
        store.append("a", [NewEvent("Noted", {"n": 1})])  # this process's own append
        mine = watch.token()
        assert mine != before
        if backend == "sqlite":
            other.append("b", opened("B"))  # another process's commit: the data_version moves
            assert watch.token() != mine
        else:
            # Another process's append is heard by the listener, which moves the head versions
            # itself: the token stays while the listener hears everything, and changes once it
            # may have missed something.
            other.append("b", opened("B"))
            assert watch.token() == mine
            with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE %s",
                    (f"LISTEN {APPENDED_CHANNEL}%",),
                )
            deadline = time.monotonic() + 30
            while watch.token() == mine and time.monotonic() < deadline:
                threading.Event().wait(0.02)
            assert watch.token() != mine
            assert listener.wait_listening(30)
            again = watch.token()
            assert watch.token() == again, "listening once more, it stays again"
    finally:
        if watch is not None:
            watch.close()
        if listener is not None:
            listener.stop()
        engine.dispose()
        elsewhere.dispose()


def test_an_in_memory_database_has_no_watch():
    engine = create_engine("sqlite://")
    assert EventStore(engine).log_watch(None) is None
    engine.dispose()
