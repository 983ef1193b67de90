"""Test data builders and an HTTP helper that acts as a signed-in user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

PASSWORD = "correct horse battery staple"
_HASH: str | None = None


def _password_hash() -> str:
    # argon2id at production cost is slow on purpose; hash once per run.
    global _HASH
    if _HASH is None:
        from app.auth.services import hash_password

        _HASH = hash_password(PASSWORD)
    return _HASH


@dataclass
class Actor:
    """A signed-in user: ``actor.get(url)`` etc. send its bearer token."""

    app: Any
    user_id: uuid.UUID
    email: str
    role: str
    token: str
    clinic_id: uuid.UUID | None
    client: Any = field(default=None)

    def __post_init__(self) -> None:
        self.client = self.app.test_client()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        return self.client.open(
            url, method=method, headers={**self.headers, **(headers or {})}, **kw
        )

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, *, etag: str | None = None, **kw: Any) -> Any:
        headers = kw.pop("headers", {}) or {}
        if etag:
            headers["If-Match"] = etag
        return self.request("PATCH", url, headers=headers, **kw)

    def delete(self, url: str, *, etag: str | None = None, **kw: Any) -> Any:
        headers = kw.pop("headers", {}) or {}
        if etag:
            headers["If-Match"] = etag
        return self.request("DELETE", url, headers=headers, **kw)


class Factory:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._n = 0

    def _seq(self) -> int:
        self._n += 1
        return self._n

    def clinic(self, name: str | None = None) -> uuid.UUID:
        from app.clinics.models import Clinic
        from app.extensions import db

        with self.app.app_context():
            c = Clinic(name=name or f"Clinic {uuid.uuid4().hex[:8]}")
            db.session.add(c)
            db.session.commit()
            return c.id

    def user(self, role: str, clinic_id: uuid.UUID | None, email: str | None = None) -> uuid.UUID:
        from app.auth.models import ClinicMembership, User
        from app.extensions import db

        with self.app.app_context():
            u = User(
                email=email or f"{role}{self._seq()}-{uuid.uuid4().hex[:6]}@example.org",
                name=f"Test {role.replace('_', ' ').title()}",
                role=role,
                password_hash=_password_hash(),
            )
            db.session.add(u)
            db.session.flush()
            if clinic_id is not None:
                db.session.add(ClinicMembership(user_id=u.id, clinic_id=clinic_id))
            db.session.commit()
            return u.id

    def token_for(self, user_id: uuid.UUID) -> str:
        from app.auth.models import User
        from app.auth.services import issue_pair
        from app.extensions import db

        with self.app.test_request_context():
            pair = issue_pair(db.session, db.session.get(User, user_id))
            db.session.commit()
            return pair.access_token

    def actor(self, role: str, clinic_id: uuid.UUID | None) -> Actor:
        from app.auth.models import User
        from app.extensions import db

        user_id = self.user(role, clinic_id)
        with self.app.app_context():
            email = db.session.get(User, user_id).email
        return Actor(self.app, user_id, email, role, self.token_for(user_id), clinic_id)

    def add_membership(self, user_id: uuid.UUID, clinic_id: uuid.UUID) -> None:
        from app.auth.models import ClinicMembership
        from app.extensions import db

        with self.app.app_context():
            db.session.add(ClinicMembership(user_id=user_id, clinic_id=clinic_id))
            db.session.commit()


def patient_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "mrn": f"MRN-{uuid.uuid4().hex[:8]}",
        "given_name": "Testa",
        "family_name": "Fictitious",
        "birth_date": "1938-03-14",
        "sex": "female",
    }
    body.update(overrides)
    return body
