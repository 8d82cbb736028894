"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Mount

from app.api.responses import JSONResponse
from events.catalog import InvalidEvent

log = logging.getLogger("timeline.api")

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
}


PROBLEM_REF = "#/components/schemas/ProblemDetails"


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these error statuses, each a problem+json body.

    The ProblemDetails schema itself is added to the document by app.api.openapi.
    """
    return {
        status: {"description": TITLES[status], "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}}
        for status in statuses
    }


class Problem(Exception):
    """An error for the API's user: a status, a short slug, and a sentence saying what is wrong."""

    def __init__(self, status: int, slug: str, detail: str, *, errors: list[dict] | None = None, **extra: Any):
        self.status, self.slug, self.detail, self.errors, self.extra = status, slug, detail, errors, extra
        super().__init__(detail)


def problem_response(
    status: int, slug: str, detail: str, *, instance: str | None = None, errors=None, headers=None, **extra
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://incident-timeline.dev/problems/{slug}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_path(location) -> str:
    """`("body", "events", 0, "data", "occurred")` -> `events[0].data.occurred`."""
    path = ""
    for part in location:
        if part == "body" and not path:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(routes: list[BaseRoute], scope) -> list[str]:
    """The methods some route takes at this request's path: what a 405's Allow header must list.

    Starlette's own Allow names the methods of the first route whose path matched, though FastAPI
    keeps a route per method. Asking every route whether it would take the path with each method
    uses the router's own matching, so HEAD is listed exactly where it is routed. Mounts take every
    method (the mounted app answers its own 405s), so they are left out.
    """
    probe = {
        "type": "http",
        "path": scope["path"],
        "root_path": scope.get("app_root_path", scope.get("root_path", "")),
        "headers": scope.get("headers", []),
        "query_string": scope.get("query_string", b""),
    }
    return [
        method
        for method in METHODS
        if any(
            not isinstance(route, Mount) and route.matches({**probe, "method": method})[0] is Match.FULL
            for route in routes
        )
    ]


@dataclass(frozen=True, slots=True)
class DomainError:
    """How one kind of domain error reaches HTTP: its status, its slug, and fields it adds."""

    status: int
    slug: str
    extra: Callable[[Any], dict[str, Any]] = lambda error: {}


def domain_errors() -> dict[type[Exception], DomainError]:
    """Every domain error the API can meet, in one place: the one way they become problem+json.

    Routes call handlers and services and let their errors through; nothing else maps them.
    """
    from app import commands
    from app.erasure import NobodyToErase
    from app.intake import service as intake
    from app.projections.index.query import InvalidCursor
    from app.projections.reads import PositionNotReached
    from app.store import DuplicateEventId, IdempotencyKeyReused, VersionConflict
    from app.store.tree import ProofRange, TreeBehind
    from app.transparency import CheckpointNotFound
    from app.webhooks.subscriptions import OwnerRevoked, SubscriptionNotFound, UnusableOwner
    from events import actors

    return {
        commands.IncidentNotFound: DomainError(404, "incident-not-found"),
        commands.IncidentExists: DomainError(409, "incident-exists"),
        VersionConflict: DomainError(
            409, "version-conflict", lambda e: {"expected_version": e.expected, "current_version": e.actual}
        ),
        IdempotencyKeyReused: DomainError(422, "idempotency-key-reused"),
        DuplicateEventId: DomainError(409, "duplicate-event-id"),
        intake.ArticleNotFound: DomainError(404, "article-not-found"),
        intake.ProposalNotFound: DomainError(404, "proposal-not-found"),
        intake.AlreadyDecided: DomainError(
            409, "already-decided", lambda e: {"decision": e.decision.decision, "decided_by": e.decision.decided_by}
        ),
        InvalidCursor: DomainError(
            422, "invalid-cursor", lambda e: {"errors": [{"field": "cursor", "message": str(e)}]}
        ),
        PositionNotReached: DomainError(
            422,
            "position-not-reached",
            lambda e: {"head_position": e.head, "errors": [{"field": "min_position", "message": str(e)}]},
        ),
        SubscriptionNotFound: DomainError(404, "subscription-not-found"),
        OwnerRevoked: DomainError(409, "owner-revoked"),
        UnusableOwner: DomainError(
            422, "unusable-owner", lambda e: {"errors": [{"field": "key_id", "message": str(e)}]}
        ),
        actors.ActorRefused: DomainError(422, "actor-refused"),
        actors.ActorExists: DomainError(409, "actor-exists", lambda e: {"actor_id": e.actor_id}),
        actors.UnknownActor: DomainError(404, "actor-not-found"),
        # Only the merge names a second actor, in its body's `actor_id`.
        actors.UnknownMergedActor: DomainError(
            422, "unknown-actor", lambda e: {"errors": [{"field": "actor_id", "message": str(e)}]}
        ),
        actors.NameTaken: DomainError(409, "name-taken", lambda e: {"name": e.name, "actor_id": e.owner}),
        actors.ActorMerged: DomainError(409, "actor-merged", lambda e: {"actor_id": e.actor_id, "merged_into": e.into}),
        actors.MergeCycle: DomainError(409, "merge-cycle"),
        TreeBehind: DomainError(404, "beyond-the-log", lambda e: {"tree_size": e.size}),
        ProofRange: DomainError(422, "impossible-proof"),
        CheckpointNotFound: DomainError(404, "checkpoint-not-found"),
        NobodyToErase: DomainError(404, "nobody-to-erase"),
    }


def install(app: FastAPI) -> None:
    for error_type, mapping in domain_errors().items():

        def handler(request: Request, exc: Exception, mapping: DomainError = mapping):
            return problem_response(
                mapping.status, mapping.slug, str(exc), instance=request.url.path, **mapping.extra(exc)
            )

        app.add_exception_handler(error_type, handler)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            exc.status, exc.slug, exc.detail, instance=request.url.path, errors=exc.errors, headers=headers, **exc.extra
        )

    @app.exception_handler(InvalidEvent)
    async def _invalid_event(request: Request, exc: InvalidEvent):
        errors = [{"field": p.field, "message": p.message} for p in exc.problems]
        return problem_response(422, "invalid-event", str(exc), instance=request.url.path, errors=errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        raw = exc.errors()
        if any(error.get("type") == "json_invalid" for error in raw):
            return problem_response(
                400, "malformed-json", "the request body is not valid JSON", instance=request.url.path
            )
        errors = [{"field": field_path(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in raw]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(422, "invalid-request", detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is nothing at {request.url.path}"
        headers = exc.headers
        if exc.status_code == 405 and (allowed := allowed_methods(app.router.routes, request.scope)):
            headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        return problem_response(
            exc.status_code, f"http-{exc.status_code}", detail, instance=request.url.path, headers=headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "internal-error",
            "the service failed to handle this request; it has been logged",
            instance=request.url.path,
        )
