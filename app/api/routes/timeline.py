"""Timelines: an incident's entries now or at any cut-off, what changed, and assertions across incidents."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.deps import Reader, ReadsDep, SettingsDep
from app.api.exports import render_export
from app.api.problems import Problem, documented
from app.api.rendered import Rendered, RenderedCache
from app.api.responses import JSONResponse
from app.api.schemas import AssertionPageOut, ChangesOut, CrossChangesOut, TimelineJsOut, TimelineOut
from app.config import Settings
from app.projections.analyst_exports import FORMATS, content_digest
from app.projections.index.query import SORTS, Cursor, Narrowing
from app.projections.reads import CutOffsReversed, PositionNotReached, TimelineReads
from app.projections.timeline import PROJECTION_VERSION, CutOff, Filters
from app.transparency import TransparencyLog
from events.admissible import MAX_BIGINT, MAX_INT, time_problem
from events.catalog import Moment, PublishedAt, to_json_time
from events.published import parse_published

router = APIRouter(tags=["timelines"], responses=documented(401, 403, 422))


async def cut_off_params(
    as_of: Annotated[Moment | None, Query(description="recorded time (RFC 3339): what this store knew then")] = None,
    as_of_version: Annotated[int | None, Query(ge=0, le=MAX_INT, description="the incident's stream version")] = None,
    reported_as_of: Annotated[
        PublishedAt | None,
        Query(
            description="what had been reported by then: an RFC 3339 time, or a date meaning the end of that day (UTC)"
        ),
    ] = None,
) -> CutOff:
    return CutOff(as_of, as_of_version, _reported(reported_as_of))


async def filter_params(
    kind: Annotated[list[str] | None, Query(description="only these kinds (repeat or comma-separate)")] = None,
    occurred_from: Annotated[date | None, Query(description="entries whose dates overlap from this day")] = None,
    occurred_to: Annotated[date | None, Query(description="entries whose dates overlap up to this day")] = None,
    include_retracted: bool = False,
) -> Filters:
    kinds = frozenset(k.strip() for value in kind or [] for k in value.split(",") if k.strip())
    if occurred_from and occurred_to and occurred_from > occurred_to:
        raise Problem(422, "invalid-filter", "occurred_from is after occurred_to")
    return Filters(kinds, occurred_from, occurred_to, include_retracted)


CutOffDep = Annotated[CutOff, Depends(cut_off_params)]
FiltersDep = Annotated[Filters, Depends(filter_params)]


def describe_cut_off(cut_off: CutOff) -> dict[str, Any]:
    return {
        "as_of": to_json_time(cut_off.as_of) if cut_off.as_of else None,
        "as_of_version": cut_off.as_of_version,
        "reported_as_of": to_json_time(cut_off.reported_as_of) if cut_off.reported_as_of else None,
    }


def describe_filters(filters: Filters) -> dict[str, Any]:
    return {
        "kind": sorted(filters.kinds),
        "occurred_from": filters.occurred_from.isoformat() if filters.occurred_from else None,
        "occurred_to": filters.occurred_to.isoformat() if filters.occurred_to else None,
        "include_retracted": filters.include_retracted,
    }


def _etag(*parts: Any) -> str:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f'"{digest}"'


def timeline_etag(
    incident_id: str, version: int, cut_off: CutOff, filters: Filters, history: bool, format: str, actors: int
) -> str:
    # The body is a pure function of this key: the events up to `version` never change
    # (append-only), a cut-off of "now" or a recorded time is keyed by the version it resolved to,
    # a publication cut-off and the filters by their values, and the actors' ids by the registry
    # version (a body resolved against a later one is served but not kept under this tag).
    chosen = describe_filters(filters), history, format
    return _etag(incident_id, version, describe_cut_off(cut_off), *chosen, PROJECTION_VERSION, actors)


def not_modified(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    return if_none_match.strip() == "*" or etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]


TIMELINE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": TimelineOut | TimelineJsOut,
        "description": "The timeline: JSON (`format=json`, or `timelinejs` for TimelineJS), CSV or NDJSON.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string", "description": "one entry per line"}},
        },
        "headers": {
            "Timeline-Checkpoint": {
                "description": "the tree size of the first signed checkpoint (GET /v1/log/checkpoint?size=...) "
                "that holds every event this timeline was folded from; absent for the few seconds before "
                "a checkpoint covers the newest ones",
                "schema": {"type": "integer"},
            }
        },
    },
    304: {"description": "Not modified: the If-None-Match ETag is still current."},
    **documented(404),
}


def cache_control(request: Request, settings: Settings) -> str:
    """Public reads may be kept and served by shared caches (a CDN) for max-age, then served stale
    while they revalidate with the ETag; a read made with an API key is the key holder's alone, and
    revalidated every time, so a revoked key stops being answered at once."""
    if "authorization" in request.headers or not settings.public_read:
        return "private, no-cache"
    return public_cache_control(settings)


def public_cache_control(settings: Settings) -> str:
    if not settings.timeline_max_age_seconds:
        return "public, no-cache"
    directives = f"public, max-age={settings.timeline_max_age_seconds}"
    if settings.timeline_stale_seconds:
        directives += f", stale-while-revalidate={settings.timeline_stale_seconds}"
    return directives


def _versions(reads: TimelineReads, incident_id: str, cut_off: CutOff) -> tuple[int, int]:
    # The incident's version first, then the registry's (as before the cache): see _render for why
    # the order of the registry's version and the entries matters.
    return reads.version(incident_id, cut_off), reads.actors_version()


def _render(
    reads: TimelineReads,
    incident_id: str,
    version: int,
    cut_off: CutOff,
    filters: Filters,
    history: bool,
    format: str,
) -> tuple[Rendered, int]:
    """The body, and the actors registry version its actor ids were resolved against: at least the
    version in the ETag, which was read before it (the body is never older than its tag says), and
    higher when an actor was registered in between, in which case the body is not the ETag's."""
    read = reads.timeline(incident_id, version, cut_off, filters, history=history)
    body: dict[str, Any] = {
        "incident": read.incident,
        "version": version,
        "cut_off": describe_cut_off(cut_off),
        "entries": read.entries,
    }
    if read.unreadable:
        body["unreadable"] = read.unreadable
    response = render_export(body, format, {})
    headers = tuple((name, value) for name, value in response.headers.items() if name != "content-length")
    # Where the last event folded here sits in the log: a checkpoint at or past it proves them all.
    position = (reads.store.position_of(incident_id, version) or 0) if version else 0
    return Rendered(bytes(response.body), headers, position), read.actors_version


