"""Clinic pages with the Flask test client: cookie sessions, CSRF, clinic
isolation, role limits, security headers and page structure (no inline
script, labelled inputs, alt text)."""

from __future__ import annotations

import io
import re
import time
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.factories import PASSWORD
from tests.web.conftest import csrf_of, email_of, page_problems, sign_in

COOKIE = "woundtrack_web"


def jpeg_bytes(color: tuple[int, int, int] = (180, 90, 80)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def upload_photo(actor: Any, wound_id: Any) -> str:
    r = actor.post(
        f"/api/v1/wounds/{wound_id}/photos",
        data={"file": (io.BytesIO(jpeg_bytes()), "wound.jpg")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    return str(r.json["id"])


def audit_events(app: Any, action: str) -> list[Any]:
    from app.core.audit import AuditEvent
    from app.extensions import db

    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# ------------------------------------------------------------------ sign-in


def test_root_and_pages_send_strangers_to_sign_in(client):
    assert client.get("/").location.endswith("/web/")
    r = client.get("/web/")
    assert r.status_code == 302
    assert r.location.startswith("/web/sign-in?next=/web/")
    assert client.get("/web/sign-in").status_code == 200


def test_sign_in_sets_a_hardened_cookie_and_is_audited(app, nurse):
    client = app.test_client()
    page = client.get("/web/sign-in")
    r = client.post(
        "/web/sign-in",
        data={"email": nurse.email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 303 and r.location == "/web/"
    cookie = next(c for c in r.headers.get_all("Set-Cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web" in cookie
    assert client.get("/web/").status_code == 200
    logins = audit_events(app, "login")
    assert [(e.outcome, e.user_id, e.details) for e in logins] == [
        ("success", nurse.user_id, {"via": "web"})
    ]


def test_cookie_is_secure_outside_development_and_tests():
    from app import create_app

    memory = {"TESTING": False, "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": None}
    prod = create_app(memory | {"APP_ENV": "production", "SECRET_KEY": "x" * 40})
    dev = create_app(memory | {"APP_ENV": "development"})
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert dev.config["SESSION_COOKIE_SECURE"] is False


def test_wrong_password_is_refused_and_audited(app, nurse):
    client = app.test_client()
    page = client.get("/web/sign-in")
    r = client.post(
        "/web/sign-in",
        data={"email": nurse.email, "password": "not it", "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 401
    assert "Email or password is wrong" in r.text
    assert client.get("/web/").status_code == 302
    assert [e.outcome for e in audit_events(app, "login")] == ["failure"]


def test_sign_in_without_csrf_token_is_refused(app, nurse):
    client = app.test_client()
    client.get("/web/sign-in")
    r = client.post("/web/sign-in", data={"email": nurse.email, "password": PASSWORD})
    assert r.status_code == 400 and "Form expired" in r.text
    r = client.post(
        "/web/sign-in", data={"email": nurse.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert r.status_code == 400
    assert client.get("/web/").status_code == 302
    assert audit_events(app, "login") == []


def test_sign_in_shares_the_api_rate_limits(app, nurse):
    from app.extensions import limiter

    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        api = app.test_client()
        for _ in range(2):
            api.post("/api/v1/auth/token", json={"email": nurse.email, "password": "no"})
        client = app.test_client()
        token = csrf_of(client.get("/web/sign-in").text)
        form = {"email": nurse.email, "password": "no", "csrf_token": token}
        assert client.post("/web/sign-in", data=form).status_code == 401
        r = client.post("/web/sign-in", data=form | {"password": PASSWORD})
        assert r.status_code == 429 and "Too many sign-in attempts" in r.text
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "10 per minute"
        limiter.reset()


def test_next_only_goes_to_local_pages(app, nurse, small_clinic):
    client = app.test_client()
    token = csrf_of(client.get("/web/sign-in").text)
    base = {"email": nurse.email, "password": PASSWORD, "csrf_token": token}
    r = client.post("/web/sign-in", data=base | {"next": "https://evil.example/web/"})
    assert r.location == "/web/"
    client = app.test_client()
    token = csrf_of(client.get("/web/sign-in").text)
    wound = f"/web/wounds/{small_clinic.stalled}"
    r = client.post("/web/sign-in", data=base | {"csrf_token": token, "next": wound})
    assert r.location == wound


def test_sign_out_needs_csrf_and_ends_the_server_side_session(app, nurse):
    client = sign_in(app, nurse.email)
    stolen = client.get_cookie(COOKIE, path="/web").value
    assert client.post("/web/sign-out").status_code == 400  # no token: still signed in
    assert client.get("/web/").status_code == 200
    token = csrf_of(client.get("/web/").text)
    r = client.post("/web/sign-out", data={"csrf_token": token})
    assert r.status_code == 303 and r.location == "/web/sign-in"
    assert client.get("/web/").status_code == 302
    # A copy of the old cookie is worthless: the token row was revoked.
    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen, path="/web")
    assert replay.get("/web/").status_code == 302


def test_disabling_the_user_ends_the_page_session(app, nurse):
    from app.auth.models import User
    from app.auth.services import set_active
    from app.extensions import db

    client = sign_in(app, nurse.email)
    assert client.get("/web/").status_code == 200
    with app.app_context():
        set_active(db.session, db.session.get(User, nurse.user_id), False)
        db.session.commit()
    assert client.get("/web/").status_code == 302


def test_pages_ignore_bearer_tokens_and_the_api_ignores_the_cookie(app, nurse):
    assert nurse.get("/web/").status_code == 302  # a valid bearer token is not a page session
    client = sign_in(app, nurse.email)
    cookie = client.get_cookie(COOKIE, path="/web").value
    r = app.test_client().get("/api/v1/me", headers={"Cookie": f"{COOKIE}={cookie}"})
    assert r.status_code == 401


# ---------------------------------------------------------------- isolation


def test_other_clinic_gets_the_404_page_for_every_record(app, outsider, nurse, small_clinic):
    photo = upload_photo(nurse, small_clinic.stalled)
    client = sign_in(app, outsider.email)
    for url in (
        f"/web/wounds/{small_clinic.stalled}",
        f"/web/wounds/{small_clinic.stalled}/report",
        f"/web/patients/{small_clinic.patient_id}",
        f"/web/photos/{photo}",
        f"/web/photos/{photo}/thumb",
        f"/web/photos/{photo}/large",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.mimetype == "text/html"
        assert "Not found" in r.text and "Example" not in r.text
        assert page_problems(r.text) == []
    # and the overview shows only the outsider's (empty) clinic
    assert "popliteal" not in client.get("/web/").text


def test_researcher_sees_exports_only(app, researcher, small_clinic):
    client = sign_in(app, researcher.email)
    assert client.get("/web/").location == "/web/exports"
    assert client.get(f"/web/wounds/{small_clinic.stalled}").status_code == 403
    assert client.get(f"/web/patients/{small_clinic.patient_id}").status_code == 403
    assert client.get("/web/audit").status_code == 403
    page = client.get("/web/exports")
    assert page.status_code == 200
    assert "No clinic has granted you access" in page.text  # member, but no grant
    r = client.post(
        "/web/exports",
        data={
            "csrf_token": csrf_of(page.text),
            "clinic_id": str(researcher.clinic_id),
            "format": "csv",
        },
    )
    assert r.status_code == 403 and "research grant" in r.text


def test_nurse_has_no_audit_or_export_pages(app, nurse):
    client = sign_in(app, nurse.email)
    assert client.get("/web/audit").status_code == 403
    assert client.get("/web/exports").status_code == 403
    nav = client.get("/web/").text
    assert "/web/audit" not in nav and "/web/exports" not in nav


def test_clinic_admin_reads_the_audit_log(app, clinic_admin, small_clinic):
    viewer = sign_in(app, clinic_admin.email)
    viewer.get(f"/web/wounds/{small_clinic.stalled}")
    page = viewer.get("/web/audit")
    assert page.status_code == 200
    assert "Test Clinic Admin" in page.text and ">read<" in page.text
    filtered = viewer.get("/web/audit?action=list").text
    assert ">read<" not in filtered


# --------------------------------------------------------------------- pages


def test_overview_lists_attention_first_and_filters_without_js(app, nurse, small_clinic):
    client = sign_in(app, nurse.email)
    html = client.get("/web/").text
    order = [html.index(site) for site in ("inframammary", "popliteal", "left axilla")]
    assert order == sorted(order), "deteriorating, then stalled, then on track"
    stalled = client.get("/web/?status=stalled").text
    assert "popliteal fossa" in stalled
    assert "left axilla" not in stalled and "inframammary" not in stalled
    assert 'value="stalled" checked' in stalled
    severe = client.get("/web/?grade_min=3").text
    assert "inframammary" in severe and "popliteal" not in severe
    # Both scales side by side; "grade >= 3" names the clinic's primary scale.
    assert '<th scope="col">CTCAE</th><th scope="col">RTOG</th>' in html
    assert "CTCAE grade ≥ 3" in html and "CTCAE grade at least" in html
    by_site = client.get("/web/?site=AXILLA").text
    assert "left axilla" in by_site and "popliteal" not in by_site
    bad = client.get("/web/?grade_min=9&status=nonsense")
    assert bad.status_code == 422 and "These filters are not valid" in bad.text
    assert "“nonsense”" in bad.text and "grade min" in bad.text
    assert 'class="wounds' not in bad.text  # no list claiming to be filtered


def test_overview_grade_count_follows_the_clinics_primary_scale(
    app, nurse, clinic, clinic_admin, small_clinic
):
    url = f"/api/v1/clinics/{clinic}"
    etag = clinic_admin.get(url).headers["ETag"]
    r = clinic_admin.patch(url, json={"primary_grade_scale": "rtog"}, etag=etag)
    assert r.status_code == 200, r.json
    html = sign_in(app, nurse.email).get("/web/").text
    assert "RTOG grade ≥ 3" in html and "RTOG grade at least" in html
    assert "CTCAE grade ≥ 3" not in html


def test_patient_page_shows_course_dose_and_timeline(app, nurse, small_clinic):
    client = sign_in(app, nurse.email)
    html = client.get(f"/web/patients/{small_clinic.patient_id}").text
    assert "Example, Vera" in html
    assert "6100 cGy in 13 fractions" in html
    assert "Cumulative dose by" in html
    assert "debridement (sharp conservative)" in html
    assert html.count("/web/wounds/") >= 3


def test_wound_page_has_chart_photos_grades_procedures_and_rule(app, nurse, small_clinic):
    photo = upload_photo(nurse, small_clinic.stalled)
    client = sign_in(app, nurse.email)
    html = client.get(f"/web/wounds/{small_clinic.stalled}").text
    assert "badge status-stalled" in html and "Rule:" in html
    # The healing curve is drawn in the page, in three layouts (chart_svg.py).
    assert html.count('<svg class="chart-svg') == 3 and 'role="img"' in html
    assert "Healing curve: popliteal fossa, left" in html and "Week 4 checkpoint" in html
    assert f"/web/photos/{photo}/thumb" in html and f'href="/web/photos/{photo}"' in html
    thumb = client.get(f"/web/photos/{photo}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).size[0] <= 320
    full = client.get(f"/web/photos/{photo}")
    assert full.status_code == 200 and f"/web/photos/{photo}/large" in full.text
    assert client.get(f"/web/photos/{photo}/original").status_code == 404
    assert "sharp conservative, to bleeding" in html
    assert "Area before" in html and "cm²" in html

    det = client.get(f"/web/wounds/{small_clinic.deteriorating}").text
    assert "overridden" in det and "necrosis at the margin on review" in det
    # the week-4 checkpoint and the last four weeks: 3 x 3 cm to 2.95 x 2.95 cm
    # since day 7, (1 - (2.95/3)^2) = 3.3% smaller
    assert "Week-4 checkpoint</dt><dd>missed (" in html
    assert "<dt>Last 28.0 days</dt><dd>3.3 % smaller</dd>" in html


def test_wound_page_writes_growth_as_growth(app, clinic, nurse):
    """A wound that grew (less than the deteriorating margin) over the last four
    weeks is "larger", never a negative "smaller"."""
    from datetime import UTC, datetime, timedelta

    from tests.summaries import helpers as h

    start = datetime.now(UTC).date() - timedelta(days=60)
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=start)
    h.series(nurse, wid, start, [(0, 10), (28, 4), (56, 4.3)])
    html = sign_in(app, nurse.email).get(f"/web/wounds/{wid}").text
    assert "<dd>7.5 % larger</dd>" in html and "% smaller" not in html


def test_wound_page_shows_symptoms_beside_the_grade(app, clinic, nurse):
    from datetime import UTC, datetime, timedelta

    from tests.summaries import helpers as h

    start = datetime.now(UTC).date() - timedelta(days=20)
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=start)
    client = sign_in(app, nurse.email)
    h.series(nurse, wid, start, [(0, 3.0)])
    assert "No symptoms reported yet." in client.get(f"/web/wounds/{wid}").text
    for day, body in (
        (7, {"pain_score": 2, "pro_skin_reaction": "mild"}),
        (14, {"pain_score": 6, "itch_nrs": 3, "pro_skin_reaction": "very_severe"}),
    ):
        h.assess(
            nurse,
            wid,
            h.at(start + timedelta(days=day)),
            area_cm2=3.0,
            findings={"erythema": "brisk"},
            **body,
        )
    html = client.get(f"/web/wounds/{wid}").text
    assert "Patient-reported symptoms" in html and "No symptoms reported yet." not in html
    section = html[html.index('id="sym-h"') : html.index('id="proc-h"')]
    # Two visits with symptoms; pain 6 and a very severe reaction are flagged, itch 3 is not.
    assert section.count("<tr>") == 3
    assert section.count("moderate+</span>") == 2 and "very severe" in section
    assert "Pain: latest 6, worst 6, worse (+4 since the episode's first report)" in section
    assert "Itch: latest 3, worst 3</li>" in section
    assert section.count('class="grade grade-2"') == 2  # brisk erythema: CTCAE 2


def test_wound_page_drops_a_withdrawn_override(app, nurse, clinician, small_clinic):
    client = sign_in(app, nurse.email)
    url = f"/web/wounds/{small_clinic.deteriorating}"
    before = client.get(url).text
    assert 'title="overridden"' in before and "necrosis at the margin on review" in before
    r = clinician.post(
        f"/api/v1/assessments/{small_clinic.overridden_assessment}/grade-override",
        json={"scale": "ctcae", "value": None, "reason": "margin was slough, not necrosis"},
    )
    assert r.status_code == 201, r.json
    html = client.get(url).text
    assert 'title="overridden"' not in html and "necrosis at the margin on review" not in html
    assert "margin was slough" not in html  # a withdrawal is history, not a grade


def test_report_is_laid_out_for_a4(app, nurse, small_clinic):
    client = sign_in(app, nurse.email)
    r = client.get(f"/web/wounds/{small_clinic.stalled}/report")
    assert r.status_code == 200
    assert 'media="print"' in r.text and "report-sheet" in r.text and "MRN" in r.text
    css = client.get("/web/static/print.css").text
    assert "@page { size: A4" in css


def test_export_from_the_page_runs_to_a_download(app, clinic, clinic_admin, small_clinic):
    client = sign_in(app, clinic_admin.email)
    page = client.get("/web/exports")
    assert (
        client.post("/web/exports", data={"clinic_id": str(clinic), "format": "csv"}).status_code
        == 400
    )
    r = client.post(
        "/web/exports",
        data={"csrf_token": csrf_of(page.text), "clinic_id": str(clinic), "format": "csv"},
    )
    assert r.status_code == 303
    job_page = r.location
    status_url = job_page + "/status.json"
    deadline = time.monotonic() + 60
    while True:
        status = client.get(status_url).json
        if status["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status["status"] == "done" and status["percent"] == 100
    html = client.get(job_page).text
    assert "Download zip" in html and "exports.js" in html
    zipped = client.get(job_page + "/download")
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    assert "data_dictionary.csv" in zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert sign_in(app, email_of(app, clinic_admin.user_id)).get(status_url).status_code == 200


def test_export_form_sent_twice_queues_one_export(app, clinic, clinic_admin, small_clinic):
    """A double click, or a resubmit after the answer was lost: one job. The
    same form sent back with other choices is refused, with a fresh form."""
    from app.exports.models import ExportJob
    from tests.assessments.helpers import count_rows

    client = sign_in(app, clinic_admin.email)
    page = client.get("/web/exports").text
    form_id = re.search(r'name="id" value="([0-9a-f-]{36})"', page).group(1)
    assert form_id not in client.get("/web/exports").text  # each form its own id
    body = {"csrf_token": csrf_of(page), "id": form_id, "clinic_id": str(clinic), "format": "csv"}
    first, second = (client.post("/web/exports", data=body) for _ in range(2))
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert count_rows(app, ExportJob) == 1
    edited = client.post("/web/exports", data={**body, "format": "parquet"})
    assert edited.status_code == 409 and "already sent with other choices" in edited.text
    assert f'name="id" value="{form_id}"' not in edited.text
    assert count_rows(app, ExportJob) == 1


def test_export_status_json_needs_the_session(app, client):
    r = client.get("/web/exports/00000000-0000-4000-8000-000000000000/status.json")
    assert r.status_code == 401 and r.is_json


def test_bad_export_form_says_what_to_fix(app, clinic, clinic_admin):
    client = sign_in(app, clinic_admin.email)
    token = csrf_of(client.get("/web/exports").text)
    r = client.post(
        "/web/exports",
        data={
            "csrf_token": token,
            "clinic_id": str(clinic),
            "format": "xls",
            "from": "2026-02-01",
            "to": "2026-01-01",
        },
    )
    assert r.status_code == 422 and "format" in r.text and "Check the form" in r.text


# -------------------------------------------------------- headers and markup


@pytest.fixture
def rendered_pages(app, nurse, clinic_admin, small_clinic):
    photo = upload_photo(nurse, small_clinic.stalled)
    pages = {"sign-in": app.test_client().get("/web/sign-in")}
    client = sign_in(app, nurse.email)
    for name, url in {
        "overview": "/web/",
        "filtered": "/web/?status=stalled&grade_min=2&site=fold&etiology=radiation_ulcer",
        "patient": f"/web/patients/{small_clinic.patient_id}",
        "wound": f"/web/wounds/{small_clinic.stalled}",
        "override": f"/web/wounds/{small_clinic.deteriorating}",
        "report": f"/web/wounds/{small_clinic.stalled}/report",
        "photo": f"/web/photos/{photo}",
        "missing": "/web/wounds/00000000-0000-4000-8000-000000000000",
        "forbidden": "/web/audit",
        "unknown": "/web/no-such-page",
    }.items():
        pages[name] = client.get(url)
    admin = sign_in(app, clinic_admin.email)
    pages["audit"] = admin.get("/web/audit")
    pages["exports"] = admin.get("/web/exports")
    return pages


def test_every_page_has_security_headers(rendered_pages):
    for name, r in rendered_pages.items():
        h = r.headers
        assert "script-src 'self'" in h["Content-Security-Policy"], name
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], name
        assert h["X-Content-Type-Options"] == "nosniff", name
        assert h["Referrer-Policy"] == "no-referrer", name
        assert h["X-Frame-Options"] == "DENY", name


def test_every_page_is_script_clean_labelled_and_has_alt_text(rendered_pages):
    wound = rendered_pages["wound"].text
    assert wound.count("<img") >= 1 and wound.count('<svg class="chart-svg') == 3
    for name, r in rendered_pages.items():
        assert r.mimetype == "text/html", name
        assert page_problems(r.text) == [], name


def test_the_page_checker_catches_what_it_should():
    bad = (
        '<html lang="en"><main><h1>x</h1><script>alert(1)</script><img src="a">'
        '<button onclick="x()">b</button><input name="q"><p style="color:red">s</p></main></html>'
    )
    problems = page_problems(bad)
    assert len(problems) == 6, problems


def test_signing_in_again_ends_the_previous_session(app, nurse, clinician):
    client = sign_in(app, nurse.email)
    first = client.get_cookie(COOKIE, path="/web").value
    token = csrf_of(client.get("/web/").text)
    r = client.post(
        "/web/sign-in", data={"email": clinician.email, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 303
    assert "Test Clinician" in client.get("/web/").text
    replay = app.test_client()
    replay.set_cookie(COOKIE, first, path="/web")
    assert replay.get("/web/").status_code == 302


def test_odd_input_never_breaks_a_page(app, nurse, clinic_admin, small_clinic):
    """NUL characters (PostgreSQL text cannot hold them), bad dates and ids: never a 500."""
    client = sign_in(app, nurse.email)
    for url in (
        "/web/?site=a%00b&status=stalled%00&etiology=%00&sort=%00&cursor=%00&grade_min=x",
        "/web/?clinic_id=not-a-uuid",
        "/web/patients?q=a%00b&cursor=%00",
        "/web/patients?cursor=" + "x" * 3000,
        "/web/wounds?record=%00&status=%00&site=%00&cursor=%00&clinic_id=%00",
        "/web/wounds?cursor=bm90LWEtbGlzdA",
        "/web/wounds/not-a-uuid",
        "/web/photos/00000000-0000-4000-8000-000000000000/huge",
    ):
        r = client.get(url)
        assert r.status_code < 500 and r.mimetype == "text/html", url
    admin = sign_in(app, clinic_admin.email)
    for url in ("/web/audit?action=a%00&record_type=%00", "/web/audit?before=2026-01-01T00:00:00"):
        assert admin.get(url).status_code == 200, url
    stranger = app.test_client()
    token = csrf_of(stranger.get("/web/sign-in").text)
    r = stranger.post(
        "/web/sign-in", data={"email": "a\x00@x.org", "password": "p\x00", "csrf_token": token}
    )
    assert r.status_code == 401
    token = csrf_of(admin.get("/web/exports").text)
    r = admin.post(
        "/web/exports",
        data={"csrf_token": token, "clinic_id": "x\x00", "format": "csv\x00", "from": "\x00"},
    )
    assert r.status_code == 422


def test_audit_page_shows_the_clinic_admins_clinics_only(app, clinic_admin, nurse, outsider):
    """The page reads audit events through the one clinic scope of every listing."""
    from tests.factories import patient_body

    ours = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    theirs = outsider.post("/api/v1/patients", json=patient_body()).json["id"]
    page = sign_in(app, clinic_admin.email).get("/web/audit?action=create")
    assert page.status_code == 200
    assert ours[:8] in page.text
    assert theirs[:8] not in page.text
