"""On PostgreSQL, the append's writes as functions: timeline_append() makes a whole append in one
statement, called by app.store.appenders.append_postgres in autocommit, so that an append of up to
SMALL_BATCH events is one round trip to the server (it was BEGIN and two pipelines); a larger one
calls timeline_reserve() and timeline_settle() around its COPY. They make the store's writes in
the store's order, under the log_head row lock; the ordering argument is in app.store.appenders.
SQLite runs in the process: nothing to add there.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The append's writes, written once and put together into three functions: the first and last
# parts (RESERVE, SETTLE) are timeline_reserve and timeline_settle, which a larger append calls
# around its COPY of the events; all three with the events' INSERT between them are
# timeline_append. Pasted rather than called, so the one-statement append pays no nested calls.
#
# What a call can refuse, as SQLSTATEs of our own (class TL) that roll the statement back:
# TL001 the key's earlier result (in DETAIL), TL002 the key used for another request,
# TL003 a stale expected version (the stream's version in DETAIL).
RESERVE = """
    -- First, the log_head row lock, held to the end of the transaction: it serializes appends
    -- (app.store.appenders).
    UPDATE log_head SET position = position + n, recorded_at = GREATEST(log_head.recorded_at, p_now)
        WHERE id = 1 RETURNING position, log_head.recorded_at INTO last_position, recorded_at;
    IF p_key IS NOT NULL THEN
        SELECT request_hash, result INTO held FROM idempotency_keys WHERE scope = p_scope AND key = p_key;
        IF FOUND THEN
            IF held.request_hash <> p_request_hash THEN
                RAISE EXCEPTION 'idempotency key used for another request' USING ERRCODE = 'TL002';
            END IF;
            RAISE EXCEPTION 'idempotency key already used' USING ERRCODE = 'TL001', DETAIL = held.result::text;
        END IF;
    END IF;
    INSERT INTO streams AS s (incident_id, version, opened_at) VALUES (p_incident, n, recorded_at)
        ON CONFLICT (incident_id) DO UPDATE SET version = s.version + EXCLUDED.version
        RETURNING s.version INTO version;
    IF p_expected IS NOT NULL AND version - n <> p_expected THEN
        RAISE EXCEPTION 'stale expected version' USING ERRCODE = 'TL003', DETAIL = (version - n)::text;
    END IF;
"""
# p_events: the events as one JSON array of objects with PreparedEvent's fields, data and metadata
# each the text to store as a JSON string (a nested json value would be parsed with its escapes,
# and refused where PostgreSQL's json type keeps what it is given, such as a lone surrogate's
# escape). One document rather than an array per field: psycopg adapts Python lists in Python,
# and seven of them took longer than the round trip saved.
INSERT_EVENTS = """
    INSERT INTO events (position, incident_id, version, event_id, type, schema_version, data, metadata,
                        reported_at, recorded_at, reported_day)
        SELECT last_position - n + e.o, p_incident, version - n + e.o, e.event_id, e.type, e.schema_version,
               e.data::json, e.metadata::json, COALESCE(e.reported_at, recorded_at), recorded_at, e.reported_day
        FROM ROWS FROM (json_to_recordset(p_events) AS (
            event_id text, type text, schema_version integer, data text, metadata text,
            reported_at timestamptz, reported_day date)) WITH ORDINALITY AS e(
            event_id, type, schema_version, data, metadata, reported_at, reported_day, o);
"""
SETTLE = """
    IF p_key IS NOT NULL THEN
        -- The result a repeat is answered with, in app.store.store._result_to_json's shape (the
        -- store contract's idempotency tests read it back through both paths).
        INSERT INTO idempotency_keys (scope, key, request_hash, incident_id, result, created_at)
        VALUES (p_scope, p_key, p_request_hash, p_incident, json_build_object(
            'incident_id', p_incident, 'version', version,
            'positions', (SELECT json_agg(p) FROM generate_series(last_position - n + 1, last_position) AS p),
            'recorded_at', to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
        ), recorded_at);
    END IF;
    -- Heard by the other processes once the commit is visible (app.store.listener).
    PERFORM pg_notify(p_channel, json_build_object(
        'origin', p_origin, 'stream', p_incident, 'version', version, 'position', last_position)::text);
"""
FUNCTIONS = {
    "timeline_append": (
        "p_incident text, p_now timestamptz, p_expected integer, p_scope text, p_key text, p_request_hash text, "
        "p_events json, p_channel text, p_origin text, "
        "OUT version integer, OUT last_position bigint, OUT recorded_at timestamptz",
        "n integer := json_array_length(p_events); held record;",
        RESERVE + INSERT_EVENTS + SETTLE,
    ),
    "timeline_reserve": (
        "p_incident text, p_now timestamptz, n integer, p_expected integer, p_scope text, p_key text, "
        "p_request_hash text, OUT version integer, OUT last_position bigint, OUT recorded_at timestamptz",
        "held record;",
        RESERVE,
    ),
    "timeline_settle": (
        "p_incident text, n integer, version integer, last_position bigint, recorded_at timestamptz, "
        "p_scope text, p_key text, p_request_hash text, p_channel text, p_origin text",
        "",
        SETTLE,
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (arguments, declared, body) in FUNCTIONS.items():
            returns = "" if "OUT " in arguments else " RETURNS void"
            op.execute(
                f"CREATE FUNCTION {name}({arguments}){returns} LANGUAGE plpgsql AS $$\n"
                f"DECLARE {declared}\nBEGIN{body}END $$"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}")
