"""The log's head and a stream's version are read from the events, no longer kept beside them: the
head is the highest position (and the latest recorded_at) in the events table, a stream's version its
highest version there, both one step down an index the events already have. log_head keeps the
tree's size and right edge, streams when each incident was opened. An append so no longer rewrites
a counter row and a stream row in every transaction (on SQLite two more pages in the WAL per commit:
benchmarks/README.md, append, 2026-12-03 evening); on PostgreSQL it serializes on a transaction
advisory lock instead of the log_head row's lock, so the tree's integration, which updates that row,
never waits for an append nor makes one wait. The ordering argument is in app.store.appenders.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import importlib.util
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _revision_0015():
    """The functions of 0015, whose INSERT_EVENTS and SETTLE are kept as they were."""
    path = Path(__file__).with_name("0015_append_function.py")
    spec = importlib.util.spec_from_file_location("timeline_migration_0015", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# app.store.appenders.APPEND_LOCK: "tlappend" in ASCII, apart from app.leadership's keys.
APPEND_LOCK = 0x746C_6170_7065_6E64
RESERVE = f"""
    -- First, the appends' lock, held to the end of the transaction: it serializes appends
    -- (app.store.appenders). Every statement after it sees every append committed before it.
    PERFORM pg_advisory_xact_lock({APPEND_LOCK});
    SELECT COALESCE(max(e.position), 0) + n, GREATEST(max(e.recorded_at), p_now)
        INTO last_position, recorded_at FROM events e;
    IF p_key IS NOT NULL THEN
        SELECT request_hash, result INTO held FROM idempotency_keys WHERE scope = p_scope AND key = p_key;
        IF FOUND THEN
            IF held.request_hash <> p_request_hash THEN
                RAISE EXCEPTION 'idempotency key used for another request' USING ERRCODE = 'TL002';
            END IF;
            RAISE EXCEPTION 'idempotency key already used' USING ERRCODE = 'TL001', DETAIL = held.result::text;
        END IF;
    END IF;
    SELECT COALESCE(max(e.version), 0) INTO version FROM events e WHERE e.incident_id = p_incident;
    IF p_expected IS NOT NULL AND version <> p_expected THEN
        RAISE EXCEPTION 'stale expected version' USING ERRCODE = 'TL003', DETAIL = version::text;
    END IF;
    IF version = 0 THEN
        INSERT INTO streams (incident_id, opened_at) VALUES (p_incident, recorded_at) ON CONFLICT DO NOTHING;
    END IF;
    version := version + n;
"""


# timeline_append_one: timeline_append for one event, given as arguments rather than a JSON array
# to unpack, the commonest append (an editor's, a widget's). Measured against timeline_append, both
# called by the raw driver (a scratch timing, 2026-12-03): 4-6% less time a call.
INSERT_ONE = """
    INSERT INTO events (position, incident_id, version, event_id, type, schema_version, data, metadata,
                        reported_at, recorded_at, reported_day)
        VALUES (last_position, p_incident, version, p_event_id, p_type, p_schema_version, p_data::json,
                p_metadata::json, COALESCE(p_reported_at, recorded_at), recorded_at, p_reported_day);
"""
APPEND_ONE = (
    "p_incident text, p_now timestamptz, p_expected integer, p_scope text, p_key text, p_request_hash text, "
    "p_event_id text, p_type text, p_schema_version integer, p_data text, p_metadata text, "
    "p_reported_at timestamptz, p_reported_day date, p_channel text, p_origin text, "
    "OUT version integer, OUT last_position bigint, OUT recorded_at timestamptz"
)


def _functions(reserve: str) -> dict[str, tuple[str, str, str]]:
    earlier = _revision_0015()
    functions = {
        name: (arguments, declared, body.replace(earlier.RESERVE, reserve))
        for name, (arguments, declared, body) in earlier.FUNCTIONS.items()
    }
    functions["timeline_append_one"] = (
        APPEND_ONE,
        "n integer := 1; held record;",
        reserve + INSERT_ONE + earlier.SETTLE,
    )
    return functions


def _replace_functions(functions: dict[str, tuple[str, str, str]]) -> None:
    for name, (arguments, declared, body) in functions.items():
        returns = "" if "OUT " in arguments else " RETURNS void"
        op.execute(
            f"CREATE OR REPLACE FUNCTION {name}({arguments}){returns} LANGUAGE plpgsql AS $$\n"
            f"DECLARE {declared}\nBEGIN{body}END $$"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace_functions(_functions(RESERVE))
    with op.batch_alter_table("log_head") as batch:
        batch.drop_column("position")
        batch.drop_column("recorded_at")
    with op.batch_alter_table("streams") as batch:
        batch.drop_column("version")


def downgrade() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    if op.get_bind().dialect.name == "sqlite":
        epoch = epoch.replace(tzinfo=None)
    with op.batch_alter_table("streams") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("log_head") as batch:
        batch.add_column(sa.Column("position", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column(
                "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")
            )
        )
    op.execute(
        "UPDATE streams SET version = COALESCE("
        "(SELECT max(e.version) FROM events e WHERE e.incident_id = streams.incident_id), 0)"
    )
    op.execute("UPDATE log_head SET position = (SELECT COALESCE(max(position), 0) FROM events)")
    op.execute(
        sa.text("UPDATE log_head SET recorded_at = COALESCE((SELECT max(recorded_at) FROM events), :epoch)").bindparams(
            epoch=epoch
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION timeline_append_one")
        _replace_functions(_revision_0015().FUNCTIONS)
