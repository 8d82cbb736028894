import pytest

from tests.integration.store_contract import StoreContract, TreeContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def backend(self):
        return "sqlite"


class TestSQLiteTree(TreeContract):
    @pytest.fixture
    def backend(self):
        return "sqlite"
