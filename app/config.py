"""Settings read from the environment (TIMELINE_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///./timeline.db"
DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,50400,72000,86400"


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def _csv(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    value = float(raw) if raw else default
    if not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # "full": every acknowledged append survives a power cut (SQLite synchronous=FULL,
    # PostgreSQL synchronous_commit=on). "fast" trades that for speed and says so in its name.
    durability: str = "full"
    public_read: bool = True
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    webhook_retry_schedule: str = DEFAULT_RETRY_SCHEDULE
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_seconds: float = 5 * 24 * 3600
    webhook_dispatcher: bool = True
    # How long a worker owns a leased delivery; must outlast webhook_timeout_seconds. A killed
    # worker's deliveries are taken over by another worker once their lease lapses.
    webhook_lease_seconds: float = 60.0
    # After a secret rotation the previous secret keeps signing (alongside the new one) this long.
    webhook_rotation_grace_seconds: float = 24 * 3600
    # Receivers' response bodies are kept in the delivery log up to this many bytes.
    webhook_response_max_bytes: int = 1024
    # Dispatchers look for work this often even when no in-process append wakes them.
    webhook_poll_seconds: float = 0.5
    # Requests in flight per dispatcher, and per subscription within that (one slow receiver
    # occupies at most its own share).
    webhook_concurrency: int = 256
    webhook_per_subscription: int = 8
    # The CloudEvents `source` prefix: the service's public base URL (empty: a relative source).
    webhook_source: str = ""
    # Slow clients (`timeline serve`): a request's line and headers must arrive within
    # header_timeout_seconds of the connection being ready for them (made, or done with its last
    # response), and its body within body_timeout_seconds of its headers; idle keep-alive
    # connections close after keep_alive_seconds. Request line plus headers are limited to
    # max_header_bytes; max_connections (0: no limit) open at once before new requests get a 503.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    keep_alive_seconds: int = 5
    max_header_bytes: int = 16 * 1024
    max_connections: int = 0

    @classmethod
    def from_env(cls) -> "Settings":
        durability = os.environ.get("TIMELINE_DURABILITY", "full").strip().lower()
        if durability not in {"full", "fast"}:
            raise ValueError(f"TIMELINE_DURABILITY must be 'full' or 'fast', not {durability!r}")
        return cls(
            database_url=os.environ.get("TIMELINE_DATABASE_URL", DEFAULT_DATABASE_URL),
            durability=durability,
            public_read=_flag("TIMELINE_PUBLIC_READ", True),
            cors_origins=_csv("TIMELINE_CORS_ORIGINS"),
            webhook_retry_schedule=os.environ.get("TIMELINE_WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE),
            webhook_allow_networks=_csv("TIMELINE_WEBHOOK_ALLOW_NETWORKS"),
            webhook_allow_http=_flag("TIMELINE_WEBHOOK_ALLOW_HTTP", False),
            webhook_timeout_seconds=float(os.environ.get("TIMELINE_WEBHOOK_TIMEOUT", "10")),
            webhook_disable_after_seconds=float(os.environ.get("TIMELINE_WEBHOOK_DISABLE_AFTER", str(5 * 24 * 3600))),
            webhook_dispatcher=_flag("TIMELINE_WEBHOOK_DISPATCHER", True),
            webhook_lease_seconds=float(os.environ.get("TIMELINE_WEBHOOK_LEASE", "60")),
            webhook_rotation_grace_seconds=float(os.environ.get("TIMELINE_WEBHOOK_ROTATION_GRACE", str(24 * 3600))),
            webhook_response_max_bytes=int(os.environ.get("TIMELINE_WEBHOOK_RESPONSE_MAX_BYTES", "1024")),
            webhook_poll_seconds=float(os.environ.get("TIMELINE_WEBHOOK_POLL", "0.5")),
            webhook_concurrency=int(os.environ.get("TIMELINE_WEBHOOK_CONCURRENCY", "256")),
            webhook_per_subscription=int(os.environ.get("TIMELINE_WEBHOOK_PER_SUBSCRIPTION", "8")),
            webhook_source=os.environ.get("TIMELINE_WEBHOOK_SOURCE", ""),
            header_timeout_seconds=_positive("TIMELINE_HEADER_TIMEOUT", 10.0),
            body_timeout_seconds=_positive("TIMELINE_BODY_TIMEOUT", 30.0),
            keep_alive_seconds=int(os.environ.get("TIMELINE_KEEP_ALIVE", "5")),
            max_header_bytes=int(os.environ.get("TIMELINE_MAX_HEADER_BYTES", str(16 * 1024))),
            max_connections=int(os.environ.get("TIMELINE_MAX_CONNECTIONS", "0")),
        )
