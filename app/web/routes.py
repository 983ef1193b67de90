"""Clinic pages: server-rendered HTML over the same services as the API.

Authentication is a cookie session (app/web/auth.py), never a bearer token;
``_authenticate`` puts the page user in ``g.user`` so ``require``,
``get_record`` and the audit trail work exactly as for the API. Charts and
photos are served by page-side routes that call the same services after the
cookie check, because the API takes bearer tokens only. Every POST carries a
CSRF token. No inline script or style (the CSP forbids both): JavaScript lives
in static/ and only improves pages that work without it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.auth import services as auth_services
from app.auth.models import User
from app.clinics.models import Clinic, ResearchGrant
from app.core import audit
from app.core.access import Principal, can, get_record, require
from app.core.audit import AuditEvent
from app.core.errors import Problem
from app.exports import services as export_services
from app.exports.models import EXPORT_FORMATS
from app.exports.schemas import ExportRequestSchema
from app.extensions import db, limiter
from app.patients.models import Patient
from app.photos import services as photo_services
from app.photos.models import Photo
from app.radiotherapy.models import RadiotherapyCourse
from app.radiotherapy.services import dose_on
from app.summaries import chart, dashboard, patient_summary, trajectory
from app.summaries.schemas import DashboardArgsSchema
from app.web import auth
from app.wounds.models import Wound

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web/static",
)

# Reachable without a session (the sign-in form itself, its assets, the root redirect).
PUBLIC_ENDPOINTS = frozenset({"web.root", "web.sign_in", "web.sign_in_post", "web.static"})
JSON_ENDPOINTS = frozenset({"web.export_status"})
PHOTO_SIZES = ("thumb", "large")
PAGE_STATUSES = ("deteriorating", "stalled", "on_track", "insufficient_data", "healed")


@bp.record_once
def _configure_cookie(state: Any) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, only sent to /web, Secure except
    in development, debug or tests (``make run`` serves plain HTTP on a laptop)."""
    app = state.app
    cfg = app.config
    cfg["SESSION_COOKIE_NAME"] = "woundtrack_web"
    cfg["SESSION_COOKIE_PATH"] = "/web"
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_SECURE"] = not (
        app.debug or app.testing or cfg.get("APP_ENV", "development") == "development"
    )


# --------------------------------------------------------------------------- auth


class CsrfRejected(Exception):
    pass


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    """CSRF on every POST; then the cookie session for every non-public page.

    A missing or ended session sends pages to the sign-in form (JSON endpoints
    get 401). The Authorization header is ignored here on purpose: pages take
    the cookie only, and g.user is always set before a view can call require()."""
    if request.method == "POST" and not auth.csrf_valid(request.form.get("csrf_token")):
        raise CsrfRejected()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = auth.session_user(db.session)
    if user is None:
        g.user = None
        if request.endpoint in JSON_ENDPOINTS:
            return jsonify({"error": "signed out"}), 401
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("web.sign_in", next=target))
    g.user = Principal.of(user)
    return None


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    user = getattr(g, "user", None)
    return {
        "csrf_token": auth.csrf_token,
        "page_user": user,
        "may": (lambda action: user is not None and can(user, action)),
        "label": _label,
        "fmt_date": _fmt_date,
        "fmt_dt": _fmt_dt,
        "fmt_num": _fmt_num,
    }


def _safe_next(value: str | None) -> str:
    """Only a local /web path (no scheme, no host) may follow sign-in."""
    if value:
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/web/"):
            return value
    return url_for("web.overview")


def _account_key() -> str:
    # The API's own account bucket (app/auth/routes.py), keyed by the email.
    email = request.form.get("email", "")
    return f"login-account:{email.strip().lower()[:254]}"


# The API sign-in's buckets (flask-limiter names a route's bucket "<endpoint>:<scope>"),
# so attempts through the form and through POST /auth/token count together.
API_LOGIN_SCOPE = "auth.TokenResource"


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.get("/")
def root() -> ResponseReturnValue:
    return redirect(url_for("web.overview"))


@bp.get("/web/sign-in")
def sign_in() -> ResponseReturnValue:
    if auth.session_user(db.session) is not None:
        return redirect(url_for("web.overview"))
    return render_template("sign_in.html", next=request.args.get("next", ""), error=None)


