"""Clinics, their users and research grants."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import ClinicMembership, User
from app.auth.passwords import issue_reset
from app.auth.services import hash_password, set_active
from app.clinics.models import Clinic, ResearchGrant
from app.clinics.schemas import ClinicSchema, UserSchema
from app.core import audit
from app.core.access import Principal, in_clinic, not_found
from app.core.db import utcnow
from app.core.errors import Problem, field_error
from app.core.etags import require_if_match
from app.core.idempotency import create_once
from app.core.pagination import paginate_args
from app.core.timezones import DEFAULT_ZONE

_dump_user = UserSchema().dump
_dump_clinic = ClinicSchema().dump

# Roles a clinic_admin may hand out; only an admin makes admins.
CLINIC_ADMIN_GRANTABLE = ("clinic_admin", "clinician", "nurse", "researcher")


def create_clinic(session: Session, data: dict[str, Any]) -> tuple[Clinic, bool]:
    """Create a clinic (admin); with a client ``id`` a retry is a replay.
    Returns (clinic, created)."""

    def build(clinic_id: uuid.UUID, fp: str) -> Clinic:
        _check_name_free(session, data["name"])
        fields = {k: v for k, v in data.items() if k != "id"}
        return Clinic(id=clinic_id, create_hash=fp, **fields)

    return create_once(session, Clinic, data, build, _dump_clinic)


def _check_name_free(session: Session, name: str) -> None:
    if session.scalar(sa.select(Clinic.id).where(Clinic.name == name)):
        raise field_error("name", "a clinic with this name exists already")


def get_clinic(session: Session, user: User, clinic_id: uuid.UUID) -> Clinic:
    """One of the user's clinics (any for an admin), or 404."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None or not in_clinic(user, clinic.id):
        raise not_found("clinic")
    return clinic


def update_clinic(session: Session, user: User, clinic: Clinic, data: dict[str, Any]) -> Clinic:
    """Change a clinic's settings (If-Match). What they decide follows at once:
    the PAR threshold of every trajectory and the dashboard (whose ETags move),
    the overdue interval, the marker size of later uploads. A rename is for
    admins, and the name stays unique."""
    require_if_match(clinic, _dump_clinic)
    if "name" in data and data["name"] != clinic.name:
        if user.role != "admin":
            raise Problem(403, "Forbidden", "Only an admin renames a clinic.")
        _check_name_free(session, data["name"])
    for key, value in data.items():
        setattr(clinic, key, value)
    session.flush()
    return clinic


def clinics_for(session: Session, user: User, args: dict[str, Any]) -> dict[str, Any]:
    """The clinics the user belongs to (all for an admin), by name; a page."""
    stmt = sa.select(Clinic)
    if user.role != "admin":
        stmt = stmt.where(Clinic.id.in_(user.clinic_ids))
    return paginate_args(session, stmt, Clinic, args, order_by=(Clinic.name,))


def clinic_choices(session: Session, user: Principal) -> list[Any]:
    """(id, name) rows of the clinics the user may pick on a page, by name: all for an
    admin, those granting access for a researcher, the user's own for anyone else."""
    stmt = sa.select(Clinic.id, Clinic.name).order_by(Clinic.name, Clinic.id)
    if user.role == "researcher":
        granted = sa.select(ResearchGrant.clinic_id).where(
            ResearchGrant.researcher_id == user.id, ResearchGrant.revoked_at.is_(None)
        )
        stmt = stmt.where(Clinic.id.in_(granted))
    elif user.role != "admin":
        stmt = stmt.where(Clinic.id.in_(user.clinic_ids or [uuid.uuid4()]))
    return list(session.execute(stmt).all())


def clinic_zone_name(session: Session, clinic_id: Any) -> str:
    """The time zone a clinic's pages print times in (UTC for an unknown clinic)."""
    try:
        key = clinic_id if isinstance(clinic_id, uuid.UUID) else uuid.UUID(str(clinic_id))
    except ValueError:
        return DEFAULT_ZONE
    name = session.scalar(sa.select(Clinic.timezone).where(Clinic.id == key))
    return name or DEFAULT_ZONE


def user_zone_name(session: Session, user: Principal) -> str:
    """The zone for a page that no one clinic decides (a list across clinics):
    the user's clinics' zone when they all share one, else UTC."""
    if not user.clinic_ids:
        return DEFAULT_ZONE
    names = set(session.scalars(sa.select(Clinic.timezone).where(Clinic.id.in_(user.clinic_ids))))
    return names.pop() if len(names) == 1 else DEFAULT_ZONE


