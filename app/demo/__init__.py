"""Demo data: a demo clinic, its users, the seed case and a synthetic cohort.

Everything clinical is loaded THROUGH THE SAME SCHEMAS AND SERVICES THE API
USES (each body is validated by the route's schema, then handed to the
service), inside a request context whose ``g.user`` is the demo nurse, so the
audit trail and the amendment history name an actor and every rule of the API
applies to the demo data too.

Idempotent: every record has a fixed id (uuid5 of a name), users and the clinic
are looked up by email/name, and a record whose id exists already is left as it
is. Running ``seed-demo`` twice changes nothing the second time. Dates are
relative to the day of the first run, so the dashboard shows current data.

The modules, in the order a run uses them:
- ``loader``: fixed ids (``demo_id``), the run's ``SeedReport``, the ``Loader``;
- ``people``: the demo clinic and one user of each role;
- ``records``: one maker per record type (route schema + service);
- ``seed_case``: the published case the product grew from (docs/seed-case.md);
- ``cohort``: 20 fictitious patients with 36 wounds of four shapes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import cast

from flask import Flask, g
from sqlalchemy.orm import Session

from app.core.access import Principal
from app.demo.cohort import cohort
from app.demo.loader import Loader, SeedReport, demo_id
from app.demo.people import DEMO_CLINIC, DEMO_PASSWORD, DEMO_USERS, clinic_and_users, demo_present
from app.demo.seed_case import (
    SEED_COURSE_ID,
    SEED_PATIENT_ID,
    SEED_WOUND_ID,
    SeedTimeline,
    seed_case,
)
from app.extensions import db

__all__ = [
    "DEMO_CLINIC",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "SEED_COURSE_ID",
    "SEED_PATIENT_ID",
    "SEED_WOUND_ID",
    "SeedReport",
    "SeedTimeline",
    "demo_id",
    "demo_present",
    "seed_demo",
]


def seed_demo(app: Flask, today: date | None = None) -> SeedReport:
    """Load the demo data (idempotent) and commit. Returns what was created."""
    report = SeedReport()
    today = today or datetime.now(UTC).date()  # the date the API checks against
    with app.test_request_context(
        "/seed-demo", headers={"If-Match": "*"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        session = cast(Session, db.session)
        try:
            _clinic, users = clinic_and_users(session, report)
            session.expire(users["nurse"], ["memberships"])
            g.user = Principal.of(users["nurse"])  # the actor of every clinical record
            load = Loader(session, report)
            seed_case(load, today)
            cohort(load, today)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return report
