"""The clinic pages' blueprint and what every page shares.

Authentication is a cookie session (app/web/auth.py), never a bearer token;
``_authenticate`` puts the page user in ``g.user`` so ``require``,
``get_record`` and the audit trail work exactly as for the API. Charts and
photos are served by page-side routes that call the same services after the
cookie check, because the API takes bearer tokens only. Every POST carries a
CSRF token. No inline script or style (the CSP forbids both): JavaScript lives
in static/ and only improves pages that work without it.

The pages themselves live in one module per area (sign_in, overview, patients,
wound_list, wounds, photos, audit, exports); app/web/routes.py imports them all so that
their routes are on ``bp`` before the app registers it.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.clinics.services import clinic_zone_name, user_zone_name
from app.core.access import Principal, can
from app.core.errors import Problem
from app.core.timezones import DEFAULT_ZONE, zone
from app.extensions import db
from app.web import auth
from app.web.formatting import fmt_date, fmt_dt, fmt_num, format_name, label

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
        "label": label,
        "format_name": format_name,
        "fmt_date": lambda value: fmt_date(value, page_zone()),
        "fmt_dt": lambda value: fmt_dt(value, page_zone()),
        "fmt_num": fmt_num,
        "page_zone": page_zone,
    }


# ---------------------------------------------------------------- time zone


def show_times_of(clinic_id: Any) -> ZoneInfo:
    """Print this page's times in the zone of ``clinic_id`` (the clinic whose
    record or list the page shows); returns the zone."""
    g.page_zone = zone(clinic_zone_name(db.session, clinic_id))
    return g.page_zone  # type: ignore[no-any-return]


def page_zone() -> ZoneInfo:
    """The zone this page prints times in: the clinic's a view chose
    (``show_times_of``), else the zone all the user's clinics share, else UTC."""
    chosen = getattr(g, "page_zone", None)
    if chosen is None:
        user = getattr(g, "user", None)
        chosen = g.page_zone = zone(
            user_zone_name(db.session, user) if user is not None else DEFAULT_ZONE
        )
    return chosen  # type: ignore[no-any-return]


# ------------------------------------------------------------------- errors


@bp.errorhandler(CsrfRejected)
def _csrf_rejected(_: CsrfRejected) -> ResponseReturnValue:
    return error_page(
        400,
        "Form expired",
        "This form was not sent from this session (missing or stale security token). "
        "Go back, reload the page and send it again.",
    )


@bp.errorhandler(Problem)
def _problem(error: Problem) -> ResponseReturnValue:
    return error_page(error.status, error.title, error.detail or error.title)


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
    return error_page(status, error.name, error.description or error.name)


def error_page(status: int, title: str, detail: str) -> ResponseReturnValue:
    """The styled error page (JSON for the JSON endpoints), with ``status``."""
    if request.endpoint in JSON_ENDPOINTS:
        return jsonify({"error": title, "detail": detail}), status
    # An error page prints no times: no zone lookup (the transaction may be failed).
    g.setdefault("page_zone", zone(DEFAULT_ZONE))
    if status == 404:
        title = "Not found"
    return render_template("error.html", status=status, title=title, detail=detail), status


@bp.get("/web/<path:rest>")
def unknown_page(rest: str) -> ResponseReturnValue:
    """Any other /web address: the styled 404 page (signed-in users only)."""
    raise Problem(404, "Not Found", "There is no such page.")


# ---------------------------------------------------------------- helpers


def form_text(value: str | None) -> str:
    """A form or query value without NUL characters (PostgreSQL text cannot hold them)."""
    return (value or "").replace("\x00", "")
