"""Fuzz every documented operation as every role, in-process, from the
service's own OpenAPI document (schemathesis 4 strategies driven by hypothesis).

For each role (a member of clinic A, or the system admin) and each operation,
valid and invalid requests are generated; path ids that look like UUIDs (and
ids of another form, a webhook message's) are replaced by real records of
clinic A (tests/core/graph.py creates one of each type through the API), so
bodies reach the services instead of stopping at a 404. PATCH/PUT carry the
record's current ETag, so amendments get past the If-Match check. Every
response must:

- not be a 5xx (no request may produce a server error through bad input);
- have a documented status code, content type and body schema
  (schemathesis' status_code_conformance, content_type_conformance and
  response_schema_conformance).

Bounded for CI: EXAMPLES per operation and role (about 3,800 requests in all,
about a minute on an idle 2-core machine), derandomized
(same cases every run), no shrinking (the failing case is printed as found).
schemathesis' pytest integration does not run on pytest 9, so the strategies are
driven with hypothesis directly (as tests/core/test_fuzz.py does).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.core.graph import STEPS, RecordGraph, Unavailable, table_of
from tests.core.routes import Operation

# The record graph registers a webhook; it must stay off the network.
pytestmark = pytest.mark.usefixtures("local_webhooks")

# Every date-time the fuzzer sends is an ordinary time with an offset or one
# of the calendar's ends that has no instant in UTC (year 1 east of Greenwich,
# year 9999 west of it): every datetime parameter of every route must refuse
# those with a 4xx naming the field, never a 500.
CALENDAR_EDGES = ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00")
schemathesis.openapi.format(
    "date-time",
    st.one_of(
        st.sampled_from(CALENDAR_EDGES),
        st.datetimes(
            min_value=datetime(2020, 1, 1),
            max_value=datetime(2030, 12, 31),
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
            ),
        ).map(datetime.isoformat),
    ),
)

# A tus PATCH body (app/sync/upload_routes.py) is raw bytes under the
# protocol's own media type: sent as schemathesis sends octet streams.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

# Examples per operation for each role: most for the roles that write most of
# the clinical records (their bodies reach the services); the roles that are
# refused most routes need few. FUZZ_SCALE=5 for a deep local run.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
EXAMPLES = {"nurse": 15, "clinician": 8, "admin": 8, "clinic_admin": 4, "researcher": 4}
ROLES = tuple(EXAMPLES)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def no_rate_limit():
    """The fuzzer signs in hundreds of times; the limits have their own tests."""
    from app.extensions import limiter

    limiter.enabled = False
    yield
    limiter.enabled = True


@pytest.fixture
def actors(admin, clinic_admin, clinician, nurse, researcher) -> dict[str, Any]:
    return {
        "admin": admin,
        "clinic_admin": clinic_admin,
        "clinician": clinician,
        "nurse": nurse,
        "researcher": researcher,
    }


def _real_ids(clinic: uuid.UUID, actors: dict[str, Any], documented: set) -> dict[str, str]:
    graph = RecordGraph(clinic, actors, documented)
    ids = {"clinics": str(clinic)}
    for table in STEPS:
        # A record type without a create route yet keeps random ids.
        with contextlib.suppress(Unavailable):
            ids[table] = graph.id_of(table)
    return ids


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _etag_url(path: str) -> str | None:
    """The single-record GET whose ETag a PATCH/PUT on ``path`` needs."""
    return path.rsplit("/", 1)[0] if path.endswith(("/calibration", "/tracing")) else path


def _fuzz(operation: Any, role: str, actors: dict[str, Any], ids: dict[str, str]) -> None:
    """Run the generated cases of one operation as ``role``; raise on the first failure."""
    spec_op = Operation(operation.method.lower(), operation.path, {})
    real = {p: ids.get(table_of(spec_op, p)) for p in spec_op.params}
    actor = actors[role]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=max(1, round(EXAMPLES[role] * SCALE)),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        for name, value in (case.path_parameters or {}).items():
            # A generated UUID becomes the real record's; an id that is no UUID
            # (a webhook message's msg_...) is always the real one, or no
            # generated string would ever name a record.
            if real.get(name) and (_is_uuid(value) or not _is_uuid(real[name])):
                case.path_parameters[name] = real[name]
        headers = dict(actor.headers)
        # POST .../calibration detects the marker again: an amendment too.
        amends = case.method in ("PATCH", "PUT") or case.path.endswith("/calibration")
        if amends and all(real.values()):
            # The current ETag, so amendments get past If-Match to the services.
            url = _etag_url(spec_op.url(**case.path_parameters))
            etag = actors["admin"].get(url).headers.get("ETag")
            if etag:
                headers["If-Match"] = etag
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as exc:
            raise AssertionError(
                f"{case.method} {case.formatted_path} as {role}: body={case.body!r} "
                f"query={case.query!r} -> {response.status_code} {response.text[:300]}\n{exc}"
            ) from None

    check()


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_as_every_role(app, clinic, actors, no_rate_limit, role):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {(op.method.lower(), op.path) for op in operations}
    ids = _real_ids(clinic, actors, documented)
    failures: list[str] = []
    for operation in operations:
        try:
            _fuzz(operation, role, actors, ids)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis: FailureGroup
            failures.append(f"{operation.method.upper()} {operation.path} as {role}: {exc}"[:2000])

    assert len(operations) >= 90, f"only {len(operations)} operations documented"
    if failures:
        report = "\n\n".join(failures)
        pytest.fail(f"{len(failures)} operations failed:\n\n{report}", pytrace=False)
