"""`timeline project --rebuild`: a fresh copy of the assertion index, made beside the live one.

The rebuild projects the whole log into a new generation of rows (the live generation goes on
being read, and followed by the live projector, all the while), and swaps it in once it has caught
up. THE ORDERING DECISION OF THE SWAP: it happens in one write transaction that holds the
checkpoint rows (SQLite's write lock, PostgreSQL's row locks), so no live batch commits in the
middle of it, and only if the new generation covers at least the live one's position: a reader
whose cursor or `as_of_position` was answered by the old generation is answered again, at the same
position, by the new one. If the live one moved ahead meanwhile, the rebuild catches up again and
retries. A live projector that then tries to write the old generation finds it swapped out (its
compare-and-set names the live generation) and goes on in the new one. The old rows are deleted
after the swap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from app.db import writer
from app.projections.index.projector import BATCH, INDEX_VERSION, Projector, forget_rows
from app.projections.index.tables import assertion_index_checkpoint
from app.projections.reader import Timelines
from app.store import EventStore

log = logging.getLogger("timeline.index")

checkpoints = assertion_index_checkpoint.c


class RebuildAbandoned(RuntimeError):
    """The live index changed hands (another version reset it) while the rebuild ran."""


@dataclass(frozen=True, slots=True)
class Rebuilt:
    generation: int
    position: int
    replaced: int  # the generation it replaced


def rebuild(
    store: EventStore,
    timelines: Timelines,
    *,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> Rebuilt:
    """Project the log into a new generation beside the live one, swap it in, drop the old one."""
    Projector(store, timelines).ensure_current_version()  # there is a live generation to replace
    live, fresh = _begin(store.engine)
    projector = Projector(store, timelines, batch=batch, generation=fresh)
    while True:
        position = projector.catch_up()
        if progress is not None:
            progress(position, store.head_position())
        if _swap(store.engine, live, fresh):
            break
    _drop(store.engine, live)
    log.info("the rebuilt assertion index (generation %d, position %d) replaced generation %d", fresh, position, live)
    return Rebuilt(fresh, projector.position(), live)


def _begin(engine: sa.Engine) -> tuple[int, int]:
    """The live generation, and a new one beside it (left-overs of a rebuild that died are dropped)."""
    with writer(engine.connect()) as conn, conn.begin():
        rows = conn.execute(sa.select(checkpoints.id, checkpoints.live)).all()
    live = next(row.id for row in rows if row.live)
    for row in rows:
        if not row.live:
            _drop(engine, row.id)
    fresh = max(row.id for row in rows) + 1
    with writer(engine.connect()) as conn, conn.begin():
        conn.execute(
            sa.insert(assertion_index_checkpoint).values(
                id=fresh, position=0, projection_version=INDEX_VERSION, live=False
            )
        )
    return live, fresh


def _swap(engine: sa.Engine, live: int, fresh: int) -> bool:
    with writer(engine.connect()) as conn, conn.begin():
        rows = {
            row.id: row
            for row in conn.execute(
                sa.select(checkpoints.id, checkpoints.position, checkpoints.live, checkpoints.projection_version)
                .where(checkpoints.id.in_([live, fresh]))
                .order_by(checkpoints.id)
                .with_for_update()
            )
        }
        if live not in rows or not rows[live].live or fresh not in rows:
            raise RebuildAbandoned("the live assertion index was reset while the rebuild ran; run it again")
        if rows[fresh].position < rows[live].position:
            return False  # the live one moved on: catch up again first
        conn.execute(sa.update(assertion_index_checkpoint).where(checkpoints.id == live).values(live=False))
        conn.execute(sa.update(assertion_index_checkpoint).where(checkpoints.id == fresh).values(live=True))
        return True


def _drop(engine: sa.Engine, generation: int) -> None:
    with writer(engine.connect()) as conn, conn.begin():
        forget_rows(conn, generation)
        conn.execute(sa.delete(assertion_index_checkpoint).where(checkpoints.id == generation))
