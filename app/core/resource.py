"""The item routes every clinical record shares, declared once per record type.

A domain describes a record type with a ``RecordType`` (its model, read and
amend schemas, and the services that amend and delete it) and calls
``register_record(blp, record_type)``. That adds to the domain's blueprint:

- ``GET    {path}``          one record, with its ETag;
- ``PATCH  {path}``          amend it (If-Match: 428 missing, 412 stale);
- ``DELETE {path}``          soft-delete it (If-Match);
- ``GET    {path}/history``  every version of it;
- ``POST   {path}/restore``  undo a delete (admin).

with the same permission checks, read audit, ETags and OpenAPI detail as the
view classes each domain used to write out. Collections (list + create) stay in
the domains: their parents, filters and create rules differ too much to share.

The endpoints keep the names the written-out classes had (``{name}Resource``,
``{name}HistoryResource``, ``{name}RestoreResource``), so ``url_for`` and
request.endpoint checks are unaffected.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from sqlalchemy.orm import Session

from app.core import records
from app.core.access import get_record
from app.core.db import app_db
from app.core.etags import etag_header
from app.core.schemas import HistorySchema

SchemaArg = type[Schema] | Schema
Update = Callable[[Session, Any, dict[str, Any]], Any]
Delete = Callable[[Session, Any], Any]
Restore = Callable[[Session, uuid.UUID], Any]
Present = Callable[[Session, Any], Any]
View = Callable[..., Any]

STALE = "Stale If-Match; the current record is in `current`"
MISSING = "If-Match missing"
NOT_DELETED = "The record is not deleted"

OPERATIONS = ("get", "patch", "delete", "history", "restore")


@dataclass(frozen=True)
class RecordType:
    """How one record type's item routes behave and are documented.

    Required: ``name`` (the endpoint stem, e.g. "Patient"), ``path`` (the item
    rule, e.g. "/patients/<uuid:patient_id>"), ``model``, ``schema`` (read),
    ``update_schema`` (the PATCH body) and the domain's ``update`` and
    ``delete`` services (each checks If-Match and flushes, as records.amend and
    records.soft_delete do).

    Hooks, each optional:
    - ``restore(session, id)``: a restore with rules of its own (default
      records.restore, which needs the record:restore permission);
    - ``present(session, record)``: completes a record loaded by GET or
      restore before it is returned (e.g. a count the schema shows);
    - ``read_action`` / ``write_action``: the permission actions of GET and
      history / of PATCH and DELETE;
    - ``lock_on_update``: load the record FOR UPDATE before a PATCH, when its
      rules read rows a concurrent write could change;
    - ``docs``: summary/description per operation ("get", "patch", "delete",
      "history", "restore"), replacing the defaults built from ``noun``;
    - ``responses``: extra documented responses per operation, e.g.
      ``{"restore": {409: "Now outside its course's dates"}}``.
    """

    name: str
    path: str
    model: type[Any]
    schema: SchemaArg
    update_schema: SchemaArg
    update: Update
    delete: Delete
    restore: Restore | None = None
    present: Present | None = None
    noun: str | None = None
    read_action: str = "clinical:read"
    write_action: str = "clinical:write"
    lock_on_update: bool = False
    docs: Mapping[str, str] = field(default_factory=dict)
    responses: Mapping[str, Mapping[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = (set(self.docs) | set(self.responses)) - set(OPERATIONS)
        if unknown:
            raise ValueError(f"{self.name}: unknown operations {sorted(unknown)}")

    @property
    def id_arg(self) -> str:
        """The view argument naming the record, the last variable of ``path``."""
        found = re.search(r"<(?:\w+:)?(\w+)>$", self.path)
        if found is None:
            raise ValueError(f"{self.name}: path {self.path!r} must end in the record's id")
        return found.group(1)

    def doc(self, operation: str) -> str:
        """The docstring of an operation: the declared one, or the default."""
        if operation in self.docs:
            return self.docs[operation]
        noun = self.noun or self.model.__audit_type__.replace("_", " ")
        article = "an" if noun[0] in "aeiou" else "a"
        return {
            "get": f"One {noun}. The ETag is needed to amend or delete it.",
            "patch": f"Amend {article} {noun} (If-Match required). "
            "Earlier versions stay in its history.",
            "delete": f"Mark {article} {noun} deleted (If-Match required). "
            "An admin can restore it.",
            "history": f"Every version of the {noun} record: who changed which fields, when.",
            "restore": "Undo a delete (admin).",
        }[operation]


# Endpoints registered per blueprint: flask-smorest would silently rename a
# clash (``PatientResource_7``), breaking url_for and endpoint checks.
_endpoints: dict[str, set[str]] = {}


def register_record(blp: Blueprint, record: RecordType) -> None:
    """Add the item, history and restore routes of ``record`` to ``blp``."""
    taken = _endpoints.setdefault(blp.name, set())
    names = [f"{record.name}{part}Resource" for part in ("", "History", "Restore")]
    clash = taken.intersection(names)
    if clash:
        raise ValueError(f"{blp.name}: endpoints {sorted(clash)} are registered already")
    taken.update(names)
    item, history, restore = names
    blp.route(record.path, endpoint=item)(_item_view(blp, record, item))
    blp.route(f"{record.path}/history", endpoint=history)(_history_view(blp, record, history))
    blp.route(f"{record.path}/restore", endpoint=restore)(_restore_view(blp, record, restore))


def _documented(
    blp: Blueprint, record: RecordType, operation: str, view: View, *responses: tuple[int, str]
) -> View:
    """``view`` with its docstring and its alternative responses (the common
    ones first, then those the declaration adds) in the OpenAPI document."""
    view.__doc__ = record.doc(operation)
    extra = {**dict(responses), **record.responses.get(operation, {})}
    for status, description in sorted(extra.items(), reverse=True):
        view = blp.alt_response(status, description=description)(view)
    return view


def _session() -> Session:
    # Called, the scoped_session gives the Session its proxy resolves to anyway.
    session: Session = app_db().session()
    return session


def _present(record: RecordType, obj: Any) -> Any:
    return record.present(_session(), obj) if record.present is not None else obj


def _item_view(blp: Blueprint, record: RecordType, endpoint: str) -> type[MethodView]:
    id_arg = record.id_arg

    def get(self: MethodView, **ids: uuid.UUID) -> Any:
        obj = get_record(_session(), record.model, ids[id_arg], record.read_action)
        return _present(record, obj), 200, etag_header(obj)

    def patch(self: MethodView, changes: dict[str, Any], **ids: uuid.UUID) -> Any:
        obj = get_record(
            _session(),
            record.model,
            ids[id_arg],
            record.write_action,
            for_update=record.lock_on_update,
        )
        obj = record.update(_session(), obj, changes)
        return obj, 200, etag_header(obj)

    def delete(self: MethodView, **ids: uuid.UUID) -> Any:
        obj = get_record(_session(), record.model, ids[id_arg], record.write_action)
        obj = record.delete(_session(), obj)
        return obj, 200, etag_header(obj)

    respond = blp.response(200, record.schema)
    # A DELETE needs If-Match as a PATCH does (records.soft_delete).
    precondition = ((412, STALE), (428, MISSING))
    patch_view = _documented(blp, record, "patch", patch, *precondition)
    delete_view = _documented(blp, record, "delete", delete, *precondition)
    return type(
        endpoint,
        (MethodView,),
        {
            "get": respond(_documented(blp, record, "get", get)),
            "patch": blp.arguments(record.update_schema)(respond(patch_view)),
            "delete": respond(delete_view),
        },
    )


def _history_view(blp: Blueprint, record: RecordType, endpoint: str) -> type[MethodView]:
    id_arg = record.id_arg

    def get(self: MethodView, **ids: uuid.UUID) -> Any:
        obj = get_record(
            _session(), record.model, ids[id_arg], record.read_action, include_deleted=True
        )
        return {"items": records.history(_session(), obj)}

    view = blp.response(200, HistorySchema)(_documented(blp, record, "history", get))
    return type(endpoint, (MethodView,), {"get": view})


def _restore_view(blp: Blueprint, record: RecordType, endpoint: str) -> type[MethodView]:
    id_arg = record.id_arg

    def post(self: MethodView, **ids: uuid.UUID) -> Any:
        if record.restore is not None:
            obj = record.restore(_session(), ids[id_arg])
        else:
            obj = records.restore(_session(), record.model, ids[id_arg])
        return _present(record, obj), 200, etag_header(obj)

    # records.restore answers 409 for a record that is not deleted.
    documented = _documented(blp, record, "restore", post, (409, NOT_DELETED))
    view = blp.response(200, record.schema)(documented)
    return type(endpoint, (MethodView,), {"post": view})
