"""The CapabilityStatement (GET /fhir/R4/metadata): exactly what this server
does, built from the same tables the search uses, so it cannot claim a
parameter the server does not apply."""

from __future__ import annotations

from typing import Any

from app.fhir.search import COMMON, PARAMS

_TYPES = {
    "_count": "number",
    "_lastUpdated": "date",
    "_summary": "token",
    "identifier": "token",
    "name": "string",
    "patient": "reference",
    "clinical-status": "token",
    "code": "token",
    "date": "date",
    "category": "token",
}
_DOCS = {
    "_count": "Page size (at most 200); the next page is the Bundle's next link.",
    "_lastUpdated": "When the record last changed (eq, ne, gt, lt, ge, le).",
    "_summary": "Only 'count' is supported: the total, without entries.",
    "identifier": "MRN, optionally system|value with the clinic's MRN system.",
    "name": "Family or given name, starting with the value (case-insensitive).",
    "patient": "Patient/<id> or <id>.",
    "clinical-status": "active, recurrence or resolved.",
    "code": "system|code, |code or code; comma-separated values are alternatives.",
    "date": "Effective time (eq, ne, gt, lt, ge, le; YYYY to a full dateTime).",
    "category": "exam, survey or laboratory.",
}
SMART_EXT = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def _resource(resource_type: str) -> dict[str, Any]:
    interactions = [{"code": "read"}, {"code": "search-type"}]
    params = [*PARAMS[resource_type], *COMMON]
    return {
        "type": resource_type,
        "interaction": interactions,
        "versioning": "no-version",
        "readHistory": False,
        "searchParam": [
            {"name": name, "type": _TYPES[name], "documentation": _DOCS[name]} for name in params
        ],
    }


def statement(base: str, authorize_url: str, software_version: str = "1") -> dict[str, Any]:
    resources = [_resource(t) for t in PARAMS]
    resources.append({"type": "Binary", "interaction": [{"code": "read"}]})
    resources.append(
        {
            "type": "Practitioner",
            "interaction": [{"code": "read"}],
            "documentation": "Only the caller's own (the id token's fhirUser).",
        }
    )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-06",
        "kind": "instance",
        "software": {"name": "WoundTrack", "version": software_version},
        "implementation": {"description": "WoundTrack FHIR R4 read API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": SMART_EXT,
                            "extension": [
                                {"url": "authorize", "valueUri": authorize_url},
                                {"url": "token", "valueUri": f"{base}/auth/token"},
                            ],
                        }
                    ],
                    "description": "Bearer tokens: the API's own (POST /api/v1/auth/token), or"
                    " SMART App Launch (authorization code with PKCE S256).",
                },
                "resource": resources,
            }
        ],
    }
