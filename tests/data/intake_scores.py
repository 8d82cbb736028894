"""Scores of the intake's labelled-set tests, collected while they run and printed at the end of
the session (see `tests/unit/conftest.py`)."""

from __future__ import annotations

SCORES: dict[str, str] = {}


def score(name: str, hits: int, total: int, detail: str = "") -> float:
    share = hits / total if total else 0.0
    SCORES[name] = f"{hits}/{total} ({100 * share:.1f}%)" + (f"  {detail}" if detail else "")
    return share
