"""Storage of reports as received, the proposals made from them, and the editors' decisions."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import utcnow, writer
from app.intake.tables import articles, decisions, proposals
from events.published import Published, parse_published

_ARTICLE_NAMESPACE = uuid.UUID("0b6f3f57-8f0e-4d0c-9a43-7d7e1f2c5a10")


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    outlet: str
    url: str | None
    title: str | None
    text: str
    published: Published
    incident_id: str | None
    received_at: datetime
    received_by: str


@dataclass(frozen=True, slots=True)
class Decision:
    proposal_id: str
    decision: str  # accepted, rejected
    reason: str | None
    overrides: dict[str, Any] | None
    result: dict[str, Any] | None
    decided_at: datetime
    decided_by: str


@dataclass(frozen=True, slots=True)
class StoredProposal:
    proposal_id: str
    body: dict[str, Any]


class DecisionExists(Exception):
    def __init__(self, earlier: Decision):
        self.earlier = earlier
        super().__init__(f"proposal {earlier.proposal_id!r} was already {earlier.decision}")


def content_hash(url: str | None, text: str) -> str:
    return hashlib.sha256(f"{url or ''}\n{text}".encode()).hexdigest()


def article_id_for(digest: str) -> str:
    """The same report (URL and text) is always the same article id."""
    return str(uuid.uuid5(_ARTICLE_NAMESPACE, digest))


class Articles:
    def __init__(self, engine: Engine):
        self.engine = engine

    def find(self, url: str | None, text: str) -> Article | None:
        return self.get(article_id_for(content_hash(url, text)))

    def add(
        self,
        *,
        outlet: str,
        url: str | None,
        title: str | None,
        text: str,
        published: Published,
        incident_id: str | None,
        received_by: str,
        made: Sequence[dict[str, Any]],
    ) -> tuple[Article, bool]:
        """Store a report and the proposals made from it; (the article, False) if it was stored already.

        The report and its proposals go in one transaction: an article is never seen without them.
        """
        digest = content_hash(url, text)
        article_id = article_id_for(digest)
        now = utcnow()
        try:
            with writer(self.engine.connect()) as conn, conn.begin():
                conn.execute(
                    sa.insert(articles).values(
                        id=article_id,
                        content_hash=digest,
                        outlet=outlet,
                        url=url,
                        title=title,
                        text=text,
                        published_at=published.text(),
                        published_moment=published.moment,
                        incident_id=incident_id,
                        received_at=now,
                        received_by=received_by,
                    )
                )
                if made:
                    conn.execute(
                        sa.insert(proposals),
                        [
                            {"article_id": article_id, "proposal_id": body["id"], "ordinal": n, "body": body}
                            for n, body in enumerate(made)
                        ],
                    )
        except sa.exc.IntegrityError:
            # The same report again (perhaps posted at the same moment by someone else): the
            # first one stands, with the proposals it was first given.
            existing = self.get(article_id)
            if existing is None:
                raise
            return existing, False
        return self.get(article_id), True  # type: ignore[return-value]

    def get(self, article_id: str) -> Article | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(articles).where(articles.c.id == article_id)).first()
        return None if row is None else _article(row)

    def page(
        self,
        *,
        incident_id: str | None = None,
        outlet: str | None = None,
        before: datetime | None = None,
        limit: int = 50,
    ) -> list[Article]:
        """Newest first; `before` (a received_at) continues a page."""
        query = sa.select(articles).order_by(articles.c.received_at.desc(), articles.c.id.desc()).limit(limit)
        if incident_id is not None:
            query = query.where(articles.c.incident_id == incident_id)
        if outlet is not None:
            query = query.where(sa.func.lower(articles.c.outlet) == outlet.lower())
        if before is not None:
            query = query.where(articles.c.received_at < before)
        with self.engine.connect() as conn:
            return [_article(row) for row in conn.execute(query)]

    def proposals(self, article_id: str) -> list[StoredProposal]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(proposals.c.proposal_id, proposals.c.body)
                .where(proposals.c.article_id == article_id)
                .order_by(proposals.c.ordinal)
            )
            return [StoredProposal(row.proposal_id, row.body) for row in rows]

    def decisions(self, article_id: str) -> dict[str, Decision]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(decisions).where(decisions.c.article_id == article_id))
            return {row.proposal_id: _decision(row) for row in rows}

    def decide(
        self,
        article_id: str,
        proposal_id: str,
        decision: str,
        *,
        by: str,
        reason: str | None = None,
        overrides: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> Decision:
        """Keep a decision; a proposal is decided once (DecisionExists carries the earlier one)."""
        try:
            with writer(self.engine.connect()) as conn, conn.begin():
                conn.execute(
                    sa.insert(decisions).values(
                        article_id=article_id,
                        proposal_id=proposal_id,
                        decision=decision,
                        reason=reason,
                        overrides=overrides,
                        result=result,
                        decided_at=utcnow(),
                        decided_by=by,
                    )
                )
        except sa.exc.IntegrityError:
            earlier = self.decisions(article_id).get(proposal_id)
            if earlier is None:
                raise
            raise DecisionExists(earlier) from None
        return self.decisions(article_id)[proposal_id]


def _article(row) -> Article:
    published = parse_published(row.published_at)
    return Article(
        row.id, row.outlet, row.url, row.title, row.text, published, row.incident_id, row.received_at, row.received_by
    )


def _decision(row) -> Decision:
    return Decision(
        row.proposal_id, row.decision, row.reason, row.overrides, row.result, row.decided_at, row.decided_by
    )
