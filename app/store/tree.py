"""The log's Merkle tree as the store keeps it: leaves and complete subtrees in `merkle_nodes`, the
size and right edge on the log_head row, and the checkpoints signed over it. Proofs are read from
the stored nodes in one query each.

The tree integrates the log behind its head: appends write only events (app.store.appenders), and
`LogTree.catch_up` hashes what is committed since, in position order — run by the checkpoint loop
before it signs, and by any tree head or proof asked of events the tree does not hold yet, so no
answer ever comes from a tree short of what it was asked about.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db import utcnow
from app.proofs import merkle
from app.proofs.leaves import event_leaf
from app.proofs.notes import Checkpoint, Signer
from app.store.backends import store_backend
from app.store.store import StoredEvent, event_from_row
from app.store.tables import checkpoints, events, head_position, log_head, merkle_nodes, node_key
from events.catalog import to_json_time

T = TypeVar("T")
CATCH_UP_PAGE = 1000
HASH = 32


def split_edge(frontier: bytes | str | None) -> list[bytes]:
    raw = frontier if isinstance(frontier, bytes) else b""  # SQLite reads the column's empty default as ''
    return [raw[at : at + HASH] for at in range(0, len(raw), HASH)]


def as_stored(type_name: str, schema_version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """No upcasting: the tree hashes each event as written (and a store made with it, and
    open_sealed=False, reads events exactly as stored)."""
    return schema_version, data


def stored_record(event: StoredEvent) -> dict[str, Any]:
    """The event's members that its leaf hashes (app.proofs.leaves), as the export writes them."""
    return {
        "position": event.position,
        "incident_id": event.incident_id,
        "version": event.version,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "reported_at": event.published.text(),
        "recorded_at": to_json_time(event.recorded_at),
    }


class TreeBehind(Exception):
    """A proof was asked of a tree larger than the one kept so far."""

    def __init__(self, wanted: int, size: int):
        self.wanted, self.size = wanted, size
        super().__init__(f"the log holds {size} events so far, not {wanted}: ask of a tree size up to {size}")


class ProofRange(Exception):
    """A proof asked of sizes that cannot go together (a position past the tree, a larger first tree)."""


@dataclass(frozen=True)
class Inclusion:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]
    root_hash: bytes


@dataclass(frozen=True)
class IssuedCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    issued_at: datetime


NODES_KEPT = 200_000  # about 30 MB: every node of a 100,000-event tree


class LogTree:
    def __init__(self, engine: Engine, *, nodes_kept: int = NODES_KEPT):
        self.engine = engine
        self._known = NodeCache(nodes_kept)
        self._backend = store_backend(engine, origin="")

    # -- growing ---------------------------------------------------------------------------

    def catch_up(self, page: int = CATCH_UP_PAGE) -> int:
        """Hash the committed events the tree does not hold yet, in position order, a page per
        transaction. Returns how many this call added."""
        done = 0
        while True:
            added = self._catch_up_page(page)
            done += added
            if added < page:
                return done

    def _catch_up_page(self, page: int) -> int:
        # THE ORDERING DECISION OF THE TREE. The page is read and hashed without any lock: every
        # event at or below the committed head is committed itself and never changes (appends move
        # the head in the transaction that writes them, app.store.appenders), so what is read here
        # is exactly the log's next events, and appends never wait on the hashing. The tree moves
        # by compare-and-set on its size: if another process integrated the same events first, the
        # update finds no row, the nodes are not written, and the next page starts from there.
        with self.engine.connect() as conn:
            size, head, frontier = conn.execute(
                sa.select(log_head.c.tree_size, head_position, log_head.c.frontier).where(log_head.c.id == 1)
            ).one()
            if size >= head:
                return 0
            rows = conn.execute(
                sa.select(events)
                .where(events.c.position > size, events.c.position <= head)
                .order_by(events.c.position)
                .limit(page)
            ).all()
        leaves = []
        for expected, row in enumerate(rows, start=size + 1):
            event = event_from_row(row, as_stored)
            if event.position != expected:
                raise RuntimeError(f"the log has no event at position {expected}; its tree cannot be built past it")
            leaves.append(event_leaf(stored_record(event)))
        if not leaves:
            return 0
        edge, made = merkle.extend(split_edge(frontier), size, leaves)
        with self.engine.begin() as conn:
            moved = conn.execute(
                sa.update(log_head)
                .where(log_head.c.id == 1, log_head.c.tree_size == size)
                .values(tree_size=size + len(leaves), frontier=b"".join(edge))
            ).rowcount
            if moved != 1:
                return 0  # integrated elsewhere meanwhile: nothing was written here
            self._backend.write_nodes(conn, [(node_key(level, n), hashed) for level, n, hashed in made])
        return len(leaves)

    # -- reading ---------------------------------------------------------------------------

    def head(self) -> tuple[int, bytes]:
        """The tree's size and root once it holds every event committed so far."""
        self.catch_up()
        with self.engine.connect() as conn:
            size, frontier = conn.execute(
                sa.select(log_head.c.tree_size, log_head.c.frontier).where(log_head.c.id == 1)
            ).one()
        return size, merkle.frontier_root(split_edge(frontier))

    def size(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(log_head.c.tree_size).where(log_head.c.id == 1)).scalar_one()

    def progress(self) -> tuple[int, int]:
        """The tree's size and how many committed events it has not integrated yet (one read)."""
        with self.engine.connect() as conn:
            size, head = conn.execute(sa.select(log_head.c.tree_size, head_position).where(log_head.c.id == 1)).one()
        return size, max(head - size, 0)

    def root(self, size: int) -> bytes:
        return self._answer(size, lambda node: merkle.root_from_nodes(size, node))

    def inclusion(self, position: int, size: int) -> Inclusion:
        index = position - 1

        def answer(node: merkle.NodeLookup) -> Inclusion:
            path = merkle.inclusion_proof_from_nodes(index, size, node)
            return Inclusion(index, size, node(0, index), path, merkle.root_from_nodes(size, node))

        if not 1 <= position <= size:
            raise ProofRange(
                f"position {position} is not in a tree of {size} events: ask with size={max(position, 1)} or more"
            )
        return self._answer(size, answer)

    def consistency(self, first: int, second: int) -> list[bytes]:
        if not 0 <= first <= second:
            raise ProofRange(f"a tree of {first} events cannot be a prefix of one of {second}: give from ≤ to")
        return self._answer(second, lambda node: merkle.consistency_proof_from_nodes(first, second, node))

    def leaves(self, after: int, limit: int) -> list[bytes]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(merkle_nodes.c.hash)
                    .where(merkle_nodes.c.node >= node_key(0, after), merkle_nodes.c.node < node_key(1, 0))
                    .order_by(merkle_nodes.c.node)
                    .limit(limit)
                ).scalars()
            )

    def _answer(self, size: int, answer: Callable[[merkle.NodeLookup], T]) -> T:
        needed = merkle.nodes_needed(answer)
        found = self._known.take(needed)
        held = self.size()
        if size > held:
            self.catch_up()  # events committed since the tree last integrated
            held = self.size()
        if size > held:
            raise TreeBehind(size, held)
        if len(found) < len(needed):
            with self.engine.connect() as conn:
                fetched = _nodes(conn, needed - found.keys())
            self._known.keep(fetched)
            found.update(fetched)
        missing = needed - found.keys()
        if missing:
            raise RuntimeError(f"the log's tree is missing {len(missing)} of its nodes, e.g. {min(missing)}")
        return answer(lambda level, number: found[(level, number)])


