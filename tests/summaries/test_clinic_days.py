"""Days since an assessment are counted in the clinic's calendar days: the
dashboard's days_since_assessment and overdue, and the overdue alert rule turn
over at the clinic's midnight, not at UTC's."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.db import utcnow
from tests.alerts.conftest import alerts
from tests.summaries import helpers as h

ZONE = "Pacific/Kiritimati"  # UTC+14 all year: its day starts at 10:00 UTC


def _set_zone(clinic_admin, clinic, name: str) -> None:
    url = f"/api/v1/clinics/{clinic}"
    etag = clinic_admin.get(url).headers["ETag"]
    r = clinic_admin.patch(url, json={"timezone": name}, etag=etag)
    assert r.status_code == 200, r.json


def _days(at: datetime, now: datetime, zone) -> int:
    return (now.astimezone(zone).date() - at.astimezone(zone).date()).days


def _straddling(now: datetime) -> datetime:
    """An instant three UTC days before ``now`` on the other side of the zone's
    midnight from ``now``, so that UTC and clinic days since it differ by one,
    whatever the hour the test runs at."""
    hour = 5 if now.hour >= 10 else 12
    return datetime.combine(now.date() - timedelta(days=3), time(hour), tzinfo=UTC)


def test_dashboard_counts_days_in_the_clinics_zone(app, clinic, clinic_admin, nurse):
    now = utcnow()
    at = _straddling(now)
    local, in_utc = _days(at, now, ZoneInfo(ZONE)), _days(at, now, UTC)
    assert local != in_utc  # the case this test is about
    pid = h.patient(app, clinic, family_name="Zonedays")
    wid = h.wound(app, clinic, pid, onset_date=at.date() - timedelta(days=1))
    h.assess(nurse, wid, at, area_cm2=2.0)

    def days_since() -> int:
        r = nurse.get("/api/v1/dashboard")
        assert r.status_code == 200, r.json
        (item,) = [it for it in r.json["items"] if it["wound_id"] == str(wid)]
        return item["days_since_assessment"]

    assert days_since() == in_utc  # a clinic in UTC (the default)
    _set_zone(clinic_admin, clinic, ZONE)
    assert days_since() == local


def test_overdue_alert_turns_at_the_clinics_midnight(app, clinic, clinic_admin, nurse):
    from app.alerts.sweep import sweep_overdue
    from app.extensions import db

    _set_zone(clinic_admin, clinic, ZONE)
    # 05:00 UTC is 19:00 the same day in the zone; seven days and six hours
    # later it is 01:00 on the eighth day there, but still the seventh in UTC.
    # (Yesterday, so that it is not overdue yet when it is recorded.)
    at = datetime.combine(utcnow().date() - timedelta(days=1), time(5), tzinfo=UTC)
    pid = h.patient(app, clinic, family_name="Zoneoverdue")
    wid = h.wound(app, clinic, pid, onset_date=at.date())
    h.assess(nurse, wid, at, area_cm2=2.0)

    def sweep(now: datetime) -> dict[str, int]:
        with app.app_context():
            try:
                return sweep_overdue(db.session, now=now)
            finally:
                db.session.remove()

    assert sweep(at + timedelta(days=6, hours=6))["opened"] == 0  # 7 days there: not yet
    assert sweep(at + timedelta(days=7, hours=6))["opened"] == 1  # 8 days there
    (alert,) = alerts(nurse, kind="overdue", wound_id=str(wid))
    assert alert["figures"]["days_since"] == 8
