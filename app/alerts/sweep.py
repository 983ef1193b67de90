"""The time-based rule (overdue) for every open wound, from cron on every
instance at once: opening goes through the unique partial index, resolving is
conditional, so two sweeps at the same moment open and announce each alert
once."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.alerts.evaluate import _WOUND, alert_rules, apply
from app.alerts.models import Alert
from app.assessments.models import Assessment
from app.clinical import alerts as rules_
from app.clinics.models import Clinic
from app.core.db import utcnow
from app.core.timezones import local_date
from app.summaries.statuses import as_utc
from app.wounds.models import Wound


def sweep_overdue(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Open or resolve the overdue alert of every open wound, one clinic per
    transaction. Returns counts of alerts opened and resolved."""
    now = now or utcnow()
    counts = {"opened": 0, "resolved": 0}
    for clinic_id in list(session.scalars(sa.select(Clinic.id).order_by(Clinic.id))):
        opened, resolved = _sweep_clinic(session, clinic_id, now)
        session.commit()
        counts["opened"] += opened
        counts["resolved"] += resolved
    return counts


def _sweep_clinic(session: Session, clinic_id: Any, now: datetime) -> tuple[int, int]:
    last = (
        sa.select(Assessment.wound_id, sa.func.max(Assessment.assessed_at).label("last_at"))
        .where(Assessment.clinic_id == clinic_id, Assessment.deleted_at.is_(None))
        .group_by(Assessment.wound_id)
        .subquery()
    )
    wounds = session.execute(
        sa.select(*_WOUND, last.c.last_at)
        .join(Clinic, Clinic.id == Wound.clinic_id)
        .outerjoin(last, last.c.wound_id == Wound.id)
        .where(
            Wound.clinic_id == clinic_id,
            Wound.deleted_at.is_(None),
            Wound.status == "open",
            Wound.healed_on.is_(None),
        )
    ).all()
    active: dict[Any, dict[str, Alert]] = defaultdict(dict)
    for alert in session.scalars(
        sa.select(Alert).where(
            Alert.clinic_id == clinic_id, Alert.kind == "overdue", Alert.resolved_at.is_(None)
        )
    ):
        active[alert.wound_id]["overdue"] = alert
    opened = resolved = 0
    for w in wounds:
        # Days are the clinic's calendar days: overdue turns at its midnight.
        today = local_date(now, w.timezone)
        last_on = local_date(as_utc(w.last_at), w.timezone) if w.last_at is not None else None
        decision = rules_.overdue(last_on, w.onset_date, today, alert_rules(w))
        o, r = apply(session, w, [decision], active.get(w.id, {}), now)
        opened, resolved = opened + o, resolved + r
    return opened, resolved
