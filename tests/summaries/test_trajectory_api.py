"""GET /wounds/{id}/trajectory (+ chart) with hand-computed expectations."""

from __future__ import annotations

import io
import math
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.summaries import helpers as h

ROOT = Path(__file__).resolve().parents[2]
START = date(2024, 3, 4)


def _weekdays(start: date, n: int) -> list[date]:
    out, d = [], start
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


@pytest.fixture
def seed_case(app, clinic, nurse):
    """The seed case (docs/seed-case.md): IMRT 400 cGy x 10 then SRT
    700 cGy x 3 from Mon 2022-05-16; the 13th fraction is on Wed 2022-06-01,
    the day the 2 x 2 cm popliteal ulcer opened; four weekly debridement + PRP
    (thrombin-activated gel) sessions; healed on 2022-07-14."""
    pid = h.patient(app, clinic, given_name="Seed", family_name="Case")
    days = _weekdays(date(2022, 5, 16), 13)
    assert days[-1] == date(2022, 6, 1)
    cid = h.course(
        app,
        clinic,
        pid,
        start=date(2022, 5, 16),
        end=date(2022, 6, 1),
        phases=[("imrt", 400, 10), ("srt", 700, 3)],
        fractions=[(d, 400.0) for d in days[:10]] + [(d, 700.0) for d in days[10:]],
    )
    wid = h.wound(app, clinic, pid, onset_date=date(2022, 6, 1), radiotherapy_course_id=cid)
    ulcer = {"ulceration": "full_thickness", "desquamation": "moist"}
    sizes = [
        (date(2022, 6, 2), 2.0, 2.0, ulcer),
        (date(2022, 6, 9), 1.8, 1.6, ulcer),
        (date(2022, 6, 16), 1.4, 1.2, ulcer),
        (date(2022, 6, 23), 1.0, 0.8, ulcer),
        (date(2022, 6, 30), 0.5, 0.4, ulcer),
    ]
    made = [
        h.assess(
            nurse,
            wid,
            h.at(d),
            length_cm=length,
            width_cm=width,
            exudate_amount="moderate",
            findings=f,
        )
        for d, length, width, f in sizes
    ]
    made.append(h.assess(nurse, wid, h.at(date(2022, 7, 14)), closed=True))
    for d in (date(2022, 6, 2), date(2022, 6, 9), date(2022, 6, 16), date(2022, 6, 23)):
        h.procedure(
            app,
            clinic,
            wid,
            h.at(d, 10),
            kind="debridement",
            debridement_method="sharp_conservative",
            debridement_to_bleeding=True,
            prp_form="gel",
            prp_volume_ml=2.0,
            prp_activator="thrombin",
        )
    from app.extensions import db
    from app.wounds.models import Wound

    with app.app_context():
        w = db.session.get(Wound, wid)
        w.status, w.healed_on = "healed", date(2022, 7, 14)
        db.session.commit()
    return {"wound": wid, "patient": pid, "course": cid, "assessments": made}


