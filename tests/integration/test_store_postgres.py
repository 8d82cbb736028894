import pytest
import sqlalchemy as sa

from tests.integration.store_contract import StoreContract, TreeContract, note


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def backend(self):
        return "postgres"

    def test_truncate_is_refused_too(self, store):
        store.append("a", [note(1)])
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with store.engine.begin() as conn:
                conn.exec_driver_sql("TRUNCATE events")
        assert store.head_position() == 1


@pytest.mark.postgres
class TestPostgresTree(TreeContract):
    @pytest.fixture
    def backend(self):
        return "postgres"

    def test_truncating_the_tree_is_refused(self, store):
        store.append("a", [note(1)])
        for table in ("merkle_nodes", "checkpoints"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with store.engine.begin() as conn:
                    conn.exec_driver_sql(f"TRUNCATE {table}")
