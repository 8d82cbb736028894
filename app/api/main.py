"""The FastAPI application: one place that collects the routers and error handlers."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine

from app.api import openapi, problems
from app.api.fast_timeline import FastTimeline
from app.api.limits import BodySizeLimit, BodyTimeout
from app.api.rendered import RenderedCache
from app.api.request_text import RefuseUnstorableText
from app.api.responses import JSONResponse
from app.api.routes import actors, articles, desk, erasures, incidents, log, stream, timeline, widget
from app.api.routes import subscriptions as subscription_routes
from app.api.schemas import HealthOut
from app.config import Settings
from app.db import create_engine
from app.erasure import Erasures
from app.intake.articles import Articles
from app.intake.service import Intake
from app.leadership import DISPATCHER, Leadership
from app.metrics import CONTENT_TYPE, Metrics, RequestTimer
from app.notify import AppendSignal
from app.projections.actors import ActorDirectory
from app.projections.index.follower import IndexFollower
from app.projections.index.projector import Projector
from app.projections.reader import Timelines
from app.projections.reads import TimelineReads
from app.projections.snapshots import SnapshotStore
from app.store import EventStore
from app.store.keys import KeyRing
from app.transparency import TransparencyLog
from app.webhooks.safety import DestinationPolicy
from app.webhooks.subscriptions import Subscriptions

logger = logging.getLogger("timeline")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = build_app(settings)
    wire(app, settings, engine or create_engine(settings.database_url, durability=settings.durability))
    return app


def build_app(settings: Settings) -> FastAPI:
    """The application without its state: routes, error handlers, middleware, and a lifespan that
    runs on whatever `wire` last gave it. Only the request limits and CORS are read from `settings`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings, engine = app.state.settings, app.state.engine
        discarded = app.state.timelines.snapshots.discard_stale()
        if discarded:
            logger.info("discarded %d snapshots made by an older timeline projection", discarded)
        # Other processes' appends (PostgreSQL) reach the same signal as this process's own: live
        # streams, the dispatcher, the index follower and the head versions wake at once.
        listener = app.state.store.listen(app.state.appended.notify)
        if listener is not None:
            listener.start()
        # While nothing is committed, the timelines' head versions are not read again
        # (app.projections.heads), nor does the index follower's poll look for anything to follow.
        watch = app.state.store.log_watch(listener)
        app.state.reads.heads.watch(None if watch is None else watch.token)
        app.state.reads.follower.watch(None if watch is None else watch.token)
        # Where the watch moves with every commit (SQLite), the checkpoint loop and the webhook
        # dispatcher's poll skip their turn while nothing at all was committed.
        every_commit = watch.token if watch is not None and watch.every_commit else None
        app.state.log.watch(every_commit)
        if settings.webhook_dispatcher:
            from app.webhooks.dispatcher import Dispatcher, ElectedDispatcher

            metrics = app.state.metrics
            # The dispatcher runs in the server's event loop of the one process elected to it;
            # appends wake it at once through the append signal (other processes' through the
            # listener above), and it polls as a safety net.
            app.state.dispatcher = ElectedDispatcher(
                lambda: Dispatcher(
                    engine, settings, signal=app.state.appended, on_outcome=metrics.delivered, watch=every_commit
                ),
                Leadership(engine, DISPATCHER),
            )
            app.state.dispatcher.start()
        # The assertion index follows the log in the background (and reads bring it up to date).
        app.state.reads.follower.start()
        app.state.log.start()  # signed checkpoints every few seconds while appends happen
        try:
            yield
        finally:
            await app.state.log.stop()
            app.state.reads.heads.watch(None)
            app.state.reads.follower.watch(None)
            if watch is not None:
                watch.close()
            if listener is not None:
                await anyio.to_thread.run_sync(listener.stop)
            await app.state.reads.follower.stop()
            if app.state.dispatcher is not None:
                await app.state.dispatcher.stop()
                app.state.dispatcher = None
            engine.dispose()

    # Swagger UI and ReDoc served from the fastapi-offline package, not a CDN: /docs works with
    # no network, as on a newsroom's closed machine.
    app = FastAPIOffline(
        title="Incident timeline service",
        version="1",
        description="An append-only record of dated assertions about news incidents, and their timelines.",
        lifespan=lifespan,
        default_response_class=JSONResponse,
    )
    problems.install(app)
    openapi.install(app)

    # First among the routes: a health check is matched before any other router is looked at.
    @app.get("/healthz", tags=["health"], responses={200: {"model": HealthOut}})
    def healthz():
        """Liveness: the process is up and the database answers."""
        progress = app.state.reads.follower.projector.progress()
        tree_size, tree_lag = app.state.log.tree.progress()
        return {
            "status": "ok",
            "head_position": progress.head,
            "assertion_index": {"position": progress.position, "lag": progress.lag},
            "log_tree": {"size": tree_size, "lag": tree_lag},
        }

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=Response,
        responses={200: {"description": "Prometheus text", "content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def metrics_text():
        """What operators watch, in the Prometheus text format: request latency by route, appends,
        the head position, the assertion index's lag, the webhook queue, deliveries, live streams and
        the rendered-timeline cache."""
        return Response(app.state.metrics.render(), media_type=CONTENT_TYPE)

    app.include_router(incidents.router)
    app.include_router(log.router)
    app.include_router(log.proofs)
    app.include_router(timeline.router)
    app.include_router(stream.router)
    app.include_router(widget.router)
    app.include_router(desk.router)
    app.include_router(subscription_routes.router)
    app.include_router(articles.router)
    app.include_router(actors.router)
    app.include_router(erasures.router)
    app.mount("/static", widget.static_files(), name="static")

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout_seconds)  # outside: times BodySizeLimit's reads
    app.add_middleware(RefuseUnstorableText)
    # The front-page read, before the request checks (it reads no body, and a path they would
    # refuse names no incident it knows) and inside CORS, which adds its headers to its answers too.
    app.add_middleware(FastTimeline)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "Last-Event-ID"],
            expose_headers=["ETag", "Location"],
        )

    def answered(route: str, method: str, status: int, seconds: float) -> None:
        app.state.metrics.answered(route, method, status, seconds)

    app.add_middleware(RequestTimer, observe=answered)  # outermost: times every answer, refusals too
    return app


