"""A connection a thread still holds when the engine is disposed (a read finishing after the server
stopped) is closed when it is handed back, not left open in the disposed pool for the garbage
collector to find."""

from __future__ import annotations

import sqlite3

from app.db import create_engine


def test_a_connection_returned_after_dispose_is_closed(database_url):
    engine = create_engine(database_url)
    connection = engine.connect()
    connection.exec_driver_sql("SELECT 1")
    driver = connection.connection.driver_connection
    engine.dispose()
    connection.close()
    assert is_closed(driver)


def is_closed(driver) -> bool:
    if isinstance(driver, sqlite3.Connection):  # it has no flag: a closed one refuses to be used
        try:
            driver.execute("SELECT 1")
        except sqlite3.ProgrammingError as error:
            return "closed" in str(error)
        return False
    return driver.closed


def test_the_pool_keeps_serving_after_a_dispose(database_url):
    engine = create_engine(database_url)
    engine.dispose()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    with engine.connect() as connection:  # handed back to the new pool and taken again
        assert connection.exec_driver_sql("SELECT 2").scalar() == 2
    engine.dispose()
