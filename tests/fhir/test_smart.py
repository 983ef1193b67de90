"""SMART App Launch end to end over real HTTP (requests against a live
server): app registration, sign-in and consent on the clinic pages,
authorization code with PKCE S256, the token, and what the token may read."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.factories import PASSWORD
from tests.fhir.conftest import FHIR
from tests.summaries import helpers as h
from tests.web.conftest import email_of, page_problems

REDIRECT = "http://127.0.0.1:9/callback"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _Http:
    """requests with a timeout on every call: a hung server fails the test, not the run."""

    def get(self, url, **kw):
        return requests.get(url, timeout=30, **kw)

    def post(self, url, **kw):
        return requests.post(url, timeout=30, **kw)


http = _Http()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def _register(actor, scope="patient/*.read launch/patient", **extra) -> dict:
    r = actor.post(
        "/api/v1/smart-clients",
        json={"name": "Wound viewer", "redirect_uris": [REDIRECT], "scope": scope, **extra},
    )
    assert r.status_code == 201, r.json
    return r.json


def _authorize_url(base, client_id, scope, challenge, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s-123",
        "aud": f"{base}{FHIR}",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{base}/web/smart/authorize?{urlencode(params)}"


def _sign_in_and_consent(base, url, email, decision="allow", mrn=None) -> requests.Response:
    """Open the authorize URL signed out, sign in on the page it sends to,
    and answer the consent page. Returns the consent POST's answer."""
    s = requests.Session()
    page = s.get(url)
    assert "/web/sign-in" in page.url and page.status_code == 200
    query = parse_qs(urlsplit(page.url).query)
    signed = s.post(
        f"{base}/web/sign-in",
        data={
            "email": email,
            "password": PASSWORD,
            "csrf_token": _CSRF.search(page.text).group(1),
            "next": query["next"][0],
        },
    )
    assert signed.status_code == 200 and "Allow Wound viewer?" in signed.text, signed.text[:400]
    assert page_problems(signed.text) == []
    form = {"csrf_token": _CSRF.search(signed.text).group(1), "decision": decision}
    if mrn is not None:
        form["mrn"] = mrn
    return s.post(url, data=form, allow_redirects=False)


