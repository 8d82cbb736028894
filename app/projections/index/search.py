"""Full-text search of the index's rows (headline, text and quotes): the projection's other seam.

SQLite: an FTS5 table (unicode61, diacritics removed) holding each row's words under its id.
PostgreSQL: a GIN index on `to_tsvector('simple', search_text)` of assertion_entries.
Beside each, the same over assertion_current_words, which holds the words of the rows current at
the index's position only (not yet replaced, and not cut off by a later report): a query at that
position, the usual one, looks there, finding one row per matching assertion rather than every
row it ever had. Both match every word of the query, case-insensitively and without stemming, so "shot" does not find
"shooting" on either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.projections.index.tables import assertion_entries, assertion_index_checkpoint, assertion_states

FTS_TABLE = "assertion_states_fts"
CURRENT_WORDS = "assertion_current_words"
# The search tables outside the models that PostgreSQL's erasure scrubs by name (SQLite's rewrites the file).
TEXT_TABLES = (CURRENT_WORDS,)
current_words = sa.table(
    CURRENT_WORDS, sa.column("state_id", sa.BigInteger), sa.column("generation", sa.Integer), sa.column("search_text")
)
_WORD = re.compile(r"\w+")


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Text as a column can hold it: an event stored by an older version may carry a NUL or a lone
    surrogate (events.admissible refuses both now), which neither database takes as text."""
    return _UNSTORABLE.sub(" ", text)


def search_text(entry: Mapping[str, Any]) -> str:
    quotes = [source.get("quote") or "" for source in entry["sources"]]
    return storable("\n".join(part for part in (entry["headline"], entry.get("text") or "", *quotes) if part))


def words(query: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(query)]


def remember(conn: Connection, generation: int, ids: Sequence[int], rows: Sequence[Mapping[str, Any]]) -> None:
    """Index newly written rows' words (`rows`: the state rows, in the order of `ids`)."""
    if not ids:
        return
    current = [
        (state_id, row["search_text"])
        for state_id, row in zip(ids, rows, strict=True)
        if row["to_position"] is None and row["reported_to"] is None
    ]
    if conn.dialect.name == "sqlite":
        every = [(state_id, row["search_text"]) for state_id, row in zip(ids, rows, strict=True)]
        for table, written in ((FTS_TABLE, every), (CURRENT_WORDS, current)):
            if written:
                conn.exec_driver_sql(f"INSERT INTO {table} (rowid, search_text) VALUES (?, ?)", written)
        return
    if current:
        conn.execute(
            sa.insert(current_words),
            [{"state_id": state_id, "generation": generation, "search_text": text} for state_id, text in current],
        )


# The current rows' words of the rows chosen, as SQLite's contentless table must be told them to
# take them out: exactly the words they went in with, read back from their entries.
_SQLITE_FORGET_CURRENT = (
    f"INSERT INTO {CURRENT_WORDS} ({CURRENT_WORDS}, rowid, search_text) "
    "SELECT 'delete', e.state_id, e.search_text FROM assertion_entries e "
    "JOIN assertion_states s ON s.id = e.state_id WHERE s.to_position {to} AND s.reported_to IS NULL AND "
)


def forget_closed(conn: Connection, closed: Sequence[Mapping[str, Any]]) -> None:
    """Take the words of rows just replaced (their to_position just set: `Projector._close`'s keys)
    out of the current rows' (only the rows not cut off by a later report were there)."""
    if not closed:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(
            sa.text(
                _SQLITE_FORGET_CURRENT.replace("{to}", "= :k_to")
                + "s.generation = :k_generation AND s.incident_id = :k_incident "
                "AND s.assertion_id = :k_assertion AND s.reported_from = :k_from"
            ),
            list(closed),
        )
        return
    t = assertion_states
    replaced = sa.select(t.c.id).where(
        t.c.generation == sa.bindparam("k_generation"),
        t.c.incident_id == sa.bindparam("k_incident"),
        t.c.assertion_id == sa.bindparam("k_assertion"),
        t.c.reported_from == sa.bindparam("k_from"),
        t.c.to_position == sa.bindparam("k_to"),
    )
    conn.execute(sa.delete(current_words).where(current_words.c.state_id.in_(replaced)), list(closed))


def forget_generation(conn: Connection, generation: int) -> None:
    """Drop the words of one generation's rows (before the rows go: SQLite's contentless tables
    take a row's words out only when told them again, and the row still holds them)."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            sa.text(
                f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, search_text) "
                "SELECT 'delete', e.state_id, e.search_text FROM assertion_entries e "
                "JOIN assertion_states s ON s.id = e.state_id WHERE s.generation = :generation"
            ),
            {"generation": generation},
        )
        conn.execute(
            sa.text(_SQLITE_FORGET_CURRENT.replace("{to}", "IS NULL") + "s.generation = :generation"),
            {"generation": generation},
        )
    else:
        conn.execute(sa.delete(current_words).where(current_words.c.generation == generation))


def forget_all(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for table in (FTS_TABLE, CURRENT_WORDS):
            conn.exec_driver_sql(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    else:
        conn.execute(sa.delete(current_words))


def compact(conn: Connection) -> None:
    """Rewrite the search structures without the words of rows gone (an erasure): SQLite's FTS5
    keeps a deleted row's words in its segments until they are merged."""
    if conn.dialect.name == "sqlite":
        for table in (FTS_TABLE, CURRENT_WORDS):
            conn.exec_driver_sql(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


def matching(engine: Engine, query: str, position: int, reported_as_of: datetime | None) -> Any:
    """A condition on assertion_states: the row's words hold every word of `query` (the rows
    asked for are those held at `position`, as reported by `reported_as_of`)."""
    found = words(query)
    if not found:
        return sa.true()
    every: Any
    current: Any
    if engine.dialect.name == "sqlite":
        phrase = " ".join(f'"{word}"' for word in found)  # each word quoted: no FTS5 syntax gets through
        every, current = (
            sa.select(sa.column("rowid"))
            .select_from(sa.table(table))
            .where(sa.text(f"{table} MATCH :phrase").bindparams(phrase=phrase))
            for table in (FTS_TABLE, CURRENT_WORDS)
        )
    else:
        tsquery = sa.func.plainto_tsquery(sa.literal_column("'simple'::regconfig"), " ".join(found))
        every, current = (
            sa.select(table.c.state_id).where(_vector(table).op("@@")(tsquery))
            for table in (assertion_entries, current_words)
        )
    if reported_as_of is not None:
        return assertion_states.c.id.in_(every)
    # Where the live index stands at `position` (read in the query's own snapshot, so the two
    # cannot disagree), every row held there is a current one: their words are enough. Otherwise
    # (an earlier position, or the projector moved on since the position was chosen) every row's.
    # The condition on the position does not depend on any row: each backend runs one branch only.
    c = assertion_index_checkpoint.c
    live_position = sa.select(c.position).where(c.live.is_(True)).limit(1).scalar_subquery()
    return assertion_states.c.id.in_(
        sa.union_all(current.where(live_position == position), every.where(live_position != position))
    )


def _vector(table: Any) -> Any:
    return sa.func.to_tsvector(
        sa.literal_column("'simple'::regconfig"), sa.func.coalesce(table.c.search_text, sa.literal_column("''"))
    )
