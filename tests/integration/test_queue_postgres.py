import pytest
import sqlalchemy as sa

from app.webhooks.queue_postgres import PostgresQueue
from app.webhooks.subscriptions import lock_subscription
from app.webhooks.tables import webhook_deliveries
from tests.integration.queue_contract import DeliveryQueueContract, append, later, rows


@pytest.mark.postgres
class TestPostgresQueue(DeliveryQueueContract):
    queue_class = PostgresQueue

    @pytest.fixture
    def backend(self):
        return "postgres"

    @pytest.fixture
    def impatient(self, make_queue):
        """A queue whose statements fail after 5 s waiting for a lock, instead of hanging the test."""
        queue = make_queue()

        @sa.event.listens_for(queue.engine, "connect")
        def impatient(connection, _record):
            connection.execute("SET lock_timeout = '5s'")
            connection.commit()  # a session setting, kept past this transaction

        return queue

    def test_a_lease_skips_a_row_another_worker_has_locked_and_does_not_wait(
        self, impatient, store, subscriptions, engine
    ):
        subscription = self.subscribe(subscriptions)
        (alpha,) = append(store, "alpha")
        (bravo,) = append(store, "bravo")
        impatient.fan_out()
        d = webhook_deliveries
        with engine.connect() as conn, conn.begin():
            # Another worker in the middle of its lease transaction, holding alpha's row.
            conn.execute(sa.select(d.c.id).where(d.c.position == alpha.position).with_for_update())
            (job,) = impatient.lease(10, {}, later())
            assert job.position == bravo.position
        (job,) = impatient.lease(10, {}, later())
        assert job.position == alpha.position
        assert len(rows(engine, subscription)) == 2

    def test_a_fan_out_skips_a_subscription_another_transaction_holds(self, impatient, store, subscriptions, engine):
        held = self.subscribe(subscriptions)
        free = self.subscribe(subscriptions)
        append(store, "alpha", 2)
        with engine.connect() as conn, conn.begin():
            assert lock_subscription(conn, held) is not None  # a replay, say, under way
            assert impatient.fan_out() is True
            assert rows(engine, held) == [] and len(rows(engine, free)) == 2
        impatient.fan_out()
        assert len(rows(engine, held)) == 2
