"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1) over the global log: its
root, inclusion proofs ("this event is in the log at this position") and consistency proofs ("the
log of size N extends the log of size M"), and their verification. Pure: no I/O.

Leaf index = position - 1; a leaf's hash is SHA-256(0x00 || the event's canonical encoding) and an
interior node's SHA-256(0x01 || left || right), the prefixes that keep a leaf from passing for a
node. The functions take the leaf hashes (not the leaves), so the store can keep those and the
proofs are computed from them.

Written here rather than taken from pymerkle: pymerkle keeps its own storage (memory or its SQLite
file) and its proofs are in its own format (the leaf itself on the path, a rule per step), while the
service's tree lives in the log's database and answers with RFC 9162's audit paths, which existing
verifiers read. pymerkle is the tests' independent check of the roots and the paths.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

LEAF_PREFIX, NODE_PREFIX = b"\x00", b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(encoded: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + encoded).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the leaf hashes."""
    return _over_leaves(leaves)(0, len(leaves)) if leaves else EMPTY_ROOT


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf `index` in the tree of these leaves."""
    return _inclusion(index, len(leaves), _over_leaves(leaves))


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): that the tree of the first `first` leaves is a prefix of this one."""
    return _consistency(first, len(leaves), _over_leaves(leaves))


# The same three over a store that keeps the hash of every complete subtree: `node(level, index)`
# is the hash of leaves [index * 2**level, (index + 1) * 2**level), level 0 being the leaves. Any
# subtree the RFC's recursion meets starts at a multiple of every power of two not above its size,
# so it is a few complete subtrees along its right edge: O(log n) nodes for any proof.
NodeLookup = Callable[[int, int], bytes]


def root_from_nodes(size: int, node: NodeLookup) -> bytes:
    return _over_nodes(node)(0, size) if size else EMPTY_ROOT


def inclusion_proof_from_nodes(index: int, size: int, node: NodeLookup) -> list[bytes]:
    return _inclusion(index, size, _over_nodes(node))


def consistency_proof_from_nodes(first: int, size: int, node: NodeLookup) -> list[bytes]:
    return _consistency(first, size, _over_nodes(node))


def nodes_needed(answer: Callable[[NodeLookup], object]) -> set[tuple[int, int]]:
    """Which stored nodes `answer` (one of the three above, given its lookup) reads: the proofs'
    shapes depend only on the sizes, so a store can fetch them all in one query, then answer."""
    needed: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        needed.add((level, index))
        return EMPTY_ROOT

    answer(record)
    return needed


def extend(frontier: Sequence[bytes], size: int, leaves: Sequence[bytes]) -> tuple[list[bytes], list[Node]]:
    """Append leaves to a tree of `size` known by its right edge (`frontier`: the hashes of its
    complete subtrees, largest first, one per set bit of `size`): the new right edge and every
    complete subtree the new leaves complete, (level, index, hash), the leaves themselves included."""
    edge = list(frontier)
    if len(edge) != size.bit_count():
        raise ValueError(f"a tree of {size} has {size.bit_count()} subtrees on its right edge, not {len(edge)}")
    made: list[Node] = []
    for leaf in leaves:
        made.append((0, size, leaf))
        climbed, level = leaf, 0
        while size >> level & 1:  # a complete subtree of this size ends the tree: the new one pairs with it
            climbed = node_hash(edge.pop(), climbed)
            level += 1
            made.append((level, size >> level, climbed))
        edge.append(climbed)
        size += 1
    return edge, made


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The root of a tree known by its right edge: its subtrees joined from the smallest up."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        root = node_hash(subtree, root)
    return root


Node = tuple[int, int, bytes]
Subtree = Callable[[int, int], bytes]  # MTH of the leaves [low, high)


def _over_leaves(leaves: Sequence[bytes]) -> Subtree:
    def subtree(low: int, high: int) -> bytes:
        size = high - low
        if size == 1:
            return leaves[low]
        middle = low + _split(size)
        return node_hash(subtree(low, middle), subtree(middle, high))

    return subtree


def _over_nodes(node: NodeLookup) -> Subtree:
    def subtree(low: int, high: int) -> bytes:
        size = high - low
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            return node(level, low >> level)
        middle = low + _split(size)
        return node_hash(subtree(low, middle), subtree(middle, high))

    return subtree


def _inclusion(index: int, size: int, subtree: Subtree) -> list[bytes]:
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    return _path(index, subtree, 0, size)


def _path(index: int, subtree: Subtree, low: int, high: int) -> list[bytes]:
    size = high - low
    if size == 1:
        return []
    middle = low + _split(size)
    if low + index < middle:
        return [*_path(index, subtree, low, middle), subtree(middle, high)]
    return [*_path(index - (middle - low), subtree, middle, high), subtree(low, middle)]


def _consistency(first: int, size: int, subtree: Subtree) -> list[bytes]:
    if not 0 <= first <= size:
        raise ValueError(f"a tree of {first} cannot be a prefix of one of {size}")
    if first in (0, size):
        return []
    return _subproof(first, subtree, 0, size, True)


def _subproof(first: int, subtree: Subtree, low: int, high: int, whole: bool) -> list[bytes]:
    size = high - low
    if first == size:
        return [] if whole else [subtree(low, high)]
    middle = low + _split(size)
    if first <= middle - low:
        return [*_subproof(first, subtree, low, middle, whole), subtree(middle, high)]
    return [*_subproof(first - (middle - low), subtree, middle, high, False), subtree(low, middle)]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root that `path` climbs to from `leaf` at `index` in a tree of `size` (RFC 9162
    2.1.3.2), or None when the path cannot belong to that place (too long, too short)."""
    if not 0 <= index < size:
        return None
    node, last = index, size - 1
    climbed = leaf
    for sibling in path:
        if last == 0:
            return None
        if node & 1 or node == last:
            climbed = node_hash(sibling, climbed)
            while not node & 1 and node != 0:
                node, last = node >> 1, last >> 1
        else:
            climbed = node_hash(climbed, sibling)
        node, last = node >> 1, last >> 1
    return climbed if last == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    return root_from_inclusion(index, size, leaf, path) == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows the tree of size `second` extends the one of size `first` (RFC 9162 2.1.4.2)."""
    if first > second or first < 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # every tree extends the empty one
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a complete subtree, its root the start
        path.insert(0, first_root)
    node, last = first - 1, second - 1
    while node & 1:
        node, last = node >> 1, last >> 1
    first_climbed = second_climbed = path[0]
    for sibling in path[1:]:
        if last == 0:
            return False
        if node & 1 or node == last:
            first_climbed = node_hash(sibling, first_climbed)
            second_climbed = node_hash(sibling, second_climbed)
            while not node & 1 and node != 0:
                node, last = node >> 1, last >> 1
        else:
            second_climbed = node_hash(second_climbed, sibling)
        node, last = node >> 1, last >> 1
    return last == 0 and first_climbed == first_root and second_climbed == second_root
