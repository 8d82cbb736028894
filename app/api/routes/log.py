"""The global log, for followers that read every event in order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import Reader, StoreDep
from app.api.problems import documented
from app.api.schemas import LogPage
from app.api.serialize import envelope
from events.admissible import MAX_BIGINT

router = APIRouter(prefix="/v1/events", tags=["log"], responses=documented(401, 403, 422))


@router.get("", responses={200: {"model": LogPage}})
def read_log(
    _: Reader,
    store: StoreDep,
    after_position: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """Events after a global position, in position order; positions have no gaps."""
    page = store.read_all(after_position=after_position, limit=limit)
    return {
        "events": [envelope(event) for event in page],
        "next_after_position": page[-1].position if page else after_position,
        "head_position": store.head_position(),
    }
