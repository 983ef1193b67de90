"""The generic record resource: what a declaration is checked for at import.

The routes it registers are exercised through every domain's API tests and
the generic isolation and hardening tests; these cover the declaration itself.
"""

from __future__ import annotations

import pytest
from flask_smorest import Blueprint

from app.assessments.models import Assessment
from app.core.resource import RecordType, register_record
from app.patients import services
from app.patients.models import Patient
from app.patients.schemas import PatientSchema, PatientUpdateSchema


def _patient(**overrides):
    fields = {
        "name": "Patient",
        "path": "/patients/<uuid:patient_id>",
        "model": Patient,
        "schema": PatientSchema,
        "update_schema": PatientUpdateSchema,
        "update": services.update_patient,
        "delete": services.delete_patient,
        **overrides,
    }
    return RecordType(**fields)


def test_a_second_declaration_of_the_same_endpoints_is_refused():
    blp = Blueprint("resource_clash", __name__)
    register_record(blp, _patient())
    with pytest.raises(ValueError, match="PatientResource"):
        register_record(blp, _patient(path="/people/<uuid:patient_id>"))


def test_the_record_id_is_the_last_variable_of_the_path():
    assert _patient().id_arg == "patient_id"
    with pytest.raises(ValueError, match="must end in the record's id"):
        _ = _patient(path="/patients/<uuid:patient_id>/card").id_arg


def test_docs_and_responses_name_known_operations_only():
    with pytest.raises(ValueError, match="unknown operations"):
        _patient(docs={"put": "Replace a patient."})
    with pytest.raises(ValueError, match="unknown operations"):
        _patient(responses={"list": {409: "Conflict"}})


def test_default_docs_read_as_english_and_declared_ones_win():
    record = _patient(model=Assessment, docs={"get": "One assessment, with its grades."})
    assert record.doc("patch").startswith("Amend an assessment (If-Match required).")
    assert record.doc("delete").startswith("Mark an assessment deleted")
    assert record.doc("get") == "One assessment, with its grades."
    assert _patient(noun="person").doc("history").startswith("Every version of the person")
