"""The log's signer key, kept in a file outside the database (readable by its owner alone), made on first start."""

from __future__ import annotations

import os
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
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as written:
        written.write(signer.encode() + "\n")
    return signer
