"""Users, the clinics each belongs to, and their tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, TimestampMixin, new_id, utcnow

ROLES = ("admin", "clinic_admin", "clinician", "nurse", "researcher")


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(sa.column("role").in_(ROLES), name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    # For ETags and If-Match, as on clinical records: two admins changing one
    # user (a rename, a disable) cannot overwrite each other unseen. Moved by
    # clinics.services.update_user only (generator off): a password rehash at
    # sign-in is no change an admin saw, and two sign-ins at once must not
    # trip over each other.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    # Fingerprint of a create sent with a client id (idempotency.create_once).
    create_hash: Mapped[str | None] = mapped_column(sa.String(64))

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    memberships = relationship("ClinicMembership", lazy="selectin", viewonly=True)

    @property
    def clinic_ids(self) -> list[uuid.UUID]:
        return sorted((m.clinic_id for m in self.memberships), key=str)


class ClinicMembership(Base):
    """A user's membership of a clinic. A user may belong to several clinics.

    It lives with the users, not the clinics: every authenticated request reads
    it to know where its caller may act (core.access.Principal.clinic_ids)."""

    __tablename__ = "clinic_memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "clinic_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthToken(Base):
    """An opaque bearer or refresh token, stored only as its SHA-256.

    Refresh tokens rotate: each use issues a new one in the same ``family_id``
    and marks the old one used. A used refresh token presented again means it
    was stolen, so the whole family is revoked.
    """

    __tablename__ = "auth_tokens"
    __table_args__ = (sa.Index("ix_auth_tokens_family", "family_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    family_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(sa.String(10))  # access | refresh
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