@router.get("/v1/incidents/{incident_id}/timeline", responses=TIMELINE_RESPONSES)
@router.head("/v1/incidents/{incident_id}/timeline", include_in_schema=False)
async def timeline(
    incident_id: str,
    request: Request,
    _: Reader,
    reads: ReadsDep,
    settings: SettingsDep,
    cut_off: CutOffDep,
    filters: FiltersDep,
    history: Annotated[bool, Query(description="include each revision's earlier values")] = False,
    format: Literal["json", "timelinejs", "csv", "ndjson"] = "json",
):
    """The incident's timeline at a cut-off, ordered by when things happened (HEAD: its headers, e.g. the ETag)."""
    # A coroutine, so that a repeat read (versions known here, body in the cache) costs no thread
    # hop and no database round trip; whatever needs the database or the fold goes to a thread.
    fresh, fresh_actors = reads.fresh_version(incident_id, cut_off), reads.fresh_actors_version()
    if fresh is None or fresh_actors is None:
        version, actors = await anyio.to_thread.run_sync(_versions, reads, incident_id, cut_off)
    else:
        version, actors = fresh, fresh_actors
    etag = timeline_etag(incident_id, version, cut_off, filters, history, format, actors)
    headers = {"ETag": etag, "Cache-Control": cache_control(request, settings)}
    if not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    cache: RenderedCache = request.app.state.rendered
    rendered = cache.get(etag)
    if rendered is None:
        made, resolved_against = await anyio.to_thread.run_sync(
            _render, reads, incident_id, version, cut_off, filters, history, format
        )
        if resolved_against == actors:
            cache.put(etag, made)
        rendered = made
    headers.update(rendered.headers)
    log: TransparencyLog = request.app.state.log
    headers.update(log.checkpoint_header(rendered.position))
    if request.method == "HEAD":
        # The GET's status and headers (its ETag, type and length), without the body.
        return Response(headers={**headers, "Content-Length": str(len(rendered.body))})
    return Response(rendered.body, headers=headers)


def _parse_bound(name: str, raw: str) -> CutOff:
    text = raw.strip()
    # ASCII digits only: str.isdigit() also admits "²" and "①", which int() refuses.
    if re.fullmatch(r"[0-9]+", text):
        if int(text) > MAX_INT:
            raise Problem(
                422,
                "invalid-cut-off",
                f"{name}: a version is at most {MAX_INT}, not {text}",
                errors=[{"field": name, "message": f"at most {MAX_INT}"}],
            )
        return CutOff(as_of_version=int(text))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            422,
            "invalid-cut-off",
            f"{name} must be a version number or an RFC 3339 time, not {raw!r}",
            errors=[{"field": name, "message": "a version number or an RFC 3339 time"}],
        ) from None
    problem = time_problem(moment)
    if problem:
        raise Problem(422, "invalid-cut-off", f"{name} {problem}", errors=[{"field": name, "message": problem}])
    return CutOff(as_of=moment)


