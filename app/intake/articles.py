"""Storage of reports as received, the proposals made from them, and the editors' decisions.

Each report is kept under a key of its own (article_keys): its text, title, proposals and the
decisions' edits and reasons are sealed with it (app.proofs.sealing.seal_json) and opened as they are
read. Erasing a person a report names destroys the report's key (erase_naming): its text then reads
ERASED_REPORT and its proposals are gone, while what was accepted from it stays in the record, with
the person's name erased there by their own key. The rows themselves stay, as the append-only tables
require."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import utcnow, writer
from app.intake.tables import article_keys, articles, decisions, proposals
from app.proofs.sealing import SealingError, names_in, new_key, open_json, seal_json
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


ERASED_REPORT = (
    "[erased: this report named a private person since erased from the record; what was accepted "
    "from it stays in the record, with the name erased]"
)


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
        key = new_key()
        try:
            with writer(self.engine.connect()) as conn, conn.begin():
                conn.execute(
                    sa.insert(articles).values(
                        id=article_id,
                        content_hash=digest,
                        outlet=outlet,
                        url=url,
                        title=None if title is None else _sealed_text(title, key, article_id, "title"),
                        text=_sealed_text(text, key, article_id, "text"),
                        published_at=published.text(),
                        published_moment=published.moment,
                        incident_id=incident_id,
                        received_at=now,
                        received_by=received_by,
                        sealed=True,
                    )
                )
                conn.execute(sa.insert(article_keys).values(article_id=article_id, key=key))
                if made:
                    conn.execute(
                        sa.insert(proposals),
                        [
                            {
                                "article_id": article_id,
                                "proposal_id": body["id"],
                                "ordinal": n,
                                "body": seal_json(body, key, f"{article_id}/proposals/{body['id']}"),
                            }
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
            keys = _keys(conn, [article_id])
        return None if row is None else _article(row, keys)

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
            rows = conn.execute(query).all()
            keys = _keys(conn, [row.id for row in rows])
        return [_article(row, keys) for row in rows]

    def proposals(self, article_id: str) -> list[StoredProposal]:
        """The report's proposals as first made; none once the report was erased."""
        with self.engine.connect() as conn:
            sealed = conn.execute(sa.select(articles.c.sealed).where(articles.c.id == article_id)).scalar()
            key = _keys(conn, [article_id]).get(article_id)
            rows = conn.execute(
                sa.select(proposals.c.proposal_id, proposals.c.body)
                .where(proposals.c.article_id == article_id)
                .order_by(proposals.c.ordinal)
            ).all()
        if not sealed:
            return [StoredProposal(row.proposal_id, row.body) for row in rows]
        if key is None:
            return []
        return [
            StoredProposal(row.proposal_id, open_json(row.body, key, f"{article_id}/proposals/{row.proposal_id}"))
            for row in rows
        ]

    def decisions(self, article_id: str) -> dict[str, Decision]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(decisions).where(decisions.c.article_id == article_id)).all()
            sealed = conn.execute(sa.select(articles.c.sealed).where(articles.c.id == article_id)).scalar()
            key = _keys(conn, [article_id]).get(article_id)
        return {row.proposal_id: _decision(row, article_id, key if sealed else None, bool(sealed)) for row in rows}

    def erase_naming(self, conn: sa.Connection, name: str) -> list[str]:
        """Destroy the key of every sealed report naming `name`, in the caller's transaction; their ids.
        (A report stored before reports were sealed is kept as received: it cannot be erased.)"""
        erased = []
        rows = conn.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.text, article_keys.c.key).join(
                article_keys, article_keys.c.article_id == articles.c.id
            )
        ).all()
        for row in rows:
            key = bytes(row.key)
            text = _opened_text(row.text, key, row.id, "text")
            title = _opened_text(row.title, key, row.id, "title") if row.title else ""
            if names_in(f"{title}\n{text}", [name]):
                conn.execute(sa.delete(article_keys).where(article_keys.c.article_id == row.id))
                erased.append(row.id)
        return erased

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
                key = _keys(conn, [article_id]).get(article_id)
                if key is not None:  # a sealed report's decisions are sealed with it
                    where = f"{article_id}/decisions/{proposal_id}"
                    reason = (
                        None
                        if reason is None
                        else _sealed_text(reason, key, article_id, f"decisions/{proposal_id}/reason")
                    )
                    overrides = None if overrides is None else seal_json(overrides, key, where)
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


def _keys(conn: sa.Connection, article_ids: Sequence[str]) -> dict[str, bytes]:
    if not article_ids:
        return {}
    rows = conn.execute(
        sa.select(article_keys.c.article_id, article_keys.c.key).where(article_keys.c.article_id.in_(list(article_ids)))
    )
    return {article_id: bytes(key) for article_id, key in rows}


def _sealed_text(text: str, key: bytes, article_id: str, field: str) -> str:
    return json.dumps(seal_json(text, key, f"{article_id}/{field}"))


def _opened_text(stored: str, key: bytes | None, article_id: str, field: str) -> str | None:
    """A sealed column's text, or None once the report's key is gone."""
    if key is None:
        return None
    try:
        return open_json(json.loads(stored), key, f"{article_id}/{field}")
    except (ValueError, SealingError):
        raise SealingError(f"the stored report {article_id}'s {field} does not open with its key") from None


def _article(row, keys: Mapping[str, bytes]) -> Article:
    published = parse_published(row.published_at)
    title, text = row.title, row.text
    if row.sealed:
        key = keys.get(row.id)
        text = _opened_text(row.text, key, row.id, "text") if key else ERASED_REPORT
        title = _opened_text(row.title, key, row.id, "title") if key and row.title else None
    return Article(
        row.id, row.outlet, row.url, title, text, published, row.incident_id, row.received_at, row.received_by
    )


def _decision(row, article_id: str, key: bytes | None, sealed: bool) -> Decision:
    reason, overrides = row.reason, row.overrides
    if sealed:
        where = f"{article_id}/decisions/{row.proposal_id}"
        reason = _opened_text(row.reason, key, article_id, f"decisions/{row.proposal_id}/reason") if reason else None
        overrides = open_json(row.overrides, key, where) if overrides and key else None
    return Decision(row.proposal_id, row.decision, reason, overrides, row.result, row.decided_at, row.decided_by)
