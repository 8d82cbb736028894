"""Reports in, proposals out: paste a news report, accept or reject the dated facts it states."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, StringConstraints

from app.api.deps import JsonBody, Reader, Writer, optional_json_body
from app.api.problems import documented
from app.api.responses import JSONResponse
from app.api.schemas import AcceptedOut, ArticleList, ArticleOut, IncidentId, RejectedOut, Strict
from app.intake.articles import Decision
from app.intake.service import ArticleView, Intake
from events.admissible import MAX_INT
from events.catalog import Edtf, Kind, Name, PublishedAt, Url, to_json_time
from events.published import parse_published

router = APIRouter(prefix="/v1/articles", tags=["articles"], responses=documented(401, 403, 422))

WRITE = documented(400, 413, 415)

ReportText = Annotated[str, StringConstraints(min_length=1, max_length=200_000)]


class ArticleIn(Strict):
    outlet: Name
    url: Url | None = None
    published_at: PublishedAt
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    text: ReportText
    incident_id: IncidentId | None = None


class AcceptIn(Strict):
    incident_id: IncidentId | None = None
    kind: Kind | None = None
    occurred: Edtf | None = None
    headline: Name | None = None
    attributed_to: Name | None = None
    action: Annotated[str, StringConstraints(pattern=r"^(record|corroborate|dispute|refine)$")] | None = None
    target_assertion_id: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    private: list[Name] | None = Field(
        default=None,
        max_length=20,
        description="names in this report that are private persons: kept sealed in the record, erasable "
        "(POST /v1/erasures)",
    )
    expected_version: int | None = Field(default=None, ge=0, le=MAX_INT)


class RejectIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


async def get_intake(request: Request) -> Intake:
    return request.app.state.intake


IntakeDep = Annotated[Intake, Depends(get_intake)]


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    responses={
        201: {"model": ArticleOut, "description": "The report, stored, with its proposals"},
        200: {"model": ArticleOut, "description": "The same report was posted before: as stored then"},
        **WRITE,
    },
)
def post_article(body: ArticleIn, key: Writer, intake: IntakeDep):
    """Store a report as received and propose the dated facts it states (200 if it was posted before)."""
    view, created = intake.post(
        outlet=body.outlet,
        url=body.url,
        published=parse_published(body.published_at),
        title=body.title,
        text=body.text,
        incident_id=body.incident_id,
        actor=key.name,
    )
    return JSONResponse(
        article_json(view),
        status_code=201 if created else 200,
        headers={"Location": f"/v1/articles/{view.article.id}"},
    )


@router.get("", responses={200: {"model": ArticleList}})
def list_articles(
    _: Reader,
    intake: IntakeDep,
    incident: Annotated[str | None, Query(description="only reports about this incident")] = None,
    outlet: Annotated[str | None, Query(max_length=300, description="only this outlet's reports")] = None,
    before: Annotated[datetime | None, Query(description="continue a page: reports received before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    """Reports received, newest first, without their text."""
    page = intake.articles.page(incident_id=incident, outlet=outlet, before=before, limit=limit)
    return {
        "articles": [summary_json(article) for article in page],
        "next_before": to_json_time(page[-1].received_at) if len(page) == limit else None,
    }


@router.get("/{article_id}", responses={200: {"model": ArticleOut}, **documented(404)})
def get_article(article_id: str, _: Reader, intake: IntakeDep):
    """A report as received, its proposals, and what became of each."""
    return article_json(intake.view(article_id))


@router.post(
    "/{article_id}/proposals/{proposal_id}/accept",
    dependencies=[Depends(optional_json_body)],
    responses={200: {"model": AcceptedOut}, **WRITE, **documented(404, 409)},
)
def accept_proposal(
    article_id: str,
    proposal_id: str,
    request: Request,
    key: Writer,
    intake: IntakeDep,
    body: AcceptIn | None = None,
):
    """Append the proposal's events in one atomic append (optionally edited first); a repeat is idempotent."""
    overrides = body.model_dump(exclude={"expected_version"}, exclude_none=True) if body else {}
    accepted = intake.accept(
        article_id,
        proposal_id,
        overrides,
        actor=key.name,
        expected_version=body.expected_version if body else None,
    )
    if accepted.result is not None:
        request.app.state.appended.notify(accepted.result.incident_id, accepted.result.version)
    else:
        request.app.state.appended.notify()
    result = accepted.decision.result or {}
    return {"decision": decision_json(accepted.decision), "replayed": accepted.replayed, **result}


@router.post(
    "/{article_id}/proposals/{proposal_id}/reject",
    dependencies=[JsonBody],
    responses={200: {"model": RejectedOut}, **WRITE, **documented(404, 409)},
)
def reject_proposal(article_id: str, proposal_id: str, body: RejectIn, key: Writer, intake: IntakeDep):
    """Keep an editor's rejection of a proposal, with the reason."""
    decision = intake.reject(article_id, proposal_id, body.reason, actor=key.name)
    return {"decision": decision_json(decision)}


def summary_json(article) -> dict[str, Any]:
    return {
        "id": article.id,
        "outlet": article.outlet,
        "url": article.url,
        "title": article.title,
        "published_at": article.published.text(),
        "incident_id": article.incident_id,
        "received_at": to_json_time(article.received_at),
        "received_by": article.received_by,
    }


def decision_json(decision: Decision | None) -> dict[str, Any]:
    if decision is None:
        return {"status": "pending"}
    return {
        "status": decision.decision,
        "reason": decision.reason,
        "overrides": decision.overrides,
        "result": decision.result,
        "decided_at": to_json_time(decision.decided_at),
        "decided_by": decision.decided_by,
    }


def article_json(view: ArticleView) -> dict[str, Any]:
    return {
        **summary_json(view.article),
        "text": view.article.text,
        "proposals": [
            {**stored.body, "decision": decision_json(view.decisions.get(stored.proposal_id))}
            for stored in view.proposals
        ],
    }