def create_user(
    session: Session, actor: User, clinic_id: uuid.UUID, data: dict[str, Any]
) -> tuple[User, bool]:
    """Create a user in a clinic; with a client ``id`` a retry is a replay
    (the password is not part of what a replay must match: its fingerprint is
    stored, and a fingerprint of a password is a hash anyone can test guesses
    against). Returns (user, created)."""
    if actor.role != "admin" and data["role"] not in CLINIC_ADMIN_GRANTABLE:
        raise Problem(403, "Forbidden", f"A clinic_admin cannot create {data['role']} users.")
    email = data["email"].strip().lower()

    def build(user_id: uuid.UUID, fp: str) -> User:
        if session.scalar(sa.select(User.id).where(User.email == email)):
            raise field_error("email", "a user with this email exists already")
        return User(
            id=user_id,
            create_hash=fp,
            email=email,
            name=data["name"],
            role=data["role"],
            password_hash=hash_password(data["password"]),
        )

    payload = {k: v for k, v in data.items() if k != "password"} | {"clinic_id": clinic_id}
    user, created = create_once(
        session,
        User,
        payload,
        build,
        _dump_user,
        owned=lambda stored: actor.role == "admin" or clinic_id in stored.clinic_ids,
    )
    if not created:
        return user, False
    session.add(ClinicMembership(user_id=user.id, clinic_id=clinic_id))
    session.flush()
    session.expire(user, ["memberships"])
    audit.record(
        session, "create", "user", user.id, clinic_id=clinic_id, details={"role": user.role}
    )
    return user, True


def clinic_users(session: Session, clinic_id: uuid.UUID, args: dict[str, Any]) -> dict[str, Any]:
    """A clinic's users, by email; a page (disabled ones included, marked)."""
    stmt = (
        sa.select(User)
        .join(ClinicMembership, ClinicMembership.user_id == User.id)
        .where(ClinicMembership.clinic_id == clinic_id)
    )
    return paginate_args(session, stmt, User, args, order_by=(User.email,))


def managed_user(session: Session, actor: User, user_id: uuid.UUID) -> User:
    """A user the actor may manage: any for admin, own clinics' for clinic_admin."""
    user = session.get(User, user_id)
    if user is None or (
        actor.role != "admin"
        and (user.role == "admin" or not set(user.clinic_ids) & set(actor.clinic_ids))
    ):
        raise not_found("user")
    return user


def update_user(session: Session, actor: User, user: User, data: dict[str, Any]) -> User:
    """Rename, disable or re-enable (If-Match: a stale client hears 412 first)."""
    require_if_match(user, _dump_user)
    if data:
        user.version += 1
    if "name" in data:
        user.name = data["name"]
    if "is_active" in data:
        if user.id == actor.id and not data["is_active"]:
            raise field_error("is_active", "you cannot disable yourself")
        set_active(session, user, data["is_active"])
    session.flush()
    if data:
        # Who may read patient data changed: each of the user's clinics sees it
        # in its audit log. (Users are not audited by the flush hook: a user
        # belongs to several clinics, and its row holds the password hash.)
        details = {"changed": sorted(data), "is_active": user.is_active}
        for clinic_id in user.clinic_ids or [None]:
            audit.record(session, "update", "user", user.id, clinic_id=clinic_id, details=details)
    return user


def issue_password_reset(session: Session, actor: Any, user: User) -> tuple[str, Any]:
    """A one-time reset token for a user the actor manages (managed_user).
    Whoever holds it can sign in as the user, so a clinic_admin may issue one
    only for a user all of whose clinics it manages: not to reach, through a
    shared user, a clinic it does not."""
    if actor.role != "admin" and not set(user.clinic_ids) <= set(actor.clinic_ids):
        raise Problem(
            403,
            "Forbidden",
            "This user also belongs to clinics you do not manage; an admin resets its password.",
        )
    return issue_reset(session, user)


def grant(
    session: Session, actor: User, clinic_id: uuid.UUID, researcher_id: uuid.UUID
) -> ResearchGrant:
    researcher = session.get(User, researcher_id)
    if researcher is None or researcher.role != "researcher":
        raise field_error("researcher_id", "is not a researcher's user id")
    existing = session.scalars(
        sa.select(ResearchGrant).where(
            ResearchGrant.clinic_id == clinic_id,
            ResearchGrant.researcher_id == researcher_id,
            ResearchGrant.revoked_at.is_(None),
        )
    ).first()
    if existing:
        return existing
    g = ResearchGrant(clinic_id=clinic_id, researcher_id=researcher_id, granted_by=actor.id)
    session.add(g)
    session.flush()
    return g


def grants_of(session: Session, clinic_id: uuid.UUID, args: dict[str, Any]) -> dict[str, Any]:
    """A clinic's research grants, oldest first; a page (revoked ones included)."""
    stmt = sa.select(ResearchGrant).where(ResearchGrant.clinic_id == clinic_id)
    return paginate_args(session, stmt, ResearchGrant, args, order_by=(ResearchGrant.granted_at,))


def revoke_grant(session: Session, grant_row: ResearchGrant) -> ResearchGrant:
    if grant_row.revoked_at is None:
        grant_row.revoked_at = utcnow()
        session.flush()
    return grant_row


def has_grant(session: Session, researcher_id: uuid.UUID, clinic_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            sa.select(ResearchGrant.id).where(
                ResearchGrant.clinic_id == clinic_id,
                ResearchGrant.researcher_id == researcher_id,
                ResearchGrant.revoked_at.is_(None),
            )
        )
        is not None
    )
