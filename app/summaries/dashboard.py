"""The clinic dashboard (GET /dashboard): a clinic's open wounds (or healed
ones, or all: ``record``), worst first, with their trajectory status, overdue
flag and latest grades, and counts.

Grades are given per scale, CTCAE and RTOG side by side (``latest_grade``,
``counts.by_grade``): the scales disagree by design (RTOG calls any ulceration
4, CTCAE a partial-thickness ulcer 2 or 3), so neither is folded into the
other. ``grade``, ``grade_3_plus``, the ``grade_min`` filter and the ``grade``
sort use the clinic's primary scale (``primary_grade_scale``, CTCAE unless
the clinic chose RTOG).

Four SELECTs whatever the number of wounds (clinic settings, wounds, bounded
columns of their assessments, overrides); each wound's status is judged from
the few assessments it depends on (app/summaries/statuses.py). The list is
sorted and paged in memory, with the same opaque cursor as every other list
(app/core/pagination.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, GradeOverride, overrides_in_force
from app.clinical.trajectory import DETERIORATING, RECURRED, STALLED, STATUSES, TrajectoryRules
from app.clinics.models import GRADE_SCALES, Clinic
from app.core import audit
from app.core.access import not_found, require
from app.core.errors import field_error
from app.core.formats import iso
from app.core.pagination import bad_cursor, decode_cursor, encode_cursor
from app.core.timezones import local_date
from app.patients.models import Patient
from app.summaries.statuses import (
    as_utc,
    by_wound,
    in_irradiated_field,
    overdue_days,
    past_closures,
    statuses_for,
    trajectory_rules,
)
from app.therapy.models import SystemicTherapy, TherapyChange
from app.wounds.models import Wound

# Priority: deteriorating first, then a recurrence (it may need a biopsy), then stalled.
_RANK = {DETERIORATING: 0, RECURRED: 1, STALLED: 2}
_OTHER_RANK = 3
SORTS = ("priority", "days_since_assessment", "grade", "par", "onset", "site")


def _decode_cursor(cursor: str, like: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """The sort key a cursor carries; 422 unless it has the shape of ``like``
    (a key of the current sort): as many values, strings where it has strings."""
    key = tuple(decode_cursor(cursor, None if like is None else len(like)))
    if like is not None:
        for a, b in zip(key, like, strict=True):
            if isinstance(a, str) != isinstance(b, str):
                raise bad_cursor()
    return key


def _sort_key(item: dict[str, Any], sort: str) -> tuple[Any, ...]:
    """Sort keys made of numbers and strings only (so they travel in a cursor);
    the wound id last makes every key unique."""
    grade = item["grade"] if item["grade"] is not None else -1
    days = item["days_since_assessment"]
    wid = item["wound_id"]
    if sort == "priority":
        return (
            _RANK.get(item["status"], _OTHER_RANK),
            0 if item["overdue"] else 1,
            -grade,
            -days,
            wid,
        )
    if sort == "days_since_assessment":
        return (-days, wid)
    if sort == "grade":
        return (-grade, _RANK.get(item["status"], _OTHER_RANK), wid)
    if sort == "par":
        par = item["par_pct"]
        return (0 if par is not None else 1, par if par is not None else 0.0, wid)
    if sort == "onset":
        return (item["onset_date"], wid)
    return (item["body_site"].lower(), wid)


def _resolve_clinic(user: Any, requested: uuid.UUID | None) -> uuid.UUID:
    if requested is not None:
        require("clinical:read", requested)
        return requested
    if len(user.clinic_ids) == 1:
        return user.clinic_ids[0]  # type: ignore[no-any-return]
    raise field_error("clinic_id", "is required: you belong to several clinics (or none)")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _wound_filter(clinic_id: uuid.UUID, args: dict[str, Any], today: date) -> list[Any]:
    """WHERE clauses for the clinic's wounds matching the query's filters (all
    but ``status`` and ``grade_min``, which are judged after the statuses): open
    ones unless ``record`` names the record statuses wanted (the clinic pages'
    list of every wound passes open and healed)."""
    wound_filter = [
        Wound.clinic_id == clinic_id,
        Wound.status.in_(args.get("record") or ("open",)),
        Wound.deleted_at.is_(None),
        Patient.deleted_at.is_(None),
    ]
    if args.get("site"):
        wound_filter.append(Wound.body_site.ilike(f"%{_like_escape(args['site'])}%", escape="\\"))
    if args.get("etiology"):
        wound_filter.append(Wound.etiology == args["etiology"])
    if args.get("nurse"):
        nurse = args["nurse"]
        assessed = sa.exists().where(
            Assessment.wound_id == Wound.id,
            Assessment.deleted_at.is_(None),
            Assessment.assessed_by == nurse,
        )
        wound_filter.append(sa.or_(Wound.created_by == nurse, assessed))
    if args.get("anti_angiogenic") is not None:
        on_drug = sa.exists().where(
            SystemicTherapy.patient_id == Wound.patient_id,
            SystemicTherapy.deleted_at.is_(None),
            SystemicTherapy.anti_angiogenic.is_(True),
            SystemicTherapy.start_date <= today,
            sa.or_(SystemicTherapy.stop_date.is_(None), SystemicTherapy.stop_date >= today),
            ~sa.exists().where(
                TherapyChange.therapy_id == SystemicTherapy.id,
                TherapyChange.deleted_at.is_(None),
                TherapyChange.kind == "stopped",
                TherapyChange.effective_on <= today,
            ),
        )
        wound_filter.append(on_drug if args["anti_angiogenic"] else ~on_drug)
    return wound_filter


def dashboard_statements(
    clinic_id: uuid.UUID, args: dict[str, Any], today: date
) -> tuple[Any, Any, Any]:
    """(wounds, assessments, overrides) SELECTs for the dashboard: the open wounds
    of the clinic matching the filters, and bounded columns of all their live
    assessments in (wound, time) order. Public so the benchmark can run the very
    same SQL raw."""
    wound_filter = _wound_filter(clinic_id, args, today)
    # Ids as text cast by the database: thousands of uuid.UUID objects would cost
    # more than the query. Not core.db.UUIDText: these are join keys for tens of
    # thousands of assessment rows (UUIDText formats each in Python, 0.6-2 us);
    # only the page printed is made canonical, in dashboard().
    wounds = (
        sa.select(
            sa.cast(Wound.id, sa.String),
            sa.cast(Wound.patient_id, sa.String),
            Wound.body_site,
            Wound.laterality,
            Wound.etiology,
            Wound.onset_date,
            Patient.mrn,
            Patient.given_name,
            Patient.family_name,
            Wound.status,
            Wound.healed_on,
            Wound.closures,
            Wound.radiotherapy_course_id,
        )
        .join(Patient, Patient.id == Wound.patient_id)
        .where(*wound_filter)
    )
    wound_ids = (
        sa.select(Wound.id).join(Patient, Patient.id == Wound.patient_id).where(*wound_filter)
    )
    # The order every trajectory reads them in (time, then creation, then id),
    # straight from ix_assessments_wound_time; the wound subquery already
    # limits them to the clinic. The columns after ``closed`` are those
    # statuses_for reads.
    assessments = (
        sa.select(
            sa.cast(Assessment.wound_id, sa.String),
            sa.type_coerce(Assessment.assessed_at, sa.String),
            Assessment.area_cm2,
            Assessment.closed,
            Assessment.area_method,
            Assessment.traced_area_cm2,
            Assessment.measured_area_cm2,
            Assessment.length_cm,
            Assessment.width_cm,
            Assessment.ctcae_grade,
            Assessment.rtog_grade,
            sa.cast(Assessment.id, sa.String),
        )
        .where(Assessment.deleted_at.is_(None), Assessment.wound_id.in_(wound_ids))
        .order_by(Assessment.wound_id, Assessment.assessed_at, Assessment.created_at, Assessment.id)
    )
    # Overrides are few: take the clinic's and keep those of each wound's latest
    # assessment in Python (cheaper than walking every assessment to find them).
    overrides = (
        sa.select(
            sa.cast(GradeOverride.assessment_id, sa.String),
            GradeOverride.scale,
            GradeOverride.value,
        )
        .where(GradeOverride.clinic_id == clinic_id)
        .order_by(GradeOverride.created_at, GradeOverride.id)
    )
    return wounds, assessments, overrides


def _clinic_settings(
    session: Session, clinic_id: uuid.UUID
) -> tuple[TrajectoryRules, int, str, str]:
    """The clinic's trajectory thresholds, overdue interval, primary grading
    scale and time zone (404 if it is gone)."""
    clinic = (
        session.connection()
        .execute(
            sa.select(
                Clinic.par_threshold_pct,
                Clinic.overdue_assessment_days,
                Clinic.primary_grade_scale,
                Clinic.timezone,
            ).where(Clinic.id == clinic_id)
        )
        .first()
    )
    if clinic is None:
        raise not_found("clinic")
    return trajectory_rules(clinic[0]), overdue_days(clinic[1]), clinic[2] or "ctcae", clinic[3]


def _item(
    w: Any,
    rows: Sequence[Any],
    overrides: dict[str, dict[str, Any]],
    rules: TrajectoryRules,
    today: date,
    due_days: int,
    scale: str,
    zone_name: str,
) -> dict[str, Any]:
    """One wound's dashboard entry, from its row and its assessment rows
    (wound_id, assessed_at, area, closed, area_method, traced, measured,
    length, width, ctcae, rtog, assessment id) in order; the latest grades are
    effective (an override in force applied). ``grade`` is the one on the
    clinic's primary ``scale``. Days since the last assessment are calendar
    days of the clinic's zone (``today`` is the clinic's)."""
    healed_on = w[10] if w[9] == "healed" else None
    traj = statuses_for(
        rows,
        rules,
        healed_on,
        closures=past_closures(w[11]),
        irradiated=in_irradiated_field(w[12], w[4]),
    )
    last = rows[-1] if rows else None
    if last is not None:
        o = overrides.get(last[11], {})
        ctcae = o.get("ctcae", last[9])
        rtog = o.get("rtog", last[10])
        last_at = as_utc(last[1])
        days = (today - local_date(last_at, zone_name)).days
    else:
        ctcae = rtog = None
        last_at = None
        days = (today - w[5]).days
    grade = ctcae if scale == "ctcae" else rtog
    return {
        "wound_id": w[0],
        "patient": {
            "id": w[1],
            "mrn": w[6],
            "given_name": w[7],
            "family_name": w[8],
        },
        "body_site": w[2],
        "laterality": w[3],
        "etiology": w[4],
        "onset_date": w[5].isoformat(),
        "wound_status": w[9],
        "healed_on": iso(healed_on),
        "status": traj.status,
        "rule": traj.rule,
        "par_pct": traj.par_pct,
        "par_week4_pct": traj.par_week4_pct,
        "week4_checkpoint": traj.week4_checkpoint.state,
        "episode": traj.episode,
        "assessment_count": len(rows),
        "last_assessed_at": iso(last_at),
        "days_since_assessment": days,
        "overdue": days > due_days,
        "latest_grade": {"ctcae": ctcae, "rtog": rtog},
        "grade": grade,
        "grade_3_plus": grade is not None and grade >= 3,
    }


def _counts(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals by status, by grade on each scale, overdue and grade 3+ (on the
    primary scale), over ``items``."""
    counts_status = dict.fromkeys(STATUSES, 0)
    counts_grade: dict[str, dict[str, int]] = {
        scale: {str(g): 0 for g in range(6)} | {"none": 0} for scale in GRADE_SCALES
    }
    overdue_n = severe_n = 0
    for it in items:
        counts_status[it["status"]] += 1
        for scale, value in it["latest_grade"].items():
            counts_grade[scale]["none" if value is None else str(value)] += 1
        overdue_n += it["overdue"]
        severe_n += it["grade_3_plus"]
    return {
        "total": len(items),
        "by_status": counts_status,
        "by_grade": counts_grade,
        "overdue": overdue_n,
        "grade_3_plus": severe_n,
    }


