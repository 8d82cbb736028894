"""Erasing a private person from the record (crypto-shredding: app.erasure)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.api.deps import Admin, JsonBody
from app.api.problems import documented
from app.api.schemas import Strict
from app.erasure import Erasures
from events.catalog import Name, Text

router = APIRouter(prefix="/v1/erasures", tags=["erasures"], responses=documented(401, 403, 422))


class ErasureIn(Strict):
    name: Name = Field(description="the private person's name, as an assertion's actors gave it")
    reason: Text = Field(description="why, for the record (the request, the law): kept in the log")


class ErasureOut(BaseModel):
    key_id: str = Field(description="the destroyed key's id, as the ErasureRecorded events name it")
    incidents: dict[str, list[int]] = Field(description="each incident that named the person: the positions")
    recorded: dict[str, int] = Field(description="each incident: the position of its ErasureRecorded")
    reports: list[str] = Field(description="the stored reports (article ids) that named them: their texts destroyed")


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    responses={201: {"model": ErasureOut}, **documented(400, 404, 413, 415)},
)
def erase(body: ErasureIn, request: Request, key: Admin):
    """Erase a private person: destroy their key, so their name and every text naming them read
    "[erased]" in timelines, exports and webhook replays, and record it in each incident (the log,
    its proofs and its checkpoints stay valid)."""
    erasures: Erasures = request.app.state.erasures
    done = erasures.erase(body.name, body.reason, actor=key.name)
    for incident_id, version in done.versions.items():
        request.app.state.appended.notify(incident_id, version)
    return {"key_id": done.key_id, "incidents": done.incidents, "recorded": done.recorded, "reports": done.reports}
