"""Settings: every TIMELINE_* variable declared once here, typed, and checked when the service starts.

The README's configuration table is checked against these declarations (tests/unit/test_config.py):
a variable added here without a line there, or the other way round, fails the tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./timeline.db"
DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,50400,72000,86400"
PREFIX = "TIMELINE_"

CommaSeparated = Annotated[tuple[str, ...], NoDecode]


def env(name: str, field: str) -> str:
    """A field read from TIMELINE_<name> (when that differs from the field's own name, which still
    sets it in code: populate_by_name)."""
    return PREFIX + name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        frozen=True,
        populate_by_name=True,
        extra="ignore",
        env_ignore_empty=True,
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="`postgresql+psycopg://user:pass@host/db` for PostgreSQL"
    )
    # "full": every acknowledged append survives a power cut (SQLite synchronous=FULL,
    # PostgreSQL synchronous_commit=on). "fast" trades that for speed and says so in its name.
    durability: Literal["full", "fast"] = "full"
    public_read: bool = True
    cors_origins: CommaSeparated = ()
    max_body_bytes: int = Field(1024 * 1024, gt=0)
    webhook_retry_schedule: str = DEFAULT_RETRY_SCHEDULE
    webhook_allow_networks: CommaSeparated = ()
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, validation_alias=env("WEBHOOK_TIMEOUT", "webhook_timeout_seconds")
    )
    webhook_disable_after_seconds: float = Field(
        5 * 24 * 3600, gt=0, validation_alias=env("WEBHOOK_DISABLE_AFTER", "webhook_disable_after_seconds")
    )
    webhook_dispatcher: bool = True
    # How long a worker owns a leased delivery; must outlast webhook_timeout_seconds. A killed
    # worker's deliveries are taken over by another worker once their lease lapses.
    webhook_lease_seconds: float = Field(60.0, gt=0, validation_alias=env("WEBHOOK_LEASE", "webhook_lease_seconds"))
    # After a secret rotation the previous secret keeps signing (alongside the new one) this long.
    webhook_rotation_grace_seconds: float = Field(
        24 * 3600, ge=0, validation_alias=env("WEBHOOK_ROTATION_GRACE", "webhook_rotation_grace_seconds")
    )
    # Receivers' response bodies are kept in the delivery log up to this many bytes.
    webhook_response_max_bytes: int = Field(1024, ge=0)
    # Dispatchers look for work this often even when no in-process append wakes them.
    webhook_poll_seconds: float = Field(0.5, gt=0, validation_alias=env("WEBHOOK_POLL", "webhook_poll_seconds"))
    # Requests in flight per dispatcher, and per subscription within that (one slow receiver
    # occupies at most its own share).
    webhook_concurrency: int = Field(256, gt=0)
    webhook_per_subscription: int = Field(8, gt=0)
    # The CloudEvents `source` prefix: the service's public base URL (empty: a relative source).
    webhook_source: str = ""
    # Slow clients (`timeline serve`): a request's line and headers must arrive within
    # header_timeout_seconds of the connection being ready for them (made, or done with its last
    # response), and its body within body_timeout_seconds of its headers; idle keep-alive
    # connections close after keep_alive_seconds. Request line plus headers are limited to
    # max_header_bytes; max_connections (0: no limit) open at once before new requests get a 503.
    header_timeout_seconds: float = Field(10.0, gt=0, validation_alias=env("HEADER_TIMEOUT", "header_timeout_seconds"))
    body_timeout_seconds: float = Field(30.0, gt=0, validation_alias=env("BODY_TIMEOUT", "body_timeout_seconds"))
    keep_alive_seconds: int = Field(5, gt=0, validation_alias=env("KEEP_ALIVE", "keep_alive_seconds"))
    max_header_bytes: int = Field(16 * 1024, gt=0)
    # A line on standard output per request (uvicorn's access log); /metrics counts and times them either way.
    access_log: bool = True
    max_connections: int = Field(0, ge=0)
    # Rendered timeline bodies kept per ETag, up to this many bytes in all (0: none kept).
    timeline_cache_bytes: int = Field(
        64 * 1024 * 1024, ge=0, validation_alias=env("RENDER_CACHE_BYTES", "timeline_cache_bytes")
    )
    # How old this process's copy of an incident's head version may be before a read asks the
    # database again (its own appends move it at once; other processes' are seen within this).
    timeline_head_refresh_seconds: float = Field(
        0.5, gt=0, validation_alias=env("HEAD_REFRESH", "timeline_head_refresh_seconds")
    )
    # How often live streams and the assertion index look for appends nobody told them of: on
    # PostgreSQL a safety net under NOTIFY/LISTEN, on SQLite the only way to see other processes'.
    stream_poll_seconds: float = Field(1.0, gt=0, validation_alias=env("STREAM_POLL", "stream_poll_seconds"))
    index_poll_seconds: float = Field(0.5, gt=0, validation_alias=env("INDEX_POLL", "index_poll_seconds"))
    # The verifiable log: the file holding its Ed25519 signer key (outside the database, made on
    # first start, readable by its owner alone), the name its checkpoints carry (the C2SP origin
    # and key name), and how often a checkpoint is issued while appends happen.
    log_key_file: Path = Path("timeline-log.key")
    log_name: str = Field("incident-timeline.localhost/log", pattern=r"^[^\s+]+$")
    checkpoint_seconds: float = Field(2.0, gt=0, validation_alias=env("CHECKPOINT_INTERVAL", "checkpoint_seconds"))
    # Cache-Control of public timeline reads: max-age and stale-while-revalidate (0 leaves each out;
    # max-age 0 is `no-cache`, revalidate every time). Reads made with an API key are `private, no-cache`.
    timeline_max_age_seconds: int = Field(5, ge=0, validation_alias=env("CACHE_MAX_AGE", "timeline_max_age_seconds"))
    timeline_stale_seconds: int = Field(
        30, ge=0, validation_alias=env("CACHE_STALE_WHILE_REVALIDATE", "timeline_stale_seconds")
    )

    @field_validator("cors_origins", "webhook_allow_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("durability", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def from_env(cls) -> Settings:
        """The settings from the environment; a bad value is a ValueError naming the variable."""
        try:
            return cls()
        except ValidationError as error:
            problems = []
            for problem in error.errors():
                field = str(problem["loc"][0]) if problem["loc"] else "?"
                problems.append(f"{variable(field)}={problem.get('input')!r}: {problem['msg']}")
            raise ValueError("; ".join(problems)) from None


def variable(field: str) -> str:
    """The environment variable a field is read from."""
    if field.startswith(PREFIX):
        return field
    alias = Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
    return str(alias) if isinstance(alias, str) else PREFIX + field.upper()


def variables() -> dict[str, str]:
    """Every TIMELINE_* variable, with the field it sets."""
    return {variable(name): name for name in Settings.model_fields}
