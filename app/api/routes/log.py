"""The global log, for followers that read every event in order, and the proofs that it is the log
its checkpoints signed (RFC 9162 over the positions; C2SP signed notes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse

from app.api.deps import Reader, StoreDep
from app.api.problems import documented
from app.api.schemas import ConsistencyProofOut, InclusionProofOut, LogPage
from app.api.serialize import envelope
from app.transparency import TransparencyLog
from events.admissible import MAX_BIGINT

router = APIRouter(prefix="/v1/events", tags=["log"], responses=documented(401, 403, 422))
proofs = APIRouter(prefix="/v1/log", tags=["log"], responses=documented(401, 403, 422))
NOTE = {"description": "a C2SP signed note", "content": {"text/plain": {"schema": {"type": "string"}}}}
Size = Annotated[int, Query(ge=0, le=MAX_BIGINT, description="a tree size: the log's first N events")]


def _log(request: Request) -> TransparencyLog:
    return request.app.state.log


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


@router.get("/{position}/proof", responses={200: {"model": InclusionProofOut}, **documented(404)})
def inclusion_proof(
    _: Reader,
    request: Request,
    position: Annotated[int, Path(ge=1, le=MAX_BIGINT)],
    size: Size | None = None,
):
    """That the event at `position` is in the log of `size` events (default: the latest
    checkpoint's): its leaf hash and RFC 9162 audit path up to the root the checkpoint signs."""
    log = _log(request)
    proof = log.tree.inclusion(position, log.proof_size(position) if size is None else size)
    return {
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "leaf_hash": proof.leaf_hash.hex(),
        "audit_path": [node.hex() for node in proof.audit_path],
        "root_hash": proof.root_hash.hex(),
    }


@proofs.get(
    "/key",
    response_class=PlainTextResponse,
    responses={200: {"description": "the verifier key", "content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def verifier_key(_: Reader, request: Request):
    """The key that verifies the log's checkpoints: `<name>+<key hash>+<base64 key>` (C2SP signed note)."""
    return PlainTextResponse(_log(request).verifier_key() + "\n")


@proofs.get("/checkpoint", response_class=PlainTextResponse, responses={200: NOTE, **documented(404)})
def checkpoint(_: Reader, request: Request, size: Size | None = None):
    """The latest signed checkpoint (C2SP tlog-checkpoint), or the one issued at tree size `size`."""
    issued = _log(request).checkpoint(size)
    return PlainTextResponse(issued.note, headers={"Timeline-Tree-Size": str(issued.tree_size)})


@proofs.get("/consistency", responses={200: {"model": ConsistencyProofOut}, **documented(404)})
def consistency_proof(
    _: Reader,
    request: Request,
    first: Annotated[int, Query(alias="from", ge=0, le=MAX_BIGINT)],
    second: Annotated[int, Query(alias="to", ge=0, le=MAX_BIGINT)],
):
    """That the log of `to` events extends the log of `from` events (RFC 9162 consistency proof)."""
    proof = _log(request).tree.consistency(first, second)
    return {"from": first, "to": second, "proof": [node.hex() for node in proof]}