def test_seed_case_trajectory(nurse, seed_case):
    r = nurse.get(f"/api/v1/wounds/{seed_case['wound']}/trajectory")
    assert r.status_code == 200, r.json
    t = r.json
    assert r.headers["ETag"]
    assert t["status"] == "healed"
    assert t["rule"] == "wound recorded healed on 2022-07-14"
    assert t["days_to_closure"] == 42  # 2 June -> 14 July
    assert t["baseline"]["area_cm2"] == pytest.approx(math.pi)  # pi/4 x 2 x 2
    assert t["latest"]["area_cm2"] == 0
    assert t["par_pct"] == 100.0
    # Day 28 is 30 June: 0.5 x 0.4 cm, pi/4 x 0.2 = 5% of pi left.
    assert t["par_week4_pct"] == 95.0
    assert t["projected_closure_on"] is None
    assert t["projection_note"] == "healed: no projection needed"
    assert [s["area_cm2"] for s in t["series"]] == pytest.approx(
        [
            h.ellipse(2, 2),
            h.ellipse(1.8, 1.6),
            h.ellipse(1.4, 1.2),
            h.ellipse(1, 0.8),
            h.ellipse(0.5, 0.4),
            0.0,
        ]
    )
    assert [s["area_method"] for s in t["series"][:5]] == ["ellipse"] * 5
    # Radiotherapy: fraction 13 of 13 on the onset day, 6100 cGy, from the log.
    rt = t["radiotherapy"]
    assert t["dose_at_onset_cgy"] == 6100.0
    assert rt["fraction_number_at_onset"] == 13
    assert rt["fractions_planned"] == 13
    assert rt["total_dose_cgy"] == 6100.0
    assert rt["onset"] == "during"
    assert rt["source"] == "fraction_log"
    # Four sessions in time order, each between two measurements.
    procs = t["procedures"]
    assert len(procs) == 4
    assert [p["performed_at"][:10] for p in procs] == [
        "2022-06-02",
        "2022-06-09",
        "2022-06-16",
        "2022-06-23",
    ]
    assert procs[0]["area_before"]["area_cm2"] == pytest.approx(math.pi)
    assert procs[0]["area_after"]["area_cm2"] == pytest.approx(h.ellipse(1.8, 1.6))
    assert procs[3]["area_after"]["area_cm2"] == pytest.approx(h.ellipse(0.5, 0.4))
    assert procs[0]["debridement"] == {"method": "sharp_conservative", "to_bleeding": True}
    assert procs[0]["prp"]["activator"] == "thrombin"
    # CTCAE v5.0: ulceration of full-thickness dermis is grade 4; RTOG: ulceration is 4.
    gh = t["grade_history"]
    assert gh["worst_ctcae"]["value"] == 4
    assert gh["worst_ctcae"]["at"].startswith("2022-06-02")
    assert gh["worst_rtog"]["value"] == 4


def test_seed_case_dose_from_planned_schedule(app, clinic, nurse):
    """Without a fraction log the planned weekday schedule gives the same answer."""
    pid = h.patient(app, clinic)
    cid = h.course(
        app,
        clinic,
        pid,
        start=date(2022, 5, 16),
        end=None,
        phases=[("imrt", 400, 10), ("srt", 700, 3)],
    )
    wid = h.wound(app, clinic, pid, onset_date=date(2022, 6, 2), radiotherapy_course_id=cid)
    rt = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json["radiotherapy"]
    assert rt["dose_at_onset_cgy"] == 6100.0
    assert rt["fraction_number_at_onset"] == 13
    assert rt["source"] == "planned_schedule"
    assert rt["onset"] == "after"  # the schedule ends on 1 June


@pytest.mark.parametrize(
    ("areas", "status", "par4"),
    [
        ([(0, 10), (7, 8), (14, 6.5), (21, 5), (28, 4)], "on_track", 60.0),
        ([(0, 10), (7, 9.5), (14, 9.2), (21, 9), (28, 8.5)], "stalled", 15.0),
        ([(0, 10), (7, 10.5), (14, 11.5)], "deteriorating", None),
    ],
)
def test_synthetic_statuses(app, clinic, nurse, areas, status, par4):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, areas)
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json
    assert t["status"] == status, t["rule"]
    assert t["par_week4_pct"] == par4
    last = areas[-1][1]
    assert t["par_pct"] == pytest.approx(round((10 - last) / 10 * 100, 1))
    assert t["rules"]["par_threshold_pct"] == 40.0


def test_on_track_projection_and_slope(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    # Straight line, -1 cm2/week: slope -1, latest 6 cm2 -> closes 42 days later.
    h.series(nurse, wid, START, [(0, 10), (7, 9), (14, 8), (21, 7), (28, 6)])
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json
    assert t["weekly_area_change_cm2"] == -1.0
    assert t["projected_closure_on"] == (START + timedelta(days=28 + 42)).isoformat()
    assert t["k_per_day"] > 0
    assert t["gilman_cm_per_week"] is None  # no traced perimeters


def test_single_assessment_is_insufficient_without_division(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 4.0)])
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json
    assert t["status"] == "insufficient_data"
    assert t["par_pct"] is None and t["weekly_area_change_cm2"] is None
    assert t["k_per_day"] is None and t["projected_closure_on"] is None
    assert t["baseline"] == t["latest"]


