"""The log's signer key, kept in a file outside the database (readable by its owner alone), made on first start."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.proofs.notes import NoteError, Signer


def load_or_create_signer(path: Path, name: str) -> Signer:
    """The log's signer key from `path`, made (readable by its owner alone) on first start."""
    if path.exists():
        signer = Signer.decode(path.read_text())
        if signer.name != name:
            raise NoteError(f"the key in {path} signs as {signer.name!r}, not {name!r}")
        return signer
    signer = Signer.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a name of its own, then linked into place: several processes starting at
    # once (`--workers`) make one key between them, and none reads a half-written file.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as written:
            written.write(signer.encode() + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            return load_or_create_signer(path, name)  # another process made it first
    finally:
        draft.unlink()
    return signer
