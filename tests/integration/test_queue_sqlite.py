import sqlite3

import pytest

from app.webhooks.queue_sqlite import SqliteQueue
from tests.integration.queue_contract import DeliveryQueueContract


class TestSqliteQueue(DeliveryQueueContract):
    queue_class = SqliteQueue

    @pytest.fixture
    def backend(self):
        return "sqlite"

    def test_each_write_transaction_holds_the_database_write_lock_from_its_begin(self, queue, database_url):
        # What makes leases exclusive here: no second writer can begin until this one commits.
        with queue._write():
            other = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
