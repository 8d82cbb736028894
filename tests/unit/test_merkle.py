"""The RFC 9162 Merkle tree (app.proofs.merkle): the RFC 6962 / 9162 test vectors (certificate-
transparency's eight-leaf tree), roots and audit paths cross-checked against pymerkle for random
trees, and for all sizes M <= N: every proof verifies, and any changed byte anywhere breaks it."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given
from pymerkle import InmemoryTree

from app.proofs.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    consistency_proof_from_nodes,
    extend,
    frontier_root,
    inclusion_proof,
    inclusion_proof_from_nodes,
    leaf_hash,
    nodes_needed,
    root_from_nodes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

INPUTS = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]] + [
    bytes.fromhex("606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PATHS = {
    (0, 8): "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 "
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (5, 7): "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b "
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f "
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (0, 1): "",
}
LEAVES = [leaf_hash(data) for data in INPUTS]


def hexes(hashes: list[bytes]) -> str:
    return " ".join(h.hex() for h in hashes)


def test_the_roots_of_the_rfc_test_tree():
    assert EMPTY_ROOT.hex() == ROOTS[0]
    for size in range(len(LEAVES) + 1):
        assert root_hash(LEAVES[:size]).hex() == ROOTS[size], size


@pytest.mark.parametrize(("index", "size"), list(PATHS))
def test_the_audit_paths_of_the_rfc_test_tree(index, size):
    path = inclusion_proof(index, LEAVES[:size])
    assert hexes(path) == PATHS[(index, size)]
    assert verify_inclusion(index, size, LEAVES[index], path, bytes.fromhex(ROOTS[size]))


def test_every_proof_of_the_rfc_test_tree_verifies():
    for second in range(1, 9):
        second_root = bytes.fromhex(ROOTS[second])
        for first in range(0, second + 1):
            proof = consistency_proof(first, LEAVES[:second])
            assert verify_consistency(first, second, bytes.fromhex(ROOTS[first]), second_root, proof), (first, second)


leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


@given(leaf_lists)
def test_roots_and_paths_agree_with_pymerkle(data):
    tree = InmemoryTree(algorithm="sha256")
    for item in data:
        tree.append_entry(item)
    leaves = [leaf_hash(item) for item in data]
    for size in {1, len(data) // 2 or 1, len(data)}:
        assert root_hash(leaves[:size]) == tree.get_root(size)
        for index in {0, size // 2, size - 1}:
            theirs = tree.prove_inclusion(index + 1, size).serialize()["path"]
            # pymerkle's path starts with the leaf itself; the rest is RFC 9162's audit path.
            assert hexes(inclusion_proof(index, leaves[:size])) == " ".join(theirs[1:])


@st.composite
def two_sizes(draw):
    data = draw(leaf_lists)
    second = draw(st.integers(1, len(data)))
    first = draw(st.integers(0, second))
    return [leaf_hash(item) for item in data[:second]], first


@given(two_sizes(), st.data())
def test_for_any_sizes_the_proofs_verify_and_any_changed_byte_breaks_them(sizes, data):
    leaves, first = sizes
    second = len(leaves)
    first_root, second_root = root_hash(leaves[:first]), root_hash(leaves)
    proof = consistency_proof(first, leaves)
    assert verify_consistency(first, second, first_root, second_root, proof)
    index = data.draw(st.integers(0, second - 1))
    path = inclusion_proof(index, leaves)
    assert verify_inclusion(index, second, leaves[index], path, second_root)

    # A changed byte of any leaf gives other roots, which the proofs no longer join.
    changed = data.draw(st.integers(0, second - 1))
    byte = data.draw(st.integers(0, 31))
    tampered = list(leaves)
    tampered[changed] = tampered[changed][:byte] + bytes([tampered[changed][byte] ^ 1]) + tampered[changed][byte + 1 :]
    if changed < first:
        assert not verify_consistency(first, second, root_hash(tampered[:first]), second_root, proof)
    if 0 < first < second:  # a change after the first tree changes only the second root
        assert not verify_consistency(first, second, first_root, root_hash(tampered), proof)
    assert not verify_inclusion(index, second, leaves[index], path, root_hash(tampered))
    # ... and so does a changed byte of any hash of a proof, or one hash too many or too few.
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bent = list(proof)
        bent[at] = bytes([bent[at][0] ^ 1]) + bent[at][1:]
        assert not verify_consistency(first, second, first_root, second_root, bent)
        assert not verify_consistency(first, second, first_root, second_root, proof[:-1])
    if 0 < first < second:
        assert not verify_consistency(first, second, first_root, second_root, [*proof, second_root])
    if path:
        assert not verify_inclusion(index, second, leaves[index], path[:-1], second_root)
        other = (index + 1) % second
        if leaves[other] != leaves[index] or path != inclusion_proof(other, leaves):  # not twins
            assert not verify_inclusion(other, second, leaves[index], path, second_root)
    assert not verify_inclusion(index, second, leaves[index], [*path, second_root], second_root)


def test_out_of_range_places_are_refused():
    assert not verify_inclusion(8, 8, LEAVES[0], [], bytes.fromhex(ROOTS[8]))
    assert not verify_consistency(5, 3, bytes.fromhex(ROOTS[5]), bytes.fromhex(ROOTS[3]), [])
    with pytest.raises(ValueError):
        inclusion_proof(3, LEAVES[:3])
    with pytest.raises(ValueError):
        consistency_proof(4, LEAVES[:3])


# -- the tree as the store keeps it: a right edge grown by appends, complete subtrees stored --------


@given(st.lists(st.integers(0, 40), min_size=1, max_size=6), st.data())
def test_a_tree_grown_in_batches_from_its_right_edge_has_the_roots_and_proofs_of_the_whole(batches, data):
    leaves = [leaf_hash(bytes([n % 256, n // 256])) for n in range(sum(batches))]
    edge: list[bytes] = []
    stored: dict[tuple[int, int], bytes] = {}
    size = 0
    for count in batches:
        edge, made = extend(edge, size, leaves[size : size + count])
        for level, number, hashed in made:
            assert (level, number) not in stored, "a subtree is completed once"
            stored[(level, number)] = hashed
        size += count
        assert frontier_root(edge) == root_hash(leaves[:size])
        assert len(edge) == size.bit_count()
    assert len(stored) == 2 * size - size.bit_count(), "every complete subtree, leaves included"

    def node(level: int, number: int) -> bytes:
        return stored[(level, number)]

    tree = data.draw(st.integers(0, size), label="tree size")
    assert root_from_nodes(tree, node) == root_hash(leaves[:tree])
    if tree:
        index = data.draw(st.integers(0, tree - 1), label="leaf")
        assert inclusion_proof_from_nodes(index, tree, node) == inclusion_proof(index, leaves[:tree])
    first = data.draw(st.integers(0, tree), label="first tree")
    assert consistency_proof_from_nodes(first, tree, node) == consistency_proof(first, leaves[:tree])


def test_a_proof_reads_a_few_stored_nodes_however_large_the_tree():
    size = 10**12 + 12345
    needed = nodes_needed(lambda node: inclusion_proof_from_nodes(777_777_777, size, node))
    assert len(needed) <= 2 * size.bit_length()
    needed = nodes_needed(lambda node: consistency_proof_from_nodes(10**9 + 3, size, node))
    assert len(needed) <= 3 * size.bit_length()


def test_an_edge_that_does_not_fit_its_size_is_refused():
    with pytest.raises(ValueError, match="right edge"):
        extend([leaf_hash(b"a")], 3, [leaf_hash(b"b")])
