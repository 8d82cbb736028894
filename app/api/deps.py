"""Dependencies shared by the routes: settings, the store, and the caller's API key."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Header, Request

from app.api.problems import Problem, field_path
from app.config import Settings
from app.projections.reads import TimelineReads
from app.store import EventStore
from app.store.keys import ApiKey, KeyRing
from events.admissible import text_problems


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> EventStore:
    return request.app.state.store


async def get_keys(request: Request) -> KeyRing:
    return request.app.state.keys


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_reads(request: Request) -> TimelineReads:
    return request.app.state.reads


ReadsDep = Annotated[TimelineReads, Depends(get_reads)]
StoreDep = Annotated[EventStore, Depends(get_store)]


# The dependencies are coroutines: FastAPI runs a plain function in a worker thread, a hop that
# cost more than the rest of a read's dependencies together. Only a key lookup, which reads the
# database, goes to a thread, and only when a key is sent.


async def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> ApiKey | None:
    """The API key presented with the request, if any; a key that is given must be valid."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "bad-credentials", "send the API key as 'Authorization: Bearer <key>'")
    keys: KeyRing = request.app.state.keys
    key = await anyio.to_thread.run_sync(keys.authenticate, token.strip())
    if key is None:
        raise Problem(401, "bad-credentials", "this API key is unknown or has been revoked")
    return key


CallerDep = Annotated[ApiKey | None, Depends(caller)]


def needs(scope: str):
    async def check(key: CallerDep, settings: SettingsDep) -> ApiKey | None:
        if scope == "read" and settings.public_read and (key is None or not key.allows("read")):
            # A public read needs no key, so a key without 'read' (write-only, webhooks-only) is
            # not refused what anyone may do: the request is served as a keyless one.
            return None
        if key is None:
            raise Problem(401, "missing-credentials", f"this request needs an API key with the '{scope}' scope")
        if not key.allows(scope):
            raise Problem(403, "missing-scope", f"this API key lacks the '{scope}' scope")
        return key

    return check


Reader = Annotated[ApiKey | None, Depends(needs("read"))]
Writer = Annotated[ApiKey, Depends(needs("write"))]
WebhookManager = Annotated[ApiKey, Depends(needs("webhooks"))]
Admin = Annotated[ApiKey, Depends(needs("admin"))]


async def json_body(request: Request) -> None:
    """Writes take JSON only (anything else is a 415 rather than a confusing validation error), and
    no text in it that the store could not hold (events.admissible), whichever field it is in."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Problem(
            415,
            "unsupported-media-type",
            f"send the body as application/json, not {media_type or 'no content type'}",
        )
    try:
        body = await request.json()
    except ValueError:
        return  # malformed JSON is answered by the body's own validation, as a 400
    errors = [{"field": field_path(where), "message": message} for where, message in text_problems(body)]
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Problem(422, "unstorable-text", detail, errors=errors)


JsonBody = Depends(json_body)


async def optional_json_body(request: Request) -> None:
    """A body that may be left out (an accept with nothing to change); if one is sent, it is JSON."""
    if request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return
    await json_body(request)