@bp.post("/web/sign-in")
@limiter.shared_limit(_login_limit, API_LOGIN_SCOPE + ":login-address", key_func=get_remote_address)
@limiter.shared_limit(_login_limit, API_LOGIN_SCOPE + ":login-account", key_func=_account_key)
def sign_in_post() -> ResponseReturnValue:
    """Sign in with the API's accounts, rate limits and audit events."""
    email = _text(request.form.get("email"))[:254]
    password = _text(request.form.get("password"))[:1024]
    user = auth_services.authenticate(db.session, email, password) if email and password else None
    if user is None:
        audit.record_now(
            db.engine, "login", "user", None, outcome="failure", details={"via": "web"}
        )
        error = "Email or password is wrong, or the account is disabled."
        return render_template(
            "sign_in.html", next=request.form.get("next", ""), error=error, email=email
        ), 401
    auth.start_session(db.session, user)
    g.user = Principal.of(user)
    audit.record(db.session, "login", "user", user.id, user=user, details={"via": "web"})
    target = _safe_next(request.form.get("next"))
    if user.role == "researcher" and target == url_for("web.overview"):
        target = url_for("web.exports")
    return redirect(target, 303)


@bp.post("/web/sign-out")
def sign_out() -> ResponseReturnValue:
    audit.record(db.session, "logout", "user", g.user.id, details={"via": "web"})
    auth.end_session(db.session)
    return redirect(url_for("web.sign_in"), 303)


# ------------------------------------------------------------------- errors


@bp.errorhandler(CsrfRejected)
def _csrf_rejected(_: CsrfRejected) -> ResponseReturnValue:
    return _error_page(
        400,
        "Form expired",
        "This form was not sent from this session (missing or stale security token). "
        "Go back, reload the page and send it again.",
    )


@bp.errorhandler(Problem)
def _problem(error: Problem) -> ResponseReturnValue:
    return _error_page(error.status, error.title, error.detail or error.title)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if status == 429:
        return render_template(
            "sign_in.html",
            next="",
            error="Too many sign-in attempts. Wait a minute and try again.",
            email="",
        ), 429
    return _error_page(status, error.name, error.description or error.name)


def _error_page(status: int, title: str, detail: str) -> ResponseReturnValue:
    if request.endpoint in JSON_ENDPOINTS:
        return jsonify({"error": title, "detail": detail}), status
    if status == 404:
        title = "Not found"
    return render_template("error.html", status=status, title=title, detail=detail), status


# ---------------------------------------------------------------- helpers


def _text(value: str | None) -> str:
    """A form or query value without NUL characters (PostgreSQL text cannot hold them)."""
    return (value or "").replace("\x00", "")


def _label(value: Any) -> str:
    """snake_case codes as words ("on_track" -> "on track")."""
    if value is None:
        return "—"
    return str(value).replace("_", " ")


