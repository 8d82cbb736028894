"""Webhook subscriptions: register a URL, receive every new event about the incidents you follow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, Field, StringConstraints

from app.api.deps import Admin, JsonBody, WebhookManager
from app.api.problems import Problem, documented
from app.api.responses import JSONResponse
from app.api.schemas import (
    CreatedSubscriptionOut,
    DeliveryList,
    IncidentId,
    ReplayOut,
    RotatedOut,
    Strict,
    SubscriptionList,
    SubscriptionOut,
)
from app.webhooks.safety import BlockedDestination, DestinationPolicy
from app.webhooks.subscriptions import Attempt, Subscription, Subscriptions
from events.admissible import MAX_BIGINT
from events.catalog import CATALOG, to_json_time

router = APIRouter(prefix="/v1/subscriptions", tags=["webhooks"], responses=documented(401, 403, 422))

WRITE = documented(400, 413, 415)

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Description = Annotated[str, StringConstraints(max_length=500)]
MAX_FILTER = 100


def _check_types(types: list[str]) -> list[str]:
    unknown = [name for name in types if name not in CATALOG]
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; use any of {', '.join(CATALOG)}")
    return types


EventTypes = Annotated[list[str], AfterValidator(_check_types)]


class SubscriptionIn(Strict):
    url: Url
    incidents: list[IncidentId] | None = Field(default=None, min_length=1, max_length=MAX_FILTER)
    types: EventTypes | None = Field(default=None, min_length=1, max_length=MAX_FILTER)
    description: Description | None = None
    from_position: int | None = Field(default=None, ge=1, le=MAX_BIGINT)


class SubscriptionPatch(Strict):
    url: Url | None = None
    incidents: list[IncidentId] | None = Field(default=None, min_length=1, max_length=MAX_FILTER)
    types: EventTypes | None = Field(default=None, min_length=1, max_length=MAX_FILTER)
    description: Description | None = None
    paused: bool | None = None


class RotateIn(Strict):
    grace_seconds: float | None = Field(default=None, ge=0, le=30 * 24 * 3600)


class OwnerIn(Strict):
    key_id: Annotated[str, StringConstraints(min_length=1, max_length=36)]


class ReplayIn(Strict):
    from_position: int = Field(ge=1, le=MAX_BIGINT)


async def get_subscriptions(request: Request) -> Subscriptions:
    return request.app.state.subscriptions


SubscriptionsDep = Annotated[Subscriptions, Depends(get_subscriptions)]


def _check_url(request: Request, url: str) -> None:
    policy: DestinationPolicy = request.app.state.webhook_policy
    try:
        policy.check_url(url)
    except BlockedDestination as error:
        raise Problem(
            422,
            "webhook-url-refused",
            str(error),
            errors=[{"field": "url", "message": str(error)}],
            refusal=error.kind,
        ) from None


def _poke(request: Request) -> None:
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.poke()


def _time(value):
    return None if value is None else to_json_time(value)


def _out(subscription: Subscription) -> dict:
    return {
        "id": subscription.id,
        "owner_key_id": subscription.owner_key_id,
        "url": subscription.url,
        "description": subscription.description,
        "incidents": subscription.incidents,
        "types": subscription.types,
        "status": subscription.status,
        "paused": subscription.status == "paused",
        "disabled_reason": subscription.disabled_reason,
        "disabled_at": _time(subscription.disabled_at),
        "checkpoint": subscription.checkpoint,
        "backlog": subscription.backlog,
        "failing_since": _time(subscription.failing_since),
        "previous_secret_expires_at": _time(subscription.previous_secret_expires_at),
        "created_at": _time(subscription.created_at),
        "updated_at": _time(subscription.updated_at),
    }


def _attempt_out(attempt: Attempt) -> dict:
    return {
        "id": attempt.id,
        "event_id": attempt.event_id,
        "position": attempt.position,
        "incident_id": attempt.incident_id,
        "attempt": attempt.attempt,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "response_body": attempt.response_body,
        "latency_ms": attempt.latency_ms,
        "attempted_at": _time(attempt.attempted_at),
        "next_attempt_at": _time(attempt.next_attempt_at),
    }


@router.post("", status_code=201, dependencies=[JsonBody], responses={201: {"model": CreatedSubscriptionOut}, **WRITE})
def create_subscription(body: SubscriptionIn, request: Request, key: WebhookManager, repo: SubscriptionsDep):
    """Subscribe a URL to new events; the response carries the signing secret, shown this once."""
    _check_url(request, body.url)
    subscription, secret = repo.create(
        key.id,
        body.url,
        incidents=body.incidents,
        types=body.types,
        description=body.description,
        from_position=body.from_position,
    )
    _poke(request)
    return JSONResponse(
        {**_out(subscription), "secret": secret},
        status_code=201,
        headers={"Location": f"/v1/subscriptions/{subscription.id}"},
    )


@router.get("", responses={200: {"model": SubscriptionList}})
def list_subscriptions(key: WebhookManager, repo: SubscriptionsDep):
    """This API key's subscriptions (never their secrets)."""
    return {"subscriptions": [_out(s) for s in repo.list(key.id)]}