def test_no_assessments(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json
    assert t["status"] == "insufficient_data"
    assert t["series"] == [] and t["baseline"] is None and t["radiotherapy"] is None


def test_closed_latest_assessment_is_healed(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 4.0), (7, 2.0)])
    h.assess(nurse, wid, h.at(START + timedelta(days=14)), closed=True)
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json
    assert t["status"] == "healed"
    assert t["days_to_closure"] == 14


def test_clinic_threshold_overrides_config(app, clinic, nurse):
    from app.clinics.models import Clinic
    from app.extensions import db

    with app.app_context():
        db.session.get(Clinic, clinic).par_threshold_pct = 70.0
        db.session.commit()
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 10), (7, 8), (14, 6.5), (21, 5), (28, 4)])
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json
    assert t["status"] == "stalled"  # 60% < 70%
    assert "70% threshold" in t["rule"]
    assert t["rules"]["par_threshold_pct"] == 70.0


def test_out_of_order_entry_is_sorted(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(14, 6.5), (0, 10), (28, 4), (7, 8), (21, 5)])
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json
    assert [s["area_cm2"] for s in t["series"]] == [10, 8, 6.5, 5, 4]
    assert t["baseline"]["area_cm2"] == 10 and t["latest"]["area_cm2"] == 4
    assert t["status"] == "on_track" and t["par_week4_pct"] == 60.0


def test_amended_and_deleted_assessments(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    made = h.series(nurse, wid, START, [(0, 10), (7, 9), (14, 8), (21, 7), (28, 6)])
    url = f"/api/v1/wounds/{wid}/trajectory"
    etag0 = nurse.get(url).headers["ETag"]
    # PAR at week 4 = 40%: on track. Amend day 28 to 6.5 cm2: 35% -> stalled.
    r = nurse.patch(
        f"/api/v1/assessments/{made[-1]['id']}", json={"area_cm2": 6.5}, etag=made[-1]["_etag"]
    )
    assert r.status_code == 200, r.json
    t = nurse.get(url)
    assert t.headers["ETag"] != etag0
    assert t.json["series"][-1]["area_cm2"] == 6.5
    assert t.json["status"] == "stalled" and t.json["par_week4_pct"] == 35.0
    # Delete the baseline: day 7 (9 cm2) becomes the baseline; deleted rows leave the series.
    r = nurse.delete(f"/api/v1/assessments/{made[0]['id']}", etag=made[0]["_etag"])
    assert r.status_code == 200, r.json
    t = nurse.get(url).json
    assert len(t["series"]) == 4
    assert made[0]["id"] not in {s["assessment_id"] for s in t["series"]}
    assert t["baseline"]["area_cm2"] == 9


def test_grade_override_applied_and_marked(app, clinic, nurse, clinician):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    a = h.assess(nurse, wid, h.at(START), area_cm2=3.0, findings={"erythema": "brisk"})
    h.assess(
        nurse, wid, h.at(START + timedelta(days=7)), area_cm2=2.0, findings={"erythema": "faint"}
    )
    derived = a["ctcae_grade"]["value"]
    assert derived == 2  # brisk erythema: CTCAE grade 2
    r = clinician.post(
        f"/api/v1/assessments/{a['id']}/grade-override",
        json={"scale": "ctcae", "value": 3, "reason": "bleeding on minor trauma seen"},
    )
    assert r.status_code == 201, r.json
    resp = nurse.get(f"/api/v1/wounds/{wid}/trajectory")
    t, etag = resp.json, resp.headers["ETag"]
    first = t["series"][0]
    assert first["ctcae_grade"] == 3 and first["ctcae_derived"] == 2
    assert first["overridden"] == {"ctcae": True, "rtog": False}
    assert t["series"][1]["overridden"] == {"ctcae": False, "rtog": False}
    assert t["grade_history"]["worst_ctcae"]["value"] == 3

    # Withdrawn: the derived grade is back, and the trajectory's ETag moved.
    r = clinician.post(
        f"/api/v1/assessments/{a['id']}/grade-override",
        json={"scale": "ctcae", "value": None, "reason": "the bleeding was from a scratch"},
    )
    assert r.status_code == 201, r.json
    after = nurse.get(f"/api/v1/wounds/{wid}/trajectory")
    first = after.json["series"][0]
    assert first["ctcae_grade"] == 2 and first["overridden"] == {"ctcae": False, "rtog": False}
    assert after.json["grade_history"]["worst_ctcae"]["value"] == 2
    assert after.headers["ETag"] != etag


def test_constant_queries(app, clinic, nurse, count_queries):
    small = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, small, START, [(0, 10), (7, 8)])
    h.procedure(app, clinic, small, h.at(START, 10))
    big = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, big, START, [(d * 7, 10 - d * 0.5) for d in range(12)])
    for d in range(4):
        h.procedure(app, clinic, big, h.at(START + timedelta(days=7 * d), 10))
    nurse.get(f"/api/v1/wounds/{small}/trajectory")
    with count_queries() as q_small:
        assert nurse.get(f"/api/v1/wounds/{small}/trajectory").status_code == 200
    with count_queries() as q_big:
        assert nurse.get(f"/api/v1/wounds/{big}/trajectory").status_code == 200
    assert q_small.count == q_big.count
    assert q_big.count <= 14


