"""SMART App Launch for the FHIR API: registered apps, one-use authorization
codes and access tokens (codes, tokens and secrets stored as SHA-256 only).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "smart_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("revoked_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_smart_clients_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_smart_clients_client_id")),
    )
    op.create_table(
        "smart_authorization_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=10), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_smart_authorization_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_smart_authorization_codes_code_hash")),
    )
    op.create_table(
        "smart_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("revoked_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_smart_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_smart_tokens_token_hash")),
    )
    with op.batch_alter_table("smart_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_smart_tokens_client_id", ["client_id"], unique=False)
        batch_op.create_index("ix_smart_tokens_user_id", ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("smart_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_smart_tokens_user_id")
        batch_op.drop_index("ix_smart_tokens_client_id")
    op.drop_table("smart_tokens")
    op.drop_table("smart_authorization_codes")
    op.drop_table("smart_clients")