Reported = Annotated[
    PublishedAt | None,
    Query(description="a publication time (RFC 3339), or a date meaning the end of that day (UTC)"),
]


def _reported(value: str | None) -> datetime | None:
    return parse_published(value).moment if value else None


def _change_bounds(
    since: str | None, until: str | None, since_reported: str | None, until_reported: str | None
) -> tuple[CutOff, CutOff]:
    if since is None and since_reported is None:
        raise Problem(
            422,
            "invalid-cut-off",
            "say where the changes start: since (recorded: a version, position or RFC 3339 time) or "
            "since_reported (a publication time), or both",
            errors=[{"field": "since", "message": "give since or since_reported"}],
        )
    since_moment, until_moment = _reported(since_reported), _reported(until_reported)
    if since_moment and until_moment and since_moment > until_moment:
        raise Problem(422, "invalid-cut-off", "since_reported is after until_reported")
    since_cut = _parse_bound("since", since) if since else CutOff()
    until_cut = _parse_bound("until", until) if until else CutOff()
    return replace(since_cut, reported_as_of=since_moment), replace(until_cut, reported_as_of=until_moment)


@router.get("/v1/incidents/{incident_id}/timeline/changes", responses={200: {"model": ChangesOut}, **documented(404)})
def timeline_changes(
    incident_id: str,
    _: Reader,
    reads: ReadsDep,
    since: Annotated[str | None, Query(description="a version number or an RFC 3339 recorded time")] = None,
    until: Annotated[
        str | None, Query(description="a version number or an RFC 3339 recorded time; default now")
    ] = None,
    since_reported: Reported = None,
    until_reported: Reported = None,
):
    """Entries added, changed and retracted between two cut-offs: by recording (`since`, `until`), by
    publication (`since_reported`, `until_reported`: what had been reported by then), or both."""
    since_cut, until_cut = _change_bounds(since, until, since_reported, until_reported)
    try:
        changes = reads.changes(incident_id, since_cut, until_cut)
    except CutOffsReversed as error:
        raise Problem(422, "invalid-cut-off", str(error)) from None
    return {
        "incident_id": incident_id,
        "since": {"version": changes.since, **describe_cut_off(since_cut)},
        "until": {"version": changes.until, **describe_cut_off(until_cut)},
        "added": changes.added,
        "changed": changes.changed,
        "retracted": changes.retracted,
    }


@router.get("/v1/changes", responses={200: {"model": CrossChangesOut}})
def changes_across_incidents(
    _: Reader,
    reads: ReadsDep,
    since: Annotated[str | None, Query(description="a global log position or an RFC 3339 recorded time")] = None,
    until: Annotated[
        str | None, Query(description="a global log position or an RFC 3339 recorded time; default now")
    ] = None,
    since_reported: Reported = None,
    until_reported: Reported = None,
    incident: Annotated[list[str] | None, Query(description="only these incidents")] = None,
):
    """Entries added, changed and retracted across incidents between two cut-offs of the log, read
    from the assertion index: by recording (`since`, `until`: positions or recorded times), by
    publication (`since_reported`, `until_reported`), or both."""
    since_cut, until_cut = _change_bounds(since, until, since_reported, until_reported)
    try:
        changes = reads.changes_across(
            since_cut,
            until_cut,
            since_position=since_cut.as_of_version,  # a plain number here is a global position
            until_position=until_cut.as_of_version,
            incidents=set(incident or []),
        )
    except CutOffsReversed as error:
        raise Problem(422, "invalid-cut-off", str(error)) from None
    except PositionNotReached as error:
        field = "since" if since_cut.as_of_version == error.wanted else "until"
        raise Problem(
            422,
            "position-not-reached",
            str(error),
            head_position=error.head,
            errors=[{"field": field, "message": str(error)}],
        ) from None

    def bound(cut_off: CutOff, position: int) -> dict[str, Any]:
        return {
            "position": position,
            "as_of": to_json_time(cut_off.as_of) if cut_off.as_of else None,
            "reported_as_of": to_json_time(cut_off.reported_as_of) if cut_off.reported_as_of else None,
        }

    return JSONResponse(
        {
            "since": bound(since_cut, changes.since),
            "until": bound(until_cut, changes.until),
            "added": changes.added,
            "changed": changes.changed,
            "retracted": changes.retracted,
        },
        headers={"Timeline-Position": str(changes.until)},
    )


ASSERTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": AssertionPageOut,
        "description": (
            "A page of assertions (JSON), or all of them as CSV (ACLED-style columns), GeoJSON (the entries "
            "with a place) or Parquet. Exports carry a Content-Digest (RFC 9530); the same request with "
            "as_of_position set to the Timeline-Position header gives the same bytes later."
        ),
        "headers": {
            "Timeline-Position": {
                "description": "the global log position the answer reflects",
                "schema": {"type": "integer"},
                "required": True,
            },
            "Content-Digest": {"description": "sha-256 of an export's bytes (RFC 9530)", "schema": {"type": "string"}},
        },
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/geo+json": {"schema": {"type": "object"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    **documented(404),  # an actor= that names no actor
}


SortName = Literal["occurred", "-occurred", "first_reported", "-first_reported", "recorded", "-recorded"]


def outlet_of(outlet: str | None, source: str | None) -> str | None:
    if outlet is not None and source is not None and outlet.lower() != source.lower():
        raise Problem(422, "invalid-filter", "outlet and source name the same filter; give one of them")
    return outlet if outlet is not None else source


@router.get("/v1/assertions", responses=ASSERTION_RESPONSES)
def assertions(
    _: Reader,
    reads: ReadsDep,
    cut_off: CutOffDep,
    filters: FiltersDep,
    incident: Annotated[list[str] | None, Query(description="only these incidents")] = None,
    linked: Annotated[bool, Query(description="with incident: also the incidents linked to those, either way")] = False,
    attributed_to: Annotated[
        str | None, Query(description="who made the claim (case-insensitive, part of the name)")
    ] = None,
    actor: Annotated[
        str | None,
        Query(
            max_length=80,
            description="claims made by this actor (an id from /v1/actors) under any of its names and aliases",
        ),
    ] = None,
    outlet: Annotated[str | None, Query(description="only assertions this outlet reported (case-insensitive)")] = None,
    source: Annotated[str | None, Query(description="the same as outlet (its earlier name)")] = None,
    occurred_match: Annotated[
        Literal["overlap", "within"],
        Query(description="overlap: some possible day in occurred_from..occurred_to; within: every one"),
    ] = "overlap",
    disputed: Annotated[bool | None, Query(description="only disputed (true) or undisputed (false) claims")] = None,
    status: Annotated[Literal["active", "retracted"] | None, Query()] = None,
    rank: Annotated[Literal["preferred", "normal", "deprecated"] | None, Query()] = None,
    min_sources: Annotated[int | None, Query(ge=0, le=MAX_INT, description="reported by at least this many")] = None,
    q: Annotated[
        str | None, Query(max_length=500, description="words that must all be in the headline, text or quotes")
    ] = None,
    as_of_position: Annotated[
        int | None, Query(ge=0, le=MAX_BIGINT, description="what the log held up to this global position")
    ] = None,
    min_position: Annotated[
        int | None,
        Query(ge=0, le=MAX_BIGINT, description="answer only once this position is reflected (read your own writes)"),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=500, description="next_cursor of the previous page: the next page, as of the same position"),
    ] = None,
    sort: Annotated[
        SortName,
        Query(description="occurred (when it happened), first_reported or recorded; a leading '-' for newest first"),
    ] = "occurred",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
    format: Literal["json", "csv", "geojson", "parquet"] = "json",
):
    """Assertions across incidents, with the same cut-offs and filters as a timeline, a page at a time.

    Page with `next_cursor` (stable while others append: every page is read at the first page's
    position) or with `offset`; exports hold every match.
    """
    filters = Filters(
        filters.kinds,
        filters.occurred_from,
        filters.occurred_to,
        filters.include_retracted or status == "retracted",
        attributed_to,
        outlet_of(outlet, source),
    )
    narrowing = Narrowing(occurred_match == "within", disputed, status, rank, min_sources, q)
    export = format != "json"
    page = reads.assertions(
        cut_off,
        filters,
        incidents=set(incident or []),
        limit=None if export else limit,
        offset=0 if export else offset,
        as_of_position=as_of_position,
        min_position=min_position,
        cursor=Cursor.decode(cursor) if cursor and not export else None,
        narrowing=narrowing,
        sort=SORTS[sort],
        actor=actor,
        linked=linked,
    )
    headers = {"Timeline-Position": str(page.position)}
    if export:
        exported = FORMATS[format]
        body = exported.render(page.assertions, reads.incident_locations(page.position))
        headers["Content-Digest"] = content_digest(body)
        headers["Content-Disposition"] = f'attachment; filename="assertions-{page.position}.{exported.extension}"'
        return Response(body, media_type=exported.media_type, headers=headers)
    return JSONResponse(
        {
            "cut_off": {**describe_cut_off(cut_off), "as_of_position": as_of_position},
            "position": page.position,
            "total": page.total,
            "offset": offset,
            "limit": limit,
            "next_offset": offset + limit if cursor is None and offset + limit < page.total else None,
            "next_cursor": page.next_cursor,
            "assertions": page.assertions,
        },
        headers=headers,
    )
