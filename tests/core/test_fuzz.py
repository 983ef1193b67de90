"""Fuzz the auth and admin endpoints from their own OpenAPI document
(schemathesis strategies, in-process over WSGI): bad input is always a 4xx,
never a 5xx.

schemathesis' pytest integration (from_fixture/parametrize) does not run on
pytest 9, so each operation's strategy is driven with hypothesis directly.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

# Webhooks created here must stay off the network.
pytestmark = pytest.mark.usefixtures("local_webhooks")

OPERATIONS = [
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/revoke"),
    ("POST", "/api/v1/auth/password"),
    ("POST", "/api/v1/auth/password-reset"),
    ("GET", "/api/v1/clinics"),
    ("POST", "/api/v1/clinics"),
    ("GET", "/api/v1/clinics/{clinic_id}/users"),
    ("POST", "/api/v1/clinics/{clinic_id}/users"),
    ("GET", "/api/v1/users/{user_id}"),
    ("PATCH", "/api/v1/users/{user_id}"),
    ("POST", "/api/v1/users/{user_id}/password-reset"),
    ("GET", "/api/v1/clinics/{clinic_id}/research-grants"),
    ("POST", "/api/v1/clinics/{clinic_id}/research-grants"),
    ("DELETE", "/api/v1/research-grants/{grant_id}"),
    ("GET", "/api/v1/clinics/{clinic_id}/webhooks"),
    ("POST", "/api/v1/clinics/{clinic_id}/webhooks"),
    ("PUT", "/api/v1/clinics/{clinic_id}/alert-digest"),
    ("DELETE", "/api/v1/clinics/{clinic_id}/alert-digest"),
]


@pytest.fixture
def no_rate_limit():
    """The fuzzer signs in hundreds of times; the limits have their own tests."""
    from app.extensions import limiter

    limiter.enabled = False
    yield
    limiter.enabled = True


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors(app, admin, factory, clinic, no_rate_limit, method, path):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    headers = {"Authorization": f"Bearer {admin.token}"}
    # Real ids in the path, so the bodies reach the services (random ids are a
    # 404 before any body matters; tests/core/test_isolation.py covers those).
    researcher = factory.user("researcher", clinic)
    grant = admin.post(
        f"/api/v1/clinics/{clinic}/research-grants", json={"researcher_id": str(researcher)}
    ).json["id"]
    ids = {
        "clinic_id": str(clinic),
        "user_id": str(factory.user("nurse", clinic)),
        "grant_id": grant,
    }

    # Valid and invalid inputs alike (wrong types, missing fields, bad formats).
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case) -> None:
        if case.path_parameters and all(k in ids for k in case.path_parameters):
            case.path_parameters = {k: ids[k] for k in case.path_parameters}
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} body={case.body!r} -> "
            f"{response.status_code}: {response.text[:300]}"
        )

    check()
