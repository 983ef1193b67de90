"""OpenID Connect for SMART's ``openid fhirUser`` scopes: an id token (RS256)
naming the signed-in user, with ``fhirUser`` the URL of their Practitioner
resource (GET /fhir/R4/Practitioner/<user id>).

The signing key is ``SMART_ID_TOKEN_KEY`` (an RSA private key, PEM). Without
it each process makes its own at start-up, which suits one process (a laptop,
the tests); several workers need the one key, or a token signed by one fails
against the key set another publishes.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, current_app, request
from joserfc.jwk import RSAKey

from app.extensions import db
from app.fhir.models import SmartAuthorizationCode

log = logging.getLogger(__name__)
ALG = "RS256"


def init_app(app: Flask) -> None:
    pem = app.config.get("SMART_ID_TOKEN_KEY")
    app.extensions["smart_id_token_key"] = RSAKey.import_key(pem) if pem else None


def _key() -> RSAKey:
    """The signing key; made on first use when none is configured (an RSA key
    costs a fraction of a second, which a start-up without SMART need not pay)."""
    key = current_app.extensions.get("smart_id_token_key")
    if key is None:
        log.warning("SMART_ID_TOKEN_KEY is not set: id tokens use a key of this process")
        key = current_app.extensions["smart_id_token_key"] = RSAKey.generate_key(2048)
    return key  # type: ignore[no-any-return]


def issuer() -> str:
    return request.url_root.rstrip("/") + "/fhir/R4"


def jwks() -> dict[str, Any]:
    """The public key set apps verify id tokens with."""
    key = _key()
    public = key.as_dict(private=False)
    return {"keys": [{**public, "kid": key.thumbprint(), "use": "sig", "alg": ALG}]}


class SmartOpenIDCode(OpenIDCode):
    """Authlib's OpenID Connect code-flow extension with this server's key,
    issuer and claims; the nonce, when the app sends one, is kept on the code."""

    def resolve_client_private_key(self, client: Any) -> RSAKey:
        return _key()

    def get_client_algorithm(self, client: Any) -> str:
        return ALG

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": ALG, "kid": _key().thumbprint()}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        return {"iss": issuer(), "aud": [client.get_client_id()]}

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        used = db.session.scalar(
            sa.select(SmartAuthorizationCode.id).where(
                SmartAuthorizationCode.client_id == request.payload.client_id,
                SmartAuthorizationCode.nonce == nonce,
            )
        )
        return used is not None

    def generate_user_info(self, user: Any, scope: str) -> UserInfo:
        info = UserInfo(sub=str(user.id), name=user.name)
        if "fhirUser" in scope.split():
            info["fhirUser"] = f"{issuer()}/Practitioner/{user.id}"
        return info
