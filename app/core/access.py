"""Who may do what, in which clinic: the one permission check.

Every route calls ``require(action)`` (or ``get_record`` / ``scoped``, which
call it). Roles are checked against ``PERMISSIONS``; clinic membership is
applied as a query filter on the denormalised ``clinic_id`` column, so a
record of another clinic is simply not found (404, never 403, so its
existence does not leak).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import g, request
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.core import audit
from app.core.errors import Problem

T = TypeVar("T")

CLINICAL = ("admin", "clinic_admin", "clinician", "nurse")

# action -> roles allowed. Researchers see no identifiable data at all.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "clinical:read": CLINICAL,
    "clinical:write": ("admin", "clinician", "nurse"),
    "grade:override": ("admin", "clinician"),
    "record:restore": ("admin",),
    "clinic:create": ("admin",),
    "clinic:settings": ("admin", "clinic_admin"),
    "clinic:read": ("admin", "clinic_admin", "clinician", "nurse", "researcher"),
    "users:manage": ("admin", "clinic_admin"),
    "audit:read": ("admin", "clinic_admin"),
    "grants:manage": ("admin", "clinic_admin"),
    "smart_clients:manage": ("admin", "clinic_admin"),
    "export:create": ("admin", "clinic_admin", "researcher"),
    "self:read": ("admin", "clinic_admin", "clinician", "nurse", "researcher"),
}


# Endpoints anyone may call without a token. Every other /api/ endpoint is
# authenticated before its arguments are parsed (authenticate_request), so a
# caller without a valid token learns nothing but 401, whatever it sends.
PUBLIC_ENDPOINTS = frozenset(
    {
        "health.HealthResource",
        "auth.TokenResource",
        "auth.RefreshResource",
        "auth.RevokeResource",
        "auth.PasswordResetResource",
        "api-docs.openapi_json",
    }
)
PUBLIC_BLUEPRINTS = frozenset({"docs"})


def unauthorized(detail: str = "Send a valid bearer token.") -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="woundtrack"'},
    )


def not_found(record_type: str = "record") -> Problem:
    return Problem(404, "Not Found", f"No such {record_type}, or it is not in your clinics.")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making this request: what every permission check, audit event and
    history version needs of a user, and nothing that could be written back.

    Not the ORM ``User``: a mapped user (with its token and memberships) in
    the request's session is part of every flush and commit of the request,
    which cost more than the insert a bedside create is for. A route that
    changes a user loads it by id.
    """

    id: uuid.UUID
    email: str
    name: str
    role: str
    clinic_ids: tuple[uuid.UUID, ...]  # sorted by their text, as the API lists them

    @classmethod
    def of(cls, user: Any) -> Principal:
        """The principal of a loaded ``User``."""
        return cls(user.id, user.email, user.name, user.role, tuple(user.clinic_ids))


TokenLookup = Callable[[str], "Principal | None"]
_token_lookup: TokenLookup | None = None


def register_token_lookup(lookup: TokenLookup) -> None:
    """Say how a bearer token becomes a Principal. Auth registers its lookup at
    start-up: core is below auth and never imports it."""
    global _token_lookup
    _token_lookup = lookup


def current_user() -> Any:
    """The authenticated Principal of this request, or a 401."""
    if getattr(g, "user", None) is not None:
        return g.user
    if _token_lookup is None:
        raise RuntimeError("No token lookup registered (auth.init_app was not called)")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    user = _token_lookup(token.strip())
    if user is None:
        raise unauthorized("The token is invalid, expired or revoked; sign in again.")
    g.user = user
    return user


def authenticate_request() -> None:
    """before_request: 401 for a protected API route called without a valid token.

    Views still call ``require(action)`` for the role; this only makes sure the
    401 comes first (before body validation could answer 422 or 400).
    """
    if request.method == "OPTIONS" or request.routing_exception is not None:
        return  # preflight, or a 404/405 that routing answers itself
    if not request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
        return
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return
    current_user()


def can(user: Any, action: str) -> bool:
    return user.role in PERMISSIONS[action]


def require(action: str, clinic_id: uuid.UUID | None = None) -> Any:
    """Authenticate, check the role may do ``action``, and (if given) that the
    clinic is one of the caller's. Returns the user."""
    user = current_user()
    if not can(user, action):
        raise Problem(
            403,
            "Forbidden",
            f"Your role ({user.role}) may not do this ({action}).",
        )
    if clinic_id is not None and not in_clinic(user, clinic_id):
        raise not_found("clinic")
    return user


