"""The assertion index's tables (created by migrations 0007–0009, narrowed by 0013).

`assertion_states`: one row per state an assertion was in, and the span of global log positions it
held for — from the position of the event that made it (inclusive) to the position of the event
that replaced it (exclusive; NULL while it is current). A read at position P takes the rows with
`from_position <= P < to_position`: exactly one per assertion recorded by P. Its columns are what
the queries filter and sort on; the entry they answer with is in `assertion_entries`.

Each row also holds for a span of publication times, `reported_from` (inclusive) to `reported_to`
(exclusive; NULL: from then on): what had been reported by a time T is the fold of the events
reported by T, so a read "as reported by T" at position P takes the rows whose two spans hold P and
T, again one per assertion. A read with no publication cut-off takes the rows with `reported_to`
NULL. Times are UTC text of one width (`reported_key`), so they compare as text.

`assertion_entries`: each row's entry as a timeline renders it, and its words for full-text search.

`assertion_state_outlets`: the outlets of each row's sources, folded to lower case, for the
`outlet` filter.

`assertion_index_checkpoint`: one row per generation of the rows (`id`), with the position they
cover and the projection's version; it moves in the same transaction as the rows it covers. One
generation is `live` (the one read); a rebuild projects the next beside it, then swaps (rebuild.py).
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from app.db import Document
from app.store.tables import metadata

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def Ordered(length: int) -> sa.types.TypeEngine:
    """Text that sorts by code point, as Python does (PostgreSQL's default collation may not)."""
    return sa.String(length).with_variant(
        sa.String(length, collation="C"), "postgresql"
    )  # SQLite's rowid alias needs INTEGER


ORDER = ("earliest_key", "latest_key", "incident_id", "recorded_version")
HELD = ("generation", "from_position", "to_position", "reported_from", "reported_to", "status")

assertion_states = sa.Table(
    "assertion_states",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Ordered(80), nullable=False),
    sa.Column("assertion_id", sa.String(200), nullable=False),
    sa.Column("from_position", sa.BigInteger, nullable=False),
    sa.Column("to_position", sa.BigInteger, nullable=True),
    sa.Column("reported_from", Ordered(26), nullable=False, server_default="0001-01-01T00:00:00.000000"),
    sa.Column("reported_to", Ordered(26), nullable=True),
    sa.Column("kind", sa.String(100), nullable=False),
    # ISO days ("2026-01-24"); NULL when the stored EDTF cannot be read. The order of answers takes
    # the same days with LAST for NULL (such entries sort last), as columns an index can walk.
    sa.Column("earliest", Ordered(10), nullable=True),
    sa.Column("latest", Ordered(10), nullable=True),
    sa.Column("earliest_key", Ordered(10), nullable=False),
    sa.Column("latest_key", Ordered(10), nullable=False),
    sa.Column("precision", sa.String(20), nullable=True),
    sa.Column("attributed_to_folded", sa.String(500), nullable=True),  # lower-cased as Python folds it
    sa.Column("speaker_key", sa.String(500), nullable=True),  # as actors' names match (events.names)
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("rank", sa.String(20), nullable=False),
    sa.Column("disputed", sa.Boolean, nullable=False),
    sa.Column("disputes", sa.Boolean, nullable=False),
    sa.Column("source_count", sa.Integer, nullable=False),
    sa.Column("recorded_version", sa.Integer, nullable=False),
    sa.Column("first_reported_at", sa.String(40), nullable=True),
    # The instants answers sort on (`reported_key` text; NULL when the entry's text cannot be read).
    sa.Column("first_reported_key", Ordered(26), nullable=True),
    sa.Column("recorded_key", Ordered(26), nullable=True),
    sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
    sa.Index(None, "incident_id", "assertion_id", "generation", "to_position"),
    # The rows valid at a position are found in an index's entries, without reading the rows: each
    # index below holds the columns that say when a row held (and its status, which every answer
    # filters on). One walks the default order, so a first page reads a page of entries; the others
    # lead with what the analysts' commonest questions narrow by (a speaker, disputed) and hold the
    # default order's keys, so the page is chosen from their entries alone. PostgreSQL's carry the
    # row's id too, for an index-only scan (SQLite's entries end with it: the id is the rowid).
    sa.Index("ix_assertion_states_occurred", *ORDER, *HELD, postgresql_include=["id"]),
    sa.Index("ix_assertion_states_speaker", "speaker_key", *HELD, *ORDER, postgresql_include=["id"]),
    sa.Index("ix_assertion_states_disputed", "disputed", *HELD, *ORDER, postgresql_include=["id"]),
)

# Every name a generation's rows give a speaker, with the key it is matched by: a part of a name
# (`attributed_to=`) is looked for in these few rows, and the rows then found by their keys.
assertion_speakers = sa.Table(
    "assertion_speakers",
    metadata,
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("attributed_to_folded", sa.String(500), nullable=False),
    sa.Column("speaker_key", sa.String(500), nullable=False),
    sa.PrimaryKeyConstraint("generation", "attributed_to_folded", "speaker_key"),
)

# What a timeline renders of each row, and its words, apart from the rows the queries read: a row
# of assertion_states is then a few hundred bytes, so counting and sorting the matches reads little;
# a page reads only its own entries.
assertion_entries = sa.Table(
    "assertion_entries",
    metadata,
    sa.Column("state_id", RowId, primary_key=True, autoincrement=False),
    sa.Column("entry", Document, nullable=False),
    # headline, text and quotes, for full-text search (app.projections.index.search)
    sa.Column("search_text", sa.Text, nullable=True),
)

assertion_state_outlets = sa.Table(
    "assertion_state_outlets",
    metadata,
    sa.Column("state_id", RowId, nullable=False),
    sa.Column("outlet_folded", sa.String(300), nullable=False),
    sa.PrimaryKeyConstraint("outlet_folded", "state_id"),
)

# Every table holding the index's rows or what is read off them (those keyed by a row first).
PROJECTED = (assertion_state_outlets, assertion_entries, assertion_speakers, assertion_states)

assertion_index_checkpoint = sa.Table(
    "assertion_index_checkpoint",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("projection_version", sa.Integer, nullable=False),
    sa.Column("live", sa.Boolean, nullable=False, server_default=sa.true()),
)


def live_generation() -> sa.ScalarSelect[int]:
    """The generation readers read, as a subquery (no round trip of its own)."""
    c = assertion_index_checkpoint.c
    return sa.select(c.id).where(c.live.is_(True)).limit(1).scalar_subquery()


def reported_key(moment: datetime) -> str:
    """A publication time as the index stores it: UTC, to the microsecond, one width for every year."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")
