"""Base schemas shared by every resource: records, list arguments, pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_dump, pre_load, validate


def _nul_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the strings in ``value`` that contain a NUL character."""
    if isinstance(value, str):
        return [path or "_schema"] if "\x00" in value else []
    if isinstance(value, Mapping):
        return [
            p for k, v in value.items() for p in _nul_fields(v, f"{path}.{k}" if path else str(k))
        ]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _nul_fields(v, f"{path}.{i}")]
    return []


def _may_hold_nul(data: Mapping[str, Any]) -> bool:
    """False when no string in ``data`` can contain NUL: one pass of the C JSON
    encoder, which writes NUL as the escape \\u0000, instead of walking the body in
    Python (a fifth of loading an assessment). Text that spells that escape
    out, or data the encoder cannot write, answers True: the walk then decides."""
    try:
        return "\\u0000" in json.dumps(data)
    except (TypeError, ValueError):
        return True


class OffsetDateTime(fields.AwareDateTime):
    """An ISO 8601 datetime with an offset that has an instant in UTC.

    The calendar's ends cannot move to UTC (year 1 east of Greenwich, year 9999
    west of it): that is the client's error, named on the field, not a 500
    where a service or the database converts it later. The value keeps the
    offset it was sent with (the device's local date matters to some rules).
    """

    default_error_messages = {
        "out_of_range": "Out of range: the instant must fall between the years 1 and 9999 in UTC."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        aware: datetime = super()._deserialize(value, attr, data, **kwargs)
        try:
            aware.astimezone(UTC)
        except OverflowError:
            raise self.make_error("out_of_range") from None
        return aware


class MethodNested(fields.Nested):
    """A value built by a method of the schema (as ``fields.Method``) and dumped
    through ``nested``, so the OpenAPI document types it instead of leaving it
    an untyped object: ``MethodNested(CalibrationSchema, "_calibration")``."""

    _CHECK_ATTRIBUTE = False

    def __init__(self, nested: type[Schema], method_name: str, **kwargs: Any) -> None:
        super().__init__(nested, dump_only=True, **kwargs)
        self.method_name = method_name

    # Field and Nested name the first parameter differently: no signature fits both.
    def _serialize(  # type: ignore[override]
        self, nested_obj: Any, attr: str | None, obj: Any, **kwargs: Any
    ) -> Any:
        built = getattr(self.parent, self.method_name)(obj)
        return None if built is None else self.schema.dump(built, many=self.many)


class StrictSchema(Schema):
    """Unknown fields are an error (422 naming them), never silently dropped.
    Text containing NUL is refused too: PostgreSQL cannot store it (psycopg
    raises), and no legitimate input has it."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _refuse_nul(self, data: Any, **kwargs: Any) -> Any:
        bad = _nul_fields(data) if isinstance(data, Mapping) and _may_hold_nul(data) else []
        if bad:
            raise ValidationError(
                {field: ["must not contain NUL (\\x00) characters"] for field in bad}
            )
        return data


class RecordSchema(StrictSchema):
    """Fields every clinical record has. Server-owned fields are dump-only, so a
    client sending them (mass assignment) gets a 422 naming the field."""

    id = fields.UUID(
        metadata={"description": "Client-generated UUID for offline-safe creates (optional)"}
    )
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    deleted = fields.Method("_is_deleted", dump_only=True)

    def _is_deleted(self, obj: Any) -> bool:
        return getattr(obj, "deleted_at", None) is not None

    @post_dump
    def _tombstone(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # A deleted record in a delta-sync list is reduced to its tombstone.
        if data.get("deleted"):
            return {
                "id": data.get("id"),
                "deleted": True,
                "version": data.get("version"),
                "updated_at": data.get("updated_at"),
            }
        return data


class ListArgsSchema(StrictSchema):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "Page size, 1-500 (default 50)"},
    )
    cursor = fields.String(
        validate=validate.Length(max=2000),
        metadata={"description": "Opaque cursor from the previous page's next_cursor"},
    )
    updated_since = OffsetDateTime(
        metadata={
            "description": "Delta sync: records changed at or after this instant, oldest "
            "change first, deleted ones as tombstones {id, deleted: true}"
        }
    )


_page_schemas: dict[str, type[Schema]] = {}


def page_schema(item: type[Schema]) -> type[Schema]:
    """A ``{items: [...], next_cursor}`` schema for ``item``, made once per item schema."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(
            name,
            (Schema,),
            {
                "items": fields.List(fields.Nested(item), required=True),
                "next_cursor": fields.String(allow_none=True, required=True),
            },
        )
    return _page_schemas[name]


class RecordVersionSchema(Schema):
    version = fields.Integer()
    action = fields.String(metadata={"description": "create | update | delete | restore"})
    changed_fields = fields.List(
        fields.String(),
        metadata={
            "description": "The fields this change set; for the create (version 1), "
            "every field it recorded (not null)"
        },
    )
    changed_by = fields.UUID(allow_none=True)
    changed_at = OffsetDateTime()
    data = fields.Dict(metadata={"description": "The record as it stood after this change"})


class HistorySchema(Schema):
    items = fields.List(fields.Nested(RecordVersionSchema), required=True)
