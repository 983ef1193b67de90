"""Research exports: de-identified CSV, Parquet or FHIR R4 NDJSON, made in the background."""

from __future__ import annotations

from flask import Response, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from app.exports import services
from app.exports.schemas import (
    ExportJobSchema,
    ExportListArgsSchema,
    ExportPageSchema,
    ExportRequestSchema,
)
from app.extensions import db

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/api/v1",
    description="De-identified research exports (researchers with a grant, clinic_admins)",
)


@blp.route("/exports")
class ExportsResource(MethodView):
    @blp.arguments(ExportListArgsSchema, location="query")
    @blp.response(200, ExportPageSchema)
    def get(self, args):
        """Your export jobs, oldest first."""
        return services.list_jobs(db.session, args)

    @blp.arguments(ExportRequestSchema)
    @blp.response(202, ExportJobSchema)
    @blp.alt_response(200, schema=ExportJobSchema, description="Replay of a request (same `id`)")
    @blp.alt_response(403, description="Role may not export, or researcher without a grant")
    @blp.alt_response(404, description="Clinic not found or not yours (clinic_admin, admin)")
    @blp.alt_response(409, description="The `id` was used for another request")
    def post(self, data):
        """Queue an export of one clinic. `from`/`to` select wounds by onset date;
        each selected wound comes with its whole follow-up. Poll the job, then
        download. Researchers need an active research grant from the clinic.
        Send a client `id` to make a retry safe: it answers the job already
        queued (200) instead of exporting the clinic twice."""
        job, created = services.create_export(db.session, data)
        return job, 202 if created else 200


@blp.route("/exports/<uuid:job_id>")
class ExportResource(MethodView):
    @blp.response(200, ExportJobSchema)
    def get(self, job_id):
        """Status (queued, running, done, failed with a reason, expired) and progress."""
        return services.own_job(db.session, job_id)


@blp.route("/exports/<uuid:job_id>/retry")
class ExportRetryResource(MethodView):
    @blp.response(202, ExportJobSchema)
    @blp.alt_response(409, description="The job is not failed")
    def post(self, job_id):
        """Queue a failed export again (e.g. its worker died, or no worker took it
        from the queue in time: such jobs are reported failed)."""
        return services.retry(db.session, job_id)


@blp.route("/exports/<uuid:job_id>/download")
class ExportDownloadResource(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "The zip: CSV or Parquet tables with data_dictionary.csv, or"
                " FHIR NDJSON files with manifest.json",
                "content": {"application/zip": {}},
            },
            "409": {"description": "Not done yet (or failed)"},
            "410": {"description": "Expired; its file was deleted"},
        }
    )
    def get(self, job_id):
        """Download the result (a zip)."""
        job, stream = services.open_result(db.session, job_id)
        return Response(
            stream_with_context(_chunks(stream)),
            mimetype="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="export-{job.id}-{job.format}.zip"',
                "Content-Length": str(job.result_bytes or ""),
                "Cache-Control": "no-store",
            },
        )


def _chunks(stream):
    try:
        yield from stream
    finally:
        stream.close()
