"""A stored systemic course as the pure schedule of app.clinical.therapy, and
what a course shows about today.

Imports no schema and no service, so the schemas, the write services and the
read API can all build on it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, has_app_context

from app.clinical import therapy as sched
from app.therapy.models import SystemicTherapy, TherapyChange

# Longest window the exposure endpoint and the read API cover (about ten years):
# a bound on the work one request can ask for.
MAX_WINDOW_DAYS = 3660


def today() -> date:
    """The calendar day in UTC."""
    return datetime.now(UTC).date()


def anti_angiogenic_extra() -> list[str]:
    """Clinic-configured extra anti-angiogenic agent names (ANTI_ANGIOGENIC_EXTRA)."""
    raw: Any = current_app.config.get("ANTI_ANGIOGENIC_EXTRA", "") if has_app_context() else ""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    return [name.strip() for name in items if name and name.strip()]


def active_changes(therapy: SystemicTherapy) -> list[TherapyChange]:
    """The course's changes that are not deleted, by date then by recording order."""
    return sorted(
        (c for c in therapy.changes if c.deleted_at is None),
        key=lambda c: (c.effective_on, c.created_at),
    )


def course_fields(therapy: SystemicTherapy) -> dict[str, Any]:
    """The course columns its schedule is made of (the fields an amendment merges into)."""
    return {
        "start_date": therapy.start_date,
        "stop_date": therapy.stop_date,
        "days_on": therapy.days_on,
        "days_off": therapy.days_off,
        "dose": therapy.dose,
    }


def to_schedule(fields: dict[str, Any], changes: Iterable[Any]) -> sched.Schedule:
    """The pure schedule of course ``fields`` (as course_fields) with ``changes``
    (anything with effective_on, kind and dose), in the order given."""
    return sched.Schedule(
        start_date=fields["start_date"],
        stop_date=fields.get("stop_date"),
        days_on=fields["days_on"],
        days_off=fields["days_off"],
        dose=fields["dose"],
        changes=tuple(sched.Change(c.effective_on, c.kind, c.dose) for c in changes),
    )


def schedule_of(therapy: SystemicTherapy) -> sched.Schedule:
    """The pure schedule (app.clinical.therapy) of a stored course."""
    return to_schedule(course_fields(therapy), active_changes(therapy))


def derived_today(therapy: SystemicTherapy) -> dict[str, Any]:
    """on_drug_today, dose_today, cycle_today (calendar day in UTC)."""
    day = today()
    try:
        s = schedule_of(therapy)
        return {
            "on_drug_today": sched.on_drug(s, day),
            "dose_today": sched.dose_on(s, day),
            "cycle_today": sched.cycle_number(s, day),
        }
    except ValueError:  # a stored course that breaks a rule: say nothing rather than fail
        return {"on_drug_today": False, "dose_today": None, "cycle_today": None}
