"""Provable history: the Merkle tree over the log (RFC 9162), its proofs, and (to come) signed checkpoints."""
