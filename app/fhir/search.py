"""FHIR search parameters: which each resource type supports, and the SQL
clause each value becomes on a source.

Unknown parameters follow the FHIR R4 search page (3.1.1.4.1, "Handling
errors"): servers SHOULD ignore unknown or unsupported parameters unless the
client asks ``Prefer: handling=strict``, which makes them an error (400);
``handling=lenient`` (and no Prefer header) ignores them, and the Bundle's
self link lists only the parameters that were applied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.fhir.resources import mrn_system
from app.fhir.sources import Source
from app.patients.models import Patient
from app.wounds.models import Wound

#: Resource type -> its search parameters (besides the common ones).
PARAMS: dict[str, tuple[str, ...]] = {
    "Patient": ("identifier", "name"),
    "Condition": ("patient", "clinical-status"),
    "Observation": ("patient", "code", "date", "category"),
    "Procedure": ("patient",),
    "MedicationStatement": ("patient",),
    "Media": ("patient",),
}
COMMON = ("_count", "_lastUpdated", "_summary")
#: Parameters that change the format or paging rather than the result set.
CONTROL = ("_format", "_cursor")

DEFAULT_COUNT = 50
MAX_COUNT = 200


class SearchError(ValueError):
    """A search parameter's value this server cannot use (answered 400)."""


@dataclass(frozen=True)
class Query:
    """A parsed search: the applied parameters and the paging controls."""

    params: list[tuple[str, str]]
    count: int
    summary_count: bool
    cursor: str | None


def parse(resource_type: str, args: Any, strict: bool) -> Query:
    """The parameters of ``resource_type`` in ``args`` (a MultiDict); unknown
    ones are an error when ``strict``, else left out."""
    known = set(PARAMS[resource_type]) | set(COMMON)
    params: list[tuple[str, str]] = []
    unknown = []
    for name, value in args.items(multi=True):
        if name in CONTROL:
            continue
        if name not in known:
            unknown.append(name)
            continue
        if name == "_summary" and value != "count":
            unknown.append(f"_summary={value}")
            continue
        params.append((name, value))
    if unknown and strict:
        raise SearchError(f"Unknown or unsupported search parameters: {', '.join(unknown)}")
    count = DEFAULT_COUNT
    for name, value in params:
        if name == "_count":
            if not value.isdigit():
                raise SearchError(f"_count must be a whole number, got {value!r}")
            count = min(int(value), MAX_COUNT)
    summary = any(n == "_summary" for n, _ in params) or count == 0
    return Query(params, count, summary, args.get("_cursor"))


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise SearchError(f"{what}: {value!r} is not an id of this server") from exc


def _patient_id(value: str) -> uuid.UUID:
    return _uuid(value.removeprefix("Patient/"), "patient")


def _token(value: str) -> tuple[str | None, str]:
    """A token "system|code", "|code" or "code" as (system or None for any, code)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def _starts_with(column: Any, text: str) -> Any:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"{escaped}%", escape="\\")


_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")


def _date_range(value: str) -> tuple[str, datetime, datetime]:
    """A date search value as (prefix, start, end) of the period it names."""
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    try:
        if len(text) == 4:
            start = datetime(int(text), 1, 1, tzinfo=UTC)
            return prefix, start, start.replace(year=start.year + 1)
        if len(text) == 7:
            start = datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
            nxt = (start + timedelta(days=32)).replace(day=1)
            return prefix, start, nxt
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return prefix, start, start + timedelta(days=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        return prefix, moment, moment + timedelta(seconds=1)
    except ValueError as exc:
        raise SearchError(
            f"{value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with"
            " a time zone), optionally after eq, ne, gt, lt, ge or le"
        ) from exc


def _date_clause(column: Any, value: str) -> Any:
    prefix, start, end = _date_range(value)
    return {
        "eq": sa.and_(column >= start, column < end),
        "ne": sa.or_(column < start, column >= end),
        "gt": column >= end,
        "ge": column >= start,
        "lt": column < start,
        "le": column < end,
    }[prefix]


def _reopened() -> Any:
    closures = sa.cast(Wound.closures, sa.String)
    return sa.and_(Wound.closures.is_not(None), closures.not_in(["null", "[]"]))


def _clinical_status(value: str) -> Any:
    if value == "resolved":
        return Wound.status == "healed"
    if value == "recurrence":
        return sa.and_(Wound.status == "open", _reopened())
    if value == "active":
        return sa.and_(Wound.status == "open", sa.not_(_reopened()))
    return sa.false()  # inactive, remission, relapse: no wound is recorded so


def _code(source: Source, value: str) -> Any:
    system, code = _token(value)
    for (s, c), clause in source.codes.items():
        if c == code and system in (None, "", s):
            return sa.true() if clause is None else clause
    return sa.false()


def _category(source: Source, value: str) -> Any:
    return sa.true() if _token(value)[1] == source.category else sa.false()


def _identifier(value: str) -> Any:
    system, mrn = _token(value)
    if system:
        clinic = system.partition("sid/clinic/")[2].removesuffix("/mrn")
        try:
            clinic_id = uuid.UUID(clinic)
        except ValueError:
            return sa.false()
        if system != mrn_system(clinic_id):
            return sa.false()
        return sa.and_(Patient.clinic_id == clinic_id, Patient.mrn == mrn)
    return Patient.mrn == mrn


def _name(value: str) -> Any:
    return sa.or_(_starts_with(Patient.family_name, value), _starts_with(Patient.given_name, value))


def _one(source: Source, name: str, value: str) -> Any:
    if name == "patient":
        return source.patient == _patient_id(value)
    if name == "date":
        return _date_clause(source.time, value)
    if name == "_lastUpdated":
        return _date_clause(source.model.updated_at, value)
    if name == "code":
        return _code(source, value)
    if name == "category":
        return _category(source, value)
    if name == "clinical-status":
        return _clinical_status(value)
    if name == "identifier":
        return _identifier(value)
    return _name(value)  # the last parameter left: Patient name


def clauses(source: Source, query: Query) -> list[Any]:
    """The WHERE clauses of ``query`` on one source: parameters AND together,
    comma-separated values of one parameter OR together."""
    out = []
    for name, value in query.params:
        if name in ("_count", "_summary"):
            continue
        out.append(sa.or_(*(_one(source, name, v) for v in value.split(","))))
    return out
