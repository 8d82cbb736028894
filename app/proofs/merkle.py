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
from collections.abc import Sequence

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
    return _root(leaves, 0, len(leaves)) if leaves else EMPTY_ROOT


def _root(leaves: Sequence[bytes], low: int, high: int) -> bytes:
    size = high - low
    if size == 1:
        return leaves[low]
    middle = low + _split(size)
    return node_hash(_root(leaves, low, middle), _root(leaves, middle, high))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf `index` in the tree of these leaves."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    return _path(index, leaves, 0, len(leaves))


def _path(index: int, leaves: Sequence[bytes], low: int, high: int) -> list[bytes]:
    size = high - low
    if size == 1:
        return []
    middle = low + _split(size)
    if low + index < middle:
        return [*_path(index, leaves, low, middle), _root(leaves, middle, high)]
    return [*_path(index - (middle - low), leaves, middle, high), _root(leaves, low, middle)]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): that the tree of the first `first` leaves is a prefix of this one."""
    if not 0 <= first <= len(leaves):
        raise ValueError(f"a tree of {first} cannot be a prefix of one of {len(leaves)}")
    if first in (0, len(leaves)):
        return []
    return _subproof(first, leaves, 0, len(leaves), True)


def _subproof(first: int, leaves: Sequence[bytes], low: int, high: int, whole: bool) -> list[bytes]:
    size = high - low
    if first == size:
        return [] if whole else [_root(leaves, low, high)]
    middle = low + _split(size)
    if first <= middle - low:
        return [*_subproof(first, leaves, low, middle, whole), _root(leaves, middle, high)]
    return [*_subproof(first - (middle - low), leaves, middle, high, False), _root(leaves, low, middle)]


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
