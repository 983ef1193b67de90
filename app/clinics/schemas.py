from marshmallow import ValidationError, fields, validate

from app.auth.models import ROLES
from app.auth.schemas import new_password_field
from app.clinics.models import GRADE_SCALES
from app.core.schemas import StrictSchema
from app.core.timezones import MAX_ZONE_LENGTH, is_zone

_CLIENT_ID = "Client-generated UUID for a create that is safe to retry (optional)"


def _known_zone(value: str) -> None:
    if not is_zone(value):
        raise ValidationError("is not an IANA time zone name (e.g. Europe/Berlin, UTC)")


class ClinicSchema(StrictSchema):
    id = fields.UUID(metadata={"description": _CLIENT_ID})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    default_marker_size_cm = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0.5, max=20),
        metadata={"description": "Printed marker edge"},
    )
    overdue_assessment_days = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=90)
    )
    par_threshold_pct = fields.Float(
        allow_none=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "PAR at week 4 that counts as on track (null: 40%)"},
    )
    alert_grade_threshold = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=5),
        metadata={"description": "Grade (primary scale) that raises a grade alert (null: 3)"},
    )
    alert_lab_grade_threshold = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=4),
        metadata={"description": "Lab CTCAE grade during systemic therapy that alerts (null: 3)"},
    )
    alert_infection_min_signs = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=7),
        metadata={"description": "NERDS or STONEES signs that raise an infection alert (null: 3)"},
    )
    timezone = fields.String(
        validate=[validate.Length(min=1, max=MAX_ZONE_LENGTH), _known_zone],
        metadata={
            "description": "IANA time zone the clinic pages show times in (default UTC),"
            " and whose calendar days count days since an assessment (dashboard, overdue"
            " alert); the API answers times in UTC whatever it is"
        },
    )
    primary_grade_scale = fields.String(
        validate=validate.OneOf(GRADE_SCALES),
        metadata={
            "description": "ctcae (default) or rtog: the scale whose grade decides the "
            "dashboard's grade, grade >= 3 count, grade_min filter and grade sort (both "
            "scales are always shown)"
        },
    )
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ClinicUpdateSchema(ClinicSchema):
    """PATCH: any field; a rename is for admins only."""

    id = fields.UUID(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=200))


class UserCreateSchema(StrictSchema):
    id = fields.UUID(metadata={"description": _CLIENT_ID})
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = new_password_field()


class UserSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    is_active = fields.Boolean(dump_only=True)
    clinic_ids = fields.List(fields.UUID(), dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class UserUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    is_active = fields.Boolean(
        metadata={"description": "false disables the user and ends its tokens at once"}
    )


class GrantCreateSchema(StrictSchema):
    researcher_id = fields.UUID(required=True)


class GrantSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    clinic_id = fields.UUID(dump_only=True)
    researcher_id = fields.UUID(dump_only=True)
    granted_by = fields.UUID(dump_only=True)
    granted_at = fields.AwareDateTime(dump_only=True)
    revoked_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    updated_at = fields.AwareDateTime(dump_only=True)
