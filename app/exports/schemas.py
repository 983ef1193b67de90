"""Export request and job schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from app.core.schemas import StrictSchema
from app.exports.models import EXPORT_FORMATS, EXPORT_STATUSES


class ExportRequestSchema(StrictSchema):
    id = fields.UUID(
        metadata={
            "description": "Client-generated UUID (optional): a retried request is a replay "
            "(200, the job as it stands), the same id with other content a 409"
        }
    )
    clinic_id = fields.UUID(required=True)
    format = fields.String(
        required=True,
        validate=validate.OneOf(EXPORT_FORMATS),
        metadata={"description": "csv | parquet | fhir_ndjson"},
    )
    date_from = fields.Date(
        data_key="from",
        allow_none=True,
        metadata={"description": "Wounds with onset on or after this date (inclusive)"},
    )
    date_to = fields.Date(
        data_key="to",
        allow_none=True,
        metadata={"description": "Wounds with onset on or before this date (inclusive)"},
    )

    @validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start is not None and end is not None and start > end:
            raise ValidationError("must be on or before `to`", field_name="from")


class ProgressSchema(Schema):
    done = fields.Integer(required=True, metadata={"description": "Source rows processed"})
    total = fields.Integer(
        allow_none=True, metadata={"description": "Source rows to process (null until counted)"}
    )


class RowCountsSchema(Schema):
    """Rows written per file: the tables of a CSV or Parquet export, or the
    resource types of a FHIR one (a type with no resource has no file)."""

    patients = fields.Integer()
    wounds = fields.Integer()
    assessments = fields.Integer()
    procedures = fields.Integer()
    colour_measures = fields.Integer()
    Patient = fields.Integer()
    Condition = fields.Integer()
    Observation = fields.Integer()
    Procedure = fields.Integer()


class _JobView:
    """An export job with the values the API derives from it, as attributes, so
    that each is dumped (and documented) by a typed field."""

    def __init__(self, job: Any) -> None:
        self._job = job

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    @property
    def progress(self) -> dict[str, Any]:
        return {"done": self._job.progress_done or 0, "total": self._job.progress_total}

    @property
    def retryable(self) -> bool:
        return bool(self._job.status == "failed")

    @property
    def download_url(self) -> str | None:
        job = self._job
        return f"/api/v1/exports/{job.id}/download" if job.status == "done" else None


class ExportJobSchema(Schema):
    id = fields.UUID(dump_only=True)
    clinic_id = fields.UUID(dump_only=True)
    format = fields.String(dump_only=True)
    date_from = fields.Date(data_key="from", dump_only=True, allow_none=True)
    date_to = fields.Date(data_key="to", dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": " | ".join(EXPORT_STATUSES)})
    progress = fields.Nested(ProgressSchema, dump_only=True)
    reason = fields.String(
        attribute="error",
        dump_only=True,
        allow_none=True,
        metadata={"description": "Why the job failed, and what to do"},
    )
    retryable = fields.Boolean(
        dump_only=True, metadata={"description": "A failed job: POST .../retry queues it again"}
    )
    attempts = fields.Integer(dump_only=True)
    row_counts = fields.Nested(
        RowCountsSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "Rows written per file, once done"},
    )
    result_bytes = fields.Integer(dump_only=True, allow_none=True)
    download_url = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Set once the job is done"}
    )
    created_at = fields.AwareDateTime(dump_only=True)
    started_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    expires_at = fields.AwareDateTime(dump_only=True, allow_none=True)

    @pre_dump
    def _derived(self, job: Any, **kwargs: Any) -> _JobView:
        return _JobView(job)


class ExportListArgsSchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(validate=validate.Length(max=2000))


class ExportPageSchema(Schema):
    items = fields.List(fields.Nested(ExportJobSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