def test_scoping_and_auth(app, clinic, nurse, outsider, researcher, client):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    for suffix in ("", ".png", ".svg"):
        url = f"/api/v1/wounds/{wid}/trajectory{suffix}"
        assert outsider.get(url).status_code == 404
        assert researcher.get(url).status_code == 403
        assert client.get(url).status_code == 401
    assert nurse.get(f"/api/v1/wounds/{uuid.uuid4()}/trajectory").status_code == 404


def test_trajectory_read_is_audited(app, clinic, nurse):
    import sqlalchemy as sa

    from app.core.audit import AuditEvent
    from app.extensions import db

    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    nurse.get(f"/api/v1/wounds/{wid}/trajectory")
    with app.app_context():
        n = db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditEvent.action == "read", AuditEvent.record_id == str(wid)
            )
        )
    assert n == 1


# ------------------------------------------------------------------------- chart


def _plot_pixels(png: bytes) -> int:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, hgt = img.size
    # The plot area (away from the margins): count clearly non-white pixels.
    box = img.crop((int(w * 0.15), int(hgt * 0.15), int(w * 0.95), int(hgt * 0.85)))
    return sum(1 for px in box.get_flattened_data() if sum(px) < 600)


def test_chart_png_and_svg(app, clinic, nurse, seed_case):
    wid = seed_case["wound"]
    r = nurse.get(f"/api/v1/wounds/{wid}/trajectory.png")
    assert r.status_code == 200
    assert r.mimetype == "image/png"
    img = Image.open(io.BytesIO(r.data))
    img.verify()
    assert Image.open(io.BytesIO(r.data)).size == (800, 400)
    assert _plot_pixels(r.data) > 500
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "trajectory-example.png").write_bytes(r.data)

    r = nurse.get(f"/api/v1/wounds/{wid}/trajectory.png?width=640&height=320")
    assert Image.open(io.BytesIO(r.data)).size == (640, 320)

    r = nurse.get(f"/api/v1/wounds/{wid}/trajectory.svg?width=900&height=450")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    root = ET.fromstring(r.data)  # noqa: S314 - our own server output
    assert root.get("width") == "900px" and root.get("height") == "450px"
    assert root.get("viewBox") == "0 0 900 450"
    # The area line: one path through the six measured points (M + 5 L).
    ns = "{http://www.w3.org/2000/svg}"
    counts = [len(re.findall(r"[ML]\s", p.get("d", ""))) for p in root.iter(f"{ns}path")]
    assert 6 in counts