def _token(base, client_id, code, verifier) -> requests.Response:
    return http.post(
        f"{base}{FHIR}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )


def test_smart_flow_with_pkce_reads_only_the_chosen_patient(
    live_server, app, record, nurse, clinic_admin, clinic
):
    other = h.patient(app, clinic, mrn="FHIR-0002")
    base = live_server
    scope = "patient/*.read launch/patient openid fhirUser"
    client = _register(clinic_admin, scope=scope, clinic_id=str(clinic))
    assert "client_secret" not in client and client["confidential"] is False
    verifier, challenge = _pkce()
    url = _authorize_url(base, client["client_id"], scope, challenge, nonce="n-42")
    answer = _sign_in_and_consent(base, url, email_of(app, nurse.user_id), mrn="FHIR-0001")
    assert answer.status_code == 302, answer.text[:400]
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT
    params = parse_qs(back.query)
    assert params["state"] == ["s-123"]
    code = params["code"][0]

    wrong = _token(base, client["client_id"], code, _pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = _token(base, client["client_id"], code, "")
    assert missing.status_code == 400

    issued = _token(base, client["client_id"], code, verifier)
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert token["token_type"].lower() == "bearer" and token["patient"] == str(record.patient_id)
    assert set(token["scope"].split()) == set(scope.split())
    again = _token(base, client["client_id"], code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    patients = http.get(f"{base}{FHIR}/Patient", headers=bearer).json()
    assert [e["resource"]["id"] for e in patients["entry"]] == [str(record.patient_id)]
    assert http.get(f"{base}{FHIR}/Patient/{other}", headers=bearer).status_code == 404
    obs = http.get(f"{base}{FHIR}/Observation?_summary=count", headers=bearer).json()
    assert obs["total"] == 13
    # Read-only FHIR: the REST API does not take it.
    assert http.get(f"{base}/api/v1/patients", headers=bearer).status_code == 401
    _check_id_token(base, token, client["client_id"], nurse, bearer)


def _check_id_token(base, token, client_id, user, bearer):
    """OpenID Connect: the id token verifies with the published key set and
    names the user, whose Practitioner the fhirUser URL reads."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    from tests.fhir.conftest import validate

    keys = KeySet.import_key_set(http.get(f"{base}{FHIR}/.well-known/jwks.json").json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["iss"] == f"{base}{FHIR}" and claims["aud"] == [client_id]
    assert claims["nonce"] == "n-42" and claims["sub"] == str(user.user_id)
    assert claims["fhirUser"] == f"{base}{FHIR}/Practitioner/{user.user_id}"
    me = http.get(claims["fhirUser"], headers=bearer)
    assert me.status_code == 200 and validate(me.json()).id == str(user.user_id)
    other = http.get(f"{base}{FHIR}/Practitioner/{uuid.uuid4()}", headers=bearer)
    assert other.status_code == 404


def test_user_scope_reads_the_clinic_and_deny_redirects_with_an_error(
    live_server, app, record, clinician, admin, clinic
):
    other = h.patient(app, clinic, mrn="FHIR-0002")
    base = live_server
    client = _register(admin, scope="user/*.read", confidential=True)
    assert client["client_secret"]
    verifier, challenge = _pkce()
    url = _authorize_url(base, client["client_id"], "user/*.read", challenge)
    email = email_of(app, clinician.user_id)
    denied = _sign_in_and_consent(base, url, email, decision="deny")
    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]

    answer = _sign_in_and_consent(base, url, email)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    no_secret = _token(base, client["client_id"], code, verifier)
    assert no_secret.status_code in (400, 401)
    issued = http.post(
        f"{base}{FHIR}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
    )
    assert issued.status_code == 200, issued.text
    assert "patient" not in issued.json() and "id_token" not in issued.json()
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    patients = http.get(f"{base}{FHIR}/Patient", headers=bearer).json()
    assert {e["resource"]["id"] for e in patients["entry"]} == {str(record.patient_id), str(other)}

    revoked = admin.post(f"/api/v1/smart-clients/{client['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert http.get(f"{base}{FHIR}/Patient", headers=bearer).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge": ""},
        {"redirect_uri": "http://127.0.0.1:9/elsewhere"},
        {"client_id": "unknown"},
    ],
)
def test_authorize_refuses_requests_without_s256_or_a_registered_redirect(
    live_server, app, nurse, admin, change
):
    change = dict(change)
    base = live_server
    client = _register(admin)
    client_id = change.pop("client_id", client["client_id"])
    url = _authorize_url(base, client_id, "patient/*.read", _pkce()[1], **change)
    s = requests.Session()
    page = s.get(url)
    signed = s.post(
        f"{base}/web/sign-in",
        data={
            "email": email_of(app, nurse.user_id),
            "password": PASSWORD,
            "csrf_token": _CSRF.search(page.text).group(1),
            "next": parse_qs(urlsplit(page.url).query)["next"][0],
        },
        allow_redirects=True,
    )
    assert signed.status_code == 400 and "App request refused" in signed.text
    assert "code=" not in signed.url


def test_registration_rules(clinic_admin, nurse, clinic, other_clinic, app):
    body = {"name": "x", "redirect_uris": [REDIRECT], "clinic_id": str(clinic)}
    assert nurse.post("/api/v1/smart-clients", json=body).status_code == 403
    assert nurse.get("/api/v1/smart-clients").status_code == 403
    r = clinic_admin.post("/api/v1/smart-clients", json={"name": "x", "redirect_uris": [REDIRECT]})
    assert r.status_code == 422 and "clinic_id" in r.json["errors"]
    r = clinic_admin.post(
        "/api/v1/smart-clients",
        json={"name": "x", "redirect_uris": [REDIRECT], "clinic_id": str(other_clinic)},
    )
    assert r.status_code == 404
    for bad in (
        {"redirect_uris": ["http://apps.example/cb"]},
        {"scope": "patient/*.write"},
    ):
        body = {"name": "x", "redirect_uris": [REDIRECT], "clinic_id": str(clinic), **bad}
        r = clinic_admin.post("/api/v1/smart-clients", json=body)
        assert r.status_code == 422, bad
    _register(clinic_admin, clinic_id=str(clinic))
    listed = clinic_admin.get("/api/v1/smart-clients").json["items"]
    assert [c["name"] for c in listed] == ["Wound viewer"]


def test_cli_registers_a_client(app):
    result = app.test_cli_runner().invoke(
        args=[
            "smart-client",
            "create",
            "--name",
            "EHR",
            "--redirect-uri",
            REDIRECT,
            "--confidential",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "client_id:" in result.output and "client_secret:" in result.output
    bad = app.test_cli_runner().invoke(
        args=["smart-client", "create", "--name", "EHR", "--redirect-uri", "http://x.example/cb"]
    )
    assert bad.exit_code != 0


def test_consent_needs_a_patient_of_the_users_clinics(live_server, app, record, admin, outsider):
    base = live_server
    client = _register(admin)
    url = _authorize_url(base, client["client_id"], "patient/*.read", _pkce()[1])
    unknown = _sign_in_and_consent(base, url, email_of(app, outsider.user_id), mrn="FHIR-0001")
    assert unknown.status_code == 400 and "No patient with this MRN" in unknown.text
    assert page_problems(unknown.text) == []


def test_researchers_cannot_consent(live_server, app, admin, researcher):
    base = live_server
    client = _register(admin)
    url = _authorize_url(base, client["client_id"], "patient/*.read", _pkce()[1])
    s = requests.Session()
    page = s.get(url)
    answer = s.post(
        f"{base}/web/sign-in",
        data={
            "email": email_of(app, researcher.user_id),
            "password": PASSWORD,
            "csrf_token": _CSRF.search(page.text).group(1),
            "next": parse_qs(urlsplit(page.url).query)["next"][0],
        },
    )
    assert answer.status_code == 403 and "Allow" not in answer.text