def wire(app: FastAPI, settings: Settings, engine: Engine) -> None:
    """Give a built app its state on `engine`: the store, the reads, the caches, the metrics. Every
    object here is new, so an app wired again (the tests' shared app, on a fresh database) keeps
    nothing of what it was before."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.metrics = metrics = Metrics()
    app.state.store = EventStore(engine, on_append=metrics.appended)
    app.state.keys = KeyRing(engine)
    app.state.appended = AppendSignal()
    app.state.timelines = Timelines(app.state.store, SnapshotStore(engine))
    app.state.subscriptions = Subscriptions(engine, rotation_grace_seconds=settings.webhook_rotation_grace_seconds)
    app.state.webhook_policy = DestinationPolicy.from_env(settings.webhook_allow_networks, settings.webhook_allow_http)
    app.state.dispatcher = None
    projector = Projector(app.state.store, app.state.timelines)
    follower = IndexFollower(
        projector, Leadership(engine), app.state.appended, poll_seconds=settings.index_poll_seconds
    )
    app.state.actors = ActorDirectory(app.state.store)
    app.state.reads = TimelineReads(
        app.state.store,
        app.state.timelines,
        follower,
        app.state.actors,
        head_refresh_seconds=settings.timeline_head_refresh_seconds,
    )
    # Moved by this process's appends as each commits (the routes notify after the store returns).
    app.state.appended.on_append(app.state.reads.heads.moved)
    app.state.rendered = RenderedCache(settings.timeline_cache_bytes, on_lookup=metrics.looked_up)
    app.state.log = TransparencyLog(
        engine, key_file=settings.log_key_file, name=settings.log_name, every_seconds=settings.checkpoint_seconds
    )
    metrics.watch_log(projector, app.state.subscriptions, app.state.log.tree.progress)
    reports = Articles(engine)
    app.state.erasures = Erasures(
        app.state.store, app.state.timelines, reports, forget_rendered=app.state.rendered.clear
    )
    app.state.intake = Intake(app.state.store, app.state.timelines, reports, app.state.actors)