def test_chart_empty_wound_and_limits(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    r = nurse.get(f"/api/v1/wounds/{wid}/trajectory.png")
    assert r.status_code == 200
    assert Image.open(io.BytesIO(r.data)).size == (800, 400)
    for q in ("width=10", "height=99999", "width=abc"):
        r = nurse.get(f"/api/v1/wounds/{wid}/trajectory.png?{q}")
        assert r.status_code == 422, q
        assert r.mimetype == "application/problem+json"


def test_chart_etag_revalidation(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 10), (7, 8)])
    url = f"/api/v1/wounds/{wid}/trajectory.png"
    etag = nurse.get(url).headers["ETag"]
    r = nurse.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.data == b""
    # Another size is another representation.
    assert nurse.get(url + "?width=640").headers["ETag"] != etag
    # A new assessment changes the data: the old ETag no longer matches.
    h.series(nurse, wid, START, [(14, 6)])
    r = nurse.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag


# ------------------------------------------- dashboard shortcut == full trajectory


_SHORTCUT_KEYS = (
    "status",
    "rule",
    "reasons",
    "baseline",
    "latest",
    "par_pct",
    "par_week4_pct",
    "par_week4_note",
    "week4_checkpoint",
    "recent_change",
    "area_methods",
    "days_to_closure",
    "episode",
)


def _random_rows(rng, n):
    """Assessment rows as statuses_for reads them: irregular intervals (equal
    instants too), growth, closure and reopening, and areas by different
    methods (a traced area with or without the ruler's length and width)."""
    from datetime import UTC, datetime

    t = datetime(2024, 1, 1, 9, tzinfo=UTC)
    area = rng.uniform(0.5, 20)
    rows = []
    for _ in range(n):
        closed = rng.random() < 0.08
        a = 0.0 if closed else round(area, 2)
        kind = rng.random()
        if closed and kind < 0.5:
            row = ("w", t, None, True, None, None, None, None, None)
        elif kind < 0.2:
            row = ("w", t, a, closed, "traced", a, None, 2.0, round(a, 1) or 0.5)
        elif kind < 0.3:
            row = ("w", t, a, closed, "traced", a, None, None, None)
        elif kind < 0.4:
            row = ("w", t, a, closed, "measured", None, a, None, None)
        else:
            row = ("w", t, a, closed, "ellipse", None, None, 2.0, a / 2.0)
        rows.append(row)
        t += timedelta(days=rng.choice((0, 1, 3, 7, 7, 7, 10, 14)), hours=rng.randint(0, 3))
        area = max(0.0, area * rng.uniform(0.6, 1.25) - (0.5 if rng.random() < 0.1 else 0))
    return rows


def test_status_from_deciding_points_matches_full_series():
    """The dashboard feeds compute_trajectory only the assessments its status
    depends on; on random series (irregular intervals, growth, closure and
    reopening, equal timestamps, mixed area methods, healed dates) the status,
    reasons, PAR and checkpoint must be identical."""
    import random

    from app.clinical.trajectory import TrajectoryRules, compute_trajectory
    from app.summaries.statuses import as_utc, measurement, statuses_for

    rng = random.Random(20261128)
    rules_list = [TrajectoryRules(), TrajectoryRules(par_threshold_pct=55, par_week=3)]
    for case in range(3000):
        rules = rules_list[case % 2]
        rows = _random_rows(rng, rng.randint(1, 30))
        healed_on = closures = None
        if case % 7 == 0:
            healed_on = (rows[-1][1] + timedelta(days=rng.randint(-40, 5))).date()
        if case % 11 == 0:
            closures = [(rows[0][1] + timedelta(days=rng.randint(0, 60))).date()]
        points = [measurement(as_utc(r[1]), *r[2:9], seq=i) for i, r in enumerate(rows)]
        full = compute_trajectory(
            [m for m in points if m is not None],
            healed_on=healed_on,
            past_closures=closures or (),
            irradiated=case % 3 == 0,
            rules=rules,
        )
        # as PostgreSQL's driver gives assessed_at, and as SQLite stores it (text,
        # microseconds always written: test_stored_instant_matches_the_database)
        as_text = [
            (r[0], r[1].replace(tzinfo=None).isoformat(" ", "microseconds"), *r[2:]) for r in rows
        ]
        for form in (rows, as_text):
            short = statuses_for(form, rules, healed_on, closures or (), case % 3 == 0)
            for key in _SHORTCUT_KEYS:
                assert getattr(short, key) == getattr(full, key), (case, key)