def _narrowed(items: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """The items a dashboard tab shows: the ``status`` and ``grade_min`` filters."""
    if args.get("status"):
        wanted = set(args["status"])
        items = [it for it in items if it["status"] in wanted]
    if args.get("grade_min") is not None:
        items = [it for it in items if it["grade"] is not None and it["grade"] >= args["grade_min"]]
    return items


def _page(
    items: list[dict[str, Any]], args: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """Sorted by ``sort``, the page after ``cursor`` and the cursor of the next one."""
    sort = args.get("sort", "priority")
    keyed = sorted(((_sort_key(it, sort), it) for it in items), key=lambda kv: kv[0])
    if args.get("cursor"):
        after = _decode_cursor(args["cursor"], keyed[0][0] if keyed else None)
        try:
            keyed = [kv for kv in keyed if kv[0] > after]
        except TypeError as exc:
            raise field_error("cursor", "does not belong to this sort; start again") from exc
    limit = args["limit"]
    page = keyed[:limit]
    next_cursor = encode_cursor(page[-1][0]) if len(keyed) > limit else None
    return [it for _, it in page], next_cursor


def dashboard(
    session: Session, args: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """Open wounds of one clinic with their trajectory status, overdue flag and
    latest grade; worst first. Four SELECTs whatever the number of wounds:
    clinic settings, wounds, their assessments (bounded columns), overrides.

    ``counts`` cover every wound matching the filters except ``status`` and
    ``grade_min`` (which narrow the list the way a dashboard tab would)."""
    user = require("clinical:read")
    clinic_id = _resolve_clinic(user, args.get("clinic_id"))
    rules, due_days, scale, zone_name = _clinic_settings(session, clinic_id)
    today = local_date(now or datetime.now(UTC), zone_name)

    wounds_stmt, assess_stmt, override_stmt = dashboard_statements(clinic_id, args, today)
    conn = session.connection()
    wounds = conn.execute(wounds_stmt).all()
    # Plain tuples, row by row: a tuple of numbers and strings is untracked by
    # the cyclic garbage collector, where tens of thousands of Row objects
    # held to the end of the request would each time push it into a full
    # collection of the whole heap (about a third of this request's time).
    assessments = by_wound(map(tuple, conn.execute(assess_stmt)))
    overrides = overrides_in_force(
        (aid, scale, value, value) for aid, scale, value in conn.execute(override_stmt)
    )
    items = [
        _item(w, assessments.get(w[0], ()), overrides, rules, today, due_days, scale, zone_name)
        for w in wounds
    ]
    counts = _counts(items)
    page, next_cursor = _page(_narrowed(items, args), args)
    for it in page:  # canonical UUID text (SQLite keeps ids as bare hex)
        it["wound_id"] = str(uuid.UUID(it["wound_id"]))
        it["patient"]["id"] = str(uuid.UUID(it["patient"]["id"]))
    audit.record(
        session,
        "list",
        "wound",
        None,
        clinic_id=clinic_id,
        details={"view": "dashboard", "count": len(page)},
    )
    return {
        "clinic_id": str(clinic_id),
        "overdue_after_days": due_days,
        "primary_grade_scale": scale,
        "rules": rules.to_dict(),
        "items": page,
        "next_cursor": next_cursor,
        "counts": counts,
    }
