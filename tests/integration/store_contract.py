"""The event store's contract: one suite, subclassed per backend (test_store_sqlite, test_store_postgres)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db import migrate
from app.proofs.leaves import event_leaf
from app.proofs.merkle import root_hash, verify_consistency, verify_inclusion
from app.proofs.notes import Checkpoint, Signer, Verifier
from app.store import DuplicateEventId, EventStore, IdempotencyKeyReused, NewEvent, VersionConflict
from app.store import store as store_module
from app.store.appenders import SMALL_BATCH
from app.store.tables import events as events_table
from app.store.tree import Checkpoints, LogTree, as_stored, stored_record
from tests.support.examples import examples

T0 = datetime(2026, 2, 2, 12, tzinfo=timezone.utc)


def note(n: int, **extra) -> NewEvent:
    return NewEvent("Noted", {"n": n}, **extra)


def all_positions(store: EventStore) -> list[int]:
    return [event.position for event in store.read_all(after_position=0, limit=1_000_000)]


def _closed(connection) -> bool:
    try:
        connection.execute("SELECT 1")
    except Exception:
        return True
    return False


class StoreContract:
    backend: str

    def test_versions_and_positions_start_at_one_and_are_consecutive(self, store):
        first = store.append("a", [note(1)])
        second = store.append("a", [note(2), note(3)])
        third = store.append("b", [note(4)])
        assert (first.version, first.positions) == (1, [1])
        assert (second.version, second.positions) == (3, [2, 3])
        assert (third.version, third.positions) == (1, [4])
        assert [e.version for e in store.read_stream("a")] == [1, 2, 3]
        assert all_positions(store) == [1, 2, 3, 4]
        assert store.head_position() == 4

    def test_the_envelope_is_complete(self, store):
        store.append(
            "a",
            [NewEvent("Noted", {"n": 1}, schema_version=3, reported_at=T0, metadata={"actor": "desk"})],
        )
        (event,) = store.read_stream("a")
        assert uuid.UUID(event.event_id)
        assert (event.incident_id, event.type, event.schema_version) == ("a", "Noted", 3)
        assert event.data == {"n": 1} and event.metadata == {"actor": "desk"}
        assert event.reported_at == T0
        assert event.recorded_at.tzinfo is not None
        assert abs(event.recorded_at - datetime.now(timezone.utc)) < timedelta(minutes=1)

    def test_reported_at_defaults_to_recorded_at(self, store):
        store.append("a", [note(1)])
        (event,) = store.read_stream("a")
        assert event.reported_at == event.recorded_at

    def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(self, store):
        store.append("a", [note(1), note(2)])
        with pytest.raises(VersionConflict) as conflict:
            store.append("a", [note(3)], expected_version=1)
        assert (conflict.value.expected, conflict.value.actual) == (1, 2)
        assert store.head_position() == 2 and store.stream_version("a") == 2
        assert store.append("a", [note(3)], expected_version=2).version == 3
        assert all_positions(store) == [1, 2, 3]

    def test_expected_version_zero_means_the_stream_is_new(self, store):
        store.append("a", [note(1)], expected_version=0)
        with pytest.raises(VersionConflict):
            store.append("a", [note(2)], expected_version=0)
        with pytest.raises(VersionConflict):
            store.append("missing", [note(2)], expected_version=3)
        assert store.stream_version("missing") is None
        assert all_positions(store) == [1]

    def test_a_batch_lands_whole_or_not_at_all(self, store):
        store.append("a", [note(1)])
        taken = store.read_stream("a")[0].event_id
        with pytest.raises(DuplicateEventId):
            store.append("a", [note(2), note(3, event_id=taken)])
        assert all_positions(store) == [1]
        assert store.stream_version("a") == 1
        assert store.append("a", [note(2)]).positions == [2]

    @pytest.mark.parametrize("size", [1, 40, SMALL_BATCH, SMALL_BATCH + 1])
    def test_small_and_large_batches_are_refused_alike_and_write_nothing(self, store, size):
        """PostgreSQL appends up to SMALL_BATCH events in one statement and more with COPY: the same refusals."""
        batch = [note(n) for n in range(size)]
        first = store.append("a", batch, idempotency_key="k", idempotency_scope="s")
        assert first.positions == list(range(1, size + 1)) and first.version == size
        again = store.append("a", batch, idempotency_key="k", idempotency_scope="s")
        assert again.replayed and (again.version, again.positions, again.recorded_at) == (
            first.version,
            first.positions,
            first.recorded_at,
        )
        with pytest.raises(IdempotencyKeyReused):
            store.append("a", [note(-1), *batch[1:]], idempotency_key="k", idempotency_scope="s")
        with pytest.raises(VersionConflict) as conflict:
            store.append("a", [note(n) for n in range(size)], expected_version=size - 1)
        assert conflict.value.actual == size
        taken = store.read_stream("a")[-1].event_id
        with pytest.raises(DuplicateEventId):
            store.append("a", [*(note(n) for n in range(size - 1)), note(size, event_id=taken)])
        assert all_positions(store) == list(range(1, size + 1)) and store.stream_version("a") == size
        later = store.append("b", [note(n) for n in range(size)], expected_version=0)
        assert later.positions == list(range(size + 1, 2 * size + 1))
        assert [e.version for e in store.read_stream("b")] == list(range(1, size + 1))

    @pytest.mark.parametrize("size", [1, SMALL_BATCH + 1])
    def test_data_is_stored_as_written_by_either_append_path(self, store, size):
        data = {"f": 1.0, "big": 2**70, "e": 1e100, "escapes": '\ud800 a\u0000b "q" \\', "n": {"b": [2.50], "a": None}}
        store.append("a", [NewEvent("Noted", data, metadata={"m": "é\n"}) for _ in range(size)])
        with store.engine.connect() as conn:
            stored = conn.execute(
                sa.select(sa.cast(events_table.c.data, sa.Text), sa.cast(events_table.c.metadata, sa.Text))
            ).all()
        assert stored == [(store_module._as_stored(data), store_module._as_stored({"m": "é\n"}))] * size
        assert [e.data for e in store.read_stream("a")] == [data] * size

    def test_an_appends_connection_is_held_for_the_next_and_closed_with_the_engine(self, database_url):
        from app.db import create_engine

        engine = create_engine(database_url)
        store = EventStore(engine)
        store.append("a", [note(1)])
        (held,) = engine.pool.held_connections()
        store.append("a", [note(2)])
        assert engine.pool.held_connections() == [held]
        with pytest.raises(VersionConflict):
            store.append("a", [note(3)], expected_version=0)
        assert engine.pool.held_connections() == []  # after a refusal it went back to the pool
        assert [e.version for e in store.read_stream("a")] == [1, 2]
        store.append("a", [note(3)])
        (held,) = engine.pool.held_connections()
        disposed = engine.pool
        engine.dispose()
        assert disposed.held_connections() == [] and _closed(held)
        assert store.append("a", [note(4)]).version == 4  # the new pool's connection
        engine.dispose()

    def test_appends_at_once_each_have_a_connection_and_few_are_held(self, engine):
        from app.db import held_connection

        with held_connection(engine) as first, held_connection(engine) as second:
            with held_connection(engine) as third:
                assert (
                    len({id(first.driver_connection), id(second.driver_connection), id(third.driver_connection)}) == 3
                )
        assert len(engine.pool.held_connections()) == engine.pool.HELD

    def test_a_held_connection_is_recycled_as_the_pool_would(self, database_url):
        import time

        from app.db import create_engine

        engine = create_engine(database_url, pool_recycle=0.05)
        store = EventStore(engine)
        store.append("a", [note(1)])
        (first,) = engine.pool.held_connections()
        time.sleep(0.1)
        store.append("a", [note(2)])
        assert engine.pool.held_connections() != [first]
        engine.dispose()

    def test_an_empty_batch_is_refused(self, store):
        with pytest.raises(ValueError):
            store.append("a", [])
        assert store.head_position() == 0

    def test_an_idempotent_repeat_returns_the_original_and_writes_nothing(self, store):
        first = store.append("a", [note(1)], idempotency_key="k1", idempotency_scope="key-1")
        again = store.append("a", [note(1)], idempotency_key="k1", idempotency_scope="key-1")
        assert (again.version, again.positions, again.recorded_at) == (
            first.version,
            first.positions,
            first.recorded_at,
        )
        assert again.replayed and not first.replayed
        assert all_positions(store) == [1]

    def test_an_idempotency_key_with_a_different_request_is_refused(self, store):
        store.append("a", [note(1)], idempotency_key="k1", idempotency_scope="key-1")
        with pytest.raises(IdempotencyKeyReused):
            store.append("a", [note(2)], idempotency_key="k1", idempotency_scope="key-1")
        with pytest.raises(IdempotencyKeyReused):
            store.append("a", [note(1)], expected_version=1, idempotency_key="k1", idempotency_scope="key-1")
        assert all_positions(store) == [1]

    def test_idempotency_keys_are_scoped_to_the_api_key(self, store):
        store.append("a", [note(1)], idempotency_key="k1", idempotency_scope="key-1")
        other = store.append("a", [note(1)], idempotency_key="k1", idempotency_scope="key-2")
        assert other.positions == [2] and not other.replayed

    def test_idempotency_survives_a_new_store_on_the_same_database(self, store, database_url):
        from app.db import create_engine

        store.append("a", [note(1)], idempotency_key="k1")
        reopened = EventStore(create_engine(database_url))
        assert reopened.append("a", [note(1)], idempotency_key="k1").replayed
        reopened.engine.dispose()
        assert all_positions(store) == [1]

    def test_recorded_at_never_decreases_even_when_the_clock_steps_back(self, store, monkeypatch):
        clock = iter([T0 + timedelta(hours=1), T0, T0 - timedelta(days=1), T0 + timedelta(hours=2)])
        monkeypatch.setattr(store_module, "utcnow", lambda: next(clock))
        for n in range(4):
            store.append("a", [note(n)])
        times = [event.recorded_at for event in store.read_all(limit=10)]
        assert times == sorted(times)
        assert times[:3] == [T0 + timedelta(hours=1)] * 3 and times[3] == T0 + timedelta(hours=2)

    def test_reading_a_stream_after_and_up_to_a_version(self, store):
        store.append("a", [note(n) for n in range(1, 6)])
        store.append("b", [note(99)])
        assert [e.data["n"] for e in store.read_stream("a", after_version=2)] == [3, 4, 5]
        assert [e.data["n"] for e in store.read_stream("a", up_to_version=2)] == [1, 2]
        assert [e.data["n"] for e in store.read_stream("a", after_version=1, limit=2)] == [2, 3]
        assert store.read_stream("nobody") == []

    def test_reading_a_stream_up_to_a_recorded_time_and_version_at(self, store, monkeypatch):
        moments = iter([T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)])
        monkeypatch.setattr(store_module, "utcnow", lambda: next(moments))
        for n in range(3):
            store.append("a", [note(n)])
        cut = T0 + timedelta(hours=1)
        assert [e.version for e in store.read_stream("a", recorded_up_to=cut)] == [1, 2]
        assert store.version_at("a", cut) == 2
        assert store.version_at("a", cut - timedelta(microseconds=1)) == 1
        assert store.version_at("a", T0 - timedelta(days=1)) == 0
        assert store.version_at("a", T0 + timedelta(days=1)) == 3

    def test_the_global_log_pages_by_position(self, store):
        for n in range(7):
            store.append(f"i{n % 3}", [note(n)])
        page1 = store.read_all(after_position=0, limit=3)
        page2 = store.read_all(after_position=page1[-1].position, limit=3)
        page3 = store.read_all(after_position=page2[-1].position, limit=3)
        assert [e.position for e in page1 + page2 + page3] == list(range(1, 8))
        assert store.read_all(after_position=7) == []

    def test_the_database_refuses_updates_and_deletes_of_events(self, store):
        store.append("a", [note(1)])
        for statement in (
            sa.update(events_table).values(type="Tampered"),
            sa.delete(events_table),
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with store.engine.begin() as conn:
                    conn.execute(statement)
        assert store.read_stream("a")[0].type == "Noted"

    def test_old_events_are_stored_as_written_and_upcast_when_read(self, store):
        v1 = {"assertion_id": "x", "kind": "other", "occurred": "2026", "headline": "h", "source": {"outlet": "CNN"}}
        store.append("a", [NewEvent("AssertionRecorded", v1, schema_version=1)])
        (event,) = store.read_stream("a")
        assert event.schema_version == 2
        assert event.data["sources"] == [{"outlet": "CNN"}] and "source" not in event.data
        with store.engine.connect() as conn:
            raw = conn.execute(sa.select(events_table.c.schema_version, events_table.c.data)).one()
        assert raw.schema_version == 1 and raw.data == v1

    def test_commits_are_durable_by_default(self, store):
        with store.engine.connect() as conn:
            if store.engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            else:
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
                assert conn.exec_driver_sql("SHOW fsync").scalar() == "on"

    def test_the_migrations_match_the_models(self, store, database_url):
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        import app.intake.tables  # noqa: F401  (every table module registers on the one metadata)
        import app.projections.index.tables  # noqa: F401
        import app.webhooks.tables  # noqa: F401
        from app.store.tables import metadata

        migrate(database_url)  # already at head: a no-op that must not fail
        with store.engine.connect() as conn:
            # The full-text search structures live outside the models (app.projections.index.search).
            def modelled(obj, name, type_, reflected, compare_to):
                return not (
                    (type_ == "table" and name.startswith(("assertion_states_fts", "assertion_current_words")))
                    or (type_ == "index" and name == "ix_assertion_entries_search")
                )

            context = MigrationContext.configure(conn, opts={"include_object": modelled})
            diff = compare_metadata(context, metadata)
        assert diff == []

    @settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        batches=st.lists(
            st.tuples(st.sampled_from(["p", "q", "r"]), st.integers(min_value=1, max_value=5)),
            min_size=1,
            max_size=12,
        )
    )
    def test_positions_and_versions_stay_gap_free_for_any_sequence_of_appends(self, store, batches):
        start = store.head_position()
        prefix = uuid.uuid4().hex[:8]
        expected_versions: dict[str, int] = {}
        for incident, size in batches:
            stream = f"{prefix}-{incident}"
            result = store.append(stream, [note(n) for n in range(size)])
            expected_versions[stream] = expected_versions.get(stream, 0) + size
            assert result.version == expected_versions[stream]
        positions = [e.position for e in store.read_all(after_position=start, limit=10_000)]
        assert positions == list(range(start + 1, start + 1 + sum(size for _, size in batches)))
        for stream, version in expected_versions.items():
            assert [e.version for e in store.read_stream(stream)] == list(range(1, version + 1))


class TreeContract:
    """The log's Merkle tree, integrated behind the head from the committed events (one suite per backend)."""

    backend: str

    @staticmethod
    def recomputed(store: EventStore) -> list[bytes]:
        """Every event's leaf as anyone holding an export computes it."""
        as_written = EventStore(store.engine, upcast=as_stored, open_sealed=False)
        return [event_leaf(stored_record(e)) for e in as_written.read_all(after_position=0, limit=1_000_000)]

    def test_every_append_grows_the_tree_whose_proofs_verify(self, store):
        store.append("a", [note(1)])
        store.append("a", [note(2), note(3)], expected_version=1)
        store.append("b", [note(n, reported_at=T0) for n in range(40)])  # past the pipelined insert: COPY
        store.append("a", [NewEvent("Noted", {"n": 4, "f": 1.5, "q": "“quoted” é"}, metadata={"actor": "desk"})])
        tree, leaves = LogTree(store.engine), self.recomputed(store)
        size, root = tree.head()
        assert size == store.head_position() == len(leaves) == 44
        assert root == root_hash(leaves)
        assert tree.leaves(0, 100) == leaves
        for position in (1, 2, 17, 43, 44):
            for at in (position, 44):
                proof = tree.inclusion(position, at)
                assert proof.root_hash == root_hash(leaves[:at])
                assert verify_inclusion(position - 1, at, leaves[position - 1], proof.audit_path, proof.root_hash)
        for first, second in ((0, 44), (1, 44), (3, 4), (7, 40), (44, 44)):
            proof = tree.consistency(first, second)
            assert verify_consistency(first, second, root_hash(leaves[:first]), root_hash(leaves[:second]), proof)

    @settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(batches=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=6))
    def test_for_any_appends_the_root_is_the_root_of_the_events_leaves(self, store, batches):
        for count in batches:
            store.append(f"i-{uuid.uuid4().hex[:8]}", [note(n) for n in range(count)])
        leaves = self.recomputed(store)
        assert LogTree(store.engine).head() == (len(leaves), root_hash(leaves))

    def test_a_refused_append_leaves_the_tree_as_it_was(self, store):
        first = store.append("a", [note(1)])
        before = LogTree(store.engine).head()
        with pytest.raises(VersionConflict):
            store.append("a", [note(2)], expected_version=0)
        taken = first_event_id = store.read_stream("a")[0].event_id
        with pytest.raises(DuplicateEventId):
            store.append("b", [note(3), NewEvent("Noted", {"n": 4}, event_id=taken)])
        assert first_event_id and first.positions == [1]
        assert LogTree(store.engine).head() == before
        store.append("a", [note(5)])
        assert LogTree(store.engine).head() == (2, root_hash(self.recomputed(store)))

    def test_the_tree_integrates_behind_the_head_events_written_around_the_store_too(self, store):
        store.append("a", [note(1)])
        with store.engine.begin() as conn:  # as a migration or a repair would write, outside the append path
            conn.execute(
                events_table.insert().values(
                    position=2,
                    incident_id="a",
                    version=2,
                    event_id=str(uuid.uuid4()),
                    type="Noted",
                    schema_version=1,
                    data={"n": 2},
                    metadata={},
                    reported_at=T0,
                    recorded_at=T0 + timedelta(days=1),
                )
            )
        store.append("a", [note(3)])
        tree = LogTree(store.engine)
        assert tree.size() == 0, "appends write events only: the tree integrates them when asked"
        assert tree.catch_up() == 3
        assert tree.catch_up() == 0
        leaves = self.recomputed(store)
        assert tree.head() == (3, root_hash(leaves))
        store.append("a", [note(4)])
        assert tree.size() == 3
        assert tree.head() == (4, root_hash(self.recomputed(store))), "a tree head integrates what is new"
        store.append("a", [note(5)])
        proof = tree.inclusion(5, 5)
        assert proof.root_hash == root_hash(self.recomputed(store)), "and so does a proof"

    def test_processes_integrating_at_once_build_one_tree(self, store):
        """Each integrates by compare-and-set on the tree's size: whoever loses writes nothing."""
        for batch in range(6):
            store.append(f"i-{batch}", [note(n) for n in range(37)])
        trees = [LogTree(store.engine) for _ in range(4)]
        with ThreadPoolExecutor(4) as pool:
            added = list(pool.map(lambda tree: tree.catch_up(page=10), trees))
        assert sum(added) == 6 * 37
        leaves = self.recomputed(store)
        assert all(tree.head() == (len(leaves), root_hash(leaves)) for tree in trees)
        with store.engine.connect() as conn:
            complete = sum(len(leaves) >> level for level in range(len(leaves).bit_length()))  # every complete subtree
            assert conn.execute(sa.text("SELECT count(*) FROM merkle_nodes")).scalar_one() == complete

    def test_the_trees_tables_refuse_changes(self, store):
        store.append("a", [note(1)])
        Checkpoints(store.engine, LogTree(store.engine), Signer.generate("example.org/log")).issue()
        for statement in (
            "UPDATE merkle_nodes SET hash = hash",
            "DELETE FROM merkle_nodes",
            "UPDATE checkpoints SET note = ''",
            "DELETE FROM checkpoints",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
                conn.execute(sa.text(statement))

    def test_checkpoints_are_signed_tree_heads_issued_as_the_log_grows(self, store):
        signer = Signer.generate("example.org/log")
        checkpoints = Checkpoints(store.engine, LogTree(store.engine), signer)
        store.append("a", [note(1), note(2), note(3)])
        issued = checkpoints.issue()
        assert issued is not None and issued.tree_size == 3
        opened = Checkpoint.parse(Verifier.decode(signer.verifier_key).open(issued.note))
        assert (opened.origin, opened.size, opened.root) == ("example.org/log", 3, root_hash(self.recomputed(store)))
        assert checkpoints.issue() is None, "nothing new: no new checkpoint"
        store.append("a", [note(4)])
        again = Checkpoints(store.engine, LogTree(store.engine), signer).issue()  # another process, same key
        assert again is not None and again.tree_size == 4
        assert checkpoints.latest() == again and checkpoints.at(3) == issued and checkpoints.at(2) is None
        assert checkpoints.covering(4) == again and checkpoints.covering(2) == issued