def test_an_assessment_exactly_on_the_window_start_keeps_its_neighbours():
    """28 days before the latest assessment, to the microsecond: the trajectory
    compares float days there (latest day - 28 against that day), which need not
    agree with the exact instants, so both neighbours are kept and the status
    is still that of the full series."""
    from datetime import UTC, datetime

    from app.clinical.trajectory import Measurement, TrajectoryRules, compute_trajectory
    from app.summaries.statuses import _status_indices, statuses_for

    rules = TrajectoryRules()
    t0 = datetime(2024, 1, 1, 9, tzinfo=UTC)
    latest = t0 + timedelta(days=59, microseconds=57_649_999_999)
    on_start = latest - timedelta(days=rules.recent_window_days)
    times = sorted({t0 + timedelta(days=d, hours=5) for d in range(0, 59, 6)} | {on_start, latest})
    i = times.index(on_start)
    days = [(t - t0) / timedelta(days=1) for t in times]
    assert days[i] != days[-1] - rules.recent_window_days  # the floats disagree with the tie
    rows = [
        ("w", t, round(12.0 * 0.96**k, 2), False, None, None, None, None, None)
        for k, t in enumerate(times)
    ]
    as_text = [
        (r[0], r[1].replace(tzinfo=None).isoformat(" ", "microseconds"), *r[2:]) for r in rows
    ]
    for form in (rows, as_text):
        kept = _status_indices([r[1] for r in form], rules)
        assert {i - 1, i, i + 1} <= set(kept)
        full = compute_trajectory([Measurement(r[1], r[2]) for r in rows], rules=rules)
        short = statuses_for(form, rules)
        assert (short.status, short.rule, short.par_pct) == (full.status, full.rule, full.par_pct)


def test_stored_instant_matches_the_database(app, clinic, nurse):
    """_status_indices compares assessed_at as fetched with instants it formats
    itself: the two forms must be the same (SQLite keeps text)."""
    from datetime import UTC, datetime, timezone

    import sqlalchemy as sa

    from app.assessments.models import Assessment
    from app.extensions import db
    from app.summaries.statuses import _stored

    wid = h.wound(app, clinic, h.patient(app, clinic))
    instants = [
        datetime(2026, 3, 1, 10, 15, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 2, 8, 0, 0, 250000, tzinfo=UTC),
    ]
    for when in instants:
        h.assess(nurse, wid, when, length_cm=2, width_cm=1)
    with app.app_context():
        fetched = (
            db.session.execute(
                sa.select(sa.type_coerce(Assessment.assessed_at, sa.String)).order_by(
                    Assessment.assessed_at
                )
            )
            .scalars()
            .all()
        )
    assert [_stored(when.astimezone(UTC), fetched[0]) for when in instants] == fetched


def test_therapy_block(app, clinic, nurse):
    """Anti-angiogenic bands over the healing period, topical treatments and the
    blood counts at each procedure."""
    pid = h.patient(app, clinic)
    wid = h.wound(app, clinic, pid, onset_date=START)
    h.series(nurse, wid, START, [(0, 4.0), (7, 3.0)])
    h.add(
        app,
        h.anlotinib(clinic, pid, START),
        h.silver_dressing(clinic, wid, START),
        h.low_platelets(clinic, pid, h.at(START, 7)),
    )
    h.procedure(app, clinic, wid, h.at(START, 10), prp_form="gel")
    t = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json["therapy"]
    assert t["anti_angiogenic_bands"][0]["start"] == START.isoformat()
    assert t["topical_treatments"][0]["product"] == "silver dressing"
    labs = t["labs_at_procedures"][0]["labs"]
    assert labs["platelets"]["ctcae_grade"] == 2 and labs["platelets"]["value"] == 60
    png = nurse.get(f"/api/v1/wounds/{wid}/trajectory.png")
    assert png.status_code == 200
