"""The exports pages: start a de-identified export, follow it, retry it, download it."""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Response,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from app.clinics.services import clinic_choices
from app.core.access import require
from app.core.errors import Problem
from app.exports import services as export_services
from app.exports.dictionary import DAY_ZERO_NOTE
from app.exports.models import EXPORT_FORMATS
from app.exports.schemas import ExportRequestSchema
from app.extensions import db
from app.web.blueprint import bp, form_text, show_times_of


def _export_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    user = require("export:create")
    listing = export_services.list_jobs(db.session, {"limit": 500})
    jobs = list(reversed(listing["items"]))[:20]
    clinics = clinic_choices(db.session, user)
    names = {str(c.id): c.name for c in clinics}
    return render_template(
        "exports.html",
        jobs=jobs,
        clinics=clinics,
        names=names,
        formats=EXPORT_FORMATS,
        day_zero_note=DAY_ZERO_NOTE,
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
        k: form_text(request.form.get(k)).strip()
        for k in ("id", "clinic_id", "format", "from", "to")
        if form_text(request.form.get(k)).strip()
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
    show_times_of(job.clinic_id)
    names = {str(c.id): c.name for c in clinic_choices(db.session, g.user)}
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
