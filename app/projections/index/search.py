"""Full-text search of the index's rows (headline, text and quotes): the projection's other seam.

SQLite: an FTS5 table (unicode61, diacritics removed) holding each row's words under its id.
PostgreSQL: a GIN index on `to_tsvector('simple', search_text)` of assertion_entries.
Beside each, the same over assertion_current_words, which holds the words of the rows current at
the index's position only (not yet replaced, and not cut off by a later report): a query at that
position, the usual one, looks there, finding one row per matching assertion rather than every
row it ever had. Both match every word of the query, case-insensitively and without stemming, so
"shot" does not find "shooting" on either.
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


def _current(row: Mapping[str, Any]) -> bool:
    """Whether a state row's words go in the current rows' table: neither replaced nor cut off by a
    later report (a row's reported_to never changes; its to_position is set once, when replaced)."""
    return row["to_position"] is None and row["reported_to"] is None


def remember(conn: Connection, generation: int, ids: Sequence[int], rows: Sequence[Mapping[str, Any]]) -> None:
    """Index newly written rows' words (`rows`: the state rows, in the order of `ids`)."""
    written = list(zip(ids, rows, strict=True))
    current = [(state_id, row["search_text"]) for state_id, row in written if _current(row)]
    if conn.dialect.name == "sqlite":
        every = [(state_id, row["search_text"]) for state_id, row in written]
        for table, words_of in ((FTS_TABLE, every), (CURRENT_WORDS, current)):
            if words_of:
                conn.exec_driver_sql(f"INSERT INTO {table} (rowid, search_text) VALUES (?, ?)", words_of)
    elif current:
        conn.execute(
            sa.insert(current_words),
            [{"state_id": state_id, "generation": generation, "search_text": text} for state_id, text in current],
        )


def _tell_deleted(conn: Connection, table: str, chosen: Any, params: Any) -> None:
    """SQLite: take the words of the rows `chosen` (a select of state ids) out of a contentless
    FTS5 `table`, which must be told exactly the words a row went in with: read back from its entry."""
    e = assertion_entries
    told = sa.table(table, sa.column(table), sa.column("rowid"), sa.column("search_text"))
    conn.execute(
        sa.insert(told).from_select(
            [table, "rowid", "search_text"],
            sa.select(sa.literal("delete"), e.c.state_id, e.c.search_text).where(e.c.state_id.in_(chosen)),
        ),
        params,
    )


def forget_closed(conn: Connection, closed: Sequence[Mapping[str, Any]]) -> None:
    """Take the words of rows just replaced (their to_position just set: `Projector._close`'s keys)
    out of the current rows' (only the rows not cut off by a later report were there)."""
    if not closed:
        return
    t = assertion_states
    replaced = sa.select(t.c.id).where(
        t.c.generation == sa.bindparam("k_generation"),
        t.c.incident_id == sa.bindparam("k_incident"),
        t.c.assertion_id == sa.bindparam("k_assertion"),
        t.c.reported_from == sa.bindparam("k_from"),
        t.c.to_position == sa.bindparam("k_to"),
        t.c.reported_to.is_(None),
    )
    if conn.dialect.name == "sqlite":
        _tell_deleted(conn, CURRENT_WORDS, replaced, list(closed))
    else:
        conn.execute(sa.delete(current_words).where(current_words.c.state_id.in_(replaced)), list(closed))


def forget_generation(conn: Connection, generation: int) -> None:
    """Drop the words of one generation's rows (before the rows go: SQLite's contentless tables
    take a row's words out only when told them again, and the row still holds them)."""
    if conn.dialect.name != "sqlite":
        conn.execute(sa.delete(current_words).where(current_words.c.generation == generation))
        return
    t = assertion_states
    of_generation = sa.select(t.c.id).where(t.c.generation == sa.bindparam("generation"))
    _tell_deleted(conn, FTS_TABLE, of_generation, {"generation": generation})
    current = of_generation.where(t.c.to_position.is_(None), t.c.reported_to.is_(None))
    _tell_deleted(conn, CURRENT_WORDS, current, {"generation": generation})


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
