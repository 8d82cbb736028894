"""The actors registry: who says things, under every name they are written with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from app import commands
from app.api.deps import JsonBody, Reader, StoreDep, Writer
from app.api.problems import documented
from app.api.responses import JSONResponse
from app.api.schemas import ActorList, ActorOut, ActorWrittenOut, Strict
from app.projections.actors import ActorDirectory
from events.actors import Actor, UnknownActor
from events.admissible import MAX_INT
from events.catalog import ActorId, ActorKind, ActorName

router = APIRouter(prefix="/v1/actors", tags=["actors"], responses=documented(401, 403, 422))

WRITE = documented(400, 413, 415)
ExpectedVersion = Annotated[
    int | None,
    Field(
        ge=0,
        le=MAX_INT,
        description="the registry's version this write was decided on (GET /v1/actors); another is a 409",
    ),
]


class ActorIn(Strict):
    id: ActorId
    name: ActorName
    kind: ActorKind | None = None
    aliases: list[ActorName] = Field(default_factory=list, max_length=100)
    expected_version: ExpectedVersion = None


class AliasIn(Strict):
    alias: ActorName
    expected_version: ExpectedVersion = None


class MergeIn(Strict):
    actor_id: ActorId = Field(description="the actor to merge into this one: its names and id lead here from now on")
    expected_version: ExpectedVersion = None


async def get_actors(request: Request) -> ActorDirectory:
    return request.app.state.actors


ActorsDep = Annotated[ActorDirectory, Depends(get_actors)]


def _changed_or_not(what: str) -> dict[int | str, dict[str, Any]]:
    return {
        201: {"model": ActorWrittenOut, "description": f"The {what}: the actor as it now stands"},
        200: {"model": ActorWrittenOut, "description": "Nothing to change: the registry already said so"},
    }


@router.get("", responses={200: {"model": ActorList}})
def list_actors(
    _: Reader,
    actors: ActorsDep,
    q: Annotated[
        str | None, Query(max_length=300, description="only actors with a name holding these words, or named by them")
    ] = None,
):
    """Every actor (merged ones shown in the actor they were merged into), with the registry's version."""
    registry = actors.registry()
    found = registry.search(q) if q is not None else registry.all()
    return {"version": registry.version, "actors": [actor_json(actor) for actor in found]}


@router.get("/{actor_id}", responses={200: {"model": ActorOut}, **documented(404)})
def get_actor(actor_id: str, _: Reader, actors: ActorsDep):
    """One actor; a merged actor's id gives the actor it was merged into."""
    actor = actors.registry().get(actor_id)
    if actor is None:
        raise UnknownActor(actor_id)
    return actor_json(actor)


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    responses={201: {"model": ActorWrittenOut}, **WRITE, **documented(409)},
)
def register_actor(body: ActorIn, request: Request, key: Writer, store: StoreDep):
    """Register an actor: an id, a name, a kind and other names; no name may already be another actor's."""
    written = commands.register_actor(
        store,
        body.id,
        body.name,
        kind=body.kind,
        aliases=body.aliases,
        actor=key.name,
        expected_version=body.expected_version,
    )
    return _written(request, written, body.id, headers={"Location": f"/v1/actors/{body.id}"})


@router.post(
    "/{actor_id}/aliases",
    status_code=201,
    dependencies=[JsonBody],
    responses={**_changed_or_not("alias was added"), **WRITE, **documented(404, 409)},
)
def add_alias(actor_id: str, body: AliasIn, request: Request, key: Writer, store: StoreDep):
    """Give an actor one more name (200 if it already had it; 409 if it is another actor's)."""
    written = commands.alias_actor(store, actor_id, body.alias, actor=key.name, expected_version=body.expected_version)
    return _written(request, written, actor_id)


@router.post(
    "/{actor_id}/merge",
    status_code=201,
    dependencies=[JsonBody],
    responses={**_changed_or_not("actors were merged"), **WRITE, **documented(404, 409)},
)
def merge_actor(actor_id: str, body: MergeIn, request: Request, key: Writer, store: StoreDep):
    """Merge another actor into this one, which is kept (200 if it already was; 409 for a cycle)."""
    written = commands.merge_actors(
        store, actor_id, body.actor_id, actor=key.name, expected_version=body.expected_version
    )
    return _written(request, written, actor_id)


def _written(
    request: Request, written: commands.ActorsWritten, actor_id: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    actor = written.registry.get(actor_id)
    assert actor is not None  # the write named it, and the registry's checks found it
    if written.result is not None:
        request.app.state.appended.notify(written.result.incident_id, written.result.version)
    body = {
        "actor": actor_json(actor),
        "version": written.registry.version,
        "positions": written.result.positions if written.result is not None else [],
    }
    return JSONResponse(body, status_code=201 if written.result is not None else 200, headers=headers)


def actor_json(actor: Actor) -> dict[str, Any]:
    return {
        "id": actor.id,
        "name": actor.name,
        "kind": actor.kind,
        "aliases": list(actor.aliases),
        "merged_actor_ids": list(actor.merged_actor_ids),
        "names": list(actor.names),
        "normalised_names": sorted(actor.normalised_names),
    }