def _fmt_date(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        return value[:10]
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def _fmt_dt(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _fmt_num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{float(value):.{digits}f}"


def _clinics_for(user: User, action: str = "clinical:read") -> list[Any]:
    """Clinics the user may pick (admins: all; researchers: those granting them access)."""
    stmt = sa.select(Clinic.id, Clinic.name).order_by(Clinic.name, Clinic.id)
    if user.role == "researcher":
        granted = sa.select(ResearchGrant.clinic_id).where(
            ResearchGrant.researcher_id == user.id, ResearchGrant.revoked_at.is_(None)
        )
        stmt = stmt.where(Clinic.id.in_(granted))
    elif user.role != "admin":
        stmt = stmt.where(Clinic.id.in_(user.clinic_ids or [uuid.uuid4()]))
    return list(db.session.execute(stmt).all())


# ------------------------------------------------------------------ overview


def _dashboard_args(clinics: list[Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The GET filter form as DashboardArgsSchema input (blank fields dropped)."""
    raw: dict[str, Any] = {}
    for key in ("clinic_id", "grade_min", "site", "etiology", "sort", "cursor"):
        value = _text(request.args.get(key)).strip()
        if value:
            raw[key] = value
    statuses = [_text(s) for s in request.args.getlist("status") if s]
    if statuses:
        raw["status"] = statuses
    if "clinic_id" not in raw and clinics:
        raw["clinic_id"] = str(clinics[0].id)
    errors: dict[str, list[str]] = {}
    for _ in range(len(raw) + 1):  # drop each invalid filter, keep the rest
        try:
            return DashboardArgsSchema().load(raw), errors
        except ValidationError as exc:
            bad = {str(k): v for k, v in dict(exc.messages).items()}  # type: ignore[arg-type]
            errors.update({k: [str(m) for m in v] for k, v in bad.items()})
            raw = {k: v for k, v in raw.items() if k not in bad}
    return DashboardArgsSchema().load({}), errors


@bp.get("/web/")
def overview() -> ResponseReturnValue:
    """Open wounds needing attention first, with counts and filters (GET form)."""
    user = g.user
    if not can(user, "clinical:read"):
        return redirect(url_for("web.exports"))
    clinics = _clinics_for(user)
    if not clinics:
        return _error_page(404, "No clinic", "Your account belongs to no clinic yet.")
    args, errors = _dashboard_args(clinics)
    board = dashboard.dashboard(db.session, args)
    filters = {
        "status": request.args.getlist("status"),
        "grade_min": request.args.get("grade_min", ""),
        "site": request.args.get("site", ""),
        "etiology": request.args.get("etiology", ""),
        "sort": request.args.get("sort", "priority"),
    }
    next_args = request.args.to_dict(flat=False) | {"cursor": board["next_cursor"]}
    return render_template(
        "overview.html",
        board=board,
        clinics=clinics,
        clinic_id=board["clinic_id"],
        clinic_name=next((c.name for c in clinics if str(c.id) == board["clinic_id"]), ""),
        filters=filters,
        errors=errors,
        statuses=PAGE_STATUSES[:-1],
        etiologies=("radiation_dermatitis", "radiation_ulcer", "surgical", "pressure", "other"),
        sorts=dashboard.SORTS,
        next_args=next_args,
    )


# ------------------------------------------------------------------- patient


@bp.get("/web/patients/<uuid:patient_id>")
def patient(patient_id: uuid.UUID) -> ResponseReturnValue:
    """Wounds, radiotherapy courses with the dose delivered so far, and the timeline."""
    summary = patient_summary.patient_summary(db.session, patient_id)
    today = datetime.now(UTC).date()
    doses: dict[str, Any] = {}
    for course in summary["radiotherapy_courses"]:
        row = get_record(db.session, RadiotherapyCourse, uuid.UUID(course["id"]))
        try:
            doses[course["id"]] = dose_on(db.session, row, today)
        except Problem:
            doses[course["id"]] = None
    return render_template("patient.html", s=summary, doses=doses, today=today)


# --------------------------------------------------------------------- wound


def _wound_context(wound_id: uuid.UUID) -> dict[str, Any]:
    data = trajectory.load_wound(db.session, wound_id)
    traj = trajectory.build_trajectory(data)
    pat = get_record(db.session, Patient, data.wound["patient_id"])
    listing = photo_services.list_photos(db.session, wound_id, {"limit": 500})
    photos = [p for p in listing["items"] if getattr(p, "deleted_at", None) is None]
    reasons = {
        (str(aid), scale): row
        for aid, by_scale in data.overrides.items()
        for scale, row in by_scale.items()
    }
    return {
        "w": data.wound,
        "t": traj,
        "patient": pat,
        "photos": photos,
        "overrides": reasons,
    }


@bp.get("/web/wounds/<uuid:wound_id>")
def wound(wound_id: uuid.UUID) -> ResponseReturnValue:
    """Healing curve, photos, measurements and grades, procedures, status and rule."""
    return render_template("wound.html", **_wound_context(wound_id))


@bp.get("/web/wounds/<uuid:wound_id>/report")
def wound_report(wound_id: uuid.UUID) -> ResponseReturnValue:
    """The wound page laid out for an A4 sheet, to file in the chart."""
    ctx = _wound_context(wound_id)
    return render_template("report.html", printed_at=datetime.now(UTC), **ctx)


@bp.get("/web/wounds/<uuid:wound_id>/chart.svg")
def wound_chart(wound_id: uuid.UUID) -> ResponseReturnValue:
    """The API's healing-curve chart, for pages (cookie auth)."""
    data = trajectory.load_wound(db.session, wound_id)
    width = _bounded_int("width", 800, chart.MIN_WIDTH, chart.MAX_WIDTH)
    height = _bounded_int("height", 400, chart.MIN_HEIGHT, chart.MAX_HEIGHT)
    etag = trajectory.data_version(data, "svg", width, height)
    headers = {"Cache-Control": "private, no-cache", "ETag": etag}
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return Response(status=304, headers=headers)
    body = chart.render(trajectory.build_trajectory(data), "svg", width, height)
    return Response(body, mimetype="image/svg+xml", headers=headers)


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


# -------------------------------------------------------------------- photos


@bp.get("/web/photos/<uuid:photo_id>")
def photo_page(photo_id: uuid.UUID) -> ResponseReturnValue:
    """One photo at full (large) size."""
    photo = get_record(db.session, Photo, photo_id)
    wound = get_record(db.session, Wound, photo.wound_id, audit_read=False)
    return render_template("photo.html", photo=photo, w=wound)


@bp.get("/web/photos/<uuid:photo_id>/<size>")
def photo_content(photo_id: uuid.UUID, size: str) -> ResponseReturnValue:
    """Photo bytes (thumb or large) for users of its clinic; as the API's content route."""
    if size not in PHOTO_SIZES:
        raise Problem(404, "Not Found", "Photo sizes here are thumb and large.")
    photo = get_record(db.session, Photo, photo_id)
    return photo_services.content_response(photo, size, if_none_match=request.if_none_match)


# --------------------------------------------------------------------- audit


@bp.get("/web/audit")
def audit_log() -> ResponseReturnValue:
    """The newest audit events of the user's clinics (clinic_admins, admins)."""
    user = require("audit:read")
    stmt = sa.select(AuditEvent)
    if user.role != "admin":
        stmt = stmt.where(AuditEvent.clinic_id.in_(user.clinic_ids or [uuid.uuid4()]))
    action = _text(request.args.get("action")).strip()[:40]
    record_type = _text(request.args.get("record_type")).strip()[:40]
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if record_type:
        stmt = stmt.where(AuditEvent.record_type == record_type)
    before = _text(request.args.get("before"))
    if before:
        try:
            until = datetime.fromisoformat(before)
            stmt = stmt.where(
                AuditEvent.at < (until if until.tzinfo else until.replace(tzinfo=UTC))
            )
        except ValueError:
            before = ""
    events = list(
        db.session.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(100))
    )
    ids = {e.user_id for e in events if e.user_id is not None}
    names = (
        dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    older = events[-1].at.isoformat() if len(events) == 100 else None
    return render_template(
        "audit.html",
        events=events,
        names=names,
        action=action,
        record_type=record_type,
        older=older,
    )


@bp.get("/web/<path:rest>")
def unknown_page(rest: str) -> ResponseReturnValue:
    """Any other /web address: the styled 404 page (signed-in users only)."""
    raise Problem(404, "Not Found", "There is no such page.")


# ------------------------------------------------------------------- exports


def _export_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    user = require("export:create")
    listing = export_services.list_jobs(db.session, {"limit": 500})
    jobs = list(reversed(listing["items"]))[:20]
    clinics = _clinics_for(user, "export:create")
    names = {str(c.id): c.name for c in clinics}
    return render_template(
        "exports.html",
        jobs=jobs,
        clinics=clinics,
        names=names,
        formats=EXPORT_FORMATS,
        error=error,
        form=request.form if request.method == "POST" else {},
        # The export's client id, fresh for each form: a double submit (or a
        # resubmit after a dropped answer) is a replay, not a second export.
        export_id=str(uuid.uuid4()),
    ), status


@bp.get("/web/exports")
def exports() -> ResponseReturnValue:
    """Start a de-identified export; your recent exports."""
    return _export_page()


@bp.post("/web/exports")
def exports_post() -> ResponseReturnValue:
    require("export:create")
    raw = {
        k: _text(request.form.get(k)).strip()
        for k in ("id", "clinic_id", "format", "from", "to")
        if _text(request.form.get(k)).strip()
    }
    try:
        data = ExportRequestSchema().load(raw)
    except ValidationError as exc:
        messages = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.messages.items())  # type: ignore[union-attr]
        return _export_page(f"Check the form — {messages}", 422)
    try:
        job, _ = export_services.create_export(db.session, data)
    except Problem as exc:
        if exc.status == 409:  # an earlier form sent again with other choices (back button)
            return _export_page(
                "That form was already sent with other choices; send this one.", 409
            )
        return _export_page(exc.detail or exc.title, exc.status)
    return redirect(url_for("web.export_detail", job_id=job.id), 303)


def _job_view(job: Any) -> dict[str, Any]:
    total = job.progress_total
    return {
        "id": str(job.id),
        "status": job.status,
        "done": job.progress_done,
        "total": total,
        "percent": (100 * job.progress_done // total)
        if total
        else (100 if job.status == "done" else 0),
        "reason": job.error,
        "finished": job.status in ("done", "failed", "expired"),
    }


@bp.get("/web/exports/<uuid:job_id>")
def export_detail(job_id: uuid.UUID) -> ResponseReturnValue:
    """One export's progress; plain reload works, static/exports.js polls."""
    job = export_services.own_job(db.session, job_id)
    names = {str(c.id): c.name for c in _clinics_for(g.user, "export:create")}
    return render_template("export.html", job=job, v=_job_view(job), names=names)


@bp.get("/web/exports/<uuid:job_id>/status.json")
def export_status(job_id: uuid.UUID) -> ResponseReturnValue:
    job = export_services.own_job(db.session, job_id)
    resp = jsonify(_job_view(job))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/web/exports/<uuid:job_id>/retry")
def export_retry(job_id: uuid.UUID) -> ResponseReturnValue:
    export_services.retry(db.session, job_id)
    return redirect(url_for("web.export_detail", job_id=job_id), 303)


@bp.get("/web/exports/<uuid:job_id>/download")
def export_download(job_id: uuid.UUID) -> ResponseReturnValue:
    job, stream = export_services.open_result(db.session, job_id)

    def chunks() -> Any:
        try:
            yield from stream
        finally:
            stream.close()

    return Response(
        stream_with_context(chunks()),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="export-{job.id}-{job.format}.zip"',
            "Cache-Control": "no-store",
        },
    )
