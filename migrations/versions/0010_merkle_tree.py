"""The log's Merkle tree (RFC 9162) and its signed checkpoints: the tree's size and right edge on
the log_head row, every complete subtree's hash, and the checkpoints issued. Both new tables are
append-only, like the events. The tree of the events already stored is built by `timeline migrate`
once the schema is in place (app.store.tree.LogTree.catch_up), not here: it hashes each event as the
store reads it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("merkle_nodes", "checkpoints")


def upgrade() -> None:
    with op.batch_alter_table("log_head") as batch:
        batch.add_column(sa.Column("tree_size", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("frontier", sa.LargeBinary, nullable=False, server_default=sa.text("''")))
    op.create_table(
        "merkle_nodes",
        sa.Column("node", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_merkle_nodes")),
    )
    op.create_table(
        "checkpoints",
        sa.Column("tree_size", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_checkpoints")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_refuse_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: {action} is refused'); END"
                )
    else:
        # events_refuse_change (0001) raises for any table it guards; its message names the events.
        op.execute(
            """CREATE FUNCTION log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'restrict_violation';
               END $$"""
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_refuse_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION log_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION log_refuse_change()"
            )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS log_refuse_change()")
    with op.batch_alter_table("log_head") as batch:
        batch.drop_column("frontier")
        batch.drop_column("tree_size")
