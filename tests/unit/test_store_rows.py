"""The store reads rows of the events table by position: the table's columns must be StoredEvent's fields."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime, timezone

from app.store import StoredEvent
from app.store.store import event_from_row
from app.store.tables import events


def test_the_events_table_holds_a_stored_event_field_by_field_in_order():
    assert tuple(column.name for column in events.columns) == tuple(field.name for field in fields(StoredEvent))


def test_a_row_becomes_the_event_it_holds_brought_to_the_current_schema():
    moment = datetime(2026, 2, 2, 12, tzinfo=timezone.utc)
    row = (7, "inc", 3, "e-1", "AssertionRecorded", 1, {"a": 1}, {"actor": "x"}, moment, moment, date(2026, 2, 2))

    def upcast(type_name, version, data):
        return version + 1, {**data, "upcast": type_name}

    event = event_from_row(row, upcast)
    assert event == StoredEvent(
        7,
        "inc",
        3,
        "e-1",
        "AssertionRecorded",
        2,
        {"a": 1, "upcast": "AssertionRecorded"},
        {"actor": "x"},
        moment,
        moment,
        date(2026, 2, 2),
    )