class NodeCache:
    """Stored nodes already read, the most recently used kept: a complete subtree's hash never
    changes once written (the table is append-only), so what is kept can never be stale, and the
    upper levels every proof shares are read once."""

    def __init__(self, max_nodes: int):
        self.max_nodes = max_nodes
        self._nodes: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        with self._lock:
            found = {}
            for key in wanted:
                if (hashed := self._nodes.get(key)) is not None:
                    self._nodes.move_to_end(key)
                    found[key] = hashed
            return found

    def keep(self, nodes: Mapping[tuple[int, int], bytes]) -> None:
        with self._lock:
            self._nodes.update(nodes)
            while len(self._nodes) > self.max_nodes:
                self._nodes.popitem(last=False)


NODES_WANTED = sa.select(merkle_nodes.c.node, merkle_nodes.c.hash).where(
    merkle_nodes.c.node.in_(sa.bindparam("nodes", expanding=True))
)


def _nodes(conn: Connection, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = {node_key(level, number): (level, number) for level, number in wanted}
    if not keys:
        return {}
    rows = conn.execute(NODES_WANTED, {"nodes": list(keys)})
    return {keys[node]: bytes(hashed) for node, hashed in rows}


class Checkpoints:
    """The signed tree heads: issued over the tree as the log_head row holds it, kept for ever."""

    def __init__(self, engine: Engine, tree: LogTree, signer: Signer):
        self.engine, self.tree, self.signer = engine, tree, signer

    def issue(self) -> IssuedCheckpoint | None:
        """A checkpoint of the tree as it stands, unless it is empty or one of its size is issued already. Any
        process may issue: a note is the same text for the same size (Ed25519 signs deterministically),
        so two issuing at once insert the same row and one insert is ignored."""
        size, root = self.tree.head()  # integrated first
        latest = self.latest()
        if size == 0 or (latest is not None and latest.tree_size >= size):
            return None
        note = self.signer.sign(Checkpoint(self.signer.name, size, root).text())
        issued = IssuedCheckpoint(size, root, note, utcnow())
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    checkpoints.insert().values(tree_size=size, root_hash=root, note=note, issued_at=issued.issued_at)
                )
        except sa.exc.IntegrityError:
            return None  # another process issued this size first: the same note
        return issued

    def latest(self) -> IssuedCheckpoint | None:
        return self._one(sa.select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1))

    def at(self, size: int) -> IssuedCheckpoint | None:
        return self._one(sa.select(checkpoints).where(checkpoints.c.tree_size == size))

    def covering(self, position: int) -> IssuedCheckpoint | None:
        """The first checkpoint whose tree holds this position."""
        return self._one(
            sa.select(checkpoints).where(checkpoints.c.tree_size >= position).order_by(checkpoints.c.tree_size).limit(1)
        )

    def _one(self, query) -> IssuedCheckpoint | None:
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return IssuedCheckpoint(row.tree_size, bytes(row.root_hash), row.note, row.issued_at)
