"""Audit events and record history are append-only in the database itself.

The ORM already refuses to update or delete them (app/core/audit.py,
app/core/history.py); these triggers refuse it for every client of the
database, raw SQL included: PostgreSQL refuses any UPDATE or DELETE statement
on the two tables, SQLite any row either would change. Both answer with an
integrity error (SQLSTATE 23001 restrict_violation on PostgreSQL).

On SQLite, a later migration that rebuilds one of these tables (batch mode
copies it) drops its triggers and must create them again;
tests/core/test_append_only.py checks that they are there at the head.

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-28
"""

from alembic import op

revision = "0012"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("audit_events", "record_versions")
PG_FUNCTION = "woundtrack_refuse_change"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'restrict_violation';
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        return
    for table in TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION {PG_FUNCTION}()")
        return
    for table in TABLES:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{operation}")