@router.get("/{subscription_id}", responses={200: {"model": SubscriptionOut}, **documented(404)})
def get_subscription(subscription_id: str, key: WebhookManager, repo: SubscriptionsDep):
    """One subscription: its filter, status, checkpoint and backlog."""
    return _out(repo.get(key.id, subscription_id))


@router.patch(
    "/{subscription_id}",
    dependencies=[JsonBody],
    responses={200: {"model": SubscriptionOut}, **WRITE, **documented(404, 409)},
)
def update_subscription(
    subscription_id: str, body: SubscriptionPatch, request: Request, key: WebhookManager, repo: SubscriptionsDep
):
    """Change the URL, filter or description; `paused: true` pauses, `paused: false` resumes or re-enables."""
    changes = body.model_dump(include=body.model_fields_set)
    if changes.get("url", "") is None or changes.get("paused", False) is None:
        raise Problem(422, "invalid-request", "url and paused cannot be null")
    if "url" in changes:
        _check_url(request, changes["url"])
    subscription = repo.update(key.id, subscription_id, changes)
    _poke(request)
    return _out(subscription)


@router.post(
    "/{subscription_id}/owner",
    dependencies=[JsonBody],
    responses={200: {"model": SubscriptionOut}, **WRITE, **documented(404)},
)
def hand_over(subscription_id: str, body: OwnerIn, _: Admin, repo: SubscriptionsDep):
    """Give a subscription to another API key (admin only); a paused one stays paused until that key resumes it."""
    return _out(repo.hand_over(subscription_id, body.key_id))


@router.delete("/{subscription_id}", status_code=204, responses=documented(404))
def delete_subscription(subscription_id: str, key: WebhookManager, repo: SubscriptionsDep):
    """Delete a subscription, its queued deliveries and its delivery log."""
    repo.delete(key.id, subscription_id)
    return Response(status_code=204)


@router.post("/{subscription_id}/rotate-secret", responses={200: {"model": RotatedOut}, **documented(400, 404, 413)})
def rotate_secret(subscription_id: str, key: WebhookManager, repo: SubscriptionsDep, body: RotateIn | None = None):
    """A new signing secret (shown once); the old one keeps signing alongside it for a grace period."""
    secret, until = repo.rotate_secret(key.id, subscription_id, grace_seconds=body.grace_seconds if body else None)
    return {"id": subscription_id, "secret": secret, "previous_secret_expires_at": to_json_time(until)}


@router.get("/{subscription_id}/deliveries", responses={200: {"model": DeliveryList}, **documented(404)})
def list_deliveries(
    subscription_id: str,
    key: WebhookManager,
    repo: SubscriptionsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=MAX_BIGINT, description="an attempt id: older attempts only")] = None,
    event_id: Annotated[str | None, Query(max_length=36)] = None,
):
    """Every delivery attempt, newest first: status code or error, latency, and the next retry."""
    attempts = repo.attempts(key.id, subscription_id, limit=limit, before=before, event_id=event_id)
    return {
        "deliveries": [_attempt_out(a) for a in attempts],
        "next_before": attempts[-1].id if len(attempts) == limit else None,
    }


@router.post(
    "/{subscription_id}/replay",
    status_code=202,
    dependencies=[JsonBody],
    responses={202: {"model": ReplayOut}, **WRITE, **documented(404)},
)
def replay(subscription_id: str, body: ReplayIn, request: Request, key: WebhookManager, repo: SubscriptionsDep):
    """Send every matching event again, from a global position on (same `webhook-id` as before)."""
    queued = repo.replay(key.id, subscription_id, body.from_position)
    _poke(request)
    return {"id": subscription_id, "from_position": body.from_position, "queued": queued}
