"""Full-text search of the index's rows (headline, text and quotes): the projection's other seam.

SQLite: an FTS5 table (unicode61, diacritics removed) holding each row's words under its id.
PostgreSQL: a GIN index on `to_tsvector('simple', search_text)` of assertion_entries. Both match
every word of the query, case-insensitively and without stemming, so "shot" does not find
"shooting" on either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.projections.index.tables import assertion_entries, assertion_states

FTS_TABLE = "assertion_states_fts"
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


def remember(conn: Connection, ids: Sequence[int], texts: Sequence[str]) -> None:
    """Index newly written rows' words (PostgreSQL's expression index needs nothing)."""
    if conn.dialect.name == "sqlite" and ids:
        conn.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE} (rowid, search_text) VALUES (?, ?)", list(zip(ids, texts, strict=True))
        )


def forget_generation(conn: Connection, generation: int) -> None:
    """Drop the words of one generation's rows (before the rows go: SQLite's contentless table
    takes a row's words out only when told them again, and the row still holds them)."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            sa.text(
                f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, search_text) "
                "SELECT 'delete', e.state_id, e.search_text FROM assertion_entries e "
                "JOIN assertion_states s ON s.id = e.state_id WHERE s.generation = :generation"
            ),
            {"generation": generation},
        )


def forget_all(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")


def compact(conn: Connection) -> None:
    """Rewrite the search structures without the words of rows gone (an erasure): SQLite's FTS5
    keeps a deleted row's words in its segments until they are merged."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")


def matching(engine: Engine, query: str) -> Any:
    """A condition on assertion_states: the row's words hold every word of `query`."""
    found = words(query)
    if not found:
        return sa.true()
    if engine.dialect.name == "sqlite":
        phrase = " ".join(f'"{word}"' for word in found)  # each word quoted: no FTS5 syntax gets through
        return assertion_states.c.id.in_(
            sa.select(sa.column("rowid"))
            .select_from(sa.table(FTS_TABLE))
            .where(sa.text(f"{FTS_TABLE} MATCH :phrase").bindparams(phrase=phrase))
        )
    e = assertion_entries
    vector = sa.func.to_tsvector(
        sa.literal_column("'simple'::regconfig"), sa.func.coalesce(e.c.search_text, sa.literal_column("''"))
    )
    tsquery = sa.func.plainto_tsquery(sa.literal_column("'simple'::regconfig"), " ".join(found))
    return assertion_states.c.id.in_(sa.select(e.c.state_id).where(vector.op("@@")(tsquery)))
