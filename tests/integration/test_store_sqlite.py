import pytest

from tests.integration.store_contract import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def backend(self):
        return "sqlite"