def in_clinic(user: Any, clinic_id: uuid.UUID) -> bool:
    return user.role == "admin" or clinic_id in user.clinic_ids


def clinic_clause(model: Any, user: Any) -> Any:
    """WHERE clause limiting ``model`` rows to the user's clinics."""
    if user.role == "admin":
        return sa.true()
    return model.clinic_id.in_(user.clinic_ids)


def scoped(
    model: Any,
    action: str = "clinical:read",
    *,
    include_deleted: bool = False,
    clinic_id: uuid.UUID | None = None,
) -> Any:
    """A SELECT of ``model`` already limited to the caller's clinics (all of them
    for an admin), after ``require(action, clinic_id)``. The one scope of every
    listing, audit events included (``scoped(AuditEvent, "audit:read")``)."""
    user = require(action, clinic_id)
    stmt = sa.select(model).where(clinic_clause(model, user))
    if not include_deleted and hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    return stmt


_BY_ID: dict[Any, Any] = {}


def _by_id(model: type, columns: tuple[Any, ...] = ()) -> Any:
    """SELECT of one ``model`` row (or of ``columns`` of it) by primary key.
    Built once per model and column set, so its cache key is computed once
    and the compiled statement reused."""
    key = (model, columns)
    stmt = _BY_ID.get(key)
    if stmt is None:
        what = (*columns, model.clinic_id, _deleted_at(model)) if columns else (model,)  # type: ignore[attr-defined]
        stmt = _BY_ID[key] = sa.select(*what).where(model.id == sa.bindparam("record_id"))  # type: ignore[attr-defined]
    return stmt


def _deleted_at(model: Any) -> Any:
    return model.deleted_at if hasattr(model, "deleted_at") else sa.null().label("deleted_at")


def _record_type(model: Any) -> str:
    return str(getattr(model, "__audit_type__", model.__name__.lower()))


def _visible(user: Any, row: Any, include_deleted: bool) -> bool:
    """The rule of ``scoped`` for one loaded row: in the caller's clinics, and
    not deleted unless asked for."""
    return in_clinic(user, row.clinic_id) and (
        include_deleted or getattr(row, "deleted_at", None) is None
    )


def get_record(
    session: Session,
    model: type[T],
    record_id: uuid.UUID,
    action: str = "clinical:read",
    *,
    include_deleted: bool = False,
    audit_read: bool = True,
    for_update: bool = False,
) -> T:
    """Load one record the caller may see, or answer 404; audit the read."""
    obj: Any  # a clinical record: has id and clinic_id
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = scoped(model, action, include_deleted=include_deleted).where(
            model.id == record_id  # type: ignore[attr-defined]
        )
        # populate_existing: a row this request loaded before the lock is read again.
        obj = session.scalars(
            stmt.with_for_update().execution_options(populate_existing=True)
        ).first()
    else:
        # By primary key, then the same rules as ``scoped`` checked on the row:
        # a record this request already loaded costs no query, and the SELECT
        # is built once per model instead of on every call.
        user = require(action)
        obj = session.identity_map.get(identity_key(model, record_id))
        if obj is None or sa.inspect(obj).expired:
            obj = session.scalars(_by_id(model), {"record_id": record_id}).first()
        if obj is not None and not _visible(user, obj, include_deleted):
            obj = None
    record_type = _record_type(model)
    if obj is None:
        raise not_found(record_type.replace("_", " "))
    if audit_read and action == "clinical:read":
        audit.record(session, "read", record_type, record_id, clinic_id=obj.clinic_id)
    return obj  # type: ignore[no-any-return]


def get_columns(
    session: Session,
    model: Any,
    record_id: uuid.UUID,
    columns: tuple[Any, ...],
    action: str = "clinical:read",
) -> Any:
    """``columns`` of one record the caller may see (a Core row, with its
    clinic_id and deleted_at as well), or 404. The rules of ``get_record``
    without building the mapped object, which then sits in every flush and
    commit of the request: for a parent of which a create needs a few facts.
    Not audited (a parent is not a read of its data)."""
    user = require(action)
    row = session.connection().execute(_by_id(model, columns), {"record_id": record_id}).first()
    if row is None or not _visible(user, row, False):
        raise not_found(_record_type(model).replace("_", " "))
    return row


def audit_list(
    session: Session, record_type: str, parent_id: Any = None, clinic_id: Any = None, count: int = 0
) -> None:
    """Record that a list of patient data was read (the parent, not each row)."""
    audit.record(
        session,
        "list",
        record_type,
        parent_id,
        clinic_id=clinic_id,
        details={"count": count},
    )
