from marshmallow import fields, validate

from app.core.schemas import ListArgsSchema, RecordSchema, StrictSchema
from app.patients.models import SEXES


class PatientSchema(RecordSchema):
    clinic_id = fields.UUID(
        metadata={
            "description": "Required on create only when the caller belongs to several clinics"
        }
    )
    mrn = fields.String(required=True, validate=validate.Length(min=1, max=64))
    given_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    family_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    birth_date = fields.Date(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))


class PatientUpdateSchema(StrictSchema):
    mrn = fields.String(validate=validate.Length(min=1, max=64))
    given_name = fields.String(validate=validate.Length(min=1, max=100))
    family_name = fields.String(validate=validate.Length(min=1, max=100))
    birth_date = fields.Date()
    sex = fields.String(validate=validate.OneOf(SEXES))


class PatientListArgsSchema(ListArgsSchema):
    mrn = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "Exact MRN"}
    )
    clinic_id = fields.UUID()
