"""Summaries: a wound's healing trajectory (JSON and chart), the clinic
dashboard and the patient summary. Read-only; every read is scoped and audited."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.extensions import db
from app.summaries import chart, dashboard, patient_summary, trajectory
from app.summaries.schemas import (
    ChartArgsSchema,
    DashboardArgsSchema,
    DashboardSchema,
    PatientSummarySchema,
    TrajectorySchema,
)

blp = Blueprint("summaries", __name__, url_prefix="/api/v1", description="Summaries")

_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


def _not_modified(etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


@blp.route("/wounds/<uuid:wound_id>/trajectory")
class TrajectoryResource(MethodView):
    @blp.response(200, TrajectorySchema)
    def get(self, wound_id):
        """Healing trajectory: status and the rule behind it, PAR, slopes, projection,
        the series (effective grades), procedures with the area before/after,
        radiotherapy dose at onset and the grade history."""
        data = trajectory.load_wound(db.session, wound_id)
        return trajectory.build_trajectory(data), 200, {"ETag": trajectory.data_version(data)}


def _chart(wound_id: Any, args: dict[str, Any], fmt: str) -> Response:
    data = trajectory.load_wound(db.session, wound_id)
    etag = trajectory.data_version(data, fmt, args["width"], args["height"])
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _not_modified(etag):
        return Response(status=304, headers=headers)
    body = chart.render(trajectory.build_trajectory(data), fmt, args["width"], args["height"])
    return Response(body, status=200, mimetype=_MEDIA[fmt], headers=headers)


_CHART_DOC = {
    "responses": {
        "200": {"description": "The chart", "content": {m: {} for m in _MEDIA.values()}},
        "304": {"description": "Unchanged since the ETag sent in If-None-Match"},
    }
}


@blp.route("/wounds/<uuid:wound_id>/trajectory.png")
class TrajectoryPngResource(MethodView):
    @blp.arguments(ChartArgsSchema, location="query")
    @blp.doc(**_CHART_DOC)
    def get(self, args, wound_id):
        """Healing-curve chart (PNG): area over time, procedures, grades, healed date."""
        return _chart(wound_id, args, "png")


@blp.route("/wounds/<uuid:wound_id>/trajectory.svg")
class TrajectorySvgResource(MethodView):
    @blp.arguments(ChartArgsSchema, location="query")
    @blp.doc(**_CHART_DOC)
    def get(self, args, wound_id):
        """Healing-curve chart (SVG), as the PNG."""
        return _chart(wound_id, args, "svg")


@blp.route("/dashboard")
class DashboardResource(MethodView):
    @blp.arguments(DashboardArgsSchema, location="query")
    @blp.response(200, DashboardSchema)
    def get(self, args):
        """Open wounds of a clinic, worst first: trajectory status, days since the
        last assessment, overdue flag, latest effective grade, PAR; counts by
        status and grade. Filters, sorting and a cursor."""
        return dashboard.dashboard(db.session, args)


@blp.route("/patients/<uuid:patient_id>/summary")
class PatientSummaryResource(MethodView):
    @blp.response(200, PatientSummarySchema)
    def get(self, patient_id):
        """A patient's wounds with statuses, radiotherapy courses with total dose,
        and a timeline of procedures and therapy changes."""
        return patient_summary.patient_summary(db.session, patient_id)
