"""The demo clinic and its users, one of each role (README, docs/seed-case.md).

The clinic is found by its name and the users by their email, so a second run
finds the first run's; the researcher holds a research grant from the clinic.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.services import hash_password
from app.clinics import services as clinic_services
from app.clinics.models import Clinic
from app.demo.loader import SeedReport

DEMO_CLINIC = "Demo Wound Clinic"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - documented demo credential, README
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin@demo.example", "Demo Admin", "admin"),
    ("clinicadmin@demo.example", "Demo Clinic Admin", "clinic_admin"),
    ("clinician@demo.example", "Demo Clinician", "clinician"),
    ("nurse@demo.example", "Demo Nurse", "nurse"),
    ("researcher@demo.example", "Demo Researcher", "researcher"),
)


def demo_present(session: Session) -> bool:
    """Whether this database holds the demo clinic (deleted or not).

    The database decides, not a file beside it: the same checkout can serve a
    SQLite file one day and an empty PostgreSQL database the next.
    """
    found = session.scalar(sa.select(Clinic.id).where(Clinic.name == DEMO_CLINIC).limit(1))
    return found is not None


def clinic_and_users(session: Session, report: SeedReport) -> tuple[Clinic, dict[str, User]]:
    """The demo clinic and its users by role; the researcher gets a research grant."""
    clinic = _clinic(session, report)
    admin = _admin(session, report)
    users = {"admin": admin}
    for email, name, role in DEMO_USERS[1:]:
        users[role] = _clinic_user(session, report, admin, clinic, email, name, role)
    clinic_services.grant(session, admin, clinic.id, users["researcher"].id)
    return clinic, users


def _user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(sa.select(User).where(User.email == email)).first()


def _clinic(session: Session, report: SeedReport) -> Clinic:
    clinic = session.scalars(sa.select(Clinic).where(Clinic.name == DEMO_CLINIC)).first()
    if clinic is None:
        clinic, _ = clinic_services.create_clinic(session, {"name": DEMO_CLINIC})
        report.count("clinic")
    return clinic


def _admin(session: Session, report: SeedReport) -> User:
    """The admin belongs to no clinic, so no clinic service makes it: it is added directly."""
    email, name, role = DEMO_USERS[0]
    admin = _user_by_email(session, email)
    if admin is None:
        admin = User(email=email, name=name, role=role, password_hash=hash_password(DEMO_PASSWORD))
        session.add(admin)
        session.flush()
        report.count("user")
    return admin


def _clinic_user(
    session: Session,
    report: SeedReport,
    admin: User,
    clinic: Clinic,
    email: str,
    name: str,
    role: str,
) -> User:
    """A clinic member, made by the admin through the clinic service (as the API does)."""
    user = _user_by_email(session, email)
    if user is None:
        body = {"email": email, "name": name, "role": role, "password": DEMO_PASSWORD}
        user, _ = clinic_services.create_user(session, admin, clinic.id, body)
        report.count("user")
    return user
