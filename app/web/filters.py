"""The wound lists' GET filter forms (the overview and the list of every wound).

Form values become DashboardArgsSchema input (the API dashboard's own
arguments), blank fields dropped. A value that is not one of the choices
(``?status=nonsense``, ``?record=closed``) is an error the page shows with a
422, never a filter silently left out: the list would otherwise claim to be
filtered when it is not.
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from app.web.blueprint import form_text

LIST_KEYS = ("status", "record")


def _messages(raw: dict[str, Any], errors: dict[str, Any]) -> dict[str, list[str]]:
    """Marshmallow's errors as lines a page prints: a list field's errors (keyed
    by position) name the value that was refused."""
    out: dict[str, list[str]] = {}
    for key, msgs in errors.items():
        if isinstance(msgs, dict):
            lines = []
            for index, inner in msgs.items():
                value = raw[key][index] if isinstance(index, int) else index
                lines.append(f"“{value}”: {' '.join(map(str, inner))}")
            out[key] = lines
        else:
            out[key] = [str(m) for m in msgs]
    return out


def wound_list_args(
    clinics: list[Any], schema: Schema, keys: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(arguments, errors) of the filter form. With errors, the arguments are
    the valid rest, for the counts a page still shows; the list must not be."""
    raw: dict[str, Any] = {}
    for key in keys:
        if key in LIST_KEYS:
            values = [form_text(v).strip() for v in request.args.getlist(key) if v.strip()]
            if values:
                raw[key] = values
        else:
            value = form_text(request.args.get(key)).strip()
            if value:
                raw[key] = value
    if "clinic_id" not in raw and clinics:
        raw["clinic_id"] = str(clinics[0].id)
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        errors = _messages(raw, dict(exc.messages))  # type: ignore[arg-type]
    valid = {k: v for k, v in raw.items() if k not in errors}
    if "clinic_id" not in valid and clinics:
        valid["clinic_id"] = str(clinics[0].id)
    try:
        return schema.load(valid), errors
    except ValidationError:  # e.g. a valid clinic_id refused with the rest: none at all
        return schema.load({}), errors


def board_context(
    board: dict[str, Any], clinics: list[Any], errors: dict[str, list[str]], keys: tuple[str, ...]
) -> dict[str, Any]:
    """What both wound lists' templates read besides their own extras: the
    board, the clinic chosen, the form's values as sent (``keys``; list keys as
    lists) and the next page's arguments."""
    filters: dict[str, Any] = {
        key: request.args.getlist(key) if key in LIST_KEYS else request.args.get(key, "")
        for key in keys
    }
    filters["sort"] = request.args.get("sort", "priority")
    return {
        "board": board,
        "clinics": clinics,
        "clinic_id": board["clinic_id"],
        "clinic_name": next((c.name for c in clinics if str(c.id) == board["clinic_id"]), ""),
        "filters": filters,
        "errors": errors,
        "next_args": request.args.to_dict(flat=False) | {"cursor": board["next_cursor"]},
    }
