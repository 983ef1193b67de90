"""The FHIR R4 read API at /fhir/R4: capability statement, SMART
configuration and token endpoint, read and search.

Not part of the REST API's OpenAPI document: a FHIR server describes itself
with its CapabilityStatement (GET /fhir/R4/metadata). Every answer is
application/fhir+json; every error an OperationOutcome.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, json, request, url_for
from werkzeug.exceptions import HTTPException

from app.core import access
from app.core.errors import Problem
from app.extensions import db
from app.fhir import capability, oauth, openid, services
from app.fhir import resources as r
from app.fhir import search as fs
from app.fhir.registry import BY_TYPE
from app.photos.models import Photo

FHIR_JSON = "application/fhir+json"
bp = Blueprint("fhir", __name__, url_prefix="/fhir/R4")

PUBLIC = frozenset({"fhir.metadata", "fhir.smart_configuration", "fhir.jwks", "fhir.token"})


def base_url() -> str:
    return request.url_root.rstrip("/") + bp.url_prefix  # type: ignore[operator]


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(body), status=status, mimetype=FHIR_JSON, headers=headers)


class FhirError(Exception):
    def __init__(self, status: int, code: str, text: str, headers: dict[str, str] | None = None):
        super().__init__(text)
        self.status, self.code, self.text, self.headers = status, code, text, headers or {}


_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 429: "throttled"}


@bp.errorhandler(FhirError)
def _fhir_error(error: FhirError) -> Response:
    outcome = r.operation_outcome("error", error.code, error.text)
    return fhir_response(outcome, error.status, **error.headers)


@bp.errorhandler(Problem)
def _problem(error: Problem) -> Response:
    status = 400 if error.status == 422 else error.status
    text = error.detail or error.title
    outcome = r.operation_outcome("error", _CODES.get(status, "processing"), text)
    return fhir_response(outcome, status, **error.headers)


@bp.errorhandler(HTTPException)
def _http(error: HTTPException) -> Response:
    status = error.code or 500
    text = error.description or error.name
    return fhir_response(
        r.operation_outcome("error", _CODES.get(status, "processing"), text), status
    )


@bp.before_request
def _authenticate() -> None:
    """A bearer token of the API, or a SMART token with a read scope; then the
    API's role rule (researchers may not read identifiable records)."""
    if request.endpoint in PUBLIC or request.routing_exception is not None:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    g.fhir_patient_id = None
    if scheme.lower() == "bearer" and raw.strip():
        found = oauth.principal_for_token(raw.strip())
        if found is not None:
            g.user, grant = found
            if not grant.reads_fhir:
                raise FhirError(403, "forbidden", "This token has no FHIR read scope.")
            g.fhir_patient_id = grant.patient_id
    access.require("clinical:read")


# ----------------------------------------------------------------- discovery


@bp.get("/metadata")
def metadata() -> Response:
    return fhir_response(capability.statement(base_url(), _authorize_url()))


def _authorize_url() -> str:
    return request.url_root.rstrip("/") + url_for("web.smart_authorize")


@bp.get("/.well-known/smart-configuration")
def smart_configuration() -> Response:
    body = oauth.smart_configuration(base_url(), _authorize_url())
    return Response(json.dumps(body), mimetype="application/json")


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public key of the id tokens (OpenID Connect, ``openid`` scope)."""
    return Response(json.dumps(openid.jwks()), mimetype="application/json")


@bp.post("/auth/token")
def token() -> Response:
    """The OAuth 2.0 token endpoint (authorization code + PKCE verifier)."""
    response: Response = oauth.server.create_token_response()
    return response


# ------------------------------------------------------------ read and search


def _bundle(resource_type: str, query: fs.Query, page: services.Page) -> dict[str, Any]:
    url = f"{base_url()}/{resource_type}"
    applied = urlencode(query.params)
    links = [{"relation": "self", "url": f"{url}?{applied}" if applied else url}]
    if page.next_cursor:
        after = urlencode([*query.params, ("_cursor", page.next_cursor)])
        links.append({"relation": "next", "url": f"{url}?{after}"})
    out: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
    }
    if not query.summary_count:
        out["entry"] = [
            {
                "fullUrl": f"{base_url()}/{res['resourceType']}/{res['id']}",
                "resource": res,
                "search": {"mode": "match"},
            }
            for res in page.resources
        ]
    return out


def _strict() -> bool:
    prefer = request.headers.get("Prefer", "").replace(" ", "").lower()
    return "handling=strict" in prefer.split(";") or "handling=strict" in prefer.split(",")


def _known_type(resource_type: str) -> None:
    if resource_type not in BY_TYPE:
        raise FhirError(
            404, "not-supported", f"This server does not serve {resource_type} resources."
        )


@bp.get("/<resource_type>")
def search_type(resource_type: str) -> Response:
    _known_type(resource_type)
    try:
        query = fs.parse(resource_type, request.args, _strict())
        page = services.search(db.session, resource_type, query)
    except fs.SearchError as exc:
        raise FhirError(400, "invalid", str(exc)) from exc
    return fhir_response(_bundle(resource_type, query, page))


@bp.get("/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    _known_type(resource_type)
    resource = services.read(db.session, resource_type, resource_id)
    if resource is None:
        raise FhirError(
            404, "not-found", f"No {resource_type}/{resource_id}, or it is not in your clinics."
        )
    return fhir_response(resource, ETag=f'W/"{resource["meta"]["versionId"]}"')


@bp.get("/Practitioner/<practitioner_id>")
def practitioner(practitioner_id: str) -> Response:
    """The signed-in user, as the id token's ``fhirUser`` names them. Only
    one's own: staff records are not part of the wound record."""
    if practitioner_id != str(g.user.id):
        raise FhirError(404, "not-found", f"No Practitioner/{practitioner_id} for you to read.")
    return fhir_response(r.practitioner(g.user))


@bp.get("/Binary/<binary_id>")
def binary(binary_id: str) -> Response:
    """A photo's bytes: the JPEG itself, or a Binary resource (base64) when the
    client asks for JSON. Same rules as the photo's Media, read audited."""
    from app.photos import serving

    photo_id, _, size = binary_id.rpartition("-")
    if size not in r.PHOTO_SIZES or services.read(db.session, "Media", photo_id) is None:
        raise FhirError(404, "not-found", f"No Binary/{binary_id}, or it is not in your clinics.")
    photo = db.session.get(Photo, uuid.UUID(photo_id))
    response: Response = serving.content_response(photo, size, if_none_match=request.if_none_match)
    if "json" not in request.headers.get("Accept", "") or response.status_code != 200:
        return response
    response.direct_passthrough = False
    data = base64.b64encode(response.get_data()).decode()
    response.close()
    return fhir_response(r.binary(photo, size, data))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unsupported(rest: str) -> Response:
    raise FhirError(404, "not-supported", "This FHIR server is read-only: read and search.")
